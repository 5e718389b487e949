//! The records, the two schemas and the batches, checked against each
//! other and through a Parquet file.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampMicrosecondType, TimestampSecondType, UInt64Type};
use arrow_array::{Array, RecordBatch, StructArray};
use arrow_schema::{DataType, Field};
use base64::Engine;
use bytes::Bytes;
use chrono::{TimeZone, Utc};
use paddock_proto::v1::{
    AnalysisStatus, Command, Comment, DnsQuery, DynamicResult, Ecosystem, EscapedString,
    FileAccess, FileFacts, FileSignals, FloatLiteral, Identifier, IdentifierKind, IntLiteral,
    Language, PackageRef, ParseFacts, Phase, PhaseResult, Socket, SocketOp, StaticResult,
    StringLiteral, SuspiciousIdentifier, SuspiciousIdentifierRule, ValueCount,
};
use paddock_proto::well_known::Timestamp;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use prost::Message;
use serde_json::{json, Value};

use super::*;
use crate::row::{Output, ReferenceTable, Row, RowBody};
use crate::SinkError;

const CREATED: i64 = 1_795_305_600; // 2026-11-22T00:00:00Z

fn phase(phase: Phase, status: AnalysisStatus) -> PhaseResult {
    PhaseResult {
        phase: phase as i32,
        status: status as i32,
        ..Default::default()
    }
}

fn dynamic_result() -> DynamicResult {
    let mut install = phase(Phase::Install, AnalysisStatus::Completed);
    install.stdout_tail = b"added 1 package\n\xff\x00".to_vec();
    install.stderr_tail = b"npm warn deprecated\n".to_vec();
    install.files = vec![
        FileAccess {
            path: "/app/node_modules/left-pad/index.js".into(),
            read: true,
            ..Default::default()
        },
        FileAccess {
            path: "/root/.npmrc".into(),
            read: true,
            write: true,
            delete: true,
            ..Default::default()
        },
    ];
    install.sockets = vec![
        Socket {
            op: SocketOp::Connect as i32,
            address: "198.51.100.7".into(),
            port: 443,
            hostnames: vec!["exfil.example".into()],
            ..Default::default()
        },
        Socket {
            op: SocketOp::Bind as i32,
            address: "0.0.0.0".into(),
            port: 8080,
            ..Default::default()
        },
    ];
    install.dns = vec![DnsQuery {
        hostname: "exfil.example".into(),
        types: vec!["A".into(), "AAAA".into()],
        class: "IN".into(),
        ..Default::default()
    }];
    install.commands = vec![Command {
        argv: vec!["sh".into(), "-c".into(), "node install.js".into()],
        env: vec!["PATH=/usr/bin".into(), "HOME=/root".into()],
        ..Default::default()
    }];
    let mut import = phase(Phase::Import, AnalysisStatus::ErrorTimeout);
    import.stdout_tail = vec![b'x'; 10_000];
    DynamicResult {
        package: Some(PackageRef {
            ecosystem: Ecosystem::Npm as i32,
            name: "left-pad".into(),
            version: "1.3.0".into(),
        }),
        created_at: Some(Timestamp {
            seconds: CREATED,
            nanos: 250_000_000,
        }),
        phases: vec![
            install,
            import,
            phase(Phase::Execute, AnalysisStatus::Skipped),
        ],
        status: AnalysisStatus::Completed as i32,
        ..Default::default()
    }
}

