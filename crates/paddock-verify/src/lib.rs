//! `paddock verify`: is anything a lockfile pins malicious?
//!
//! [`verify`] reads lockfiles (files, or directories searched the way the
//! ecosystems' tools search them), looks every pinned release up in the
//! results stores (the sink's Parquet dataset, BigQuery, a running
//! Paddock) and in known-malicious records from others (an OSV
//! malicious-packages export), and compares the lockfile's artifact
//! digests with the artifact that was analysed. The answer is one
//! [`Check`] per pinned release: nothing is dropped, and a release no
//! store knows is reported as not analysed.
//!
//! # Layout
//!
//! - [`store`]: [`ReleaseKey`], [`Analysed`] and the [`Store`] trait;
//!   [`parquet_store`]: the sink's Parquet dataset.
//!   [`bigquery_store`]: the BigQuery sink's dataset.
//! - [`known`]: the [`KnownSource`] trait for known-malicious records;
//!   [`osv_export`]: an OSV malicious-packages export (directory or zip).
//! - [`output`]: the readable table and the JSON document; [`sarif`]: the
//!   SARIF log, located in the lockfiles.
//!
//! # Levels
//!
//! Each check has a level, the severity it counts as against `--fail-on`:
//! a known-malicious record is critical; an analysed release is its
//! verdict's severity; a digest that differs from the analysed artifact's
//! is at least high, because what the lockfile installs is not what was
//! judged. A release no store knows has no level (`--fail-on-missing`
//! makes it count).

pub mod api_store;
pub mod bigquery_store;
pub mod known;
pub mod osv_export;
pub mod output;
pub mod parquet_store;
pub mod sarif;
pub mod store;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use paddock_lockfile::{Format, Limits, Pin};
use paddock_proto::v1::Severity;
use serde::Serialize;

pub use api_store::ApiStore;
pub use bigquery_store::BigQueryStore;
pub use known::{KnownRecord, KnownSource};
pub use osv_export::OsvExport;
pub use parquet_store::ParquetStore;
pub use store::{Analysed, AnalysedArtifact, Reason, ReleaseKey, Store, StoreError};

/// How a verification runs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub limits: Limits,
    /// Do not compare the lockfiles' digests with the analysed artifacts'.
    pub ignore_digests: bool,
}

/// A lockfile that was read.
#[derive(Debug, Clone, Serialize)]
pub struct LockfileSummary {
    pub path: PathBuf,
    #[serde(serialize_with = "output::format")]
    pub format: Format,
    pub pins: usize,
    /// Entries that could not be pinned or contradict each other.
    pub warnings: Vec<String>,
}

/// One pinned release, checked.
#[derive(Debug, Clone)]
pub struct Check {
    pub pin: Pin,
    pub lockfile: PathBuf,
    /// What the results stores know, if any does.
    pub analysed: Option<Analysed>,
    /// Known-malicious records from others that cover this release.
    pub known: Vec<KnownRecord>,
    pub digest: DigestCheck,
}

/// The lockfile's digest against the analysed artifact's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum DigestCheck {
    /// A digest the lockfile records is the analysed artifact's.
    Match { algorithm: String },
    /// The lockfile records digests in an algorithm the analysed artifact
    /// is known by, and none of them is the analysed artifact's: what the
    /// lockfile installs is not the artifact that was analysed.
    Mismatch {
        algorithm: String,
        lockfile: String,
        analysed: String,
        analysed_file: String,
    },
    /// The lockfile records no digest for this entry.
    NotRecorded,
    /// The lockfile's digests and the analysed artifact's share no
    /// algorithm (or the store did not record the artifact).
    NotComparable,
    /// Not compared (`--ignore-digests`), or nothing was analysed.
    NotChecked,
}

/// What a check found, in words a table can sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Analysed, and the verdict is at most info.
    Clean,
    /// No store knows the release.
    NotAnalysed,
    /// The lockfile's artifact is not the one that was analysed.
    DigestMismatch,
    /// Analysed, and the verdict is low or worse.
    Flagged,
    /// Others' known-malicious records cover the release.
    KnownMalicious,
}

