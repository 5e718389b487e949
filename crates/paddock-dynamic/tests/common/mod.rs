//! Shared by the dynamic tests: the real image (built once with
//! mmdebstrap and cached), the real runsc, a worker id of their own.
#![allow(clippy::disallowed_methods, dead_code)]

use std::path::{Path, PathBuf};

use paddock_dynamic::{DynamicAnalyzer, DynamicConfig};

/// Where the tests keep built images: `PADDOCK_IMAGE_CACHE`, else
/// `~/.cache/paddock/images` (the CLI's default too).
pub fn image_cache() -> PathBuf {
    if let Ok(dir) = std::env::var("PADDOCK_IMAGE_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    Path::new(&home).join(".cache/paddock/images")
}

pub fn config(work: &Path, worker: &str) -> DynamicConfig {
    let mut config = DynamicConfig {
        work_dir: work.join("work"),
        worker_id: worker.into(),
        ..DynamicConfig::default()
    };
    config.sandbox.state_dir = work.join("state");
    config.keep_logs = std::env::var("PADDOCK_TEST_KEEP_LOGS")
        .ok()
        .map(PathBuf::from);
    config
}

pub async fn analyzer(config: DynamicConfig) -> DynamicAnalyzer {
    DynamicAnalyzer::new(config, &image_cache())
        .await
        .expect("runsc and mmdebstrap are installed (scripts/install-deps --test)")
}

/// A unique worker id per test.
pub fn worker(name: &str) -> String {
    format!("t{}{}", name, std::process::id())
}

/// Whether `bytes` hold an ECDSA P-256 private key (the kind the
/// analysis's TLS authority and its minted certificates use), as PKCS#8
/// DER or in base64. The SSH baits are ed25519 in OpenSSH's format, so
/// they do not match.
pub fn holds_a_p256_key(bytes: &[u8]) -> bool {
    const DER: [u8; 27] = [
        0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
        0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ];
    const BASE64: &[u8] = b"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEH";
    bytes.windows(DER.len()).any(|w| w == DER) || bytes.windows(BASE64.len()).any(|w| w == BASE64)
}

/// A PyPI sdist 1.0.0 of `name` with `setup.py` and these files, analysed.
pub async fn analyse_sdist(
    a: &paddock_dynamic::DynamicAnalyzer,
    dir: &std::path::Path,
    name: &str,
    setup: &str,
    files: &[(&str, &str)],
) -> paddock_proto::v1::DynamicResult {
    let built = paddock_testkit::packages::pypi_sdist(name, "1.0.0", setup, files);
    let artifact = dir.join(&built.filename);
    std::fs::write(&artifact, &built.bytes).unwrap();
    let package = paddock_proto::v1::PackageRef {
        ecosystem: paddock_proto::v1::Ecosystem::Pypi as i32,
        name: name.into(),
        version: "1.0.0".into(),
    };
    a.analyze(&package, &artifact).await
}
