//! Rows as BigQuery JSON: the `json` object of each `insertAll` row.
//!
//! Native rows are converted to an Arrow record batch with
//! [`crate::to_record_batch`], the conversion the Parquet writer uses, and
//! the batch is walked column by column into JSON matching
//! [`bigquery_schema`](super::bigquery_schema) of its schema. Reference
//! rows are JSON already. Both get the bookkeeping columns.
//!
//! Values follow BigQuery's JSON conventions: 64-bit integers as decimal
//! strings (exact where a JSON number would not be), floats as numbers
//! with `"NaN"`, `"Infinity"` and `"-Infinity"` as strings, bytes as
//! standard base64, timestamps as RFC 3339 with microseconds and `Z`,
//! durations as integer microseconds, maps as arrays of `{key, value}`.
//! Nulls are left out. Nothing is clamped or checked against BigQuery's
//! ranges: a `uint64` above `i64::MAX` stays its decimal string and a
//! timestamp past year 9999 is written as chrono formats it
//! (`+10000-01-01T00:00:00.000000Z`), so BigQuery refuses that row and
//! says why.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, DurationMicrosecondType, DurationMillisecondType,
    DurationNanosecondType, DurationSecondType, Float16Type, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{Map, Number, Value};

use crate::arrow::schema::MESSAGE_METADATA_KEY;
use crate::row::{Output, Row, RowBody, MSG_ID_COLUMN, PUBLISHED_COLUMN, SEQUENCE_COLUMN};
use crate::{to_record_batch, SinkError, Table};

/// The BigQuery JSON rows of native rows bound for `table`, with the
/// bookkeeping columns, one result per row in order.
///
/// A row that cannot be converted (not a valid message, a field the sink
/// does not know, a value the shared conversion refuses such as a
/// timestamp outside years 1 to 9999, or a row bound elsewhere) gets its
/// [`SinkError`], naming its index in `rows`; the other rows convert.
pub fn json_rows(table: Table, rows: &[Row]) -> Vec<Result<Value, SinkError>> {
    let refs: Vec<&Row> = rows.iter().collect();
    native_json_rows(table, &refs)
}

pub(crate) fn native_json_rows(table: Table, rows: &[&Row]) -> Vec<Result<Value, SinkError>> {
    let mut out: Vec<Option<Result<Value, SinkError>>> = (0..rows.len()).map(|_| None).collect();
    // The rows that hold a message for this table, with their index.
    let mut messages: Vec<(usize, &[u8])> = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        match (&row.output, &row.body) {
            (Output::Native(t), RowBody::Proto(bytes)) if *t == table => {
                messages.push((index, bytes.as_ref()))
            }
            _ => {
                out[index] = Some(Err(SinkError::Value {
                    table: table.table_name().to_owned(),
                    row: index,
                    path: "the top level".to_owned(),
                    reason: format!(
                        "the row is bound for {} with a {} body, not for {table} with a protobuf \
                         message: the sink routed it wrongly",
                        row.output,
                        match row.body {
                            RowBody::Proto(_) => "protobuf",
                            RowBody::Json(_) => "JSON",
                        }
                    ),
                }))
            }
        }
    }
    // Convert as one batch; when a message fails, the ones before it
    // convert as a batch, it gets its error, and the rest are tried again.
    let mut start = 0;
    while start < messages.len() {
        let rest: Vec<&[u8]> = messages[start..].iter().map(|(_, m)| *m).collect();
        let (good, failed) = match to_record_batch(table, &rest) {
            Ok(batch) => (Some(batch), None),
            Err(error) => match error.row() {
                Some(at) => {
                    let prefix = if at == 0 {
                        None
                    } else {
                        Some(to_record_batch(table, &rest[..at]))
                    };
                    match prefix {
                        None => (None, Some((at, error))),
                        Some(Ok(batch)) => (Some(batch), Some((at, error))),
                        // Not expected: the prefix converted in the attempt.
                        Some(Err(other)) => {
                            fail_all(&mut out, &messages[start..], &other, table);
                            break;
                        }
                    }
                }
                None => {
                    fail_all(&mut out, &messages[start..], &error, table);
                    break;
                }
            },
        };
        let converted = good.as_ref().map_or(0, |b| b.num_rows());
        if let Some(batch) = good {
            match record_batch_json(&batch) {
                Ok(objects) => {
                    for (offset, mut object) in objects.into_iter().enumerate() {
                        let index = messages[start + offset].0;
                        add_bookkeeping(&mut object, rows[index]);
                        out[index] = Some(Ok(Value::Object(object)));
                    }
                }
                Err(error) => {
                    fail_all(&mut out, &messages[start..start + converted], &error, table);
                }
            }
        }
        match failed {
            Some((at, error)) => {
                let index = messages[start + at].0;
                out[index] = Some(Err(renumber(error, index)));
                start += at + 1;
            }
            None => break,
        }
    }
    out.into_iter()
        .enumerate()
        .map(|(index, result)| {
            result.unwrap_or_else(|| {
                Err(SinkError::Batch {
                    table: table.table_name().to_owned(),
                    reason: format!("row {index} was not converted (a bug in the sink)"),
                })
            })
        })
        .collect()
}

