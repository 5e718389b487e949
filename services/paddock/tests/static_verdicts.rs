//! `paddock analyze --static --local` on the testkit's packages: a
//! trojaned release is high or critical from its code alone in every
//! ecosystem, with the techniques named at install reachability where an
//! install hook runs them; honest packages, honest build steps in install
//! hooks included, stay at most low.
#![allow(clippy::disallowed_methods)] // a test may read its own environment

mod common;

use common::{paddock, run, text};
use paddock_proto::v1::Ecosystem;
use paddock_testkit::packages::{build, catalogue, FixturePackage, Flavour};
use paddock_testkit::updates::{honest_pair, trojan_pair};
use serde_json::Value;

/// Runs `paddock analyze --static` on the built artifact of `pkg` with
/// `extra` arguments; its standard output.
fn analyse(pkg: &FixturePackage, extra: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let built = build(pkg);
    let path = dir.path().join(&built.filename);
    std::fs::write(&path, &built.bytes).unwrap();
    let eco = paddock_proto::ecosystem::cli_name(pkg.eco);
    let out = run(paddock()
        .args(["analyze", "--static", "--ecosystem", eco, "--local"])
        .arg(&path)
        .args(extra));
    assert!(out.status.success(), "{}", text(&out.stderr));
    out.stdout
}

/// The static verdict's severity (`CRITICAL`) and the whole report.
fn verdict(pkg: &FixturePackage) -> (String, String) {
    let report = text(&analyse(pkg, &[]));
    let severity = report
        .lines()
        .find_map(|l| l.strip_prefix("verdict: "))
        .and_then(|v| v.split_whitespace().next())
        .unwrap_or_else(|| panic!("no verdict line: {report}"))
        .to_owned();
    (severity, report)
}

/// The findings as (rule id, reachability).
fn findings(pkg: &FixturePackage) -> Vec<(String, String)> {
    let json: Value = serde_json::from_slice(&analyse(pkg, &["--format", "json"])).unwrap();
    // Proto JSON leaves out an empty list.
    json["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|f| {
            (
                f["ruleId"].as_str().unwrap_or_default().to_owned(),
                f["reachability"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_trojaned_composer_plugin_is_judged_by_what_its_activate_runs() {
    let (_, trojan) = trojan_pair(Ecosystem::Packagist);
    let (severity, report) = verdict(&trojan);
    assert!(matches!(severity.as_str(), "HIGH" | "CRITICAL"), "{report}");
    // The plugin class runs at install, and so does the file it includes.
    let found = findings(&trojan);
    for rule in ["threat.exfiltrate-environment", "threat.download-write-run"] {
        assert!(
            found
                .iter()
                .any(|(id, reach)| id == rule && reach == "REACHABILITY_INSTALL"),
            "{rule}: {found:#?}"
        );
    }
}

#[test]
fn trojaned_releases_are_high_or_critical_in_every_ecosystem() {
    for eco in paddock_proto::ecosystem::ALL {
        let (_, trojan) = trojan_pair(eco);
        let (severity, report) = verdict(&trojan);
        assert!(
            matches!(severity.as_str(), "HIGH" | "CRITICAL"),
            "{eco:?}: {report}"
        );
    }
}

#[test]
fn honest_packages_and_build_hooks_stay_at_most_low() {
    let mut packages = catalogue();
    for eco in paddock_proto::ecosystem::ALL {
        let (a, b) = honest_pair(eco);
        packages.extend([a, b]);
    }
    for pkg in &packages {
        let name = format!(
            "{} {}@{}",
            paddock_proto::ecosystem::cli_name(pkg.eco),
            pkg.name,
            pkg.version
        );
        // The catalogue's Composer hook runs `id` from inline code in its
        // script (`php -r "system(…)"`): the manifest rule for inline hook
        // code weighs that, and nothing else may.
        if pkg.eco == Ecosystem::Packagist && pkg.flavour == Flavour::InstallHook {
            let found = findings(pkg);
            let threats: Vec<&str> = found
                .iter()
                .map(|(id, _)| id.as_str())
                .filter(|id| id.starts_with("threat."))
                .collect();
            assert_eq!(threats, ["threat.install-hook-inline-code"], "{name}");
            continue;
        }
        let (severity, report) = verdict(pkg);
        assert!(
            matches!(severity.as_str(), "INFO" | "LOW"),
            "{name}: {report}"
        );
        // The honest plugin's build step is reached at install, and judged
        // for what it is.
        if pkg.eco == Ecosystem::Packagist && pkg.flavour == Flavour::Builder {
            assert!(
                findings(pkg).contains(&(
                    "threat.install-process-spawn".into(),
                    "REACHABILITY_INSTALL".into()
                )),
                "{name}: {report}"
            );
        }
    }
}
