//! The whole configuration file: one section per component.
//!
//! ```toml
//! data_dir = "/var/lib/paddock"
//!
//! [bus]
//! url = "nats://127.0.0.1:4222"
//! prefix = "paddock"
//!
//! [bus.consumer]
//! concurrency = 8
//!
//! [telemetry]
//! log_format = "json"
//!
//! [registries.npm]
//! url = "https://npm.mirror.internal/"
//! ```
//!
//! Every key can also be set from the environment: `PADDOCK__BUS__URL`,
//! `PADDOCK__BUS__CONSUMER__CONCURRENCY`, `PADDOCK__TELEMETRY__LOG_FORMAT`.

use std::path::PathBuf;

use paddock_bus::BusConfig;
use paddock_feed_service::FeedConfig;
use paddock_registry::RegistriesConfig;
use paddock_runtime::http::HttpConfig;
use paddock_runtime::nats_server::LocalNatsConfig;
use paddock_runtime::telemetry::TelemetryConfig;
use serde::{Deserialize, Serialize};

/// Paddock's configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaddockConfig {
    /// Where `paddock up` keeps the local nats-server's store and services
    /// their data. Unset: `$XDG_DATA_HOME/paddock` or
    /// `~/.local/share/paddock`.
    pub data_dir: Option<PathBuf>,
    pub bus: BusConfig,
    /// The nats-server `paddock up` starts when `bus.url` is unset.
    pub nats_server: LocalNatsConfig,
    pub telemetry: TelemetryConfig,
    pub http: HttpConfig,
    /// Registry endpoints; unset ones come from the ecosystem clients'
    /// own configuration on this machine.
    pub registries: RegistriesConfig,
    /// The feed service (`feed.enabled`: whether `paddock up` runs it).
    pub feed: FeedConfig,
    /// The static analysis service and the analysis limits `paddock
    /// analyze` uses too.
    #[serde(rename = "static")]
    pub static_analysis: StaticSection,
    /// The dynamic analysis service and the sandbox `paddock analyze`
    /// uses too.
    pub dynamic: DynamicSection,
    /// The diff service: verdicts and alerts (`diff.enabled`: whether
    /// `paddock up` runs it), its deadline, suppressions and scoring rules.
    pub diff: DiffSection,
    /// The sinks `paddock up` runs: Parquet files (on by default, under
    /// `<data_dir>/parquet`), BigQuery (off until configured) and OSV
    /// reports (off until enabled, under `<data_dir>/osv`).
    pub sink: SinkSection,
    /// The API: the results index, gRPC (`api.listen`, 127.0.0.1:50051)
    /// and the web page (`api.web_listen`, 127.0.0.1:8470), tokens and TLS
    /// (`api.enabled`: whether `paddock up` runs it).
    pub api: paddock_api_service::ApiConfig,
}

/// `[sink]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SinkSection {
    pub parquet: paddock_sink::parquet::ParquetConfig,
    pub bigquery: BigQuerySection,
    pub osv: OsvSection,
}

/// `[sink.osv]`: whether `paddock up` writes OSV malicious-package
/// reports (the ossf/malicious-packages layout) of its verdicts, where,
/// from which severity, and how reports are credited
/// ([`paddock_osv::OsvConfig`]'s keys: `source`, `finder`, `contact`,
/// `report_url`, `ignore_domains`, `max_iocs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OsvSection {
    pub enabled: bool,
    /// The directory whose `osv/` holds the reports (a clone of
    /// ossf/malicious-packages works). Unset: `<data_dir>/osv`.
    pub dir: Option<PathBuf>,
    /// Verdicts at or above it are reported; a reported version whose
    /// verdict falls below it is withdrawn. `critical` by default: the
    /// database accepts automated sources for a low false-positive rate,
    /// and a false positive on a popular package is public and costly.
    #[serde(with = "severity_name")]
    pub min_severity: paddock_proto::v1::Severity,
    /// How long a release's results and verdict are kept (under
    /// `<dir>/.paddock/pending`) after the last of them arrived.
    #[serde(with = "humantime_serde")]
    pub keep_pending: std::time::Duration,
    #[serde(flatten)]
    pub report: paddock_osv::OsvConfig,
}

impl Default for OsvSection {
    fn default() -> Self {
        Self {
            enabled: false,
            dir: None,
            min_severity: paddock_sink_service::osv::DEFAULT_MIN_SEVERITY,
            keep_pending: paddock_sink_service::osv::DEFAULT_KEEP_PENDING,
            report: paddock_osv::OsvConfig::default(),
        }
    }
}

impl OsvSection {
    /// The sink's configuration, its directory defaulting to
    /// `<data_dir>/osv`.
    pub fn sink(&self, data_dir: &std::path::Path) -> paddock_sink_service::OsvSinkConfig {
        let dir = self.dir.clone().unwrap_or_else(|| data_dir.join("osv"));
        paddock_sink_service::OsvSinkConfig {
            min_severity: self.min_severity,
            report: self.report.clone(),
            keep_pending: self.keep_pending,
            ..paddock_sink_service::OsvSinkConfig::new(dir)
        }
    }
}

/// A severity by its name (`info` … `critical`).
mod severity_name {
    use paddock_proto::ecosystem::{parse_severity, severity_token};
    use paddock_proto::v1::Severity;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(severity: &Severity, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(severity_token(*severity))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Severity, D::Error> {
        let name = String::deserialize(d)?;
        parse_severity(&name).map_err(serde::de::Error::custom)
    }
}

/// `[sink.bigquery]`: whether `paddock up` runs the BigQuery sink, when
/// it flushes, and the client settings (project, dataset, endpoint,
/// credentials…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BigQuerySection {
    pub enabled: bool,
    /// Messages per flush.
    pub max_rows: usize,
    /// Encoded message bytes per flush.
    pub max_bytes: usize,
    /// Longest a message waits for its flush.
    #[serde(with = "humantime_serde")]
    pub max_age: std::time::Duration,
    #[serde(flatten)]
    pub client: paddock_sink::bigquery::BigQueryConfig,
}

