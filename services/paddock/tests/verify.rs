//! `paddock verify` as a user runs it, against the fixture registry.
#![allow(clippy::disallowed_methods)] // a test may read its own environment

use std::path::Path;
use std::process::Command;

mod common;

use common::{run_async as run, text};
use paddock_proto::v1::Ecosystem;
use paddock_testkit::packages::{catalogue, FixturePackage};
use paddock_testkit::registry::{artifacts_of, FixtureRegistry};
use paddock_testkit::updates::trojan_pair;

/// `paddock` for `registry`, never reading the user's own `paddock up`
/// data.
fn paddock(registry: &FixtureRegistry, home: &Path) -> Command {
    let mut cmd = common::paddock_for(registry);
    cmd.env("XDG_DATA_HOME", home).env("HOME", home);
    cmd
}

/// The npm integrity of a fixture release's tarball.
fn integrity(pkg: &FixturePackage) -> String {
    let built = artifacts_of(pkg);
    paddock_registry::digest::sri_sha512(&built[0].bytes)
}

fn npm(packages: &[FixturePackage], name: &str, version: &str) -> FixturePackage {
    packages
        .iter()
        .find(|p| p.eco == Ecosystem::Npm && p.name == name && p.version == version)
        .unwrap()
        .clone()
}

#[tokio::test]
async fn verify_analyses_what_is_missing_names_the_trojan_and_the_swapped_artifact() {
    let (before, trojan) = trojan_pair(Ecosystem::Npm);
    let mut packages = catalogue();
    packages.extend([before, trojan.clone()]);
    let registry = FixtureRegistry::with_packages(packages.clone()).await;
    let honest = npm(&packages, "paddock-honest", "1.0.0");
    let hook = npm(&packages, "@paddock/hook", "2.0.0");
    let other = npm(&packages, "paddock-honest", "1.1.0");

    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    std::fs::create_dir(&app).unwrap();
    let entry = |p: &FixturePackage, integrity: String| serde_json::json!({"version": p.version, "resolved": format!("{}/{}/-/x.tgz", registry.url(Ecosystem::Npm), p.name), "integrity": integrity});
    let lock = serde_json::json!({
        "name": "app", "version": "1.0.0", "lockfileVersion": 3,
        "packages": {
            "": {"name": "app", "version": "1.0.0"},
            "node_modules/paddock-honest": entry(&honest, integrity(&honest)),
            "node_modules/paddock-trojaned": entry(&trojan, integrity(&trojan)),
            // The lockfile says @paddock/hook is another tarball.
            "node_modules/@paddock/hook": entry(&hook, integrity(&other)),
        }
    });
    std::fs::write(
        app.join("package-lock.json"),
        serde_json::to_string_pretty(&lock).unwrap(),
    )
    .unwrap();

    // No store: nothing is known, and nothing fails unless asked to.
    let mut cmd = paddock(&registry, dir.path());
    cmd.arg("verify").arg(&app);
    let out = run(cmd).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("3 not analysed"), "{stdout}");
    assert!(stderr.contains("--analyze-missing"), "{stderr}");
    let mut cmd = paddock(&registry, dir.path());
    cmd.arg("verify").arg(&app).arg("--fail-on-missing");
    assert_eq!(run(cmd).await.status.code(), Some(3));

    // Analysed here: the trojan is named, worst first, with its evidence.
    let mut cmd = paddock(&registry, dir.path());
    cmd.args(["verify", "--analyze-missing", "--static"])
        .arg(&app);
    let out = run(cmd).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(stderr.contains("analysing 3 releases"), "{stderr}");
    assert!(stderr.contains("analysed 3/3"), "{stderr}");
    let first = stdout.lines().nth(1).unwrap_or_default();
    assert!(
        first.contains("npm paddock-trojaned@1.4.1") && first.contains("package-lock.json:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("npm @paddock/hook@2.0.0")
            && stdout.contains("not the artifact that was analysed"),
        "{stdout}"
    );
    assert!(stdout.contains("1 clean"), "{stdout}");

    // JSON says the same, for every pinned release.
    let mut cmd = paddock(&registry, dir.path());
    cmd.args([
        "verify",
        "--analyze-missing",
        "--static",
        "--format",
        "json",
    ])
    .arg(app.join("package-lock.json"));
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["name"], "paddock-trojaned");
    assert!(
        ["high", "critical"].contains(&results[0]["level"].as_str().unwrap()),
        "{json:#}"
    );
    let hook = results
        .iter()
        .find(|r| r["name"] == "@paddock/hook")
        .unwrap();
    assert_eq!(hook["status"], "digest_mismatch", "{hook:#}");
    assert_eq!(json["failed"], true);

    // SARIF, located in the lockfile, valid against the schema; also
    // written to a file beside the table.
    let sarif_file = dir.path().join("verify.sarif");
    let mut cmd = paddock(&registry, dir.path());
    cmd.current_dir(dir.path())
        .args([
            "verify",
            "--analyze-missing",
            "--static",
            "--format",
            "sarif",
            "app",
            "--sarif",
        ])
        .arg(&sarif_file);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors = common::sarif_schema_errors(&log);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        log,
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(&sarif_file).unwrap()).unwrap()
    );
    let run0 = &log["runs"][0];
    let results = run0["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{results:#?}");
    let trojan = &results[0];
    assert!(trojan["message"]["text"]
        .as_str()
        .unwrap()
        .contains("paddock-trojaned@1.4.1"));
    assert_eq!(trojan["level"], "error");
    let location = &trojan["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "app/package-lock.json");
    assert_eq!(location["artifactLocation"]["uriBaseId"], "SRCROOT");
    let line = location["region"]["startLine"].as_u64().unwrap() as usize;
    let lock_text = std::fs::read_to_string(app.join("package-lock.json")).unwrap();
    assert!(
        lock_text
            .lines()
            .nth(line - 1)
            .unwrap()
            .contains("paddock-trojaned"),
        "line {line}"
    );
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(
        rules[trojan["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "verify.flagged"
    );
    assert!(trojan["properties"]["verdict"]["score"].as_f64().unwrap() > 0.0);
    assert!(results[1]["ruleId"] == "verify.digest-mismatch");
    assert!(!text(&out.stdout).contains(&*dir.path().to_string_lossy()));

    // A threshold above every level passes, but the mismatch is high.
    let mut cmd = paddock(&registry, dir.path());
    cmd.args([
        "verify",
        "--analyze-missing",
        "--static",
        "--fail-on",
        "critical",
        "--ignore-digests",
    ])
    .arg(&app);
    let out = run(cmd).await;
    let verdict = results[0]["level"].as_str().unwrap();
    let expected = if verdict == "critical" { 3 } else { 0 };
    assert_eq!(out.status.code(), Some(expected), "{}", text(&out.stdout));
}

#[tokio::test]
async fn verify_errors_name_the_lockfile_and_exit_1() {
    let registry = FixtureRegistry::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Cargo.lock"), "[[package]\n").unwrap();
    let mut cmd = paddock(&registry, dir.path());
    cmd.arg("verify").arg(dir.path());
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("Cargo.lock"),
        "{}",
        text(&out.stderr)
    );

    let empty = tempfile::tempdir().unwrap();
    let mut cmd = paddock(&registry, dir.path());
    cmd.arg("verify").arg(empty.path());
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no lockfile Paddock reads"),
        "{}",
        text(&out.stderr)
    );

    let mut cmd = paddock(&registry, dir.path());
    cmd.arg("verify")
        .arg(dir.path())
        .arg("--store")
        .arg(empty.path());
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no verdicts here"),
        "{}",
        text(&out.stderr)
    );
}

