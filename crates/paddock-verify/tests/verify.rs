//! `verify` against a Parquet store the sink's own writer wrote.

mod common;

use std::collections::HashSet;

use base64::Engine as _;
use common::{write_store, Release};
use paddock_proto::v1::{Ecosystem, Severity};
use paddock_verify::{
    output, verify, DigestCheck, Options, ParquetStore, ReleaseKey, Status, Store as _,
};

fn sri(hex_digest: &str) -> String {
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(hex::decode(hex_digest).unwrap())
    )
}

#[tokio::test]
async fn a_package_lock_is_checked_release_by_release_against_the_sinks_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("parquet");
    let (good, evil, swapped) = ("1".repeat(128), "2".repeat(128), "3".repeat(128));
    let mut honest = Release::new(Ecosystem::Npm, "honest", "1.0.0", Severity::Info);
    honest.registry_digests = vec![("sha512".into(), sri(&good))];
    let mut trojan = Release::new(Ecosystem::Npm, "@scope/trojan", "2.0.1", Severity::Critical);
    trojan.reason = Some((
        "new-install-hook-network",
        "a new postinstall script downloads and runs code".into(),
    ));
    trojan.registry_digests = vec![("sha512".into(), sri(&evil))];
    let mut other = Release::new(Ecosystem::Npm, "other", "3.0.0", Severity::Info);
    other.registry_digests = vec![("sha512".into(), sri(&good))];
    // The same name in another ecosystem is another package.
    let pypi = Release::new(Ecosystem::Pypi, "missing", "0.1.0", Severity::Critical);
    write_store(&store_dir, &[honest, trojan, other, pypi], 2).await;

    let lock = serde_json::json!({
        "name": "app", "version": "1.0.0", "lockfileVersion": 3,
        "packages": {
            "": {"name": "app", "version": "1.0.0"},
            "node_modules/honest": {"version": "1.0.0", "resolved": "http://127.0.0.1/honest/-/honest-1.0.0.tgz", "integrity": sri(&good)},
            "node_modules/@scope/trojan": {"version": "2.0.1", "resolved": "http://127.0.0.1/@scope/trojan/-/trojan-2.0.1.tgz", "integrity": sri(&evil)},
            "node_modules/other": {"version": "3.0.0", "resolved": "http://127.0.0.1/other/-/other-3.0.0.tgz", "integrity": sri(&swapped)},
            "node_modules/missing": {"version": "0.1.0", "resolved": "http://127.0.0.1/missing/-/missing-0.1.0.tgz"}
        }
    });
    let app = dir.path().join("app");
    std::fs::create_dir(&app).unwrap();
    std::fs::write(
        app.join("package-lock.json"),
        serde_json::to_string_pretty(&lock).unwrap(),
    )
    .unwrap();

    let store = ParquetStore::open(&store_dir).unwrap();
    let v = verify(
        std::slice::from_ref(&app),
        &[&store],
        &[],
        &Options::default(),
    )
    .unwrap();
    assert!(v.errors.is_empty(), "{:?}", v.errors);
    let by_name = |n: &str| v.checks.iter().find(|c| c.pin.name == n).unwrap();
    assert_eq!(v.checks.len(), 4);
    // Worst first.
    assert_eq!(v.checks[0].pin.name, "@scope/trojan");
    assert_eq!(by_name("@scope/trojan").status(), Status::Flagged);
    assert_eq!(by_name("@scope/trojan").level(), Some(Severity::Critical));
    assert!(matches!(
        by_name("@scope/trojan").digest,
        DigestCheck::Match { .. }
    ));
    assert_eq!(by_name("honest").status(), Status::Clean);
    assert_eq!(by_name("other").status(), Status::DigestMismatch);
    assert_eq!(by_name("missing").status(), Status::NotAnalysed);
    assert!(v.fails(Some(Severity::High), false));
    assert!(v.fails(Some(Severity::Critical), false));

    let table = output::table(&v, false);
    let first = table.lines().nth(1).unwrap();
    assert!(first.starts_with("CRITICAL"), "{table}");
    assert!(first.contains("npm @scope/trojan@2.0.1"), "{table}");
    assert!(
        first.contains("a new postinstall script downloads and runs code"),
        "{table}"
    );
    assert!(first.contains("package-lock.json:"), "{table}");
    assert!(
        table.contains("not the artifact that was analysed"),
        "{table}"
    );
    assert!(
        !table.contains("npm honest@"),
        "clean rows are counted, not listed:\n{table}"
    );
    assert!(table.contains("4 pinned releases in 1 lockfile: 0 known malicious, 1 not the artifact that was analysed, 1 flagged, 1 not analysed, 1 clean"), "{table}");

    let json = serde_json::to_value(output::document(&v, true)).unwrap();
    assert_eq!(json["results"][0]["name"], "@scope/trojan");
    assert_eq!(json["results"][0]["level"], "critical");
    assert_eq!(
        json["results"][0]["verdict"]["reasons"][0]["code"],
        "new-install-hook-network"
    );
    assert_eq!(json["summary"]["digest_mismatch"], 1);
    let mismatch = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "other")
        .unwrap();
    assert_eq!(mismatch["digest"]["result"], "mismatch");
    assert_eq!(mismatch["digest"]["analysed"], "1".repeat(128));

    // The store answers only what it is asked, and ignores other ecosystems.
    let wanted: HashSet<ReleaseKey> = [ReleaseKey::new(Ecosystem::Npm, "missing", "0.1.0")].into();
    assert!(store.lookup(&wanted).unwrap().is_empty());
}

#[tokio::test]
async fn a_re_analysis_replaces_the_earlier_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let first = Release::new(Ecosystem::Pypi, "Flip_Flop", "1.0", Severity::High);
    write_store(dir.path(), &[first], 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let second = Release::new(Ecosystem::Pypi, "flip-flop", "1.0", Severity::Info);
    write_store(dir.path(), &[second], 1).await;
    let store = ParquetStore::open(dir.path()).unwrap();
    let key = ReleaseKey::new(Ecosystem::Pypi, "FLIP.flop", "1.0");
    let found = store.lookup(&[key.clone()].into()).unwrap();
    assert_eq!(found[&key].severity, Severity::Info);
}

#[test]
fn a_directory_without_results_says_where_results_come_from() {
    let dir = tempfile::tempdir().unwrap();
    let error = ParquetStore::open(dir.path()).unwrap_err().to_string();
    assert!(error.contains("no verdicts here"), "{error}");
    assert!(error.contains("paddock up"), "{error}");
}

#[test]
fn a_lockfile_that_cannot_be_read_is_an_error_beside_the_others() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Cargo.lock"), "[[package]]\nname = ").unwrap();
    let good = dir.path().join("sub");
    std::fs::create_dir(&good).unwrap();
    std::fs::write(good.join("requirements.txt"), "six==1.16.0\n").unwrap();
    let v = verify(
        &[dir.path().join("Cargo.lock"), good],
        &[],
        &[],
        &Options::default(),
    )
    .unwrap();
    assert_eq!(v.errors.len(), 1, "{:?}", v.errors);
    assert!(v.errors[0].contains("Cargo.lock"), "{:?}", v.errors);
    assert_eq!(v.checks.len(), 1);
    assert_eq!(v.checks[0].status(), Status::NotAnalysed);
}
