//! Real lockfiles from the real clients on this machine, written against
//! the fixture registry (`paddock_testkit::lockfiles::generate`) for a
//! dependency tree plus a trojaned release pinned exactly, then read with
//! `paddock_lockfile::read`: every release the client resolved is a pin at
//! its version, with the served artifact's digest where the format records
//! one (and none where it records something else), and every entry of the
//! client's own is a pin or a warning, counted independently of the
//! reader. A client that is not installed is skipped with a note on
//! stderr. The repository's own Cargo.lock is read whole too.

use std::path::Path;

use paddock_lockfile::{pypi_name, read, Limits, Lockfile};
use paddock_proto::v1::Ecosystem;
use paddock_testkit::lockfiles::{exactly, generate, Client, PROJECT};
use paddock_testkit::packages::{catalogue, dependency_tree, FixturePackage};
use paddock_testkit::registry::{artifacts_of, FixtureRegistry};
use paddock_testkit::updates::trojan_pair;
use sha2::Digest as _;

/// Transitive dependencies of the tree root locked here.
const COUNT: usize = 12;

fn root(eco: Ecosystem) -> &'static str {
    match eco {
        Ecosystem::Rubygems => "paddock_locked",
        Ecosystem::Packagist => "paddock/locked",
        _ => "paddock-locked",
    }
}

/// The ecosystem's usual requirement for 1.x.
fn caret(eco: Ecosystem) -> &'static str {
    match eco {
        Ecosystem::Npm => "^1.0.0",
        Ecosystem::Pypi => ">=1.0",
        Ecosystem::Rubygems => "~> 1.0",
        Ecosystem::Packagist => "^1.0",
        _ => "1",
    }
}

/// The catalogue, a tree per ecosystem, and both releases of each
/// ecosystem's trojaned package (so that "exactly 1.4.1" is a choice).
async fn registry() -> FixtureRegistry {
    let mut all = catalogue();
    for eco in paddock_proto::ecosystem::ALL {
        all.extend(dependency_tree(eco, root(eco), COUNT));
        let (honest, trojaned) = trojan_pair(eco);
        all.extend([honest, trojaned]);
    }
    FixtureRegistry::with_packages(all).await
}

/// Whether `client`'s lockfile records artifact digests (`text` is the
/// lockfile: Bundler writes CHECKSUMS from 2.5 on).
fn records_digests(client: Client, text: &str) -> bool {
    match client {
        // Its checksum is of yarn's own zip, not of the artifact.
        Client::YarnBerry => false,
        Client::Bundler => text.contains("\nCHECKSUMS\n"),
        _ => true,
    }
}

/// How many entries the client wrote, counted without the reader: every
/// release it locked, and what it lists that is not one (berry's
/// workspace), but not the project itself where the reader passes over it
/// without a word (npm's `""`, uv's virtual root, Cargo's path package).
fn client_entries(client: Client, text: &str) -> usize {
    match client {
        Client::Npm => {
            let lock: serde_json::Value = serde_json::from_str(text).unwrap();
            lock["packages"]
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| !k.is_empty())
                .count()
        }
        Client::Composer => {
            let lock: serde_json::Value = serde_json::from_str(text).unwrap();
            ["packages", "packages-dev"]
                .iter()
                .map(|k| lock[k].as_array().map_or(0, Vec::len))
                .sum()
        }
        // Keys indented by two under every top-level `packages:`.
        Client::Pnpm => {
            let mut in_packages = false;
            let mut count = 0;
            for line in text.lines() {
                if !line.starts_with(' ') && !line.trim().is_empty() {
                    in_packages = line == "packages:";
                } else if in_packages
                    && line.starts_with("  ")
                    && !line[2..].starts_with(' ')
                    && line.trim_end().ends_with(':')
                {
                    count += 1;
                }
            }
            count
        }
        // Unindented entry headers.
        Client::YarnClassic | Client::YarnBerry => text
            .lines()
            .filter(|l| !l.starts_with([' ', '#']) && l.ends_with(':'))
            .filter(|l| *l != "__metadata:")
            .count(),
        Client::PipCompile | Client::UvPipCompile => text
            .lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_alphanumeric()) && l.contains("=="))
            .count(),
        Client::UvLock | Client::Poetry | Client::Cargo => {
            let lock: toml::Table = toml::from_str(text).unwrap();
            let packages = lock["package"].as_array().unwrap();
            packages
                .iter()
                .filter(|p| match client {
                    Client::UvLock => !p["source"]
                        .as_table()
                        .unwrap()
                        .keys()
                        .any(|k| k == "virtual" || k == "editable"),
                    Client::Cargo => p.get("source").is_some(),
                    _ => true,
                })
                .count()
        }
        // The GEM section's specs: four spaces, then a name.
        Client::Bundler => {
            let mut in_gem = false;
            let mut count = 0;
            for line in text.lines() {
                if !line.starts_with(' ') && !line.is_empty() {
                    in_gem = line == "GEM";
                } else if in_gem && line.starts_with("    ") && !line[4..].starts_with(' ') {
                    count += 1;
                }
            }
            count
        }
    }
}

