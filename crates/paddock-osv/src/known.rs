//! Known malicious releases, read from an OSV export: a directory tree of
//! `*.json` reports (a clone of ossf/malicious-packages, or a Paddock
//! report directory) or a `.zip` of such reports (OSV's per-ecosystem
//! `all.zip`).
//!
//! An export comes from elsewhere and is read as hostile:
//!
//! - a zip is never extracted: each entry is read into memory, at most
//!   [`Limits::max_entry_bytes`] of it whatever its header claims, and
//!   entry names are only labels (one that is absolute or has a `..` is
//!   skipped with a warning);
//! - a directory walk does not follow symbolic links and stops at
//!   [`Limits::max_depth`];
//! - the number of entries and the bytes read in all are bounded; past
//!   either, loading fails rather than return a silently partial list;
//! - a file that is not a readable OSV record, or is too large, is
//!   counted and warned about, and the rest of the export still loads.
//!
//! Records of ecosystems Paddock does not watch are counted and skipped.
//! Withdrawn records are kept apart: [`KnownMalicious::lookup`] never
//! matches them, [`KnownMalicious::withdrawn`] does.
//!
//! Versions match when a record lists them, or when they fall in one of
//! its ranges: `introduced: "0"` with no other event is every version;
//! `ECOSYSTEM` ranges compare by the ecosystem's own ordering and
//! `SEMVER` ranges by semver, both through
//! [`paddock_registry::version::compare`] (the one version ordering in
//! Paddock: PEP 440, semver, RubyGems segments, Composer stabilities).
//! `GIT` ranges are not evaluated.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use paddock_proto::v1::Ecosystem;
use serde::Deserialize;

use crate::{names, OsvError};

/// How much of an export is read.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest report read (default 4 MiB; real ones are a few KiB).
    pub max_entry_bytes: u64,
    /// The most directory entries or zip entries looked at (default one
    /// million; the whole database holds a few hundred thousand). A zip
    /// that declares more is refused before its directory is read.
    pub max_entries: u64,
    /// The most bytes read in all, uncompressed (default 4 GiB).
    pub max_total_bytes: u64,
    /// The largest zip file opened (default 2 GiB).
    pub max_archive_bytes: u64,
    /// The deepest directory level walked (default 32).
    pub max_depth: usize,
    /// The most warnings kept word for word; the rest are counted.
    pub max_warnings: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entry_bytes: 4 << 20,
            max_entries: 1_000_000,
            max_total_bytes: 4 << 30,
            max_archive_bytes: 2 << 30,
            max_depth: 32,
            max_warnings: 100,
        }
    }
}

/// One known malicious package record.
#[derive(Debug, Clone, PartialEq)]
pub struct Known {
    /// The record's id (`MAL-2026-2958`, or `MAL-0000-…` before one is
    /// assigned).
    pub id: String,
    pub summary: String,
    /// When it was withdrawn (a false positive), if it was.
    pub withdrawn: Option<String>,
    pub ecosystem: Ecosystem,
    /// The registry's spelling.
    pub name: String,
    pub versions: Vec<String>,
    pub ranges: Vec<Range>,
    /// The file or zip entry it was read from.
    pub source: String,
}

/// An `affected[].ranges[]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    pub kind: RangeKind,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeKind {
    Ecosystem,
    Semver,
    Git,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

/// How a version matched a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched {
    /// The record lists the version.
    Version,
    /// The record covers every version (`introduced: "0"` and nothing
    /// else).
    AllVersions,
    /// The version falls in one of the record's ranges.
    Range,
}

/// A record that matched a lookup, and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit<'a> {
    pub known: &'a Known,
    pub matched: Matched,
}

impl std::ops::Deref for Hit<'_> {
    type Target = Known;

    fn deref(&self) -> &Known {
        self.known
    }
}

/// What loading read and skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Files or zip entries named `*.json` that were read.
    pub files: u64,
    /// Records of Paddock's ecosystems that are not withdrawn.
    pub records: u64,
    pub withdrawn: u64,
    /// Records of other ecosystems.
    pub other_ecosystems: u64,
    /// Files that could not be used (not JSON, not OSV, too large,
    /// unsafe name, unreadable).
    pub bad: u64,
    /// The first warnings, word for word.
    pub warnings: Vec<String>,
}

/// Known malicious releases by (ecosystem, canonical name).
#[derive(Debug, Default)]
pub struct KnownMalicious {
    active: HashMap<(Ecosystem, String), Vec<Known>>,
    withdrawn: HashMap<(Ecosystem, String), Vec<Known>>,
    stats: LoadStats,
}

