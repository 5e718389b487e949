//! Fixture packages: small honest packages and packages with an install
//! hook, for every ecosystem, written here and built into real artifacts
//! reproducibly (fixed times, modes and order: the same bytes every build).
//!
//! `cargo run -p paddock-testkit --bin build-fixtures -- <dir>` writes them
//! to a directory; the fixture registry serves the same bytes.

use std::io::Write;

use flate2::{Compression, GzBuilder};
use paddock_proto::v1::Ecosystem;
use paddock_registry::digest::sha256_hex;

/// What a fixture package is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Does nothing surprising.
    Honest,
    /// Runs code at install time (npm postinstall, setup.py cmdclass, gem
    /// native extension, composer script, build.rs).
    InstallHook,
    /// The dynamic-analysis probe: at install time (the ecosystem's hook)
    /// and again at import time it runs a command, writes a file outside
    /// the package, reads the SSH bait, deletes a file, connects to a
    /// documentation address and looks up a name. See [`probe_package`].
    Probe,
    /// An honest install hook with noise that changes every release (temp
    /// names, versions in arguments, shifted lines). See
    /// [`crate::updates`].
    Builder,
    /// A trojaned release: an install hook that downloads and runs a
    /// payload and posts the environment. See [`crate::updates`].
    Trojan,
}

/// One release of a fixture package.
#[derive(Debug, Clone)]
pub struct FixturePackage {
    pub eco: Ecosystem,
    pub name: String,
    pub version: String,
    /// RFC 3339 publish time.
    pub published: String,
    pub flavour: Flavour,
    /// Runtime dependencies: (name, version requirement in the
    /// ecosystem's own syntax: npm `^1.0.0`, PyPI `>=1.0`, RubyGems
    /// `~> 1.0`, Composer `^1.0`, Cargo `1`). The artifacts declare them
    /// (package.json, setup.py/PKG-INFO/METADATA, the gemspec, composer.json,
    /// Cargo.toml) and the fixture registry lists them in its metadata.
    /// Probe packages ignore them.
    pub dependencies: Vec<(String, String)>,
}

