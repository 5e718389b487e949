//! Known malicious releases read from OSV exports, directories and zips,
//! including hostile ones: bad JSON, huge entries, zip bombs, entry names
//! that climb out, links, deep trees and limits.

mod support;

use std::io::Write;
use std::path::Path;

use paddock_osv::{KnownMalicious, Limits, Matched, OsvError, ReportDir};
use paddock_proto::v1::Ecosystem;
use serde_json::json;
use support::*;

fn record(id: &str, eco: &str, name: &str, versions: &[&str], ranges: serde_json::Value) -> String {
    json!({
        "schema_version": "1.7.4",
        "id": id,
        "modified": "2026-06-15T00:00:00Z",
        "summary": format!("Malicious code in {name} ({eco})"),
        "affected": [{"package": {"ecosystem": eco, "name": name}, "versions": versions, "ranges": ranges}],
    })
    .to_string()
}

/// An export with one record of each kind, and two bad files.
fn export_files() -> Vec<(&'static str, String)> {
    vec![
        (
            "osv/malicious/pypi/foo-bar/MAL-2026-1.json",
            record("MAL-2026-1", "PyPI", "Foo_Bar", &["1.0", "1.1"], json!([])),
        ),
        (
            "osv/malicious/crates.io/mysten_metrics/MAL-2026-2958.json",
            record(
                "MAL-2026-2958",
                "crates.io",
                "mysten-metrics",
                &[],
                json!([{"type": "SEMVER", "events": [{"introduced": "0"}]}]),
            ),
        ),
        (
            "osv/malicious/rubygems/evil/MAL-2026-3.json",
            record(
                "MAL-2026-3",
                "RubyGems",
                "Evil",
                &[],
                json!([{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"fixed": "2.0"}]}]),
            ),
        ),
        (
            "osv/malicious/npm/@scope/pkg/MAL-2026-4.json",
            record(
                "MAL-2026-4",
                "npm",
                "@scope/pkg",
                &[],
                json!([{"type": "SEMVER", "events": [{"introduced": "2.0.0"}, {"last_affected": "2.1.0"}]}]),
            ),
        ),
        ("osv/withdrawn/pypi/fastapi/MAL-2026-4750.json", {
            let mut v: serde_json::Value = serde_json::from_str(&record(
                "MAL-2026-4750",
                "PyPI",
                "fastapi",
                &["0.136.3"],
                json!([]),
            ))
            .unwrap();
            v["withdrawn"] = json!("2026-05-26T13:04:03Z");
            v.to_string()
        }),
        (
            "osv/malicious/maven/x/MAL-2026-6.json",
            record("MAL-2026-6", "Maven", "org.x:x", &["1"], json!([])),
        ),
        (
            "osv/malicious/npm/broken/MAL-2026-7.json",
            "{ not json".into(),
        ),
        (
            "osv/malicious/npm/empty/MAL-2026-8.json",
            r#"{"id": "MAL-2026-8"}"#.into(),
        ),
        ("README.md", "not a report".into()),
    ]
}

fn write_tree(root: &Path) {
    for (rel, text) in export_files() {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn zip_of(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut out);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in files {
            z.start_file(*name, opts).unwrap();
            z.write_all(bytes).unwrap();
        }
        z.finish().unwrap();
    }
    out.into_inner()
}