/// Every digest an artifact of `pkg` has, as (algorithm, hex).
fn artifact_digests(pkg: &FixturePackage) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for built in artifacts_of(pkg) {
        out.push(("sha1", paddock_testkit::hex_sha1(&built.bytes)));
        out.push(("sha256", hex::encode(sha2::Sha256::digest(&built.bytes))));
        out.push(("sha512", hex::encode(sha2::Sha512::digest(&built.bytes))));
    }
    out
}

/// Locks the tree and the trojaned release with `client`, reads the
/// lockfile, and checks it whole.
async fn locks_whole(client: Client) {
    let registry = registry().await;
    let dir = tempfile::tempdir().unwrap();
    let eco = client.ecosystem();
    let tree = dependency_tree(eco, root(eco), COUNT);
    let (_, trojaned) = trojan_pair(eco);
    let pinned = exactly(eco, &trojaned.version);
    let dependencies = [(root(eco), caret(eco)), (trojaned.name.as_str(), &pinned)];
    let Some(path) = generate(client, &registry, dir.path(), &dependencies).await else {
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let lock: Lockfile =
        read(&path, &Limits::default()).unwrap_or_else(|e| panic!("{client:?}: {e}\n{text}"));
    let expected: Vec<&FixturePackage> = tree.iter().chain([&trojaned]).collect();
    let with_digests = records_digests(client, &text);
    for pkg in &expected {
        let name = if eco == Ecosystem::Pypi {
            pypi_name(&pkg.name)
        } else {
            pkg.name.clone()
        };
        let pins: Vec<_> = lock.pins.iter().filter(|p| p.name == name).collect();
        assert_eq!(
            pins.len(),
            1,
            "{client:?}: {name} in {:#?}\n{text}",
            lock.pins
        );
        let pin = pins[0];
        // Packagist (the fixture's as the real one) lists the tags, `v1.0.0`.
        let version = if eco == Ecosystem::Packagist {
            format!("v{}", pkg.version)
        } else {
            pkg.version.clone()
        };
        assert_eq!(pin.version, version, "{client:?}: {name}");
        assert_eq!(pin.ecosystem, eco);
        let served = artifact_digests(pkg);
        if with_digests {
            assert!(
                !pin.digests.is_empty(),
                "{client:?}: {name} has no digest\n{text}"
            );
        } else {
            assert!(
                pin.digests.is_empty(),
                "{client:?}: {name}: {:?}",
                pin.digests
            );
        }
        for digest in &pin.digests {
            assert!(
                served
                    .iter()
                    .any(|(alg, hex)| *alg == digest.algorithm && *hex == digest.hex),
                "{client:?}: {name}: {digest:?} is not the digest of an artifact served"
            );
        }
    }
    let entries = client_entries(client, &text);
    let extra = usize::from(client == Client::YarnBerry);
    assert_eq!(
        entries,
        expected.len() + extra,
        "{client:?} locked other than the tree and the trojaned release\n{text}"
    );
    assert_eq!(
        lock.pins.len(),
        expected.len(),
        "{client:?}: {:#?}",
        lock.pins
    );
    assert_eq!(
        lock.pins.len() + lock.warnings.len(),
        entries,
        "{client:?}: an entry was dropped without a word: {:#?}",
        lock.warnings
    );
    if client == Client::YarnBerry {
        // Why berry pins carry no digest: its checksum is of its own zip.
        let served: Vec<(&str, String)> =
            expected.iter().flat_map(|p| artifact_digests(p)).collect();
        let checksums: Vec<&str> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("checksum: "))
            .map(|c| c.rsplit('/').next().unwrap_or(c))
            .collect();
        assert_eq!(checksums.len(), expected.len(), "{text}");
        for checksum in checksums {
            assert!(
                !served.iter().any(|(_, hex)| hex == checksum),
                "berry's checksum {checksum} is an artifact's digest after all"
            );
        }
        assert!(
            lock.warnings[0].contains(&format!(
                "{PROJECT} is not a registry release (workspace:.)"
            )),
            "{:?}",
            lock.warnings
        );
    }
}