/// The parts of an OSV record read here.
#[derive(Deserialize)]
struct RawRecord {
    #[serde(default)]
    id: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default)]
    affected: Option<Vec<RawAffected>>,
}

#[derive(Deserialize)]
struct RawAffected {
    package: Option<RawPackage>,
    #[serde(default)]
    versions: Option<Vec<String>>,
    #[serde(default)]
    ranges: Option<Vec<RawRange>>,
}

#[derive(Deserialize)]
struct RawPackage {
    #[serde(default)]
    ecosystem: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    events: Vec<HashMap<String, serde_json::Value>>,
}

impl KnownMalicious {
    /// Reads an export: a directory, or a `.zip` file.
    pub fn load(path: &Path, limits: &Limits) -> Result<Self, OsvError> {
        let meta = std::fs::metadata(path).map_err(OsvError::io(path))?;
        let mut known = KnownMalicious::default();
        let mut budget = Budget::new(path, limits);
        if meta.is_dir() {
            known.walk(path, path, 0, limits, &mut budget)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
        {
            known.read_zip(path, meta.len(), limits, &mut budget)?;
        } else {
            return Err(OsvError::NotAnExport {
                path: path.to_owned(),
                reason: "neither a directory nor a .zip file".into(),
            });
        }
        Ok(known)
    }

    /// The records that say this release is malicious (withdrawn ones
    /// never match).
    pub fn lookup(&self, eco: Ecosystem, name: &str, version: &str) -> Vec<Hit<'_>> {
        hits(&self.active, eco, name, version)
    }