fn fail_all(
    out: &mut [Option<Result<Value, SinkError>>],
    messages: &[(usize, &[u8])],
    error: &SinkError,
    table: Table,
) {
    for (index, _) in messages {
        out[*index] = Some(Err(SinkError::Batch {
            table: table.table_name().to_owned(),
            reason: error.to_string(),
        }));
    }
}

/// The error with its row number replaced by `row`.
fn renumber(error: SinkError, row: usize) -> SinkError {
    match error {
        SinkError::Decode {
            table,
            message,
            error,
            ..
        } => SinkError::Decode {
            table,
            row,
            message,
            error,
        },
        SinkError::UnknownField {
            table,
            path,
            message,
            number,
            ..
        } => SinkError::UnknownField {
            table,
            row,
            path,
            message,
            number,
        },
        SinkError::Value {
            table,
            path,
            reason,
            ..
        } => SinkError::Value {
            table,
            row,
            path,
            reason,
        },
        other @ SinkError::Batch { .. } => other,
    }
}

/// A reference row's JSON record with the bookkeeping columns added. The
/// record is the row as the reference table holds it; `Err` says why it
/// cannot be one (not a JSON object, or not a reference row).
pub fn reference_json_row(row: &Row) -> Result<Value, String> {
    match (&row.output, &row.body) {
        (Output::Reference(_), RowBody::Json(Value::Object(record))) => {
            let mut object = record.clone();
            // The dynamic record's `CreatedTimestamp` is Unix seconds (Go's
            // JSON); a number for a TIMESTAMP is read as seconds by some
            // servers and microseconds by others, so it goes as RFC 3339.
            if let Some(seconds) = object.get("CreatedTimestamp").and_then(Value::as_i64) {
                let text = chrono::DateTime::from_timestamp(seconds, 0)
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    .ok_or_else(|| format!("CreatedTimestamp {seconds} is out of range"))?;
                object.insert("CreatedTimestamp".into(), Value::String(text));
            }
            add_bookkeeping(&mut object, row);
            Ok(Value::Object(object))
        }
        (Output::Reference(table), RowBody::Json(other)) => Err(format!(
            "the {} record is a JSON {}, not an object",
            table.table_name(),
            json_kind(other)
        )),
        (output, _) => Err(format!(
            "the row bound for {output} is not a reference record: the sink routed it wrongly"
        )),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Sets `_msg_id`, `_stream_sequence` and `_published` from the row.
pub(crate) fn add_bookkeeping(object: &mut Map<String, Value>, row: &Row) {
    object.insert(MSG_ID_COLUMN.to_owned(), Value::String(row.msg_id.clone()));
    object.insert(
        SEQUENCE_COLUMN.to_owned(),
        Value::String(row.sequence.to_string()),
    );
    object.insert(
        PUBLISHED_COLUMN.to_owned(),
        Value::String(format_timestamp(row.published)),
    );
}

/// RFC 3339 with exactly six decimals and `Z`; years past 9999 with their
/// sign, as chrono writes them.
fn format_timestamp(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Every row of `batch` as a JSON object keyed by column name, null values
/// left out, following the [mapping](super) of
/// [`bigquery_schema`](super::bigquery_schema).
///
/// # Errors
///
/// [`SinkError::Batch`] when a column's type has no BigQuery mapping; the
/// batches [`crate::to_record_batch`] makes never have one.
pub fn record_batch_json(batch: &RecordBatch) -> Result<Vec<Map<String, Value>>, SinkError> {
    let table = batch
        .schema()
        .metadata()
        .get(MESSAGE_METADATA_KEY)
        .cloned()
        .unwrap_or_else(|| "record batch".to_owned());
    let schema = batch.schema();
    let columns: Vec<(&str, Encoder<'_>)> = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(field, array)| {
            Encoder::new(array.as_ref(), field.name())
                .map(|encoder| (field.name().as_str(), encoder))
        })
        .collect::<Result<_, String>>()
        .map_err(|reason| SinkError::Batch {
            table: table.clone(),
            reason,
        })?;
    Ok((0..batch.num_rows())
        .map(|row| {
            let mut object = Map::with_capacity(columns.len());
            for (name, encoder) in &columns {
                if let Some(value) = encoder.value(row) {
                    object.insert((*name).to_owned(), value);
                }
            }
            object
        })
        .collect())
}

/// One column's array, ready to turn values into JSON: the downcasts and
/// child lookups are done once per batch, not per value.
struct Encoder<'a> {
    array: &'a dyn Array,
    kind: Kind<'a>,
}

enum Kind<'a> {
    Null,
    Boolean,
    /// Integers that fit a JSON number exactly.
    SmallInt,
    /// 64-bit integers, written as strings.
    BigInt,
    Float,
    Utf8,
    Binary,
    /// Microseconds since the epoch; `utc` false for a naive datetime.
    Timestamp {
        unit: TimeUnit,
        utc: bool,
    },
    Duration(TimeUnit),
    Date,
    Struct(Vec<(&'a str, Encoder<'a>)>),
    List(Box<Encoder<'a>>),
    Map {
        key_name: &'a str,
        value_name: &'a str,
        key: Box<Encoder<'a>>,
        value: Box<Encoder<'a>>,
    },
}

impl<'a> Encoder<'a> {
    fn new(array: &'a dyn Array, path: &str) -> Result<Self, String> {
        let kind = match array.data_type() {
            DataType::Null => Kind::Null,
            DataType::Boolean => Kind::Boolean,
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32 => Kind::SmallInt,
            DataType::Int64 | DataType::UInt64 => Kind::BigInt,
            DataType::Float16 | DataType::Float32 | DataType::Float64 => Kind::Float,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Kind::Utf8,
            DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_) => Kind::Binary,
            DataType::Timestamp(unit, tz) => Kind::Timestamp {
                unit: *unit,
                utc: tz.is_some(),
            },
            DataType::Duration(unit) => Kind::Duration(*unit),
            DataType::Date32 | DataType::Date64 => Kind::Date,
            DataType::Struct(fields) => {
                let array = array.as_struct();
                let children = fields
                    .iter()
                    .zip(array.columns())
                    .map(|(field, child)| {
                        Encoder::new(child.as_ref(), &format!("{path}.{}", field.name()))
                            .map(|e| (field.name().as_str(), e))
                    })
                    .collect::<Result<_, _>>()?;
                Kind::Struct(children)
            }
            DataType::List(_) => Kind::List(Box::new(Encoder::new(
                array.as_list::<i32>().values().as_ref(),
                &format!("{path}[]"),
            )?)),
            DataType::LargeList(_) => Kind::List(Box::new(Encoder::new(
                array.as_list::<i64>().values().as_ref(),
                &format!("{path}[]"),
            )?)),
            DataType::FixedSizeList(..) => Kind::List(Box::new(Encoder::new(
                array.as_fixed_size_list().values().as_ref(),
                &format!("{path}[]"),
            )?)),
            DataType::Map(..) => {
                let map = array.as_map();
                let entries = map.entries();
                let names = entries.column_names();
                let (key_name, value_name) = match names.as_slice() {
                    [k, v] => (*k, *v),
                    _ => return Err(format!("column {path}: map entries are not key and value")),
                };
                Kind::Map {
                    key_name,
                    value_name,
                    key: Box::new(Encoder::new(
                        map.keys().as_ref(),
                        &format!("{path}{{key}}"),
                    )?),
                    value: Box::new(Encoder::new(
                        map.values().as_ref(),
                        &format!("{path}{{value}}"),
                    )?),
                }
            }
            other => {
                return Err(format!(
                    "column {path}: Arrow type {other} has no BigQuery type"
                ))
            }
        };
        Ok(Self { array, kind })
    }

    /// The JSON of element `i`, `None` when it is null.
    fn value(&self, i: usize) -> Option<Value> {
        if self.array.is_null(i) {
            return None;
        }
        let a = self.array;
        Some(match &self.kind {
            Kind::Null => return None,
            Kind::Boolean => Value::Bool(a.as_boolean().value(i)),
            Kind::SmallInt => Value::Number(Number::from(small_int(a, i))),
            Kind::BigInt => Value::String(match a.data_type() {
                DataType::UInt64 => a.as_primitive::<UInt64Type>().value(i).to_string(),
                _ => a.as_primitive::<Int64Type>().value(i).to_string(),
            }),
            Kind::Float => float(a, i),
            Kind::Utf8 => Value::String(
                match a.data_type() {
                    DataType::LargeUtf8 => a.as_string::<i64>().value(i),
                    DataType::Utf8View => a.as_string_view().value(i),
                    _ => a.as_string::<i32>().value(i),
                }
                .to_owned(),
            ),
            Kind::Binary => {
                let bytes = match a.data_type() {
                    DataType::LargeBinary => a.as_binary::<i64>().value(i),
                    DataType::BinaryView => a.as_binary_view().value(i),
                    DataType::FixedSizeBinary(_) => a.as_fixed_size_binary().value(i),
                    _ => a.as_binary::<i32>().value(i),
                };
                Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
            }
            Kind::Timestamp { unit, utc } => {
                let raw = match unit {
                    TimeUnit::Second => a.as_primitive::<TimestampSecondType>().value(i),
                    TimeUnit::Millisecond => a.as_primitive::<TimestampMillisecondType>().value(i),
                    TimeUnit::Microsecond => a.as_primitive::<TimestampMicrosecondType>().value(i),
                    TimeUnit::Nanosecond => a.as_primitive::<TimestampNanosecondType>().value(i),
                };
                Value::String(timestamp_text(raw, *unit, *utc))
            }
            Kind::Duration(unit) => {
                let raw = match unit {
                    TimeUnit::Second => a.as_primitive::<DurationSecondType>().value(i),
                    TimeUnit::Millisecond => a.as_primitive::<DurationMillisecondType>().value(i),
                    TimeUnit::Microsecond => a.as_primitive::<DurationMicrosecondType>().value(i),
                    TimeUnit::Nanosecond => a.as_primitive::<DurationNanosecondType>().value(i),
                };
                // Microseconds; seconds and milliseconds beyond i64
                // microseconds are written exactly as a wider integer.
                let micros = match unit {
                    TimeUnit::Second => i128::from(raw) * 1_000_000,
                    TimeUnit::Millisecond => i128::from(raw) * 1_000,
                    TimeUnit::Microsecond => i128::from(raw),
                    TimeUnit::Nanosecond => i128::from(raw / 1_000),
                };
                Value::String(micros.to_string())
            }
            Kind::Date => {
                let date = match a.data_type() {
                    DataType::Date64 => {
                        Date64Type::to_naive_date_opt(a.as_primitive::<Date64Type>().value(i))
                    }
                    _ => Date32Type::to_naive_date_opt(a.as_primitive::<Date32Type>().value(i)),
                };
                Value::String(match date {
                    Some(date) => date.format("%Y-%m-%d").to_string(),
                    None => "unrepresentable date".to_owned(),
                })
            }
            Kind::Struct(children) => {
                let mut object = Map::with_capacity(children.len());
                for (name, child) in children {
                    if let Some(value) = child.value(i) {
                        object.insert((*name).to_owned(), value);
                    }
                }
                Value::Object(object)
            }
            Kind::List(item) => {
                let range = list_range(a, i);
                Value::Array(
                    range
                        .map(|j| item.value(j).unwrap_or(Value::Null))
                        .collect(),
                )
            }
            Kind::Map {
                key_name,
                value_name,
                key,
                value,
            } => {
                let offsets = a.as_map().value_offsets();
                let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
                Value::Array(
                    (start..end)
                        .map(|j| {
                            let mut entry = Map::with_capacity(2);
                            if let Some(k) = key.value(j) {
                                entry.insert((*key_name).to_owned(), k);
                            }
                            if let Some(v) = value.value(j) {
                                entry.insert((*value_name).to_owned(), v);
                            }
                            Value::Object(entry)
                        })
                        .collect(),
                )
            }
        })
    }
}

