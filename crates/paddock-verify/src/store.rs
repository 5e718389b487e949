//! What the results stores know about a release, and the key it is looked
//! up by.

use std::collections::{HashMap, HashSet};

use paddock_lockfile::{pypi_name, Digest, Pin};
use paddock_proto::v1::{Ecosystem, Severity};
use serde::Serialize;

/// A release as every store and lockfile names it: the ecosystem, the
/// name in the ecosystem's canonical form, and the version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReleaseKey {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
}

impl ReleaseKey {
    /// The key of `name` at `version`, with the name as the ecosystem
    /// compares names: PyPI by PEP 503, crates.io and Packagist without
    /// case; npm and RubyGems as spelt.
    pub fn new(ecosystem: Ecosystem, name: &str, version: &str) -> Self {
        let version = version.trim();
        // Composer lists a tag `v1.2.0` and its normalised `1.2.0` as one
        // release; composer.lock keeps the `v`.
        let version = match version.strip_prefix(['v', 'V']) {
            Some(rest)
                if ecosystem == Ecosystem::Packagist
                    && rest.starts_with(|c: char| c.is_ascii_digit()) =>
            {
                rest
            }
            _ => version,
        };
        Self {
            ecosystem,
            name: canonical_name(ecosystem, name),
            version: version.to_owned(),
        }
    }

    pub fn of_pin(pin: &Pin) -> Self {
        Self::new(pin.ecosystem, &pin.name, &pin.version)
    }
}

/// A package name as its ecosystem compares names.
pub fn canonical_name(ecosystem: Ecosystem, name: &str) -> String {
    match ecosystem {
        Ecosystem::Pypi => pypi_name(name),
        Ecosystem::CratesIo | Ecosystem::Packagist => name.trim().to_ascii_lowercase(),
        _ => name.trim().to_owned(),
    }
}

/// What a results store holds about one release: its verdict and the
/// artifact it judged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysed {
    /// The registry's spelling of the name.
    pub name: String,
    #[serde(serialize_with = "crate::output::severity")]
    pub severity: Severity,
    pub score: f64,
    /// The verdict's reasons, heaviest first.
    pub reasons: Vec<Reason>,
    /// When the verdict was reached (RFC 3339), when the store says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judged_at: Option<String>,
    /// The artifact that was analysed, when the store has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact: Option<AnalysedArtifact>,
    /// Which store said so.
    pub store: String,
}

/// One reason of a verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    pub code: String,
    pub description: String,
    pub weight: f64,
    #[serde(serialize_with = "crate::output::severity")]
    pub severity: Severity,
}

impl Reason {
    /// A verdict's reasons as the outputs show them, heaviest first.
    pub fn heaviest_first(reasons: &[paddock_proto::v1::Reason]) -> Vec<Reason> {
        let mut out: Vec<Reason> = reasons
            .iter()
            .map(|r| Reason {
                code: r.code.clone(),
                description: r.description.clone(),
                weight: r.weight,
                severity: r.severity(),
            })
            .collect();
        out.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        out
    }
}

/// The artifact a verdict is about, with every digest known for it.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct AnalysedArtifact {
    pub filename: String,
    /// `(algorithm, lowercase hex)`: the sha256 Paddock computed, and the
    /// registry's own digests (npm's integrity decoded from SRI).
    pub digests: Vec<(String, String)>,
}

impl AnalysedArtifact {
    /// From the artifact's sha256 and the registry's digests as Paddock
    /// records them (`algorithm`, value; npm integrity kept as SRI).
    pub fn new(
        filename: &str,
        sha256: &str,
        registry: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        let mut digests = Vec::new();
        if let Some(d) = Digest::new("sha256", sha256) {
            digests.push((d.algorithm, d.hex));
        }
        for (algorithm, value) in registry {
            let parsed = Digest::new(&algorithm, &value).or_else(|| Digest::from_sri(&value));
            if let Some(d) = parsed {
                if !digests.contains(&(d.algorithm.clone(), d.hex.clone())) {
                    digests.push((d.algorithm, d.hex));
                }
            }
        }
        Self {
            filename: filename.to_owned(),
            digests,
        }
    }
}

/// A place verdicts are looked up: the sink's Parquet dataset, BigQuery,
/// a running Paddock.
pub trait Store {
    /// How the store is named in output (`parquet:/var/lib/paddock/parquet`).
    fn describe(&self) -> String;

    /// What the store knows about each of `wanted`; releases it does not
    /// know are absent from the answer.
    fn lookup(
        &self,
        wanted: &HashSet<ReleaseKey>,
    ) -> Result<HashMap<ReleaseKey, Analysed>, StoreError>;
}

/// A store that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{store}: {reason}")]
pub struct StoreError {
    pub store: String,
    pub reason: String,
}

/// Keeps, of two answers about one release, the later verdict (a
/// re-analysis replaces the earlier one); an answer with an artifact fills
/// in one without.
pub(crate) fn keep_latest(
    found: &mut HashMap<ReleaseKey, Analysed>,
    key: ReleaseKey,
    new: Analysed,
) {
    match found.get_mut(&key) {
        None => {
            found.insert(key, new);
        }
        Some(old) => {
            let artifact = old.artifact.take();
            if new.judged_at >= old.judged_at {
                *old = new;
            }
            if old.artifact.is_none() {
                old.artifact = artifact;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_as_their_ecosystem_compares_them() {
        assert_eq!(
            ReleaseKey::new(Ecosystem::Pypi, "Zope.Interface", "5.0"),
            ReleaseKey::new(Ecosystem::Pypi, "zope-interface", "5.0")
        );
        assert_eq!(
            ReleaseKey::new(Ecosystem::Packagist, "Monolog/Monolog", "3.0.0"),
            ReleaseKey::new(Ecosystem::Packagist, "monolog/monolog", "3.0.0")
        );
        assert_ne!(
            ReleaseKey::new(Ecosystem::Npm, "Left-Pad", "1.0.0"),
            ReleaseKey::new(Ecosystem::Npm, "left-pad", "1.0.0")
        );
        assert_eq!(
            ReleaseKey::new(Ecosystem::Packagist, "a/b", "v1.2.0"),
            ReleaseKey::new(Ecosystem::Packagist, "a/b", "1.2.0")
        );
        assert_ne!(
            ReleaseKey::new(Ecosystem::Npm, "a", "v1.2.0"),
            ReleaseKey::new(Ecosystem::Npm, "a", "1.2.0")
        );
        assert_ne!(
            ReleaseKey::new(Ecosystem::Pypi, "six", "1.16.0"),
            ReleaseKey::new(Ecosystem::Npm, "six", "1.16.0")
        );
    }

    #[test]
    fn an_artifact_knows_its_digests_in_every_encoding_once() {
        let sha256 = "ab".repeat(32);
        // sha512 of the empty string, as npm's integrity.
        let sri = "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==";
        let a = AnalysedArtifact::new(
            "x-1.0.0.tgz",
            &sha256,
            [
                ("sha512".to_owned(), sri.to_owned()),
                ("sha256".to_owned(), sha256.to_uppercase()),
                ("git-reference".to_owned(), "deadbeef".to_owned()),
            ],
        );
        assert_eq!(a.digests.len(), 2, "{:?}", a.digests);
        assert_eq!(a.digests[0], ("sha256".into(), sha256));
        assert_eq!(a.digests[1].0, "sha512");
        assert!(a.digests[1].1.starts_with("cf83e1357eefb8bd"));
    }
}
