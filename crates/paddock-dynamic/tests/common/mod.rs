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