fn assert_export_contents(k: &KnownMalicious) {
    let one = |eco, name, version| -> Option<(String, Matched)> {
        let hits = k.lookup(eco, name, version);
        assert!(hits.len() <= 1, "{hits:?}");
        hits.first().map(|h| (h.id.clone(), h.matched))
    };
    let pypi = Some(("MAL-2026-1".to_owned(), Matched::Version));
    assert_eq!(one(Ecosystem::Pypi, "foo-bar", "1.0"), pypi, "PEP 503 name");
    assert_eq!(
        one(Ecosystem::Pypi, "FOO.bar", "1.0.0"),
        pypi,
        "PEP 440 equal version"
    );
    assert_eq!(one(Ecosystem::Pypi, "foo_bar", "1.2"), None);
    assert_eq!(
        one(Ecosystem::CratesIo, "Mysten_Metrics", "99.0.0"),
        Some(("MAL-2026-2958".to_owned(), Matched::AllVersions))
    );
    let gem = Some(("MAL-2026-3".to_owned(), Matched::Range));
    assert_eq!(one(Ecosystem::Rubygems, "evil", "1.5.2"), gem);
    assert_eq!(one(Ecosystem::Rubygems, "evil", "2.0"), None);
    assert_eq!(one(Ecosystem::Rubygems, "evil", "0.9"), None);
    assert_eq!(
        one(Ecosystem::Npm, "@scope/pkg", "2.1.0"),
        Some(("MAL-2026-4".to_owned(), Matched::Range))
    );
    assert_eq!(one(Ecosystem::Npm, "@scope/pkg", "2.1.1"), None);
    assert_eq!(one(Ecosystem::Npm, "pkg", "2.1.0"), None);

    // Withdrawn: never a match, but known.
    assert_eq!(one(Ecosystem::Pypi, "fastapi", "0.136.3"), None);
    let w = k.withdrawn(Ecosystem::Pypi, "FastAPI", "0.136.3");
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].withdrawn.as_deref(), Some("2026-05-26T13:04:03Z"));
    assert_eq!(w[0].summary, "Malicious code in fastapi (PyPI)");

    let s = k.stats();
    assert_eq!(
        (s.records, s.withdrawn, s.other_ecosystems, s.bad),
        (4, 1, 1, 2),
        "{s:?}"
    );
    assert_eq!(s.files, 8, "README.md is not read");
    assert!(s
        .warnings
        .iter()
        .any(|w| w.contains("MAL-2026-7.json") && w.contains("not an OSV record")));
    assert!(s
        .warnings
        .iter()
        .any(|w| w.contains("MAL-2026-8.json") && w.contains("no affected")));
}

#[test]
fn an_export_directory_is_read_and_looked_up() {
    let tmp = tempfile::tempdir().unwrap();
    write_tree(tmp.path());
    let k = KnownMalicious::load(tmp.path(), &Limits::default()).unwrap();
    assert_export_contents(&k);
    assert_eq!(k.len(), 5);
}

#[test]
fn a_zip_export_is_read_in_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let files: Vec<(&str, Vec<u8>)> = export_files()
        .into_iter()
        .map(|(n, t)| (n, t.into_bytes()))
        .collect();
    let path = tmp.path().join("all.zip");
    std::fs::write(&path, zip_of(&files)).unwrap();
    let k = KnownMalicious::load(&path, &Limits::default()).unwrap();
    assert_export_contents(&k);
}

#[test]
fn paddocks_own_report_directory_is_an_export() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ReportDir::new(tmp.path());
    for (v, h) in [("1.0.0", 10), ("1.0.1", 11)] {
        dir.write(&full_report(Ecosystem::Npm, v, "", t(h)))
            .unwrap();
    }
    dir.withdraw(Ecosystem::Npm, "@evil/pkg", "1.0.0", "benign", t(12))
        .unwrap();
    let k = KnownMalicious::load(tmp.path(), &Limits::default()).unwrap();
    let hits = k.lookup(Ecosystem::Npm, "@EVIL/pkg", "1.0.1");
    assert_eq!(hits.len(), 1);
    assert!(hits[0].id.starts_with("MAL-0000-paddock-"));
    assert!(k.lookup(Ecosystem::Npm, "@evil/pkg", "1.0.0").is_empty());
    assert_eq!(k.withdrawn(Ecosystem::Npm, "@evil/pkg", "1.0.0").len(), 1);
}

#[test]
fn zip_entries_that_climb_out_are_skipped_and_nothing_is_extracted() {
    let tmp = tempfile::tempdir().unwrap();
    let good = record("MAL-1", "npm", "good-evil", &["1.0.0"], json!([]));
    let bytes = zip_of(&[
        (
            "../../escape.json",
            record("MAL-2", "npm", "escaped", &["1.0.0"], json!([])).into_bytes(),
        ),
        (
            "/abs/path.json",
            record("MAL-3", "npm", "absolute", &["1.0.0"], json!([])).into_bytes(),
        ),
        ("ok/MAL-1.json", good.into_bytes()),
    ]);
    let path = tmp.path().join("hostile.zip");
    std::fs::write(&path, bytes).unwrap();
    let k = KnownMalicious::load(&path, &Limits::default()).unwrap();
    assert_eq!(k.lookup(Ecosystem::Npm, "good-evil", "1.0.0").len(), 1);
    assert!(k.lookup(Ecosystem::Npm, "escaped", "1.0.0").is_empty());
    assert!(k.lookup(Ecosystem::Npm, "absolute", "1.0.0").is_empty());
    assert_eq!(k.stats().bad, 2, "{:?}", k.stats());
    assert!(k.stats().warnings.iter().all(|w| w.contains("entry name")));
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "only the zip itself");
    assert!(!tmp.path().parent().unwrap().join("escape.json").exists());
}

