//! Identifying a local artifact: its ecosystem (from its format and the
//! files inside), and the package name and version its own metadata
//! declares. The archive is extracted with the usual limits into a
//! temporary directory that is removed afterwards.

use std::path::{Path, PathBuf};

use paddock_proto::v1::{ArtifactKind, Ecosystem};

use crate::extract::{extract_auto, ExtractLimits};
use crate::RegistryError;

/// What a local artifact is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPackage {
    pub eco: Ecosystem,
    pub name: String,
    pub version: String,
    pub kind: ArtifactKind,
}

/// Identifies `path`; `hint` overrides the inferred ecosystem.
pub fn identify(
    path: &Path,
    hint: Option<Ecosystem>,
    limits: &ExtractLimits,
) -> Result<LocalPackage, RegistryError> {
    let filename = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = tempfile::tempdir().map_err(|source| RegistryError::Io {
        path: "temporary directory".into(),
        source,
    })?;
    let report =
        extract_auto(path, dir.path(), limits).map_err(|source| RegistryError::Extract {
            filename: filename.clone(),
            source,
        })?;
    let files = list(dir.path());
    // Shallowest file whose path ends with `suffix` (as text: a suffix may
    // end inside a component, like `.dist-info/METADATA`).
    let find = |suffix: &str| {
        files
            .iter()
            .filter(|f| {
                let text = f.to_string_lossy();
                text.ends_with(&format!("/{suffix}"))
                    || (suffix.starts_with('.') && text.ends_with(suffix))
            })
            .min_by_key(|f| f.components().count())
            .cloned()
    };

    let eco = match hint {
        Some(eco) => eco,
        None if report.gem_metadata.is_some() => Ecosystem::Rubygems,
        None if filename.ends_with(".crate") => Ecosystem::CratesIo,
        None if filename.ends_with(".whl")
            || find("PKG-INFO").is_some()
            || find(".dist-info/METADATA").is_some() =>
        {
            Ecosystem::Pypi
        }
        None if find("package/package.json").is_some() => Ecosystem::Npm,
        None if find("composer.json").is_some() => Ecosystem::Packagist,
        None if find("Cargo.toml").is_some() => Ecosystem::CratesIo,
        None => {
            return Err(RegistryError::NoArtifact {
                package: filename,
                version: String::new(),
                reason: "cannot tell its ecosystem from its content; pass --ecosystem".into(),
            })
        }
    };
    let read = |p: Option<PathBuf>| {
        p.and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default()
    };
    let (name, version, kind) = match eco {
        Ecosystem::Npm => {
            let doc: serde_json::Value =
                serde_json::from_str(&read(find("package.json"))).unwrap_or_default();
            (
                json_str(&doc, "name"),
                json_str(&doc, "version"),
                ArtifactKind::NpmTarball,
            )
        }
        Ecosystem::Pypi => {
            let meta = read(find("PKG-INFO").or_else(|| find(".dist-info/METADATA")));
            let kind = if filename.ends_with(".whl") {
                ArtifactKind::Wheel
            } else {
                ArtifactKind::Sdist
            };
            (header(&meta, "Name"), header(&meta, "Version"), kind)
        }
        Ecosystem::Rubygems => {
            let meta = report.gem_metadata.clone().unwrap_or_default();
            let name = yaml_value(&meta, "name:");
            // `version: !ruby/object:Gem::Version` is followed by the
            // indented `version: 1.0.0`.
            let version = meta
                .lines()
                .skip_while(|l| !l.starts_with("version:"))
                .filter_map(|l| l.trim().strip_prefix("version:"))
                .map(str::trim)
                .find(|v| !v.is_empty() && !v.starts_with('!'))
                .unwrap_or_default()
                .trim_matches(['"', '\''])
                .to_owned();
            (name, version, ArtifactKind::Gem)
        }
        Ecosystem::Packagist => {
            let doc: serde_json::Value =
                serde_json::from_str(&read(find("composer.json"))).unwrap_or_default();
            (
                json_str(&doc, "name"),
                json_str(&doc, "version"),
                ArtifactKind::ComposerDist,
            )
        }
        Ecosystem::CratesIo | Ecosystem::Unspecified => {
            let manifest = read(find("Cargo.toml"));
            (
                toml_value(&manifest, "name"),
                toml_value(&manifest, "version"),
                ArtifactKind::Crate,
            )
        }
    };
    let name = if name.is_empty() {
        stem(&filename)
    } else {
        name
    };
    // Composer manifests rarely declare a version: the file name may.
    let version = if version.is_empty() {
        version_from_filename(&filename).unwrap_or_else(|| "0.0.0-local".to_owned())
    } else {
        version
    };
    Ok(LocalPackage {
        eco,
        name,
        version,
        kind,
    })
}

fn list(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(list(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn json_str(doc: &serde_json::Value, key: &str) -> String {
    doc.get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}

/// `Key: value` from an RFC 822-style metadata file.
fn header(text: &str, key: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}: ")))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn yaml_value(text: &str, key: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// `key = "value"` in a manifest's `[package]` table.
fn toml_value(text: &str, key: &str) -> String {
    let mut in_package = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package {
            if let Some((k, v)) = line.split_once('=') {
                if k.trim() == key {
                    return v.trim().trim_matches('"').to_owned();
                }
            }
        }
    }
    String::new()
}

/// `vendor-name-1.2.3.zip` → `1.2.3`.
fn version_from_filename(filename: &str) -> Option<String> {
    let stem = [".tar.gz", ".tgz", ".zip", ".tar", ".gem", ".crate"]
        .iter()
        .find_map(|e| filename.strip_suffix(e))?;
    let (_, version) = stem.rsplit_once('-')?;
    version
        .trim_start_matches('v')
        .starts_with(|c: char| c.is_ascii_digit())
        .then(|| version.to_owned())
}

fn stem(filename: &str) -> String {
    filename.split('.').next().unwrap_or(filename).to_owned()
}
