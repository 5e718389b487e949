//! Arrow record batches back to protobuf messages: the inverse of
//! [`crate::arrow::to_batch`].
//!
//! Used to check what a sink wrote (round-trip tests, the sinks' acceptance
//! tests) and by tools that read Paddock's Parquet files back into
//! messages. It follows the same `Column` plan as the writer and is exact
//! for everything the writer produces; the only information the tables do
//! not hold is sub-microsecond precision of timestamps and durations.

use std::collections::HashMap;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    DurationMicrosecondType, Float32Type, Float64Type, Int32Type, Int64Type,
    TimestampMicrosecondType, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, ArrowPrimitiveType, RecordBatch};
use arrow_buffer::NullBuffer;
use prost_reflect::{DynamicMessage, Value};

use crate::arrow::error::{ColumnError, Problem, SinkError};
use crate::arrow::schema::{Column, MessagePlan, StructPlan};
use crate::arrow::table::Table;
use crate::arrow::wkt;

/// Converts a record batch with [`Table::schema`] back to one message per
/// row, in order.
///
/// Columns are matched by name; their types must be exactly the table's
/// (as written by [`to_record_batch`](crate::to_record_batch) and read back
/// from Parquet). A field written with its proto default comes back unset,
/// as a protobuf decoder would leave it.
///
/// # Errors
///
/// [`SinkError::Batch`] when a column is missing, extra or of another type;
/// [`SinkError::Value`], naming the row, when a value has no protobuf
/// representation (a null inside a list, an unknown enum name).
pub fn from_record_batch(
    table: Table,
    batch: &RecordBatch,
) -> Result<Vec<DynamicMessage>, SinkError> {
    decode_batch(table.plan(), table.table_name(), batch)
}

/// [`from_record_batch`] for any message type; `table` names it in errors.
pub(crate) fn decode_batch(
    plan: &MessagePlan,
    table: &str,
    batch: &RecordBatch,
) -> Result<Vec<DynamicMessage>, SinkError> {
    let columns = matching_columns(plan, table, batch)?;
    match read_rows(plan, &columns, batch.num_rows()) {
        Ok(rows) => Ok(rows),
        Err(first) => {
            for row in 0..batch.num_rows() {
                let one = batch.slice(row, 1);
                let columns = matching_columns(plan, table, &one)?;
                if let Err(error) = read_rows(plan, &columns, 1) {
                    return Err(error.into_sink_error(table, row));
                }
            }
            let path = first.path_string();
            let reason = match first.problem {
                Problem::Value(reason)
                | Problem::Unknown {
                    message: reason, ..
                } => reason,
            };
            Err(SinkError::Batch {
                table: table.to_owned(),
                reason: format!("column {path}: {reason}"),
            })
        }
    }
}

/// The batch's columns in the plan's field order, checked by name and type.
fn matching_columns(
    plan: &MessagePlan,
    table: &str,
    batch: &RecordBatch,
) -> Result<Vec<ArrayRef>, SinkError> {
    let message = plan.descriptor().full_name();
    let error = |reason: String| SinkError::Batch {
        table: table.to_owned(),
        reason: format!("{reason}: the batch does not have the schema of {message}"),
    };
    for field in batch.schema().fields() {
        if !plan
            .children()
            .iter()
            .any(|c| c.field.name() == field.name())
        {
            return Err(error(format!("unexpected column {}", field.name())));
        }
    }
    plan.children()
        .iter()
        .map(|child| {
            let name = child.field.name();
            let column = batch
                .column_by_name(name)
                .ok_or_else(|| error(format!("no column {name}")))?;
            if column.data_type() != child.arrow.data_type() {
                return Err(error(format!(
                    "column {name} has type {}, expected {}",
                    column.data_type(),
                    child.arrow.data_type()
                )));
            }
            Ok(column.clone())
        })
        .collect()
}

fn read_rows(
    plan: &MessagePlan,
    columns: &[ArrayRef],
    len: usize,
) -> Result<Vec<DynamicMessage>, ColumnError> {
    read_struct(plan.fields(), columns, None, len)?
        .into_iter()
        .map(|row| match row {
            Some(Value::Message(message)) => Ok(message),
            _ => Err(ColumnError::value("a top-level row is null")),
        })
        .collect()
}

