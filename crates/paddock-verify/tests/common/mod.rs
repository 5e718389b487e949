//! A results store written by the sink's own Parquet writer.

#![allow(dead_code)]

use std::path::Path;

use chrono::{DateTime, Utc};
use paddock_proto::v1::{
    Artifact, Ecosystem, PackageRef, Reason, RegistryDigest, Severity, StaticResult, Verdict,
};
use paddock_sink::parquet::{ParquetConfig, ParquetWriter};
use paddock_sink::row::{Output, Row, RowBody, Writer as _};
use paddock_sink::Table;
use prost::Message as _;

/// One analysed release: its verdict and the artifact that was judged.
pub struct Release {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    pub severity: Severity,
    pub reason: Option<(&'static str, String)>,
    pub sha256: String,
    /// `(algorithm, value)` as the registry gave them.
    pub registry_digests: Vec<(String, String)>,
}

impl Release {
    pub fn new(ecosystem: Ecosystem, name: &str, version: &str, severity: Severity) -> Self {
        Self {
            ecosystem,
            name: name.into(),
            version: version.into(),
            severity,
            reason: None,
            sha256: String::new(),
            registry_digests: Vec::new(),
        }
    }

    fn package(&self) -> PackageRef {
        PackageRef {
            ecosystem: self.ecosystem as i32,
            name: self.name.clone(),
            version: self.version.clone(),
        }
    }

    pub fn verdict(&self, at: DateTime<Utc>) -> Verdict {
        Verdict {
            package: Some(self.package()),
            created_at: Some(pbjson_types::Timestamp {
                seconds: at.timestamp(),
                nanos: 0,
            }),
            severity: self.severity as i32,
            score: match self.severity {
                Severity::Critical => 95.0,
                Severity::High => 70.0,
                Severity::Medium => 40.0,
                Severity::Low => 15.0,
                _ => 0.0,
            },
            reasons: self
                .reason
                .iter()
                .map(|(code, description)| Reason {
                    source: "static".into(),
                    code: (*code).into(),
                    description: description.clone(),
                    weight: 60.0,
                    severity: self.severity as i32,
                })
                .collect(),
            has_static: true,
            ..Default::default()
        }
    }

    pub fn static_result(&self, at: DateTime<Utc>) -> StaticResult {
        StaticResult {
            package: Some(self.package()),
            created_at: Some(pbjson_types::Timestamp {
                seconds: at.timestamp(),
                nanos: 0,
            }),
            artifact: Some(Artifact {
                filename: format!("{}-{}.tgz", self.name, self.version),
                sha256: self.sha256.clone(),
                registry_digests: self
                    .registry_digests
                    .iter()
                    .map(|(algorithm, value)| RegistryDigest {
                        algorithm: algorithm.clone(),
                        value: value.clone(),
                    })
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

/// Writes the releases' verdicts and static results under `root` with the
/// sink's Parquet writer, `per_file` rows to a file.
pub async fn write_store(root: &Path, releases: &[Release], per_file: usize) {
    let at = Utc::now();
    let mut writer = ParquetWriter::new(root, &ParquetConfig::default()).unwrap();
    let mut sequence = 0u64;
    for chunk in releases.chunks(per_file.max(1)) {
        let mut rows = Vec::new();
        for r in chunk {
            for (table, body) in [
                (Table::Verdicts, r.verdict(at).encode_to_vec()),
                (Table::StaticResults, r.static_result(at).encode_to_vec()),
            ] {
                sequence += 1;
                rows.push(Row {
                    output: Output::Native(table),
                    ecosystem: paddock_proto::ecosystem::cli_name(r.ecosystem).into(),
                    published: at,
                    stream: "RESULTS".into(),
                    sequence,
                    msg_id: format!("m{sequence}"),
                    body: RowBody::Proto(body.into()),
                });
            }
        }
        let outcome = writer.write(rows).await.unwrap();
        assert!(outcome
            .iter()
            .all(|d| *d == paddock_sink::row::Disposition::Written));
    }
}
