//! The reference tables' columns, written once and rendered twice: as the
//! BigQuery schema (the reference loader's `dynamic-analysis-schema.json`
//! and `static-analysis-schema.json`: same names, order and modes) and as
//! the Arrow schema of the Parquet files.
//!
//! | BigQuery         | Arrow                                        |
//! |------------------|----------------------------------------------|
//! | STRING           | Utf8                                         |
//! | BYTES            | Binary (decoded from the record's base64)    |
//! | INTEGER          | Int64                                        |
//! | FLOAT            | Float64                                      |
//! | BOOLEAN          | Boolean                                      |
//! | TIMESTAMP        | Timestamp(s or µs, "UTC"), per column        |
//! | RECORD           | Struct                                       |
//! | mode NULLABLE    | nullable                                     |
//! | mode REQUIRED    | not nullable                                 |
//! | mode REPEATED    | nullable List (null: absent, i.e. empty) of non-nullable items |
//!
//! Type names are the canonical ones the BigQuery API returns (`INTEGER`,
//! `FLOAT`), where the reference's static file says `INT64`, `FLOAT64`
//! (aliases).

use std::sync::{Arc, OnceLock};

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use serde_json::{json, Value};

use crate::arrow::schema::TIMESTAMP_TZ;
use crate::row::{
    bookkeeping_fields, ReferenceTable, MSG_ID_COLUMN, PUBLISHED_COLUMN, SEQUENCE_COLUMN,
};

/// A column's BigQuery mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Nullable,
    Required,
    Repeated,
}

/// A column's type (of each element, for a repeated column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    /// Base64 text in the record (as BigQuery loads BYTES from JSON).
    Bytes,
    Integer,
    Float,
    Boolean,
    /// RFC 3339 text or unix seconds in the record; the unit is Arrow's.
    Timestamp(TimeUnit),
    Record(&'static [Column]),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Column {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) mode: Mode,
}

const fn nullable(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        mode: Mode::Nullable,
    }
}

const fn required(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        mode: Mode::Required,
    }
}

const fn repeated(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        mode: Mode::Repeated,
    }
}

use Kind::{Boolean, Bytes, Float, Integer, Record, String as Str};

// `analysis` (dynamic-analysis-schema.json).

const PACKAGE: &[Column] = &[
    nullable("Ecosystem", Str),
    nullable("Version", Str),
    nullable("Name", Str),
];

const DNS_QUERIES: &[Column] = &[nullable("Hostname", Str), repeated("Types", Str)];

const DNS: &[Column] = &[
    nullable("Class", Str),
    repeated("Queries", Record(DNS_QUERIES)),
];

const COMMANDS: &[Column] = &[repeated("Command", Str), repeated("Environment", Str)];

const SOCKETS: &[Column] = &[
    repeated("Hostnames", Str),
    nullable("Port", Integer),
    nullable("Address", Str),
];

const FILES: &[Column] = &[
    nullable("Delete", Boolean),
    nullable("Write", Boolean),
    nullable("Read", Boolean),
    nullable("Path", Str),
];

/// A phase's `StraceSummary`. `Stdout` is BYTES and `Stderr` STRING: the
/// reference's inconsistency, kept (both hold base64 in the record).
const PHASE: &[Column] = &[
    nullable("Status", Str),
    nullable("Stdout", Bytes),
    nullable("Stderr", Str),
    repeated("DNS", Record(DNS)),
    repeated("Commands", Record(COMMANDS)),
    repeated("Sockets", Record(SOCKETS)),
    repeated("Files", Record(FILES)),
];

const PHASES: &[Column] = &[
    nullable("install", Record(PHASE)),
    nullable("import", Record(PHASE)),
    nullable("execute", Record(PHASE)),
];

const ANALYSIS: &[Column] = &[
    nullable("Package", Record(PACKAGE)),
    nullable("CreatedTimestamp", Kind::Timestamp(TimeUnit::Second)),
    nullable("Analysis", Record(PHASES)),
];

// `staticanalysis` (static-analysis-schema.json).

const VALUE_COUNTS: &[Column] = &[required("value", Integer), required("count", Integer)];

const IDENTIFIERS: &[Column] = &[
    required("name", Str),
    nullable("type", Str),
    nullable("entropy", Float),
];

const STRING_LITERALS: &[Column] = &[
    required("value", Str),
    nullable("raw", Str),
    nullable("entropy", Float),
];

const INT_LITERALS: &[Column] = &[required("value", Integer), nullable("raw", Str)];

const FLOAT_LITERALS: &[Column] = &[required("value", Float), required("raw", Str)];

const COMMENTS: &[Column] = &[required("text", Str)];

const JS: &[Column] = &[
    repeated("identifiers", Record(IDENTIFIERS)),
    repeated("string_literals", Record(STRING_LITERALS)),
    repeated("int_literals", Record(INT_LITERALS)),
    repeated("float_literals", Record(FLOAT_LITERALS)),
    repeated("comments", Record(COMMENTS)),
];

const SUSPICIOUS_IDENTIFIERS: &[Column] = &[required("name", Str), nullable("rule", Str)];

const ESCAPED_STRINGS: &[Column] = &[
    required("value", Str),
    required("raw", Str),
    nullable("levenshtein_dist", Integer),
];