fn read_struct(
    plan: &StructPlan,
    arrays: &[ArrayRef],
    nulls: Option<&NullBuffer>,
    len: usize,
) -> Result<Vec<Option<Value>>, ColumnError> {
    let children = &plan.children;
    let mut columns = children
        .iter()
        .zip(arrays)
        .map(|(child, array)| {
            read(&child.column, array.as_ref()).map_err(|e| e.within(child.field.name()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    (0..len)
        .map(|row| {
            if nulls.is_some_and(|n| n.is_null(row)) {
                return Ok(None);
            }
            let mut out = DynamicMessage::new(plan.descriptor.clone());
            for (child, values) in children.iter().zip(columns.iter_mut()) {
                let Some(value) = values[row].take() else {
                    continue;
                };
                if child.field.supports_presence() || !value.is_default_for_field(&child.field) {
                    out.try_set_field(&child.field, value).map_err(|e| {
                        ColumnError::value(e.to_string()).within(child.field.name())
                    })?;
                }
            }
            Ok(Some(Value::Message(out)))
        })
        .collect()
}

fn wrong_type(column: &Column, array: &dyn Array) -> ColumnError {
    ColumnError::value(format!(
        "column has type {}, expected {}",
        array.data_type(),
        column.data_type()
    ))
}

fn primitive<T: ArrowPrimitiveType>(
    column: &Column,
    array: &dyn Array,
    wrap: impl Fn(T::Native) -> Value,
) -> Result<Vec<Option<Value>>, ColumnError> {
    let array = array
        .as_primitive_opt::<T>()
        .ok_or_else(|| wrong_type(column, array))?;
    Ok(array.iter().map(|v| v.map(&wrap)).collect())
}

/// Takes `values[start..end]` as the elements of one list.
fn take_elements(
    values: &mut [Option<Value>],
    start: i32,
    end: i32,
) -> Result<Vec<Value>, ColumnError> {
    let (start, end) = (start as usize, end as usize);
    values
        .get_mut(start..end)
        .ok_or_else(|| ColumnError::value("list offsets out of bounds"))?
        .iter_mut()
        .map(|v| {
            v.take().ok_or_else(|| {
                ColumnError::value("a null element: protobuf lists cannot hold nulls")
            })
        })
        .collect()
}

fn read(column: &Column, array: &dyn Array) -> Result<Vec<Option<Value>>, ColumnError> {
    match column {
        Column::Bool => {
            let array = array
                .as_boolean_opt()
                .ok_or_else(|| wrong_type(column, array))?;
            Ok(array.iter().map(|v| v.map(Value::Bool)).collect())
        }
        Column::Int32 => primitive::<Int32Type>(column, array, Value::I32),
        Column::Int64 => primitive::<Int64Type>(column, array, Value::I64),
        Column::UInt32 => primitive::<UInt32Type>(column, array, Value::U32),
        Column::UInt64 => primitive::<UInt64Type>(column, array, Value::U64),
        Column::Float32 => primitive::<Float32Type>(column, array, Value::F32),
        Column::Float64 => primitive::<Float64Type>(column, array, Value::F64),
        Column::Utf8 => {
            let array = array
                .as_string_opt::<i32>()
                .ok_or_else(|| wrong_type(column, array))?;
            Ok(array
                .iter()
                .map(|v| v.map(|s| Value::String(s.to_owned())))
                .collect())
        }
        Column::Binary => {
            let array = array
                .as_binary_opt::<i32>()
                .ok_or_else(|| wrong_type(column, array))?;
            Ok(array
                .iter()
                .map(|v| v.map(|b| Value::Bytes(prost::bytes::Bytes::copy_from_slice(b))))
                .collect())
        }
        Column::Enum(names) => {
            let array = array
                .as_string_opt::<i32>()
                .ok_or_else(|| wrong_type(column, array))?;
            array
                .iter()
                .map(|v| {
                    v.map(|name| {
                        names
                            .descriptor
                            .get_value_by_name(name)
                            .map(|v| v.number())
                            .or_else(|| name.parse().ok())
                            .map(Value::EnumNumber)
                            .ok_or_else(|| {
                                ColumnError::value(format!(
                                    "{name:?} is not a value of {}",
                                    names.descriptor.full_name()
                                ))
                            })
                    })
                    .transpose()
                })
                .collect()
        }
        Column::Timestamp(message) => primitive::<TimestampMicrosecondType>(column, array, |us| {
            Value::Message(wkt::timestamp_message(message, us))
        }),
        Column::Duration(message) => primitive::<DurationMicrosecondType>(column, array, |us| {
            Value::Message(wkt::duration_message(message, us))
        }),
        Column::Struct(plan) => {
            let array = array
                .as_struct_opt()
                .ok_or_else(|| wrong_type(column, array))?;
            read_struct(plan, array.columns(), array.nulls(), array.len())
        }
        Column::Empty(message) => {
            let array = array
                .as_boolean_opt()
                .ok_or_else(|| wrong_type(column, array))?;
            Ok(array
                .iter()
                .map(|v| {
                    v.filter(|set| *set)
                        .map(|_| Value::Message(DynamicMessage::new(message.clone())))
                })
                .collect())
        }
        Column::Encoded(message) => {
            let array = array
                .as_binary_opt::<i32>()
                .ok_or_else(|| wrong_type(column, array))?;
            array
                .iter()
                .map(|v| {
                    v.map(|bytes| {
                        DynamicMessage::decode(message.clone(), bytes)
                            .map(Value::Message)
                            .map_err(|e| {
                                ColumnError::value(format!(
                                    "not a valid {}: {e}",
                                    message.full_name()
                                ))
                            })
                    })
                    .transpose()
                })
                .collect()
        }
        Column::List(item) => {
            let array = array
                .as_list_opt::<i32>()
                .ok_or_else(|| wrong_type(column, array))?;
            let mut items = read(item, array.values().as_ref()).map_err(|e| e.within("[]"))?;
            let offsets = array.value_offsets();
            (0..array.len())
                .map(|row| {
                    if array.is_null(row) {
                        return Ok(None);
                    }
                    let list = take_elements(&mut items, offsets[row], offsets[row + 1])
                        .map_err(|e| e.within("[]"))?;
                    Ok(Some(Value::List(list)))
                })
                .collect()
        }
        Column::Map(key, value) => {
            let array = array
                .as_map_opt()
                .ok_or_else(|| wrong_type(column, array))?;
            let mut keys = read(key, array.keys().as_ref()).map_err(|e| e.within("{key}"))?;
            let mut values =
                read(value, array.values().as_ref()).map_err(|e| e.within("{value}"))?;
            let offsets = array.value_offsets();
            (0..array.len())
                .map(|row| {
                    if array.is_null(row) {
                        return Ok(None);
                    }
                    let (start, end) = (offsets[row], offsets[row + 1]);
                    let keys =
                        take_elements(&mut keys, start, end).map_err(|e| e.within("{key}"))?;
                    let values =
                        take_elements(&mut values, start, end).map_err(|e| e.within("{value}"))?;
                    let map = keys
                        .into_iter()
                        .zip(values)
                        .map(|(k, v)| {
                            k.into_map_key().map(|k| (k, v)).ok_or_else(|| {
                                ColumnError::value("not a valid map key").within("{key}")
                            })
                        })
                        .collect::<Result<HashMap<_, _>, _>>()?;
                    Ok(Some(Value::Map(map)))
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Int32Array, ListArray, StringArray};
    use arrow_buffer::OffsetBuffer;
    use prost::Message as _;
    use prost_reflect::{MapKey, ReflectMessage as _};

    use super::*;
    use crate::arrow::test_proto;
    use crate::arrow::to_batch::encode_batch;

    /// A test.Containers and test.Node with everything the Paddock protos
    /// lack set: maps, a oneof, an empty message, recursion.
    fn samples() -> Vec<DynamicMessage> {
        let containers = test_proto::message("test.Containers");
        let scalars = test_proto::message("test.Scalars");
        let mut inner = DynamicMessage::new(scalars.clone());
        inner.set_field_by_name("f_string", Value::String("inner".into()));
        inner.set_field_by_name("f_optional", Value::I32(0));
        inner.set_field_by_name("f_bytes", Value::Bytes(vec![0xff, 0x00, 0xfe].into()));

        let mut a = DynamicMessage::new(containers.clone());
        let labels = [("b", 2), ("a", -1)]
            .into_iter()
            .map(|(k, v)| (MapKey::String(k.into()), Value::I64(v)))
            .collect();
        a.set_field_by_name("labels", Value::Map(labels));
        let by_id = [(MapKey::I32(7), Value::Message(inner.clone()))]
            .into_iter()
            .collect();
        a.set_field_by_name("by_id", Value::Map(by_id));
        a.set_field_by_name(
            "marker",
            Value::Message(DynamicMessage::new(test_proto::message("test.Nothing"))),
        );
        a.set_field_by_name("choice_scalars", Value::Message(inner));
        a.set_field_by_name(
            "colors",
            Value::List(vec![
                Value::EnumNumber(2),
                Value::EnumNumber(0),
                Value::EnumNumber(9),
            ]),
        );
        a.set_field_by_name("blobs", Value::List(vec![Value::Bytes(vec![0x80].into())]));

        let mut b = DynamicMessage::new(containers.clone());
        b.set_field_by_name("choice_text", Value::String(String::new()));

        let c = DynamicMessage::new(containers);
        vec![a, b, c]
    }

    fn nodes() -> Vec<DynamicMessage> {
        let node = test_proto::message("test.Node");
        let other = test_proto::message("test.Other");
        let leaf = |name: &str| {
            let mut m = DynamicMessage::new(node.clone());
            m.set_field_by_name("name", Value::String(name.into()));
            m
        };
        let mut root = leaf("root");
        let mut child = leaf("child");
        child.set_field_by_name("child", Value::Message(leaf("grandchild")));
        root.set_field_by_name("child", Value::Message(child));
        root.set_field_by_name(
            "children",
            Value::List(vec![Value::Message(leaf("x")), Value::Message(leaf("y"))]),
        );
        let mut o = DynamicMessage::new(other.clone());
        o.set_field_by_name("back", Value::Message(leaf("back")));
        let mut again = DynamicMessage::new(other);
        again.set_field_by_name("n", Value::I32(3));
        o.set_field_by_name("again", Value::Message(again));
        root.set_field_by_name("other", Value::Message(o));
        vec![root, leaf("lonely")]
    }

    fn round_trip(messages: &[DynamicMessage]) {
        let descriptor = messages[0].descriptor();
        let plan = MessagePlan::new(&descriptor);
        let encoded: Vec<Vec<u8>> = messages.iter().map(|m| m.encode_to_vec()).collect();
        let batch = encode_batch(&plan, "test", &encoded).unwrap();
        assert_eq!(batch.num_rows(), messages.len());
        let back = decode_batch(&plan, "test", &batch).unwrap();
        assert_eq!(back, messages);
    }

    #[test]
    fn maps_oneofs_empty_messages_and_unknown_enum_numbers_round_trip() {
        round_trip(&samples());
    }

    #[test]
    fn recursive_messages_round_trip_through_their_encoding() {
        round_trip(&nodes());
    }

    #[test]
    fn a_null_list_element_names_its_row_and_path() {
        let descriptor = test_proto::message("test.Containers");
        let plan = MessagePlan::new(&descriptor);
        let encoded: Vec<Vec<u8>> = samples().iter().map(|m| m.encode_to_vec()).collect();
        let batch = encode_batch(&plan, "test", &encoded).unwrap();
        // Replace `colors` with a list whose second row holds a null.
        let index = batch.schema().index_of("colors").unwrap();
        let items = StringArray::from(vec![Some("COLOR_RED"), None]);
        let Column::List(item) = &plan.children()[index].column else {
            panic!("colors is a list")
        };
        let colors = ListArray::new(
            crate::arrow::schema::list_item_field(item),
            OffsetBuffer::new(vec![0, 1, 2, 2].into()),
            Arc::new(items),
            None,
        );
        let mut columns = batch.columns().to_vec();
        columns[index] = Arc::new(colors);
        let broken = RecordBatch::try_new(batch.schema(), columns).unwrap();
        let error = decode_batch(&plan, "test", &broken).unwrap_err();
        assert_eq!(
            error.to_string(),
            "table test, row 1, column colors[]: a null element: protobuf lists cannot hold nulls"
        );
    }

    #[test]
    fn a_batch_of_another_schema_is_refused_by_column() {
        let descriptor = test_proto::message("test.Containers");
        let plan = MessagePlan::new(&descriptor);
        let batch = RecordBatch::try_from_iter([(
            "labels",
            Arc::new(Int32Array::from(vec![1])) as ArrayRef,
        )])
        .unwrap();
        let error = decode_batch(&plan, "test", &batch).unwrap_err().to_string();
        assert!(
            error.starts_with("table test: column labels has type Int32, expected Map("),
            "{error}"
        );
        assert!(error.ends_with("the batch does not have the schema of test.Containers"));
    }
}
