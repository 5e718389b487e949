//! The BigQuery sink's dataset as a results store.
//!
//! Two queries per ecosystem and chunk of versions: `verdicts` (package,
//! severity, score, reasons, created_at) and `static_results` (package,
//! artifact, created_at), filtered by the ecosystem and the versions the
//! lockfiles pin, so BigQuery scans only those columns. Names are matched
//! here, canonically (PyPI's spellings differ in case and separators).
//!
//! Versions come from lockfiles, which attackers write: only versions made
//! of the characters real versions use reach the SQL; any other is never
//! looked up and stays "not analysed".

use std::collections::{HashMap, HashSet};

use paddock_proto::v1::{Ecosystem, Severity};
use paddock_sink::bigquery::BigQueryClient;
use serde_json::Value;

use crate::store::{keep_latest, Analysed, AnalysedArtifact, Reason, ReleaseKey, StoreError};

/// Versions per query.
const CHUNK: usize = 500;

/// The BigQuery dataset the sink writes.
pub struct BigQueryStore {
    client: BigQueryClient,
}

impl std::fmt::Debug for BigQueryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("BigQueryStore")
            .field(&self.describe())
            .finish()
    }
}

impl BigQueryStore {
    pub fn new(client: BigQueryClient) -> Self {
        Self { client }
    }

    pub fn describe(&self) -> String {
        format!(
            "bigquery:{}.{}",
            self.client.project(),
            self.client.dataset()
        )
    }

    fn error(&self, reason: impl std::fmt::Display) -> StoreError {
        StoreError {
            store: self.describe(),
            reason: reason.to_string(),
        }
    }

    /// What the dataset knows about each of `wanted`.
    pub async fn lookup(
        &self,
        wanted: &HashSet<ReleaseKey>,
    ) -> Result<HashMap<ReleaseKey, Analysed>, StoreError> {
        let mut by_ecosystem: HashMap<Ecosystem, Vec<&str>> = HashMap::new();
        for key in wanted {
            if safe_version(&key.version) {
                by_ecosystem
                    .entry(key.ecosystem)
                    .or_default()
                    .push(&key.version);
            }
        }
        let verdicts = self
            .client
            .table_ref("verdicts")
            .map_err(|e| self.error(e))?;
        let statics = self
            .client
            .table_ref("static_results")
            .map_err(|e| self.error(e))?;
        let store = self.describe();
        let mut found = HashMap::new();
        let mut artifacts: HashMap<ReleaseKey, (Option<String>, AnalysedArtifact)> = HashMap::new();
        for (ecosystem, mut versions) in by_ecosystem {
            versions.sort_unstable();
            versions.dedup();
            for chunk in versions.chunks(CHUNK) {
                let filter = format!(
                    "package.ecosystem = '{}' AND package.version IN ({})",
                    ecosystem.as_str_name(),
                    chunk
                        .iter()
                        .map(|v| format!("'{v}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let rows = self
                    .client
                    .query(&format!(
                        "SELECT package, severity, score, reasons, created_at FROM {verdicts} WHERE {filter}"
                    ))
                    .await
                    .map_err(|e| self.error(e))?;
                for row in rows {
                    let Some((key, name)) = package(&row, wanted) else {
                        continue;
                    };
                    let mut reasons: Vec<Reason> = row["reasons"]
                        .as_array()
                        .map(|list| list.iter().map(reason).collect())
                        .unwrap_or_default();
                    reasons.sort_by(|a, b| b.weight.total_cmp(&a.weight));
                    let analysed = Analysed {
                        name,
                        severity: severity(&row["severity"]),
                        score: number(&row["score"]),
                        reasons,
                        judged_at: timestamp(&row["created_at"]),
                        artifact: None,
                        store: store.clone(),
                    };
                    keep_latest(&mut found, key, analysed);
                }
                let rows = self
                    .client
                    .query(&format!(
                        "SELECT package, artifact, created_at FROM {statics} WHERE {filter}"
                    ))
                    .await
                    .map_err(|e| self.error(e))?;
                for row in rows {
                    let Some((key, _)) = package(&row, wanted) else {
                        continue;
                    };
                    let a = &row["artifact"];
                    if a.is_null() {
                        continue;
                    }
                    let registry = a["registry_digests"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|d| (text(&d["algorithm"]), text(&d["value"])));
                    let artifact =
                        AnalysedArtifact::new(&text(&a["filename"]), &text(&a["sha256"]), registry);
                    let at = timestamp(&row["created_at"]);
                    match artifacts.get(&key) {
                        Some((old, _)) if *old > at => {}
                        _ => {
                            artifacts.insert(key, (at, artifact));
                        }
                    }
                }
            }
        }
        for (key, (_, artifact)) in artifacts {
            if let Some(analysed) = found.get_mut(&key) {
                analysed.artifact = Some(artifact);
            }
        }
        Ok(found)
    }
}

/// Whether a version is made only of what real versions are made of (and
/// so is safe inside a SQL string literal).
fn safe_version(version: &str) -> bool {
    !version.is_empty()
        && version.len() <= 128
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+-~!".contains(&b))
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn number(v: &Value) -> f64 {
    match v {
        Value::String(s) => s.parse().unwrap_or(0.0),
        other => other.as_f64().unwrap_or(0.0),
    }
}

fn severity(v: &Value) -> Severity {
    v.as_str()
        .and_then(Severity::from_str_name)
        .unwrap_or(Severity::Unspecified)
}

/// BigQuery's TIMESTAMP as microseconds since the epoch (a string).
fn timestamp(v: &Value) -> Option<String> {
    let micros: i64 = match v {
        Value::String(s) => s.parse().ok()?,
        other => other.as_i64()?,
    };
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

fn reason(v: &Value) -> Reason {
    Reason {
        code: text(&v["code"]),
        description: text(&v["description"]),
        weight: number(&v["weight"]),
        severity: severity(&v["severity"]),
    }
}

/// The row's release and the registry's spelling of its name, if wanted.
fn package(row: &Value, wanted: &HashSet<ReleaseKey>) -> Option<(ReleaseKey, String)> {
    let p = &row["package"];
    let ecosystem = Ecosystem::from_str_name(p["ecosystem"].as_str()?)?;
    let name = p["name"].as_str()?;
    let key = ReleaseKey::new(ecosystem, name, p["version"].as_str()?);
    wanted.contains(&key).then(|| (key, name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_versions_reach_the_sql() {
        for good in ["1.0.0", "2.0.0-rc.1+build.5", "1!2.0.post1", "0.1.0~beta"] {
            assert!(safe_version(good), "{good}");
        }
        for bad in [
            "1.0' OR '1'='1",
            "1.0\\",
            "",
            "1 0",
            "1.0`",
            &"9".repeat(129),
        ] {
            assert!(!safe_version(bad), "{bad}");
        }
    }
}
