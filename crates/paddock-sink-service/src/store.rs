//! One sink's consume loops: consumes releases, results and alerts
//! (consumers `sink-<kind>-releases`, `-results`, `-alerts`), turns each
//! message into rows, hands them to a [`Writer`] in batches, and acks each
//! message only once every row of it is stored.
//!
//! Batching, progress, acks and dead letters are the bus's batch consumer
//! ([`paddock_bus::batch`]); this module decides what becomes of each
//! message:
//!
//! - A flush that fails transiently (the destination is down or busy) is
//!   retried in place with backoff: the messages stay held and no delivery
//!   is spent because a destination is down.
//! - A flush that fails permanently (access denied, a deleted dataset)
//!   spends one delivery of each message; after the consumer's last one,
//!   the message is dead-lettered with the reason.
//! - A redelivered message is first checked with
//!   [`Writer::already_written`]: a sink killed after writing and before
//!   acking writes nothing twice.
//! - A message that can never be stored (undecodable, or refused by the
//!   destination) is copied to `dlq.sink-<kind>-<stream>` with the reason.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use paddock_bus::codec::{self, Rejection};
use paddock_bus::names::headers;
use paddock_bus::CancellationToken;
use paddock_bus::{
    BatchContext, BatchDelivery, BatchHandler, Bus, BusError, ConsumerSettings, Disposition,
    JetStreamBus, StreamKind,
};
use paddock_proto::ecosystem::cli_name;
use paddock_proto::v1::{Alert, DynamicResult, PackageRef, Release, StaticResult};
use paddock_sink::row::{
    Disposition as Written, Output, ReferenceTable, Row, RowBody, WriteError, Writer,
};
use paddock_sink::Table;
use prost::Message as _;

use crate::metrics::{SinkLabels, SinkMetrics, TableLabels};

/// When a batch is flushed: the bus's batch settings.
pub use paddock_bus::BatchConfig;

/// What the sink needs besides its writers.
#[derive(Debug, Clone)]
pub struct SinkSettings {
    pub batch: BatchConfig,
    /// Also write the reference system's `analysis` and `staticanalysis`.
    pub reference_tables: bool,
    /// Backoff of flushes retried in place after a transient failure.
    pub consumer: ConsumerSettings,
    pub max_message_bytes: usize,
    pub metrics: Arc<SinkMetrics>,
}

