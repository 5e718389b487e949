//! Fixture packages with dependencies: the artifacts declare them, the
//! fixture registry lists them in each ecosystem's real format, and the
//! real package managers found on this machine (npm, pip, gem, composer,
//! cargo) install a [`dependency_tree`] root with all its dependencies from
//! the fixture registry over loopback. A package manager that is not
//! installed is skipped with a note on stderr.

use std::io::Read as _;

use paddock_proto::v1::Ecosystem;
use paddock_testkit::clients::{have, missing, run};
use paddock_testkit::packages::{self, catalogue, dependency_tree, FixturePackage};
use paddock_testkit::registry::FixtureRegistry;
use serde_json::Value;

/// Transitive dependencies of every tree root here.
const COUNT: usize = 25;

fn tree(eco: Ecosystem) -> Vec<FixturePackage> {
    let root = match eco {
        Ecosystem::Rubygems => "paddock_tree",
        Ecosystem::Packagist => "paddock/tree",
        _ => "paddock-tree",
    };
    dependency_tree(eco, root, COUNT)
}

/// The catalogue plus one tree per ecosystem.
async fn registry() -> FixtureRegistry {
    let mut all = catalogue();
    for eco in paddock_proto::ecosystem::ALL {
        all.extend(tree(eco));
    }
    // A requirement with two constraints.
    all.push(FixturePackage {
        eco: Ecosystem::Rubygems,
        name: "paddock_ranged".into(),
        version: "0.1.0".into(),
        published: "2026-11-15T12:00:00Z".into(),
        flavour: packages::Flavour::Honest,
        dependencies: vec![("paddock_honest".into(), ">= 1.0, < 2".into())],
    });
    FixtureRegistry::with_packages(all).await
}

/// `GET origin + path`: (status, body).
async fn get(registry: &FixtureRegistry, path: &str) -> (u16, Vec<u8>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let origin = registry.origin();
    let host = origin.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    (status, raw[split + 4..].to_vec())
}

async fn get_ok(registry: &FixtureRegistry, path: &str) -> Vec<u8> {
    let (status, body) = get(registry, path).await;
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    body
}

async fn get_json(registry: &FixtureRegistry, path: &str) -> Value {
    serde_json::from_slice(&get_ok(registry, path).await).unwrap()
}

/// One file of a .tar.gz.
fn tar_gz_file(bytes: &[u8], path: &str) -> String {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().to_str() == Some(path) {
            let mut out = String::new();
            entry.read_to_string(&mut out).unwrap();
            return out;
        }
    }
    panic!("{path} is not in the archive")
}

/// One file of a .gem (a tar of metadata.gz and data.tar.gz): the gzip
/// member's text.
fn gem_member(bytes: &[u8], member: &str) -> Vec<u8> {
    let mut archive = tar::Archive::new(bytes);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().to_str() == Some(member) {
            let mut out = Vec::new();
            entry.read_to_end(&mut out).unwrap();
            return out;
        }
    }
    panic!("{member} is not in the gem")
}

fn zip_file(bytes: &[u8], path: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = String::new();
    archive
        .by_name(path)
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    out
}

#[test]
fn a_tree_has_count_distinct_dependencies_all_in_the_tree() {
    for eco in paddock_proto::ecosystem::ALL {
        for count in [0, 1, 2, 3, 20, 25, 30] {
            let root = if eco == Ecosystem::Packagist {
                "paddock/t"
            } else {
                "paddock_t"
            };
            let tree = dependency_tree(eco, root, count);
            assert_eq!(tree.len(), count + 1);
            assert_eq!(tree[0].name, root);
            assert_eq!(tree[0].version, "1.0.0");
            let mut names: Vec<&str> = tree.iter().map(|p| p.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), count + 1, "distinct names");
            // Every dependency is a package of the tree, and every package
            // but the root is someone's dependency: the root reaches all.
            let mut reached = vec![tree[0].name.clone()];
            let mut i = 0;
            while i < reached.len() {
                let pkg = tree.iter().find(|p| p.name == reached[i]).unwrap();
                for (dep, _) in &pkg.dependencies {
                    assert!(tree.iter().any(|p| &p.name == dep), "{dep}");
                    if !reached.contains(dep) {
                        reached.push(dep.clone());
                    }
                }
                i += 1;
            }
            assert_eq!(reached.len(), count + 1);
        }
    }
    let npm = dependency_tree(Ecosystem::Npm, "paddock-tree", 25);
    assert_eq!(npm[0].dependencies.len(), 5);
    assert_eq!(
        npm[0].dependencies[0],
        ("paddock-tree-dep1".into(), "^1.0.0".into())
    );
    assert_eq!(npm[1].dependencies.len(), 4);
    assert_eq!(npm[1].dependencies[0].0, "paddock-tree-dep1-1");
    assert_eq!(
        dependency_tree(Ecosystem::Rubygems, "paddock_tree", 2)[1].name,
        "paddock_tree_dep1"
    );
}

