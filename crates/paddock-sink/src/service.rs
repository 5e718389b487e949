//! The sink service: consumes releases, results and alerts (consumers
//! `sink-<kind>-releases`, `-results`, `-alerts`), turns each message into
//! rows, hands them to a [`Writer`] in batches, and acks each message only
//! once every row of it is stored.
//!
//! A batch is flushed when it holds `max_rows` messages or `max_bytes`
//! bytes, or when its oldest message has waited `max_age`. Held messages
//! report progress, so a slow destination never lets the server redeliver
//! them under a healthy sink. A flush that fails is retried in place with
//! backoff (the messages stay held; nothing is nak'ed towards the
//! dead-letter limit because a destination is down). A redelivered message
//! is first checked with [`Writer::already_written`]: a sink killed after
//! writing and before acking writes nothing twice. A message that can never
//! be stored (undecodable, or refused by the destination) is copied to
//! `dlq.sink-<kind>-<stream>` with the reason and terminated.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::{self, AckKind};
use async_nats::HeaderMap;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use paddock_bus::codec::{self, Rejection};
use paddock_bus::names::headers;
use paddock_bus::CancellationToken;
use paddock_bus::{Bus, BusError, ConsumerSettings, ConsumerSpec, JetStreamBus, StreamKind};
use paddock_proto::ecosystem::cli_name;
use paddock_proto::v1::{Alert, DynamicResult, PackageRef, Release, StaticResult};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use prost::Message as _;
use serde::{Deserialize, Serialize};

use crate::row::{Disposition, Output, ReferenceTable, Row, RowBody, RowKey, Writer};
use crate::Table;

/// When a batch is flushed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchConfig {
    /// Messages per flush (also bounded by the consumer's
    /// `max_ack_pending`).
    pub max_rows: usize,
    /// Encoded message bytes per flush.
    pub max_bytes: usize,
    /// Longest a message waits for its flush.
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            max_rows: 1000,
            max_bytes: 64 << 20,
            max_age: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TableLabels {
    pub sink: String,
    pub table: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SinkLabels {
    pub sink: String,
}

/// `paddock_sink_*`.
#[derive(Debug)]
pub struct SinkMetrics {
    pub rows: Family<TableLabels, Counter>,
    pub duplicates: Family<TableLabels, Counter>,
    pub dead_letters: Family<SinkLabels, Counter>,
    pub refused: Family<TableLabels, Counter>,
    pub write_failures: Family<SinkLabels, Counter>,
    pub flush_seconds: Family<SinkLabels, Histogram>,
}

impl Default for SinkMetrics {
    fn default() -> Self {
        Self {
            rows: Family::default(),
            duplicates: Family::default(),
            dead_letters: Family::default(),
            refused: Family::default(),
            write_failures: Family::default(),
            flush_seconds: Family::new_with_constructor(|| {
                Histogram::new([0.005, 0.02, 0.1, 0.5, 2.0, 10.0, 60.0])
            }),
        }
    }
}

impl SinkMetrics {
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("paddock_sink");
        r.register("rows", "Rows stored, by sink and table", self.rows.clone());
        r.register(
            "duplicates",
            "Redelivered rows found already stored and skipped",
            self.duplicates.clone(),
        );
        r.register(
            "dead_letters",
            "Messages that can never be stored, sent to the dead-letter stream",
            self.dead_letters.clone(),
        );
        r.register(
            "refused",
            "Reference-table rows refused (their message's own row was stored)",
            self.refused.clone(),
        );
        r.register(
            "write_failures",
            "Flushes that failed and were retried",
            self.write_failures.clone(),
        );
        r.register(
            "flush_seconds",
            "Time to store one batch",
            self.flush_seconds.clone(),
        );
    }
}

