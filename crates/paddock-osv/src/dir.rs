//! A directory of reports laid out like ossf/malicious-packages:
//! `osv/malicious/<ecosystem>/<canonical name>/<id>.json`, and
//! `osv/withdrawn/…` for reports that were lowered.
//!
//! # Invariants
//!
//! - One Paddock report per package under `osv/malicious`: a later
//!   release updates it (versions, indicators and references merged,
//!   details and `modified` refreshed) instead of adding a file. Writing
//!   what is already there changes nothing, `modified` included.
//! - Files are written to a temporary file in the same directory, synced
//!   and renamed over the target: a reader sees the old report or the new
//!   one, never part of one.
//! - A file that is not Paddock's (not JSON, too large, another source's
//!   report, a symbolic link) is never changed: Paddock writes its own
//!   file beside it and lists it in [`Written::left_alone`]. Only when
//!   such a file has exactly the name Paddock's report needs is the write
//!   refused ([`OsvError::Occupied`]).
//! - Directories are created one level at a time under the root, and a
//!   symbolic link met on the way is refused: a planted link cannot send
//!   a report outside the tree.
//! - One writer per directory at a time (the sink that owns it): two
//!   concurrent writers of the same package could each miss the other's
//!   update.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use paddock_proto::v1::Ecosystem;
use serde_json::Value;

use crate::model::{IocFile, Iocs, Report, VersionVerdict, WithdrawnVersion};
use crate::report::{id_hex_of, whole_seconds};
use crate::{names, OsvError};

/// The largest report file read back (a real one is a few KiB).
pub const MAX_REPORT_BYTES: u64 = 1 << 20;
/// The most report files looked at in one package directory (a real
/// package has a handful).
const MAX_FILES_PER_PACKAGE: usize = 256;
/// The most references a report keeps (one per reported version).
const MAX_REFERENCES: usize = 100;

/// Which tree a report is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tree {
    Malicious,
    Withdrawn,
}

impl Tree {
    pub fn dir_name(self) -> &'static str {
        match self {
            Tree::Malicious => "malicious",
            Tree::Withdrawn => "withdrawn",
        }
    }
}

/// What [`ReportDir::write`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    pub outcome: Outcome,
    /// Files in the package's directory that are not Paddock's and were
    /// left as they are, with the reason.
    pub left_alone: Vec<(PathBuf, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The package had no Paddock report: a new file.
    Created,
    /// The package's report now covers this release too.
    Updated,
    /// The report already said all of it; the file was not touched.
    Unchanged,
}

/// What [`ReportDir::withdraw`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Withdrawn {
    /// The version was the report's last: the report moved to
    /// `osv/withdrawn` with `withdrawn` set.
    Moved { from: PathBuf, to: PathBuf },
    /// Other versions remain: the version left the report, and a
    /// withdrawn report of that version alone was written.
    Split {
        remaining: PathBuf,
        withdrawn: PathBuf,
    },
    /// A withdrawn Paddock report already lists the version.
    AlreadyWithdrawn { path: PathBuf },
    /// No Paddock report lists the version.
    NotReported,
}

/// A report directory (see the module documentation).
#[derive(Debug, Clone)]
pub struct ReportDir {
    root: PathBuf,
    max_iocs: usize,
}

/// A file in a package's directory.
enum Entry {
    Ours(PathBuf, Box<Report>),
    Foreign(PathBuf, String),
}

