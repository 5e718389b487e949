//! Rows per second through the whole sink: realistic dynamic results
//! (three phases of events, about 12 KB encoded) already on a real
//! nats-server's RESULTS stream, consumed by the sink service, written, and
//! acked, until the consumer has nothing left. The sink runs on a
//! single-threaded runtime (Parquet files are written on one blocking
//! thread beside it), so the figures are per core.
//!
//! - Parquet (zstd), batch sizes 100, 500 and 1000 messages.
//! - BigQuery, into the emulator (`bqemulator`), insert requests of 100 and
//!   500 rows, when the emulator is installed.
//!
//! Run with `cargo bench -p paddock-sink-service --bench sink_throughput [-- N]`
//! (N results, default 5000).

#[path = "../../paddock-sink/tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use paddock_bus::metrics::BusMetrics;
use paddock_bus::{Bus, BusConfig, ConsumerSettings, JetStreamBus, StreamKind};
use paddock_proto::v1;
use paddock_sink::row::Writer;
use paddock_sink_service::{BatchConfig, SinkMetrics, SinkSettings};
use paddock_testkit::{unique_prefix, TestNats};

fn settings(max_rows: usize) -> SinkSettings {
    SinkSettings {
        batch: BatchConfig {
            max_rows,
            max_bytes: 256 << 20,
            max_age: Duration::from_millis(200),
        },
        reference_tables: false,
        consumer: ConsumerSettings::default(),
        max_message_bytes: 8 << 20,
        metrics: Arc::new(SinkMetrics::default()),
    }
}

/// A fresh prefix with `n` dynamic results published.
async fn loaded(nats: &TestNats, n: usize) -> anyhow::Result<JetStreamBus> {
    let config = BusConfig {
        prefix: unique_prefix(),
        ..Default::default()
    };
    let bus = JetStreamBus::connect(nats.url(), &config, Arc::new(BusMetrics::default())).await?;
    bus.ensure_topology().await?;
    let subject = bus.names().dynamic_result(v1::Ecosystem::Npm);
    for i in 0..n {
        bus.publish(
            &subject,
            &format!("bench:{i}"),
            &common::realistic_dynamic_result(i),
        )
        .await?;
    }
    Ok(bus)
}

/// Runs the sink until its results consumer has acked everything; returns
/// rows per second.
async fn drain<W: Writer>(
    bus: &JetStreamBus,
    kind: &'static str,
    writer: impl FnMut(StreamKind) -> Result<W, paddock_sink::row::WriteError>,
    max_rows: usize,
    n: usize,
) -> anyhow::Result<f64> {
    let shutdown = paddock_bus::CancellationToken::new();
    let started = Instant::now();
    let task = {
        let (bus, shutdown) = (bus.clone(), shutdown.clone());
        let settings = settings(max_rows);
        let mut writer = writer;
        let made: Vec<W> = [
            StreamKind::Releases,
            StreamKind::Results,
            StreamKind::Alerts,
        ]
        .into_iter()
        .map(&mut writer)
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut made = made.into_iter();
        tokio::spawn(async move {
            paddock_sink_service::consume(
                &bus,
                kind,
                |_| Ok(made.next().expect("three writers")),
                settings,
                shutdown,
            )
            .await
        })
    };
    let spec = bus.names().sink_consumer(kind, StreamKind::Results);
    loop {
        let info = bus.consumer_info(&spec).await?;
        if info.ack_floor.stream_sequence >= n as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    shutdown.cancel();
    task.await??;
    Ok(n as f64 / elapsed.as_secs_f64())
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(5000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let nats = TestNats::start().await;
        let size = prost::Message::encoded_len(&common::realistic_dynamic_result(0));
        println!("{n} realistic dynamic results, {size} bytes encoded each");
        for max_rows in [100, 500, 1000] {
            let bus = loaded(&nats, n).await?;
            let dir = tempfile::tempdir()?;
            let config = paddock_sink::parquet::ParquetConfig::default();
            let rate = drain(
                &bus,
                "parquet",
                |_| paddock_sink::parquet::ParquetWriter::new(dir.path(), &config),
                max_rows,
                n,
            )
            .await?;
            let bytes: u64 = paddock_sink::parquet::committed_files(dir.path())
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .iter()
                .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
                .sum();
            println!(
                "parquet  batch {max_rows:>5}: {rate:>8.0} rows/s  ({} bytes/row on disk)",
                bytes / n as u64
            );
        }
        // The emulator: insert requests of 100 and 500 rows (BigQuery's
        // recommendation is 500), flushes of 500 messages.
        if std::process::Command::new("bqemulator")
            .arg("--version")
            .output()
            .is_err()
        {
            println!("bigquery: bqemulator is not installed (scripts/install-deps --test); skipped");
            return Ok(());
        }
        let bq = paddock_testkit::bigquery::BqEmulator::start().await;
        let m = n.min(2000);
        for batch_rows in [100, 500] {
            let bus = loaded(&nats, m).await?;
            let config = paddock_sink::bigquery::BigQueryConfig {
                project: Some(bq.project().to_owned()),
                dataset: format!("bench_{batch_rows}"),
                endpoint: bq.endpoint().to_owned(),
                credentials: paddock_sink::bigquery::Credentials::None,
                batch_rows,
                ..Default::default()
            };
            let mut writers = Vec::new();
            for _ in 0..3 {
                writers.push(
                    paddock_sink::bigquery::BigQueryWriter::new(config.clone())
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?,
                );
            }
            let rate = drain(&bus, "bigquery", |_| Ok(writers.pop().expect("three")), 500, m).await?;
            println!("bigquery insert {batch_rows:>4} rows/request: {rate:>8.0} rows/s  ({m} results, emulator)");
        }
        Ok::<(), anyhow::Error>(())
    })
}
