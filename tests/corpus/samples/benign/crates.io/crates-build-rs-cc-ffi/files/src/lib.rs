//! MurmurHash3 (x86, 32-bit).
//!
//! ```
//! assert_eq!(murmur3_ffi::murmur3_32(b"Hello, world!", 1234), 0xfaf6cdb3);
//! ```

#![no_std]

#[cfg(not(murmur3_pure))]
mod ffi {
    extern "C" {
        pub fn murmur3_32(data: *const u8, len: usize, seed: u32) -> u32;
    }
}

/// Hashes `data` with `seed`.
pub fn murmur3_32(data: &[u8], seed: u32) -> u32 {
    #[cfg(not(murmur3_pure))]
    {
        // SAFETY: the C function reads exactly `len` bytes from `data`,
        // which the slice guarantees are valid, and keeps no pointer.
        unsafe { ffi::murmur3_32(data.as_ptr(), data.len(), seed) }
    }
    #[cfg(murmur3_pure)]
    {
        pure::murmur3_32(data, seed)
    }
}

/// Whether the C implementation was linked.
pub const NATIVE: bool = cfg!(not(murmur3_pure));

/// The same algorithm in Rust, used when no C compiler was available.
pub mod pure {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;

    fn mix(k: u32) -> u32 {
        k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
    }

    pub fn murmur3_32(data: &[u8], seed: u32) -> u32 {
        let mut h = seed;
        let mut chunks = data.chunks_exact(4);
        for c in &mut chunks {
            h ^= mix(u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
            h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
        }
        let tail = chunks.remainder();
        if !tail.is_empty() {
            let mut k = 0u32;
            for (i, b) in tail.iter().enumerate() {
                k |= u32::from(*b) << (8 * i);
            }
            h ^= mix(k);
        }
        h ^= data.len() as u32;
        h ^= h >> 16;
        h = h.wrapping_mul(0x85eb_ca6b);
        h ^= h >> 13;
        h = h.wrapping_mul(0xc2b2_ae35);
        h ^ (h >> 16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTORS: &[(&[u8], u32, u32)] = &[
        (b"", 0, 0),
        (b"", 1, 0x514e_28b7),
        (b"test", 0, 0xba6b_d213),
        (b"Hello, world!", 1234, 0xfaf6_cdb3),
        (b"The quick brown fox jumps over the lazy dog", 0, 0x2e4f_f723),
    ];

    #[test]
    fn known_values() {
        for &(data, seed, want) in VECTORS {
            assert_eq!(murmur3_32(data, seed), want);
            assert_eq!(pure::murmur3_32(data, seed), want);
        }
    }
}