fn static_result() -> StaticResult {
    let js = FileFacts {
        path: "lib/index.js".into(),
        detected_type: "JavaScript source, ASCII text".into(),
        size: 1234,
        sha256: "ab".repeat(32),
        line_lengths: vec![ValueCount {
            value: 12,
            count: 3,
        }],
        language: Language::Javascript as i32,
        parse: Some(ParseFacts {
            identifiers: vec![
                Identifier {
                    name: "_0x3f2a".into(),
                    kind: IdentifierKind::Variable as i32,
                    entropy: 2.5,
                    line: 1,
                },
                // Not one of the reference's five types: left out.
                Identifier {
                    name: "member".into(),
                    kind: IdentifierKind::Member as i32,
                    ..Default::default()
                },
            ],
            string_literals: vec![StringLiteral {
                value: "https://exfil.example/c".into(),
                raw: "'https://exfil.example/c'".into(),
                entropy: 3.9,
                line: 2,
            }],
            int_literals: vec![IntLiteral {
                value: -42,
                raw: "-42".into(),
                line: 3,
            }],
            float_literals: vec![
                FloatLiteral {
                    value: 1.5,
                    raw: "1.5".into(),
                    line: 4,
                },
                FloatLiteral {
                    value: f64::INFINITY,
                    raw: "1e999".into(),
                    line: 5,
                },
            ],
            comments: vec![Comment {
                text: "// héllo \u{202e} 🐍".into(),
                line: 6,
            }],
            identifier_lengths: vec![ValueCount { value: 7, count: 1 }],
            string_lengths: vec![ValueCount {
                value: 23,
                count: 1,
            }],
            ..Default::default()
        }),
        signals: Some(FileSignals {
            base64_strings: vec!["aGVsbG8gd29ybGQ=".into()],
            hex_strings: vec!["deadbeefcafe".into()],
            ip_addresses: vec!["198.51.100.7".into()],
            urls: vec!["https://exfil.example/c".into()],
            suspicious_identifiers: vec![SuspiciousIdentifier {
                name: "_0x3f2a".into(),
                rule: SuspiciousIdentifierRule::Hex as i32,
            }],
            escaped_strings: vec![EscapedString {
                value: "eval".into(),
                raw: "'\\x65val'".into(),
                levenshtein_dist: 3,
            }],
            ..Default::default()
        }),
        ..Default::default()
    };
    let readme = FileFacts {
        path: "README.md".into(),
        detected_type: "ASCII text".into(),
        size: 10,
        sha256: "cd".repeat(32),
        language: Language::Unspecified as i32,
        ..Default::default()
    };
    StaticResult {
        package: Some(PackageRef {
            ecosystem: Ecosystem::Npm as i32,
            name: "left-pad".into(),
            version: "1.3.0".into(),
        }),
        created_at: Some(Timestamp {
            seconds: CREATED,
            nanos: 123_456_000,
        }),
        files: vec![js, readme],
        ..Default::default()
    }
}

fn row(table: ReferenceTable, sequence: u64, record: Value) -> Row {
    Row {
        output: Output::Reference(table),
        ecosystem: "npm".into(),
        published: Utc.timestamp_opt(CREATED + 60, 5_000).unwrap(),
        stream: "PADDOCK_RESULTS".into(),
        sequence,
        msg_id: format!("msg-{sequence}"),
        body: RowBody::Json(record),
    }
}

fn batch_of(table: ReferenceTable, records: Vec<Value>) -> Result<RecordBatch, SinkError> {
    let rows: Vec<Row> = records
        .into_iter()
        .enumerate()
        .map(|(i, r)| row(table, i as u64 + 1, r))
        .collect();
    let refs: Vec<&Row> = rows.iter().collect();
    to_record_batch(table, &refs)
}

/// Writes `batch` to an in-memory Parquet file and reads it back.
fn parquet_round_trip(batch: &RecordBatch) -> RecordBatch {
    let mut file = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut file, batch.schema(), None).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(file))
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    assert_eq!(batches.len(), 1);
    batches.into_iter().next().unwrap()
}

fn child<'a>(parent: &'a StructArray, name: &str) -> &'a Arc<dyn Array> {
    parent
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

fn top<'a>(batch: &'a RecordBatch, name: &str) -> &'a Arc<dyn Array> {
    batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// The struct values of list `array`'s row `row`.
fn list_items(array: &Arc<dyn Array>, row: usize) -> StructArray {
    array.as_list::<i32>().value(row).as_struct().clone()
}