/// Every client installed here writes a real lockfile against the fixture
/// registry for an honest release and a trojaned one; `paddock verify
/// --analyze-missing` finds every pinned release (none is left
/// unanalysed or dropped) and fails with 3 naming the trojan first, in
/// the table, in JSON and in SARIF.
#[tokio::test]
async fn real_lockfiles_from_every_client_verify_and_the_trojan_fails_them() {
    use paddock_testkit::lockfiles::{exactly, generate, Client};
    let mut packages = catalogue();
    for eco in paddock_proto::ecosystem::ALL {
        let (honest, trojaned) = trojan_pair(eco);
        packages.extend([honest, trojaned]);
    }
    let registry = FixtureRegistry::with_packages(packages).await;
    let mut ran = Vec::new();
    for client in Client::ALL {
        let eco = client.ecosystem();
        let honest = match eco {
            Ecosystem::Rubygems => "paddock_honest",
            Ecosystem::Packagist => "paddock/honest",
            _ => "paddock-honest",
        };
        let (_, trojan) = trojan_pair(eco);
        let dir = tempfile::tempdir().unwrap();
        let deps = [
            (honest, exactly(eco, "1.0.0")),
            (trojan.name.as_str(), exactly(eco, &trojan.version)),
        ];
        let deps: Vec<(&str, &str)> = deps.iter().map(|(n, r)| (*n, r.as_str())).collect();
        let Some(lockfile) = generate(client, &registry, dir.path(), &deps).await else {
            continue;
        };
        ran.push(format!("{client:?}"));
        let sarif_file = dir.path().join("verify.sarif");
        let mut cmd = paddock(&registry, dir.path());
        cmd.args([
            "verify",
            "--analyze-missing",
            "--static",
            "--format",
            "json",
            "--sarif",
        ])
        .arg(&sarif_file)
        .arg(&lockfile);
        let out = run(cmd).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{client:?}: {stderr}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let results = json["results"].as_array().unwrap();
        assert_eq!(results.len(), 2, "{client:?}: {json:#}");
        assert!(
            results.iter().all(|r| r["status"] != "not_analysed"),
            "{client:?}: {json:#}\n{stderr}"
        );
        assert_eq!(
            results[0]["name"],
            trojan.name.as_str(),
            "{client:?}: {json:#}"
        );
        assert!(
            ["high", "critical"].contains(&results[0]["level"].as_str().unwrap_or("")),
            "{client:?}: {json:#}"
        );
        assert_eq!(results[1]["status"], "clean", "{client:?}: {json:#}");
        // Where the lockfile records the artifact's digest, it is the one
        // analysed.
        for r in results {
            assert!(
                ["match", "not_recorded", "not_comparable"]
                    .contains(&r["digest"]["result"].as_str().unwrap()),
                "{client:?}: {r:#}"
            );
        }
        let log: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&sarif_file).unwrap()).unwrap();
        let errors = common::sarif_schema_errors(&log);
        assert!(errors.is_empty(), "{client:?}: {errors:#?}");
        let sarif_results = log["runs"][0]["results"].as_array().unwrap();
        assert_eq!(sarif_results.len(), 1, "{client:?}: {log:#}");
        assert!(sarif_results[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains(&trojan.name));

        let mut cmd = paddock(&registry, dir.path());
        cmd.args(["verify", "--analyze-missing", "--static"])
            .arg(&lockfile);
        let out = run(cmd).await;
        let table = text(&out.stdout);
        assert_eq!(out.status.code(), Some(3), "{client:?}: {table}");
        let first = table.lines().nth(1).unwrap_or_default();
        assert!(
            first.contains(&format!("{}@", trojan.name)) && first.contains(client.lockfile()),
            "{client:?}: {table}"
        );
    }
    eprintln!("clients that wrote lockfiles: {}", ran.join(", "));
    assert!(
        !ran.is_empty(),
        "no package client is installed: run scripts/install-deps --test"
    );
}

/// Paddock's own Cargo.lock: every registry package is a pinned release,
/// reported as not analysed when no store knows it, and that alone does
/// not fail.
#[tokio::test]
async fn paddocks_own_cargo_lock_verifies_with_every_package_accounted_for() {
    let registry = FixtureRegistry::start().await;
    let dir = tempfile::tempdir().unwrap();
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock");
    let text_lock = std::fs::read_to_string(&lock).unwrap();
    let registry_packages = text_lock
        .split("[[package]]")
        .filter(|p| p.contains("source = \"registry+"))
        .count();
    let mut cmd = paddock(&registry, dir.path());
    cmd.args(["verify", "--format", "json"]).arg(&lock);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["lockfiles"][0]["pins"], registry_packages);
    assert_eq!(json["summary"]["not_analysed"], registry_packages);
    assert!(registry_packages > 300, "{registry_packages}");
}
