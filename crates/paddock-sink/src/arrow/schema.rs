//! Arrow schemas derived from protobuf message descriptors.
//!
//! [`arrow_schema()`] maps a message field by field, recursively. The same
//! walk produces a `Column` plan for every field, which the converters in
//! [`crate::arrow::to_batch`] and [`crate::arrow::from_batch`] follow, so the schema and the
//! data written under it cannot drift apart. The mapping rules are listed in
//! the crate's README.
//!
//! # Invariants
//!
//! - One column per proto field, named as the field is in the `.proto` file
//!   (snake_case), in field-declaration order.
//! - Every Arrow field is nullable. Null appears only where proto3 can tell
//!   "unset" from a value: an unset message field, and an unset `optional`
//!   or `oneof` scalar. Other scalars are written with their proto default
//!   (0, "", false, the zero enum name) and repeated fields as an empty list,
//!   never null. Declaring the columns nullable anyway keeps the tables
//!   evolvable: BigQuery only accepts new columns that are NULLABLE, and a
//!   Parquet reader that merges old files (without a new field) with new
//!   ones must fill the old rows with nulls.
//! - A message type that would contain itself on the current path (directly
//!   or through other messages) is not expanded again: at that point it is a
//!   `Binary` column holding the message's protobuf encoding, so nothing is
//!   lost and the schema stays finite.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::{DataType, Field, FieldRef, Fields, Schema, TimeUnit};
use prost_reflect::{EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor, Value};

/// Full name of the well-known timestamp message.
pub(crate) const TIMESTAMP: &str = "google.protobuf.Timestamp";
/// Full name of the well-known duration message.
pub(crate) const DURATION: &str = "google.protobuf.Duration";

/// Time zone of every timestamp column.
pub const TIMESTAMP_TZ: &str = "UTC";

/// Schema-level metadata key holding the message's full protobuf name.
pub const MESSAGE_METADATA_KEY: &str = "paddock.message";

/// The Arrow schema of a message: one column per field of `message`.
///
/// The schema carries the message's full name under
/// [`MESSAGE_METADATA_KEY`]; Parquet files keep it in their footer.
pub fn arrow_schema(message: &MessageDescriptor) -> Schema {
    MessagePlan::new(message).schema().as_ref().clone()
}

/// How one message becomes a record batch: its fields' plans and the schema
/// they produce.
#[derive(Debug, Clone)]
pub(crate) struct MessagePlan {
    fields: StructPlan,
    schema: Arc<Schema>,
}

impl MessagePlan {
    pub(crate) fn new(message: &MessageDescriptor) -> Self {
        let mut stack = Vec::new();
        let fields = StructPlan::new(message, &mut stack);
        let metadata = HashMap::from([(
            MESSAGE_METADATA_KEY.to_owned(),
            message.full_name().to_owned(),
        )]);
        let schema = Arc::new(Schema::new_with_metadata(
            fields.arrow_fields.clone(),
            metadata,
        ));
        Self { fields, schema }
    }

    pub(crate) fn descriptor(&self) -> &MessageDescriptor {
        &self.fields.descriptor
    }

    /// The plan of the top-level message's fields, the batch's columns.
    pub(crate) fn fields(&self) -> &StructPlan {
        &self.fields
    }

    pub(crate) fn children(&self) -> &[Child] {
        &self.fields.children
    }

    pub(crate) fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }
}

/// The fields of one message type, in declaration order.
#[derive(Debug, Clone)]
pub(crate) struct StructPlan {
    pub(crate) descriptor: MessageDescriptor,
    pub(crate) children: Vec<Child>,
    pub(crate) arrow_fields: Fields,
    /// Whether the message declares extension ranges (proto2 only).
    pub(crate) extendable: bool,
    /// `(field number, index in children)`, sorted by number.
    by_number: Vec<(u32, usize)>,
    /// The children of each oneof with two or more members (at most one
    /// of them holds a value).
    pub(crate) oneofs: Vec<Vec<usize>>,
    pub(crate) has_oneofs: bool,
}