#[test]
fn a_dynamic_record_survives_parquet() {
    let record = dynamic_record(&dynamic_result());
    let batch = batch_of(ReferenceTable::Analysis, vec![record]).unwrap();
    assert_eq!(batch.schema(), arrow_schema(ReferenceTable::Analysis));
    let read = parquet_round_trip(&batch);
    assert_eq!(read.schema(), arrow_schema(ReferenceTable::Analysis));
    assert_eq!(read.num_rows(), 1);

    let package = top(&read, "Package").as_struct();
    assert_eq!(
        child(package, "Name").as_string::<i32>().value(0),
        "left-pad"
    );
    assert_eq!(
        child(package, "Ecosystem").as_string::<i32>().value(0),
        "npm"
    );
    let created = top(&read, "CreatedTimestamp").as_primitive::<TimestampSecondType>();
    assert_eq!(created.value(0), CREATED);

    let analysis = top(&read, "Analysis").as_struct();
    let install = child(analysis, "install").as_struct();
    assert_eq!(
        child(install, "Status").as_string::<i32>().value(0),
        "completed"
    );
    assert_eq!(
        child(install, "Stdout").as_binary::<i32>().value(0),
        b"added 1 package\n\xff\x00"
    );
    let stderr = child(install, "Stderr").as_string::<i32>().value(0);
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(stderr)
            .unwrap(),
        b"npm warn deprecated\n"
    );
    let dns = list_items(child(install, "DNS"), 0);
    assert_eq!(child(&dns, "Class").as_string::<i32>().value(0), "IN");
    let queries = list_items(child(&dns, "Queries"), 0);
    assert_eq!(
        child(&queries, "Hostname").as_string::<i32>().value(0),
        "exfil.example"
    );
    let files = list_items(child(install, "Files"), 0);
    assert_eq!(files.len(), 2);
    assert_eq!(
        child(&files, "Path").as_string::<i32>().value(1),
        "/root/.npmrc"
    );
    assert!(child(&files, "Delete").as_boolean().value(1));
    let sockets = list_items(child(install, "Sockets"), 0);
    assert_eq!(sockets.len(), 1, "the bind is not a reference socket");
    assert_eq!(
        child(&sockets, "Port").as_primitive::<Int64Type>().value(0),
        443
    );
    let commands = list_items(child(install, "Commands"), 0);
    let argv = child(&commands, "Command").as_list::<i32>().value(0);
    assert_eq!(argv.as_string::<i32>().value(2), "node install.js");

    let import = child(analysis, "import").as_struct();
    assert_eq!(
        child(import, "Status").as_string::<i32>().value(0),
        "error_timeout"
    );
    assert_eq!(
        child(import, "Stdout").as_binary::<i32>().value(0).len(),
        4096
    );
    assert!(child(analysis, "execute").is_null(0), "skipped: left out");

    assert_eq!(top(&read, "_msg_id").as_string::<i32>().value(0), "msg-1");
    assert_eq!(
        top(&read, "_stream_sequence")
            .as_primitive::<UInt64Type>()
            .value(0),
        1
    );
    assert_eq!(
        top(&read, "_published")
            .as_primitive::<TimestampMicrosecondType>()
            .value(0),
        (CREATED + 60) * 1_000_000 + 5
    );
}

#[test]
fn a_static_record_survives_parquet() {
    let message = static_result().encode_to_vec();
    let record = record_for(ReferenceTable::StaticAnalysis, &message).unwrap();
    assert_eq!(record["created"], "2026-11-22T00:00:00.123456Z");
    let batch = batch_of(ReferenceTable::StaticAnalysis, vec![record]).unwrap();
    let read = parquet_round_trip(&batch);
    assert_eq!(read.schema(), arrow_schema(ReferenceTable::StaticAnalysis));

    assert_eq!(
        top(&read, "schema_version").as_string::<i32>().value(0),
        "1.0"
    );
    assert_eq!(top(&read, "name").as_string::<i32>().value(0), "left-pad");
    assert_eq!(
        top(&read, "created")
            .as_primitive::<TimestampMicrosecondType>()
            .value(0),
        CREATED * 1_000_000 + 123_456
    );
    let results = top(&read, "results").as_struct();
    let files = list_items(child(results, "files"), 0);
    let names = child(&files, "filename").as_string::<i32>();
    assert_eq!(names.value(0), "README.md", "lexical order");
    assert_eq!(names.value(1), "lib/index.js");
    assert!(child(&files, "js").is_null(0), "no js block for markdown");
    assert!(child(&files, "urls").is_null(0));
    assert_eq!(
        child(&files, "size").as_primitive::<Int64Type>().value(1),
        1234
    );

    let js = child(&files, "js").as_struct().slice(1, 1);
    let identifiers = list_items(child(&js, "identifiers"), 0);
    assert_eq!(identifiers.len(), 1, "only the reference's five types");
    assert_eq!(
        child(&identifiers, "name").as_string::<i32>().value(0),
        "_0x3f2a"
    );
    assert_eq!(
        child(&identifiers, "type").as_string::<i32>().value(0),
        "Variable"
    );
    let floats = list_items(child(&js, "float_literals"), 0);
    let values = child(&floats, "value").as_primitive::<arrow_array::types::Float64Type>();
    assert_eq!((values.value(0), values.value(1)), (1.5, 0.0));
    let comments = list_items(child(&js, "comments"), 0);
    assert_eq!(
        child(&comments, "text").as_string::<i32>().value(0),
        "// héllo \u{202e} 🐍"
    );
    let urls = child(&files, "urls").as_list::<i32>().value(1);
    assert_eq!(urls.as_string::<i32>().value(0), "https://exfil.example/c");
    let escaped = list_items(&child(&files, "escaped_strings").slice(1, 1), 0);
    assert_eq!(
        child(&escaped, "levenshtein_dist")
            .as_primitive::<Int64Type>()
            .value(0),
        3
    );
}

