//! `paddock verify` at scale: a 2,000-entry package-lock.json against a
//! Parquet store of 100,000 analysed releases written by the sink's own
//! writer, plus a single-file OSV export.
//!
//! `cargo bench -p paddock-verify --bench verify` prints the figures;
//! `VERIFY_RELEASES` and `VERIFY_PINS` change the sizes, `VERIFY_PER_FILE`
//! the rows per Parquet file (the sink writes one file per flush);
//! `VERIFY_KEEP=DIR` keeps the data in DIR, for
//! `paddock verify DIR/app --store DIR/parquet --osv DIR/osv`.

#![allow(clippy::disallowed_methods)] // a bench reads its own environment

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use base64::Engine as _;
use common::{write_store, Release};
use paddock_proto::v1::{Ecosystem, Severity};
use paddock_verify::{verify, Options, OsvExport, ParquetStore};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn sri(i: usize) -> String {
    let digest: Vec<u8> = (0..64).map(|b| (b as usize * 31 + i) as u8).collect();
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

#[tokio::main]
async fn main() {
    let releases = env_usize("VERIFY_RELEASES", 100_000);
    let pins = env_usize("VERIFY_PINS", 2_000).min(releases);
    let per_file = env_usize("VERIFY_PER_FILE", 1_000);
    // VERIFY_KEEP=DIR keeps the store, the lockfile and the export there,
    // to time the `paddock verify` command on them too.
    let dir = tempfile::tempdir().unwrap();
    let root = std::env::var_os("VERIFY_KEEP")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().to_owned());
    let store_dir = root.join("parquet");

    // The store: npm releases `pkg-<i>@1.<i % 7>.0`, one in 500 flagged.
    let started = Instant::now();
    let all: Vec<Release> = (0..releases)
        .map(|i| {
            let severity = if i % 500 == 0 {
                Severity::High
            } else {
                Severity::Info
            };
            let mut r = Release::new(
                Ecosystem::Npm,
                &format!("pkg-{i}"),
                &format!("1.{}.0", i % 7),
                severity,
            );
            if severity == Severity::High {
                r.reason = Some((
                    "threat.install-network",
                    "makes network requests at install time".into(),
                ));
            }
            r.sha256 = format!("{i:064x}");
            r.registry_digests = vec![("sha512".into(), sri(i))];
            r
        })
        .collect();
    write_store(&store_dir, &all, per_file).await;
    let files = walk(&store_dir);
    let bytes: u64 = files.iter().map(|p| p.metadata().unwrap().len()).sum();
    println!(
        "store: {releases} releases (verdict + static result each), {} files, {:.1} MB, written in {:.1} s",
        files.len(),
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    // The lockfile: every 50th release, so the pins are spread over the
    // whole store; a few not in it.
    let mut packages = serde_json::Map::new();
    packages.insert(
        "".into(),
        serde_json::json!({"name": "app", "version": "1.0.0"}),
    );
    let step = (releases / pins).max(1);
    for n in 0..pins {
        let i = n * step;
        let (name, version) = if n % 100 == 99 {
            (format!("unknown-{n}"), "0.0.1".to_owned())
        } else {
            (format!("pkg-{i}"), format!("1.{}.0", i % 7))
        };
        packages.insert(
            format!("node_modules/{name}"),
            serde_json::json!({"version": version, "resolved": format!("http://127.0.0.1/{name}/-/{name}-{version}.tgz"), "integrity": sri(i)}),
        );
    }
    let lock = serde_json::json!({"name": "app", "version": "1.0.0", "lockfileVersion": 3, "packages": packages});
    let app = root.join("app");
    std::fs::create_dir(&app).unwrap();
    std::fs::write(
        app.join("package-lock.json"),
        serde_json::to_string_pretty(&lock).unwrap(),
    )
    .unwrap();

    // The OSV check: one report file, for one of the pinned releases.
    let osv_dir = root.join("osv");
    std::fs::create_dir_all(&osv_dir).unwrap();
    std::fs::write(
        osv_dir.join("MAL-2026-1.json"),
        serde_json::json!({
            "id": "MAL-2026-1", "modified": "2026-12-01T00:00:00Z", "schema_version": "1.7.4",
            "summary": format!("Malicious code in pkg-{step} (npm)"),
            "affected": [{"package": {"ecosystem": "npm", "name": format!("pkg-{step}")}, "versions": [format!("1.{}.0", step % 7)]}],
        })
        .to_string(),
    )
    .unwrap();

    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let started = Instant::now();
        let store = ParquetStore::open(&store_dir).unwrap();
        let export = OsvExport::load(&osv_dir).unwrap();
        let v = verify(
            std::slice::from_ref(&app),
            &[&store],
            &[&export],
            &Options::default(),
        )
        .unwrap();
        times.push(started.elapsed().as_secs_f64());
        last = Some(v);
    }
    let v = last.unwrap();
    let counts = v.counts();
    times.sort_by(f64::total_cmp);
    println!(
        "verify: {} pins against {releases} releases and a one-file OSV export: median {:.3} s, min {:.3} s, max {:.3} s (5 runs); {:?}",
        v.checks.len(),
        times[2],
        times[0],
        times[4],
        counts
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}
