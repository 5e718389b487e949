//! Rust's `Cargo.lock`: every `[[package]]` from a registry, with its
//! `checksum` (the `.crate` file's SHA-256). Path and git packages (the
//! workspace's own crates among them) are not releases.

use serde::Deserialize;

use paddock_proto::v1::Ecosystem;

use crate::{Digest, Parsed};

#[derive(Deserialize)]
struct CargoLock {
    #[serde(default)]
    package: Vec<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    checksum: Option<String>,
}

pub(crate) fn cargo_lock(text: &str, out: &mut Parsed) -> Result<(), String> {
    let lock: CargoLock = toml::from_str(text).map_err(|e| e.to_string())?;
    for package in lock.package {
        match package.source.as_deref() {
            // The workspace's own crates and path dependencies.
            None => continue,
            Some(source) if source.starts_with("registry+") || source.starts_with("sparse+") => {
                let digests = package
                    .checksum
                    .as_deref()
                    .and_then(|c| Digest::new("sha256", c))
                    .into_iter()
                    .collect();
                out.pin(
                    Ecosystem::CratesIo,
                    &package.name,
                    &package.version,
                    digests,
                );
            }
            Some(source) => out.warnings.push(format!(
                "{} {}: from {source}, not a registry release: not checked",
                package.name, package.version
            )),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{parse, Format, Limits};

    #[test]
    fn registry_packages_are_pinned_with_their_checksums() {
        let text = r#"
version = 4

[[package]]
name = "app"
version = "0.1.0"

[[package]]
name = "serde"
version = "1.0.200"
source = "registry+https://example.invalid/index"
checksum = "ddc6f9cc94d67c0e21aaf7eda3a010fd3af78ebf6e096aa6e2e13c79749cce4f"

[[package]]
name = "forked"
version = "0.2.0"
source = "git+https://example.invalid/forked.git#0123456"
"#;
        let (pins, warnings) = parse(text, Format::CargoLock, &Limits::default()).unwrap();
        assert_eq!(pins.len(), 1);
        assert_eq!(
            (pins[0].name.as_str(), pins[0].version.as_str()),
            ("serde", "1.0.200")
        );
        assert_eq!(pins[0].digests[0].algorithm, "sha256");
        assert!(
            warnings[0].contains("forked 0.2.0: from git+"),
            "{warnings:?}"
        );
    }

    #[test]
    fn paddock_s_own_lockfile_is_read_whole() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock");
        let text = std::fs::read_to_string(path).unwrap();
        let (pins, warnings) = parse(&text, Format::CargoLock, &Limits::default()).unwrap();
        // Every `[[package]]` with a source is pinned or warned about.
        let with_source = text.matches("\nsource = ").count();
        assert_eq!(pins.len() + warnings.len(), with_source);
        assert!(pins.len() > 300, "{}", pins.len());
        assert!(
            pins.iter().all(|p| p.digests.len() == 1),
            "every registry crate has a checksum"
        );
    }
}