#[test]
fn a_zip_bomb_is_not_inflated() {
    let tmp = tempfile::tempdir().unwrap();
    // 64 MiB of spaces compresses to well under a megabyte.
    let bomb = vec![b' '; 64 << 20];
    let good = record("MAL-1", "PyPI", "still-read", &["1.0"], json!([]));
    let path = tmp.path().join("bomb.zip");
    std::fs::write(
        &path,
        zip_of(&[("bomb.json", bomb), ("good.json", good.into_bytes())]),
    )
    .unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() < 1 << 20);
    let limits = Limits {
        max_entry_bytes: 1 << 20,
        ..Limits::default()
    };
    let k = KnownMalicious::load(&path, &limits).unwrap();
    assert_eq!(k.lookup(Ecosystem::Pypi, "still-read", "1.0").len(), 1);
    assert_eq!(k.stats().bad, 1);
    assert!(
        k.stats().warnings[0].starts_with("bomb.json: 67108864 bytes, more than the 1048576 read"),
        "{:?}",
        k.stats().warnings
    );
}

/// Rewrites the uncompressed size of every entry, in the local headers
/// and the central directory, as a forger would.
fn forge_sizes(zip: &mut [u8], size: u32) {
    let mut i = 0;
    while i + 30 < zip.len() {
        match &zip[i..i + 4] {
            [0x50, 0x4b, 0x03, 0x04] => zip[i + 22..i + 26].copy_from_slice(&size.to_le_bytes()),
            [0x50, 0x4b, 0x01, 0x02] => zip[i + 24..i + 28].copy_from_slice(&size.to_le_bytes()),
            _ => {}
        }
        i += 1;
    }
}

#[test]
fn a_zip_entry_that_lies_about_its_size_is_read_no_further_than_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = zip_of(&[("liar.json", vec![b' '; 32 << 20])]);
    forge_sizes(&mut bytes, 100);
    let path = tmp.path().join("liar.zip");
    std::fs::write(&path, bytes).unwrap();
    let limits = Limits {
        max_entry_bytes: 1 << 20,
        ..Limits::default()
    };
    let k = KnownMalicious::load(&path, &limits).unwrap();
    assert!(k.is_empty());
    assert_eq!(k.stats().bad, 1, "{:?}", k.stats());
    // The zip reader notices the lie, or the read stops at the limit.
    let w = &k.stats().warnings[0];
    assert!(
        w.starts_with("liar.json: ")
            && (w.contains("larger than its declared") || w.contains("inflates past")),
        "{w}"
    );
}

#[test]
fn a_zip_that_declares_too_many_entries_is_refused_before_its_directory_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = zip_of(&[("a.json", b"{}".to_vec())]);
    // The end-of-central-directory record: entries on this disk and in all.
    let eocd = bytes.len() - 22;
    assert_eq!(bytes[eocd..eocd + 4], [0x50, 0x4b, 0x05, 0x06]);
    bytes[eocd + 8..eocd + 10].copy_from_slice(&60_000u16.to_le_bytes());
    bytes[eocd + 10..eocd + 12].copy_from_slice(&60_000u16.to_le_bytes());
    let path = tmp.path().join("many.zip");
    std::fs::write(&path, bytes).unwrap();
    let limits = Limits {
        max_entries: 1000,
        ..Limits::default()
    };
    let err = KnownMalicious::load(&path, &limits).unwrap_err();
    assert!(
        matches!(
            err,
            OsvError::Limit {
                what: "zip entries declared",
                limit: 1000,
                ..
            }
        ),
        "{err}"
    );
    // Within the limit, the forged count is the zip reader's to refuse.
    let err = KnownMalicious::load(&path, &Limits::default()).unwrap_err();
    assert!(matches!(err, OsvError::NotAnExport { .. }), "{err}");
}

