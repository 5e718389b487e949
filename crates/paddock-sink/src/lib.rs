//! The sinks' core: Arrow schemas derived from the Paddock protos,
//! conversion of bus messages to Arrow record batches and back, and the
//! Parquet and BigQuery writers. The service that feeds the writers from
//! the bus is `paddock-sink-service`.
//!
//! The Parquet and BigQuery sinks store five [`Table`]s, one row per
//! message: releases, static results, dynamic results (each phase's events
//! as nested lists), verdicts and alerts. Their schemas are not written by
//! hand: [`arrow_schema()`] derives them from the message descriptors that
//! `paddock-proto` embeds, so a field added to a `.proto` file appears in
//! the tables without code changes, and the golden listing in
//! `tests/golden/schemas.txt` makes the change visible in review.
//!
//! # Layout
//!
//! - [`arrow`]: the tables, their Arrow schemas, and messages to record
//!   batches and back (shared by the writers and by readers).
//! - [`parquet`]: the Parquet writer (partitioned, atomic, self-describing).
//! - [`bigquery`]: the BigQuery client, its credentials and writer.
//! - [`reference`]: the reference system's (package-analysis) tables.
//! - [`row`]: a message's rows, and the [`row::Writer`] contract every
//!   destination implements.
//!
//! # Invariants
//!
//! - A converted batch has exactly its table's schema, one row per message,
//!   in order.
//! - No field is dropped: a message with a field the sink does not know is
//!   refused, and every known field has a column. The only loss is
//!   timestamp and duration precision below a microsecond.
//! - Errors name the table and the row, so a sink can dead-letter the one
//!   bad message and write the rest.

pub mod arrow;
pub mod bigquery;
pub mod parquet;
pub mod reference;
pub mod row;

// The Arrow modules under their earlier names, for callers.
pub use arrow::{error, from_batch as messages, schema, table, to_batch as batch};

pub use arrow::error::SinkError;
pub use arrow::from_batch::from_record_batch;
pub use arrow::schema::arrow_schema;
pub use arrow::table::{descriptor_pool, tables, Table};
pub use arrow::to_batch::to_record_batch;

// The Arrow and reflection types in this crate's API, for callers that do
// not depend on the crates themselves.
pub use arrow_array::RecordBatch;
pub use arrow_schema::{Schema, SchemaRef};
pub use prost_reflect::{DynamicMessage, MessageDescriptor};
