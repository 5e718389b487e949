//! One release's report, built from its verdict and the results behind
//! it.
//!
//! # Ids and file names
//!
//! The OSV schema requires `id`, and its pattern refuses an empty one, so
//! Paddock writes the contributor form the database's own origin files
//! use: `MAL-0000-<source>-<16 hex>`, which is also the file name
//! (`MAL-0000-<source>-<16 hex>.json`). The database assigns the final
//! `MAL-YYYY-N`. The hex is the start of the sha256 of the OSV ecosystem,
//! the canonical package name and the time of first publication, so:
//!
//! - it stays the same while later releases update the report (a hash of
//!   the content would rename the file at every update);
//! - a package reported again after its report was withdrawn gets a new
//!   id, instead of colliding with the withdrawn file.
//!
//! The same hex, as `PDK-<16 hex>`, is Paddock's origin id in
//! `database_specific.paddock`, with the time of the last change: the
//! `(id, modified_time)` pair the database uses to detect updates.
//! `database_specific.malicious-packages-origins` is the database's own
//! bookkeeping and is never written.

use chrono::{DateTime, Utc};
use paddock_proto::v1::{BehaviorChange, DynamicResult, StaticResult, Verdict};
use sha2::{Digest, Sha256};

use crate::config::OsvConfig;
use crate::iocs::Collector;
use crate::model::{
    timestamp, Affected, AffectedSpecific, Credit, Cwe, DatabaseSpecific, Package, PaddockMeta,
    Reference, Report, VersionVerdict, SCHEMA_VERSION,
};
use crate::names;

/// What one release's report is made from. The verdict is required; the
/// results and the change add evidence when they are at hand.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub verdict: &'a Verdict,
    pub static_result: Option<&'a StaticResult>,
    pub dynamic: Option<&'a DynamicResult>,
    pub change: Option<&'a BehaviorChange>,
}

impl<'a> Input<'a> {
    /// A verdict with no results beside it.
    pub fn verdict(verdict: &'a Verdict) -> Self {
        Self {
            verdict,
            static_result: None,
            dynamic: None,
            change: None,
        }
    }
}

/// The report of one analysed release, published `now`.
///
/// A verdict without a package, or of an unspecified ecosystem, still
/// gives a report, which [`crate::ReportDir::write`] then refuses with
/// the reason; the caller decides which verdicts are worth reporting
/// (only high-confidence ones: a false positive on a popular package is
/// public and costly).
pub fn report(input: &Input<'_>, config: &OsvConfig, now: DateTime<Utc>) -> Report {
    let now = whole_seconds(now);
    let package = input.verdict.package.clone().unwrap_or_default();
    let eco = package.ecosystem();
    let osv_eco = names::osv_ecosystem(eco).unwrap_or_default();
    let hex = id_hex(osv_eco, &names::canonical_name(eco, &package.name), now);

    let mut collector = Collector::new(config);
    if let Some(d) = input.dynamic {
        collector.dynamic(d);
    }
    if let Some(c) = input.change {
        collector.change(c);
    }
    if let Some(s) = input.static_result {
        collector.static_result(s);
    }
    let iocs = collector.finish();
    let details = crate::details::write(input, &iocs);

    let report_url = config.report_url(
        paddock_proto::ecosystem::cli_name(eco),
        &package.name,
        &package.version,
    );
    let references = report_url
        .iter()
        .map(|url| Reference {
            kind: "REPORT".into(),
            url: url.clone(),
        })
        .collect();
    let score = input.verdict.score;
    let known_version = Some(package.version.clone()).filter(|v| !v.is_empty());
    Report {
        schema_version: SCHEMA_VERSION.into(),
        id: format!("MAL-0000-{}-{hex}", config.source),
        modified: now,
        published: now,
        withdrawn: None,
        summary: summary(&package.name, osv_eco),
        details,
        affected: vec![Affected {
            package: Package {
                ecosystem: osv_eco.into(),
                name: package.name.clone(),
            },
            versions: known_version.iter().cloned().collect(),
            database_specific: AffectedSpecific {
                cwes: vec![Cwe::embedded_malicious_code()],
                extra: Default::default(),
            },
            extra: Default::default(),
        }],
        references,
        credits: vec![Credit {
            name: config.finder.clone(),
            kind: "FINDER".into(),
            contact: config.contact.clone(),
        }],
        database_specific: DatabaseSpecific {
            iocs,
            paddock: PaddockMeta {
                origin_id: format!("PDK-{hex}"),
                modified: now,
                versions: known_version
                    .iter()
                    .map(|version| VersionVerdict {
                        version: version.clone(),
                        score: if score.is_finite() { score } else { 0.0 },
                        severity: paddock_proto::ecosystem::severity_token(
                            input.verdict.severity(),
                        )
                        .into(),
                        scoring_version: input.verdict.scoring_version.clone(),
                        previous_version: input.verdict.previous_version.clone(),
                        report_url: report_url.clone().unwrap_or_default(),
                    })
                    .collect(),
                withdrawn_versions: Vec::new(),
                extra: Default::default(),
            },
            extra: Default::default(),
        },
        extra: Default::default(),
    }
}

/// The summary the database writes itself: `Malicious code in <name>
/// (<ecosystem>)`.
pub fn summary(name: &str, osv_ecosystem: &str) -> String {
    format!("Malicious code in {name} ({osv_ecosystem})")
}

/// The first 16 hex digits of sha256 over the report's identity.
pub(crate) fn id_hex(
    osv_ecosystem: &str,
    canonical_name: &str,
    published: DateTime<Utc>,
) -> String {
    id_hex_of(&[
        osv_ecosystem,
        canonical_name,
        &timestamp::format(&published),
    ])
}

/// The first 16 hex digits of sha256 over `parts`, each ended by a NUL.
pub(crate) fn id_hex_of(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(b"paddock-osv\0");
    for part in parts {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())[..16].to_owned()
}

/// Times are written to the second: drop the rest so that a report read
/// back equals the one written.
pub(crate) fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}
