//! Reference records to one Arrow record batch.
//!
//! Each record is first checked against its table's columns and rewritten
//! into the form `arrow-json` decodes into the Arrow schema: BYTES from
//! base64 to hex (its binary encoding), TIMESTAMPs from RFC 3339 text or
//! unix seconds to integers in the column's unit, and the bookkeeping
//! values added. The check is what BigQuery's JSON load does: a key that
//! is not a column, a value of the wrong type, a missing REQUIRED value, a
//! null array element, an integer outside INT64 or a timestamp outside
//! years 1 to 9999 refuses the row, with its path. The check walks the
//! columns, not the record, so it recurses no deeper than the schema
//! whatever the record holds.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowTimestampType, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{ArrayRef, ListArray, PrimitiveArray, RecordBatch, StructArray};
use arrow_json::ReaderBuilder;
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use base64::Engine;
use chrono::DateTime;
use serde_json::{Map, Number, Value};

use super::columns::{arrow_schema, columns, Column, Kind, Mode};
use crate::arrow::error::ColumnError;
use crate::row::{
    Output, ReferenceTable, Row, RowBody, MSG_ID_COLUMN, PUBLISHED_COLUMN, SEQUENCE_COLUMN,
};
use crate::SinkError;

/// The most JSON a batch (and so a row) may take: Arrow's 32-bit offsets
/// hold no more string or binary data per column.
const MAX_BATCH_JSON: usize = i32::MAX as usize;

/// BigQuery's TIMESTAMP range, in microseconds: 0001-01-01T00:00:00Z to
/// 9999-12-31T23:59:59.999999Z.
const MIN_MICROS: i64 = -62_135_596_800_000_000;
const MAX_MICROS: i64 = 253_402_300_799_999_999;

/// The rows' records (each a [`RowBody::Json`] bound for
/// `Output::Reference(table)`) and bookkeeping values as one batch with
/// exactly [`arrow_schema(table)`](arrow_schema), one row per row, in
/// order.
///
/// A row whose record does not fit the table gives
/// [`SinkError::Value`] with the row's index and the column's path (the
/// sink dead-letters that message and writes the rest); a batch over
/// 2 GiB of JSON gives [`SinkError::Batch`] (write fewer rows at once).
pub fn to_record_batch(table: ReferenceTable, rows: &[&Row]) -> Result<RecordBatch, SinkError> {
    let name = table.table_name();
    let schema = arrow_schema(table);
    let mut json = Vec::new();
    let mut ends = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let start = json.len();
        let record = arrow_record(table, row).map_err(|e| e.into_sink_error(name, index))?;
        serde_json::to_writer(&mut json, &record).map_err(|e| SinkError::Value {
            table: name.to_owned(),
            row: index,
            path: "the top level".to_owned(),
            reason: format!("cannot serialise the record: {e}"),
        })?;
        json.push(b'\n');
        if json.len() - start > MAX_BATCH_JSON {
            return Err(SinkError::Value {
                table: name.to_owned(),
                row: index,
                path: "the top level".to_owned(),
                reason: format!(
                    "the record takes {} bytes of JSON, more than a row can hold",
                    json.len() - start
                ),
            });
        }
        if json.len() > MAX_BATCH_JSON {
            return Err(SinkError::Batch {
                table: name.to_owned(),
                reason: format!("rows 0 to {index} take more than {MAX_BATCH_JSON} bytes of JSON; write fewer rows at once"),
            });
        }
        ends.push(json.len());
    }
    let batch = match decode(&schema, &json, rows.len()) {
        Ok(batch) => batch,
        Err(error) => return Err(blame(&schema, name, &json, &ends, error)),
    };
    if batch.num_rows() != rows.len() || batch.schema() != schema {
        return Err(SinkError::Batch {
            table: name.to_owned(),
            reason: format!(
                "decoded {} rows of {} with schema {:?}",
                batch.num_rows(),
                rows.len(),
                batch.schema()
            ),
        });
    }
    Ok(batch)
}

/// Newline-delimited conformed records to one batch.
///
/// `arrow-json` parses a named time zone such as "UTC" only with the
/// chrono-tz feature, even for integer input: it decodes into the schema
/// with the zones removed, and the zones are put back after (the values
/// are the same integers).
fn decode(schema: &SchemaRef, json: &[u8], rows: usize) -> Result<RecordBatch, ArrowError> {
    let naive: Vec<Field> = schema.fields().iter().map(|f| without_zone(f)).collect();
    let mut decoder = ReaderBuilder::new(Arc::new(Schema::new(naive)))
        .with_batch_size(rows.max(1))
        .with_strict_mode(true)
        .build_decoder()?;
    let mut rest = json;
    while !rest.is_empty() {
        let read = decoder.decode(rest)?;
        if read == 0 {
            return Err(ArrowError::JsonError(
                "the decoder took no more input".into(),
            ));
        }
        rest = &rest[read..];
    }
    let Some(batch) = decoder.flush()? else {
        return Ok(RecordBatch::new_empty(schema.clone()));
    };
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| with_zones(column.clone(), field.data_type()))
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema.clone(), columns)
}

