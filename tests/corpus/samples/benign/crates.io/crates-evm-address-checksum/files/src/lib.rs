//! EVM addresses with EIP-55 checksums.
//!
//! ```
//! use evm_address::Address;
//! let a = Address::parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").unwrap();
//! assert_eq!(a.to_checksum(), "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
//! assert!(Address::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD").is_err()); // bad checksum
//! ```

#![cfg_attr(not(test), no_std)]

extern crate alloc;

use alloc::string::String;
use core::fmt;

mod keccak;
pub use keccak::keccak256;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address(pub [u8; 20]);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// Not `0x` followed by 40 hex digits.
    Format,
    /// Mixed case that does not match the EIP-55 checksum.
    Checksum,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParseError::Format => "an address is 0x followed by 40 hexadecimal digits",
            ParseError::Checksum => "the address's mixed-case checksum (EIP-55) is wrong",
        })
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl Address {
    /// Parses an address. All-lowercase and all-uppercase input is accepted
    /// as is; mixed case must carry a valid EIP-55 checksum.
    pub fn parse(s: &str) -> Result<Address, ParseError> {
        let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).ok_or(ParseError::Format)?;
        if digits.len() != 40 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ParseError::Format);
        }
        let mut bytes = [0u8; 20];
        for (i, pair) in digits.as_bytes().chunks_exact(2).enumerate() {
            let hi = (pair[0] as char).to_digit(16).unwrap() as u8;
            let lo = (pair[1] as char).to_digit(16).unwrap() as u8;
            bytes[i] = hi << 4 | lo;
        }
        let address = Address(bytes);
        let has_upper = digits.bytes().any(|b| b.is_ascii_uppercase());
        let has_lower = digits.bytes().any(|b| b.is_ascii_lowercase());
        if has_upper && has_lower && address.to_checksum()[2..] != *digits {
            return Err(ParseError::Checksum);
        }
        Ok(address)
    }

    /// The EIP-55 mixed-case form.
    pub fn to_checksum(&self) -> String {
        let mut lower = [0u8; 40];
        for (i, b) in self.0.iter().enumerate() {
            lower[2 * i] = HEX[(b >> 4) as usize];
            lower[2 * i + 1] = HEX[(b & 15) as usize];
        }
        let hash = keccak256(&lower);
        let mut out = String::with_capacity(42);
        out.push_str("0x");
        for (i, &c) in lower.iter().enumerate() {
            let nibble = if i % 2 == 0 { hash[i / 2] >> 4 } else { hash[i / 2] & 15 };
            let c = if c.is_ascii_alphabetic() && nibble >= 8 { c.to_ascii_uppercase() } else { c };
            out.push(c as char);
        }
        out
    }

    pub fn is_zero(&self) -> bool {
        self.0 == [0; 20]
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_checksum())
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({})", self.to_checksum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The test vectors from EIP-55.
    const VECTORS: [&str; 4] = [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ];

    #[test]
    fn eip55_vectors() {
        for v in VECTORS {
            let a = Address::parse(v).unwrap();
            assert_eq!(a.to_checksum(), v);
            assert_eq!(Address::parse(&v.to_lowercase()).unwrap(), a);
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(Address::parse("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"), Err(ParseError::Format));
        assert_eq!(Address::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe"), Err(ParseError::Format));
        assert_eq!(Address::parse("0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"), Err(ParseError::Checksum));
        assert!(Address::parse("0x0000000000000000000000000000000000000000").unwrap().is_zero());
    }
}