    /// Withdrawn records that named this release: it was reported, and
    /// the report was found to be a false positive.
    pub fn withdrawn(&self, eco: Ecosystem, name: &str, version: &str) -> Vec<Hit<'_>> {
        hits(&self.withdrawn, eco, name, version)
    }

    /// What was read and skipped.
    pub fn stats(&self) -> &LoadStats {
        &self.stats
    }

    /// Records loaded, withdrawn ones included.
    pub fn len(&self) -> usize {
        self.active
            .values()
            .chain(self.withdrawn.values())
            .map(Vec::len)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn warn(&mut self, limits: &Limits, text: String) {
        self.stats.bad += 1;
        if self.stats.warnings.len() < limits.max_warnings {
            tracing::warn!(warning = %text, "osv export entry skipped");
            self.stats.warnings.push(text);
        }
    }

    fn walk(
        &mut self,
        root: &Path,
        dir: &Path,
        depth: usize,
        limits: &Limits,
        budget: &mut Budget,
    ) -> Result<(), OsvError> {
        if depth > limits.max_depth {
            self.warn(
                limits,
                format!(
                    "{}: deeper than {} levels, not walked",
                    dir.display(),
                    limits.max_depth
                ),
            );
            return Ok(());
        }
        let mut entries: Vec<PathBuf> = Vec::new();
        let listing = match std::fs::read_dir(dir) {
            Ok(l) => l,
            Err(e) if depth == 0 => {
                return Err(OsvError::Io {
                    path: dir.to_owned(),
                    source: e,
                })
            }
            Err(e) => {
                self.warn(limits, format!("{}: {e}", dir.display()));
                return Ok(());
            }
        };
        for item in listing {
            match item {
                Ok(item) => entries.push(item.path()),
                Err(e) => self.warn(limits, format!("{}: {e}", dir.display())),
            }
        }
        entries.sort();
        for path in entries {
            budget.entry()?;
            // Never follow a link: it could point anywhere, or loop.
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let ft = meta.file_type();
            if ft.is_dir() {
                if path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                {
                    continue; // .git and the like
                }
                self.walk(root, &path, depth + 1, limits, budget)?;
            } else if ft.is_file() && path.extension().is_some_and(|e| e == "json") {
                let label = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                if meta.len() > limits.max_entry_bytes {
                    self.warn(
                        limits,
                        format!(
                            "{label}: {} bytes, more than the {} read",
                            meta.len(),
                            limits.max_entry_bytes
                        ),
                    );
                    continue;
                }
                let mut bytes = Vec::new();
                let read = std::fs::File::open(&path)
                    .and_then(|f| f.take(limits.max_entry_bytes + 1).read_to_end(&mut bytes));
                if let Err(e) = read {
                    self.warn(limits, format!("{label}: {e}"));
                    continue;
                }
                budget.bytes(bytes.len() as u64)?;
                if bytes.len() as u64 > limits.max_entry_bytes {
                    self.warn(
                        limits,
                        format!("{label}: grew past the {} read", limits.max_entry_bytes),
                    );
                    continue;
                }
                self.add(&label, &bytes, limits);
            }
        }
        Ok(())
    }

    fn read_zip(
        &mut self,
        path: &Path,
        size: u64,
        limits: &Limits,
        budget: &mut Budget,
    ) -> Result<(), OsvError> {
        if size > limits.max_archive_bytes {
            return Err(OsvError::Limit {
                path: path.to_owned(),
                what: "archive bytes",
                limit: limits.max_archive_bytes,
            });
        }
        let mut file = std::fs::File::open(path).map_err(OsvError::io(path))?;
        // The zip reader holds the whole central directory in memory:
        // refuse one that declares more entries than may be read before
        // it is parsed.
        if let Some(declared) = declared_entries(&mut file, size) {
            if declared > limits.max_entries {
                return Err(OsvError::Limit {
                    path: path.to_owned(),
                    what: "zip entries declared",
                    limit: limits.max_entries,
                });
            }
        }
        let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| {
            OsvError::NotAnExport {
                path: path.to_owned(),
                reason: e.to_string(),
            }
        })?;
        for i in 0..archive.len() {
            budget.entry()?;
            let mut entry = match archive.by_index(i) {
                Ok(e) => e,
                Err(e) => {
                    self.warn(limits, format!("entry {i}: {e}"));
                    continue;
                }
            };
            if entry.is_dir() {
                continue;
            }
            let name = match entry.name() {
                Ok(n) => n.into_owned(),
                Err(e) => {
                    self.warn(limits, format!("entry {i}: an unreadable name: {e}"));
                    continue;
                }
            };
            if !name.ends_with(".json") {
                continue;
            }
            let label: String = name.chars().take(200).collect();
            let absolute = name.starts_with(['/', '\\']) || name.get(1..2) == Some(":");
            if absolute
                || entry.enclosed_name().is_none()
                || name.split(['/', '\\']).any(|p| p == "..")
            {
                self.warn(
                    limits,
                    format!("{label}: an absolute or `..` entry name, skipped"),
                );
                continue;
            }
            if entry.size() > limits.max_entry_bytes {
                self.warn(
                    limits,
                    format!(
                        "{label}: {} bytes, more than the {} read",
                        entry.size(),
                        limits.max_entry_bytes
                    ),
                );
                continue;
            }
            // The header may lie: read one byte past the limit at most.
            let mut bytes = Vec::new();
            if let Err(e) = (&mut entry)
                .take(limits.max_entry_bytes + 1)
                .read_to_end(&mut bytes)
            {
                self.warn(limits, format!("{label}: {e}"));
                continue;
            }
            budget.bytes(bytes.len() as u64)?;
            if bytes.len() as u64 > limits.max_entry_bytes {
                self.warn(
                    limits,
                    format!(
                        "{label}: inflates past the {} read (its header said {})",
                        limits.max_entry_bytes,
                        entry.size()
                    ),
                );
                continue;
            }
            self.add(&label, &bytes, limits);
        }
        Ok(())
    }

    /// Adds one file's record.
    fn add(&mut self, label: &str, bytes: &[u8], limits: &Limits) {
        self.stats.files += 1;
        let record: RawRecord = match serde_json::from_slice(bytes) {
            Ok(r) => r,
            Err(e) => return self.warn(limits, format!("{label}: not an OSV record: {e}")),
        };
        let affected = record.affected.unwrap_or_default();
        if affected.is_empty() {
            return self.warn(limits, format!("{label}: no affected package"));
        }
        for a in affected {
            let Some(package) = a.package else {
                self.warn(
                    limits,
                    format!("{label}: an affected entry without a package"),
                );
                continue;
            };
            let Some(eco) = names::from_osv_ecosystem(&package.ecosystem) else {
                self.stats.other_ecosystems += 1;
                continue;
            };
            if package.name.trim().is_empty() {
                self.warn(limits, format!("{label}: a package without a name"));
                continue;
            }
            let ranges = a
                .ranges
                .unwrap_or_default()
                .into_iter()
                .filter_map(range)
                .collect();
            let known = Known {
                id: record.id.clone(),
                summary: record.summary.clone(),
                withdrawn: record.withdrawn.clone().filter(|w| !w.is_empty()),
                ecosystem: eco,
                name: package.name.clone(),
                versions: a.versions.unwrap_or_default(),
                ranges,
                source: label.to_owned(),
            };
            let key = (eco, names::canonical_name(eco, &package.name));
            if known.withdrawn.is_some() {
                self.stats.withdrawn += 1;
                self.withdrawn.entry(key).or_default().push(known);
            } else {
                self.stats.records += 1;
                self.active.entry(key).or_default().push(known);
            }
        }
    }
}