/// `field` with every timestamp's time zone removed.
fn without_zone(field: &Field) -> Field {
    let data_type = match field.data_type() {
        DataType::Timestamp(unit, _) => DataType::Timestamp(*unit, None),
        DataType::Struct(children) => DataType::Struct(
            children
                .iter()
                .map(|f| without_zone(f))
                .collect::<Vec<_>>()
                .into(),
        ),
        DataType::List(item) => DataType::List(Arc::new(without_zone(item))),
        other => other.clone(),
    };
    field.clone().with_data_type(data_type)
}

/// `array` (decoded into [`without_zone`]'s type) as `target`.
fn with_zones(array: ArrayRef, target: &DataType) -> Result<ArrayRef, ArrowError> {
    if array.data_type() == target {
        return Ok(array);
    }
    let unexpected = || {
        ArrowError::SchemaError(format!(
            "decoded {} where {target} was expected",
            array.data_type()
        ))
    };
    Ok(match target {
        DataType::Struct(fields) => {
            let (_, columns, nulls) = array
                .as_struct_opt()
                .ok_or_else(unexpected)?
                .clone()
                .into_parts();
            let columns = columns
                .into_iter()
                .zip(fields.iter())
                .map(|(column, field)| with_zones(column, field.data_type()))
                .collect::<Result<Vec<_>, _>>()?;
            Arc::new(StructArray::try_new(fields.clone(), columns, nulls)?)
        }
        DataType::List(item) => {
            let (_, offsets, values, nulls) = array
                .as_list_opt::<i32>()
                .ok_or_else(unexpected)?
                .clone()
                .into_parts();
            let values = with_zones(values, item.data_type())?;
            Arc::new(ListArray::try_new(item.clone(), offsets, values, nulls)?)
        }
        DataType::Timestamp(unit, zone) => {
            let zone = zone.clone();
            match unit {
                TimeUnit::Second => Arc::new(
                    timestamps::<TimestampSecondType>(&array, zone).ok_or_else(unexpected)?,
                ),
                TimeUnit::Millisecond => Arc::new(
                    timestamps::<TimestampMillisecondType>(&array, zone).ok_or_else(unexpected)?,
                ),
                TimeUnit::Microsecond => Arc::new(
                    timestamps::<TimestampMicrosecondType>(&array, zone).ok_or_else(unexpected)?,
                ),
                TimeUnit::Nanosecond => Arc::new(
                    timestamps::<TimestampNanosecondType>(&array, zone).ok_or_else(unexpected)?,
                ),
            }
        }
        _ => return Err(unexpected()),
    })
}

fn timestamps<T: ArrowTimestampType>(
    array: &ArrayRef,
    zone: Option<Arc<str>>,
) -> Option<PrimitiveArray<T>> {
    Some(
        array
            .as_primitive_opt::<T>()?
            .clone()
            .with_timezone_opt(zone),
    )
}

/// Arrow refused the batch although every record passed the check (not
/// expected): decodes the rows one by one to name the first it refuses.
fn blame(
    schema: &SchemaRef,
    table: &str,
    json: &[u8],
    ends: &[usize],
    error: ArrowError,
) -> SinkError {
    let mut start = 0;
    for (index, &end) in ends.iter().enumerate() {
        if let Err(e) = decode(schema, &json[start..end], 1) {
            return SinkError::Value {
                table: table.to_owned(),
                row: index,
                path: "the top level".to_owned(),
                reason: format!("arrow refused the record: {e}"),
            };
        }
        start = end;
    }
    SinkError::Batch {
        table: table.to_owned(),
        reason: format!("arrow refused the batch: {error}"),
    }
}

/// The row's record, conformed, with the bookkeeping values.
fn arrow_record(table: ReferenceTable, row: &Row) -> Result<Value, ColumnError> {
    if row.output != Output::Reference(table) {
        return Err(ColumnError::value(format!(
            "the row is bound for table {}, not {}",
            row.output,
            table.table_name()
        )));
    }
    let RowBody::Json(record) = &row.body else {
        return Err(ColumnError::value(
            "the row holds a protobuf message, not a reference record",
        ));
    };
    let mut out = conform_record(record, columns(table))?;
    out.insert(MSG_ID_COLUMN.to_owned(), Value::from(row.msg_id.as_str()));
    out.insert(SEQUENCE_COLUMN.to_owned(), Value::from(row.sequence));
    out.insert(
        PUBLISHED_COLUMN.to_owned(),
        Value::from(row.published.timestamp_micros()),
    );
    Ok(Value::Object(out))
}

/// A RECORD's value: every key a column, every column conformed (absent
/// ones null).
fn conform_record(value: &Value, columns: &[Column]) -> Result<Map<String, Value>, ColumnError> {
    let Value::Object(object) = value else {
        return Err(mismatch("a RECORD (JSON object)", value));
    };
    if let Some(key) = object
        .keys()
        .find(|key| !columns.iter().any(|c| c.name == key.as_str()))
    {
        return Err(ColumnError::value("not a column of the table").within(&shorten(key)));
    }
    let mut out = Map::new();
    for column in columns {
        let conformed =
            conform_column(object.get(column.name), column).map_err(|e| e.within(column.name))?;
        out.insert(column.name.to_owned(), conformed);
    }
    Ok(out)
}