/// What the sink needs besides its writers.
#[derive(Debug, Clone)]
pub struct SinkSettings {
    pub batch: BatchConfig,
    /// Also write the reference system's `analysis` and `staticanalysis`.
    pub reference_tables: bool,
    /// Backoff of retried flushes, pull-request settings, shutdown grace.
    pub consumer: ConsumerSettings,
    pub max_message_bytes: usize,
    pub metrics: Arc<SinkMetrics>,
}

/// Runs one sink: a writer per stream, made by `make_writer`, until
/// `shutdown`; then flushes what it holds (within the shutdown grace) or
/// hands it back for redelivery.
pub async fn run<W, F>(
    bus: &JetStreamBus,
    kind: &str,
    mut make_writer: F,
    settings: SinkSettings,
    shutdown: CancellationToken,
) -> Result<(), BusError>
where
    W: Writer,
    F: FnMut(StreamKind) -> Result<W, crate::row::WriteError>,
{
    let mut loops = tokio::task::JoinSet::new();
    for spec in bus.names().sink_consumers(kind) {
        let writer = make_writer(spec.stream).map_err(|e| BusError::Consumer {
            stream: spec.stream_name.clone(),
            consumer: spec.durable.clone(),
            source: e.0.into(),
        })?;
        let consumer = bus.open_consumer(&spec).await?;
        let task = Loop {
            bus: bus.clone(),
            spec,
            consumer,
            writer,
            settings: settings.clone(),
            held: Vec::new(),
            held_bytes: 0,
            stored: Default::default(),
            progress_every: Duration::from_secs(5),
        };
        loops.spawn(task.run(shutdown.clone()));
    }
    let mut result = Ok(());
    while let Some(joined) = loops.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => result = Err(e),
            Err(e) => {
                result = Err(BusError::Consumer {
                    stream: "-".into(),
                    consumer: kind.into(),
                    source: e.to_string().into(),
                })
            }
        }
    }
    result
}

/// A message waiting for its rows to be stored.
struct Held {
    message: jetstream::Message,
    /// Later deliveries of the same message that arrived while it was held
    /// (the server redelivered it): settled together with it.
    again: Vec<jetstream::Message>,
    rows: Vec<Row>,
    attempt: u64,
    sequence: u64,
}

struct Loop<W> {
    bus: JetStreamBus,
    spec: ConsumerSpec,
    consumer: PullConsumer,
    writer: W,
    settings: SinkSettings,
    held: Vec<Held>,
    held_bytes: usize,
    /// Sequences this loop stored and acked, above the last ack floor seen:
    /// a redelivery of one (its ack was lost) is acked again, not written.
    stored: std::collections::BTreeSet<u64>,
    /// A third of the consumer's ack wait.
    progress_every: Duration,
}