impl StructPlan {
    /// Plans every field of `message`. `stack` holds the full names of the
    /// messages being expanded on the current path.
    fn new(message: &MessageDescriptor, stack: &mut Vec<String>) -> Self {
        stack.push(message.full_name().to_owned());
        let children: Vec<Child> = message
            .fields()
            .map(|field| {
                let column = plan_field(&field, stack);
                let arrow = Arc::new(Field::new(field.name(), column.data_type(), true));
                let default = (!field.supports_presence()).then(|| field.default_value());
                Child {
                    wire: WireKind::of(&field),
                    shape: if field.is_map() {
                        Shape::Map
                    } else if field.is_list() {
                        Shape::List
                    } else {
                        Shape::Single
                    },
                    field,
                    column,
                    arrow,
                    default,
                }
            })
            .collect();
        stack.pop();
        let mut by_number: Vec<(u32, usize)> = children
            .iter()
            .enumerate()
            .map(|(index, child)| (child.field.number(), index))
            .collect();
        by_number.sort_unstable();
        let oneofs: Vec<Vec<usize>> = message
            .oneofs()
            .map(|oneof| {
                oneof
                    .fields()
                    .filter_map(|f| {
                        by_number
                            .binary_search_by_key(&f.number(), |(n, _)| *n)
                            .ok()
                            .map(|i| by_number[i].1)
                    })
                    .collect::<Vec<usize>>()
            })
            .filter(|members| members.len() > 1)
            .collect();
        Self {
            has_oneofs: !oneofs.is_empty(),
            oneofs,
            descriptor: message.clone(),
            arrow_fields: children.iter().map(|c| c.arrow.clone()).collect(),
            extendable: message.extension_ranges().len() > 0,
            children,
            by_number,
        }
    }

    /// The index in `children` of the field with this number.
    pub(crate) fn child_index(&self, number: u32) -> Option<usize> {
        self.by_number
            .binary_search_by_key(&number, |(n, _)| *n)
            .ok()
            .map(|i| self.by_number[i].1)
    }
}

/// One field of a message, with its plan and its Arrow field.
#[derive(Debug, Clone)]
pub(crate) struct Child {
    pub(crate) field: FieldDescriptor,
    pub(crate) column: Column,
    pub(crate) arrow: FieldRef,
    /// What an unset field stores: `None` (null) for a field with presence,
    /// otherwise its proto default.
    pub(crate) default: Option<Value>,
    /// The field's type as the wire encodes it, looked up once.
    pub(crate) wire: WireKind,
    pub(crate) shape: Shape,
}

/// Whether a field holds one value, a list or a map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Single,
    List,
    Map,
}

/// A field's protobuf type, as far as decoding its wire encoding goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WireKind {
    Bool,
    Int32,
    Sint32,
    Sfixed32,
    Int64,
    Sint64,
    Sfixed64,
    Uint32,
    Fixed32,
    Uint64,
    Fixed64,
    Float,
    Double,
    String,
    Bytes,
    Enum,
    Message,
}

impl WireKind {
    fn of(field: &FieldDescriptor) -> Self {
        use prost_reflect::Kind;
        match field.kind() {
            Kind::Bool => Self::Bool,
            Kind::Int32 => Self::Int32,
            Kind::Sint32 => Self::Sint32,
            Kind::Sfixed32 => Self::Sfixed32,
            Kind::Int64 => Self::Int64,
            Kind::Sint64 => Self::Sint64,
            Kind::Sfixed64 => Self::Sfixed64,
            Kind::Uint32 => Self::Uint32,
            Kind::Fixed32 => Self::Fixed32,
            Kind::Uint64 => Self::Uint64,
            Kind::Fixed64 => Self::Fixed64,
            Kind::Float => Self::Float,
            Kind::Double => Self::Double,
            Kind::String => Self::String,
            Kind::Bytes => Self::Bytes,
            Kind::Enum(_) => Self::Enum,
            Kind::Message(_) => Self::Message,
        }
    }
}

/// How the values of one field (or one list element, map key or map value)
/// are stored.
#[derive(Debug, Clone)]
pub(crate) enum Column {
    Bool,
    Int32,
    Int64,
    UInt32,
    UInt64,
    Float32,
    Float64,
    Utf8,
    Binary,
    /// Utf8 holding the value's name; see [`EnumNames`].
    Enum(EnumNames),
    /// `google.protobuf.Timestamp` as microseconds since the epoch, UTC.
    Timestamp(MessageDescriptor),
    /// `google.protobuf.Duration` as microseconds.
    Duration(MessageDescriptor),
    /// A message with at least one field.
    Struct(StructPlan),
    /// A message without fields: Boolean, true when set. (A Parquet group
    /// cannot be empty.)
    Empty(MessageDescriptor),
    /// A message that recurs on its own path: Binary, its encoding.
    Encoded(MessageDescriptor),
    List(Box<Column>),
    Map(Box<Column>, Box<Column>),
}

