//! What the sink service hands a writer: rows bound for one table each, and
//! the writer contract (store durably, say which rows can never be stored,
//! recognise rows already stored).

use std::collections::HashSet;
use std::future::Future;

use arrow_schema::{DataType, Field, TimeUnit};
use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::arrow::schema::TIMESTAMP_TZ;
use crate::Table;

/// A table in the reference system's (package-analysis) schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReferenceTable {
    /// `analysis`: the dynamic record (`DynamicAnalysisRecord`), one row per
    /// dynamic result.
    Analysis,
    /// `staticanalysis`: the static record (schema 1.0), one row per static
    /// result.
    StaticAnalysis,
}

impl ReferenceTable {
    pub fn table_name(self) -> &'static str {
        match self {
            ReferenceTable::Analysis => "analysis",
            ReferenceTable::StaticAnalysis => "staticanalysis",
        }
    }
}

/// Where a row goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Output {
    /// One of Paddock's own tables (columns derived from the protos).
    Native(Table),
    /// One of the reference system's tables (its JSON record shapes).
    Reference(ReferenceTable),
}

impl Output {
    /// The table's name: a directory under the Parquet root, a BigQuery
    /// table id.
    pub fn table_name(self) -> &'static str {
        match self {
            Output::Native(t) => t.table_name(),
            Output::Reference(t) => t.table_name(),
        }
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.table_name())
    }
}

/// A row's content.
#[derive(Debug, Clone, PartialEq)]
pub enum RowBody {
    /// The protobuf encoding of the table's message ([`Output::Native`]).
    Proto(Bytes),
    /// The reference system's JSON record ([`Output::Reference`]).
    Json(serde_json::Value),
}

/// One row bound for one table, with where it came from on the bus.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub output: Output,
    /// The ecosystem's command-line name (`npm`, `pypi`, `crates.io`…): the
    /// `ecosystem=` partition.
    pub ecosystem: String,
    /// When the message was stored in its stream: the `date=` partition
    /// and the `_published` column.
    pub published: DateTime<Utc>,
    /// The stream the message came from, and its sequence there. A message
    /// is the same message on redelivery exactly when these are equal.
    pub stream: String,
    pub sequence: u64,
    /// The publisher's message id (`Nats-Msg-Id`), or `<stream>:<sequence>`
    /// when it set none: the `_msg_id` column and BigQuery's insert id.
    pub msg_id: String,
    pub body: RowBody,
}

impl Row {
    /// The row's identity in its table.
    pub fn key(&self) -> RowKey {
        RowKey {
            output: self.output,
            sequence: self.sequence,
        }
    }

    /// `YYYY-MM-DD` of [`Row::published`], UTC.
    pub fn date(&self) -> String {
        self.published.format("%Y-%m-%d").to_string()
    }
}

/// A row's identity: its table and its message's stream sequence (one
/// writer consumes one stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowKey {
    pub output: Output,
    pub sequence: u64,
}

/// The columns every table has after its own: where the row came from.
pub const MSG_ID_COLUMN: &str = "_msg_id";
pub const SEQUENCE_COLUMN: &str = "_stream_sequence";
pub const PUBLISHED_COLUMN: &str = "_published";

/// The Arrow fields of the bookkeeping columns, in order.
pub fn bookkeeping_fields() -> [Field; 3] {
    [
        Field::new(MSG_ID_COLUMN, DataType::Utf8, false),
        Field::new(SEQUENCE_COLUMN, DataType::UInt64, false),
        Field::new(
            PUBLISHED_COLUMN,
            DataType::Timestamp(TimeUnit::Microsecond, Some(TIMESTAMP_TZ.into())),
            false,
        ),
    ]
}

/// What became of one row given to [`Writer::write`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Durably stored.
    Written,
    /// Can never be stored (the destination refuses its content): the
    /// message goes to the dead-letter stream with this reason.
    Rejected(String),
}

/// A failure after which nothing can be said about the rows given.
///
/// A transient one (the destination is unreachable or busy) is retried in
/// place until it succeeds: the messages stay held and no delivery is
/// spent. A permanent one (access denied, the dataset is gone, the disk is
/// read-only) needs an operator: its messages are redelivered with backoff
/// and, after the consumer's last delivery, dead-lettered with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct WriteError {
    pub reason: String,
    pub transient: bool,
}

impl WriteError {
    /// May succeed later without any change.
    pub fn transient(reason: impl std::fmt::Display) -> Self {
        Self {
            reason: reason.to_string(),
            transient: true,
        }
    }

    /// Needs a change of configuration, permissions or data first.
    pub fn permanent(reason: impl std::fmt::Display) -> Self {
        Self {
            reason: reason.to_string(),
            transient: false,
        }
    }
}

/// A destination: Parquet files, BigQuery tables.
///
/// The sink service calls it from one task; a writer needs no locking.
pub trait Writer: Send + Sync + 'static {
    /// `parquet`, `bigquery`: the metrics label and consumer name part.
    fn kind(&self) -> &'static str;

    /// Which of `rows` are already stored: the message was written and the
    /// sink stopped before acking it, or an earlier attempt's outcome was
    /// unknown. `ack_floor` is the consumer's: every sequence at or below
    /// it was acked, so nothing at or below it is ever asked about.
    fn already_written(
        &mut self,
        rows: &[Row],
        ack_floor: u64,
    ) -> impl Future<Output = Result<HashSet<RowKey>, WriteError>> + Send;

    /// Stores `rows` durably, and says per row (same order) whether it was
    /// stored or can never be. `Err`: retry all of them.
    fn write(
        &mut self,
        rows: Vec<Row>,
    ) -> impl Future<Output = Result<Vec<Disposition>, WriteError>> + Send;
}