fn conform_column(value: Option<&Value>, column: &Column) -> Result<Value, ColumnError> {
    match (column.mode, value) {
        (Mode::Required, None | Some(Value::Null)) => {
            Err(ColumnError::value("missing a REQUIRED value"))
        }
        (Mode::Nullable | Mode::Repeated, None | Some(Value::Null)) => Ok(Value::Null),
        (Mode::Repeated, Some(Value::Array(items))) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                match item {
                    Value::Null => Err(ColumnError::value("a null array element")),
                    item => conform_value(item, column.kind),
                }
                .map_err(|e| e.within(&format!("[{i}]")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        (Mode::Repeated, Some(other)) => Err(mismatch("a REPEATED value (JSON array)", other)),
        (Mode::Nullable | Mode::Required, Some(value)) => conform_value(value, column.kind),
    }
}

fn conform_value(value: &Value, kind: Kind) -> Result<Value, ColumnError> {
    match (kind, value) {
        (Kind::String, Value::String(_)) | (Kind::Boolean, Value::Bool(_)) => Ok(value.clone()),
        (Kind::Float, Value::Number(_)) => Ok(value.clone()),
        (Kind::Integer, Value::Number(n)) => match n.as_i64() {
            Some(i) => Ok(Value::from(i)),
            None if n.is_u64() => Err(ColumnError::value(format!(
                "{n} is out of the INTEGER (INT64) range"
            ))),
            None => Err(ColumnError::value(format!("{n} is not an integer"))),
        },
        (Kind::Bytes, Value::String(text)) => base64::engine::general_purpose::STANDARD
            .decode(text)
            .map(|bytes| Value::String(hex(&bytes)))
            .map_err(|e| ColumnError::value(format!("not base64 (BYTES): {e}"))),
        (Kind::Timestamp(unit), Value::Number(n)) => {
            let micros = seconds_to_micros(n).map_err(ColumnError::value)?;
            in_unit(micros, unit).map_err(ColumnError::value)
        }
        (Kind::Timestamp(unit), Value::String(text)) => {
            let micros = DateTime::parse_from_rfc3339(text)
                .map_err(|e| {
                    ColumnError::value(format!(
                        "{:?} is not an RFC 3339 timestamp: {e}",
                        shorten(text)
                    ))
                })?
                .timestamp_micros();
            in_unit(micros, unit).map_err(ColumnError::value)
        }
        (Kind::Record(children), value) => conform_record(value, children).map(Value::Object),
        (Kind::String, other) => Err(mismatch("a STRING", other)),
        (Kind::Bytes, other) => Err(mismatch("BYTES (base64 text)", other)),
        (Kind::Integer, other) => Err(mismatch("an INTEGER", other)),
        (Kind::Float, other) => Err(mismatch("a FLOAT", other)),
        (Kind::Boolean, other) => Err(mismatch("a BOOLEAN", other)),
        (Kind::Timestamp(_), other) => Err(mismatch(
            "a TIMESTAMP (RFC 3339 text or unix seconds)",
            other,
        )),
    }
}

/// BigQuery reads a JSON number in a TIMESTAMP column as unix seconds.
fn seconds_to_micros(n: &Number) -> Result<i64, String> {
    let out_of_range = || format!("{n} seconds is outside years 1 to 9999");
    if let Some(seconds) = n.as_i64() {
        return seconds.checked_mul(1_000_000).ok_or_else(out_of_range);
    }
    match n.as_f64() {
        Some(seconds) if seconds.is_finite() => {
            let micros = (seconds * 1e6).round();
            if micros < MIN_MICROS as f64 || micros > MAX_MICROS as f64 {
                Err(out_of_range())
            } else {
                // In range, so the conversion is exact enough and cannot
                // saturate.
                Ok(micros as i64)
            }
        }
        _ => Err(out_of_range()),
    }
}

/// `micros` as an integer in `unit`, after BigQuery's range check.
fn in_unit(micros: i64, unit: TimeUnit) -> Result<Value, String> {
    if !(MIN_MICROS..=MAX_MICROS).contains(&micros) {
        return Err(format!(
            "{micros} µs after the unix epoch is outside years 1 to 9999"
        ));
    }
    let value = match unit {
        TimeUnit::Second => micros.div_euclid(1_000_000),
        TimeUnit::Millisecond => micros.div_euclid(1_000),
        TimeUnit::Microsecond => micros,
        TimeUnit::Nanosecond => micros
            .checked_mul(1_000)
            .ok_or_else(|| format!("{micros} µs does not fit in nanoseconds"))?,
    };
    Ok(Value::from(value))
}

fn mismatch(expected: &str, found: &Value) -> ColumnError {
    let found = match found {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    ColumnError::value(format!("expected {expected}, found {found}"))
}

/// At most 64 characters of `text`, for an error message.
fn shorten(text: &str) -> String {
    const MAX: usize = 64;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}