impl Check {
    fn new(pin: Pin, lockfile: PathBuf) -> Self {
        Self {
            pin,
            lockfile,
            analysed: None,
            known: Vec::new(),
            digest: DigestCheck::NotChecked,
        }
    }

    pub fn key(&self) -> ReleaseKey {
        ReleaseKey::of_pin(&self.pin)
    }

    /// The severity this check counts as, or `None` when nothing is known.
    pub fn level(&self) -> Option<Severity> {
        let mut level = self.analysed.as_ref().map(|a| a.severity);
        if matches!(self.digest, DigestCheck::Mismatch { .. }) {
            level = level.max(Some(Severity::High));
        }
        if !self.known.is_empty() {
            level = Some(Severity::Critical);
        }
        level
    }

    pub fn status(&self) -> Status {
        if !self.known.is_empty() {
            Status::KnownMalicious
        } else {
            match &self.analysed {
                Some(a) if a.severity >= Severity::Low => Status::Flagged,
                _ if matches!(self.digest, DigestCheck::Mismatch { .. }) => Status::DigestMismatch,
                None => Status::NotAnalysed,
                Some(_) => Status::Clean,
            }
        }
    }

    /// Records what a store knows and compares digests.
    pub fn set_analysed(&mut self, analysed: Analysed, options: &Options) {
        self.digest = if options.ignore_digests {
            DigestCheck::NotChecked
        } else {
            compare_digests(&self.pin, analysed.artifact.as_ref())
        };
        self.analysed = Some(analysed);
    }
}

/// Every pinned release of every lockfile, checked.
#[derive(Debug, Clone, Default)]
pub struct Verification {
    pub lockfiles: Vec<LockfileSummary>,
    /// Lockfiles that could not be read, with why.
    pub errors: Vec<String>,
    /// The stores and sources consulted, as they describe themselves.
    pub sources: Vec<String>,
    /// One per pinned release and lockfile, worst first.
    pub checks: Vec<Check>,
}

/// Why a verification could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}: no lockfile Paddock reads is there (package-lock.json, npm-shrinkwrap.json, yarn.lock, requirements*.txt, Pipfile.lock, poetry.lock, uv.lock, pylock.toml, Gemfile.lock, composer.lock, Cargo.lock)")]
    NoLockfile(PathBuf),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The lockfiles named by `paths`: files as given, directories searched.
