//! BigQuery table schemas: the `fields` array of a table resource, derived
//! from an Arrow schema, and the merge that adds new columns to an
//! existing table.
//!
//! The mapping is listed in the [module doc](super). A field is a JSON
//! object `{"name", "type", "mode"}`, with `"fields"` for a RECORD.

use arrow_schema::{DataType, Field, Schema};
use serde_json::{json, Value};

use crate::row::{MSG_ID_COLUMN, PUBLISHED_COLUMN, SEQUENCE_COLUMN};
use crate::Table;

/// The BigQuery `fields` of an Arrow schema, one per Arrow field, in order.
///
/// Durations become INTEGER columns holding microseconds, so that they
/// sum, compare and convert like the numbers they are (`duration / 1e6`
/// is seconds). Maps become REPEATED RECORDs of `key` and `value`.
///
/// # Panics
///
/// On an Arrow type with no BigQuery equivalent (a union, a list of lists,
/// an empty struct…). The schemas this crate derives from the protos never
/// contain one; the unit tests map every table.
pub fn bigquery_schema(arrow: &Schema) -> Value {
    Value::Array(arrow.fields().iter().map(|f| field(f, "")).collect())
}

/// The bookkeeping columns, in order: `_msg_id` STRING, `_stream_sequence`
/// INTEGER and `_published` TIMESTAMP, all REQUIRED.
pub fn bookkeeping_schema() -> [Value; 3] {
    [
        json!({"name": MSG_ID_COLUMN, "type": "STRING", "mode": "REQUIRED"}),
        json!({"name": SEQUENCE_COLUMN, "type": "INTEGER", "mode": "REQUIRED"}),
        json!({"name": PUBLISHED_COLUMN, "type": "TIMESTAMP", "mode": "REQUIRED"}),
    ]
}

/// A native table's full BigQuery schema: its own columns, then the
/// bookkeeping columns.
pub fn table_fields(table: Table) -> Value {
    with_bookkeeping(bigquery_schema(&table.schema()))
}

/// `fields` with the bookkeeping columns appended, unless it has them.
pub(crate) fn with_bookkeeping(fields: Value) -> Value {
    let mut fields = match fields {
        Value::Array(fields) => fields,
        other => vec![other],
    };
    for column in bookkeeping_schema() {
        if find(&fields, column["name"].as_str().unwrap_or_default()).is_none() {
            fields.push(column);
        }
    }
    Value::Array(fields)
}

fn field(f: &Field, path: &str) -> Value {
    let path = if path.is_empty() {
        f.name().clone()
    } else {
        format!("{path}.{}", f.name())
    };
    match f.data_type() {
        DataType::List(item) | DataType::LargeList(item) | DataType::FixedSizeList(item, _) => {
            let mut element = element(item, &path);
            element["name"] = Value::String(f.name().clone());
            element["mode"] = Value::String("REPEATED".into());
            element
        }
        DataType::Map(entries, _) => {
            let mut record = map_record(entries, &path);
            record["name"] = Value::String(f.name().clone());
            record
        }
        other => {
            let mut value = scalar_or_record(other, &path);
            value["name"] = Value::String(f.name().clone());
            value["mode"] = Value::String("NULLABLE".into());
            value
        }
    }
}

/// A list's element, as the type of a REPEATED column.
fn element(item: &Field, path: &str) -> Value {
    match item.data_type() {
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(..)
        | DataType::Map(..) => panic!(
            "column {path}: a list of {} has no BigQuery type (arrays of arrays are not allowed)",
            item.data_type()
        ),
        other => scalar_or_record(other, path),
    }
}

fn map_record(entries: &Field, path: &str) -> Value {
    let DataType::Struct(children) = entries.data_type() else {
        panic!("column {path}: map entries of type {}", entries.data_type())
    };
    json!({
        "type": "RECORD",
        "mode": "REPEATED",
        "fields": children.iter().map(|c| field(c, path)).collect::<Vec<_>>(),
    })
}

