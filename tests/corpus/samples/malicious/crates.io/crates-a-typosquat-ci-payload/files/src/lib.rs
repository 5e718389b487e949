//! A fixed-precision decimal type for financial calculations.

use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, Mul, Neg, Sub};
use std::str::FromStr;

pub const MAX_SCALE: u32 = 28;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    mantissa: i128,
    scale: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    Empty,
    InvalidDigit,
    ScaleExceeded,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Empty => write!(f, "empty string"),
            Error::InvalidDigit => write!(f, "invalid digit"),
            Error::ScaleExceeded => write!(f, "scale exceeds {}", MAX_SCALE),
        }
    }
}

impl std::error::Error for Error {}

impl Decimal {
    pub const ZERO: Decimal = Decimal { mantissa: 0, scale: 0 };
    pub const ONE: Decimal = Decimal { mantissa: 1, scale: 0 };

    pub fn new(num: i64, scale: u32) -> Decimal {
        assert!(scale <= MAX_SCALE, "scale exceeds {}", MAX_SCALE);
        Decimal { mantissa: num as i128, scale }
    }

    pub fn scale(&self) -> u32 {
        self.scale
    }

    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    fn rescale(&self, scale: u32) -> i128 {
        self.mantissa * 10i128.pow(scale - self.scale)
    }

    pub fn normalize(&self) -> Decimal {
        let mut d = *self;
        while d.scale > 0 && d.mantissa % 10 == 0 {
            d.mantissa /= 10;
            d.scale -= 1;
        }
        d
    }

    pub fn round_dp(&self, dp: u32) -> Decimal {
        if dp >= self.scale {
            return *self;
        }
        let div = 10i128.pow(self.scale - dp);
        let q = self.mantissa / div;
        let r = (self.mantissa % div).abs();
        let q = if r * 2 >= div { q + self.mantissa.signum() } else { q };
        Decimal { mantissa: q, scale: dp }
    }
}

impl From<i64> for Decimal {
    fn from(v: i64) -> Self {
        Decimal { mantissa: v as i128, scale: 0 }
    }
}

impl FromStr for Decimal {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::Empty);
        }
        let (neg, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let mut mantissa: i128 = 0;
        let mut scale = 0u32;
        let mut seen_dot = false;
        for c in digits.chars() {
            match c {
                '.' if !seen_dot => seen_dot = true,
                '_' => {}
                '0'..='9' => {
                    mantissa = mantissa * 10 + (c as u8 - b'0') as i128;
                    if seen_dot {
                        scale += 1;
                    }
                }
                _ => return Err(Error::InvalidDigit),
            }
        }
        if scale > MAX_SCALE {
            return Err(Error::ScaleExceeded);
        }
        Ok(Decimal { mantissa: if neg { -mantissa } else { mantissa }, scale })
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let digits = self.mantissa.unsigned_abs().to_string();
        if self.scale == 0 {
            return write!(f, "{}{}", sign, digits);
        }
        let scale = self.scale as usize;
        let padded = format!("{:0>width$}", digits, width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        write!(f, "{}{}.{}", sign, int, frac)
    }
}

impl Add for Decimal {
    type Output = Decimal;
    fn add(self, other: Decimal) -> Decimal {
        let scale = self.scale.max(other.scale);
        Decimal { mantissa: self.rescale(scale) + other.rescale(scale), scale }
    }
}

impl Sub for Decimal {
    type Output = Decimal;
    fn sub(self, other: Decimal) -> Decimal {
        self + (-other)
    }
}

impl Neg for Decimal {
    type Output = Decimal;
    fn neg(self) -> Decimal {
        Decimal { mantissa: -self.mantissa, scale: self.scale }
    }
}

impl Mul for Decimal {
    type Output = Decimal;
    fn mul(self, other: Decimal) -> Decimal {
        let d = Decimal { mantissa: self.mantissa * other.mantissa, scale: self.scale + other.scale };
        if d.scale > MAX_SCALE {
            d.round_dp(MAX_SCALE)
        } else {
            d
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        let scale = self.scale.max(other.scale);
        self.rescale(scale).cmp(&other.rescale(scale))
    }
}

pub fn zero() -> Decimal {
    Decimal::ZERO
}

pub fn one() -> Decimal {
    Decimal::ONE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        let d: Decimal = "19.99".parse().unwrap();
        assert_eq!((d * Decimal::from(3)).to_string(), "59.97");
        assert_eq!("-0.5".parse::<Decimal>().unwrap().to_string(), "-0.5");
    }
}