#[test]
fn record_for_decodes_dynamic_results_and_refuses_garbage() {
    let message = dynamic_result().encode_to_vec();
    let record = record_for(ReferenceTable::Analysis, &message).unwrap();
    assert_eq!(record, dynamic_record(&dynamic_result()));
    assert_eq!(record["CreatedTimestamp"], CREATED);
    assert!(record_for(ReferenceTable::Analysis, &[0xff, 0xff, 0xff]).is_err());
}

#[test]
fn created_is_rfc3339_utc_and_out_of_range_is_refused() {
    let mut result = StaticResult::default();
    assert_eq!(created(&result), "1970-01-01T00:00:00Z");
    result.created_at = Some(Timestamp {
        seconds: CREATED,
        nanos: 0,
    });
    assert_eq!(created(&result), "2026-11-22T00:00:00Z");
    for (seconds, nanos) in [(i64::MAX, 0), (CREATED, -1), (300_000_000_000, 0)] {
        result.created_at = Some(Timestamp { seconds, nanos });
        let record = static_record(&result, &created(&result));
        let err = batch_of(ReferenceTable::StaticAnalysis, vec![record]).unwrap_err();
        assert!(
            matches!(&err, SinkError::Value { row: 0, path, .. } if path == "created"),
            "{err}"
        );
    }
}

/// Walks the BigQuery fields and the Arrow fields side by side.
fn same_columns(bq: &[Value], arrow: &[Arc<Field>], path: &str) {
    let bq_names: Vec<&str> = bq.iter().map(|f| f["name"].as_str().unwrap()).collect();
    let arrow_names: Vec<&str> = arrow.iter().map(|f| f.name().as_str()).collect();
    assert_eq!(bq_names, arrow_names, "at {path}");
    for (b, a) in bq.iter().zip(arrow) {
        let here = format!("{path}.{}", a.name());
        let mode = b["mode"].as_str().unwrap();
        let data_type = match (mode, a.data_type()) {
            ("REPEATED", DataType::List(item)) => {
                assert!(a.is_nullable() && !item.is_nullable(), "at {here}");
                item.data_type()
            }
            ("REPEATED", other) => panic!("at {here}: REPEATED as {other}"),
            ("REQUIRED", t) => {
                assert!(!a.is_nullable(), "at {here}");
                t
            }
            ("NULLABLE", t) => {
                assert!(a.is_nullable(), "at {here}");
                t
            }
            (other, _) => panic!("at {here}: mode {other}"),
        };
        match (b["type"].as_str().unwrap(), data_type) {
            ("RECORD", DataType::Struct(children)) => {
                same_columns(b["fields"].as_array().unwrap(), children, &here)
            }
            ("STRING", DataType::Utf8)
            | ("BYTES", DataType::Binary)
            | ("INTEGER", DataType::Int64 | DataType::UInt64)
            | ("FLOAT", DataType::Float64)
            | ("BOOLEAN", DataType::Boolean)
            | ("TIMESTAMP", DataType::Timestamp(_, Some(_))) => {}
            (t, d) => panic!("at {here}: BigQuery {t} as Arrow {d}"),
        }
    }
}

#[test]
fn bigquery_and_arrow_name_the_same_columns_in_the_same_order() {
    for table in [ReferenceTable::Analysis, ReferenceTable::StaticAnalysis] {
        let bq = bigquery_fields(table);
        let schema = arrow_schema(table);
        same_columns(bq.as_array().unwrap(), schema.fields(), table.table_name());
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(
            names[names.len() - 3..],
            ["_msg_id", "_stream_sequence", "_published"]
        );
        assert!(names.contains(&partition_column(table)));
    }
}