pub fn lockfiles(paths: &[PathBuf]) -> Result<Vec<PathBuf>, VerifyError> {
    let mut out = Vec::new();
    for path in paths {
        let io = |source| VerifyError::Io {
            path: path.clone(),
            source,
        };
        if std::fs::metadata(path).map_err(io)?.is_dir() {
            let found = paddock_lockfile::find(path).map_err(io)?;
            if found.is_empty() {
                return Err(VerifyError::NoLockfile(path.clone()));
            }
            out.extend(found);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

/// Reads the lockfiles under `paths` and checks every pinned release
/// against `stores` (the first that knows a release answers) and `known`.
pub fn verify(
    paths: &[PathBuf],
    stores: &[&dyn Store],
    known: &[&dyn KnownSource],
    options: &Options,
) -> Result<Verification, VerifyError> {
    let mut verification = read(paths, options)?;
    for store in stores {
        let wanted = verification.wanted();
        if wanted.is_empty() {
            break;
        }
        verification.sources.push(store.describe());
        let found = store.lookup(&wanted)?;
        verification.answer(&found, options);
    }
    verification.check_known(known);
    Ok(verification)
}

/// Reads the lockfiles under `paths`: every pinned release, not yet
/// looked up. A lockfile that cannot be read is an error in
/// [`Verification::errors`] beside the others.
pub fn read(paths: &[PathBuf], options: &Options) -> Result<Verification, VerifyError> {
    let mut verification = Verification::default();
    for path in lockfiles(paths)? {
        match paddock_lockfile::read(&path, &options.limits) {
            Ok(lockfile) => verification.add_lockfile(lockfile),
            Err(e) => verification.errors.push(e.to_string()),
        }
    }
    Ok(verification)
}

impl Verification {
    /// Adds a lockfile's pins, once per release (a nested npm tree may pin
    /// one release in many places; the first place is kept).
    pub fn add_lockfile(&mut self, lockfile: paddock_lockfile::Lockfile) {
        let mut seen = HashSet::new();
        let pins = lockfile.pins.len();
        for pin in lockfile.pins {
            if seen.insert(ReleaseKey::of_pin(&pin)) {
                self.checks.push(Check::new(pin, lockfile.path.clone()));
            }
        }
        self.lockfiles.push(LockfileSummary {
            path: lockfile.path,
            format: lockfile.format,
            pins,
            warnings: lockfile.warnings,
        });
    }

    /// The releases no store has answered for yet.
    pub fn wanted(&self) -> HashSet<ReleaseKey> {
        self.checks
            .iter()
            .filter(|c| c.analysed.is_none())
            .map(Check::key)
            .collect()
    }

    /// Records a store's answers; releases already answered keep the
    /// earlier store's.
    pub fn answer(&mut self, found: &HashMap<ReleaseKey, Analysed>, options: &Options) {
        for check in self.checks.iter_mut().filter(|c| c.analysed.is_none()) {
            if let Some(analysed) = found.get(&check.key()) {
                check.set_analysed(analysed.clone(), options);
            }
        }
        self.sort();
    }

    /// Looks every release up in the known-malicious sources.
    pub fn check_known(&mut self, known: &[&dyn KnownSource]) {
        self.sources.extend(known.iter().map(|k| k.describe()));
        for check in &mut self.checks {
            let key = check.key();
            for source in known {
                check.known.extend(source.lookup(&key));
            }
        }
        self.sort();
    }

    /// The releases no store knows and no known-malicious record covers,
    /// once each.
    pub fn missing(&self) -> Vec<ReleaseKey> {
        let mut seen = HashSet::new();
        self.checks
            .iter()
            .filter(|c| c.analysed.is_none() && c.known.is_empty())
            .map(Check::key)
            .filter(|k| seen.insert(k.clone()))
            .collect()
    }

    /// Records an analysis made since (`--analyze-missing`).
    pub fn fill(&mut self, key: &ReleaseKey, analysed: &Analysed, options: &Options) {
        for check in self.checks.iter_mut().filter(|c| &c.key() == key) {
            check.set_analysed(analysed.clone(), options);
        }
        self.sort();
    }

    /// Worst first: by level, then status, then score, then lockfile
    /// order.
    pub fn sort(&mut self) {
        self.checks.sort_by(|a, b| {
            b.level()
                .cmp(&a.level())
                .then(b.status().cmp(&a.status()))
                .then_with(|| score(b).total_cmp(&score(a)))
                .then_with(|| a.lockfile.cmp(&b.lockfile))
                .then(a.pin.line.cmp(&b.pin.line))
        });
    }

    /// Whether the threshold is reached: a check at or above `fail_on`,
    /// or (with `fail_on_missing`) a release no store knows.
    pub fn fails(&self, fail_on: Option<Severity>, fail_on_missing: bool) -> bool {
        self.checks.iter().any(|c| {
            let over = matches!((c.level(), fail_on), (Some(l), Some(t)) if l >= t);
            over || (fail_on_missing && c.analysed.is_none() && c.known.is_empty())
        })
    }

    /// How many checks have each status.
    pub fn counts(&self) -> HashMap<Status, usize> {
        let mut counts = HashMap::new();
        for c in &self.checks {
            *counts.entry(c.status()).or_default() += 1;
        }
        counts
    }
}

fn score(check: &Check) -> f64 {
    check.analysed.as_ref().map_or(0.0, |a| a.score)
}

/// The lockfile's digests against the analysed artifact's.
pub fn compare_digests(pin: &Pin, artifact: Option<&AnalysedArtifact>) -> DigestCheck {
    if pin.digests.is_empty() {
        return DigestCheck::NotRecorded;
    }
    let Some(artifact) = artifact else {
        return DigestCheck::NotComparable;
    };
    let mut mismatch = None;
    for wanted in &pin.digests {
        for (algorithm, hex) in &artifact.digests {
            if *algorithm != wanted.algorithm {
                continue;
            }
            if *hex == wanted.hex {
                return DigestCheck::Match {
                    algorithm: algorithm.clone(),
                };
            }
            mismatch.get_or_insert_with(|| DigestCheck::Mismatch {
                algorithm: algorithm.clone(),
                lockfile: wanted.hex.clone(),
                analysed: hex.clone(),
                analysed_file: artifact.filename.clone(),
            });
        }
    }
    mismatch.unwrap_or(DigestCheck::NotComparable)
}

/// The place a check is about: `lockfile:line`.
pub fn location(check: &Check) -> String {
    let path = display_path(&check.lockfile);
    match check.pin.line {
        Some(line) => format!("{path}:{line}"),
        None => path,
    }
}

fn display_path(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use paddock_lockfile::Digest;
    use paddock_proto::v1::Ecosystem;

    use super::*;

    fn pin(digests: Vec<Digest>) -> Pin {
        Pin {
            ecosystem: Ecosystem::Npm,
            name: "x".into(),
            version: "1.0.0".into(),
            digests,
            line: Some(3),
        }
    }

    fn artifact(sha256: &str) -> AnalysedArtifact {
        AnalysedArtifact::new("x-1.0.0.tgz", sha256, [])
    }

    #[test]
    fn digests_match_mismatch_or_cannot_be_compared() {
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        let sha256 = |h: &str| Digest::new("sha256", h).unwrap();
        let sha1 = Digest::new("sha1", &"c".repeat(40)).unwrap();
        assert_eq!(
            compare_digests(&pin(vec![]), Some(&artifact(&a))),
            DigestCheck::NotRecorded
        );
        assert_eq!(
            compare_digests(&pin(vec![sha256(&a)]), Some(&artifact(&a))),
            DigestCheck::Match {
                algorithm: "sha256".into()
            }
        );
        // A Python lock lists every file's hash: one of them is enough.
        assert!(matches!(
            compare_digests(&pin(vec![sha256(&b), sha256(&a)]), Some(&artifact(&a))),
            DigestCheck::Match { .. }
        ));
        assert!(matches!(
            compare_digests(&pin(vec![sha256(&b)]), Some(&artifact(&a))),
            DigestCheck::Mismatch { ref lockfile, ref analysed, .. } if *lockfile == b && *analysed == a
        ));
        assert_eq!(
            compare_digests(&pin(vec![sha1]), Some(&artifact(&a))),
            DigestCheck::NotComparable
        );
        assert_eq!(
            compare_digests(&pin(vec![sha256(&a)]), None),
            DigestCheck::NotComparable
        );
    }

    #[test]
    fn levels_order_the_checks_and_decide_the_exit() {
        let analysed = |severity| Analysed {
            name: "x".into(),
            severity,
            score: 0.0,
            reasons: vec![],
            judged_at: None,
            artifact: None,
            store: "test".into(),
        };
        let mut v = Verification::default();
        let mut clean = Check::new(pin(vec![]), "a".into());
        clean.set_analysed(analysed(Severity::Info), &Options::default());
        let missing = Check::new(pin(vec![]), "b".into());
        let mut mismatch = Check::new(
            pin(vec![Digest::new("sha256", &"b".repeat(64)).unwrap()]),
            "c".into(),
        );
        let mut bad = analysed(Severity::Info);
        bad.artifact = Some(artifact(&"a".repeat(64)));
        mismatch.set_analysed(bad, &Options::default());
        v.checks = vec![clean, missing, mismatch];
        v.sort();
        let statuses: Vec<Status> = v.checks.iter().map(Check::status).collect();
        assert_eq!(
            statuses,
            [Status::DigestMismatch, Status::Clean, Status::NotAnalysed]
        );
        assert_eq!(v.checks[0].level(), Some(Severity::High));
        assert!(v.fails(Some(Severity::High), false));
        assert!(!v.fails(Some(Severity::Critical), false));
        assert!(v.fails(Some(Severity::Critical), true));
        assert!(!v.fails(None, false));
    }
}
