//! Encoded protobuf messages to an Arrow [`RecordBatch`].
//!
//! Each message is decoded as a [`DynamicMessage`] against the table's
//! descriptor, appended to a tree of Arrow builders that mirrors the
//! `Column` plan the schema was derived from, and dropped. One message is
//! decoded at a time, so memory follows the batch's Arrow size rather than
//! its much larger decoded size, and the batch has exactly the table's
//! schema.
//!
//! Nothing is dropped silently: a field the descriptors do not know (the
//! producer's protos are newer) is an error, as is a value outside its
//! column's range; the error names the row.

use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, DurationMicrosecondBuilder, Float32Builder, Float64Builder,
    Int32Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder, UInt32Builder,
    UInt64Builder,
};
use arrow_array::{ArrayRef, ListArray, MapArray, RecordBatch, StructArray};
use arrow_buffer::{NullBufferBuilder, OffsetBuffer};
use prost::Message as _;
use prost_reflect::{DynamicMessage, MapKey, Value};

use crate::arrow::error::{ColumnError, Problem, SinkError};
use crate::arrow::schema::{
    list_item_field, map_entries_field, map_entry_fields, Column, EnumNames, MessagePlan,
    StructPlan, TIMESTAMP_TZ,
};
use crate::arrow::table::Table;
use crate::arrow::wkt;

mod wire;

/// Converts encoded protobuf messages of `table`'s message type to one
/// record batch with exactly [`Table::schema`], one row per message, in
/// order.
///
/// Batches of a few hundred messages convert fastest per row; a Parquet
/// writer buffers consecutive batches into one row group, so the batch size
/// need not follow the row-group size.
///
/// # Errors
///
/// [`SinkError::Decode`] when a message is not a valid encoding (truncated,
/// corrupt, or of another type), [`SinkError::UnknownField`] when it holds a
/// field the sink's protos lack, and [`SinkError::Value`] when a value has no
/// representation in its column (a timestamp outside years 1 to 9999, or
/// more than 2^31 list elements in one column of the batch). Each names the
/// row; the sink can dead-letter that message and convert the others.
/// [`SinkError::Batch`] is not expected: it means Arrow refused arrays this
/// crate built.
pub fn to_record_batch<M: AsRef<[u8]>>(
    table: Table,
    messages: &[M],
) -> Result<RecordBatch, SinkError> {
    encode_batch(table.plan(), table.table_name(), messages)
}

/// [`to_record_batch`] for any message type; `table` names it in errors.
///
/// The fast path appends each message's wire encoding straight to the
/// builders ([`wire`]); a batch it gives up on (an error, or an encoding
/// it leaves to the decoder) is converted again through the reflective
/// path, which names the row of any error.
pub(crate) fn encode_batch<M: AsRef<[u8]>>(
    plan: &MessagePlan,
    table: &str,
    messages: &[M],
) -> Result<RecordBatch, SinkError> {
    match encode_batch_fast(plan, table, messages) {
        Some(batch) => Ok(batch),
        None => encode_batch_reflective(plan, table, messages),
    }
}

/// The fast path alone: `None` when it gives up on the batch.
pub(crate) fn encode_batch_fast<M: AsRef<[u8]>>(
    plan: &MessagePlan,
    table: &str,
    messages: &[M],
) -> Option<RecordBatch> {
    let mut rows = StructColumnBuilder::new(plan.fields());
    for bytes in messages {
        rows.append_wire(bytes.as_ref()).ok()?;
    }
    finish_batch(plan, table, rows).ok()
}

/// Each message decoded as a [`DynamicMessage`] and appended from it: the
/// definition the fast path is tested against.
pub(crate) fn encode_batch_reflective<M: AsRef<[u8]>>(
    plan: &MessagePlan,
    table: &str,
    messages: &[M],
) -> Result<RecordBatch, SinkError> {
    let mut rows = StructColumnBuilder::new(plan.fields());
    for (row, bytes) in messages.iter().enumerate() {
        let message =
            DynamicMessage::decode(plan.descriptor().clone(), bytes.as_ref()).map_err(|error| {
                SinkError::Decode {
                    table: table.to_owned(),
                    row,
                    message: plan.descriptor().full_name().to_owned(),
                    error,
                }
            })?;
        rows.append(Some(&message))
            .map_err(|error| error.into_sink_error(table, row))?;
    }
    finish_batch(plan, table, rows)
}

