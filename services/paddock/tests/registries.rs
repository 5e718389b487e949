//! `paddock fetch` and `paddock submit` against the fixture registry.
#![allow(clippy::disallowed_methods)] // a test may read its own environment

use std::process::Command;

use paddock_proto::v1::{Ecosystem, FeedSource, Release};
use paddock_testkit::registry::{Fault, FixtureRegistry};
use paddock_testkit::{unique_prefix, TestNats};
use prost::Message;

mod common;
use common::{paddock_for as paddock, run_async as run, text};

#[tokio::test]
async fn fetch_downloads_verifies_and_extracts_for_every_ecosystem() {
    let registry = FixtureRegistry::start().await;
    let dir = tempfile::tempdir().unwrap();
    for (eco, spec, file) in [
        (
            "pypi",
            "paddock-honest@1.0.0",
            "paddock_honest-1.0.0/setup.py",
        ),
        ("npm", "@paddock/hook", "package/install.js"),
        ("rubygems", "paddock_hook", "ext/extconf.rb"),
        ("packagist", "paddock/honest", "composer.json"),
        ("cargo", "paddock-hook", "paddock-hook-2.0.0/build.rs"),
    ] {
        let out_dir = dir.path().join(eco);
        let mut cmd = paddock(&registry);
        cmd.args(["fetch", eco, spec, "--out"]).arg(&out_dir);
        let out = run(cmd).await;
        assert!(out.status.success(), "{eco}: {}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(
            stdout.contains("sha256:") && stdout.contains("(verified)"),
            "{eco}: {stdout}"
        );
        let found = paddock_testkit::files_under(&out_dir.join("package"))
            .iter()
            .any(|p| p.ends_with(file));
        assert!(found, "{eco}: {file} missing; {stdout}");
    }
}

#[tokio::test]
async fn fetch_refuses_a_tampered_artifact_and_names_both_digests() {
    let registry = FixtureRegistry::start().await;
    registry.fault("/crates/api/", Fault::Tampered);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = paddock(&registry);
    cmd.args(["fetch", "crates.io", "paddock-honest", "--out"])
        .arg(dir.path().join("x"));
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("failed verification: sha256 expected") && err.contains(", got "),
        "{err}"
    );
    assert!(!dir.path().join("x/package").exists(), "nothing extracted");
}

async fn releases(nats: &TestNats, prefix: &str) -> Vec<Release> {
    let js = async_nats::jetstream::new(nats.client().await);
    let mut stream = js.get_stream(format!("{prefix}_RELEASES")).await.unwrap();
    let last = stream.info().await.unwrap().state.last_sequence;
    let mut out = Vec::new();
    for seq in 1..=last {
        out.push(
            Release::decode(stream.get_raw_message(seq).await.unwrap().payload.as_ref()).unwrap(),
        );
    }
    out
}

#[tokio::test]
async fn submit_publishes_registry_releases_and_local_artifacts() {
    let registry = FixtureRegistry::start().await;
    let nats = TestNats::start().await;
    let prefix = unique_prefix();

    for _ in 0..2 {
        let mut cmd = paddock(&registry);
        cmd.args(["submit", "pypi", "paddock-hook", "--nats-url", nats.url()])
            .env("PADDOCK__BUS__PREFIX", &prefix);
        let out = run(cmd).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let dir = tempfile::tempdir().unwrap();
    let pkg = paddock_testkit::packages::catalogue()
        .into_iter()
        .find(|p| p.eco == Ecosystem::CratesIo)
        .unwrap();
    let built = paddock_testkit::packages::build(&pkg);
    let local = dir.path().join(&built.filename);
    std::fs::write(&local, &built.bytes).unwrap();
    let mut cmd = paddock(&registry);
    cmd.args(["submit", "--local"])
        .arg(&local)
        .args(["--nats-url", nats.url()])
        .env("PADDOCK__BUS__PREFIX", &prefix);
    let out = run(cmd).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("crates.io paddock-honest@1.0.0"),
        "{}",
        text(&out.stdout)
    );

    let published = releases(&nats, &prefix).await;
    assert_eq!(published.len(), 2, "the repeated submit was absorbed");
    assert_eq!(published[0].package.as_ref().unwrap().name, "paddock-hook");
    assert_eq!(published[0].source, FeedSource::Manual as i32);
    assert_eq!(published[1].source, FeedSource::Local as i32);
    assert_eq!(
        published[1].package.as_ref().unwrap().ecosystem,
        Ecosystem::CratesIo as i32
    );
    for r in &published {
        let a = &r.artifacts[r.selected_artifact as usize];
        assert_eq!(a.object_key, a.sha256);
        assert_eq!(a.sha256.len(), 64);
    }
}

