//! The local stack: `paddock up` records where its NATS server and its API
//! listen in `<data dir>/stack.json`, and the commands that talk to a
//! running pipeline (`submit`, `alerts tail`) find it there when no URL is
//! given. API clients read `api.grpc_url` from the same file.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::config::PaddockConfig;

/// The file's name in the data directory.
pub const FILE: &str = "stack.json";

/// A running `paddock up`, as it recorded itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stack {
    /// Where its NATS server listens.
    pub nats_url: String,
    /// The `paddock up` process.
    pub pid: u32,
    /// Where its API listens, once it does (absent when `api.enabled` is
    /// false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<paddock_api_service::Bound>,
}

/// The record of a running stack; removed when dropped (at shutdown), if
/// it is still this process's.
#[derive(Debug)]
pub struct Recorded {
    path: PathBuf,
    stack: Stack,
}

impl Recorded {
    /// Adds where the API listens to the record.
    pub fn set_api(&mut self, api: paddock_api_service::Bound) -> anyhow::Result<()> {
        self.stack.api = Some(api);
        write(&self.path, &self.stack)
    }
}

impl Drop for Recorded {
    fn drop(&mut self) {
        if read(&self.path).is_some_and(|s| s.pid == std::process::id()) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Records this process as the stack of `data_dir`, listening at `url`.
pub fn record(data_dir: &Path, url: &str) -> anyhow::Result<Recorded> {
    let path = data_dir.join(FILE);
    let stack = Stack {
        nats_url: url.to_owned(),
        pid: std::process::id(),
        api: None,
    };
    write(&path, &stack)?;
    Ok(Recorded { path, stack })
}

/// Replaces the record atomically (a reader sees the old or the new one).
fn write(path: &Path, stack: &Stack) -> anyhow::Result<()> {
    let temporary = path.with_file_name(format!(".{FILE}.{}", std::process::id()));
    std::fs::write(&temporary, serde_json::to_vec_pretty(stack)?)
        .and_then(|()| std::fs::rename(&temporary, path))
        .with_context(|| format!("recording the stack in {}", path.display()))
}

fn read(path: &Path) -> Option<Stack> {
    let text = std::fs::read(path).ok()?;
    serde_json::from_slice(&text).ok()
}

/// The data directory `paddock up` uses with this configuration.
pub fn data_dir(config: &PaddockConfig, env: &[(String, String)]) -> PathBuf {
    config
        .data_dir
        .clone()
        .unwrap_or_else(|| crate::commands::default_data_dir(env))
}

/// The stack recorded in `data_dir`, if its process still runs.
pub fn find(data_dir: &Path) -> Option<Stack> {
    let stack = read(&data_dir.join(FILE))?;
    Path::new("/proc")
        .join(stack.pid.to_string())
        .exists()
        .then_some(stack)
}

/// The NATS URL a command uses: the one given, else `bus.url`, else the
/// running local stack's; an error that says how to start one otherwise.
pub fn nats_url(
    given: Option<String>,
    config: &PaddockConfig,
    env: &[(String, String)],
    command: &str,
) -> anyhow::Result<String> {
    if let Some(url) = given.or(config.bus.url.clone()) {
        return Ok(url);
    }
    let dir = data_dir(config, env);
    match find(&dir) {
        Some(stack) => Ok(stack.nats_url),
        None => anyhow::bail!(
            "{command} needs a running pipeline, and none is recorded in {}: start one with `paddock up` (in another terminal), or pass --nats-url (or set bus.url, PADDOCK__BUS__URL) for one that runs elsewhere",
            dir.join(FILE).display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_stack_is_found_while_it_runs_and_forgotten_after() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(find(dir.path()), None);
        let recorded = record(dir.path(), "nats://127.0.0.1:4999").unwrap();
        assert_eq!(
            find(dir.path()).map(|s| s.nats_url),
            Some("nats://127.0.0.1:4999".to_owned())
        );
        drop(recorded);
        assert!(!dir.path().join(FILE).exists());
        // A record whose process is gone is not a running stack.
        std::fs::write(
            dir.path().join(FILE),
            r#"{"nats_url": "nats://127.0.0.1:1", "pid": 4294967295}"#,
        )
        .unwrap();
        assert_eq!(find(dir.path()), None);
    }

    #[test]
    fn without_a_stack_the_error_says_how_to_start_one() {
        let dir = tempfile::tempdir().unwrap();
        let config = PaddockConfig {
            data_dir: Some(dir.path().to_owned()),
            ..PaddockConfig::default()
        };
        let error = nats_url(None, &config, &[], "submit")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("paddock up") && error.contains("--nats-url"),
            "{error}"
        );
        let url = nats_url(Some("nats://x:1".into()), &config, &[], "submit").unwrap();
        assert_eq!(url, "nats://x:1");
    }
}