fn small_int(a: &dyn Array, i: usize) -> i64 {
    match a.data_type() {
        DataType::Int8 => a.as_primitive::<Int8Type>().value(i).into(),
        DataType::Int16 => a.as_primitive::<Int16Type>().value(i).into(),
        DataType::Int32 => a.as_primitive::<Int32Type>().value(i).into(),
        DataType::UInt8 => a.as_primitive::<UInt8Type>().value(i).into(),
        DataType::UInt16 => a.as_primitive::<UInt16Type>().value(i).into(),
        _ => a.as_primitive::<UInt32Type>().value(i).into(),
    }
}

/// A float as a JSON number, or BigQuery's strings for the non-finite. A
/// `float` is written as its shortest decimal (0.1f32 as 0.1, not
/// 0.10000000149011612), the value its producer wrote.
fn float(a: &dyn Array, i: usize) -> Value {
    let value: f64 = match a.data_type() {
        DataType::Float16 => f64::from(a.as_primitive::<Float16Type>().value(i)),
        DataType::Float32 => {
            let v = a.as_primitive::<Float32Type>().value(i);
            v.to_string().parse().unwrap_or(f64::from(v))
        }
        _ => a.as_primitive::<Float64Type>().value(i),
    };
    match Number::from_f64(value) {
        Some(number) => Value::Number(number),
        None if value.is_nan() => Value::String("NaN".into()),
        None if value > 0.0 => Value::String("Infinity".into()),
        None => Value::String("-Infinity".into()),
    }
}