#[tokio::test]
async fn npm_package_lock_is_read_whole() {
    locks_whole(Client::Npm).await;
}

#[tokio::test]
async fn pnpm_lock_is_read_whole() {
    locks_whole(Client::Pnpm).await;
}

#[tokio::test]
async fn yarn_classic_lock_is_read_whole() {
    locks_whole(Client::YarnClassic).await;
}

#[tokio::test]
async fn yarn_berry_lock_is_read_whole() {
    locks_whole(Client::YarnBerry).await;
}

#[tokio::test]
async fn pip_compile_requirements_are_read_whole() {
    locks_whole(Client::PipCompile).await;
}

#[tokio::test]
async fn uv_pip_compile_requirements_are_read_whole() {
    locks_whole(Client::UvPipCompile).await;
}

#[tokio::test]
async fn uv_lock_is_read_whole() {
    locks_whole(Client::UvLock).await;
}

#[tokio::test]
async fn poetry_lock_is_read_whole() {
    locks_whole(Client::Poetry).await;
}

#[tokio::test]
async fn bundler_gemfile_lock_is_read_whole() {
    locks_whole(Client::Bundler).await;
}

#[tokio::test]
async fn composer_lock_is_read_whole() {
    locks_whole(Client::Composer).await;
}

#[tokio::test]
async fn cargo_lock_is_read_whole() {
    locks_whole(Client::Cargo).await;
}

#[test]
fn every_client_writes_its_own_lockfile_format() {
    for client in Client::ALL {
        let format = paddock_lockfile::Format::of(Path::new(client.lockfile()))
            .unwrap_or_else(|| panic!("{client:?}"));
        assert_eq!(format.ecosystem(), client.ecosystem(), "{client:?}");
    }
}

#[test]
fn the_repositorys_own_cargo_lock_pins_every_registry_package() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    let text = std::fs::read_to_string(&path).unwrap();
    let lock = read(&path, &Limits::default()).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    let mut registry_packages = 0;
    for package in doc["package"].as_array().unwrap() {
        let Some(source) = package.get("source").and_then(|s| s.as_str()) else {
            continue;
        };
        assert!(source.starts_with("registry+"), "{package:?}");
        registry_packages += 1;
        let name = package["name"].as_str().unwrap();
        let version = package["version"].as_str().unwrap();
        let checksum = package["checksum"].as_str().unwrap();
        let pin = lock
            .pins
            .iter()
            .find(|p| p.name == name && p.version == version)
            .unwrap_or_else(|| panic!("{name} {version} is not pinned"));
        assert_eq!(pin.ecosystem, Ecosystem::CratesIo);
        assert_eq!(pin.digests.len(), 1);
        assert_eq!(pin.digests[0].algorithm, "sha256");
        assert_eq!(pin.digests[0].hex, checksum);
    }
    assert!(registry_packages > 100, "{registry_packages}");
    assert_eq!(lock.pins.len(), registry_packages);
    assert!(lock.warnings.is_empty(), "{:?}", lock.warnings);
}