/// A built artifact.
#[derive(Debug, Clone)]
pub struct Built {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// Every fixture release: per ecosystem an honest package in two versions
/// (so that "latest" and "pinned" differ) and one with an install hook.
pub fn catalogue() -> Vec<FixturePackage> {
    let mut out = Vec::new();
    let names: [(Ecosystem, &str, &str); 5] = [
        (Ecosystem::Pypi, "paddock-honest", "paddock-hook"),
        (Ecosystem::Npm, "paddock-honest", "@paddock/hook"),
        (Ecosystem::Rubygems, "paddock_honest", "paddock_hook"),
        (Ecosystem::Packagist, "paddock/honest", "paddock/hook"),
        (Ecosystem::CratesIo, "paddock-honest", "paddock-hook"),
    ];
    for (eco, honest, hook) in names {
        for (version, day) in [("1.0.0", 10), ("1.1.0", 11)] {
            out.push(FixturePackage {
                eco,
                name: honest.into(),
                version: version.into(),
                published: format!("2026-11-{day}T12:00:00Z"),
                flavour: Flavour::Honest,
                dependencies: Vec::new(),
            });
        }
        out.push(FixturePackage {
            eco,
            name: hook.into(),
            version: "2.0.0".into(),
            published: "2026-11-12T12:00:00Z".into(),
            flavour: Flavour::InstallHook,
            dependencies: Vec::new(),
        });
    }
    out
}

/// The files of a package, before packing.
pub fn sources(pkg: &FixturePackage) -> Vec<(String, String)> {
    if pkg.flavour == Flavour::Probe {
        return crate::probe::sources(pkg);
    }
    if matches!(pkg.flavour, Flavour::Builder | Flavour::Trojan) {
        return crate::updates::sources(pkg);
    }
    let hook = pkg.flavour == Flavour::InstallHook;
    let v = &pkg.version;
    match pkg.eco {
        Ecosystem::Npm => {
            let scripts = if hook {
                r#","scripts":{"postinstall":"node install.js"}"#
            } else {
                ""
            };
            let deps = if pkg.dependencies.is_empty() {
                String::new()
            } else {
                format!(r#","dependencies":{}"#, npm_dependencies(pkg))
            };
            let mut files = vec![
                (
                    "package/package.json".into(),
                    format!(
                        r#"{{"name":"{}","version":"{v}","main":"index.js","license":"MIT"{deps}{scripts}}}"#,
                        pkg.name
                    ),
                ),
                (
                    "package/index.js".into(),
                    "module.exports = function pad(s, n) { return String(s).padStart(n); };\n"
                        .into(),
                ),
            ];
            if hook {
                files.push((
                    "package/install.js".into(),
                    "const { execSync } = require('child_process');\nexecSync('id > /tmp/paddock-hook-ran');\n".into(),
                ));
            }
            files
        }
        Ecosystem::Pypi => {
            let module = pkg.name.replace('-', "_");
            let root = format!("{module}-{v}");
            let requires = if pkg.dependencies.is_empty() {
                String::new()
            } else {
                let list: Vec<String> = pypi_requirements(pkg)
                    .iter()
                    .map(|r| format!("'{r}'"))
                    .collect();
                format!(", install_requires=[{}]", list.join(", "))
            };
            let setup = if hook {
                format!(
                    "import os\nfrom setuptools import setup\nfrom setuptools.command.install import install\n\n\
                     class Hook(install):\n    def run(self):\n        os.system('id > /tmp/paddock-hook-ran')\n        install.run(self)\n\n\
                     setup(name='{}', version='{v}', packages=['{module}']{requires}, cmdclass={{'install': Hook}})\n",
                    pkg.name
                )
            } else {
                format!("from setuptools import setup\n\nsetup(name='{}', version='{v}', packages=['{module}']{requires})\n", pkg.name)
            };
            vec![
                (format!("{root}/PKG-INFO"), pypi_metadata(pkg)),
                (format!("{root}/setup.py"), setup),
                (
                    format!("{root}/{module}/__init__.py"),
                    "def pad(s, n):\n    return str(s).rjust(n)\n".into(),
                ),
            ]
        }
        Ecosystem::Rubygems => {
            let mut files = vec![(
                format!("lib/{}.rb", pkg.name),
                "module Pad\n  def self.pad(s, n) = s.to_s.rjust(n)\nend\n".into(),
            )];
            if hook {
                files.push(("ext/extconf.rb".into(), "system('id > /tmp/paddock-hook-ran')\nrequire 'mkmf'\ncreate_makefile('hook')\n".into()));
            }
            files
        }
        Ecosystem::Packagist => {
            let scripts = if hook {
                r#","scripts":{"post-install-cmd":["php -r \"system('id > /tmp/paddock-hook-ran');\""]}"#
            } else {
                ""
            };
            let root = format!("{}-{}", pkg.name.replace('/', "-"), reference(pkg));
            let require = if pkg.dependencies.is_empty() {
                String::new()
            } else {
                format!(r#","require":{}"#, npm_dependencies(pkg))
            };
            vec![
                (
                    format!("{root}/composer.json"),
                    format!(r#"{{"name":"{}","type":"library","license":"MIT"{require},"autoload":{{"psr-4":{{"Paddock\\":"src/"}}}}{scripts}}}"#, pkg.name),
                ),
                (format!("{root}/src/Pad.php"), "<?php\nnamespace Paddock;\nfunction pad($s, $n) { return str_pad($s, $n, ' ', STR_PAD_LEFT); }\n".into()),
            ]
        }
        Ecosystem::CratesIo | Ecosystem::Unspecified => {
            let root = format!("{}-{v}", pkg.name);
            let build = if hook { "build = \"build.rs\"\n" } else { "" };
            let mut deps = String::new();
            if !pkg.dependencies.is_empty() {
                deps.push_str("\n[dependencies]\n");
                for (name, req) in &pkg.dependencies {
                    deps.push_str(&format!(
                        "{name} = {}\n",
                        serde_json::Value::from(req.as_str())
                    ));
                }
            }
            let mut files = vec![
                (
                    format!("{root}/Cargo.toml"),
                    format!("[package]\nname = \"{}\"\nversion = \"{v}\"\nedition = \"2021\"\nlicense = \"MIT\"\n{build}{deps}", pkg.name),
                ),
                (format!("{root}/src/lib.rs"), "pub fn pad(s: &str, n: usize) -> String {\n    format!(\"{s:>n$}\")\n}\n".into()),
            ];
            if hook {
                files.push((
                    format!("{root}/build.rs"),
                    "fn main() {\n    let _ = std::process::Command::new(\"sh\").args([\"-c\", \"id > /tmp/paddock-hook-ran\"]).status();\n}\n".into(),
                ));
            }
            files
        }
    }
}

/// The Composer dist reference (a commit id) of a Packagist fixture.
pub fn reference(pkg: &FixturePackage) -> String {
    crate::hex_sha1(format!("{}@{}", pkg.name, pkg.version).as_bytes())
}

/// The file name of [`build`]'s artifact, without building it.
pub fn artifact_filename(pkg: &FixturePackage) -> String {
    let v = &pkg.version;
    match pkg.eco {
        Ecosystem::Npm => format!(
            "{}-{v}.tgz",
            pkg.name.rsplit('/').next().unwrap_or(&pkg.name)
        ),
        Ecosystem::Pypi => format!("{}-{v}.tar.gz", pkg.name.replace('-', "_")),
        Ecosystem::Rubygems => format!("{}-{v}.gem", pkg.name),
        Ecosystem::Packagist => format!("{}-{v}.zip", pkg.name.replace('/', "-")),
        Ecosystem::CratesIo | Ecosystem::Unspecified => format!("{}-{v}.crate", pkg.name),
    }
}

/// The file name of [`wheel`]'s artifact.
pub fn wheel_filename(pkg: &FixturePackage) -> String {
    format!(
        "{}-{}-py3-none-any.whl",
        pkg.name.replace('-', "_"),
        pkg.version
    )
}

/// The probe package of an ecosystem (not in the registry's catalogue:
/// dynamic tests analyse its artifact directly).
pub fn probe_package(eco: Ecosystem) -> FixturePackage {
    let name = match eco {
        Ecosystem::Npm => "paddock-probe",
        Ecosystem::Rubygems => "paddock_probe",
        Ecosystem::Packagist => "paddock/probe",
        _ => "paddock-probe",
    };
    FixturePackage {
        eco,
        name: name.into(),
        version: "3.0.0".into(),
        published: "2026-11-13T12:00:00Z".into(),
        flavour: Flavour::Probe,
        dependencies: Vec::new(),
    }
}

/// Builds the artifact a registry would serve for `pkg`; for PyPI the
/// sdist (see [`wheel`] for the wheel).
pub fn build(pkg: &FixturePackage) -> Built {
    let files = sources(pkg);
    let v = &pkg.version;
    match pkg.eco {
        Ecosystem::Npm => {
            let base = pkg.name.rsplit('/').next().unwrap_or(&pkg.name);
            Built {
                filename: format!("{base}-{v}.tgz"),
                bytes: tar_gz(&files),
            }
        }
        Ecosystem::Pypi => Built {
            filename: format!("{}-{v}.tar.gz", pkg.name.replace('-', "_")),
            bytes: tar_gz(&files),
        },
        Ecosystem::Rubygems => Built {
            filename: format!("{}-{v}.gem", pkg.name),
            bytes: gem(pkg, &files),
        },
        Ecosystem::Packagist => Built {
            filename: format!("{}-{v}.zip", pkg.name.replace('/', "-")),
            bytes: zip(&files),
        },
        Ecosystem::CratesIo | Ecosystem::Unspecified => Built {
            filename: format!("{}-{v}.crate", pkg.name),
            bytes: tar_gz(&files),
        },
    }
}

/// A pure-Python wheel of a PyPI fixture, with the `RECORD` that pip
/// needs to install it.
pub fn wheel(pkg: &FixturePackage) -> Built {
    let module = pkg.name.replace('-', "_");
    let v = &pkg.version;
    let dist_info = format!("{module}-{v}.dist-info");
    let mut files = vec![
        (
            format!("{module}/__init__.py"),
            "def pad(s, n):\n    return str(s).rjust(n)\n".to_owned(),
        ),
        (format!("{dist_info}/METADATA"), pypi_metadata(pkg)),
        (
            format!("{dist_info}/WHEEL"),
            "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n".to_owned(),
        ),
    ];
    let mut record = String::new();
    for (path, body) in &files {
        let digest = hex::decode(sha256_hex(body.as_bytes())).expect("a hex digest");
        record.push_str(&format!(
            "{path},sha256={},{}\n",
            base64_url_nopad(&digest),
            body.len()
        ));
    }
    record.push_str(&format!("{dist_info}/RECORD,,\n"));
    files.push((format!("{dist_info}/RECORD"), record));
    Built {
        filename: format!("{module}-{v}-py3-none-any.whl"),
        bytes: zip(&files),
    }
}

/// The core metadata (sdist `PKG-INFO`, wheel `METADATA`) of a PyPI
/// fixture: one `Requires-Dist` per dependency.
pub fn pypi_metadata(pkg: &FixturePackage) -> String {
    let mut out = format!(
        "Metadata-Version: 2.1\nName: {}\nVersion: {}\n",
        pkg.name, pkg.version
    );
    for req in pypi_requirements(pkg) {
        out.push_str(&format!("Requires-Dist: {req}\n"));
    }
    out
}

/// PEP 508 requirement strings: `name>=1.0`.
fn pypi_requirements(pkg: &FixturePackage) -> Vec<String> {
    pkg.dependencies
        .iter()
        .map(|(name, req)| format!("{name}{}", req.trim()))
        .collect()
}

/// `{"name":"req",...}` in declaration order (package.json
/// `dependencies`, composer.json `require`).
fn npm_dependencies(pkg: &FixturePackage) -> String {
    let pairs: Vec<String> = pkg
        .dependencies
        .iter()
        .map(|(name, req)| {
            format!(
                "{}:{}",
                serde_json::Value::from(name.as_str()),
                serde_json::Value::from(req.as_str())
            )
        })
        .collect();
    format!("{{{}}}", pairs.join(","))
}

/// A RubyGems requirement (`~> 1.0`, `>= 1.0, < 2`, `1.0`) as
/// (operator, version) pairs, the way `Gem::Requirement` parses it (no
/// operator means `=`).
pub fn gem_requirements(req: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in req.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let op = ["~>", ">=", "<=", "!=", ">", "<", "="]
            .into_iter()
            .find(|op| part.starts_with(op))
            .unwrap_or("=");
        let version = part.strip_prefix(op).unwrap_or(part).trim();
        out.push((op.to_owned(), version.to_owned()));
    }
    if out.is_empty() {
        out.push((">=".to_owned(), "0".to_owned()));
    }
    out
}

/// Base64 with the URL-safe alphabet and no padding (wheel `RECORD`).
fn base64_url_nopad(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// A tree of honest releases of `eco`, all version 1.0.0: the root `root`
/// first, depending on `d` intermediate packages (`d` the least with
/// `d + d*d >= count`), which between them depend on the remaining
/// `count - d` leaves (spread round-robin), so the root has exactly
/// `count` distinct transitive dependencies. Names derive from `root`:
/// `<root>-dep<i>` and `<root>-dep<i>-<j>` (with `_` on RubyGems). Each
/// dependency is declared with the ecosystem's usual requirement for
/// 1.0.0 (`^1.0.0`, `>=1.0`, `~> 1.0`, `^1.0`, `1`).
///
/// ```
/// use paddock_proto::v1::Ecosystem;
/// let tree = paddock_testkit::packages::dependency_tree(Ecosystem::Npm, "paddock-tree", 25);
/// assert_eq!(tree.len(), 26);
/// assert_eq!(tree[0].name, "paddock-tree");
/// assert_eq!(tree[0].dependencies.len(), 5);
/// ```
pub fn dependency_tree(eco: Ecosystem, root: &str, count: usize) -> Vec<FixturePackage> {
    let sep = if eco == Ecosystem::Rubygems { "_" } else { "-" };
    let req = match eco {
        Ecosystem::Npm => "^1.0.0",
        Ecosystem::Pypi => ">=1.0",
        Ecosystem::Rubygems => "~> 1.0",
        Ecosystem::Packagist => "^1.0",
        Ecosystem::CratesIo | Ecosystem::Unspecified => "1",
    };
    let direct = (1..=count).find(|d| d + d * d >= count).unwrap_or(0);
    let release = |name: String, deps: Vec<String>| FixturePackage {
        eco,
        name,
        version: "1.0.0".into(),
        published: "2026-11-14T12:00:00Z".into(),
        flavour: Flavour::Honest,
        dependencies: deps.into_iter().map(|d| (d, req.to_owned())).collect(),
    };
    let mids: Vec<String> = (1..=direct).map(|i| format!("{root}{sep}dep{i}")).collect();
    let mut leaves: Vec<Vec<String>> = vec![Vec::new(); direct];
    for k in 0..count - direct {
        let i = k % direct;
        let j = leaves[i].len() + 1;
        leaves[i].push(format!("{}{sep}{j}", mids[i]));
    }
    let mut out = vec![release(root.to_owned(), mids.clone())];
    for (mid, its_leaves) in mids.into_iter().zip(leaves) {
        out.push(release(mid, its_leaves.clone()));
        out.extend(its_leaves.into_iter().map(|l| release(l, Vec::new())));
    }
    out
}

/// Fixed modification time of every entry: 2026-11-01T00:00:00Z.
const MTIME: u64 = 1_793_491_200;

fn tar(files: &[(String, String)]) -> Vec<u8> {
    let mut sorted: Vec<_> = files.iter().collect();
    sorted.sort();
    let mut builder = tar::Builder::new(Vec::new());
    builder.mode(tar::HeaderMode::Deterministic);
    for (path, body) in sorted {
        let mut header = tar::Header::new_ustar();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(MTIME);
        header.set_uid(0);
        header.set_gid(0);
        header.set_cksum();
        builder
            .append_data(&mut header, path, body.as_bytes())
            .expect("writing to memory");
    }
    builder.into_inner().expect("writing to memory")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::best());
    enc.write_all(bytes).expect("writing to memory");
    enc.finish().expect("writing to memory")
}

fn tar_gz(files: &[(String, String)]) -> Vec<u8> {
    gzip(&tar(files))
}

fn zip(files: &[(String, String)]) -> Vec<u8> {
    let mut sorted: Vec<_> = files.iter().collect();
    sorted.sort();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for (path, body) in sorted {
        zip.start_file(path.as_str(), options)
            .expect("writing to memory");
        zip.write_all(body.as_bytes()).expect("writing to memory");
    }
    zip.finish().expect("writing to memory").into_inner()
}

fn gem(pkg: &FixturePackage, files: &[(String, String)]) -> Vec<u8> {
    let extensions = if pkg.flavour != Flavour::Honest {
        "extensions:\n- ext/extconf.rb\n"
    } else {
        "extensions: []\n"
    };
    let metadata = format!(
        "--- !ruby/object:Gem::Specification\nname: {}\nversion: !ruby/object:Gem::Version\n  version: {}\nplatform: ruby\nauthors:\n- Paddock\nsummary: A Paddock test fixture\nrequire_paths:\n- lib\nrubygems_version: 3.3.15\nspecification_version: 4\n{}files:\n{}{extensions}",
        pkg.name,
        pkg.version,
        gem_yaml_dependencies(pkg),
        files.iter().map(|(p, _)| format!("- {p}\n")).collect::<String>()
    );
    let data = tar_gz(files);
    let mut outer = tar::Builder::new(Vec::new());
    outer.mode(tar::HeaderMode::Deterministic);
    for (name, body) in [
        ("metadata.gz", gzip(metadata.as_bytes())),
        ("data.tar.gz", data),
    ] {
        let mut header = tar::Header::new_ustar();
        header.set_size(body.len() as u64);
        header.set_mode(0o444);
        header.set_mtime(MTIME);
        header.set_cksum();
        outer
            .append_data(&mut header, name, body.as_slice())
            .expect("writing to memory");
    }
    outer.into_inner().expect("writing to memory")
}

/// The `dependencies:` of a gemspec's YAML (nothing when there are none),
/// as `gem build` writes them.
fn gem_yaml_dependencies(pkg: &FixturePackage) -> String {
    if pkg.dependencies.is_empty() {
        return String::new();
    }
    let mut out = String::from("dependencies:\n");
    for (name, req) in &pkg.dependencies {
        let mut reqs = String::from("    requirements:\n");
        for (op, version) in gem_requirements(req) {
            reqs.push_str(&format!(
                "    - - \"{op}\"\n      - !ruby/object:Gem::Version\n        version: '{version}'\n"
            ));
        }
        out.push_str(&format!(
            "- !ruby/object:Gem::Dependency\n  name: {name}\n  requirement: !ruby/object:Gem::Requirement\n{reqs}  type: :runtime\n  prerelease: false\n  version_requirements: !ruby/object:Gem::Requirement\n{reqs}"
        ));
    }
    out
}

/// The quick-index gemspec of a RubyGems fixture
/// (`quick/Marshal.4.8/<name>-<version>.gemspec.rz`: a zlib-deflated
/// `Marshal.dump` of its `Gem::Specification`), which `gem install`
/// fetches for every gem it resolved through the compact index.
pub fn gemspec_rz(pkg: &FixturePackage) -> Built {
    use crate::marshal::Value;
    let version = |v: &str| Value::user_marshal("Gem::Version", Value::Array(vec![Value::str(v)]));
    let requirement = |req: &str| {
        let list = gem_requirements(req)
            .into_iter()
            .map(|(op, v)| Value::Array(vec![Value::str(&op), version(&v)]))
            .collect();
        Value::user_marshal("Gem::Requirement", Value::Array(vec![Value::Array(list)]))
    };
    let dependencies = pkg
        .dependencies
        .iter()
        .map(|(name, req)| {
            Value::Object(
                "Gem::Dependency".into(),
                vec![
                    ("@name".into(), Value::str(name)),
                    ("@requirement".into(), requirement(req)),
                    ("@type".into(), Value::Sym("runtime".into())),
                    ("@prerelease".into(), Value::False),
                ],
            )
        })
        .collect();
    let date = chrono::DateTime::parse_from_rfc3339(&pkg.published)
        .map(|d| d.date_naive())
        .unwrap_or_default();
    let fields = Value::Array(vec![
        Value::str("3.3.15"),
        Value::Int(4),
        Value::str(&pkg.name),
        version(&pkg.version),
        Value::utc_date(date),
        Value::str("A Paddock test fixture"),
        requirement(">= 0"),
        requirement(">= 0"),
        Value::str("ruby"),
        Value::Array(dependencies),
        Value::str(""),
        Value::Nil,
        Value::Array(vec![Value::str("Paddock")]),
        Value::Nil,
        Value::Nil,
        Value::True,
        Value::str("ruby"),
        Value::Array(Vec::new()),
        Value::Hash(Vec::new()),
    ]);
    let spec = Value::UserDef(
        "Gem::Specification".into(),
        crate::marshal::dump(&fields),
        Vec::new(),
    );
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), Compression::best());
    enc.write_all(&crate::marshal::dump(&spec))
        .expect("writing to memory");
    Built {
        filename: format!("{}-{}.gemspec.rz", pkg.name, pkg.version),
        bytes: enc.finish().expect("writing to memory"),
    }
}

/// A PyPI sdist named `name`-`version` whose setup.py is `setup_py`
/// (plus `files`, relative to the sdist's root), for tests that need a
/// package doing one particular thing at install time.
pub fn pypi_sdist(name: &str, version: &str, setup_py: &str, files: &[(&str, &str)]) -> Built {
    let module = name.replace('-', "_");
    let root = format!("{module}-{version}");
    let mut all = vec![
        (
            format!("{root}/PKG-INFO"),
            format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"),
        ),
        (format!("{root}/setup.py"), setup_py.to_owned()),
    ];
    for (path, body) in files {
        all.push((format!("{root}/{path}"), (*body).to_owned()));
    }
    Built {
        filename: format!("{root}.tar.gz"),
        bytes: tar_gz(&all),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_are_reproducible() {
        for pkg in catalogue() {
            assert_eq!(
                build(&pkg).bytes,
                build(&pkg).bytes,
                "{} {}",
                pkg.name,
                pkg.version
            );
        }
    }

    #[test]
    fn every_ecosystem_has_an_honest_and_a_hook_package() {
        let all = catalogue();
        for eco in paddock_proto::ecosystem::ALL {
            assert!(all
                .iter()
                .any(|p| p.eco == eco && p.flavour == Flavour::Honest));
            assert!(all
                .iter()
                .any(|p| p.eco == eco && p.flavour == Flavour::InstallHook));
        }
    }
}