#[test]
fn a_huge_file_in_a_directory_is_skipped_unread() {
    let tmp = tempfile::tempdir().unwrap();
    write_tree(tmp.path());
    let huge = tmp.path().join("osv/malicious/npm/huge/MAL-0000-huge.json");
    std::fs::create_dir_all(huge.parent().unwrap()).unwrap();
    // Sparse: a gigabyte that takes no disk.
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let k = KnownMalicious::load(tmp.path(), &Limits::default()).unwrap();
    assert_eq!(k.stats().bad, 3);
    assert!(k
        .stats()
        .warnings
        .iter()
        .any(|w| w.contains("MAL-0000-huge.json: 1073741824 bytes")));
    assert_eq!(k.stats().records, 4);
}

#[test]
fn too_many_entries_or_bytes_fail_the_load_instead_of_truncating_it() {
    let tmp = tempfile::tempdir().unwrap();
    write_tree(tmp.path());
    let few = Limits {
        max_entries: 3,
        ..Limits::default()
    };
    let err = KnownMalicious::load(tmp.path(), &few).unwrap_err();
    assert!(
        matches!(
            err,
            OsvError::Limit {
                what: "entries",
                limit: 3,
                ..
            }
        ),
        "{err}"
    );
    let small = Limits {
        max_total_bytes: 500,
        ..Limits::default()
    };
    let err = KnownMalicious::load(tmp.path(), &small).unwrap_err();
    assert!(
        matches!(
            err,
            OsvError::Limit {
                what: "bytes read",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("raise the limit"), "{err}");

    let zip = tmp.path().join("all.zip");
    std::fs::write(&zip, zip_of(&[("a.json", b"{}".to_vec())])).unwrap();
    let tiny = Limits {
        max_archive_bytes: 10,
        ..Limits::default()
    };
    let err = KnownMalicious::load(&zip, &tiny).unwrap_err();
    assert!(
        matches!(
            err,
            OsvError::Limit {
                what: "archive bytes",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn what_is_not_an_export_is_refused_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let txt = tmp.path().join("list.txt");
    std::fs::write(&txt, b"x").unwrap();
    let err = KnownMalicious::load(&txt, &Limits::default()).unwrap_err();
    assert!(matches!(err, OsvError::NotAnExport { .. }), "{err}");
    let fake = tmp.path().join("fake.zip");
    std::fs::write(&fake, b"PK\x03\x04 this is not a zip at all").unwrap();
    let err = KnownMalicious::load(&fake, &Limits::default()).unwrap_err();
    assert!(matches!(err, OsvError::NotAnExport { .. }), "{err}");
    let err = KnownMalicious::load(&tmp.path().join("missing"), &Limits::default()).unwrap_err();
    assert!(matches!(err, OsvError::Io { .. }), "{err}");
}

#[test]
fn deep_trees_stop_at_the_depth_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let mut deep = tmp.path().to_owned();
    for i in 0..12 {
        deep.push(format!("d{i}"));
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(
        deep.join("MAL-1.json"),
        record("MAL-1", "npm", "deep", &["1.0.0"], json!([])),
    )
    .unwrap();
    let shallow = Limits {
        max_depth: 5,
        ..Limits::default()
    };
    let k = KnownMalicious::load(tmp.path(), &shallow).unwrap();
    assert!(k.is_empty());
    assert!(k.stats().warnings[0].contains("deeper than 5 levels"));
    let k = KnownMalicious::load(tmp.path(), &Limits::default()).unwrap();
    assert_eq!(k.lookup(Ecosystem::Npm, "deep", "1.0.0").len(), 1);
}

#[cfg(unix)]
#[test]
fn links_in_an_export_are_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("MAL-9.json"),
        record("MAL-9", "npm", "outside", &["1.0.0"], json!([])),
    )
    .unwrap();
    let export = tmp.path().join("export");
    std::fs::create_dir_all(export.join("osv")).unwrap();
    std::os::unix::fs::symlink(outside.path(), export.join("osv/linked")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("MAL-9.json"),
        export.join("osv/MAL-9.json"),
    )
    .unwrap();
    // A loop: followed, it would never end.
    std::os::unix::fs::symlink(&export, export.join("osv/loop")).unwrap();
    let k = KnownMalicious::load(&export, &Limits::default()).unwrap();
    assert!(k.is_empty());
    assert!(k.lookup(Ecosystem::Npm, "outside", "1.0.0").is_empty());
}