fn list_range(a: &dyn Array, i: usize) -> std::ops::Range<usize> {
    match a.data_type() {
        DataType::LargeList(_) => {
            let offsets = a.as_list::<i64>().value_offsets();
            offsets[i] as usize..offsets[i + 1] as usize
        }
        DataType::FixedSizeList(_, size) => {
            let size = *size as usize;
            i * size..(i + 1) * size
        }
        _ => {
            let offsets = a.as_list::<i32>().value_offsets();
            offsets[i] as usize..offsets[i + 1] as usize
        }
    }
}

/// A timestamp in `unit` since the epoch as RFC 3339 text with six
/// decimals (and `Z` when `utc`). A value beyond chrono's range (about
/// ±262,000 years) is written as decimal epoch seconds, which BigQuery
/// parses and refuses as out of range.
fn timestamp_text(raw: i64, unit: TimeUnit, utc: bool) -> String {
    let micros: i128 = match unit {
        TimeUnit::Second => i128::from(raw) * 1_000_000,
        TimeUnit::Millisecond => i128::from(raw) * 1_000,
        TimeUnit::Microsecond => i128::from(raw),
        TimeUnit::Nanosecond => i128::from(raw).div_euclid(1_000),
    };
    let time = i64::try_from(micros)
        .ok()
        .and_then(DateTime::<Utc>::from_timestamp_micros);
    match time {
        Some(time) if utc => format_timestamp(time),
        Some(time) => time.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        None => format!(
            "{}.{:06}",
            micros.div_euclid(1_000_000),
            micros.rem_euclid(1_000_000)
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::builder::{MapBuilder, StringBuilder, UInt64Builder};
    use arrow_array::{Float32Array, Float64Array, TimestampMicrosecondArray};
    use arrow_schema::{Field, Schema};
    use bytes::Bytes;
    use chrono::TimeZone;
    use paddock_proto::v1;
    use prost::Message as _;
    use prost_reflect::{DynamicMessage, MapKey, Value as Reflect};
    use serde_json::json;

    use super::*;
    use crate::arrow::schema::MessagePlan;
    use crate::arrow::test_proto;
    use crate::arrow::to_batch::encode_batch;
    use crate::row::ReferenceTable;

    fn row(table: Table, sequence: u64, message: &impl prost::Message) -> Row {
        Row {
            output: Output::Native(table),
            ecosystem: "npm".into(),
            published: Utc.with_ymd_and_hms(2026, 11, 22, 7, 0, 0).unwrap()
                + chrono::Duration::microseconds(500_001),
            stream: "RELEASES".into(),
            sequence,
            msg_id: format!("m-{sequence}"),
            body: RowBody::Proto(Bytes::from(message.encode_to_vec())),
        }
    }

    fn ts(seconds: i64, nanos: i32) -> Option<paddock_proto::well_known::Timestamp> {
        Some(paddock_proto::well_known::Timestamp { seconds, nanos })
    }

    // Fields added to the protos later keep their defaults.
    #[allow(clippy::needless_update)]
    fn release(name: &str) -> v1::Release {
        v1::Release {
            package: Some(v1::PackageRef {
                ecosystem: v1::Ecosystem::Npm as i32,
                name: name.into(),
                version: "1.0.0".into(),
                ..Default::default()
            }),
            published_at: ts(1_767_225_600, 123_456_789),
            artifacts: vec![v1::Artifact {
                filename: "a.tgz".into(),
                size: u64::MAX,
                ..Default::default()
            }],
            selected_artifact: 7,
            ..Default::default()
        }
    }

    #[test]
    fn native_rows_follow_bigquery_conventions() {
        let rows = [row(Table::Releases, 3, &release("left\"pad"))];
        let json = json_rows(Table::Releases, &rows).remove(0).unwrap();
        assert_eq!(json["package"]["ecosystem"], "ECOSYSTEM_NPM");
        assert_eq!(json["package"]["name"], "left\"pad");
        // Sub-microsecond digits are dropped, six decimals kept.
        assert_eq!(json["published_at"], "2026-01-01T00:00:00.123456Z");
        // uint64 as its decimal string, even above i64::MAX.
        assert_eq!(json["artifacts"][0]["size"], "18446744073709551615");
        assert_eq!(json["selected_artifact"], 7);
        // Unset messages are null, so absent; defaults are values.
        assert!(json.get("discovered_at").is_none());
        assert_eq!(json["yanked"], false);
        assert_eq!(json["artifacts"][0]["registry_digests"], json!([]));
        assert_eq!(json["_msg_id"], "m-3");
        assert_eq!(json["_stream_sequence"], "3");
        assert_eq!(json["_published"], "2026-11-22T07:00:00.500001Z");
    }

    #[test]
    fn a_refused_row_does_not_stop_the_others() {
        let mut bad = release("bad");
        bad.published_at = ts(253_402_300_800, 0); // year 10000
        let rows = [
            row(Table::Releases, 1, &release("a")),
            row(Table::Releases, 2, &bad),
            row(Table::Releases, 3, &release("c")),
            Row {
                body: RowBody::Proto(Bytes::from_static(&[0xff, 0xff])),
                ..row(Table::Releases, 4, &release("d"))
            },
            row(Table::Releases, 5, &release("e")),
            Row {
                output: Output::Native(Table::Verdicts),
                ..row(Table::Releases, 6, &release("f"))
            },
        ];
        let out = json_rows(Table::Releases, &rows);
        assert_eq!(out.len(), 6);
        let names: Vec<Option<String>> = out
            .iter()
            .map(|r| {
                r.as_ref()
                    .ok()
                    .map(|v| v["package"]["name"].as_str().unwrap().to_owned())
            })
            .collect();
        assert_eq!(
            names,
            [
                Some("a".into()),
                None,
                Some("c".into()),
                None,
                Some("e".into()),
                None
            ]
        );
        let error = out[1].as_ref().unwrap_err();
        assert_eq!(error.row(), Some(1));
        assert!(
            error.to_string().contains("column published_at")
                && error.to_string().contains("out of range"),
            "{error}"
        );
        let error = out[3].as_ref().unwrap_err();
        assert_eq!(error.row(), Some(3));
        assert!(matches!(error, SinkError::Decode { .. }), "{error}");
        let error = out[5].as_ref().unwrap_err().to_string();
        assert!(error.contains("routed it wrongly"), "{error}");
        assert_eq!(out[2].as_ref().unwrap()["_stream_sequence"], "3");
    }

    fn convert(message: &DynamicMessage) -> Map<String, Value> {
        let plan = MessagePlan::new(&prost_reflect::ReflectMessage::descriptor(message));
        let batch = encode_batch(&plan, "test", &[message.encode_to_vec()]).unwrap();
        record_batch_json(&batch).unwrap().remove(0)
    }

    #[test]
    fn scalars_bytes_durations_and_maps() {
        let mut scalars = DynamicMessage::new(test_proto::message("test.Scalars"));
        scalars.set_field_by_name("f_double", Reflect::F64(f64::NAN));
        scalars.set_field_by_name("f_float", Reflect::F32(0.1));
        scalars.set_field_by_name("f_int64", Reflect::I64(i64::MIN));
        scalars.set_field_by_name("f_uint32", Reflect::U32(u32::MAX));
        scalars.set_field_by_name("f_sint32", Reflect::I32(-5));
        scalars.set_field_by_name("f_bytes", Reflect::Bytes(vec![0xff, 0, 0xfe].into()));
        scalars.set_field_by_name("f_string", Reflect::String("é\"'`\\".into()));
        let mut duration = DynamicMessage::new(
            test_proto::pool()
                .get_message_by_name("google.protobuf.Duration")
                .unwrap(),
        );
        duration.set_field_by_number(1, Reflect::I64(-2));
        duration.set_field_by_number(2, Reflect::I32(-500_000_000));
        scalars.set_field_by_name("f_duration", Reflect::Message(duration));
        let mut before_1970 = DynamicMessage::new(
            test_proto::pool()
                .get_message_by_name("google.protobuf.Timestamp")
                .unwrap(),
        );
        before_1970.set_field_by_number(1, Reflect::I64(-1));
        scalars.set_field_by_name("f_timestamp", Reflect::Message(before_1970));
        let json = convert(&scalars);
        assert_eq!(json["f_double"], "NaN");
        assert_eq!(json["f_float"], json!(0.1));
        assert_eq!(json["f_int64"], "-9223372036854775808");
        assert_eq!(json["f_uint32"], json!(4294967295u32));
        assert_eq!(json["f_sint32"], json!(-5));
        assert_eq!(json["f_bytes"], "/wD+");
        assert_eq!(json["f_string"], "é\"'`\\");
        assert_eq!(json["f_duration"], "-2500000");
        assert_eq!(json["f_timestamp"], "1969-12-31T23:59:59.000000Z");
        assert_eq!(json["f_enum"], "COLOR_UNSPECIFIED");
        assert!(json.get("f_optional").is_none());

        let mut containers = DynamicMessage::new(test_proto::message("test.Containers"));
        let labels = [("b", 2i64), ("a", i64::MAX)]
            .into_iter()
            .map(|(k, v)| (MapKey::String(k.into()), Reflect::I64(v)))
            .collect();
        containers.set_field_by_name("labels", Reflect::Map(labels));
        containers.set_field_by_name(
            "blobs",
            Reflect::List(vec![
                Reflect::Bytes(vec![1].into()),
                Reflect::Bytes(vec![].into()),
            ]),
        );
        containers.set_field_by_name(
            "colors",
            Reflect::List(vec![Reflect::EnumNumber(2), Reflect::EnumNumber(1)]),
        );
        let json = convert(&containers);
        assert_eq!(
            json["labels"],
            json!([{"key": "a", "value": "9223372036854775807"}, {"key": "b", "value": "2"}])
        );
        assert_eq!(json["blobs"], json!(["AQ==", ""]));
        assert_eq!(json["colors"], json!(["COLOR_GREEN", "COLOR_RED"]));
        assert_eq!(json["times"], json!([]));
        assert!(json.get("marker").is_none());
        assert!(json.get("by_id").is_some());
    }

    #[test]
    fn infinities_timestamps_out_of_range_and_arrow_built_maps() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("f", DataType::Float64, true),
            Field::new("g", DataType::Float32, true),
            Field::new(
                "t",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Float64Array::from(vec![
                    Some(f64::INFINITY),
                    Some(f64::NEG_INFINITY),
                    None,
                ])),
                Arc::new(Float32Array::from(vec![Some(1.5), None, Some(f32::NAN)])),
                Arc::new(
                    TimestampMicrosecondArray::from(vec![
                        Some(253_402_300_800_000_000),
                        Some(i64::MAX),
                        Some(-62_135_596_800_000_000),
                    ])
                    .with_timezone("UTC"),
                ),
            ],
        )
        .unwrap();
        let rows = record_batch_json(&batch).unwrap();
        assert_eq!(rows[0]["f"], "Infinity");
        assert_eq!(rows[1]["f"], "-Infinity");
        assert!(rows[2].get("f").is_none());
        assert_eq!(rows[0]["g"], json!(1.5));
        assert_eq!(rows[2]["g"], "NaN");
        assert_eq!(rows[0]["t"], "+10000-01-01T00:00:00.000000Z");
        assert_eq!(rows[1]["t"], "9223372036854.775807");
        assert_eq!(rows[2]["t"], "0001-01-01T00:00:00.000000Z");

        let mut map = MapBuilder::new(None, StringBuilder::new(), UInt64Builder::new());
        map.keys().append_value("k\"1");
        map.values().append_value(u64::MAX);
        map.append(true).unwrap();
        map.append(false).unwrap();
        let map = map.finish();
        let schema = Arc::new(Schema::new(vec![Field::new(
            "m",
            map.data_type().clone(),
            true,
        )]));
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(map)]).unwrap();
        let rows = record_batch_json(&batch).unwrap();
        assert_eq!(
            rows[0]["m"],
            json!([{"key": "k\"1", "value": "18446744073709551615"}])
        );
        assert!(rows[1].get("m").is_none());
        let fields = super::super::bigquery_schema(&schema);
        assert_eq!(fields[0]["fields"][0]["name"], "key");
        assert_eq!(fields[0]["mode"], "REPEATED");
    }

    #[test]
    fn reference_rows_get_the_bookkeeping_columns() {
        let mut row = row(Table::Releases, 9, &release("x"));
        row.output = Output::Reference(ReferenceTable::StaticAnalysis);
        row.body = RowBody::Json(json!({"name": "x", "_msg_id": "spoofed"}));
        let json = reference_json_row(&row).unwrap();
        assert_eq!(json["name"], "x");
        assert_eq!(json["_msg_id"], "m-9");
        assert_eq!(json["_stream_sequence"], "9");

        row.body = RowBody::Json(json!([1]));
        let error = reference_json_row(&row).unwrap_err();
        assert!(error.contains("JSON array, not an object"), "{error}");
    }
}
