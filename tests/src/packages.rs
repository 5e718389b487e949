//! Fixture packages: small honest packages and packages with an install
//! hook, for every ecosystem, written here and built into real artifacts
//! reproducibly (fixed times, modes and order: the same bytes every build).
//!
//! `cargo run -p paddock-testkit --bin build-fixtures -- <dir>` writes them
//! to a directory; the fixture registry serves the same bytes.

use std::io::Write;

use flate2::{Compression, GzBuilder};
use paddock_proto::v1::Ecosystem;

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
            });
        }
        out.push(FixturePackage {
            eco,
            name: hook.into(),
            version: "2.0.0".into(),
            published: "2026-11-12T12:00:00Z".into(),
            flavour: Flavour::InstallHook,
        });
    }
    out
}

/// The files of a package, before packing.
pub fn sources(pkg: &FixturePackage) -> Vec<(String, String)> {
    if pkg.flavour == Flavour::Probe {
        return crate::probe::sources(pkg);
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
            let mut files = vec![
                (
                    "package/package.json".into(),
                    format!(
                        r#"{{"name":"{}","version":"{v}","main":"index.js","license":"MIT"{scripts}}}"#,
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
            let setup = if hook {
                format!(
                    "import os\nfrom setuptools import setup\nfrom setuptools.command.install import install\n\n\
                     class Hook(install):\n    def run(self):\n        os.system('id > /tmp/paddock-hook-ran')\n        install.run(self)\n\n\
                     setup(name='{}', version='{v}', packages=['{module}'], cmdclass={{'install': Hook}})\n",
                    pkg.name
                )
            } else {
                format!("from setuptools import setup\n\nsetup(name='{}', version='{v}', packages=['{module}'])\n", pkg.name)
            };
            vec![
                (
                    format!("{root}/PKG-INFO"),
                    format!("Metadata-Version: 2.1\nName: {}\nVersion: {v}\n", pkg.name),
                ),
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
            vec![
                (
                    format!("{root}/composer.json"),
                    format!(r#"{{"name":"{}","type":"library","license":"MIT","autoload":{{"psr-4":{{"Paddock\\":"src/"}}}}{scripts}}}"#, pkg.name),
                ),
                (format!("{root}/src/Pad.php"), "<?php\nnamespace Paddock;\nfunction pad($s, $n) { return str_pad($s, $n, ' ', STR_PAD_LEFT); }\n".into()),
            ]
        }
        Ecosystem::CratesIo | Ecosystem::Unspecified => {
            let root = format!("{}-{v}", pkg.name);
            let build = if hook { "build = \"build.rs\"\n" } else { "" };
            let mut files = vec![
                (
                    format!("{root}/Cargo.toml"),
                    format!("[package]\nname = \"{}\"\nversion = \"{v}\"\nedition = \"2021\"\nlicense = \"MIT\"\n{build}", pkg.name),
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

/// A pure-Python wheel of a PyPI fixture.
pub fn wheel(pkg: &FixturePackage) -> Built {
    let module = pkg.name.replace('-', "_");
    let v = &pkg.version;
    let files = vec![
        (
            format!("{module}/__init__.py"),
            "def pad(s, n):\n    return str(s).rjust(n)\n".to_owned(),
        ),
        (
            format!("{module}-{v}.dist-info/METADATA"),
            format!("Metadata-Version: 2.1\nName: {}\nVersion: {v}\n", pkg.name),
        ),
        (
            format!("{module}-{v}.dist-info/WHEEL"),
            "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n".to_owned(),
        ),
    ];
    Built {
        filename: format!("{module}-{v}-py3-none-any.whl"),
        bytes: zip(&files),
    }
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
        "--- !ruby/object:Gem::Specification\nname: {}\nversion: !ruby/object:Gem::Version\n  version: {}\nplatform: ruby\nauthors:\n- Paddock\nsummary: A Paddock test fixture\nrequire_paths:\n- lib\nrubygems_version: 3.3.15\nspecification_version: 4\nfiles:\n{}{extensions}",
        pkg.name,
        pkg.version,
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
