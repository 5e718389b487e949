//! The reference system's tables (package-analysis `analysis` and
//! `staticanalysis`), so that queries written for its public dataset run
//! on Paddock's: the JSON records, the BigQuery schema its loader uses,
//! the same columns as Arrow for the Parquet files, and records to a
//! record batch.
//!
//! # Layout
//!
//! - `analysis`: [`dynamic_record`], the `DynamicAnalysisRecord` of a
//!   dynamic result.
//! - `staticanalysis`: [`static_record`], the schema 1.0 `Record` of a
//!   static result.
//! - `columns`: the tables' columns, written once; [`bigquery_fields`]
//!   and [`arrow_schema`] render them.
//! - `batch`: [`to_record_batch`], records to one batch, refusing a
//!   record the table cannot hold.
//!
//! # Invariants
//!
//! - [`bigquery_fields`] and [`arrow_schema`] name the same columns in the
//!   same order (the reference loader's), then the bookkeeping columns.
//! - Every key the record functions write is a column, with the column's
//!   type: a record they make always converts.
//! - Where the records and the reference's BigQuery schema differ in
//!   representation, the records follow what BigQuery loads from JSON:
//!   `Stdout` (BYTES) and `Stderr` (STRING) are both base64 text,
//!   `CreatedTimestamp` is unix seconds, `created` is RFC 3339. In Arrow,
//!   `Stdout` is Binary (decoded) and `Stderr` Utf8 (the base64 text, as
//!   BigQuery holds it).

mod analysis;
mod batch;
mod columns;
mod staticanalysis;

#[cfg(test)]
mod tests;

pub use analysis::dynamic_record;
pub use batch::to_record_batch;
pub use columns::{arrow_schema, bigquery_fields, partition_column};
pub use staticanalysis::{static_record, SCHEMA_VERSION};

use chrono::{DateTime, SecondsFormat};
use paddock_proto::v1::{DynamicResult, StaticResult};
use prost::Message;
use serde_json::Value;

use crate::row::ReferenceTable;

/// The reference record of one encoded result: a `DynamicResult` for
/// [`ReferenceTable::Analysis`], a `StaticResult` for
/// [`ReferenceTable::StaticAnalysis`] (created at its `created_at`, see
/// [`created`]).
pub fn record_for(table: ReferenceTable, message: &[u8]) -> Result<Value, prost::DecodeError> {
    Ok(match table {
        ReferenceTable::Analysis => dynamic_record(&DynamicResult::decode(message)?),
        ReferenceTable::StaticAnalysis => {
            let result = StaticResult::decode(message)?;
            static_record(&result, &created(&result))
        }
    })
}

/// A static result's `created`: its `created_at` in RFC 3339, UTC with
/// `Z` (the unix epoch when unset). A time chrono cannot represent is
/// written as text that is not RFC 3339, so that the row is refused by
/// [`to_record_batch`] rather than stored with a wrong date.
pub fn created(result: &StaticResult) -> String {
    let (seconds, nanos) = result
        .created_at
        .as_ref()
        .map(|t| (t.seconds, t.nanos))
        .unwrap_or_default();
    u32::try_from(nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)
        .and_then(|n| DateTime::from_timestamp(seconds, n))
        .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        .unwrap_or_else(|| format!("unrepresentable: {seconds} s {nanos} ns after the unix epoch"))
}