impl<W: Writer> Loop<W> {
    async fn run(mut self, shutdown: CancellationToken) -> Result<(), BusError> {
        let (stream_name, durable) = (self.spec.stream_name.clone(), self.spec.durable.clone());
        let err = move |e: String| BusError::Consumer {
            stream: stream_name.clone(),
            consumer: durable.clone(),
            source: e.into(),
        };
        let info = self
            .consumer
            .info()
            .await
            .map_err(|e| err(e.to_string()))?
            .clone();
        let max_rows = self
            .settings
            .batch
            .max_rows
            .clamp(1, info.config.max_ack_pending.max(1) as usize);
        let progress_every = (info.config.ack_wait / 3).max(Duration::from_millis(100));
        self.progress_every = progress_every;
        tracing::info!(consumer = %self.spec.durable, sink = self.writer.kind(), max_rows, "sink consuming");

        // Messages are pulled only while the batch has room, and a pull
        // never outlives the batch's deadline, so no delivered message
        // waits unseen (its ack timer running) while a flush runs.
        let mut progress = tokio::time::interval(progress_every);
        progress.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut oldest: Option<Instant> = None;
        let mut pull_failures = 0u64;
        'pull: while !shutdown.is_cancelled() {
            let due = oldest.is_some_and(|t| t.elapsed() >= self.settings.batch.max_age);
            let full =
                self.held.len() >= max_rows || self.held_bytes >= self.settings.batch.max_bytes;
            if due || full {
                self.flush(&shutdown).await;
                oldest = None;
                continue;
            }
            let expires = match oldest {
                Some(t) => (t + self.settings.batch.max_age)
                    .saturating_duration_since(Instant::now())
                    .clamp(
                        Duration::from_millis(100),
                        self.settings.consumer.pull_expires,
                    ),
                None => self.settings.consumer.pull_expires,
            };
            let batch = self
                .consumer
                .batch()
                .max_messages(max_rows - self.held.len())
                .expires(expires)
                .messages()
                .await;
            let mut batch = match batch {
                Ok(batch) => {
                    pull_failures = 0;
                    batch
                }
                Err(error) => {
                    pull_failures += 1;
                    let delay = self.settings.consumer.backoff(pull_failures);
                    tracing::warn!(%error, consumer = %self.spec.durable, delay_ms = delay.as_millis() as u64, "pull request failed; retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => break 'pull,
                        _ = tokio::time::sleep(delay) => continue 'pull,
                    }
                }
            };
            loop {
                tokio::select! {
                    _ = progress.tick() => self.progress().await,
                    next = batch.next() => match next {
                        None => break,
                        Some(Err(error)) => {
                            tracing::debug!(%error, consumer = %self.spec.durable, "pull batch ended with an error");
                            break;
                        }
                        Some(Ok(message)) => {
                            self.take(message).await;
                            if oldest.is_none() && !self.held.is_empty() {
                                oldest = Some(Instant::now());
                            }
                        }
                    }
                }
            }
        }
        // Shutdown: store what is held within the grace period, or hand it
        // back.
        let grace = CancellationToken::new();
        let timer = {
            let grace = grace.clone();
            let after = self.settings.consumer.shutdown_grace;
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                grace.cancel();
            })
        };
        self.flush(&grace).await;
        timer.abort();
        for held in self.held.drain(..) {
            for message in std::iter::once(&held.message).chain(&held.again) {
                let _ = message.ack_with(AckKind::Nak(None)).await;
            }
        }
        Ok(())
    }

    /// Decodes a message into rows and holds it, or dead-letters it.
    async fn take(&mut self, message: jetstream::Message) {
        let (sequence, attempt, published) = match message.info() {
            Ok(info) => (
                info.stream_sequence,
                info.delivered.max(1) as u64,
                published_time(info.published.unix_timestamp_nanos()),
            ),
            Err(error) => {
                tracing::warn!(%error, "a message without JetStream metadata; returning it");
                let _ = message.ack_with(AckKind::Nak(None)).await;
                return;
            }
        };
        if self.stored.contains(&sequence) {
            tracing::debug!(
                sequence,
                "a redelivery of a message this sink stored; acking it again"
            );
            self.count_duplicate(&message);
            let _ = message.ack().await;
            return;
        }
        if let Some(held) = self.held.iter_mut().find(|h| h.sequence == sequence) {
            held.again.push(message);
            return;
        }
        match rows_of(
            &message.message.subject,
            message.message.headers.as_ref(),
            &message.message.payload,
            &self.spec.stream_name,
            sequence,
            published,
            self.settings.max_message_bytes,
            self.settings.reference_tables,
        ) {
            Ok(rows) => {
                self.held_bytes += message.message.payload.len();
                self.held.push(Held {
                    message,
                    again: Vec::new(),
                    rows,
                    attempt,
                    sequence,
                });
            }
            Err(reason) => {
                self.dead_letter(&message, sequence, attempt, &reason).await;
            }
        }
    }

    async fn progress(&self) {
        progress_all(&self.held).await;
    }

    fn count_duplicate(&self, message: &jetstream::Message) {
        let table = message
            .message
            .headers
            .as_ref()
            .and_then(|h| h.get(headers::MESSAGE_TYPE))
            .and_then(|t| Table::for_message_name(t.as_str()))
            .map_or("-", Table::table_name);
        self.settings
            .metrics
            .duplicates
            .get_or_create(&TableLabels {
                sink: self.writer.kind().into(),
                table: table.into(),
            })
            .inc();
    }

    /// Stores every held message's rows, then acks (or dead-letters) each.
    /// Retries until it succeeds or `stop` is cancelled.
    #[tracing::instrument(name = "sink.flush", skip_all, fields(sink = self.writer.kind(), consumer = %self.spec.durable, messages = self.held.len()))]
    async fn flush(&mut self, stop: &CancellationToken) {
        if self.held.is_empty() {
            return;
        }
        let kind = self.writer.kind();
        let started = Instant::now();
        let mut rows: Vec<Row> = self
            .held
            .iter()
            .flat_map(|h| h.rows.iter().cloned())
            .collect();
        let mut check: Vec<Row> = self
            .held
            .iter()
            .filter(|h| h.attempt > 1)
            .flat_map(|h| h.rows.iter().cloned())
            .collect();
        let mut failures = 0u64;
        let mut progress = tokio::time::interval(self.progress_every);
        progress.tick().await;
        let dispositions = loop {
            // Skip rows a previous attempt or process already stored.
            let mut skipped: HashSet<RowKey> = HashSet::new();
            if !check.is_empty() || self.stored.len() > 10_000 {
                let floor = match self.consumer.info().await {
                    Ok(info) => info.ack_floor.stream_sequence,
                    Err(error) => {
                        failures += 1;
                        let reason = format!("reading the consumer's ack floor: {error}");
                        if !self
                            .back_off(kind, failures, &reason, stop, &mut progress)
                            .await
                        {
                            return;
                        }
                        continue;
                    }
                };
                self.stored = self.stored.split_off(&(floor + 1));
                if !check.is_empty() {
                    match self.writer.already_written(&check, floor).await {
                        Ok(found) => skipped = found,
                        Err(error) => {
                            failures += 1;
                            if !self
                                .back_off(kind, failures, &error.0, stop, &mut progress)
                                .await
                            {
                                return;
                            }
                            continue;
                        }
                    }
                }
            }
            if !skipped.is_empty() {
                for row in rows.iter().filter(|r| skipped.contains(&r.key())) {
                    self.settings
                        .metrics
                        .duplicates
                        .get_or_create(&TableLabels {
                            sink: kind.into(),
                            table: row.output.table_name().into(),
                        })
                        .inc();
                }
                rows.retain(|r| !skipped.contains(&r.key()));
            }
            let attempt = {
                let write = self.writer.write(rows.clone());
                tokio::pin!(write);
                loop {
                    tokio::select! {
                        outcome = &mut write => break outcome,
                        _ = progress.tick() => progress_all(&self.held).await,
                    }
                }
            };
            match attempt {
                Ok(d) => break d,
                Err(error) => {
                    failures += 1;
                    // The outcome is unknown: check every row next time.
                    check = rows.clone();
                    if !self
                        .back_off(kind, failures, &error.0, stop, &mut progress)
                        .await
                    {
                        return;
                    }
                }
            }
        };

        // Settle each message: acked when all its rows are stored or were
        // already, dead-lettered when one can never be.
        let mut refused: std::collections::HashMap<RowKey, String> = Default::default();
        for (row, disposition) in rows.iter().zip(dispositions) {
            let labels = TableLabels {
                sink: kind.into(),
                table: row.output.table_name().into(),
            };
            match disposition {
                Disposition::Written => {
                    self.settings.metrics.rows.get_or_create(&labels).inc();
                }
                Disposition::Rejected(reason) => {
                    refused.insert(row.key(), format!("{}: {reason}", row.output));
                }
            }
        }
        for held in std::mem::take(&mut self.held) {
            // A message is stored when its own row is: a refused row of a
            // reference table (the reference schema is narrower, e.g.
            // INT64 where Paddock has uint64) is counted and logged, and
            // the message is acked, since its native row holds everything.
            let mut native = Vec::new();
            for row in &held.rows {
                if let Some(reason) = refused.get(&row.key()) {
                    match row.output {
                        Output::Native(_) => native.push(reason.as_str()),
                        Output::Reference(_) => {
                            self.settings
                                .metrics
                                .refused
                                .get_or_create(&TableLabels {
                                    sink: kind.into(),
                                    table: row.output.table_name().into(),
                                })
                                .inc();
                            tracing::warn!(sink = kind, sequence = held.sequence, %reason, "a reference-table row was refused; the message's own row is stored");
                        }
                    }
                }
            }
            if native.is_empty() {
                for message in std::iter::once(&held.message).chain(&held.again) {
                    if let Err(error) = message.ack().await {
                        tracing::warn!(%error, sequence = held.sequence, "ack failed; the redelivery will be recognised as stored");
                    }
                }
                self.stored.insert(held.sequence);
            } else {
                let reason = format!("the {kind} sink refused the row: {}", native.join("; "));
                self.dead_letter(&held.message, held.sequence, held.attempt, &reason)
                    .await;
                for message in &held.again {
                    let _ = message.ack_with(AckKind::Term).await;
                }
            }
        }
        self.held_bytes = 0;
        self.settings
            .metrics
            .flush_seconds
            .get_or_create(&SinkLabels { sink: kind.into() })
            .observe(started.elapsed().as_secs_f64());
    }

    /// Waits before a retry, reporting progress; false when `stop` came
    /// first (the held messages are then handed back by the caller).
    async fn back_off(
        &self,
        kind: &'static str,
        failures: u64,
        reason: &str,
        stop: &CancellationToken,
        progress: &mut tokio::time::Interval,
    ) -> bool {
        self.settings
            .metrics
            .write_failures
            .get_or_create(&SinkLabels { sink: kind.into() })
            .inc();
        let delay = self
            .settings
            .consumer
            .backoff(failures)
            .min(Duration::from_secs(60));
        tracing::warn!(sink = kind, consumer = %self.spec.durable, failures, delay_ms = delay.as_millis() as u64, error = %reason, "storing a batch failed; retrying");
        let until = tokio::time::Instant::now() + delay;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return false,
                _ = tokio::time::sleep_until(until) => return true,
                _ = progress.tick() => self.progress().await,
            }
        }
    }

    async fn dead_letter(
        &self,
        message: &jetstream::Message,
        sequence: u64,
        attempt: u64,
        reason: &str,
    ) {
        let kind = self.writer.kind();
        tracing::warn!(sink = kind, sequence, %reason, "dead-lettering a message the sink can never store");
        let dlq_headers = paddock_bus::consume::dead_letter_headers(
            message.message.headers.as_ref(),
            reason,
            &message.message.subject,
            &self.spec,
            sequence,
            attempt,
        );
        let published = async {
            self.bus
                .jetstream()
                .publish_with_headers(
                    self.spec.dead_letter_subject.clone(),
                    dlq_headers,
                    message.message.payload.clone(),
                )
                .await?
                .await
                .map(|_| ())
                .map_err(async_nats::Error::from)
        };
        match published.await {
            Ok(()) => {
                let _ = message.ack_with(AckKind::Term).await;
                self.settings
                    .metrics
                    .dead_letters
                    .get_or_create(&SinkLabels { sink: kind.into() })
                    .inc();
            }
            Err(error) => {
                tracing::error!(%error, "dead-letter publish failed; the message will be redelivered");
                let _ = message
                    .ack_with(AckKind::Nak(Some(self.settings.consumer.backoff(attempt))))
                    .await;
            }
        }
    }
}