impl ReportDir {
    /// The directory whose `osv/` holds the reports (a clone of the
    /// database, or a sink's own directory).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            max_iocs: crate::OsvConfig::default().max_iocs,
        }
    }

    /// The most entries per indicator list after a merge (the
    /// configuration's `max_iocs`).
    pub fn with_max_iocs(mut self, max_iocs: usize) -> Self {
        self.max_iocs = max_iocs.max(1);
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `osv/<tree>/<ecosystem>/<canonical name>` under the root.
    pub fn package_dir(&self, tree: Tree, eco: Ecosystem, name: &str) -> Result<PathBuf, OsvError> {
        let eco_dir = names::ecosystem_dir(eco).ok_or_else(|| {
            OsvError::Invalid("the ecosystem is not one Paddock reports on".into())
        })?;
        let mut dir = self.root.join("osv").join(tree.dir_name()).join(eco_dir);
        for part in names::name_components(eco, name)? {
            dir.push(part);
        }
        Ok(dir)
    }

    /// The package's Paddock report in `tree`, if there is one.
    pub fn find(
        &self,
        tree: Tree,
        eco: Ecosystem,
        name: &str,
    ) -> Result<Option<(PathBuf, Report)>, OsvError> {
        let dir = self.package_dir(tree, eco, name)?;
        Ok(self.scan(&dir)?.into_iter().find_map(|e| match e {
            Entry::Ours(p, r) => Some((p, *r)),
            Entry::Foreign(..) => None,
        }))
    }

    /// Writes a release's report, or updates the package's report with it.
    pub fn write(&self, report: &Report) -> Result<Written, OsvError> {
        let (eco, name) = check_writable(report)?;
        let dir = self.package_dir(Tree::Malicious, eco, &name)?;
        self.ensure_dir(&dir)?;
        let mut left_alone = Vec::new();
        let mut existing = None;
        for entry in self.scan(&dir)? {
            match entry {
                Entry::Ours(path, r) if existing.is_none() => existing = Some((path, r)),
                Entry::Ours(path, _) => left_alone.push((
                    path,
                    "a second Paddock report of the package; the first by name is updated".into(),
                )),
                Entry::Foreign(path, why) => left_alone.push((path, why)),
            }
        }
        let (path, outcome) = match existing {
            Some((path, old)) => {
                let merged = merge(&old, report, eco, self.max_iocs);
                if merged == *old {
                    (path, Outcome::Unchanged)
                } else {
                    write_atomic(&path, &merged)?;
                    (path, Outcome::Updated)
                }
            }
            None => {
                let path = dir.join(report.file_name());
                if let Some((_, why)) = left_alone.iter().find(|(p, _)| *p == path) {
                    return Err(OsvError::Occupied {
                        path,
                        reason: why.clone(),
                    });
                }
                write_atomic(&path, report)?;
                (path, Outcome::Created)
            }
        };
        Ok(Written {
            path,
            outcome,
            left_alone,
        })
    }

    /// Withdraws one version of a package: its verdict was lowered
    /// (suppressed, or analysed again and found benign). Calling it again
    /// changes nothing.
    pub fn withdraw(
        &self,
        eco: Ecosystem,
        name: &str,
        version: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Withdrawn, OsvError> {
        let now = whole_seconds(now);
        let mal_dir = self.package_dir(Tree::Malicious, eco, name)?;
        let wd_dir = self.package_dir(Tree::Withdrawn, eco, name)?;
        let found = self.scan(&mal_dir)?.into_iter().find_map(|e| match e {
            Entry::Ours(p, r) if has_version(&r, eco, version) => Some((p, r)),
            _ => None,
        });
        let Some((path, report)) = found else {
            for entry in self.scan(&wd_dir)? {
                if let Entry::Ours(p, r) = entry {
                    if has_version(&r, eco, version) {
                        return Ok(Withdrawn::AlreadyWithdrawn { path: p });
                    }
                }
            }
            return Ok(Withdrawn::NotReported);
        };
        let record = WithdrawnVersion {
            version: version.to_owned(),
            reason: reason.to_owned(),
            withdrawn: now,
        };
        let remaining: Vec<&String> = report
            .versions()
            .iter()
            .filter(|v| !same_version(eco, v, version))
            .collect();
        self.ensure_dir(&wd_dir)?;
        if remaining.is_empty() {
            let mut moved = (*report).clone();
            moved.withdrawn = Some(now);
            moved.modified = now;
            moved.database_specific.paddock.modified = now;
            moved
                .database_specific
                .paddock
                .withdrawn_versions
                .push(record);
            let to = wd_dir.join(moved.file_name());
            self.refuse_foreign(&wd_dir, &to)?;
            write_atomic(&to, &moved)?;
            std::fs::remove_file(&path).map_err(OsvError::io(&path))?;
            sync_dir(&mal_dir);
            return Ok(Withdrawn::Moved { from: path, to });
        }

        // The withdrawn report of this version alone. Indicators are not
        // kept per version, so it carries none: the malicious report
        // keeps them all.
        let mut single = (*report).clone();
        let hex = id_hex_of(&[
            &single
                .package()
                .map(|p| p.ecosystem.clone())
                .unwrap_or_default(),
            &names::canonical_name(eco, name),
            &crate::model::timestamp::format(&report.published),
            version,
        ]);
        let prefix = report
            .id
            .rsplit_once('-')
            .map(|(p, _)| p)
            .unwrap_or("MAL-0000-paddock");
        single.id = format!("{prefix}-{hex}");
        single.database_specific.paddock.origin_id = format!("PDK-{hex}");
        single.withdrawn = Some(now);
        single.modified = now;
        single.published = now;
        single.database_specific.paddock.modified = now;
        single.database_specific.iocs = Iocs::default();
        let own_url = version_verdict(&report, eco, version).map(|v| v.report_url.clone());
        single
            .references
            .retain(|r| Some(&r.url) == own_url.as_ref());
        single
            .database_specific
            .paddock
            .versions
            .retain(|v| same_version(eco, &v.version, version));
        single.database_specific.paddock.withdrawn_versions = vec![record.clone()];
        if let Some(a) = single.affected.first_mut() {
            a.versions.retain(|v| same_version(eco, v, version));
        }
        let to = wd_dir.join(single.file_name());
        self.refuse_foreign(&wd_dir, &to)?;
        write_atomic(&to, &single)?;

        let mut rest = (*report).clone();
        if let Some(a) = rest.affected.first_mut() {
            a.versions.retain(|v| !same_version(eco, v, version));
        }
        rest.references
            .retain(|r| Some(&r.url) != own_url.as_ref() || r.url.is_empty());
        rest.database_specific
            .paddock
            .versions
            .retain(|v| !same_version(eco, &v.version, version));
        rest.database_specific
            .paddock
            .withdrawn_versions
            .push(record);
        rest.modified = now;
        rest.database_specific.paddock.modified = now;
        write_atomic(&path, &rest)?;
        Ok(Withdrawn::Split {
            remaining: path,
            withdrawn: to,
        })
    }

    /// Refuses to replace a file at `target` that is not Paddock's.
    fn refuse_foreign(&self, dir: &Path, target: &Path) -> Result<(), OsvError> {
        for entry in self.scan(dir)? {
            if let Entry::Foreign(p, why) = entry {
                if p == target {
                    return Err(OsvError::Occupied {
                        path: p,
                        reason: why,
                    });
                }
            }
        }
        Ok(())
    }

    /// Creates `dir` one level at a time under the root, refusing
    /// symbolic links and files on the way.
    fn ensure_dir(&self, dir: &Path) -> Result<(), OsvError> {
        std::fs::create_dir_all(&self.root).map_err(OsvError::io(&self.root))?;
        let rel = dir
            .strip_prefix(&self.root)
            .map_err(|_| OsvError::Invalid("a report directory outside the root".into()))?;
        let mut at = self.root.clone();
        for part in rel.components() {
            at.push(part);
            match std::fs::symlink_metadata(&at) {
                Ok(m) if m.file_type().is_dir() => {}
                Ok(_) => return Err(OsvError::NotADirectory { path: at }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    match std::fs::create_dir(&at) {
                        Ok(()) => {}
                        // Another process made it meanwhile: check it again.
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                            let m = std::fs::symlink_metadata(&at).map_err(OsvError::io(&at))?;
                            if !m.file_type().is_dir() {
                                return Err(OsvError::NotADirectory { path: at });
                            }
                        }
                        Err(e) => {
                            return Err(OsvError::Io {
                                path: at,
                                source: e,
                            })
                        }
                    }
                }
                Err(e) => {
                    return Err(OsvError::Io {
                        path: at,
                        source: e,
                    })
                }
            }
        }
        Ok(())
    }

    /// The `.json` files of a package directory, sorted by name, each
    /// Paddock's report or a foreign file with the reason. A missing
    /// directory has none; a directory reached through a symbolic link
    /// is refused.
    fn scan(&self, dir: &Path) -> Result<Vec<Entry>, OsvError> {
        // Every level under the root must be a real directory.
        if let Ok(rel) = dir.strip_prefix(&self.root) {
            let mut at = self.root.clone();
            for part in rel.components() {
                at.push(part);
                match std::fs::symlink_metadata(&at) {
                    Ok(m) if m.file_type().is_dir() => {}
                    Ok(_) => return Err(OsvError::NotADirectory { path: at }),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                    Err(e) => {
                        return Err(OsvError::Io {
                            path: at,
                            source: e,
                        })
                    }
                }
            }
        }
        let mut paths = Vec::new();
        for item in std::fs::read_dir(dir).map_err(OsvError::io(dir))? {
            let item = item.map_err(OsvError::io(dir))?;
            let path = item.path();
            if path.extension().is_some_and(|e| e == "json") {
                paths.push(path);
            }
            if paths.len() > MAX_FILES_PER_PACKAGE {
                return Err(OsvError::Limit {
                    path: dir.to_owned(),
                    what: "report files in one package directory",
                    limit: MAX_FILES_PER_PACKAGE as u64,
                });
            }
        }
        paths.sort();
        Ok(paths
            .into_iter()
            .map(|p| match read_ours(&p) {
                Ok(r) => Entry::Ours(p, Box::new(r)),
                Err(why) => Entry::Foreign(p, why),
            })
            .collect())
    }
}

