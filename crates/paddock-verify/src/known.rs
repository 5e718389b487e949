//! Known-malicious records from others: an OSV malicious-packages export.

use serde::Serialize;

use crate::store::ReleaseKey;

/// A record that says a release is malicious.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnownRecord {
    /// The record's id (`MAL-2026-1234`).
    pub id: String,
    pub summary: String,
    /// Where the record was read (`osv:/path/to/export`).
    pub source: String,
}

/// A set of known-malicious records.
pub trait KnownSource {
    /// How the source is named in output.
    fn describe(&self) -> String;

    /// The records that cover `release` (withdrawn ones never do).
    fn lookup(&self, release: &ReleaseKey) -> Vec<KnownRecord>;
}
