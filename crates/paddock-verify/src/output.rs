//! A verification as a readable table and as JSON.

use std::fmt::Write as _;

use paddock_lockfile::Format;
use paddock_proto::ecosystem::{cli_name, severity_token};
use paddock_proto::v1::Severity;
use serde::{Serialize, Serializer};

use crate::{location, Check, DigestCheck, KnownRecord, LockfileSummary, Status, Verification};

/// How many of a verdict's reasons the outputs show.
const TOP_REASONS: usize = 3;
/// How much of an evidence line the table shows (JSON has all of it).
const CELL: usize = 140;

pub(crate) fn severity<S: Serializer>(severity: &Severity, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(severity_token(*severity))
}

pub(crate) fn format<S: Serializer>(format: &Format, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{format:?}"))
}

/// The words of a status.
pub fn status_words(status: Status) -> &'static str {
    match status {
        Status::Clean => "clean",
        Status::NotAnalysed => "not analysed",
        Status::Flagged => "flagged",
        Status::DigestMismatch => "not the artifact that was analysed",
        Status::KnownMalicious => "known malicious",
    }
}

/// The check's evidence in one line: the known record, the digest
/// mismatch, or the verdict's heaviest reason.
pub fn evidence(check: &Check) -> String {
    if let Some(k) = check.known.first() {
        return format!("{}: {}", k.id, k.summary);
    }
    if let DigestCheck::Mismatch {
        algorithm,
        lockfile,
        analysed,
        analysed_file,
    } = &check.digest
    {
        return format!(
            "lockfile {algorithm} {}… but {analysed_file} was analysed with {algorithm} {}…",
            &lockfile[..lockfile.len().min(12)],
            &analysed[..analysed.len().min(12)]
        );
    }
    match &check.analysed {
        None => "no store has analysed this release".to_owned(),
        Some(a) => match a.reasons.first() {
            Some(r) => format!("{}: {}", r.code, r.description),
            None => "no reasons".to_owned(),
        },
    }
}

/// The readable table: every check that is not clean, worst first
/// (`all` adds the clean ones), then a summary line.
pub fn table(v: &Verification, all: bool) -> String {
    let mut out = String::new();
    let rows: Vec<&Check> = v
        .checks
        .iter()
        .filter(|c| all || c.status() != Status::Clean)
        .collect();
    if !rows.is_empty() {
        let release = |c: &Check| {
            format!(
                "{} {}@{}",
                cli_name(c.pin.ecosystem),
                c.analysed.as_ref().map_or(&c.pin.name, |a| &a.name),
                c.pin.version
            )
        };
        let width = rows
            .iter()
            .map(|c| release(c).len())
            .max()
            .unwrap_or(0)
            .min(60);
        let _ = writeln!(
            out,
            "{:<8}  {:<width$}  {:<34}  EVIDENCE  (WHERE)",
            "LEVEL", "RELEASE", "STATUS"
        );
        for c in rows {
            let level = c
                .level()
                .map(|l| severity_token(l).to_uppercase())
                .unwrap_or_else(|| "-".to_owned());
            let status = match (&c.analysed, c.status()) {
                (Some(a), Status::Flagged | Status::Clean) => {
                    format!("{} (score {:.0})", status_words(c.status()), a.score)
                }
                (_, s) => status_words(s).to_owned(),
            };
            let _ = writeln!(
                out,
                "{level:<8}  {:<width$}  {status:<34}  {}  ({})",
                release(c),
                clip(&evidence(c)),
                location(c)
            );
            if let Some(a) = &c.analysed {
                if c.status() == Status::Flagged {
                    for r in a.reasons.iter().skip(1).take(TOP_REASONS - 1) {
                        let _ = writeln!(
                            out,
                            "{:<8}  {:<width$}  {:<34}  {}: {}",
                            "", "", "", r.code, r.description
                        );
                    }
                }
            }
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "{}", summary_line(v));
    out
}

/// A table cell's text, cut at [`CELL`] characters.
fn clip(text: &str) -> String {
    match text.char_indices().nth(CELL) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// `2,000 pinned releases in 1 lockfile: 1 known malicious, …`.
pub fn summary_line(v: &Verification) -> String {
    let counts = v.counts();
    let count = |s| counts.get(&s).copied().unwrap_or(0);
    let files = v.lockfiles.len();
    let mut parts = Vec::new();
    for s in [
        Status::KnownMalicious,
        Status::DigestMismatch,
        Status::Flagged,
        Status::NotAnalysed,
        Status::Clean,
    ] {
        parts.push(format!("{} {}", count(s), status_words(s)));
    }
    format!(
        "{} pinned releases in {files} lockfile{}: {}",
        v.checks.len(),
        if files == 1 { "" } else { "s" },
        parts.join(", ")
    )
}

/// The JSON document of `paddock verify --format json`.
#[derive(Debug, Serialize)]
pub struct Document<'a> {
    pub sources: &'a [String],
    pub lockfiles: &'a [LockfileSummary],
    pub errors: &'a [String],
    pub results: Vec<Entry<'a>>,
    pub summary: Summary,
    /// Whether the `--fail-on` threshold was reached.
    pub failed: bool,
}

/// One check in the JSON document.
#[derive(Debug, Serialize)]
pub struct Entry<'a> {
    pub ecosystem: &'static str,
    pub name: &'a str,
    pub version: &'a str,
    pub lockfile: &'a std::path::Path,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<&'static str>,
    pub evidence: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<&'a crate::Analysed>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub known: &'a [KnownRecord],
    pub digest: &'a DigestCheck,
}

/// Counts by status.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub releases: usize,
    pub known_malicious: usize,
    pub digest_mismatch: usize,
    pub flagged: usize,
    pub not_analysed: usize,
    pub clean: usize,
}

/// The JSON document of a verification.
pub fn document(v: &Verification, failed: bool) -> Document<'_> {
    let counts = v.counts();
    let count = |s| counts.get(&s).copied().unwrap_or(0);
    Document {
        sources: &v.sources,
        lockfiles: &v.lockfiles,
        errors: &v.errors,
        results: v
            .checks
            .iter()
            .map(|c| Entry {
                ecosystem: cli_name(c.pin.ecosystem),
                name: &c.pin.name,
                version: &c.pin.version,
                lockfile: &c.lockfile,
                line: c.pin.line,
                status: c.status(),
                level: c.level().map(severity_token),
                evidence: evidence(c),
                verdict: c.analysed.as_ref(),
                known: &c.known,
                digest: &c.digest,
            })
            .collect(),
        summary: Summary {
            releases: v.checks.len(),
            known_malicious: count(Status::KnownMalicious),
            digest_mismatch: count(Status::DigestMismatch),
            flagged: count(Status::Flagged),
            not_analysed: count(Status::NotAnalysed),
            clean: count(Status::Clean),
        },
        failed,
    }
}
