//! Human-readable byte sizes without allocation.
//!
//! ```
//! use humansize_ng::{format_size, DECIMAL, BINARY};
//! assert_eq!(format_size(1_500_000, DECIMAL).to_string(), "1.50 MB");
//! assert_eq!(format_size(1_572_864, BINARY).to_string(), "1.50 MiB");
//! ```

#![no_std]
#![forbid(unsafe_code)]

use core::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub base: u64,
    pub units: &'static [&'static str; 7],
    pub decimals: usize,
    pub space: bool,
}

pub const DECIMAL: Options = Options {
    base: 1000,
    units: &["B", "kB", "MB", "GB", "TB", "PB", "EB"],
    decimals: 2,
    space: true,
};

pub const BINARY: Options = Options {
    base: 1024,
    units: &["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"],
    decimals: 2,
    space: true,
};

/// Windows Explorer style: base 1024 with decimal-looking unit names.
pub const WINDOWS: Options = Options {
    base: 1024,
    units: &["B", "KB", "MB", "GB", "TB", "PB", "EB"],
    decimals: 2,
    space: true,
};

/// A value that formats itself; no String is built.
#[derive(Debug, Clone, Copy)]
pub struct SizeFormatter {
    bytes: u64,
    options: Options,
}

pub fn format_size(bytes: u64, options: Options) -> SizeFormatter {
    SizeFormatter { bytes, options }
}

impl fmt::Display for SizeFormatter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.options;
        let sep = if o.space { " " } else { "" };
        if self.bytes < o.base {
            return write!(f, "{}{sep}{}", self.bytes, o.units[0]);
        }
        let mut value = self.bytes as f64;
        let mut unit = 0;
        while value >= o.base as f64 && unit < o.units.len() - 1 {
            value /= o.base as f64;
            unit += 1;
        }
        write!(f, "{value:.prec$}{sep}{}", o.units[unit], prec = o.decimals)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn formats() {
        assert_eq!(format_size(0, DECIMAL).to_string(), "0 B");
        assert_eq!(format_size(999, DECIMAL).to_string(), "999 B");
        assert_eq!(format_size(1000, DECIMAL).to_string(), "1.00 kB");
        assert_eq!(format_size(1536, BINARY).to_string(), "1.50 KiB");
        assert_eq!(format_size(1536, WINDOWS).to_string(), "1.50 KB");
        assert_eq!(format_size(u64::MAX, BINARY).to_string(), "16.00 EiB");
        let compact = Options { decimals: 0, space: false, ..DECIMAL };
        assert_eq!(format_size(2_400_000_000, compact).to_string(), "2GB");
    }
}
