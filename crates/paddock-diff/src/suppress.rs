//! Suppressions: behaviours a user reviewed and accepts for one package.
//!
//! A suppression names an ecosystem, a package, a code and optionally an
//! evidence hash:
//!
//! ```toml
//! [[suppress]]
//! ecosystem = "npm"
//! package = "esbuild"
//! code = "install-network-added"      # a scoring rule id, a change kind
//!                                     # ("host", "command"…) or a finding
//!                                     # rule id ("threat.install-network")
//! evidence_hash = "6147d55b…"         # optional: one behaviour only
//! reason = "downloads its platform binary from the npm registry"
//! ```
//!
//! Without an evidence hash it covers every behaviour with that code in
//! that package. A suppression never reaches another package: ecosystem
//! and package must both match (package names compare as their registry
//! compares them, see [`crate::normalize::package_name`]).
//!
//! What a suppressed behaviour does to a verdict is [`crate::score`]'s
//! business: it does not score, and it is listed as a zero-weight reason
//! so that the record shows it was seen.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::normalize::package_name;

/// Why suppressions could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SuppressError {
    #[error("cannot read suppressions from {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("suppressions in {path} are not valid: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("suppression {index} ({package}): {reason}")]
    Invalid {
        /// 1-based position in the file.
        index: usize,
        package: String,
        reason: String,
    },
}

/// The users' allow-list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppressions {
    #[serde(rename = "suppress", default)]
    pub entries: Vec<Suppression>,
}

/// One reviewed behaviour (or every behaviour with one code) of one
/// package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    /// `npm`, `pypi`, `rubygems`, `packagist`, `crates.io` (or an alias).
    pub ecosystem: String,
    pub package: String,
    /// A scoring rule id, a change kind or a finding rule id.
    pub code: String,
    /// Hex sha256 of the behaviour (a change's `evidence_hash`); none
    /// covers every behaviour with this code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_hash: Option<String>,
    /// Why it is acceptable: required, for whoever reads this next.
    pub reason: String,
}

/// The ecosystem's canonical name, or the name as given when unknown.
fn ecosystem_name(eco: &str) -> String {
    match paddock_proto::ecosystem::parse(eco) {
        Ok(e) => paddock_proto::ecosystem::cli_name(e).to_owned(),
        Err(_) => eco.trim().to_ascii_lowercase(),
    }
}

impl Suppressions {
    /// Reads a TOML file of `[[suppress]]` entries.
    pub fn load(path: &Path) -> Result<Self, SuppressError> {
        let text = std::fs::read_to_string(path).map_err(|source| SuppressError::Read {
            path: path.to_owned(),
            source,
        })?;
        let parsed: Suppressions =
            toml::from_str(&text).map_err(|source| SuppressError::Parse {
                path: path.to_owned(),
                source,
            })?;
        parsed.validate()?;
        Ok(parsed)
    }

    /// Parses TOML text (as [`Suppressions::load`], without a file).
    pub fn from_toml(text: &str) -> Result<Self, SuppressError> {
        let parsed: Suppressions = toml::from_str(text).map_err(|source| SuppressError::Parse {
            path: PathBuf::from("<text>"),
            source,
        })?;
        parsed.validate()?;
        Ok(parsed)
    }

