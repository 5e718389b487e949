//! The sinks: Arrow schemas derived from the Paddock protos, conversion of
//! bus messages to Arrow record batches and back, and the Parquet and
//! BigQuery writers with the service that feeds them from the bus.
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
//! - [`table`]: the five tables, their names and message types, and the
//!   descriptor pool.
//! - [`schema`]: the proto-to-Arrow type mapping (listed in the README).
//! - [`batch`]: encoded messages to a [`RecordBatch`].
//! - [`messages`]: a record batch back to messages, to check what was written.
//! - [`reference`]: the reference system's (package-analysis) tables.
//! - [`row`]: a message's rows, and the [`row::Writer`] contract.
//! - [`service`]: the sink service (consume, batch, write, ack, dead-letter).
//! - [`parquet`]: the Parquet writer (partitioned, atomic, self-describing).
//! - [`bigquery`]: the BigQuery client and writer.
//! - [`error`]: the error type, [`SinkError`].
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

pub mod batch;
pub mod bigquery;
pub mod error;
pub mod messages;
pub mod parquet;
pub mod reference;
pub mod row;
pub mod schema;
pub mod service;
pub mod table;
mod wkt;

#[cfg(test)]
mod test_proto;

pub use batch::to_record_batch;
pub use error::SinkError;
pub use messages::from_record_batch;
pub use schema::arrow_schema;
pub use table::{descriptor_pool, tables, Table};

// The Arrow and reflection types in this crate's API, for callers that do
// not depend on the crates themselves.
pub use arrow_array::RecordBatch;
pub use arrow_schema::{Schema, SchemaRef};
pub use prost_reflect::{DynamicMessage, MessageDescriptor};
