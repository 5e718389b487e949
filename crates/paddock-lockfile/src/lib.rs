//! Lockfiles read into the releases they pin, for `paddock verify`.
//!
//! [`read`] takes a lockfile's path, recognises its format by name
//! ([`Format::of`]) and returns every pinned release ([`Pin`]: ecosystem,
//! name, version, and the artifact digests the lockfile records), with
//! warnings for what it could not pin (a git or path dependency, a
//! requirement without `==`) instead of dropping it silently. [`find`]
//! looks for lockfiles in a directory the way the ecosystems' tools do.
//!
//! Lockfiles are written by whoever wrote the repository: each is read
//! whole only below [`Limits::max_bytes`], nesting is bounded by the
//! parsers (serde_json's recursion limit, [`Limits::max_depth`] for npm's
//! v1 tree and for YAML), YAML aliases are refused (no lockfile writer
//! uses them; a billion-laughs file fails at its first alias), and one
//! that says the same package twice with different versions where that
//! cannot happen yields a warning naming both.
//!
//! # Layout
//!
//! - [`npm`]: `package-lock.json` v1/v2/v3 and `npm-shrinkwrap.json`, and
//!   the npm family's one list of non-registry sources; [`pnpm`]:
//!   `pnpm-lock.yaml` (lockfile versions 5.x, 6.0, 9.0); [`yarn`]:
//!   `yarn.lock`, classic and berry. `yaml` reads YAML within the limits.
//! - [`python`]: `requirements.txt`, `Pipfile.lock`, `poetry.lock`,
//!   `uv.lock`, `pylock.toml` (PEP 751).
//! - [`ruby`]: `Gemfile.lock`. [`php`]: `composer.lock`. [`rust`]:
//!   `Cargo.lock`.

pub mod npm;
pub mod php;
pub mod pnpm;
pub mod python;
pub mod ruby;
pub mod rust;
mod yaml;
pub mod yarn;

use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use paddock_proto::v1::Ecosystem;

/// A release a lockfile pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub ecosystem: Ecosystem,
    /// As the registry names it (PyPI names normalised, PEP 503).
    pub name: String,
    pub version: String,
    /// What the lockfile says the artifact hashes to (any of them may be
    /// the analysed artifact's: a Python lock lists every wheel's).
    pub digests: Vec<Digest>,
    /// The 1-based line of the entry, where the format makes it cheap to
    /// know (text formats) or findable (the entry's name in the text).
    pub line: Option<u32>,
}

/// An artifact digest recorded in a lockfile.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Digest {
    /// `sha1`, `sha256`, `sha384` or `sha512`.
    pub algorithm: String,
    /// Lowercase hex.
    pub hex: String,
}

impl Digest {
    /// `alg:hex` or `alg=hex` (Python's and Bundler's forms).
    pub fn parse_prefixed(text: &str) -> Option<Digest> {
        let (algorithm, hex) = text.split_once([':', '='])?;
        Digest::new(algorithm, hex)
    }

    /// A digest from an algorithm name and hex, if both are sane.
    pub fn new(algorithm: &str, hex: &str) -> Option<Digest> {
        let algorithm = algorithm.trim().to_ascii_lowercase();
        let hex = hex.trim().to_ascii_lowercase();
        let length = match algorithm.as_str() {
            "sha1" => 40,
            "sha256" => 64,
            "sha384" => 96,
            "sha512" => 128,
            _ => return None,
        };
        (hex.len() == length && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then_some(Digest { algorithm, hex })
    }

    /// npm's Subresource Integrity form, `sha512-<base64>`; the first
    /// usable one of a space-separated list.
    pub fn from_sri(text: &str) -> Option<Digest> {
        use base64::Engine as _;
        text.split_whitespace().find_map(|one| {
            let (algorithm, b64) = one.split_once('-')?;
            let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
            Digest::new(algorithm, &hex::encode(bytes))
        })
    }
}

/// The lockfile formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    NpmPackageLock,
    NpmShrinkwrap,
    PnpmLock,
    YarnLock,
    Requirements,
    PipfileLock,
    PoetryLock,
    UvLock,
    Pylock,
    GemfileLock,
    ComposerLock,
    CargoLock,
}