fn finish_batch(
    plan: &MessagePlan,
    table: &str,
    rows: StructColumnBuilder<'_>,
) -> Result<RecordBatch, SinkError> {
    let batch_error = |reason: String| SinkError::Batch {
        table: table.to_owned(),
        reason,
    };
    let columns = rows.finish_children().map_err(|error| {
        let path = error.path_string();
        match error.problem {
            Problem::Value(reason)
            | Problem::Unknown {
                message: reason, ..
            } => batch_error(format!("column {path}: {reason}")),
        }
    })?;
    RecordBatch::try_new(plan.schema().clone(), columns)
        .map_err(|e| batch_error(format!("arrow rejected the batch: {e}")))
}

/// [`to_record_batch`] through the reflective path alone, for benchmarks.
#[doc(hidden)]
pub fn to_record_batch_reflective<M: AsRef<[u8]>>(
    table: Table,
    messages: &[M],
) -> Result<RecordBatch, SinkError> {
    encode_batch_reflective(table.plan(), table.table_name(), messages)
}

/// The fast path and the reflective path on the same messages of `table`:
/// for tests and benchmarks that hold them to each other.
#[doc(hidden)]
pub fn both_paths<M: AsRef<[u8]>>(
    table: Table,
    messages: &[M],
) -> (Option<RecordBatch>, Result<RecordBatch, SinkError>) {
    (
        encode_batch_fast(table.plan(), table.table_name(), messages),
        encode_batch_reflective(table.plan(), table.table_name(), messages),
    )
}

/// Fails on an unknown or extension field of `message`.
fn check_known(plan: &StructPlan, message: &DynamicMessage) -> Result<(), ColumnError> {
    if let Some(unknown) = message.unknown_fields().next() {
        return Err(ColumnError {
            path: Vec::new(),
            problem: Problem::Unknown {
                message: plan.descriptor.full_name().to_owned(),
                number: unknown.number(),
            },
        });
    }
    if plan.extendable {
        if let Some((extension, _)) = message.extensions().next() {
            return Err(ColumnError::value(format!(
                "extension {} is set; extensions are not stored",
                extension.full_name()
            )));
        }
    }
    Ok(())
}

fn mismatch(expected: &str, value: &Value) -> ColumnError {
    ColumnError::value(format!("expected a {expected} value, found {value:?}"))
}

fn arrow_error(error: arrow_schema::ArrowError) -> ColumnError {
    ColumnError::value(format!("arrow rejected the column: {error}"))
}

fn offset(len: usize) -> Result<i32, ColumnError> {
    i32::try_from(len).map_err(|_| {
        ColumnError::value(
            "more than 2^31-1 list or map elements in one batch: write smaller batches",
        )
    })
}

/// The builders of one message type's fields.
struct StructColumnBuilder<'p> {
    plan: &'p StructPlan,
    children: Vec<ColumnBuilder<'p>>,
    nulls: NullBufferBuilder,
    /// The fast path's per-field occurrences, reused from row to row.
    slots: Vec<Vec<wire::Raw>>,
}

impl<'p> StructColumnBuilder<'p> {
    fn new(plan: &'p StructPlan) -> Self {
        Self {
            plan,
            children: plan
                .children
                .iter()
                .map(|c| ColumnBuilder::new(&c.column))
                .collect(),
            nulls: NullBufferBuilder::new(0),
            slots: Vec::new(),
        }
    }