#[test]
fn the_bigquery_schemas_are_the_reference_loaders() {
    let analysis = bigquery_fields(ReferenceTable::Analysis);
    let phase = &analysis[2]["fields"][0];
    assert_eq!(analysis[0]["fields"][1]["name"], "Version");
    assert_eq!(
        analysis[1],
        json!({"name": "CreatedTimestamp", "type": "TIMESTAMP", "mode": "NULLABLE"})
    );
    assert_eq!(phase["name"], "install");
    assert_eq!(
        phase["fields"][1],
        json!({"name": "Stdout", "type": "BYTES", "mode": "NULLABLE"})
    );
    assert_eq!(
        phase["fields"][2],
        json!({"name": "Stderr", "type": "STRING", "mode": "NULLABLE"})
    );
    assert_eq!(analysis[2]["fields"][2]["name"], "execute");

    let statics = bigquery_fields(ReferenceTable::StaticAnalysis);
    assert_eq!(
        statics[0],
        json!({"name": "schema_version", "type": "STRING", "mode": "REQUIRED"})
    );
    assert_eq!(
        statics[4],
        json!({"name": "created", "type": "TIMESTAMP", "mode": "REQUIRED"})
    );
    let file = &statics[5]["fields"][0]["fields"];
    assert_eq!(
        file[2],
        json!({"name": "size", "type": "INTEGER", "mode": "NULLABLE"})
    );
    assert_eq!(
        file[13],
        json!({"name": "urls", "type": "STRING", "mode": "REPEATED"})
    );
    assert_eq!(
        statics[8],
        json!({"name": "_published", "type": "TIMESTAMP", "mode": "REQUIRED"})
    );
}

/// Every key of `record` is a field of `fields`, holding a JSON value of
/// the field's type (as BigQuery loads it).
fn fits(record: &Value, fields: &[Value], path: &str) {
    let object = record
        .as_object()
        .unwrap_or_else(|| panic!("{path}: not an object"));
    for (key, value) in object {
        let here = format!("{path}.{key}");
        let field = fields
            .iter()
            .find(|f| f["name"] == key.as_str())
            .unwrap_or_else(|| panic!("{here}: not in the BigQuery schema"));
        let values: Vec<&Value> = match (field["mode"].as_str().unwrap(), value) {
            ("REPEATED", Value::Array(items)) => items.iter().collect(),
            ("REPEATED", other) => panic!("{here}: REPEATED but {other}"),
            (_, value) => vec![value],
        };
        for value in values {
            match (field["type"].as_str().unwrap(), value) {
                ("RECORD", v) => fits(v, field["fields"].as_array().unwrap(), &here),
                ("STRING", Value::String(_))
                | ("BOOLEAN", Value::Bool(_))
                | ("FLOAT", Value::Number(_))
                | ("TIMESTAMP", Value::String(_) | Value::Number(_)) => {}
                ("BYTES", Value::String(s)) => {
                    base64::engine::general_purpose::STANDARD
                        .decode(s)
                        .unwrap_or_else(|e| panic!("{here}: not base64: {e}"));
                }
                ("INTEGER", Value::Number(n)) => {
                    assert!(n.is_i64(), "{here}: {n} is not an INT64")
                }
                (t, v) => panic!("{here}: {v} in a {t} column"),
            }
        }
    }
}

#[test]
fn the_records_have_no_key_the_bigquery_schema_lacks() {
    // All three phases run.
    let mut dynamic = dynamic_result();
    dynamic.phases[2].status = AnalysisStatus::ErrorLimit as i32;
    let record = dynamic_record(&dynamic);
    assert_eq!(record["Analysis"]["execute"]["Status"], "error_analysis");
    fits(
        &record,
        bigquery_fields(ReferenceTable::Analysis)
            .as_array()
            .unwrap(),
        "analysis",
    );
    let result = static_result();
    fits(
        &static_record(&result, &created(&result)),
        bigquery_fields(ReferenceTable::StaticAnalysis)
            .as_array()
            .unwrap(),
        "staticanalysis",
    );
    // And the empty results.
    fits(
        &dynamic_record(&DynamicResult::default()),
        bigquery_fields(ReferenceTable::Analysis)
            .as_array()
            .unwrap(),
        "analysis",
    );
    fits(
        &static_record(&StaticResult::default(), "1970-01-01T00:00:00Z"),
        bigquery_fields(ReferenceTable::StaticAnalysis)
            .as_array()
            .unwrap(),
        "staticanalysis",
    );
}