impl Format {
    /// The format of a file, by its name.
    pub fn of(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?;
        Some(match name {
            "package-lock.json" => Format::NpmPackageLock,
            "npm-shrinkwrap.json" => Format::NpmShrinkwrap,
            "pnpm-lock.yaml" => Format::PnpmLock,
            "yarn.lock" => Format::YarnLock,
            "Pipfile.lock" => Format::PipfileLock,
            "poetry.lock" => Format::PoetryLock,
            "uv.lock" => Format::UvLock,
            "pylock.toml" => Format::Pylock,
            "Gemfile.lock" | "gems.locked" => Format::GemfileLock,
            "composer.lock" => Format::ComposerLock,
            "Cargo.lock" => Format::CargoLock,
            n if n.ends_with(".txt") && n.contains("requirements") => Format::Requirements,
            // PEP 751's named form, `pylock.<name>.toml`.
            n if n.starts_with("pylock.") && n.ends_with(".toml") => Format::Pylock,
            // pnpm's per-branch lockfiles (`git-branch-lockfile`),
            // `pnpm-lock.<branch>.yaml`, which it merges into the main one.
            n if n.starts_with("pnpm-lock.") && n.ends_with(".yaml") => Format::PnpmLock,
            _ => return None,
        })
    }

    pub fn ecosystem(self) -> Ecosystem {
        match self {
            Format::NpmPackageLock
            | Format::NpmShrinkwrap
            | Format::PnpmLock
            | Format::YarnLock => Ecosystem::Npm,
            Format::Requirements
            | Format::PipfileLock
            | Format::PoetryLock
            | Format::UvLock
            | Format::Pylock => Ecosystem::Pypi,
            Format::GemfileLock => Ecosystem::Rubygems,
            Format::ComposerLock => Ecosystem::Packagist,
            Format::CargoLock => Ecosystem::CratesIo,
        }
    }
}

/// How much of a lockfile is read.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest lockfile read (default 32 MiB; the largest real ones
    /// are a few MiB).
    pub max_bytes: u64,
    /// The deepest dependency tree followed (npm's v1 lockfiles nest).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 32 << 20,
            max_depth: 64,
        }
    }
}

/// A lockfile, read.
#[derive(Debug, Clone)]
pub struct Lockfile {
    pub path: PathBuf,
    pub format: Format,
    pub pins: Vec<Pin>,
    /// Entries that could not be pinned, and entries that contradict each
    /// other, in words.
    pub warnings: Vec<String>,
}

/// Why a lockfile could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LockfileError {
    #[error("{path}: not a lockfile Paddock reads (package-lock.json, npm-shrinkwrap.json, pnpm-lock.yaml, yarn.lock, requirements*.txt, Pipfile.lock, poetry.lock, uv.lock, pylock.toml, Gemfile.lock, composer.lock, Cargo.lock)")]
    Unknown { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: the file is {size} bytes, more than the {limit} read; a real lockfile is far smaller")]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("{path}: not a valid {format:?} file: {reason}")]
    Malformed {
        path: PathBuf,
        format: Format,
        reason: String,
    },
}

