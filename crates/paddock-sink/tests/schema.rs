//! The derived schemas against the protos: every field of every message
//! reachable from the five tables has a column of the right kind, and the
//! schemas match the checked-in listing `tests/golden/schemas.txt`, so a
//! proto change shows up in review as a change to that file.
//!
//! Regenerate the listing after changing a `.proto` file with
//! `PADDOCK_UPDATE_GOLDEN=1 cargo test -p paddock-sink --test schema`.

use std::path::PathBuf;

use arrow_schema::{DataType, Field, Fields, TimeUnit};
use paddock_sink::{tables, Table};
use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};

const TIMESTAMP: &str = "google.protobuf.Timestamp";
const DURATION: &str = "google.protobuf.Duration";

/// Checks `fields` against `message`, independently of the crate's own
/// walk; pushes one line per problem.
fn check_message(
    message: &MessageDescriptor,
    fields: &Fields,
    path: &str,
    stack: &mut Vec<String>,
    problems: &mut Vec<String>,
) {
    let proto: Vec<FieldDescriptor> = message.fields().collect();
    let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
    let expected: Vec<&str> = proto.iter().map(|f| f.name()).collect();
    if names != expected {
        problems.push(format!(
            "{path}: columns {names:?}, but {} has fields {expected:?}",
            message.full_name()
        ));
        return;
    }
    stack.push(message.full_name().to_owned());
    for (field, arrow) in proto.iter().zip(fields.iter()) {
        let here = format!("{path}.{}", field.name());
        if !arrow.is_nullable() {
            problems.push(format!("{here}: not nullable"));
        }
        if field.is_map() {
            let Kind::Message(entry) = field.kind() else {
                unreachable!()
            };
            match arrow.data_type() {
                DataType::Map(entries, _) => match entries.data_type() {
                    DataType::Struct(kv) if kv.len() == 2 => {
                        let key = entry.map_entry_key_field().kind();
                        let value = entry.map_entry_value_field().kind();
                        check_kind(&key, &kv[0], &format!("{here}{{key}}"), stack, problems);
                        check_kind(&value, &kv[1], &format!("{here}{{value}}"), stack, problems);
                    }
                    other => problems.push(format!("{here}: map entries are {other}")),
                },
                other => problems.push(format!("{here}: a map field is {other}")),
            }
        } else if field.is_list() {
            match arrow.data_type() {
                DataType::List(item) => {
                    check_kind(&field.kind(), item, &format!("{here}[]"), stack, problems)
                }
                other => problems.push(format!("{here}: a repeated field is {other}")),
            }
        } else {
            check_kind(&field.kind(), arrow, &here, stack, problems);
        }
    }
    stack.pop();
}

fn check_kind(
    kind: &Kind,
    arrow: &Field,
    path: &str,
    stack: &mut Vec<String>,
    problems: &mut Vec<String>,
) {
    let expected = match kind {
        Kind::Bool => DataType::Boolean,
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => DataType::Int32,
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => DataType::Int64,
        Kind::Uint32 | Kind::Fixed32 => DataType::UInt32,
        Kind::Uint64 | Kind::Fixed64 => DataType::UInt64,
        Kind::Float => DataType::Float32,
        Kind::Double => DataType::Float64,
        Kind::String | Kind::Enum(_) => DataType::Utf8,
        Kind::Bytes => DataType::Binary,
        Kind::Message(m) if m.full_name() == TIMESTAMP => {
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        }
        Kind::Message(m) if m.full_name() == DURATION => DataType::Duration(TimeUnit::Microsecond),
        Kind::Message(m) if stack.iter().any(|s| s == m.full_name()) => DataType::Binary,
        Kind::Message(m) if m.fields().len() == 0 => DataType::Boolean,
        Kind::Message(m) => {
            match arrow.data_type() {
                DataType::Struct(children) => check_message(m, children, path, stack, problems),
                other => problems.push(format!("{path}: {} is {other}", m.full_name())),
            }
            return;
        }
    };
    if arrow.data_type() != &expected {
        problems.push(format!(
            "{path}: {kind:?} is {}, expected {expected}",
            arrow.data_type()
        ));
    }
}