const FILE: &[Column] = &[
    required("filename", Str),
    nullable("detected_type", Str),
    nullable("size", Integer),
    nullable("sha256", Str),
    repeated("line_lengths", Record(VALUE_COUNTS)),
    nullable("js", Record(JS)),
    repeated("identifier_lengths", Record(VALUE_COUNTS)),
    repeated("string_lengths", Record(VALUE_COUNTS)),
    repeated("suspicious_identifiers", Record(SUSPICIOUS_IDENTIFIERS)),
    repeated("escaped_strings", Record(ESCAPED_STRINGS)),
    repeated("base64_strings", Str),
    repeated("hex_strings", Str),
    repeated("ip_addresses", Str),
    repeated("urls", Str),
];

const RESULTS: &[Column] = &[repeated("files", Record(FILE))];

const STATIC_ANALYSIS: &[Column] = &[
    required("schema_version", Str),
    required("ecosystem", Str),
    required("name", Str),
    required("version", Str),
    required("created", Kind::Timestamp(TimeUnit::Microsecond)),
    nullable("results", Record(RESULTS)),
];

/// The table's own columns (without the bookkeeping ones), in order.
pub(crate) fn columns(table: ReferenceTable) -> &'static [Column] {
    match table {
        ReferenceTable::Analysis => ANALYSIS,
        ReferenceTable::StaticAnalysis => STATIC_ANALYSIS,
    }
}

/// The BigQuery schema of `table`: the `fields` array of a table resource
/// (`name`, `type`, `mode`, and `fields` for a RECORD), the reference's
/// columns in its order, then `_msg_id` STRING, `_stream_sequence`
/// INTEGER and `_published` TIMESTAMP, all REQUIRED.
///
/// The table is day-partitioned on `CreatedTimestamp` (`analysis`) or
/// `created` (`staticanalysis`), as the reference's is; see
/// [`partition_column`].
pub fn bigquery_fields(table: ReferenceTable) -> Value {
    let mut fields: Vec<Value> = columns(table).iter().map(bigquery_field).collect();
    fields.push(json!({"name": MSG_ID_COLUMN, "type": "STRING", "mode": "REQUIRED"}));
    fields.push(json!({"name": SEQUENCE_COLUMN, "type": "INTEGER", "mode": "REQUIRED"}));
    fields.push(json!({"name": PUBLISHED_COLUMN, "type": "TIMESTAMP", "mode": "REQUIRED"}));
    Value::Array(fields)
}

/// The column the reference partitions `table` on, by day.
pub fn partition_column(table: ReferenceTable) -> &'static str {
    match table {
        ReferenceTable::Analysis => "CreatedTimestamp",
        ReferenceTable::StaticAnalysis => "created",
    }
}

fn bigquery_field(c: &Column) -> Value {
    let kind = match c.kind {
        Kind::String => "STRING",
        Kind::Bytes => "BYTES",
        Kind::Integer => "INTEGER",
        Kind::Float => "FLOAT",
        Kind::Boolean => "BOOLEAN",
        Kind::Timestamp(_) => "TIMESTAMP",
        Kind::Record(_) => "RECORD",
    };
    let mode = match c.mode {
        Mode::Nullable => "NULLABLE",
        Mode::Required => "REQUIRED",
        Mode::Repeated => "REPEATED",
    };
    let mut field = json!({"name": c.name, "type": kind, "mode": mode});
    if let Kind::Record(children) = c.kind {
        field["fields"] = Value::Array(children.iter().map(bigquery_field).collect());
    }
    field
}

/// The Arrow schema of `table` (its Parquet files): the same columns as
/// [`bigquery_fields`], in the same order, typed as the module's table
/// says, then [`bookkeeping_fields`].
///
/// `Stdout` is Binary holding the decoded bytes; `Stderr` is Utf8 holding
/// the base64 text, as the reference's BigQuery table holds it.
/// `CreatedTimestamp` is Timestamp(Second, "UTC"), `created`
/// Timestamp(Microsecond, "UTC").
pub fn arrow_schema(table: ReferenceTable) -> SchemaRef {
    static ANALYSIS_SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    static STATIC_SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    let cell = match table {
        ReferenceTable::Analysis => &ANALYSIS_SCHEMA,
        ReferenceTable::StaticAnalysis => &STATIC_SCHEMA,
    };
    cell.get_or_init(|| {
        let mut fields: Vec<Field> = columns(table).iter().map(arrow_field).collect();
        fields.extend(bookkeeping_fields());
        Arc::new(Schema::new(fields))
    })
    .clone()
}

fn arrow_type(kind: Kind) -> DataType {
    match kind {
        Kind::String => DataType::Utf8,
        Kind::Bytes => DataType::Binary,
        Kind::Integer => DataType::Int64,
        Kind::Float => DataType::Float64,
        Kind::Boolean => DataType::Boolean,
        Kind::Timestamp(unit) => DataType::Timestamp(unit, Some(TIMESTAMP_TZ.into())),
        Kind::Record(children) => {
            DataType::Struct(children.iter().map(arrow_field).collect::<Vec<_>>().into())
        }
    }
}

fn arrow_field(c: &Column) -> Field {
    let data_type = arrow_type(c.kind);
    match c.mode {
        Mode::Nullable => Field::new(c.name, data_type, true),
        Mode::Required => Field::new(c.name, data_type, false),
        Mode::Repeated => Field::new_list(c.name, Field::new_list_field(data_type, false), true),
    }
}