fn range(raw: RawRange) -> Option<Range> {
    let kind = match raw.kind.as_str() {
        "ECOSYSTEM" => RangeKind::Ecosystem,
        "SEMVER" => RangeKind::Semver,
        "GIT" => RangeKind::Git,
        _ => return None,
    };
    let events = raw
        .events
        .into_iter()
        .filter_map(|e| {
            // An event with more than one kind is malformed: skip it.
            if e.len() != 1 {
                return None;
            }
            let (k, v) = e.into_iter().next()?;
            let v = v.as_str()?.to_owned();
            Some(match k.as_str() {
                "introduced" => Event::Introduced(v),
                "fixed" => Event::Fixed(v),
                "last_affected" => Event::LastAffected(v),
                "limit" => Event::Limit(v),
                _ => return None,
            })
        })
        .collect();
    Some(Range { kind, events })
}

fn hits<'a>(
    map: &'a HashMap<(Ecosystem, String), Vec<Known>>,
    eco: Ecosystem,
    name: &str,
    version: &str,
) -> Vec<Hit<'a>> {
    let key = (eco, names::canonical_name(eco, name));
    map.get(&key)
        .into_iter()
        .flatten()
        .filter_map(|known| known.matches(version).map(|matched| Hit { known, matched }))
        .collect()
}

impl Known {
    /// How `version` matches this record, if it does.
    pub fn matches(&self, version: &str) -> Option<Matched> {
        let eco = self.ecosystem;
        if self
            .versions
            .iter()
            .any(|v| v == version || paddock_registry::version::compare(eco, v, version).is_eq())
        {
            return Some(Matched::Version);
        }
        for r in &self.ranges {
            if r.kind == RangeKind::Git {
                continue;
            }
            if r.events
                .iter()
                .all(|e| matches!(e, Event::Introduced(v) if v == "0"))
                && !r.events.is_empty()
            {
                return Some(Matched::AllVersions);
            }
            if r.contains(eco, version) {
                return Some(Matched::Range);
            }
        }
        None
    }
}

impl Range {
    /// OSV's evaluation: events in version order; at or past an
    /// `introduced` the version is affected, at or past a `fixed` (past a
    /// `last_affected`) it is not; at or past a `limit` it never is.
    pub fn contains(&self, eco: Ecosystem, version: &str) -> bool {
        let cmp = |a: &str, b: &str| -> Ordering {
            match (a, b) {
                ("0", "0") => Ordering::Equal,
                ("0", _) => Ordering::Less,
                (_, "0") => Ordering::Greater,
                _ => match self.kind {
                    // npm's ordering is semver's.
                    RangeKind::Semver => paddock_registry::version::compare(Ecosystem::Npm, a, b),
                    _ => paddock_registry::version::compare(eco, a, b),
                },
            }
        };
        let value = |e: &Event| -> String {
            match e {
                Event::Introduced(v)
                | Event::Fixed(v)
                | Event::LastAffected(v)
                | Event::Limit(v) => v.clone(),
            }
        };
        let mut limits = self
            .events
            .iter()
            .filter(|e| matches!(e, Event::Limit(_)))
            .peekable();
        if limits.peek().is_some() && !limits.any(|l| cmp(version, &value(l)) == Ordering::Less) {
            return false;
        }
        let mut events: Vec<&Event> = self
            .events
            .iter()
            .filter(|e| !matches!(e, Event::Limit(_)))
            .collect();
        events.sort_by(|a, b| cmp(&value(a), &value(b)));
        let mut affected = false;
        for e in events {
            match e {
                Event::Introduced(v) if cmp(version, v) != Ordering::Less => affected = true,
                Event::Fixed(v) if cmp(version, v) != Ordering::Less => affected = false,
                Event::LastAffected(v) if cmp(version, v) == Ordering::Greater => affected = false,
                _ => {}
            }
        }
        affected
    }
}