/// Reports progress on every held delivery.
async fn progress_all(held: &[Held]) {
    for held in held {
        for message in std::iter::once(&held.message).chain(&held.again) {
            if let Err(error) = message.ack_with(AckKind::Progress).await {
                tracing::debug!(%error, "progress report failed");
            }
        }
    }
}

fn published_time(nanos: i128) -> DateTime<Utc> {
    let micros = (nanos / 1000).clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

/// The rows of one message, or why it can never be stored.
#[allow(clippy::too_many_arguments)]
pub fn rows_of(
    subject: &str,
    message_headers: Option<&HeaderMap>,
    payload: &Bytes,
    stream: &str,
    sequence: u64,
    published: DateTime<Utc>,
    max_bytes: usize,
    reference_tables: bool,
) -> Result<Vec<Row>, String> {
    let type_name = message_headers
        .and_then(|h| h.get(headers::MESSAGE_TYPE))
        .map(|v| v.as_str().to_owned())
        .unwrap_or_default();
    let msg_id = message_headers
        .and_then(|h| h.get(headers::MSG_ID))
        .map(|v| v.as_str().to_owned())
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| format!("{stream}:{sequence}"));
    let row = |output: Output, package: Option<&PackageRef>, body: RowBody| Row {
        output,
        ecosystem: package
            .map(|p| cli_name(p.ecosystem()).to_owned())
            .unwrap_or_else(|| "unknown".into()),
        published,
        stream: stream.to_owned(),
        sequence,
        msg_id: msg_id.clone(),
        body,
    };
    let rejected = |r: Rejection| format!("{r} (subject {subject})");
    let proto = || RowBody::Proto(payload.clone());
    let mut rows = Vec::new();
    match Table::for_message_name(&type_name) {
        Some(Table::Releases) => {
            let m: Release =
                codec::decode(message_headers, payload, max_bytes).map_err(rejected)?;
            rows.push(row(
                Output::Native(Table::Releases),
                m.package.as_ref(),
                proto(),
            ));
        }
        Some(Table::StaticResults) => {
            let m: StaticResult =
                codec::decode(message_headers, payload, max_bytes).map_err(rejected)?;
            rows.push(row(
                Output::Native(Table::StaticResults),
                m.package.as_ref(),
                proto(),
            ));
            if reference_tables {
                let created = m
                    .created_at
                    .as_ref()
                    .and_then(|t| {
                        DateTime::from_timestamp(t.seconds, t.nanos.clamp(0, 999_999_999) as u32)
                    })
                    .unwrap_or(published)
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                rows.push(row(
                    Output::Reference(ReferenceTable::StaticAnalysis),
                    m.package.as_ref(),
                    RowBody::Json(crate::reference::static_record(&m, &created)),
                ));
            }
        }
        Some(Table::DynamicResults) => {
            let m: DynamicResult =
                codec::decode(message_headers, payload, max_bytes).map_err(rejected)?;
            rows.push(row(
                Output::Native(Table::DynamicResults),
                m.package.as_ref(),
                proto(),
            ));
            if reference_tables {
                rows.push(row(
                    Output::Reference(ReferenceTable::Analysis),
                    m.package.as_ref(),
                    RowBody::Json(crate::reference::dynamic_record(&m)),
                ));
            }
        }
        Some(Table::Alerts) => {
            let m: Alert = codec::decode(message_headers, payload, max_bytes).map_err(rejected)?;
            rows.push(row(
                Output::Native(Table::Alerts),
                m.package.as_ref(),
                proto(),
            ));
            if let Some(verdict) = &m.verdict {
                rows.push(row(
                    Output::Native(Table::Verdicts),
                    verdict.package.as_ref().or(m.package.as_ref()),
                    RowBody::Proto(Bytes::from(verdict.encode_to_vec())),
                ));
            }
        }
        Some(Table::Verdicts) | None => {
            return Err(if type_name.is_empty() {
                format!(
                    "a message without a {} header (subject {subject})",
                    headers::MESSAGE_TYPE
                )
            } else {
                format!("the sink stores no `{type_name}` messages (subject {subject})")
            });
        }
    }
    Ok(rows)
}