impl Default for BigQuerySection {
    fn default() -> Self {
        let batch = paddock_bus::BatchConfig::default();
        Self {
            enabled: false,
            max_rows: batch.max_rows,
            max_bytes: batch.max_bytes,
            max_age: batch.max_age,
            client: paddock_sink::bigquery::BigQueryConfig::default(),
        }
    }
}

impl BigQuerySection {
    pub fn batch(&self) -> paddock_bus::BatchConfig {
        paddock_bus::BatchConfig {
            max_rows: self.max_rows,
            max_bytes: self.max_bytes,
            max_age: self.max_age,
        }
    }
}

/// `[diff]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiffSection {
    pub enabled: bool,
    #[serde(flatten)]
    pub service: paddock_diff_service::DiffConfig,
}

impl Default for DiffSection {
    fn default() -> Self {
        Self {
            enabled: true,
            service: paddock_diff_service::DiffConfig::default(),
        }
    }
}

/// `[dynamic]`: whether `paddock up` runs the dynamic service, and the
/// sandbox, image and phase settings (`[dynamic.analysis]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DynamicSection {
    pub enabled: bool,
    pub analysis: paddock_dynamic::DynamicConfig,
}

impl Default for DynamicSection {
    fn default() -> Self {
        Self {
            enabled: true,
            analysis: paddock_dynamic::DynamicConfig::default(),
        }
    }
}

/// A non-empty variable of `env`, as a path.
pub fn env_path(env: &[(String, String)], key: &str) -> Option<PathBuf> {
    env.iter()
        .find(|(k, v)| k == key && !v.is_empty())
        .map(|(_, v)| PathBuf::from(v))
}

/// Where built sandbox images go unless `dynamic.analysis.image.cache_dir`
/// says otherwise: `$XDG_CACHE_HOME/paddock/images`, else
/// `~/.cache/paddock/images`.
pub fn default_image_cache(env: &[(String, String)]) -> PathBuf {
    if let Some(xdg) = env_path(env, "XDG_CACHE_HOME") {
        return xdg.join("paddock/images");
    }
    match env_path(env, "HOME") {
        Some(home) => home.join(".cache/paddock/images"),
        None => PathBuf::from("/var/cache/paddock/images"),
    }
}

/// `[static]`: whether `paddock up` runs the static service, and the
/// analysis limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StaticSection {
    pub enabled: bool,
    pub analysis: paddock_static::StaticConfig,
}

impl Default for StaticSection {
    fn default() -> Self {
        Self {
            enabled: true,
            analysis: paddock_static::StaticConfig::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(env: &[(&str, &str)]) -> Result<PaddockConfig, String> {
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        paddock_runtime::config::load(None, env).map_err(|e| e.to_string())
    }

    #[test]
    fn the_osv_sink_is_off_and_reports_critical_verdicts_by_default() {
        let osv = PaddockConfig::default().sink.osv;
        assert!(!osv.enabled);
        assert_eq!(osv.min_severity, paddock_proto::v1::Severity::Critical);
        assert_eq!(osv.report, paddock_osv::OsvConfig::default());
        let sink = osv.sink(std::path::Path::new("/data"));
        assert_eq!(sink.dir, PathBuf::from("/data/osv"));
        assert_eq!(
            sink.keep_pending,
            std::time::Duration::from_secs(7 * 24 * 3600)
        );
    }

    #[test]
    fn osv_keys_are_read_flat_and_printed_back() {
        let config = load(&[
            ("PADDOCK__SINK__OSV__ENABLED", "true"),
            ("PADDOCK__SINK__OSV__MIN_SEVERITY", "high"),
            ("PADDOCK__SINK__OSV__SOURCE", "acme-paddock"),
            ("PADDOCK__SINK__OSV__MAX_IOCS", "20"),
            ("PADDOCK__SINK__OSV__KEEP_PENDING", "2d"),
        ])
        .unwrap();
        let osv = &config.sink.osv;
        assert!(osv.enabled);
        assert_eq!(osv.min_severity, paddock_proto::v1::Severity::High);
        assert_eq!(osv.report.source, "acme-paddock");
        assert_eq!(osv.report.max_iocs, 20);
        assert_eq!(
            osv.keep_pending,
            std::time::Duration::from_secs(2 * 24 * 3600)
        );

        // `paddock config` prints it in the file's own form, which reads back.
        let text = toml::to_string_pretty(&config).unwrap();
        let section = &text[text.find("[sink.osv]").expect("a [sink.osv] section")..];
        for line in [
            "enabled = true",
            "min_severity = \"high\"",
            "keep_pending = \"2days\"",
            "source = \"acme-paddock\"",
            "finder = \"Paddock\"",
            "max_iocs = 20",
        ] {
            assert!(section.contains(line), "{line} missing from:\n{section}");
        }
        let back: PaddockConfig = toml::from_str(&text).unwrap();
        assert_eq!(back, config);
    }

    #[test]
    fn bad_osv_keys_are_refused_with_the_key() {
        let err = load(&[("PADDOCK__SINK__OSV__FINDR", "x")]).unwrap_err();
        assert!(err.contains("findr"), "{err}");
        let err = load(&[("PADDOCK__SINK__OSV__MIN_SEVERITY", "severe")]).unwrap_err();
        assert!(
            err.contains("severe") && err.contains("info, low, medium, high, critical"),
            "{err}"
        );
    }
}
