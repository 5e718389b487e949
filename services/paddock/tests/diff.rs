//! `paddock diff --local OLD NEW` on release pairs of every ecosystem, both
//! analysed for real (static, and dynamic in the sandbox):
//!
//! - a trojaned update (N honest, N+1 adds an install hook that downloads
//!   and runs a payload and posts the environment): the diff names the new
//!   behaviours, nothing else, and the verdict is high or critical;
//! - honest consecutive releases whose only differences are version
//!   strings, temp names and temp-file naming schemes, random build
//!   directories and shifted lines: no
//!   change, and a verdict no higher than info.
#![allow(clippy::disallowed_methods)] // a test may read its own environment

use std::process::Command;

use paddock_proto::v1::Ecosystem;
use paddock_testkit::packages::{build, FixturePackage};
use paddock_testkit::updates::{honest_pair, trojan_pair, TROJAN_HOST};
use serde_json::Value;

fn paddock() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_paddock"));
    for (key, _) in std::env::vars() {
        if key.starts_with("PADDOCK") && key != "PADDOCK_NATS_SERVER" {
            cmd.env_remove(key);
        }
    }
    cmd
}

async fn diff(pair: (FixturePackage, FixturePackage)) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for pkg in [&pair.0, &pair.1] {
        let built = build(pkg);
        let path = dir.path().join(&built.filename);
        std::fs::write(&path, &built.bytes).unwrap();
        paths.push(path);
    }
    let mut cmd = paddock();
    cmd.args(["diff", "--format", "json", "--local"])
        .arg(&paths[0])
        .arg(&paths[1])
        .env(
            "PADDOCK__DYNAMIC__ANALYSIS__WORK_DIR",
            dir.path().join("work"),
        );
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json output")
}

fn severity(v: &Value) -> &str {
    v["verdict"]["severity"].as_str().unwrap_or("SEVERITY_INFO")
}

fn changes(v: &Value) -> Vec<(String, String, String)> {
    v["changes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap_or_default().to_owned(),
                c["kind"].as_str().unwrap_or_default().to_owned(),
                c["value"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn trojan(eco: Ecosystem) {
    let v = diff(trojan_pair(eco)).await;
    let all = changes(&v);
    assert!(
        matches!(severity(&v), "SEVERITY_HIGH" | "SEVERITY_CRITICAL"),
        "{eco:?}: {:#}",
        v["verdict"]
    );
    let removed: Vec<_> = all
        .iter()
        .filter(|(action, _, _)| action != "CHANGE_ACTION_ADDED")
        .collect();
    assert!(removed.is_empty(), "{eco:?}: removed {removed:#?}");
    let has = |kind: &str, needle: &str| {
        all.iter()
            .any(|(_, k, value)| k == kind && value.contains(needle))
    };
    // What the trojan added, each named. (Every PyPI sdist has its
    // setup.py as an install hook already: there the hook's new code shows
    // as new behaviour, not as a new hook.)
    if eco != Ecosystem::Pypi {
        assert!(has("CHANGE_KIND_INSTALL_HOOK", ""), "{eco:?}: {all:#?}");
    }
    assert!(
        has("CHANGE_KIND_DNS_NAME", TROJAN_HOST),
        "{eco:?}: {all:#?}"
    );
    assert!(has("CHANGE_KIND_HOST", TROJAN_HOST), "{eco:?}: {all:#?}");
    assert!(
        has("CHANGE_KIND_COMMAND", "exec-written-file"),
        "{eco:?}: {all:#?}"
    );
    assert!(
        has("CHANGE_KIND_FINDING", "exfiltration.bait-in-traffic"),
        "{eco:?}: {all:#?}"
    );
    // And nothing that is noise: every added behaviour is the new hook's
    // (its commands and build files), the payload's, or the trojan's
    // traffic.
    for (_, kind, value) in &all {
        let explained = value.contains(TROJAN_HOST)
            || value.contains(".sysupdate")
            || value.contains("exfiltration")
            || value.starts_with("dynamic.")
            || kind == "CHANGE_KIND_INSTALL_HOOK"
            || kind == "CHANGE_KIND_CAPABILITY"
            || kind == "CHANGE_KIND_COMMAND"
            || kind == "CHANGE_KIND_FILE_WRITE"
            || kind == "CHANGE_KIND_FILE_DELETE";
        assert!(
            explained,
            "{eco:?}: unexplained change {kind} {value}: {all:#?}"
        );
    }
}

async fn honest(eco: Ecosystem) {
    let v = diff(honest_pair(eco)).await;
    assert_eq!(
        severity(&v),
        "SEVERITY_INFO",
        "{eco:?}: {:#}\n{:#?}",
        v["verdict"],
        changes(&v)
    );
    assert!(changes(&v).is_empty(), "{eco:?}: {:#?}", changes(&v));
}

#[tokio::test]
async fn npm_trojaned_update() {
    trojan(Ecosystem::Npm).await;
}

#[tokio::test]
async fn pypi_trojaned_update() {
    trojan(Ecosystem::Pypi).await;
}

#[tokio::test]
async fn rubygems_trojaned_update() {
    trojan(Ecosystem::Rubygems).await;
}

#[tokio::test]
async fn packagist_trojaned_update() {
    trojan(Ecosystem::Packagist).await;
}

#[tokio::test]
async fn crates_trojaned_update() {
    trojan(Ecosystem::CratesIo).await;
}

#[tokio::test]
async fn npm_honest_releases() {
    honest(Ecosystem::Npm).await;
}

#[tokio::test]
async fn pypi_honest_releases() {
    honest(Ecosystem::Pypi).await;
}

#[tokio::test]
async fn rubygems_honest_releases() {
    honest(Ecosystem::Rubygems).await;
}

#[tokio::test]
async fn packagist_honest_releases() {
    honest(Ecosystem::Packagist).await;
}

#[tokio::test]
async fn crates_honest_releases() {
    honest(Ecosystem::CratesIo).await;
}