/// Reads the lockfile at `path`.
pub fn read(path: &Path, limits: &Limits) -> Result<Lockfile, LockfileError> {
    let format = Format::of(path).ok_or_else(|| LockfileError::Unknown {
        path: path.to_owned(),
    })?;
    let io = |source| LockfileError::Io {
        path: path.to_owned(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > limits.max_bytes {
        return Err(LockfileError::TooLarge {
            path: path.to_owned(),
            size,
            limit: limits.max_bytes,
        });
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    parse(&text, format, limits)
        .map(|(pins, warnings)| Lockfile {
            path: path.to_owned(),
            format,
            pins,
            warnings,
        })
        .map_err(|reason| LockfileError::Malformed {
            path: path.to_owned(),
            format,
            reason,
        })
}

/// The pins and warnings of a lockfile's text.
pub fn parse(
    text: &str,
    format: Format,
    limits: &Limits,
) -> Result<(Vec<Pin>, Vec<String>), String> {
    let mut out = Parsed::default();
    match format {
        Format::NpmPackageLock | Format::NpmShrinkwrap => npm::parse(text, limits, &mut out)?,
        Format::PnpmLock => pnpm::pnpm_lock(text, limits, &mut out)?,
        Format::YarnLock => yarn::yarn_lock(text, limits, &mut out)?,
        Format::Requirements => python::requirements(text, &mut out),
        Format::PipfileLock => python::pipfile_lock(text, &mut out)?,
        Format::PoetryLock => python::poetry_lock(text, &mut out)?,
        Format::UvLock => python::uv_lock(text, &mut out)?,
        Format::Pylock => python::pylock(text, &mut out)?,
        Format::GemfileLock => ruby::gemfile_lock(text, &mut out)?,
        Format::ComposerLock => php::composer_lock(text, &mut out)?,
        Format::CargoLock => rust::cargo_lock(text, &mut out)?,
    }
    out.locate(text);
    Ok((out.pins, out.warnings))
}

/// A map's entries in order (a JSON object, a YAML mapping), a key said
/// twice kept twice (a map would keep only the last, and hide the
/// contradiction). The key is a `String`, or anything else a key
/// deserializes to (a YAML key with its line).
#[derive(Debug)]
pub(crate) struct Entries<T, K = String>(pub(crate) Vec<(K, T)>);

impl<'de, T: Deserialize<'de>, K: Deserialize<'de>> Deserialize<'de> for Entries<T, K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Collect<T, K>(PhantomData<(T, K)>);
        impl<'de, T: Deserialize<'de>, K: Deserialize<'de>> Visitor<'de> for Collect<T, K> {
            type Value = Entries<T, K>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Collect(PhantomData))
    }
}

/// What a parser collects.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub(crate) pins: Vec<Pin>,
    pub(crate) warnings: Vec<String>,
}

impl Parsed {
    pub(crate) fn pin(
        &mut self,
        ecosystem: Ecosystem,
        name: &str,
        version: &str,
        digests: Vec<Digest>,
    ) {
        self.pins.push(Pin {
            ecosystem,
            name: name.to_owned(),
            version: version.to_owned(),
            digests,
            line: None,
        });
    }

    /// [`Parsed::pin`] at a known line.
    pub(crate) fn pin_at(
        &mut self,
        ecosystem: Ecosystem,
        name: &str,
        version: &str,
        digests: Vec<Digest>,
        line: Option<u32>,
    ) {
        self.pin(ecosystem, name, version, digests);
        if let Some(pin) = self.pins.last_mut() {
            pin.line = line;
        }
    }

    /// Gives entries without a line the first line whose quoted string is
    /// their name, or ends in `/name` (npm's `node_modules/name` keys).
    /// One pass over the text, whatever the number of entries.
    fn locate(&mut self, text: &str) {
        if self.pins.iter().all(|p| p.line.is_some()) {
            return;
        }
        let mut first: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let mut rest = line;
            while let Some(open) = rest.find('"') {
                let after = &rest[open + 1..];
                let Some(close) = after.find('"') else {
                    break;
                };
                let quoted = &after[..close];
                first.entry(quoted).or_insert(number);
                for (slash, _) in quoted.match_indices('/') {
                    first.entry(&quoted[slash + 1..]).or_insert(number);
                }
                rest = &after[close + 1..];
            }
        }
        for pin in self.pins.iter_mut().filter(|p| p.line.is_none()) {
            pin.line = first.get(pin.name.as_str()).copied();
        }
    }

    /// For flat formats: the same name at two versions is a contradiction.
    pub(crate) fn check_flat(&mut self) {
        let mut seen: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
        let mut warnings = Vec::new();
        for pin in &self.pins {
            match seen.insert(&pin.name, &pin.version) {
                Some(before) if before != pin.version => warnings.push(format!(
                    "{} is pinned twice, at {before} and at {}: the lockfile contradicts itself; both are checked",
                    pin.name, pin.version
                )),
                _ => {}
            }
        }
        self.warnings.extend(warnings);
    }
}

