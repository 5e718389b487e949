//! The sink service, `run(SinkServiceConfig, ServiceContext)`: the Parquet,
//! BigQuery and OSV sinks fed from the bus, each message acked only once
//! every row of it is stored.
//!
//! The tables, the conversion to Arrow and the writers are `paddock-sink`'s,
//! the OSV reports `paddock-osv`'s; this crate is the service around them.
//!
//! # Layout
//!
//! - [`run`]: starts the sinks [`SinkServiceConfig`] enables, registers the
//!   metrics and the readiness of their consumers, prints a start line for
//!   each, and runs them until shutdown (see `paddock_runtime::service`).
//! - [`store`]: one sink's consume loops ([`store::consume`]): rows, write,
//!   dispositions, dedupe of redeliveries.
//! - [`bigquery`]: the BigQuery sink's start, retried in the background
//!   while BigQuery is unreachable.
//! - [`osv`]: the OSV sink: reports of the verdicts at or above a
//!   severity, in the ossf/malicious-packages layout, and the results it
//!   keeps for them.
//! - [`metrics`]: the metrics, `paddock_sink_*`.
//!
//! The sinks run side by side: one that stops is logged and the others
//! go on.

pub mod bigquery;
pub mod metrics;
pub mod osv;
pub mod store;

use std::path::PathBuf;
use std::sync::Arc;

use paddock_bus::{Bus, ConsumerSettings, JetStreamBus};
use paddock_runtime::service::ServiceContext;
use paddock_sink::bigquery::{BigQueryConfig, BigQueryError};
use paddock_sink::parquet::{ParquetConfig, ParquetWriter};
use paddock_sink::row::WriteError;

pub use metrics::SinkMetrics;
pub use osv::{OsvSink, OsvSinkConfig, OsvSinkError, OsvWriter};
pub use store::{consume, rows_of, BatchConfig, SinkSettings};

/// What the sink service needs: the sinks to run and the bus settings
/// they share.
#[derive(Debug, Clone)]
pub struct SinkServiceConfig {
    /// The Parquet sink, when it runs.
    pub parquet: Option<ParquetSinkConfig>,
    /// The BigQuery sink, when it runs.
    pub bigquery: Option<BigQuerySinkConfig>,
    /// The OSV sink, when it runs.
    pub osv: Option<OsvSinkConfig>,
    /// Backoff of flushes retried in place after a transient failure, and
    /// of the BigQuery sink's start.
    pub consumer: ConsumerSettings,
    /// Messages larger than this are refused (dead-lettered).
    pub max_message_bytes: usize,
}

/// The Parquet sink.
#[derive(Debug, Clone)]
pub struct ParquetSinkConfig {
    /// Root of the table directories.
    pub root: PathBuf,
    /// `[sink.parquet]`: compression, reference tables, batches.
    pub writer: ParquetConfig,
}

/// The BigQuery sink.
#[derive(Debug, Clone)]
pub struct BigQuerySinkConfig {
    /// `[sink.bigquery]`'s client settings.
    pub client: BigQueryConfig,
    /// When a batch is flushed.
    pub batch: BatchConfig,
}

/// Why the sink service could not start.
#[derive(Debug, thiserror::Error)]
pub enum SinkServiceError {
    /// BigQuery refused the configuration (an unreachable BigQuery is
    /// retried in the background instead).
    #[error(
        "the BigQuery sink cannot prepare its dataset and tables (check sink.bigquery: project, dataset, endpoint, credentials)"
    )]
    BigQuery(#[source] BigQueryError),
    /// The OSV sink's configuration is invalid or its directory cannot be
    /// made.
    #[error(transparent)]
    Osv(OsvSinkError),
}

