//! The OSV fields Paddock writes, as types.
//!
//! Fields Paddock does not manage (an `aliases` list or a reference a
//! reviewer added by hand) are kept in `extra` maps, so that updating a
//! report never drops them.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The OSV schema version written: what the database's current files
/// carry. Paddock's reports use nothing newer.
pub const SCHEMA_VERSION: &str = "1.7.4";

/// The CWE every malicious-packages record carries.
pub const CWE_ID: &str = "CWE-506";
pub const CWE_NAME: &str = "Embedded Malicious Code";
pub const CWE_DESCRIPTION: &str =
    "The product contains code that appears to be malicious in nature.";

/// One OSV record of a malicious package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: String,
    pub id: String,
    #[serde(with = "timestamp")]
    pub modified: DateTime<Utc>,
    #[serde(with = "timestamp")]
    pub published: DateTime<Utc>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "optional_timestamp"
    )]
    pub withdrawn: Option<DateTime<Utc>>,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub details: String,
    pub affected: Vec<Affected>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credits: Vec<Credit>,
    pub database_specific: DatabaseSpecific,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    pub package: Package,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    #[serde(default)]
    pub database_specific: AffectedSpecific,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// The OSV ecosystem name (`PyPI`, `npm`, `RubyGems`, `Packagist`,
    /// `crates.io`).
    pub ecosystem: String,
    /// The registry's spelling.
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AffectedSpecific {
    #[serde(default)]
    pub cwes: Vec<Cwe>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cwe {
    #[serde(rename = "cweId")]
    pub cwe_id: String,
    pub name: String,
    pub description: String,
}

impl Cwe {
    /// CWE-506, Embedded Malicious Code.
    pub fn embedded_malicious_code() -> Self {
        Self {
            cwe_id: CWE_ID.into(),
            name: CWE_NAME.into(),
            description: CWE_DESCRIPTION.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Reference {
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credit {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contact: Vec<String>,
}

/// `database_specific`: objects only, since the database strips scalars
/// from reports that have no id yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseSpecific {
    #[serde(default, skip_serializing_if = "Iocs::is_empty")]
    pub iocs: Iocs,
    pub paddock: PaddockMeta,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// Indicators of compromise, as the database's code reads them (`ips`,
/// not the `ip_addresses` of its documentation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Iocs {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ips: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<IocFile>,
}

impl Iocs {
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
            && self.ips.is_empty()
            && self.urls.is_empty()
            && self.files.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IocFile {
    pub paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digests: Option<Digests>,
    pub source: FileSource,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digests {
    pub sha256: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FileSource {
    /// A file of the package as published (the archive, or a file in it).
    PackageArchive,
    /// A file the package wrote when it ran.
    Dropped,
}

/// Paddock's own bookkeeping: the stable origin id and the time of the
/// last change, which is how an update of a published report is told
/// from a new one (the database's `(id, modified_time)`), and each
/// reported version's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaddockMeta {
    /// `PDK-<16 hex>`, the same hex as the report id.
    pub origin_id: String,
    #[serde(with = "timestamp")]
    pub modified: DateTime<Utc>,
    #[serde(default)]
    pub versions: Vec<VersionVerdict>,
    /// Versions withdrawn from this report (a lowered verdict), with why
    /// and when: the database's README plans such an array for partial
    /// false positives.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withdrawn_versions: Vec<WithdrawnVersion>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// The verdict a reported version had.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionVerdict {
    pub version: String,
    pub score: f64,
    /// `info` … `critical`.
    pub severity: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scoring_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub previous_version: String,
    /// The `REPORT` reference made for this version, if any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub report_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawnVersion {
    pub version: String,
    pub reason: String,
    #[serde(with = "timestamp")]
    pub withdrawn: DateTime<Utc>,
}

impl Report {
    /// The one affected package (every report Paddock reads or writes has
    /// exactly one; [`crate::ReportDir`] refuses others).
    pub fn package(&self) -> Option<&Package> {
        self.affected.first().map(|a| &a.package)
    }

    /// The reported versions.
    pub fn versions(&self) -> &[String] {
        self.affected
            .first()
            .map(|a| a.versions.as_slice())
            .unwrap_or_default()
    }

    /// The report as the file holds it: pretty JSON and a final newline,
    /// as the database's own tooling writes.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a report always serializes");
        text.push('\n');
        text
    }

    /// The file name: the id and `.json`.
    pub fn file_name(&self) -> String {
        format!("{}.json", self.id)
    }
}

/// RFC 3339 in UTC to the second, `Z` suffix: what the OSV schema's
/// timestamp pattern asks for. Any RFC 3339 time is read.
pub mod timestamp {
    use super::*;

    pub fn format(t: &DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    pub fn serialize<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

mod optional_timestamp {
    use super::*;

    pub fn serialize<S: serde::Serializer>(
        t: &Option<DateTime<Utc>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => timestamp::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => DateTime::parse_from_rfc3339(&text)
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(serde::de::Error::custom),
        }
    }
}