/// PEP 503's normal form of a PyPI name: lowercase, runs of `-`, `_` and
/// `.` as one `-`.
pub fn pypi_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut separator = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
        } else {
            if separator && !out.is_empty() {
                out.push('-');
            }
            separator = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The lockfiles in `dir` (not below it: a monorepo names its packages'
/// directories), as each ecosystem's tool would find them: pnpm's
/// `pnpm-lock.yaml` with its per-branch `pnpm-lock.<branch>.yaml`, yarn's
/// `yarn.lock` of either generation. When npm's shrinkwrap is there, npm
/// ignores package-lock.json, and so does this.
pub fn find(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() && Format::of(&path).is_some() {
            found.push(path);
        }
    }
    if found
        .iter()
        .any(|p| Format::of(p) == Some(Format::NpmShrinkwrap))
    {
        found.retain(|p| Format::of(p) != Some(Format::NpmPackageLock));
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_read_in_every_form_and_nonsense_is_not() {
        let sha256 = "a".repeat(64);
        assert_eq!(
            Digest::parse_prefixed(&format!("sha256:{sha256}")),
            Some(Digest {
                algorithm: "sha256".into(),
                hex: sha256.clone()
            })
        );
        assert_eq!(
            Digest::parse_prefixed(&format!("SHA256={}", sha256.to_uppercase()))
                .unwrap()
                .hex,
            sha256
        );
        assert_eq!(Digest::parse_prefixed("sha256:abc"), None);
        assert_eq!(
            Digest::parse_prefixed("md5:d41d8cd98f00b204e9800998ecf8427e"),
            None
        );
        // SRI: sha512 of the empty string.
        let sri = "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==";
        let d = Digest::from_sri(sri).unwrap();
        assert_eq!(d.algorithm, "sha512");
        assert!(d.hex.starts_with("cf83e1357eefb8bd"));
        assert_eq!(Digest::from_sri("sha512-!!!"), None);
    }

    #[test]
    fn names_and_formats() {
        assert_eq!(pypi_name("Zope.Interface__x"), "zope-interface-x");
        assert_eq!(
            Format::of(Path::new("a/requirements-dev.txt")),
            Some(Format::Requirements)
        );
        assert_eq!(Format::of(Path::new("notes.txt")), None);
        assert_eq!(
            Format::of(Path::new("x/Cargo.lock")),
            Some(Format::CargoLock)
        );
        assert_eq!(
            Format::of(Path::new("pnpm-lock.yaml")),
            Some(Format::PnpmLock)
        );
        assert_eq!(
            Format::of(Path::new("pnpm-lock.feature!x.yaml")),
            Some(Format::PnpmLock)
        );
        assert_eq!(Format::of(Path::new("pnpm-workspace.yaml")), None);
        assert_eq!(Format::PnpmLock.ecosystem(), Ecosystem::Npm);
    }

    #[test]
    fn an_oversized_lockfile_is_refused_unread_and_an_unknown_name_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("package-lock.json");
        std::fs::write(&path, vec![b' '; 2048]).unwrap();
        let limits = Limits {
            max_bytes: 1024,
            ..Default::default()
        };
        let error = read(&path, &limits).unwrap_err().to_string();
        assert!(error.contains("2048 bytes, more than the 1024"), "{error}");
        let error = read(&dir.path().join("yarn.txt"), &limits)
            .unwrap_err()
            .to_string();
        assert!(error.contains("not a lockfile Paddock reads"), "{error}");
    }

    #[test]
    fn a_shrinkwrap_hides_the_package_lock_as_npm_does() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "package-lock.json",
            "npm-shrinkwrap.json",
            "pnpm-lock.yaml",
            "pnpm-workspace.yaml",
            "Cargo.lock",
            "README.md",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let names: Vec<String> = find(dir.path())
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["Cargo.lock", "npm-shrinkwrap.json", "pnpm-lock.yaml"]
        );
    }
}