/// An enum's value names, looked up once per schema rather than per row.
#[derive(Debug, Clone)]
pub(crate) struct EnumNames {
    pub(crate) descriptor: EnumDescriptor,
    by_number: HashMap<i32, String>,
}

impl EnumNames {
    fn new(descriptor: EnumDescriptor) -> Self {
        let by_number = descriptor
            .values()
            .map(|v| (v.number(), v.name().to_owned()))
            .collect();
        Self {
            descriptor,
            by_number,
        }
    }

    /// The value's name, or `None` for a number the descriptor lacks.
    pub(crate) fn name(&self, number: i32) -> Option<&str> {
        self.by_number.get(&number).map(String::as_str)
    }
}

/// Name of a list's element field (Arrow's default).
pub(crate) const LIST_ITEM: &str = "item";
/// Names inside a map column (Arrow's and Parquet's defaults).
pub(crate) const MAP_ENTRIES: &str = "entries";
pub(crate) const MAP_KEY: &str = "key";
pub(crate) const MAP_VALUE: &str = "value";

impl Column {
    pub(crate) fn data_type(&self) -> DataType {
        match self {
            Column::Bool | Column::Empty(_) => DataType::Boolean,
            Column::Int32 => DataType::Int32,
            Column::Int64 => DataType::Int64,
            Column::UInt32 => DataType::UInt32,
            Column::UInt64 => DataType::UInt64,
            Column::Float32 => DataType::Float32,
            Column::Float64 => DataType::Float64,
            Column::Utf8 | Column::Enum(_) => DataType::Utf8,
            Column::Binary | Column::Encoded(_) => DataType::Binary,
            Column::Timestamp(_) => {
                DataType::Timestamp(TimeUnit::Microsecond, Some(TIMESTAMP_TZ.into()))
            }
            Column::Duration(_) => DataType::Duration(TimeUnit::Microsecond),
            Column::Struct(plan) => DataType::Struct(plan.arrow_fields.clone()),
            Column::List(item) => DataType::List(list_item_field(item)),
            Column::Map(key, value) => DataType::Map(map_entries_field(key, value), false),
        }
    }
}

pub(crate) fn list_item_field(item: &Column) -> FieldRef {
    Arc::new(Field::new(LIST_ITEM, item.data_type(), true))
}

pub(crate) fn map_entries_field(key: &Column, value: &Column) -> FieldRef {
    Arc::new(Field::new(
        MAP_ENTRIES,
        DataType::Struct(map_entry_fields(key, value)),
        false,
    ))
}

pub(crate) fn map_entry_fields(key: &Column, value: &Column) -> Fields {
    // Arrow requires map keys to be non-null; proto map keys never are.
    Fields::from(vec![
        Field::new(MAP_KEY, key.data_type(), false),
        Field::new(MAP_VALUE, value.data_type(), true),
    ])
}

fn plan_field(field: &FieldDescriptor, stack: &mut Vec<String>) -> Column {
    if field.is_map() {
        let Kind::Message(entry) = field.kind() else {
            unreachable!("a map field's kind is its entry message")
        };
        let key = plan_kind(&entry.map_entry_key_field().kind(), stack);
        let value = plan_kind(&entry.map_entry_value_field().kind(), stack);
        return Column::Map(Box::new(key), Box::new(value));
    }
    let column = plan_kind(&field.kind(), stack);
    if field.is_list() {
        Column::List(Box::new(column))
    } else {
        column
    }
}

fn plan_kind(kind: &Kind, stack: &mut Vec<String>) -> Column {
    match kind {
        Kind::Bool => Column::Bool,
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Column::Int32,
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Column::Int64,
        Kind::Uint32 | Kind::Fixed32 => Column::UInt32,
        Kind::Uint64 | Kind::Fixed64 => Column::UInt64,
        Kind::Float => Column::Float32,
        Kind::Double => Column::Float64,
        Kind::String => Column::Utf8,
        Kind::Bytes => Column::Binary,
        Kind::Enum(e) => Column::Enum(EnumNames::new(e.clone())),
        Kind::Message(m) => plan_message(m, stack),
    }
}

