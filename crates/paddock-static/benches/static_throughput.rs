//! Static analysis throughput against a bare tree-sitter parse.
//!
//! `cargo bench -p paddock-static --bench static_throughput` downloads a
//! corpus of popular real packages through the registries configured or
//! discovered on this machine (cached under target/bench-corpus; the
//! fixture packages are used when none is reachable), then prints, over
//! the same source files:
//!
//! - the bare parse (tree-sitter only, one thread),
//! - the full analysis (facts, parse, extraction, signals, metadata,
//!   rules) on one thread and on every core,
//!
//! in MB/s of parsed source, and the ratio of full analysis to bare parse.

use std::path::{Path, PathBuf};
use std::time::Instant;

use paddock_proto::v1::{Ecosystem, Language, PackageRef};
use paddock_registry::discover::{discover, SystemProbe};
use paddock_registry::{RegistriesConfig, RegistryClient};
use paddock_static::{analyze_tree, facts, parse, StaticConfig};

const CORPUS: &[(Ecosystem, &str)] = &[
    (Ecosystem::Npm, "lodash@4.17.21"),
    (Ecosystem::Npm, "express@4.19.2"),
    (Ecosystem::Npm, "axios@1.7.2"),
    (Ecosystem::Npm, "jquery@3.7.1"),
    (Ecosystem::Pypi, "requests@2.32.3"),
    (Ecosystem::Pypi, "urllib3@2.2.2"),
    (Ecosystem::CratesIo, "serde@1.0.203"),
];

#[tokio::main]
async fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-corpus");
    let packages = corpus(&root).await;
    let mut files: Vec<(Language, String, Vec<u8>)> = Vec::new();
    for dir in &packages {
        collect(dir, dir, &mut files);
    }
    let bytes: usize = files.iter().map(|f| f.2.len()).sum();
    let mb = bytes as f64 / 1e6;
    println!(
        "corpus: {} packages, {} source files, {mb:.1} MB",
        packages.len(),
        files.len()
    );

    let best = |f: &dyn Fn()| {
        (0..3)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min)
    };
    let bare = best(&|| {
        for (lang, path, src) in &files {
            parse::parse_only(*lang, path, src);
        }
    });
    println!("bare tree-sitter parse, 1 thread:  {:6.1} MB/s", mb / bare);

    for (label, threads) in [
        ("full analysis, 1 thread:          ", 1),
        ("full analysis, all cores:         ", 0),
    ] {
        let config = StaticConfig {
            threads,
            ..Default::default()
        };
        let time = best(&|| {
            for dir in &packages {
                analyze_tree(dir, PackageRef::default(), None, &config);
            }
        });
        println!(
            "{label} {:6.1} MB/s  ({:.2}x the bare parse time)",
            mb / time,
            time / bare
        );
    }
    println!(
        "cores: {}",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(Language, String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            collect(root, &path, out);
            continue;
        }
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let lang = facts::language_of(&rel);
        if lang == Language::Unspecified {
            continue;
        }
        let src = std::fs::read(&path).unwrap();
        if (src.len() as u64) <= StaticConfig::default().max_parse_bytes {
            out.push((lang, rel, src));
        }
    }
}

async fn corpus(root: &Path) -> Vec<PathBuf> {
    let mut config = RegistriesConfig::default();
    #[allow(clippy::disallowed_methods)] // a bench binary reads its own environment
    let env: Vec<(String, String)> = std::env::vars().collect();
    discover(&mut config, &SystemProbe::new(env));
    let mut dirs = Vec::new();
    for (eco, spec) in CORPUS {
        let (name, version) = spec.rsplit_once('@').unwrap();
        let dir = root.join(format!("{}-{}", name, version));
        if !dir.join("package").is_dir() {
            let Ok(client) = RegistryClient::new(*eco, &config) else {
                continue;
            };
            let Ok(release) = client.resolve(name, Some(version)).await else {
                continue;
            };
            let artifact = &release.artifacts[release.selected_artifact as usize];
            let Ok(downloaded) = client.download(artifact).await else {
                continue;
            };
            if client.extract_into(&downloaded, &dir).is_err() {
                continue;
            }
        }
        dirs.push(dir.join("package"));
    }
    if dirs.is_empty() {
        println!("no registry reachable: using the fixture packages");
        let dir = root.join("fixtures");
        for pkg in paddock_testkit::packages::catalogue() {
            for (path, body) in paddock_testkit::packages::sources(&pkg) {
                let p = dir
                    .join(paddock_proto::ecosystem::subject_token(pkg.eco))
                    .join(&pkg.version)
                    .join(path);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, body).unwrap();
            }
        }
        dirs.push(dir);
    }
    dirs
}
