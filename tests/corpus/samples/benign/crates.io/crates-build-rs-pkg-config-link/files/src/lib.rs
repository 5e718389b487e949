//! CRC-32 and Adler-32 from the system zlib.
//!
//! ```no_run
//! assert_eq!(zlib_checksums::crc32(b"123456789"), 0xcbf4_3926);
//! ```

use std::ffi::CStr;
use std::os::raw::{c_char, c_uint, c_ulong};

extern "C" {
    #[link_name = "crc32"]
    fn z_crc32(crc: c_ulong, buf: *const u8, len: c_uint) -> c_ulong;
    #[link_name = "adler32"]
    fn z_adler32(adler: c_ulong, buf: *const u8, len: c_uint) -> c_ulong;
    #[link_name = "zlibVersion"]
    fn z_version() -> *const c_char;
}

// zlib takes `uInt` lengths: feed large slices in pieces.
const CHUNK: usize = c_uint::MAX as usize;

/// Continues a CRC-32 over `data` (start with 0).
pub fn crc32_update(mut crc: u32, data: &[u8]) -> u32 {
    for chunk in data.chunks(CHUNK) {
        // SAFETY: zlib reads `chunk.len()` bytes from a valid slice and
        // retains no pointer; the length fits in uInt by construction.
        crc = unsafe { z_crc32(c_ulong::from(crc), chunk.as_ptr(), chunk.len() as c_uint) } as u32;
    }
    crc
}

pub fn crc32(data: &[u8]) -> u32 {
    crc32_update(0, data)
}

/// Continues an Adler-32 over `data` (start with 1).
pub fn adler32_update(mut adler: u32, data: &[u8]) -> u32 {
    for chunk in data.chunks(CHUNK) {
        // SAFETY: as for crc32_update.
        adler = unsafe { z_adler32(c_ulong::from(adler), chunk.as_ptr(), chunk.len() as c_uint) } as u32;
    }
    adler
}

pub fn adler32(data: &[u8]) -> u32 {
    adler32_update(1, data)
}

/// The linked zlib's version string, e.g. "1.3".
pub fn zlib_version() -> &'static str {
    // SAFETY: zlibVersion returns a pointer to a static NUL-terminated string.
    unsafe { CStr::from_ptr(z_version()) }.to_str().unwrap_or("unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_values() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
        assert_eq!(crc32_update(crc32(b"1234"), b"56789"), 0xcbf4_3926);
        assert!(zlib_version().starts_with('1'));
    }
}