fn plan_message(message: &MessageDescriptor, stack: &mut Vec<String>) -> Column {
    match message.full_name() {
        TIMESTAMP => return Column::Timestamp(message.clone()),
        DURATION => return Column::Duration(message.clone()),
        _ => {}
    }
    if stack.iter().any(|name| name == message.full_name()) {
        return Column::Encoded(message.clone());
    }
    if message.fields().len() == 0 {
        return Column::Empty(message.clone());
    }
    Column::Struct(StructPlan::new(message, stack))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arrow::test_proto;

    fn field<'a>(fields: &'a Fields, name: &str) -> &'a Field {
        fields
            .iter()
            .find(|f| f.name() == name)
            .unwrap_or_else(|| panic!("no field {name}"))
    }

    fn struct_fields(dt: &DataType) -> &Fields {
        match dt {
            DataType::Struct(f) => f,
            other => panic!("expected a struct, got {other}"),
        }
    }

    #[test]
    fn scalars_keep_their_width_and_signedness() {
        let schema = arrow_schema(&test_proto::message("test.Scalars"));
        let types: Vec<(String, DataType)> = schema
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect();
        let expected = [
            ("f_double", DataType::Float64),
            ("f_float", DataType::Float32),
            ("f_int32", DataType::Int32),
            ("f_int64", DataType::Int64),
            ("f_uint32", DataType::UInt32),
            ("f_uint64", DataType::UInt64),
            ("f_sint32", DataType::Int32),
            ("f_sint64", DataType::Int64),
            ("f_fixed32", DataType::UInt32),
            ("f_fixed64", DataType::UInt64),
            ("f_sfixed32", DataType::Int32),
            ("f_sfixed64", DataType::Int64),
            ("f_bool", DataType::Boolean),
            ("f_string", DataType::Utf8),
            ("f_bytes", DataType::Binary),
            ("f_enum", DataType::Utf8),
            (
                "f_timestamp",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            ),
            ("f_duration", DataType::Duration(TimeUnit::Microsecond)),
            ("f_optional", DataType::Int32),
        ];
        let expected: Vec<(String, DataType)> = expected
            .into_iter()
            .map(|(n, t)| (n.to_owned(), t))
            .collect();
        assert_eq!(types, expected);
        assert!(schema.fields().iter().all(|f| f.is_nullable()));
        assert_eq!(
            schema
                .metadata()
                .get(MESSAGE_METADATA_KEY)
                .map(String::as_str),
            Some("test.Scalars")
        );
    }

    #[test]
    fn maps_become_arrow_maps_with_non_null_keys() {
        let schema = arrow_schema(&test_proto::message("test.Containers"));
        let DataType::Map(entries, sorted) = field(schema.fields(), "labels").data_type() else {
            panic!("labels is not a map")
        };
        assert!(!sorted);
        let kv = struct_fields(entries.data_type());
        assert_eq!(kv.len(), 2);
        assert_eq!(kv[0].data_type(), &DataType::Utf8);
        assert!(!kv[0].is_nullable());
        assert_eq!(kv[1].data_type(), &DataType::Int64);

        let DataType::Map(entries, _) = field(schema.fields(), "by_id").data_type() else {
            panic!("by_id is not a map")
        };
        let kv = struct_fields(entries.data_type());
        assert_eq!(kv[0].data_type(), &DataType::Int32);
        assert!(matches!(kv[1].data_type(), DataType::Struct(_)));
    }

    #[test]
    fn recursion_stops_at_the_first_repeat_as_encoded_bytes() {
        let schema = arrow_schema(&test_proto::message("test.Node"));
        // Node { name, child: Node, children: [Node], other: Other { back: Node } }
        assert_eq!(
            field(schema.fields(), "child").data_type(),
            &DataType::Binary
        );
        let DataType::List(item) = field(schema.fields(), "children").data_type() else {
            panic!("children is not a list")
        };
        assert_eq!(item.data_type(), &DataType::Binary);
        let other = struct_fields(field(schema.fields(), "other").data_type());
        assert_eq!(field(other, "back").data_type(), &DataType::Binary);
        // Other is expanded again inside itself? No: it is on the path too.
        assert_eq!(field(other, "again").data_type(), &DataType::Binary);
    }

    #[test]
    fn empty_messages_become_booleans_and_oneof_members_are_columns() {
        let schema = arrow_schema(&test_proto::message("test.Containers"));
        assert_eq!(
            field(schema.fields(), "marker").data_type(),
            &DataType::Boolean
        );
        assert_eq!(
            field(schema.fields(), "choice_text").data_type(),
            &DataType::Utf8
        );
        assert!(matches!(
            field(schema.fields(), "choice_scalars").data_type(),
            DataType::Struct(_)
        ));
    }
}