#[tokio::test]
async fn analyze_reports_the_install_hook_and_gates_on_severity() {
    let registry = FixtureRegistry::start().await;
    let mut cmd = paddock(&registry);
    cmd.args(["analyze", "npm", "@paddock/hook", "--static"]);
    let out = run(cmd).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        report.contains("capability.install-hook") && report.contains("postinstall"),
        "{report}"
    );
    assert!(
        report.contains("package/install.js"),
        "the install script's own findings: {report}"
    );

    let mut cmd = paddock(&registry);
    cmd.args([
        "analyze",
        "npm",
        "@paddock/hook",
        "--static",
        "--fail-on",
        "low",
    ]);
    assert_eq!(
        run(cmd).await.status.code(),
        Some(3),
        "a low finding fails a low gate"
    );
    let mut cmd = paddock(&registry);
    cmd.args([
        "analyze",
        "npm",
        "paddock-honest",
        "--static",
        "--fail-on",
        "high",
    ]);
    assert_eq!(
        run(cmd).await.status.code(),
        Some(0),
        "the honest package passes a high gate"
    );

    let mut cmd = paddock(&registry);
    cmd.args([
        "analyze",
        "pypi",
        "paddock-honest",
        "--static",
        "--format",
        "json",
    ]);
    let out = run(cmd).await;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json output");
    assert_eq!(json["package"]["name"], "paddock-honest");
    assert!(json["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"].as_str().unwrap().ends_with("setup.py")));

    let mut cmd = paddock(&registry);
    cmd.args([
        "analyze",
        "npm",
        "paddock-honest",
        "--static",
        "--format",
        "package-analysis",
    ]);
    let out = run(cmd).await;
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json output");
    assert_eq!(record["schema_version"], "1.0");
    assert_eq!(record["ecosystem"], "npm");
    let files = record["results"]["files"].as_array().unwrap();
    let index = files
        .iter()
        .find(|f| f["filename"] == "package/index.js")
        .unwrap();
    assert!(index["js"]["identifiers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["name"] == "pad" && i["type"] == "Function"));
}

#[tokio::test]
async fn analyze_infers_the_ecosystem_of_a_local_artifact() {
    let registry = FixtureRegistry::start().await;
    let dir = tempfile::tempdir().unwrap();
    let pkg = paddock_testkit::packages::catalogue()
        .into_iter()
        .find(|p| p.eco == Ecosystem::CratesIo && p.name == "paddock-hook")
        .unwrap();
    let built = paddock_testkit::packages::build(&pkg);
    let local = dir.path().join(&built.filename);
    std::fs::write(&local, &built.bytes).unwrap();
    let mut cmd = paddock(&registry);
    cmd.args(["analyze", "--static", "--local"]).arg(&local);
    let out = run(cmd).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        report.starts_with("crates.io paddock-hook@2.0.0"),
        "{report}"
    );
    assert!(
        report.contains("threat.install-process-spawn") && report.contains("build.rs"),
        "{report}"
    );
}

/// Without the privilege to mount the sandbox's size-limited tmpfs (here
/// CAP_SYS_ADMIN is dropped from the process), dynamic analysis fails
/// closed: an error status that says why, and no phase run.
#[tokio::test]
async fn a_failed_tmpfs_mount_fails_the_analysis_closed() {
    let registry = FixtureRegistry::start().await;
    let analyze = paddock(&registry);
    let mut cmd = Command::new("setpriv");
    cmd.args(["--inh-caps=-sys_admin", "--bounding-set=-sys_admin", "--"])
        .arg(analyze.get_program())
        .args(["analyze", "npm", "@paddock/hook", "--format", "json"]);
    for (key, value) in analyze.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    let out = run(cmd).await;
    let stdout = text(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "json output ({e}); setpriv (util-linux) must be installed. stdout:\n{stdout}\nstderr:\n{}",
            text(&out.stderr)
        )
    });
    let dynamic = &report["dynamic"];
    assert_eq!(
        dynamic["status"], "ANALYSIS_STATUS_ERROR_OTHER",
        "{dynamic}"
    );
    let detail = dynamic["statusDetail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("mounting the size-limited tmpfs")
            && detail.contains("nothing was run")
            && detail.contains("permission denied"),
        "{dynamic}"
    );
    assert!(
        dynamic["phases"].as_array().is_none_or(|p| p.is_empty()),
        "no phase ran: {dynamic}"
    );
}

/// The newcomer's command, static and dynamic together, on the fixture
/// registry: one report with findings and then every phase, and the
/// reference system's records for both.
#[tokio::test]
async fn analyze_runs_static_and_dynamic_analysis_together() {
    let registry = FixtureRegistry::start().await;
    let mut cmd = paddock(&registry);
    cmd.args(["analyze", "npm", "@paddock/hook"]);
    let out = run(cmd).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    for needle in [
        "dynamic analysis: completed (install completed, import completed, execute completed)",
        "capability.install-hook",
        "install: completed",
        "import: completed",
        "execute: completed",
        // The postinstall hook ran in the sandbox, and its command and file
        // are in the install phase.
        "node install.js",
        "/tmp/paddock-hook-ran",
        "process tree:",
    ] {
        assert!(
            report.contains(needle),
            "`{needle}` missing from:\n{report}"
        );
    }
    let install = &report
        [report.find("install: completed").unwrap()..report.find("import: completed").unwrap()];
    assert!(install.contains("/tmp/paddock-hook-ran"), "{install}");

    let mut cmd = paddock(&registry);
    cmd.args([
        "analyze",
        "pypi",
        "paddock-honest",
        "--format",
        "package-analysis",
    ]);
    let out = run(cmd).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let both: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json output");
    assert_eq!(both["static"]["schema_version"], "1.0");
    let dynamic = &both["dynamic"];
    assert_eq!(dynamic["Package"]["Ecosystem"], "pypi");
    assert_eq!(dynamic["Package"]["Name"], "paddock-honest");
    for phase in ["install", "import", "execute"] {
        let p = &dynamic["Analysis"][phase];
        assert_eq!(p["Status"], "completed", "{phase}: {p}");
        assert!(
            p["Files"].as_array().is_some_and(|f| !f.is_empty()),
            "{phase}"
        );
        assert!(p["Commands"][0]["Command"].as_array().is_some(), "{phase}");
        // Go's []byte: base64 text.
        assert!(p["Stdout"].is_string());
    }
}