    fn append(&mut self, message: Option<&DynamicMessage>) -> Result<(), ColumnError> {
        let Some(message) = message else {
            self.nulls.append_null();
            for child in &mut self.children {
                child.append(None)?;
            }
            return Ok(());
        };
        check_known(self.plan, message)?;
        // Unset fields store their default, or null if they have presence.
        let mut values: Vec<Option<&Value>> = self
            .plan
            .children
            .iter()
            .map(|c| c.default.as_ref())
            .collect();
        for (field, value) in message.fields() {
            if let Some(index) = self.plan.child_index(field.number()) {
                values[index] = Some(value);
            }
        }
        for ((builder, child), value) in self
            .children
            .iter_mut()
            .zip(&self.plan.children)
            .zip(values)
        {
            builder
                .append(value)
                .map_err(|e| e.within(child.field.name()))?;
        }
        self.nulls.append_non_null();
        Ok(())
    }

    fn finish_children(self) -> Result<Vec<ArrayRef>, ColumnError> {
        self.children
            .into_iter()
            .zip(&self.plan.children)
            .map(|(builder, child)| builder.finish().map_err(|e| e.within(child.field.name())))
            .collect()
    }

    fn finish(mut self) -> Result<StructArray, ColumnError> {
        let nulls = self.nulls.finish();
        let fields = self.plan.arrow_fields.clone();
        let arrays = self.finish_children()?;
        StructArray::try_new(fields, arrays, nulls).map_err(arrow_error)
    }
}

/// Offsets and validity of a list or map column.
struct Offsets {
    offsets: Vec<i32>,
    nulls: NullBufferBuilder,
}

impl Offsets {
    fn new() -> Self {
        Self {
            offsets: vec![0],
            nulls: NullBufferBuilder::new(0),
        }
    }

    fn last(&self) -> usize {
        self.offsets.last().map_or(0, |o| *o as usize)
    }

    fn append(&mut self, elements: Option<usize>) -> Result<(), ColumnError> {
        let end = self.last() + elements.unwrap_or(0);
        self.offsets.push(offset(end)?);
        self.nulls.append(elements.is_some());
        Ok(())
    }

    fn finish(mut self) -> (OffsetBuffer<i32>, Option<arrow_buffer::NullBuffer>) {
        (OffsetBuffer::new(self.offsets.into()), self.nulls.finish())
    }
}

