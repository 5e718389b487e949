//! The BigQuery destination: table schemas derived from the Arrow schemas,
//! rows as BigQuery JSON, a small REST client (streaming inserts, queries,
//! dataset and table creation), and [`BigQueryWriter`], the
//! [`Writer`](crate::row::Writer) the sink service drives.
//!
//! # Layout
//!
//! - [`config`]: [`BigQueryConfig`], the `[sink.bigquery]` section, and
//!   [`Credentials`].
//! - [`schema`]: Arrow schema to BigQuery `fields` ([`bigquery_schema`]),
//!   the bookkeeping columns, and merging new columns into a table.
//! - [`json`]: rows to BigQuery JSON rows ([`json_rows`],
//!   [`record_batch_json`], [`reference_json_row`]).
//! - [`auth`]: access tokens through `gcp_auth`: none (the emulator), a
//!   service-account key, or Google's application-default chain.
//! - [`model`]: the REST API's requests and responses, typed.
//! - [`client`]: [`BigQueryClient`]: `ensure_dataset`, `ensure_table`,
//!   `insert_all`, `query`.
//! - [`writer`]: [`BigQueryWriter`], the sink service's destination.
//! - [`error`]: [`BigQueryError`], and whether a failure is transient.
//!
//! # Type mapping
//!
//! | Arrow (from the protos)          | BigQuery                         | JSON value                     |
//! |----------------------------------|----------------------------------|--------------------------------|
//! | Utf8 (strings, enum names)       | STRING                           | string                         |
//! | Binary                           | BYTES                            | standard base64                |
//! | Boolean                          | BOOLEAN                          | true / false                   |
//! | Int8..Int32, UInt8..UInt32       | INTEGER                          | number                         |
//! | Int64, UInt64                    | INTEGER                          | decimal string                 |
//! | Float32, Float64                 | FLOAT                            | number; "NaN", "Infinity", "-Infinity" |
//! | Timestamp(µs, "UTC")             | TIMESTAMP                        | RFC 3339, 6 decimals, `Z`      |
//! | Duration(µs)                     | INTEGER (microseconds)           | decimal string                 |
//! | Struct                           | RECORD                           | object                         |
//! | `List<T>`                        | T with mode REPEATED             | array                          |
//! | `Map<K, V>`                      | REPEATED RECORD {key, value}     | array of {key, value}          |
//!
//! Every column that is not REPEATED is NULLABLE, except the bookkeeping
//! columns `_msg_id` STRING, `_stream_sequence` INTEGER and `_published`
//! TIMESTAMP (REQUIRED), which follow every table's own columns. Null
//! values are left out of the JSON.
//!
//! # Invariants
//!
//! - The JSON rows are read from the same Arrow record batches the Parquet
//!   writer writes ([`crate::to_record_batch`]), so both destinations hold
//!   the same values.
//! - BigQuery, not this module, decides what it cannot store: a `uint64`
//!   above `i64::MAX` is sent as its decimal string, and the row comes back
//!   rejected. The exception is a value the shared conversion already
//!   refuses (a timestamp outside years 1 to 9999): that row is rejected
//!   with the conversion's reason, as the Parquet writer rejects it.
//! - Only integers are ever interpolated into SQL; project, dataset and
//!   table names are validated against BigQuery's identifier rules first.
//! - Insert ids are `<msg id>/<table>`, so a retried insert within
//!   BigQuery's deduplication window does not add a second row; where that
//!   window does not help (the emulator, a crash before the ack),
//!   [`BigQueryWriter`]'s `already_written` finds the rows by their
//!   `_stream_sequence`.

pub mod auth;
pub mod client;
pub mod config;
pub mod error;
pub mod json;
pub mod model;
pub mod schema;
pub mod writer;

pub use client::{BigQueryClient, InsertOutcome};
pub use config::{BigQueryConfig, Credentials};
pub use error::BigQueryError;
pub use json::{json_rows, record_batch_json, reference_json_row};
pub use model::{TableFieldSchema, TableSchema};
pub use schema::{bigquery_schema, bookkeeping_schema, table_fields};
pub use writer::BigQueryWriter;
