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
    /// `<data_dir>/parquet`) and BigQuery (off until configured).
    pub sink: SinkSection,
}

/// `[sink]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SinkSection {
    pub parquet: paddock_sink::parquet::ParquetConfig,
    pub bigquery: BigQuerySection,
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