#[test]
fn artifacts_declare_dependencies_reproducibly() {
    for eco in paddock_proto::ecosystem::ALL {
        for pkg in tree(eco) {
            assert_eq!(packages::build(&pkg).bytes, packages::build(&pkg).bytes);
        }
    }
    let npm = &tree(Ecosystem::Npm)[0];
    let package_json: Value = serde_json::from_str(&tar_gz_file(
        &packages::build(npm).bytes,
        "package/package.json",
    ))
    .unwrap();
    assert_eq!(package_json["dependencies"]["paddock-tree-dep1"], "^1.0.0");
    assert_eq!(package_json["dependencies"].as_object().unwrap().len(), 5);

    let pypi = &tree(Ecosystem::Pypi)[0];
    let sdist = packages::build(pypi).bytes;
    let setup = tar_gz_file(&sdist, "paddock_tree-1.0.0/setup.py");
    assert!(
        setup.contains("install_requires=['paddock-tree-dep1>=1.0', 'paddock-tree-dep2>=1.0'"),
        "{setup}"
    );
    let pkg_info = tar_gz_file(&sdist, "paddock_tree-1.0.0/PKG-INFO");
    assert!(
        pkg_info.contains("Requires-Dist: paddock-tree-dep5>=1.0\n"),
        "{pkg_info}"
    );
    let metadata = zip_file(
        &packages::wheel(pypi).bytes,
        "paddock_tree-1.0.0.dist-info/METADATA",
    );
    assert_eq!(metadata.matches("Requires-Dist: ").count(), 5, "{metadata}");
    assert!(metadata.contains("Requires-Dist: paddock-tree-dep1>=1.0\n"));
    let record = zip_file(
        &packages::wheel(pypi).bytes,
        "paddock_tree-1.0.0.dist-info/RECORD",
    );
    assert!(
        record.contains("paddock_tree-1.0.0.dist-info/METADATA,sha256="),
        "{record}"
    );

    let gem = &tree(Ecosystem::Rubygems)[0];
    let metadata_gz = gem_member(&packages::build(gem).bytes, "metadata.gz");
    let mut yaml = String::new();
    flate2::read::GzDecoder::new(metadata_gz.as_slice())
        .read_to_string(&mut yaml)
        .unwrap();
    assert!(
        yaml.contains("dependencies:\n- !ruby/object:Gem::Dependency\n  name: paddock_tree_dep1\n  requirement: !ruby/object:Gem::Requirement\n    requirements:\n    - - \"~>\"\n      - !ruby/object:Gem::Version\n        version: '1.0'\n  type: :runtime\n"),
        "{yaml}"
    );

    let composer = &tree(Ecosystem::Packagist)[0];
    let composer_json: Value = serde_json::from_str(&zip_file(
        &packages::build(composer).bytes,
        &format!(
            "paddock-tree-{}/composer.json",
            packages::reference(composer)
        ),
    ))
    .unwrap();
    assert_eq!(composer_json["require"]["paddock/tree-dep1"], "^1.0");

    let krate = &tree(Ecosystem::CratesIo)[0];
    let manifest = tar_gz_file(
        &packages::build(krate).bytes,
        "paddock-tree-1.0.0/Cargo.toml",
    );
    assert!(
        manifest.contains("\n[dependencies]\npaddock-tree-dep1 = \"1\"\n"),
        "{manifest}"
    );
}