/// A Paddock report from a file, or why the file is not one.
fn read_ours(path: &Path) -> Result<Report, String> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    if !meta.file_type().is_file() {
        return Err("not a regular file (a symbolic link or a directory)".into());
    }
    if meta.len() > MAX_REPORT_BYTES {
        return Err(format!("{} bytes, more than a report may have", meta.len()));
    }
    let mut text = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_REPORT_BYTES + 1).read_to_end(&mut text))
        .map_err(|e| e.to_string())?;
    if text.len() as u64 > MAX_REPORT_BYTES {
        return Err("grew past the size a report may have while it was read".into());
    }
    let value: Value = serde_json::from_slice(&text).map_err(|e| format!("not valid JSON: {e}"))?;
    let is_ours = value
        .pointer("/database_specific/paddock/origin_id")
        .and_then(Value::as_str)
        .is_some_and(|id| id.starts_with("PDK-"));
    if !is_ours {
        return Err("not a Paddock report (no database_specific.paddock.origin_id)".into());
    }
    let report: Report = serde_json::from_value(value)
        .map_err(|e| format!("a Paddock report Paddock cannot read: {e}"))?;
    if report.affected.len() != 1 {
        return Err("a Paddock report without exactly one affected package".into());
    }
    Ok(report)
}

/// The ecosystem and name of a report that may be written, or why not.
fn check_writable(report: &Report) -> Result<(Ecosystem, String), OsvError> {
    let invalid = |why: &str| Err(OsvError::Invalid(why.to_owned()));
    if report.affected.len() != 1 {
        return invalid("a report has exactly one affected package");
    }
    let package = &report.affected[0].package;
    let Some(eco) = names::from_osv_ecosystem(&package.ecosystem) else {
        return invalid("the ecosystem is not one Paddock reports on");
    };
    if package.name.trim().is_empty() {
        return invalid("the package has no name");
    }
    if report.versions().is_empty() || report.versions().iter().any(|v| v.trim().is_empty()) {
        return invalid("the report names no version (or an empty one)");
    }
    if !names::is_contributor_file_name(&report.file_name()) {
        return invalid("the id is not of the contributor form MAL-0000-<source>-<hex>");
    }
    if report.withdrawn.is_some() {
        return invalid("a withdrawn report is written by withdraw, not write");
    }
    if report.database_specific.paddock.origin_id.is_empty() {
        return invalid("the report has no Paddock origin id");
    }
    Ok((eco, package.name.clone()))
}