#[test]
fn no_rows_is_an_empty_batch_with_the_schema() {
    for table in [ReferenceTable::Analysis, ReferenceTable::StaticAnalysis] {
        let batch = to_record_batch(table, &[]).unwrap();
        assert_eq!(batch.num_rows(), 0);
        assert_eq!(batch.schema(), arrow_schema(table));
    }
}

#[test]
fn many_rows_keep_their_order() {
    let records: Vec<Value> = (0..2500)
        .map(|i| {
            let mut r = dynamic_result();
            r.package.as_mut().unwrap().name = format!("pkg-{i}");
            dynamic_record(&r)
        })
        .collect();
    let batch = batch_of(ReferenceTable::Analysis, records).unwrap();
    assert_eq!(batch.num_rows(), 2500);
    let names = child(top(&batch, "Package").as_struct(), "Name").as_string::<i32>();
    assert_eq!(names.value(0), "pkg-0");
    assert_eq!(names.value(2499), "pkg-2499");
    let sequences = top(&batch, "_stream_sequence").as_primitive::<UInt64Type>();
    assert_eq!(sequences.value(2499), 2500);
}

/// The error for `bad` as the second of two rows.
fn refusal(table: ReferenceTable, bad: Value) -> (usize, String, String) {
    let good = match table {
        ReferenceTable::Analysis => dynamic_record(&dynamic_result()),
        ReferenceTable::StaticAnalysis => static_record(&static_result(), "2026-11-22T00:00:00Z"),
    };
    match batch_of(table, vec![good, bad]) {
        Err(SinkError::Value {
            table: name,
            row,
            path,
            reason,
        }) => {
            assert_eq!(name, table.table_name());
            (row, path, reason)
        }
        other => panic!("expected a value error, got {other:?}"),
    }
}

#[test]
fn a_record_that_does_not_fit_names_its_row_and_column() {
    let analysis = ReferenceTable::Analysis;
    let base = dynamic_record(&dynamic_result());

    let mut bad = base.clone();
    bad["Analysis"]["install"]["Stdout"] = json!("not base64!");
    let (row, path, reason) = refusal(analysis, bad);
    assert_eq!((row, path.as_str()), (1, "Analysis.install.Stdout"));
    assert!(reason.contains("base64"), "{reason}");

    let mut bad = base.clone();
    bad["Analysis"]["install"]["Files"][1]["Read"] = json!("yes");
    let (_, path, reason) = refusal(analysis, bad);
    assert_eq!(path, "Analysis.install.Files[1].Read");
    assert!(reason.contains("BOOLEAN"), "{reason}");

    let mut bad = base.clone();
    bad["Analysis"]["postinstall"] = json!({});
    assert_eq!(refusal(analysis, bad).1, "Analysis.postinstall");

    let mut bad = base.clone();
    bad["CreatedTimestamp"] = json!(i64::MAX);
    assert_eq!(refusal(analysis, bad).1, "CreatedTimestamp");

    let mut bad = base.clone();
    bad["Analysis"]["install"]["Sockets"][0]["Port"] = json!(1.5);
    assert_eq!(refusal(analysis, bad).1, "Analysis.install.Sockets[0].Port");

    let mut bad = base.clone();
    bad["Analysis"]["install"]["DNS"][0]["Queries"][0]["Types"] = json!(["A", null]);
    assert_eq!(
        refusal(analysis, bad).1,
        "Analysis.install.DNS[0].Queries[0].Types[1]"
    );

    assert_eq!(refusal(analysis, json!([1, 2])).1, "the top level");

    let statics = ReferenceTable::StaticAnalysis;
    let base = static_record(&static_result(), "2026-11-22T00:00:00Z");

    let mut bad = base.clone();
    bad["results"]["files"][0]["size"] = json!(u64::MAX);
    let (_, path, reason) = refusal(statics, bad);
    assert_eq!(path, "results.files[0].size");
    assert!(reason.contains("INT64"), "{reason}");

    let mut bad = base.clone();
    bad["results"]["files"][1]["js"]["comments"][0] = json!({});
    assert_eq!(
        refusal(statics, bad).1,
        "results.files[1].js.comments[0].text"
    );

    let mut bad = base.clone();
    bad.as_object_mut().unwrap().remove("schema_version");
    assert_eq!(refusal(statics, bad).1, "schema_version");

    let mut bad = base.clone();
    bad["created"] = json!("yesterday");
    assert_eq!(refusal(statics, bad).1, "created");
}