#[test]
fn every_proto_field_has_a_column_of_its_kind() {
    let mut problems = Vec::new();
    for table in tables() {
        let schema = table.schema();
        check_message(
            &table.descriptor(),
            schema.fields(),
            table.table_name(),
            &mut Vec::new(),
            &mut problems,
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_catches_a_missing_column() {
    // The check above must be able to fail: drop one nested column.
    let table = Table::DynamicResults;
    let schema = table.schema();
    let fields: Fields = schema
        .fields()
        .iter()
        .map(|f| {
            if f.name() != "sandbox" {
                return f.clone();
            }
            let DataType::Struct(children) = f.data_type() else {
                panic!("sandbox is a struct")
            };
            let fewer: Fields = children.iter().skip(1).cloned().collect();
            f.as_ref()
                .clone()
                .with_data_type(DataType::Struct(fewer))
                .into()
        })
        .collect();
    let mut problems = Vec::new();
    check_message(
        &table.descriptor(),
        &fields,
        "dynamic_results",
        &mut Vec::new(),
        &mut problems,
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("dynamic_results.sandbox: columns"));
}

// ---- the golden listing ----

fn type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Boolean => "boolean".into(),
        DataType::Int32 => "int32".into(),
        DataType::Int64 => "int64".into(),
        DataType::UInt32 => "uint32".into(),
        DataType::UInt64 => "uint64".into(),
        DataType::Float32 => "float32".into(),
        DataType::Float64 => "float64".into(),
        DataType::Utf8 => "utf8".into(),
        DataType::Binary => "binary".into(),
        DataType::Timestamp(TimeUnit::Microsecond, Some(tz)) => format!("timestamp[us, {tz}]"),
        DataType::Duration(TimeUnit::Microsecond) => "duration[us]".into(),
        DataType::Struct(_) => "struct".into(),
        DataType::List(item) => format!("list<{}>", type_name(item.data_type())),
        DataType::Map(..) => "map".into(),
        // Anything else is new to the mapping: spell it out in full.
        other => format!("{other:?}"),
    }
}

/// The proto type a column comes from, where the Arrow type alone does not
/// say: enums, messages, well-known types.
fn proto_origin(kind: &Kind) -> Option<String> {
    match kind {
        Kind::Enum(e) => Some(e.full_name().to_owned()),
        Kind::Message(m) => Some(m.full_name().to_owned()),
        _ => None,
    }
}

fn render_field(
    path: &str,
    arrow: &Field,
    kind: Option<&Kind>,
    is_list: bool,
    out: &mut Vec<String>,
) {
    let mut line = format!("{path}: {}", type_name(arrow.data_type()));
    if !arrow.is_nullable() {
        line.push_str(" not null");
    }
    if let Some(origin) = kind.and_then(proto_origin) {
        line.push_str(&format!(" ({origin})"));
    }
    out.push(line);
    match arrow.data_type() {
        DataType::Struct(children) => {
            let message = kind.and_then(|k| k.as_message().cloned());
            for child in children {
                let field = message
                    .as_ref()
                    .and_then(|m| m.get_field_by_name(child.name()));
                render_proto_field(
                    &format!("{path}.{}", child.name()),
                    child,
                    field.as_ref(),
                    out,
                );
            }
        }
        DataType::List(item) if is_list => {
            // The element's own line would repeat the list's; only its
            // children are listed, under `[]`.
            if let DataType::Struct(_) = item.data_type() {
                let mut nested = Vec::new();
                render_field(&format!("{path}[]"), item, kind, false, &mut nested);
                out.extend(nested.into_iter().skip(1));
            }
        }
        DataType::Map(entries, _) => {
            let DataType::Struct(kv) = entries.data_type() else {
                return;
            };
            let entry = kind.and_then(|k| k.as_message().cloned());
            let key = entry.as_ref().map(|e| e.map_entry_key_field().kind());
            let value = entry.as_ref().map(|e| e.map_entry_value_field().kind());
            render_field(&format!("{path}{{key}}"), &kv[0], key.as_ref(), false, out);
            render_field(
                &format!("{path}{{value}}"),
                &kv[1],
                value.as_ref(),
                false,
                out,
            );
        }
        _ => {}
    }
}

fn render_proto_field(
    path: &str,
    arrow: &Field,
    field: Option<&FieldDescriptor>,
    out: &mut Vec<String>,
) {
    let kind = field.map(|f| f.kind());
    let is_list = field.is_some_and(|f| f.is_list());
    render_field(path, arrow, kind.as_ref(), is_list, out);
}

fn render_all() -> String {
    let mut out = vec![
        "# The Arrow schemas of the tables the sinks write, derived from".to_owned(),
        "# proto/paddock/v1 by crates/paddock-sink. Generated: do not edit.".to_owned(),
        "# Regenerate: PADDOCK_UPDATE_GOLDEN=1 cargo test -p paddock-sink --test schema".to_owned(),
        "# Every column is nullable. `a[]` is an element of list `a`; `m{key}` and".to_owned(),
        "# `m{value}` are a map's entries; parentheses name the proto type.".to_owned(),
    ];
    for table in tables() {
        out.push(String::new());
        out.push(format!(
            "## {} ({})",
            table.table_name(),
            table.message_name()
        ));
        let descriptor = table.descriptor();
        for arrow in table.schema().fields() {
            let field = descriptor.get_field_by_name(arrow.name());
            render_proto_field(
                &format!("{}.{}", table.table_name(), arrow.name()),
                arrow,
                field.as_ref(),
                &mut out,
            );
        }
    }
    out.push(String::new());
    out.join("\n")
}

#[test]
fn schemas_match_the_golden_listing() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/schemas.txt");
    let actual = render_all();
    if std::env::var_os("PADDOCK_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &actual).expect("write the golden listing");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if actual == expected {
        return;
    }
    let old: Vec<&str> = expected.lines().collect();
    let new: Vec<&str> = actual.lines().collect();
    let removed: Vec<&str> = old.iter().filter(|l| !new.contains(l)).copied().collect();
    let added: Vec<&str> = new.iter().filter(|l| !old.contains(l)).copied().collect();
    let list = |lines: Vec<&str>| {
        if lines.is_empty() {
            "(none)".to_owned()
        } else {
            lines.join("\n  ")
        }
    };
    panic!(
        "the derived Arrow schemas differ from {}\n\
         columns no longer derived:\n  {}\n\
         columns derived but not in the listing:\n  {}\n\
         if a .proto change caused this, check that the new columns are what the \
         tables should hold, then regenerate the listing with\n  \
         PADDOCK_UPDATE_GOLDEN=1 cargo test -p paddock-sink --test schema\n\
         and commit it with the proto change",
        path.display(),
        list(removed),
        list(added),
    );
}