#[tokio::test]
async fn the_registry_lists_dependencies_in_every_format() {
    let registry = registry().await;

    // npm packument.
    let doc = get_json(&registry, "/npm/paddock-tree").await;
    let deps = doc["versions"]["1.0.0"]["dependencies"]
        .as_object()
        .unwrap();
    assert_eq!(deps.len(), 5);
    assert_eq!(deps["paddock-tree-dep3"], "^1.0.0");
    let leaf = get_json(&registry, "/npm/paddock-tree-dep3-2").await;
    assert!(leaf["versions"]["1.0.0"].get("dependencies").is_none());
    let honest = get_json(&registry, "/npm/paddock-honest").await;
    assert!(honest["versions"]["1.0.0"].get("dependencies").is_none());

    // Packagist: packages.json, p2 `require`.
    let repo = get_json(&registry, "/packagist/packages.json").await;
    assert_eq!(repo["metadata-url"], "/packagist/p2/%package%.json");
    let p2 = get_json(&registry, "/packagist/p2/paddock/tree.json").await;
    let entry = &p2["packages"]["paddock/tree"][0];
    assert_eq!(entry["name"], "paddock/tree");
    assert_eq!(entry["require"]["paddock/tree-dep2"], "^1.0");
    assert_eq!(entry["require"].as_object().unwrap().len(), 5);
    // Minified as before for releases without dependencies.
    let honest = get_json(&registry, "/packagist/p2/paddock/honest.json").await;
    let list = honest["packages"]["paddock/honest"].as_array().unwrap();
    assert_eq!(list[0]["version"], "v1.1.0");
    assert_eq!(list[0]["name"], "paddock/honest");
    assert!(list[1].get("name").is_none() && list[1].get("require").is_none());
    assert_eq!(list[1]["version"], "v1.0.0");

    // crates.io sparse index.
    let body = get_ok(&registry, "/crates/index/pa/dd/paddock-tree").await;
    let line: Value = serde_json::from_slice(body.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(line["deps"].as_array().unwrap().len(), 5);
    assert_eq!(
        line["deps"][0],
        serde_json::json!({"name": "paddock-tree-dep1", "req": "^1", "features": [], "optional": false, "default_features": true, "target": null, "kind": "normal"})
    );
    let honest = get_ok(&registry, "/crates/index/pa/dd/paddock-honest").await;
    let line: Value =
        serde_json::from_slice(honest.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(line["deps"], serde_json::json!([]));

    // RubyGems compact index.
    let versions = String::from_utf8(get_ok(&registry, "/rubygems/versions").await).unwrap();
    let mut lines = versions.lines();
    assert!(lines.next().unwrap().starts_with("created_at: 2026-11-"));
    assert_eq!(lines.next(), Some("---"));
    let rest: Vec<&str> = lines.collect();
    let mut names: Vec<&str> = rest.iter().map(|l| l.split(' ').next().unwrap()).collect();
    let sorted = {
        let mut s = names.clone();
        s.sort_unstable();
        s
    };
    assert_eq!(names, sorted, "sorted by name");
    names.dedup();
    assert_eq!(names.len(), rest.len(), "one line per gem");
    let honest_line = rest
        .iter()
        .find(|l| l.starts_with("paddock_honest "))
        .unwrap();
    let fields: Vec<&str> = honest_line.split(' ').collect();
    assert_eq!(fields[1], "1.0.0,1.1.0");
    assert!(fields[2].len() == 32 && fields[2].bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(rest.iter().any(|l| l.starts_with("paddock_tree 1.0.0 ")));

    let info = String::from_utf8(get_ok(&registry, "/rubygems/info/paddock_tree").await).unwrap();
    let gem = packages::build(&tree(Ecosystem::Rubygems)[0]);
    assert_eq!(
        info,
        format!(
            "---\n1.0.0 paddock_tree_dep1:~> 1.0,paddock_tree_dep2:~> 1.0,paddock_tree_dep3:~> 1.0,paddock_tree_dep4:~> 1.0,paddock_tree_dep5:~> 1.0|checksum:{}\n",
            paddock_registry::digest::sha256_hex(&gem.bytes)
        )
    );
    let info = String::from_utf8(get_ok(&registry, "/rubygems/info/paddock_honest").await).unwrap();
    let lines: Vec<&str> = info.lines().collect();
    assert_eq!(lines[0], "---");
    assert!(lines[1].starts_with("1.0.0 |checksum:"), "{info}");
    assert!(lines[2].starts_with("1.1.0 |checksum:"), "{info}");
    assert_eq!(get(&registry, "/rubygems/info/nope").await.0, 404);
    let info = String::from_utf8(get_ok(&registry, "/rubygems/info/paddock_ranged").await).unwrap();
    assert!(
        info.starts_with("---\n0.1.0 paddock_honest:< 2&>= 1.0|checksum:"),
        "{info}"
    );
    let names = String::from_utf8(get_ok(&registry, "/rubygems/names").await).unwrap();
    assert!(names.starts_with("---\n") && names.contains("\npaddock_tree\n"));
    assert_eq!(get(&registry, "/rubygems/").await.0, 200);
    let rz = get_ok(
        &registry,
        "/rubygems/quick/Marshal.4.8/paddock_tree-1.0.0.gemspec.rz",
    )
    .await;
    let mut marshal = Vec::new();
    flate2::read::ZlibDecoder::new(rz.as_slice())
        .read_to_end(&mut marshal)
        .unwrap();
    assert!(marshal.starts_with(b"\x04\x08u:\x17Gem::Specification"));

    // PyPI: pip reads dependencies from the wheel the simple page lists.
    let page = String::from_utf8(get_ok(&registry, "/pypi/simple/paddock-tree/").await).unwrap();
    assert!(
        page.contains("paddock_tree-1.0.0-py3-none-any.whl"),
        "{page}"
    );
    let wheel = get_ok(&registry, "/files/pypi/paddock_tree-1.0.0-py3-none-any.whl").await;
    let metadata = zip_file(&wheel, "paddock_tree-1.0.0.dist-info/METADATA");
    assert!(
        metadata.contains("Requires-Dist: paddock-tree-dep4>=1.0\n"),
        "{metadata}"
    );
}

/// Asserts that every package of `tree` has its directory `dir_of(pkg)`.
fn all_installed(tree: &[FixturePackage], dir_of: impl Fn(&FixturePackage) -> std::path::PathBuf) {
    for pkg in tree {
        let dir = dir_of(pkg);
        assert!(
            dir.is_dir(),
            "{} is not installed ({})",
            pkg.name,
            dir.display()
        );
    }
}

#[tokio::test]
async fn npm_installs_a_tree_from_the_fixture_registry() {
    if missing("npm") {
        return;
    }
    let registry = registry().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("npmrc"), "").unwrap();
    let tree = tree(Ecosystem::Npm);
    run(
        d,
        "npm",
        &[
            "install",
            "--registry",
            &registry.url(Ecosystem::Npm),
            "--prefix",
            &d.join("project").display().to_string(),
            "--cache",
            &d.join("cache").display().to_string(),
            "--userconfig",
            &d.join("npmrc").display().to_string(),
            "--no-audit",
            "--no-fund",
            "--no-update-notifier",
            "--loglevel",
            "warn",
            &tree[0].name,
        ],
        &[],
    )
    .await;
    all_installed(&tree, |p| d.join("project/node_modules").join(&p.name));
    let lock: Value =
        serde_json::from_slice(&std::fs::read(d.join("project/package-lock.json")).unwrap())
            .unwrap();
    assert_eq!(
        lock["packages"]["node_modules/paddock-tree"]["dependencies"]["paddock-tree-dep1"],
        "^1.0.0"
    );
}

#[tokio::test]
async fn pip_installs_a_tree_from_the_fixture_registry() {
    if missing("pip") {
        return;
    }
    let registry = registry().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tree = tree(Ecosystem::Pypi);
    run(
        d,
        "pip",
        &[
            "install",
            "--isolated",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--no-input",
            "--index-url",
            &registry.url(Ecosystem::Pypi),
            "--target",
            &d.join("target").display().to_string(),
            &tree[0].name,
        ],
        &[],
    )
    .await;
    all_installed(&tree, |p| d.join("target").join(p.name.replace('-', "_")));
    all_installed(&tree, |p| {
        d.join("target")
            .join(format!("{}-1.0.0.dist-info", p.name.replace('-', "_")))
    });
}

#[tokio::test]
async fn gem_installs_a_tree_from_the_fixture_registry() {
    if missing("gem") {
        return;
    }
    let registry = registry().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tree = tree(Ecosystem::Rubygems);
    run(
        d,
        "gem",
        &[
            "install",
            "--clear-sources",
            "--source",
            &registry.url(Ecosystem::Rubygems),
            "--install-dir",
            &d.join("gems").display().to_string(),
            "--no-document",
            &tree[0].name,
        ],
        &[("GEM_SPEC_CACHE", d.join("specs").display().to_string())],
    )
    .await;
    all_installed(&tree, |p| {
        d.join("gems/gems").join(format!("{}-1.0.0", p.name))
    });
    let spec =
        std::fs::read_to_string(d.join("gems/specifications/paddock_tree-1.0.0.gemspec")).unwrap();
    assert!(
        spec.contains("add_runtime_dependency(%q<paddock_tree_dep1>.freeze, [\"~> 1.0\"])"),
        "{spec}"
    );
    if have("ruby") {
        // The quick gemspec loads as the Gem::Specification of the gem.
        let rz = d.join("paddock_tree.gemspec.rz");
        std::fs::write(
            &rz,
            get_ok(
                &registry,
                "/rubygems/quick/Marshal.4.8/paddock_tree-1.0.0.gemspec.rz",
            )
            .await,
        )
        .unwrap();
        let out = run(
            d,
            "ruby",
            &[
                "-rrubygems",
                "-rzlib",
                "-e",
                "s = Marshal.load(Zlib::Inflate.inflate(File.binread(ARGV[0]))); puts s.full_name, s.date.utc.strftime('%F'), s.dependencies.map(&:to_s)",
                &rz.display().to_string(),
            ],
            &[],
        )
        .await;
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "paddock_tree-1.0.0\n2026-11-14\n\
             paddock_tree_dep1 (~> 1.0)\npaddock_tree_dep2 (~> 1.0)\npaddock_tree_dep3 (~> 1.0)\n\
             paddock_tree_dep4 (~> 1.0)\npaddock_tree_dep5 (~> 1.0)\n"
        );
    }
    // Through the compact index, not the full index.
    let requests = registry.requests();
    assert!(requests.iter().any(|r| r == "/rubygems/info/paddock_tree"));
    assert!(!requests.iter().any(|r| r.contains("specs.4.8")));
}

#[tokio::test]
async fn composer_installs_a_tree_from_the_fixture_registry() {
    if missing("composer") || missing("php") {
        return;
    }
    let registry = registry().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tree = tree(Ecosystem::Packagist);
    let project = d.join("project");
    std::fs::create_dir_all(&project).unwrap();
    let manifest = serde_json::json!({
        "repositories": [
            {"type": "composer", "url": registry.url(Ecosystem::Packagist)},
            {"packagist": false},
        ],
        "require": {(tree[0].name.clone()): "^1.0"},
        "config": {"secure-http": false},
    });
    std::fs::write(project.join("composer.json"), manifest.to_string()).unwrap();
    run(
        &project,
        "composer",
        &["update", "--no-interaction", "--no-progress", "--no-audit"],
        &[
            (
                "COMPOSER_HOME",
                d.join("composer-home").display().to_string(),
            ),
            (
                "COMPOSER_CACHE_DIR",
                d.join("composer-cache").display().to_string(),
            ),
        ],
    )
    .await;
    all_installed(&tree, |p| project.join("vendor").join(&p.name));
    assert!(project.join("vendor/paddock/tree/composer.json").is_file());
}

#[tokio::test]
async fn cargo_fetches_a_tree_from_the_fixture_registry() {
    // The cargo running these tests.
    let Some(cargo) = std::env::var_os("CARGO") else {
        eprintln!("skipped: not run by cargo");
        return;
    };
    let registry = registry().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tree = tree(Ecosystem::CratesIo);
    let home = d.join("cargo-home");
    let project = d.join("project");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join("config.toml"),
        format!(
            "[source.crates-io]\nreplace-with = \"fixture\"\n\n[source.fixture]\nregistry = \"sparse+{}\"\n",
            registry.url(Ecosystem::CratesIo)
        ),
    )
    .unwrap();
    std::fs::write(
        project.join("Cargo.toml"),
        format!(
            "[package]\nname = \"consumer\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[dependencies]\n{} = \"1\"\n",
            tree[0].name
        ),
    )
    .unwrap();
    std::fs::write(project.join("src/lib.rs"), "").unwrap();
    let cargo = cargo.to_string_lossy().into_owned();
    let env = [
        ("CARGO_HOME", home.display().to_string()),
        ("CARGO_TARGET_DIR", d.join("target").display().to_string()),
        // rustup (for the rustc cargo asks about the host) lives there.
        (
            "HOME",
            std::env::var_os("HOME")
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
        ),
    ];
    run(&project, &cargo, &["fetch"], &env).await;
    // The downloaded manifests agree with the index: an offline
    // `cargo metadata` loads every package.
    let out = run(
        &project,
        &cargo,
        &["metadata", "--format-version", "1", "--offline"],
        &env,
    )
    .await;
    let metadata: Value = serde_json::from_slice(&out).unwrap();
    let names: Vec<&str> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for pkg in &tree {
        assert!(
            names.contains(&pkg.name.as_str()),
            "{} missing: {names:?}",
            pkg.name
        );
    }
    let root = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "paddock-tree")
        .unwrap();
    assert_eq!(root["dependencies"].as_array().unwrap().len(), 5);
}