fn same_version(eco: Ecosystem, a: &str, b: &str) -> bool {
    a == b || paddock_registry::version::compare(eco, a, b).is_eq()
}

fn has_version(report: &Report, eco: Ecosystem, version: &str) -> bool {
    report
        .versions()
        .iter()
        .any(|v| same_version(eco, v, version))
}

fn version_verdict<'a>(
    report: &'a Report,
    eco: Ecosystem,
    version: &str,
) -> Option<&'a VersionVerdict> {
    report
        .database_specific
        .paddock
        .versions
        .iter()
        .find(|v| same_version(eco, &v.version, version))
}

/// `old` updated with `new` (a later release, or the same one again).
/// The id, publication time and origin id stay; `modified` moves only
/// when something else changed.
fn merge(old: &Report, new: &Report, eco: Ecosystem, max_iocs: usize) -> Report {
    let mut out = old.clone();
    let new_versions = new.versions();

    let mut versions: Vec<String> = old.versions().to_vec();
    for v in new_versions {
        if !versions.iter().any(|o| same_version(eco, o, v)) {
            versions.push(v.clone());
        }
    }
    versions.sort_by(|a, b| paddock_registry::version::compare(eco, a, b));

    let meta = &mut out.database_specific.paddock;
    for v in &new.database_specific.paddock.versions {
        meta.versions
            .retain(|o| !same_version(eco, &o.version, &v.version));
        meta.versions.push(v.clone());
    }
    meta.versions
        .sort_by(|a, b| paddock_registry::version::compare(eco, &a.version, &b.version));
    // A version reported again is no longer withdrawn.
    meta.withdrawn_versions.retain(|w| {
        !new_versions
            .iter()
            .any(|v| same_version(eco, v, &w.version))
    });

    out.database_specific.iocs = merge_iocs(
        &old.database_specific.iocs,
        &new.database_specific.iocs,
        max_iocs,
    );
    for (k, v) in &new.database_specific.extra {
        out.database_specific.extra.insert(k.clone(), v.clone());
    }

    let affected = &mut out.affected[0];
    affected.versions = versions;
    affected.database_specific.cwes = new.affected[0].database_specific.cwes.clone();
    affected.package.name = new.affected[0].package.name.clone();

    for r in &new.references {
        if !out.references.contains(r) && out.references.len() < MAX_REFERENCES {
            out.references.push(r.clone());
        }
    }
    out.schema_version = new.schema_version.clone();
    out.summary = new.summary.clone();
    out.details = new.details.clone();
    out.credits = new.credits.clone();

    if out != *old {
        out.modified = new.modified.max(old.modified);
        out.database_specific.paddock.modified = out.modified;
    }
    out
}

