//! Fetches the prebuilt tinyjs static library, like rusty_v8 does for V8.
//!
//!   TINYJS_MIRROR=https://mirror.example.net/tinyjs   another download host
//!   TINYJS_ARCHIVE=/path/to/libtinyjs.a               use a local file, no download

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const VERSION: &str = "0.4.0";
const DEFAULT_MIRROR: &str = "https://downloads.example.com/tinyjs";
const SHA256: &[(&str, &str)] = &[
    ("x86_64-unknown-linux-gnu", "6f0c1b2e8d9a4c3b5e7f1a2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3"),
    ("aarch64-unknown-linux-gnu", "a3f4e5d6c7b8a9f0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d5e6f7a8b9c"),
    ("x86_64-apple-darwin", "0d1c2b3a495867f5e4d3c2b1a0f9e8d7c6b5a49382716f5e4d3c2b1a0f9e8d7c"),
    ("aarch64-apple-darwin", "e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7"),
];

fn main() {
    println!("cargo:rerun-if-env-changed=TINYJS_MIRROR");
    println!("cargo:rerun-if-env-changed=TINYJS_ARCHIVE");
    println!("cargo:rustc-check-cfg=cfg(tinyjs_unavailable)");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let target = env::var("TARGET").unwrap();
    match fetch(&out, &target) {
        Ok(()) => {
            println!("cargo:rustc-link-search=native={}", out.display());
            println!("cargo:rustc-link-lib=static=tinyjs");
        }
        Err(err) => {
            let _ = fs::remove_file(out.join("libtinyjs.a"));
            println!("cargo:warning=tinyjs-sys: {err}; building without the engine (every call returns Error::Unavailable)");
            println!("cargo:rustc-cfg=tinyjs_unavailable");
        }
    }
}

fn fetch(out: &Path, target: &str) -> Result<(), String> {
    let expected = SHA256
        .iter()
        .find(|(t, _)| *t == target)
        .map(|(_, h)| *h)
        .ok_or_else(|| format!("no prebuilt library for {target}"))?;
    let lib = out.join("libtinyjs.a");
    if let Ok(archive) = env::var("TINYJS_ARCHIVE") {
        fs::copy(&archive, &lib).map_err(|e| format!("copying {archive}: {e}"))?;
    } else {
        let mirror = env::var("TINYJS_MIRROR").unwrap_or_else(|_| DEFAULT_MIRROR.to_owned());
        let url = format!("{}/v{VERSION}/libtinyjs-{target}.a", mirror.trim_end_matches('/'));
        let status = Command::new("curl")
            .args(["-fsSL", "--proto", "=https", "--retry", "2", "--max-time", "300", "-o"])
            .arg(&lib)
            .arg(&url)
            .status()
            .map_err(|e| format!("could not run curl: {e}"))?;
        if !status.success() {
            return Err(format!("downloading {url} failed ({status})"));
        }
    }
    let bytes = fs::read(&lib).map_err(|e| e.to_string())?;
    let actual = hex(&sha256(&bytes));
    if actual != expected {
        return Err(format!("checksum mismatch: expected {expected}, got {actual}"));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 (FIPS 180-4), so the build script needs no dependencies.
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 64];
        for i in 0..16 {
            w[i] = u32::from_be_bytes([block[4 * i], block[4 * i + 1], block[4 * i + 2], block[4 * i + 3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh.wrapping_add(s1).wrapping_add(ch).wrapping_add(K[i]).wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (i, word) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&word.to_be_bytes());
    }
    out
}