/// Runs the enabled sinks until `cx.shutdown`; an error is a failed start.
/// With none enabled it says so and returns.
pub async fn run(
    config: SinkServiceConfig,
    mut cx: ServiceContext,
) -> Result<(), SinkServiceError> {
    let metrics = Arc::new(SinkMetrics::default());
    cx.metrics.register(|registry| metrics.register(registry));
    let settings = |batch: &BatchConfig, reference_tables: bool| SinkSettings {
        batch: batch.clone(),
        reference_tables,
        consumer: config.consumer.clone(),
        max_message_bytes: config.max_message_bytes,
        metrics: metrics.clone(),
    };
    let bus: &JetStreamBus = &cx.bus;
    let mut sinks = tokio::task::JoinSet::new();
    // Checked before any sink starts: a configuration error stops the start.
    let osv_sink = match &config.osv {
        Some(osv) => Some(Arc::new(
            OsvSink::new(osv.clone(), config.max_message_bytes, metrics.clone())
                .map_err(SinkServiceError::Osv)?,
        )),
        None => None,
    };

    if let Some(parquet) = &config.parquet {
        println!(
            "sink: Parquet files under {} (query them with DuckDB or pyarrow, see the README)",
            parquet.root.display()
        );
        let settings = settings(&parquet.writer.batch, parquet.writer.reference_tables);
        cx.health
            .register_consumers(&bus.names().sink_consumers("parquet"));
        let (bus, shutdown, parquet) = (bus.clone(), cx.shutdown.clone(), parquet.clone());
        sinks.spawn(async move {
            let made = consume(
                &bus,
                "parquet",
                |_| ParquetWriter::new(&parquet.root, &parquet.writer),
                settings,
                shutdown,
            )
            .await;
            if let Err(error) = made {
                tracing::error!(%error, "the Parquet sink stopped");
            }
        });
    }

    if let Some(bigquery) = &config.bigquery {
        let first = bigquery::writers(&bigquery.client).await;
        let first = match first {
            Err(error) if !error.is_transient() => return Err(SinkServiceError::BigQuery(error)),
            first => first,
        };
        println!(
            "sink: BigQuery dataset {}.{} at {}",
            bigquery.client.project.as_deref().unwrap_or("-"),
            bigquery.client.dataset,
            bigquery.client.endpoint
        );
        let settings = settings(&bigquery.batch, bigquery.client.reference_tables);
        cx.health.register(bigquery::COMPONENT);
        cx.health
            .register_consumers(&bus.names().sink_consumers("bigquery"));
        let (bus, shutdown, health, bigquery, backoff) = (
            bus.clone(),
            cx.shutdown.clone(),
            cx.health.clone(),
            bigquery.clone(),
            config.consumer.clone(),
        );
        sinks.spawn(async move {
            let Some(mut writers) = bigquery::writers_when_reachable(
                first,
                &bigquery.client,
                &backoff,
                &health,
                &shutdown,
            )
            .await
            else {
                return;
            };
            let made = consume(
                &bus,
                "bigquery",
                |stream| {
                    writers
                        .remove(&stream)
                        .ok_or_else(|| WriteError::permanent("no BigQuery writer for this stream"))
                },
                settings,
                shutdown,
            )
            .await;
            if let Err(error) = made {
                tracing::error!(%error, "the BigQuery sink stopped");
            }
        });
    }

    if let (Some(osv), Some(sink)) = (&config.osv, osv_sink) {
        println!(
            "sink: OSV reports of {} verdicts and above under {} (ossf/malicious-packages layout)",
            paddock_proto::ecosystem::severity_token(osv.min_severity),
            osv.dir.join("osv").display()
        );
        let settings = settings(&osv.batch, false);
        cx.health
            .register_consumers(&bus.names().sink_consumers("osv"));
        let (bus, shutdown) = (bus.clone(), cx.shutdown.clone());
        sinks.spawn(async move {
            let made = consume(&bus, "osv", |_| Ok(sink.writer()), settings, shutdown).await;
            if let Err(error) = made {
                tracing::error!(%error, "the OSV sink stopped");
            }
        });
    }

    if config.parquet.is_none() && config.bigquery.is_none() && config.osv.is_none() {
        println!(
            "sink: none enabled (set sink.parquet.enabled, sink.bigquery.enabled or sink.osv.enabled)"
        );
    }
    cx.started();
    while sinks.join_next().await.is_some() {}
    Ok(())
}
