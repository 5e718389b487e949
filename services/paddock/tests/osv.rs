//! OSV malicious-package reports end to end: `paddock analyze --format
//! osv` prints a report that validates against the OSV schema and passes
//! the malicious-packages database's rules, for every ecosystem; `paddock
//! verify --osv` names a release an export (a directory or a zip) says is
//! malicious.
#![allow(clippy::disallowed_methods)] // a test may read its own environment

mod common;

use std::io::Write as _;

use common::{paddock, run, text};
use paddock_proto::v1::Ecosystem;
use paddock_testkit::packages::build;
use paddock_testkit::updates::trojan_pair;
use serde_json::Value;

fn valid_report(report: &Value) {
    let errors = paddock_testkit::schemas::osv_errors(report);
    assert!(errors.is_empty(), "{errors:#?}\n{report:#}");
    if let Err(broken) = paddock_osv::rules::check(report) {
        panic!("{broken:#?}\n{report:#}");
    }
}

#[test]
fn analyze_prints_a_report_the_database_accepts_for_every_ecosystem() {
    let dir = tempfile::tempdir().unwrap();
    for eco in paddock_proto::ecosystem::ALL {
        let (_, trojan) = trojan_pair(eco);
        let built = build(&trojan);
        let path = dir.path().join(&built.filename);
        std::fs::write(&path, &built.bytes).unwrap();
        let out = run(paddock()
            .args(["analyze", "--static", "--format", "osv", "--local"])
            .arg(&path));
        assert!(out.status.success(), "{eco:?}: {}", text(&out.stderr));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        valid_report(&report);
        let affected = report["affected"].as_array().unwrap();
        assert_eq!(affected.len(), 1);
        assert_eq!(affected[0]["package"]["name"], trojan.name.as_str());
        assert_eq!(affected[0]["versions"], serde_json::json!([trojan.version]));
        assert_eq!(
            affected[0]["database_specific"]["cwes"][0]["cweId"],
            "CWE-506"
        );
        assert_eq!(report["credits"][0]["type"], "FINDER");
        let details = report["details"].as_str().unwrap();
        assert!(details.len() > 40, "{details}");
        // The artifact that was analysed, as a PACKAGE_ARCHIVE indicator.
        let sha256 = paddock_registry::digest::sha256_hex(&built.bytes);
        let files = report["database_specific"]["iocs"]["files"]
            .as_array()
            .unwrap();
        assert!(
            files
                .iter()
                .any(|f| f["source"] == "PACKAGE_ARCHIVE"
                    && f["digests"]["sha256"] == sha256.as_str()),
            "{eco:?}: {files:#?}"
        );
        if eco == Ecosystem::Pypi || eco == Ecosystem::Rubygems || eco == Ecosystem::Packagist {
            assert!(
                !report.to_string().contains("SEMVER"),
                "{eco:?} may not use SEMVER ranges"
            );
        }
    }
}

/// A report in the database's own form for every version of a package.
fn database_record(eco: &str, name: &str) -> Value {
    serde_json::json!({
        "modified": "2026-09-11T00:00:00Z",
        "published": "2026-09-10T00:00:00Z",
        "schema_version": "1.7.4",
        "id": "MAL-2026-16164",
        "summary": format!("Malicious code in {name} ({eco})"),
        "details": "Steals credentials at install time.",
        "affected": [{
            "package": {"ecosystem": eco, "name": name},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}],
        }],
    })
}

#[test]
fn verify_names_what_an_export_says_is_malicious_from_a_directory_and_a_zip() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("package-lock.json"),
        r#"{"name": "app", "lockfileVersion": 3, "packages": {
            "": {"name": "app"},
            "node_modules/left-pad-evil": {"version": "1.3.0", "resolved": "http://127.0.0.1:1/left-pad-evil/-/left-pad-evil-1.3.0.tgz"},
            "node_modules/fine": {"version": "1.0.0", "resolved": "http://127.0.0.1:1/fine/-/fine-1.0.0.tgz"}
        }}"#,
    )
    .unwrap();
    let export = dir.path().join("export");
    let record_dir = export.join("osv/malicious/npm/left-pad-evil");
    std::fs::create_dir_all(&record_dir).unwrap();
    let record = database_record("npm", "left-pad-evil");
    std::fs::write(record_dir.join("MAL-2026-16164.json"), record.to_string()).unwrap();
    let zip_path = dir.path().join("all.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    zip.start_file(
        "MAL-2026-16164.json",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    zip.write_all(record.to_string().as_bytes()).unwrap();
    zip.finish().unwrap();

    for source in [&export, &zip_path] {
        let out = run(paddock()
            .env("XDG_DATA_HOME", dir.path())
            .arg("verify")
            .arg(dir.path().join("package-lock.json"))
            .arg("--osv")
            .arg(source));
        let stdout = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(3),
            "{stdout}\n{}",
            text(&out.stderr)
        );
        let first = stdout.lines().nth(1).unwrap();
        assert!(
            first.starts_with("CRITICAL")
                && first.contains("npm left-pad-evil@1.3.0")
                && first.contains("known malicious")
                && first.contains("MAL-2026-16164"),
            "{stdout}"
        );
        assert!(stdout.contains("1 known malicious"), "{stdout}");
        assert!(stdout.contains("1 not analysed"), "{stdout}");
    }
}