/// Runs one sink: a writer per stream, made by `make_writer`, each fed by
/// the bus's batch consumer, until `shutdown`.
pub async fn consume<W, F>(
    bus: &JetStreamBus,
    kind: &str,
    mut make_writer: F,
    settings: SinkSettings,
    shutdown: CancellationToken,
) -> Result<(), BusError>
where
    W: Writer,
    F: FnMut(StreamKind) -> Result<W, WriteError>,
{
    let mut loops = tokio::task::JoinSet::new();
    for spec in bus.names().sink_consumers(kind) {
        let writer = make_writer(spec.stream).map_err(|e| BusError::Consumer {
            stream: spec.stream_name.clone(),
            consumer: spec.durable.clone(),
            source: e.reason.into(),
        })?;
        let store = Store {
            writer,
            stream: spec.stream_name.clone(),
            settings: settings.clone(),
        };
        let (bus, batch, shutdown) = (bus.clone(), settings.batch.clone(), shutdown.clone());
        loops.spawn(async move { bus.consume_batches(&spec, &batch, store, shutdown).await });
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

/// The batch handler of one stream: turns deliveries into rows, stores
/// them with its writer, and says which messages are stored.
struct Store<W> {
    writer: W,
    stream: String,
    settings: SinkSettings,
}

impl<W: Writer> BatchHandler for Store<W> {
    #[tracing::instrument(name = "sink.flush", skip_all, fields(sink = self.writer.kind(), stream = %self.stream, messages = batch.len()))]
    async fn handle(
        &mut self,
        batch: &[BatchDelivery],
        context: &BatchContext,
    ) -> Vec<Disposition> {
        let kind = self.writer.kind();
        let started = Instant::now();
        let mut dispositions: Vec<Option<Disposition>> = vec![None; batch.len()];
        let mut rows: Vec<(usize, Row)> = Vec::new();
        for (index, delivery) in batch.iter().enumerate() {
            match rows_of(
                &delivery.subject,
                delivery.headers.as_ref(),
                &delivery.payload,
                &self.stream,
                delivery.stream_sequence,
                DateTime::<Utc>::from(delivery.published),
                self.settings.max_message_bytes,
                self.settings.reference_tables,
            ) {
                Ok(of) => rows.extend(of.into_iter().map(|row| (index, row))),
                Err(reason) => {
                    self.count_dead_letter();
                    dispositions[index] = Some(Disposition::DeadLetter(reason));
                }
            }
        }

        let stored = match self.store(batch, &rows, context).await {
            Ok(stored) => stored,
            Err(error) => {
                // Permanent: spend a delivery of each message; the last one
                // dead-letters it with this reason.
                let reason = format!("the {kind} sink cannot store it: {}", error.reason);
                return dispositions
                    .into_iter()
                    .map(|d| d.unwrap_or_else(|| Disposition::Retry(reason.clone())))
                    .collect();
            }
        };

        // A message is stored when its own row is: a refused row of a
        // reference table (the reference schema is narrower, e.g. INT64
        // where Paddock has uint64) is counted and logged, and the message
        // is acked, since its native row holds everything.
        let mut refused: Vec<Vec<String>> = vec![Vec::new(); batch.len()];
        for ((index, row), outcome) in rows.iter().zip(stored) {
            let labels = TableLabels {
                sink: kind.into(),
                table: row.output.table_name().into(),
            };
            match (outcome, row.output) {
                (Stored::Written, _) => {
                    self.settings.metrics.rows.get_or_create(&labels).inc();
                }
                (Stored::Already, _) => {
                    self.settings
                        .metrics
                        .duplicates
                        .get_or_create(&labels)
                        .inc();
                }
                (Stored::Refused(reason), Output::Native(_)) => {
                    refused[*index].push(format!("{}: {reason}", row.output));
                }
                (Stored::Refused(reason), Output::Reference(_)) => {
                    self.settings.metrics.refused.get_or_create(&labels).inc();
                    tracing::warn!(sink = kind, sequence = row.sequence, %reason, "a reference-table row was refused; the message's own row is stored");
                }
            }
        }
        self.settings
            .metrics
            .flush_seconds
            .get_or_create(&SinkLabels { sink: kind.into() })
            .observe(started.elapsed().as_secs_f64());
        dispositions
            .into_iter()
            .zip(refused)
            .map(|(disposition, refused)| match disposition {
                Some(disposition) => disposition,
                None if refused.is_empty() => Disposition::Ack,
                None => {
                    self.count_dead_letter();
                    Disposition::DeadLetter(format!(
                        "the {kind} sink refused the row: {}",
                        refused.join("; ")
                    ))
                }
            })
            .collect()
    }
}

/// What became of one row of a batch.
enum Stored {
    Written,
    /// A redelivered message's row found already stored: skipped.
    Already,
    Refused(String),
}

impl<W: Writer> Store<W> {
    /// Stores `rows` (rows of redelivered messages already stored are
    /// skipped), retrying transient failures in place with backoff until
    /// they succeed; the bus reports progress meanwhile and, at shutdown,
    /// cuts the wait short. A permanent failure is returned.
    async fn store(
        &mut self,
        batch: &[BatchDelivery],
        rows: &[(usize, Row)],
        context: &BatchContext,
    ) -> Result<Vec<Stored>, WriteError> {
        let kind = self.writer.kind();
        // Only redelivered messages can have been stored already; after a
        // failed attempt its outcome is unknown, so every row is checked.
        let mut check: Vec<Row> = rows
            .iter()
            .filter(|(index, _)| batch[*index].attempt > 1)
            .map(|(_, row)| row.clone())
            .collect();
        let mut failures = 0u64;
        loop {
            let attempt = async {
                let mut already = HashSet::new();
                if !check.is_empty() {
                    let floor = context.ack_floor().await.map_err(|e| {
                        WriteError::transient(format!("reading the consumer's ack floor: {e}"))
                    })?;
                    already = self.writer.already_written(&check, floor).await?;
                }
                let todo: Vec<Row> = rows
                    .iter()
                    .filter(|(_, row)| !already.contains(&row.key()))
                    .map(|(_, row)| row.clone())
                    .collect();
                let mut written = self.writer.write(todo).await?.into_iter();
                Ok::<_, WriteError>(
                    rows.iter()
                        .map(|(_, row)| {
                            if already.contains(&row.key()) {
                                Stored::Already
                            } else {
                                match written.next() {
                                    Some(Written::Written) => Stored::Written,
                                    Some(Written::Rejected(reason)) => Stored::Refused(reason),
                                    None => Stored::Refused(
                                        "the writer gave no outcome (a bug in the sink)".into(),
                                    ),
                                }
                            }
                        })
                        .collect(),
                )
            };
            match attempt.await {
                Ok(stored) => return Ok(stored),
                Err(error) => {
                    failures += 1;
                    self.settings
                        .metrics
                        .write_failures
                        .get_or_create(&SinkLabels { sink: kind.into() })
                        .inc();
                    if !error.transient {
                        tracing::warn!(sink = kind, stream = %self.stream, %error, "storing a batch failed permanently; its messages are redelivered and dead-lettered after their last delivery");
                        return Err(error);
                    }
                    check = rows.iter().map(|(_, row)| row.clone()).collect();
                    let delay = self
                        .settings
                        .consumer
                        .backoff(failures)
                        .min(Duration::from_secs(60));
                    tracing::warn!(sink = kind, stream = %self.stream, failures, delay_ms = delay.as_millis() as u64, %error, "storing a batch failed; retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    fn count_dead_letter(&self) {
        self.settings
            .metrics
            .dead_letters
            .get_or_create(&SinkLabels {
                sink: self.writer.kind().into(),
            })
            .inc();
    }
}

/// The package of a release or result: field 1 of each. A native row
/// needs only the package (for its partition) of the message it stores
/// as is; the rest is read once, when the row is converted, and a body
/// that fails there is refused alone by the writer.
#[derive(Clone, PartialEq, prost::Message)]
struct PackageOf {
    #[prost(message, optional, tag = "1")]
    package: Option<PackageRef>,
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
    // A message stored as it came: only its package is read, to partition
    // the row; the body is read once, when the row is converted.
    let as_is = |table: Table| -> Result<Row, String> {
        let m: PackageOf = match table {
            Table::Releases => codec::decode_as::<Release, _>(message_headers, payload, max_bytes),
            Table::StaticResults => {
                codec::decode_as::<StaticResult, _>(message_headers, payload, max_bytes)
            }
            _ => codec::decode_as::<DynamicResult, _>(message_headers, payload, max_bytes),
        }
        .map_err(rejected)?;
        Ok(row(Output::Native(table), m.package.as_ref(), proto()))
    };
    let mut rows = Vec::new();
    match Table::for_message_name(&type_name) {
        Some(Table::Releases) => rows.push(as_is(Table::Releases)?),
        Some(table @ (Table::StaticResults | Table::DynamicResults)) if !reference_tables => {
            rows.push(as_is(table)?)
        }
        // With the reference tables: the whole message, for their records.
        Some(Table::StaticResults) => {
            let m: StaticResult =
                codec::decode(message_headers, payload, max_bytes).map_err(rejected)?;
            rows.push(row(
                Output::Native(Table::StaticResults),
                m.package.as_ref(),
                proto(),
            ));
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
                RowBody::Json(paddock_sink::reference::static_record(&m, &created)),
            ));
        }
        Some(Table::DynamicResults) => {
            let m: DynamicResult =
                codec::decode(message_headers, payload, max_bytes).map_err(rejected)?;
            rows.push(row(
                Output::Native(Table::DynamicResults),
                m.package.as_ref(),
                proto(),
            ));
            rows.push(row(
                Output::Reference(ReferenceTable::Analysis),
                m.package.as_ref(),
                RowBody::Json(paddock_sink::reference::dynamic_record(&m)),
            ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use paddock_bus::names::headers::{MESSAGE_TYPE, MSG_ID};
    use paddock_proto::v1::Ecosystem;
    use paddock_proto::WireMessage;

    fn package() -> PackageRef {
        PackageRef {
            ecosystem: Ecosystem::Pypi as i32,
            name: "six".into(),
            version: "1.17.0".into(),
        }
    }

    fn headers_of<M: WireMessage>() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(MESSAGE_TYPE, M::type_name().as_str());
        h.insert(MSG_ID, "id-1");
        h
    }

    fn rows<M: WireMessage>(payload: Vec<u8>, reference_tables: bool) -> Result<Vec<Row>, String> {
        rows_of(
            "t.subject",
            Some(&headers_of::<M>()),
            &Bytes::from(payload),
            "RESULTS",
            7,
            Utc::now(),
            1 << 20,
            reference_tables,
        )
    }

    #[test]
    fn the_package_view_reads_field_one_of_every_message_stored_as_is() {
        let release = Release {
            package: Some(package()),
            feed_name: "f".into(),
            ..Default::default()
        };
        let stat = StaticResult {
            package: Some(package()),
            status_detail: "x".into(),
            ..Default::default()
        };
        let dynamic = DynamicResult {
            package: Some(package()),
            status_detail: "y".into(),
            ..Default::default()
        };
        for (payload, table, got) in [
            (
                release.encode_to_vec(),
                Table::Releases,
                rows::<Release>(release.encode_to_vec(), false),
            ),
            (
                stat.encode_to_vec(),
                Table::StaticResults,
                rows::<StaticResult>(stat.encode_to_vec(), false),
            ),
            (
                dynamic.encode_to_vec(),
                Table::DynamicResults,
                rows::<DynamicResult>(dynamic.encode_to_vec(), false),
            ),
        ] {
            let got = got.expect("stored");
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].output, Output::Native(table));
            assert_eq!(got[0].ecosystem, "pypi");
            assert_eq!(got[0].msg_id, "id-1");
            assert!(matches!(&got[0].body, RowBody::Proto(b) if b.as_ref() == payload.as_slice()));
        }
    }

    #[test]
    fn a_body_broken_past_the_package_is_refused_alone_when_converted() {
        let mut payload = DynamicResult {
            package: Some(package()),
            status_detail: "ok".into(),
            ..Default::default()
        }
        .encode_to_vec();
        // `status_detail` (field 9) becomes invalid UTF-8.
        let at = payload.len() - 2;
        payload[at] = 0xff;
        let got = rows::<DynamicResult>(payload.clone(), false).expect("the package reads");
        assert_eq!(got.len(), 1);
        let good = DynamicResult {
            package: Some(package()),
            ..Default::default()
        }
        .encode_to_vec();
        let error = paddock_sink::to_record_batch(
            Table::DynamicResults,
            &[good.as_slice(), payload.as_slice()],
        )
        .expect_err("the broken body is refused");
        assert_eq!(error.row(), Some(1), "{error}");
        // A broken package is refused at once.
        let mut bad_package = good.clone();
        let name_at = bad_package.iter().position(|b| *b == b's').expect("name");
        bad_package[name_at] = 0xff;
        assert!(rows::<DynamicResult>(bad_package, false).is_err());
        // With the reference tables on, the whole body is read at once.
        assert!(rows::<DynamicResult>(payload, true).is_err());
    }
}