#[test]
fn a_row_for_another_table_or_with_a_proto_body_is_refused() {
    let record = dynamic_record(&dynamic_result());
    let wrong_table = row(ReferenceTable::Analysis, 1, record.clone());
    let err = to_record_batch(ReferenceTable::StaticAnalysis, &[&wrong_table]).unwrap_err();
    assert_eq!((err.table(), err.row()), ("staticanalysis", Some(0)));

    let mut proto = row(ReferenceTable::Analysis, 1, record);
    proto.body = RowBody::Proto(Bytes::from_static(b"\x0a\x00"));
    let err = to_record_batch(ReferenceTable::Analysis, &[&proto]).unwrap_err();
    assert!(err.to_string().contains("protobuf"), "{err}");
}

#[test]
fn hostile_content_gives_a_row_or_an_error() {
    // Huge strings and odd unicode are rows.
    let mut result = dynamic_result();
    let install = &mut result.phases[0];
    install.files[0].path = format!("/tmp/{}", "\u{202e}\u{0}\u{feff}é🐍".repeat(400_000));
    install.dns[0].hostname = "\u{10ffff}.example".into();
    install.stdout_tail = vec![0xff; 1 << 20];
    install.commands[0].env = vec!["X".repeat(1 << 20); 8];
    let record = dynamic_record(&result);
    let batch = batch_of(ReferenceTable::Analysis, vec![record]).unwrap();
    let read = parquet_round_trip(&batch);
    let install = child(top(&read, "Analysis").as_struct(), "install").as_struct();
    let files = list_items(child(install, "Files"), 0);
    assert!(child(&files, "Path")
        .as_string::<i32>()
        .value(0)
        .ends_with("é🐍"));

    // Deep nesting under an unknown key or in a typed column is refused
    // without descending into it.
    let mut deep = json!("bottom");
    for _ in 0..1_000 {
        deep = json!({ "a": [deep] });
    }
    let mut bad = dynamic_record(&dynamic_result());
    bad["Analysis"]["install"]["Files"][0]["Path"] = deep.clone();
    assert_eq!(
        refusal(ReferenceTable::Analysis, bad).1,
        "Analysis.install.Files[0].Path"
    );
    let mut bad = dynamic_record(&dynamic_result());
    bad["Package"]["nested"] = deep;
    assert_eq!(refusal(ReferenceTable::Analysis, bad).1, "Package.nested");

    // Timestamps as text, fractional seconds, and at the edges of the range.
    for (value, expected) in [
        (json!("2026-11-22T01:00:00+01:00"), Some(CREATED)),
        (json!(1.9), Some(1)),
        (json!(-62_135_596_800i64), Some(-62_135_596_800)),
        (json!(-62_135_596_801i64), None),
        (json!(253_402_300_799i64), Some(253_402_300_799)),
        (json!(253_402_300_800i64), None),
        (json!(1e300), None),
        (json!(true), None),
    ] {
        let mut record = dynamic_record(&dynamic_result());
        record["CreatedTimestamp"] = value.clone();
        let got = batch_of(ReferenceTable::Analysis, vec![record])
            .ok()
            .map(|b| {
                top(&b, "CreatedTimestamp")
                    .as_primitive::<TimestampSecondType>()
                    .value(0)
            });
        assert_eq!(got, expected, "{value}");
    }
}

#[test]
fn the_gated_rerun_is_not_the_references_import() {
    let mut dynamic = dynamic_result();
    let plain = dynamic_record(&dynamic);
    let mut gated = phase(Phase::Import, AnalysisStatus::Completed);
    gated.variant = "gated".into();
    gated.exit_code = 77;
    dynamic.phases.push(gated);
    let record = dynamic_record(&dynamic);
    assert_eq!(record["Analysis"]["import"], plain["Analysis"]["import"]);
    assert!(!record["Analysis"]["import"].to_string().contains("77"));
}