    fn validate(&self) -> Result<(), SuppressError> {
        for (i, s) in self.entries.iter().enumerate() {
            let invalid = |reason: &str| SuppressError::Invalid {
                index: i + 1,
                package: s.package.clone(),
                reason: reason.to_owned(),
            };
            if paddock_proto::ecosystem::parse(&s.ecosystem).is_err() {
                return Err(invalid(
                    "unknown ecosystem: use npm, pypi, rubygems, packagist or crates.io",
                ));
            }
            if s.package.trim().is_empty() {
                return Err(invalid("package is empty"));
            }
            if s.code.trim().is_empty() {
                return Err(invalid(
                    "code is empty: name a rule id, a change kind or a finding rule",
                ));
            }
            if s.reason.trim().is_empty() {
                return Err(invalid(
                    "reason is empty: say why the behaviour is acceptable",
                ));
            }
            if let Some(h) = &s.evidence_hash {
                if h.len() != 64 || !h.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(invalid("evidence_hash is not a hex sha256 (64 hex digits)"));
                }
            }
        }
        Ok(())
    }

    /// Whether a behaviour with this code and evidence hash of this
    /// package is suppressed.
    pub fn suppresses(&self, eco: &str, package: &str, code: &str, evidence_hash: &str) -> bool {
        if self.entries.is_empty() {
            return false;
        }
        let eco = ecosystem_name(eco);
        let package = package_name(&eco, package);
        self.entries.iter().any(|s| {
            let s_eco = ecosystem_name(&s.ecosystem);
            s_eco == eco
                && package_name(&s_eco, &s.package) == package
                && s.code == code
                && s.evidence_hash
                    .as_deref()
                    .is_none_or(|h| h.eq_ignore_ascii_case(evidence_hash))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "6147d55bee952cffe232e41f6ee8ced7adb3e8449557997cfac5aae69c586210";

    fn sample() -> Suppressions {
        Suppressions::from_toml(&format!(
            r#"
[[suppress]]
ecosystem = "npm"
package = "esbuild"
code = "install-network-added"
reason = "downloads its platform binary"

[[suppress]]
ecosystem = "PyPI"
package = "Zope.Interface"
code = "host"
evidence_hash = "{HASH}"
reason = "reviewed"
"#
        ))
        .unwrap()
    }

    #[test]
    fn a_code_without_hash_covers_every_behaviour_of_that_package() {
        let s = sample();
        assert!(s.suppresses("npm", "esbuild", "install-network-added", "aa"));
        assert!(s.suppresses("npm", "esbuild", "install-network-added", HASH));
        assert!(!s.suppresses("npm", "esbuild", "command-added", HASH));
    }

    #[test]
    fn a_hash_covers_one_behaviour() {
        let s = sample();
        assert!(s.suppresses("pypi", "zope-interface", "host", HASH));
        assert!(s.suppresses("pip", "zope_interface", "host", &HASH.to_uppercase()));
        assert!(!s.suppresses("pypi", "zope-interface", "host", &"0".repeat(64)));
    }

    #[test]
    fn a_suppression_never_reaches_another_package_or_ecosystem() {
        let s = sample();
        assert!(!s.suppresses("npm", "esbuild-wasm", "install-network-added", HASH));
        assert!(!s.suppresses("pypi", "esbuild", "install-network-added", HASH));
        assert!(!s.suppresses("npm", "zope-interface", "host", HASH));
        assert!(!Suppressions::default().suppresses("npm", "esbuild", "host", HASH));
    }

    #[test]
    fn invalid_entries_are_rejected_with_the_reason() {
        let cases = [
            ("ecosystem = \"maven\"\npackage = \"x\"\ncode = \"host\"\nreason = \"r\"", "unknown ecosystem"),
            ("ecosystem = \"npm\"\npackage = \"x\"\ncode = \"host\"\nreason = \"\"", "reason is empty"),
            ("ecosystem = \"npm\"\npackage = \"x\"\ncode = \"\"\nreason = \"r\"", "code is empty"),
            ("ecosystem = \"npm\"\npackage = \" \"\ncode = \"host\"\nreason = \"r\"", "package is empty"),
            ("ecosystem = \"npm\"\npackage = \"x\"\ncode = \"host\"\nreason = \"r\"\nevidence_hash = \"xyz\"", "hex sha256"),
        ];
        for (entry, want) in cases {
            let err = Suppressions::from_toml(&format!("[[suppress]]\n{entry}\n")).unwrap_err();
            assert!(err.to_string().contains(want), "{err}");
        }
        let err = Suppressions::from_toml("[[suppress]]\necosystem = \"npm\"\npackage = \"x\"\ncode = \"host\"\nreason = \"r\"\nwhy = 1\n").unwrap_err();
        assert!(err.to_string().contains("why"), "{err}");
        assert!(Suppressions::from_toml("").unwrap().entries.is_empty());
    }
}