/// `{"type"}` (and `"fields"` for a struct), without name or mode.
fn scalar_or_record(data_type: &DataType, path: &str) -> Value {
    let kind = match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "STRING",
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => "BYTES",
        DataType::Boolean => "BOOLEAN",
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Duration(_) => "INTEGER",
        DataType::Float16 | DataType::Float32 | DataType::Float64 => "FLOAT",
        DataType::Timestamp(_, Some(_)) => "TIMESTAMP",
        DataType::Timestamp(_, None) => "DATETIME",
        DataType::Date32 | DataType::Date64 => "DATE",
        DataType::Struct(children) if !children.is_empty() => {
            return json!({
                "type": "RECORD",
                "fields": children.iter().map(|c| field(c, path)).collect::<Vec<_>>(),
            });
        }
        other => panic!("column {path}: Arrow type {other} has no BigQuery type"),
    };
    json!({ "type": kind })
}

/// The field named `name` in `fields` (BigQuery column names are
/// case-insensitive).
fn find<'a>(fields: &'a [Value], name: &str) -> Option<&'a Value> {
    fields.iter().find(|f| {
        f["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    })
}

/// What [`merge`] found comparing a table's schema with the wanted one.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Merge {
    /// The existing fields with the missing ones added (as NULLABLE, or
    /// REPEATED for repeated ones), in the existing order then the wanted.
    pub(crate) fields: Vec<Value>,
    /// Dotted paths of the columns added.
    pub(crate) added: Vec<String>,
    /// Columns whose type or mode differ, described.
    pub(crate) conflicts: Vec<String>,
}

/// Adds to `existing` the columns of `wanted` it lacks, at every level of
/// RECORDs. BigQuery accepts new NULLABLE and REPEATED columns on an
/// existing table, not REQUIRED ones, so those are added as NULLABLE.
pub(crate) fn merge(existing: &[Value], wanted: &[Value]) -> Merge {
    let mut out = Merge::default();
    out.fields = merge_level(existing, wanted, "", &mut out.added, &mut out.conflicts);
    out
}

fn merge_level(
    existing: &[Value],
    wanted: &[Value],
    path: &str,
    added: &mut Vec<String>,
    conflicts: &mut Vec<String>,
) -> Vec<Value> {
    let mut fields: Vec<Value> = existing.to_vec();
    for want in wanted {
        let name = want["name"].as_str().unwrap_or_default();
        let full = if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
        let Some(position) = fields.iter().position(|f| {
            f["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        }) else {
            let mut new = want.clone();
            if new["mode"] == "REQUIRED" {
                new["mode"] = Value::String("NULLABLE".into());
            }
            fields.push(new);
            added.push(full);
            continue;
        };
        let have = &mut fields[position];
        let (have_type, want_type) = (canonical_type(&have["type"]), canonical_type(&want["type"]));
        let (have_mode, want_mode) = (mode(have), mode(want));
        let repeated = |m: &str| m == "REPEATED";
        if have_type != want_type || repeated(have_mode) != repeated(want_mode) {
            conflicts.push(format!(
                "{full} is {have_mode} {have_type} in the table but {want_mode} {want_type} \
                 in the sink's schema"
            ));
            continue;
        }
        if want_type == "RECORD" {
            let have_children = have["fields"].as_array().cloned().unwrap_or_default();
            let want_children = want["fields"].as_array().cloned().unwrap_or_default();
            let merged = merge_level(&have_children, &want_children, &full, added, conflicts);
            have["fields"] = Value::Array(merged);
        }
    }
    fields
}

fn mode(field: &Value) -> &str {
    field["mode"].as_str().unwrap_or("NULLABLE")
}

/// The legacy type name for the standard-SQL aliases the API may return.
fn canonical_type(kind: &Value) -> &str {
    match kind.as_str().unwrap_or_default() {
        "INT64" => "INTEGER",
        "FLOAT64" => "FLOAT",
        "BOOL" => "BOOLEAN",
        "STRUCT" => "RECORD",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_schema::{Fields, TimeUnit};

    use super::*;
    use crate::arrow::schema::MessagePlan;
    use crate::arrow::test_proto;
    use crate::tables;

    fn names(fields: &Value) -> Vec<&str> {
        fields
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect()
    }

    /// Every field has a name, a type and a mode; RECORDs have fields.
    fn check_well_formed(fields: &Value) {
        for f in fields.as_array().unwrap() {
            assert!(f["name"].is_string(), "{f}");
            assert!(
                ["NULLABLE", "REPEATED", "REQUIRED"].contains(&f["mode"].as_str().unwrap()),
                "{f}"
            );
            if f["type"] == "RECORD" {
                check_well_formed(&f["fields"]);
            } else {
                assert!(f.get("fields").is_none(), "{f}");
            }
        }
    }

    #[test]
    fn every_table_maps_with_the_bookkeeping_columns_last() {
        for table in tables() {
            let fields = table_fields(table);
            check_well_formed(&fields);
            let names = names(&fields);
            let own = table.schema().fields().len();
            assert_eq!(names.len(), own + 3, "{table}");
            assert_eq!(&names[own..], ["_msg_id", "_stream_sequence", "_published"]);
            for f in &fields.as_array().unwrap()[own..] {
                assert_eq!(f["mode"], "REQUIRED");
            }
            for f in &fields.as_array().unwrap()[..own] {
                assert_ne!(f["mode"], "REQUIRED", "{f}");
            }
        }
    }

    #[test]
    fn nested_lists_and_records_map_to_repeated_records() {
        let fields = table_fields(Table::Releases);
        let artifacts = find(fields.as_array().unwrap(), "artifacts").unwrap();
        assert_eq!(artifacts["type"], "RECORD");
        assert_eq!(artifacts["mode"], "REPEATED");
        let children = artifacts["fields"].as_array().unwrap();
        assert_eq!(
            find(children, "size").unwrap(),
            &json!({"name": "size", "type": "INTEGER", "mode": "NULLABLE"})
        );
        let digests = find(children, "registry_digests").unwrap();
        assert_eq!(digests["mode"], "REPEATED");
        assert_eq!(digests["type"], "RECORD");
        let package = find(fields.as_array().unwrap(), "package").unwrap();
        assert_eq!(package["type"], "RECORD");
        assert_eq!(package["mode"], "NULLABLE");
        assert_eq!(
            find(fields.as_array().unwrap(), "published_at").unwrap()["type"],
            "TIMESTAMP"
        );
    }

    #[test]
    fn scalars_maps_and_durations_map_as_documented() {
        let plan = MessagePlan::new(&test_proto::message("test.Scalars"));
        let fields = bigquery_schema(plan.schema());
        let types: Vec<(&str, &str, &str)> = fields
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["name"].as_str().unwrap(),
                    f["type"].as_str().unwrap(),
                    f["mode"].as_str().unwrap(),
                )
            })
            .collect();
        let expect = [
            ("f_double", "FLOAT"),
            ("f_float", "FLOAT"),
            ("f_int32", "INTEGER"),
            ("f_int64", "INTEGER"),
            ("f_uint32", "INTEGER"),
            ("f_uint64", "INTEGER"),
            ("f_sint32", "INTEGER"),
            ("f_sint64", "INTEGER"),
            ("f_fixed32", "INTEGER"),
            ("f_fixed64", "INTEGER"),
            ("f_sfixed32", "INTEGER"),
            ("f_sfixed64", "INTEGER"),
            ("f_bool", "BOOLEAN"),
            ("f_string", "STRING"),
            ("f_bytes", "BYTES"),
            ("f_enum", "STRING"),
            ("f_timestamp", "TIMESTAMP"),
            ("f_duration", "INTEGER"),
            ("f_optional", "INTEGER"),
        ];
        assert_eq!(types.len(), expect.len());
        for ((name, kind, mode), (want_name, want_kind)) in types.iter().zip(expect) {
            assert_eq!((*name, *kind, *mode), (want_name, want_kind, "NULLABLE"));
        }

        let plan = MessagePlan::new(&test_proto::message("test.Containers"));
        let fields = bigquery_schema(plan.schema());
        let fields = fields.as_array().unwrap();
        assert_eq!(
            find(fields, "labels").unwrap(),
            &json!({"name": "labels", "type": "RECORD", "mode": "REPEATED", "fields": [
                {"name": "key", "type": "STRING", "mode": "NULLABLE"},
                {"name": "value", "type": "INTEGER", "mode": "NULLABLE"},
            ]})
        );
        let by_id = find(fields, "by_id").unwrap();
        assert_eq!(by_id["mode"], "REPEATED");
        assert_eq!(by_id["fields"][1]["type"], "RECORD");
        assert_eq!(by_id["fields"][1]["mode"], "NULLABLE");
        assert_eq!(
            find(fields, "colors").unwrap(),
            &json!({"name": "colors", "type": "STRING", "mode": "REPEATED"})
        );
        assert_eq!(find(fields, "times").unwrap()["type"], "TIMESTAMP");
        assert_eq!(find(fields, "blobs").unwrap()["type"], "BYTES");
        // An empty message is a Boolean column.
        assert_eq!(find(fields, "marker").unwrap()["type"], "BOOLEAN");

        // A self-recursive message is its encoding: BYTES.
        let plan = MessagePlan::new(&test_proto::message("test.Node"));
        let fields = bigquery_schema(plan.schema());
        let child = find(fields.as_array().unwrap(), "child").unwrap();
        assert_eq!(child["type"], "BYTES");
    }

    #[test]
    #[should_panic(expected = "arrays of arrays")]
    fn lists_of_lists_have_no_bigquery_type() {
        let inner = Field::new("item", DataType::Utf8, true);
        let outer = Field::new_list_field(DataType::List(Arc::new(inner)), true);
        let schema = Schema::new(vec![Field::new("x", DataType::List(Arc::new(outer)), true)]);
        bigquery_schema(&schema);
    }

    #[test]
    fn naive_timestamps_are_datetimes() {
        let schema = Schema::new(vec![
            Field::new("a", DataType::Timestamp(TimeUnit::Second, None), true),
            Field::new(
                "s",
                DataType::Struct(Fields::from(vec![Field::new("b", DataType::Date32, true)])),
                true,
            ),
        ]);
        let fields = bigquery_schema(&schema);
        assert_eq!(fields[0]["type"], "DATETIME");
        assert_eq!(fields[1]["fields"][0]["type"], "DATE");
    }

    #[test]
    fn merge_adds_missing_columns_at_every_level() {
        let existing = vec![
            json!({"name": "a", "type": "STRING", "mode": "NULLABLE"}),
            json!({"name": "r", "type": "RECORD", "mode": "REPEATED", "fields": [
                {"name": "x", "type": "INT64", "mode": "NULLABLE"},
            ]}),
            json!({"name": "c", "type": "STRING", "mode": "NULLABLE"}),
        ];
        let wanted = vec![
            json!({"name": "A", "type": "STRING", "mode": "NULLABLE"}),
            json!({"name": "r", "type": "RECORD", "mode": "REPEATED", "fields": [
                {"name": "x", "type": "INTEGER", "mode": "NULLABLE"},
                {"name": "y", "type": "BOOLEAN", "mode": "NULLABLE"},
            ]}),
            json!({"name": "c", "type": "INTEGER", "mode": "NULLABLE"}),
            json!({"name": "new", "type": "TIMESTAMP", "mode": "REQUIRED"}),
        ];
        let merge = merge(&existing, &wanted);
        assert_eq!(merge.added, ["r.y", "new"]);
        assert_eq!(merge.conflicts.len(), 1);
        assert!(
            merge.conflicts[0].starts_with("c is NULLABLE STRING"),
            "{merge:?}"
        );
        assert_eq!(merge.fields.len(), 4);
        assert_eq!(merge.fields[1]["fields"][1]["name"], "y");
        assert_eq!(merge.fields[3]["mode"], "NULLABLE");

        let same = super::merge(&merge.fields, &merge.fields);
        assert!(same.added.is_empty() && same.conflicts.is_empty());
    }

    #[test]
    fn bookkeeping_is_not_added_twice() {
        let fields = with_bookkeeping(Value::Array(bookkeeping_schema().to_vec()));
        assert_eq!(fields.as_array().unwrap().len(), 3);
    }
}
