//! RC4 ("ARCFOUR") for compatibility with legacy formats.
//!
//! **RC4 is broken** (RFC 7465 prohibits it in TLS). This crate exists to
//! *read* old PDF and ZIP files whose encryption used it.
//!
//! ```
//! use arcfour_compat::Rc4;
//! let mut data = *b"Plaintext";
//! Rc4::new(b"Key").apply_keystream(&mut data);
//! assert_eq!(data, [0xbb, 0xf3, 0x16, 0xe8, 0xd9, 0x40, 0xaf, 0x0a, 0xd3]);
//! ```

#![no_std]
#![forbid(unsafe_code)]

/// RC4 state: a permutation of 0..=255 and two indices.
#[derive(Clone)]
pub struct Rc4 {
    s: [u8; 256],
    i: u8,
    j: u8,
}

impl Rc4 {
    /// Key scheduling (KSA). Keys are 1 to 256 bytes.
    pub fn new(key: &[u8]) -> Rc4 {
        assert!(!key.is_empty() && key.len() <= 256, "RC4 keys are 1..=256 bytes");
        let mut s = [0u8; 256];
        for (i, v) in s.iter_mut().enumerate() {
            *v = i as u8;
        }
        let mut j: u8 = 0;
        for i in 0..256 {
            j = j.wrapping_add(s[i]).wrapping_add(key[i % key.len()]);
            s.swap(i, j as usize);
        }
        Rc4 { s, i: 0, j: 0 }
    }

    /// Next keystream byte (PRGA).
    pub fn next_byte(&mut self) -> u8 {
        self.i = self.i.wrapping_add(1);
        self.j = self.j.wrapping_add(self.s[self.i as usize]);
        self.s.swap(self.i as usize, self.j as usize);
        self.s[self.s[self.i as usize].wrapping_add(self.s[self.j as usize]) as usize]
    }

    /// XORs the keystream into `data` (encryption and decryption are the same).
    pub fn apply_keystream(&mut self, data: &mut [u8]) {
        for b in data {
            *b ^= self.next_byte();
        }
    }

    /// Discards `n` keystream bytes ("RC4-drop[n]"), as some formats require.
    pub fn drop_bytes(&mut self, n: usize) {
        for _ in 0..n {
            self.next_byte();
        }
    }
}

/// Repeating-key XOR, used by a few legacy formats for "obfuscation".
pub fn xor_repeating(data: &mut [u8], key: &[u8]) {
    if key.is_empty() {
        return;
    }
    for (b, k) in data.iter_mut().zip(key.iter().cycle()) {
        *b ^= k;
    }
}

/// The PDF standard security handler's per-object key (PDF 1.7, 7.6.2,
/// algorithm 1): the file key, plus the object and generation numbers.
/// `md5` is passed in so this crate needs no hashing dependency.
pub fn pdf_object_key(file_key: &[u8], object: u32, generation: u16, md5: impl Fn(&[u8]) -> [u8; 16]) -> ([u8; 16], usize) {
    let mut input = [0u8; 16 + 5];
    let n = file_key.len().min(16);
    input[..n].copy_from_slice(&file_key[..n]);
    input[n..n + 3].copy_from_slice(&object.to_le_bytes()[..3]);
    input[n + 3..n + 5].copy_from_slice(&generation.to_le_bytes());
    (md5(&input[..n + 5]), (n + 5).min(16))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_hex(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, pair) in s.as_bytes().chunks(2).enumerate() {
            let h = |c: u8| (c as char).to_digit(16).unwrap() as u8;
            out[i] = h(pair[0]) << 4 | h(pair[1]);
        }
        out
    }

    #[test]
    fn classic_vectors() {
        let cases: [(&[u8], &[u8], &str); 3] = [
            (b"Key", b"Plaintext", "bbf316e8d940af0ad3"),
            (b"Wiki", b"pedia", "1021bf0420"),
            (b"Secret", b"Attack at dawn", "45a01f645fc35b383552544b9bf5"),
        ];
        for (key, plain, hex) in cases {
            let mut buf = [0u8; 32];
            buf[..plain.len()].copy_from_slice(plain);
            Rc4::new(key).apply_keystream(&mut buf[..plain.len()]);
            assert_eq!(&buf[..plain.len()], &from_hex(hex)[..plain.len()]);
            // Applying the keystream again decrypts.
            Rc4::new(key).apply_keystream(&mut buf[..plain.len()]);
            assert_eq!(&buf[..plain.len()], plain);
        }
    }

    #[test]
    fn xor_round_trip() {
        let mut data = *b"legacy header";
        xor_repeating(&mut data, b"\x5a\xa5");
        assert_ne!(&data, b"legacy header");
        xor_repeating(&mut data, b"\x5a\xa5");
        assert_eq!(&data, b"legacy header");
    }
}