/// The number of entries a zip's end-of-central-directory record
/// declares (its zip64 record's when it has one), if the record is found.
/// Only the counts are read here; the zip crate parses the rest.
fn declared_entries(file: &mut std::fs::File, len: u64) -> Option<u64> {
    use std::io::{Seek, SeekFrom};
    const EOCD: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    const LOCATOR: [u8; 4] = [0x50, 0x4b, 0x06, 0x07];
    const EOCD64: [u8; 4] = [0x50, 0x4b, 0x06, 0x06];
    // The record is 22 bytes and may be followed by a comment of up to
    // 65535 bytes.
    let tail_len = len.min(22 + 65535);
    let mut tail = vec![0u8; tail_len as usize];
    file.seek(SeekFrom::Start(len - tail_len)).ok()?;
    file.read_exact(&mut tail).ok()?;
    let at = (0..tail.len().checked_sub(21)?)
        .rev()
        .find(|&i| tail[i..i + 4] == EOCD)?;
    let count = u64::from(u16::from_le_bytes([tail[at + 10], tail[at + 11]]));
    let locator = at.checked_sub(20).filter(|&l| tail[l..l + 4] == LOCATOR);
    let Some(l) = locator else {
        return Some(count);
    };
    let offset = u64::from_le_bytes(tail[l + 8..l + 16].try_into().ok()?);
    let mut record = [0u8; 40];
    file.seek(SeekFrom::Start(offset)).ok()?;
    file.read_exact(&mut record).ok()?;
    if record[..4] != EOCD64 {
        return Some(count);
    }
    Some(count.max(u64::from_le_bytes(record[32..40].try_into().ok()?)))
}

/// Entries and bytes read so far, against the limits.
struct Budget<'a> {
    path: &'a Path,
    limits: &'a Limits,
    entries: u64,
    bytes: u64,
}

impl<'a> Budget<'a> {
    fn new(path: &'a Path, limits: &'a Limits) -> Self {
        Self {
            path,
            limits,
            entries: 0,
            bytes: 0,
        }
    }

    fn entry(&mut self) -> Result<(), OsvError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(OsvError::Limit {
                path: self.path.to_owned(),
                what: "entries",
                limit: self.limits.max_entries,
            });
        }
        Ok(())
    }

    fn bytes(&mut self, n: u64) -> Result<(), OsvError> {
        self.bytes = self.bytes.saturating_add(n);
        if self.bytes > self.limits.max_total_bytes {
            return Err(OsvError::Limit {
                path: self.path.to_owned(),
                what: "bytes read",
                limit: self.limits.max_total_bytes,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(kind: RangeKind, events: &[Event]) -> Range {
        Range {
            kind,
            events: events.to_vec(),
        }
    }

    fn intro(v: &str) -> Event {
        Event::Introduced(v.into())
    }

    #[test]
    fn ranges_are_evaluated_in_version_order() {
        let range = r(
            RangeKind::Ecosystem,
            &[intro("1.0"), Event::Fixed("1.2".into())],
        );
        for (v, want) in [
            ("0.9", false),
            ("1.0", true),
            ("1.1.5", true),
            ("1.2", false),
            ("1.10", false),
        ] {
            assert_eq!(range.contains(Ecosystem::Pypi, v), want, "{v}");
        }
        // PEP 440: a pre-release of 1.2 is before 1.2.
        assert!(range.contains(Ecosystem::Pypi, "1.2rc1"));
        let last = r(
            RangeKind::Semver,
            &[intro("0"), Event::LastAffected("2.0.0".into())],
        );
        assert!(last.contains(Ecosystem::Npm, "2.0.0"));
        assert!(last.contains(Ecosystem::Npm, "2.0.0-beta.1"));
        assert!(!last.contains(Ecosystem::Npm, "2.0.1"));
        let limited = r(
            RangeKind::Ecosystem,
            &[intro("0"), Event::Limit("3.0.0".into())],
        );
        assert!(limited.contains(Ecosystem::Rubygems, "2.9"));
        assert!(!limited.contains(Ecosystem::Rubygems, "3.0.0"));
        // Reintroduced after a fix.
        let again = r(
            RangeKind::Ecosystem,
            &[intro("1.0"), Event::Fixed("1.1".into()), intro("2.0")],
        );
        assert!(!again.contains(Ecosystem::Packagist, "1.5.0"));
        assert!(again.contains(Ecosystem::Packagist, "v2.1.0"));
    }

    #[test]
    fn introduced_zero_alone_is_every_version() {
        let known = Known {
            id: "MAL-1".into(),
            summary: String::new(),
            withdrawn: None,
            ecosystem: Ecosystem::CratesIo,
            name: "x".into(),
            versions: vec!["1.0.0".into()],
            ranges: vec![r(RangeKind::Semver, &[intro("0")])],
            source: "x.json".into(),
        };
        assert_eq!(known.matches("1.0.0"), Some(Matched::Version));
        assert_eq!(known.matches("9.9.9"), Some(Matched::AllVersions));
        assert_eq!(known.matches("not-a-version"), Some(Matched::AllVersions));
        let git_only = Known {
            ranges: vec![r(RangeKind::Git, &[intro("0")])],
            versions: vec![],
            ..known
        };
        assert_eq!(git_only.matches("1.0.0"), None);
    }
}