/// A builder for one [`Column`].
enum ColumnBuilder<'p> {
    Bool(BooleanBuilder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    UInt32(UInt32Builder),
    UInt64(UInt64Builder),
    Float32(Float32Builder),
    Float64(Float64Builder),
    Utf8(StringBuilder),
    Binary(BinaryBuilder),
    Enum(&'p EnumNames, StringBuilder),
    Timestamp(TimestampMicrosecondBuilder),
    Duration(DurationMicrosecondBuilder),
    Struct(StructColumnBuilder<'p>),
    Empty(BooleanBuilder),
    Encoded(BinaryBuilder),
    List {
        item_column: &'p Column,
        item: Box<ColumnBuilder<'p>>,
        offsets: Offsets,
    },
    Map {
        key_column: &'p Column,
        value_column: &'p Column,
        key: Box<ColumnBuilder<'p>>,
        value: Box<ColumnBuilder<'p>>,
        offsets: Offsets,
    },
}

/// Appends `value` to a typed builder through `$get`, which returns an
/// `Option` of the builder's item type.
macro_rules! append_typed {
    ($builder:expr, $value:expr, $expected:expr, $get:expr) => {{
        let item = match $value {
            None => None,
            Some(v) => Some($get(v).ok_or_else(|| mismatch($expected, v))?),
        };
        $builder.append_option(item);
    }};
}

impl<'p> ColumnBuilder<'p> {
    fn new(column: &'p Column) -> Self {
        match column {
            Column::Bool => Self::Bool(BooleanBuilder::new()),
            Column::Int32 => Self::Int32(Int32Builder::new()),
            Column::Int64 => Self::Int64(Int64Builder::new()),
            Column::UInt32 => Self::UInt32(UInt32Builder::new()),
            Column::UInt64 => Self::UInt64(UInt64Builder::new()),
            Column::Float32 => Self::Float32(Float32Builder::new()),
            Column::Float64 => Self::Float64(Float64Builder::new()),
            Column::Utf8 => Self::Utf8(StringBuilder::new()),
            Column::Binary => Self::Binary(BinaryBuilder::new()),
            Column::Enum(names) => Self::Enum(names, StringBuilder::new()),
            Column::Timestamp(_) => Self::Timestamp(TimestampMicrosecondBuilder::new()),
            Column::Duration(_) => Self::Duration(DurationMicrosecondBuilder::new()),
            Column::Struct(plan) => Self::Struct(StructColumnBuilder::new(plan)),
            Column::Empty(_) => Self::Empty(BooleanBuilder::new()),
            Column::Encoded(_) => Self::Encoded(BinaryBuilder::new()),
            Column::List(item) => Self::List {
                item_column: item,
                item: Box::new(ColumnBuilder::new(item)),
                offsets: Offsets::new(),
            },
            Column::Map(key, value) => Self::Map {
                key_column: key,
                value_column: value,
                key: Box::new(ColumnBuilder::new(key)),
                value: Box::new(ColumnBuilder::new(value)),
                offsets: Offsets::new(),
            },
        }
    }

    /// Appends one value; `None` appends a null.
    fn append(&mut self, value: Option<&Value>) -> Result<(), ColumnError> {
        match self {
            Self::Bool(b) => append_typed!(b, value, "bool", Value::as_bool),
            Self::Int32(b) => append_typed!(b, value, "int32", Value::as_i32),
            Self::Int64(b) => append_typed!(b, value, "int64", Value::as_i64),
            Self::UInt32(b) => append_typed!(b, value, "uint32", Value::as_u32),
            Self::UInt64(b) => append_typed!(b, value, "uint64", Value::as_u64),
            Self::Float32(b) => append_typed!(b, value, "float", Value::as_f32),
            Self::Float64(b) => append_typed!(b, value, "double", Value::as_f64),
            Self::Utf8(b) => append_typed!(b, value, "string", Value::as_str),
            Self::Binary(b) => append_typed!(b, value, "bytes", Value::as_bytes),
            Self::Enum(names, b) => match value {
                None => b.append_null(),
                Some(v) => {
                    let number = v.as_enum_number().ok_or_else(|| mismatch("enum", v))?;
                    match names.name(number) {
                        Some(name) => b.append_value(name),
                        // A value added after these descriptors were built:
                        // keep the number, as the proto JSON mapping does.
                        None => b.append_value(number.to_string()),
                    }
                }
            },
            Self::Timestamp(b) => {
                let micros = match value {
                    None => None,
                    Some(v) => {
                        let m = v.as_message().ok_or_else(|| mismatch("timestamp", v))?;
                        Some(wkt::timestamp_micros(m).map_err(ColumnError::value)?)
                    }
                };
                b.append_option(micros);
            }
            Self::Duration(b) => {
                let micros = match value {
                    None => None,
                    Some(v) => {
                        let m = v.as_message().ok_or_else(|| mismatch("duration", v))?;
                        Some(wkt::duration_micros(m).map_err(ColumnError::value)?)
                    }
                };
                b.append_option(micros);
            }
            Self::Struct(s) => {
                let message = match value {
                    None => None,
                    Some(v) => Some(v.as_message().ok_or_else(|| mismatch("message", v))?),
                };
                s.append(message)?;
            }
            Self::Empty(b) => append_typed!(b, value, "message", |v: &Value| v
                .as_message()
                .map(|_| true)),
            Self::Encoded(b) => append_typed!(b, value, "message", |v: &Value| v
                .as_message()
                .map(|m| m.encode_to_vec())),
            Self::List { item, offsets, .. } => match value {
                None => offsets.append(None)?,
                Some(v) => {
                    let list = v.as_list().ok_or_else(|| mismatch("repeated", v))?;
                    for element in list {
                        item.append(Some(element)).map_err(|e| e.within("[]"))?;
                    }
                    offsets.append(Some(list.len()))?;
                }
            },
            Self::Map {
                key,
                value: values,
                offsets,
                ..
            } => match value {
                None => offsets.append(None)?,
                Some(v) => {
                    let map = v.as_map().ok_or_else(|| mismatch("map", v))?;
                    // Sorted, so that equal maps give equal rows.
                    let mut entries: Vec<(&MapKey, &Value)> = map.iter().collect();
                    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                    for (k, v) in entries {
                        key.append(Some(&Value::from(k.clone())))
                            .map_err(|e| e.within("{key}"))?;
                        values.append(Some(v)).map_err(|e| e.within("{value}"))?;
                    }
                    offsets.append(Some(map.len()))?;
                }
            },
        }
        Ok(())
    }

    fn finish(self) -> Result<ArrayRef, ColumnError> {
        let array: ArrayRef = match self {
            Self::Bool(mut b) | Self::Empty(mut b) => Arc::new(b.finish()),
            Self::Int32(mut b) => Arc::new(b.finish()),
            Self::Int64(mut b) => Arc::new(b.finish()),
            Self::UInt32(mut b) => Arc::new(b.finish()),
            Self::UInt64(mut b) => Arc::new(b.finish()),
            Self::Float32(mut b) => Arc::new(b.finish()),
            Self::Float64(mut b) => Arc::new(b.finish()),
            Self::Utf8(mut b) | Self::Enum(_, mut b) => Arc::new(b.finish()),
            Self::Binary(mut b) | Self::Encoded(mut b) => Arc::new(b.finish()),
            Self::Timestamp(mut b) => Arc::new(b.finish().with_timezone(TIMESTAMP_TZ)),
            Self::Duration(mut b) => Arc::new(b.finish()),
            Self::Struct(s) => Arc::new(s.finish()?),
            Self::List {
                item_column,
                item,
                offsets,
            } => {
                let values = item.finish().map_err(|e| e.within("[]"))?;
                let (offsets, nulls) = offsets.finish();
                Arc::new(
                    ListArray::try_new(list_item_field(item_column), offsets, values, nulls)
                        .map_err(arrow_error)?,
                )
            }
            Self::Map {
                key_column,
                value_column,
                key,
                value,
                offsets,
            } => {
                let keys = key.finish().map_err(|e| e.within("{key}"))?;
                let values = value.finish().map_err(|e| e.within("{value}"))?;
                let entries = StructArray::try_new(
                    map_entry_fields(key_column, value_column),
                    vec![keys, values],
                    None,
                )
                .map_err(arrow_error)?;
                let (offsets, nulls) = offsets.finish();
                Arc::new(
                    MapArray::try_new(
                        map_entries_field(key_column, value_column),
                        offsets,
                        entries,
                        nulls,
                        false,
                    )
                    .map_err(arrow_error)?,
                )
            }
        };
        Ok(array)
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{DurationMicrosecondType, TimestampMicrosecondType};
    use arrow_array::Array;
    use prost_reflect::{MessageDescriptor, ReflectMessage as _};

    use super::*;
    use crate::arrow::test_proto;

    fn set(message: &mut DynamicMessage, name: &str, value: Value) {
        message.set_field_by_name(name, value);
    }

    fn time(descriptor: &MessageDescriptor, seconds: i64, nanos: i32) -> Value {
        let mut m = DynamicMessage::new(descriptor.clone());
        m.set_field_by_number(1, Value::I64(seconds));
        m.set_field_by_number(2, Value::I32(nanos));
        Value::Message(m)
    }

    fn scalars_descriptor() -> MessageDescriptor {
        test_proto::message("test.Scalars")
    }

    fn wkt_descriptor(name: &str) -> MessageDescriptor {
        test_proto::pool().get_message_by_name(name).unwrap()
    }

    fn convert(message: &DynamicMessage) -> Result<RecordBatch, SinkError> {
        let plan = MessagePlan::new(&message.descriptor());
        encode_batch(&plan, "test", &[message.encode_to_vec()])
    }

    #[test]
    fn sub_microsecond_precision_is_truncated_and_negative_times_floor() {
        let mut m = DynamicMessage::new(scalars_descriptor());
        let ts = wkt_descriptor("google.protobuf.Timestamp");
        let dur = wkt_descriptor("google.protobuf.Duration");
        set(&mut m, "f_timestamp", time(&ts, -1, 999_999_999));
        set(&mut m, "f_duration", time(&dur, -2, -500_000_999));
        let batch = convert(&m).unwrap();
        let ts = batch
            .column_by_name("f_timestamp")
            .unwrap()
            .as_primitive::<TimestampMicrosecondType>();
        // -1 s + 999_999_999 ns = -1 ns: floors to the microsecond before.
        assert_eq!(ts.value(0), -1);
        let dur = batch
            .column_by_name("f_duration")
            .unwrap()
            .as_primitive::<DurationMicrosecondType>();
        // Durations truncate toward zero.
        assert_eq!(dur.value(0), -2_500_000);
    }

    #[test]
    fn invalid_timestamps_name_the_column() {
        let mut m = DynamicMessage::new(scalars_descriptor());
        let ts = wkt_descriptor("google.protobuf.Timestamp");
        set(&mut m, "f_timestamp", time(&ts, 253_402_300_800, 0));
        let error = convert(&m).unwrap_err().to_string();
        assert!(
            error.starts_with("table test, row 0, column f_timestamp:"),
            "{error}"
        );
        assert!(error.contains("out of range"), "{error}");
    }

    #[test]
    fn unknown_enum_numbers_are_kept_as_their_number() {
        let mut m = DynamicMessage::new(scalars_descriptor());
        set(&mut m, "f_enum", Value::EnumNumber(42));
        let batch = convert(&m).unwrap();
        let column = batch.column_by_name("f_enum").unwrap().as_string::<i32>();
        assert_eq!(column.value(0), "42");
    }

    #[test]
    fn presence_decides_null_and_defaults_are_values() {
        let m = DynamicMessage::new(scalars_descriptor());
        let batch = convert(&m).unwrap();
        for name in ["f_timestamp", "f_duration", "f_optional"] {
            assert!(batch.column_by_name(name).unwrap().is_null(0), "{name}");
        }
        for name in ["f_int32", "f_string", "f_bytes", "f_enum", "f_bool"] {
            assert!(batch.column_by_name(name).unwrap().is_valid(0), "{name}");
        }
        let column = batch.column_by_name("f_enum").unwrap().as_string::<i32>();
        assert_eq!(column.value(0), "COLOR_UNSPECIFIED");
    }

    #[test]
    fn map_entries_are_sorted_by_key() {
        let descriptor = test_proto::message("test.Containers");
        let mut m = DynamicMessage::new(descriptor);
        let labels = ["zeta", "alpha", "mid"]
            .iter()
            .enumerate()
            .map(|(i, k)| (MapKey::String((*k).to_owned()), Value::I64(i as i64)))
            .collect();
        set(&mut m, "labels", Value::Map(labels));
        let batch = convert(&m).unwrap();
        let map = batch.column_by_name("labels").unwrap().as_map();
        let keys = map.keys().as_string::<i32>();
        let keys: Vec<&str> = (0..keys.len()).map(|i| keys.value(i)).collect();
        assert_eq!(keys, ["alpha", "mid", "zeta"]);
    }

    #[test]
    fn nested_unknown_fields_are_refused_with_their_path() {
        let descriptor = test_proto::message("test.Containers");
        let mut m = DynamicMessage::new(descriptor);
        let mut inner = DynamicMessage::new(scalars_descriptor());
        set(&mut inner, "f_int32", Value::I32(1));
        // Field 99 of Scalars, varint 7: unknown to the descriptor.
        let mut bytes = inner.encode_to_vec();
        bytes.extend_from_slice(&[0x98, 0x06, 0x07]);
        let inner = DynamicMessage::decode(scalars_descriptor(), bytes.as_slice()).unwrap();
        let by_id = [(MapKey::I32(3), Value::Message(inner))]
            .into_iter()
            .collect();
        set(&mut m, "by_id", Value::Map(by_id));
        let error = convert(&m).unwrap_err();
        assert!(
            matches!(error, SinkError::UnknownField { number: 99, .. }),
            "{error}"
        );
        assert_eq!(
            error.to_string(),
            "table test, row 0: unknown field number 99 in test.Scalars at by_id{value}; \
             the producer's protos are newer than the sink's: upgrade the sink, then redeliver"
        );
    }
}