fn merge_iocs(old: &Iocs, new: &Iocs, cap: usize) -> Iocs {
    let list = |a: &[String], b: &[String]| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for v in a.iter().chain(b) {
            if out.len() < cap && !out.contains(v) {
                out.push(v.clone());
            }
        }
        out
    };
    let mut files: Vec<IocFile> = Vec::new();
    for f in old.files.iter().chain(&new.files) {
        let same = files.iter().position(|g| {
            g.source == f.source
                && match (&g.digests, &f.digests) {
                    (Some(a), Some(b)) => a.sha256 == b.sha256,
                    (None, None) => g.paths == f.paths,
                    _ => false,
                }
        });
        match same {
            Some(i) => {
                let g = &mut files[i];
                for p in &f.paths {
                    if !g.paths.contains(p) && g.paths.len() < cap {
                        g.paths.push(p.clone());
                    }
                }
            }
            None if files.len() < cap => files.push(f.clone()),
            None => {}
        }
    }
    Iocs {
        domains: list(&old.domains, &new.domains),
        ips: list(&old.ips, &new.ips),
        urls: list(&old.urls, &new.urls),
        files,
    }
}

/// Writes a report to a temporary file beside `path`, syncs it and
/// renames it over `path`.
fn write_atomic(path: &Path, report: &Report) -> Result<(), OsvError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".paddock-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(OsvError::io(dir))?;
    tmp.write_all(report.to_json().as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(OsvError::io(tmp.path()))?;
    tmp.persist(path).map_err(|e| OsvError::Io {
        path: path.to_owned(),
        source: e.error,
    })?;
    sync_dir(dir);
    Ok(())
}

/// Makes a rename durable. Best effort: not every file system syncs
/// directories, and the rename itself has happened.
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}
