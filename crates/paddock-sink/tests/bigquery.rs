//! The BigQuery writer against the BigQuery emulator (`bqemulator`, see
//! `paddock_testkit::bigquery`): tables created from the protos, rows of
//! every table written and read back with SQL, refused rows isolated,
//! already-written rows found, and the client's schema evolution and
//! paging.

// The fixtures end in `..Default::default()` so that fields added to the
// protos later need no change here.
#![allow(clippy::needless_update)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use arrow_array::builder::{Int64Builder, MapBuilder, StringBuilder};
use arrow_array::{Array as _, RecordBatch};
use arrow_schema::{Field, Schema};
use bytes::Bytes;
use chrono::{DateTime, TimeZone, Utc};
use paddock_proto::v1;
use paddock_proto::well_known::{Duration as ProtoDuration, Timestamp};
use paddock_sink::bigquery::{
    bigquery_schema, record_batch_json, table_fields, BigQueryClient, BigQueryConfig,
    BigQueryWriter, Credentials,
};
use paddock_sink::row::{Disposition, Output, ReferenceTable, Row, RowBody, RowKey, Writer};
use paddock_sink::{tables, Table};
use paddock_testkit::bigquery::BqEmulator;
use prost::Message as _;
use prost_reflect::{DynamicMessage, ReflectMessage as _, Value as Reflect};
use serde_json::{json, Value};

fn config(bq: &BqEmulator, dataset: &str) -> BigQueryConfig {
    BigQueryConfig {
        dataset: dataset.to_owned(),
        endpoint: bq.endpoint().to_owned(),
        credentials: Credentials::None,
        retries: 2,
        retry_backoff: Duration::from_millis(10),
        ..BigQueryConfig::for_project(bq.project())
    }
}

async fn client(bq: &BqEmulator, dataset: &str) -> BigQueryClient {
    BigQueryClient::new(config(bq, dataset))
        .await
        .expect("a client for the emulator")
}

/// A writer on the emulator; a failure shows the emulator's log.
async fn start_writer(bq: &BqEmulator, config: BigQueryConfig) -> BigQueryWriter {
    BigQueryWriter::new(config).await.unwrap_or_else(|e| {
        panic!(
            "creating the writer: {e}\nthe emulator's log:\n{}",
            bq.log_tail()
        )
    })
}

fn published(sequence: u64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 7, 0, 0).unwrap()
        + chrono::Duration::microseconds(sequence as i64 * 1_000_001)
}

fn native(table: Table, sequence: u64, body: Vec<u8>) -> Row {
    Row {
        output: Output::Native(table),
        ecosystem: "npm".into(),
        published: published(sequence),
        stream: "PADDOCK".into(),
        sequence,
        msg_id: format!("msg-{sequence}"),
        body: RowBody::Proto(Bytes::from(body)),
    }
}

fn ts(seconds: i64, nanos: i32) -> Option<Timestamp> {
    Some(Timestamp { seconds, nanos })
}

fn package(name: &str) -> Option<v1::PackageRef> {
    Some(v1::PackageRef {
        ecosystem: v1::Ecosystem::Pypi as i32,
        name: name.into(),
        version: "2.0.1".into(),
        ..Default::default()
    })
}

/// A name that would break SQL or JSON built by pasting strings.
const HOSTILE: &str = "evil'\"`); DROP TABLE releases; -- \\ é☃";

fn release(name: &str) -> v1::Release {
    v1::Release {
        package: package(name),
        published_at: ts(1_767_225_600, 123_456_000),
        discovered_at: ts(1_767_225_660, 0),
        source: v1::FeedSource::Watchlist as i32,
        feed_name: "pypi-changes".into(),
        artifacts: vec![
            v1::Artifact {
                filename: "pkg-2.0.1.tar.gz".into(),
                size: 12_345,
                sha256: "ab".repeat(32),
                registry_digests: vec![
                    v1::RegistryDigest {
                        algorithm: "md5".into(),
                        value: "00ff".into(),
                        ..Default::default()
                    },
                    v1::RegistryDigest {
                        algorithm: "blake2b_256".into(),
                        value: "ee".into(),
                        ..Default::default()
                    },
                ],
                kind: v1::ArtifactKind::Sdist as i32,
                ..Default::default()
            },
            v1::Artifact {
                filename: "pkg-2.0.1-py3-none-any.whl".into(),
                size: 999,
                kind: v1::ArtifactKind::Wheel as i32,
                ..Default::default()
            },
        ],
        selected_artifact: 1,
        prerelease: true,
        ..Default::default()
    }
}

fn static_result() -> v1::StaticResult {
    v1::StaticResult {
        package: package("static-pkg"),
        created_at: ts(1_767_300_000, 1_000),
        status: v1::AnalysisStatus::Completed as i32,
        files: vec![v1::FileFacts {
            path: "setup.py".into(),
            size: 42,
            language: v1::Language::Python as i32,
            parse: Some(v1::ParseFacts {
                identifiers: vec![v1::Identifier {
                    name: "exec".into(),
                    entropy: 1.5,
                    line: 3,
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }],
        findings: vec![v1::Finding {
            rule_id: "threat.exec-decoded-base64".into(),
            severity: v1::Severity::High as i32,
            confidence: 0.9,
            tags: vec!["exec".into(), "base64".into()],
            evidence: vec![v1::Evidence {
                file: "setup.py".into(),
                line: 3,
                snippet: "exec(b64decode(...))".into(),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn dynamic_result() -> v1::DynamicResult {
    let mut result = common::realistic_dynamic_result(1);
    result.phases[0].duration = Some(ProtoDuration {
        seconds: 3,
        nanos: 250_000_000,
    });
    result.phases[0].stdout_tail = vec![0xff, 0x00, b'o', b'k'];
    result
}

fn verdict() -> v1::Verdict {
    v1::Verdict {
        package: package("verdict-pkg"),
        created_at: ts(1_767_400_000, 0),
        severity: v1::Severity::Critical as i32,
        score: 97.5,
        reasons: vec![v1::Reason {
            source: "finding".into(),
            code: "threat.exec-decoded-base64".into(),
            weight: 0.75,
            severity: v1::Severity::High as i32,
            ..Default::default()
        }],
        run_ids: vec!["run-1".into(), "run-2".into()],
        ..Default::default()
    }
}

fn alert() -> v1::Alert {
    v1::Alert {
        alert_id: "alert-1".into(),
        package: package("alert-pkg"),
        severity: v1::Severity::Critical as i32,
        created_at: ts(1_767_400_001, 0),
        summary: "pypi alert-pkg@2.0.1 runs decoded code at install".into(),
        verdict: Some(verdict()),
        ..Default::default()
    }
}

async fn select(client: &BigQueryClient, table: &str, columns: &str) -> Vec<Value> {
    let sql = format!(
        "SELECT {columns} FROM {} ORDER BY _stream_sequence",
        client.table_ref(table).unwrap()
    );
    client.query(&sql).await.unwrap()
}

/// Microseconds since the epoch, as the emulator returns TIMESTAMPs.
fn micros(seconds: i64, micros: i64) -> Value {
    Value::String((seconds * 1_000_000 + micros).to_string())
}

#[tokio::test]
async fn rows_of_every_table_round_trip() {
    let bq = BqEmulator::start().await;
    let mut cfg = config(&bq, "paddock");
    cfg.reference_tables = true;
    let mut writer = start_writer(&bq, cfg).await;
    let client = client(&bq, "paddock").await;
    for table in [
        "releases",
        "static_results",
        "dynamic_results",
        "verdicts",
        "alerts",
    ] {
        let schema = client.table_schema(table).await.unwrap().expect(table);
        let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            &names[names.len() - 3..],
            ["_msg_id", "_stream_sequence", "_published"]
        );
    }
    assert!(client.table_schema("analysis").await.unwrap().is_some());

    let dynamic = dynamic_result();
    let rows = vec![
        native(Table::Releases, 1, release("requests").encode_to_vec()),
        native(Table::Releases, 2, release(HOSTILE).encode_to_vec()),
        native(Table::StaticResults, 3, static_result().encode_to_vec()),
        native(Table::DynamicResults, 4, dynamic.encode_to_vec()),
        native(Table::Verdicts, 5, verdict().encode_to_vec()),
        native(Table::Alerts, 6, alert().encode_to_vec()),
        Row {
            output: Output::Reference(ReferenceTable::Analysis),
            body: RowBody::Json(paddock_sink::reference::dynamic_record(&dynamic)),
            ..native(Table::DynamicResults, 4, Vec::new())
        },
    ];
    let dispositions = writer.write(rows).await.unwrap();
    assert_eq!(dispositions, vec![Disposition::Written; 7]);

    let releases = select(
        &client,
        "releases",
        "package, published_at, source, artifacts, selected_artifact, prerelease, yanked, \
         _msg_id, _stream_sequence, _published",
    )
    .await;
    assert_eq!(releases.len(), 2);
    let r = &releases[0];
    assert_eq!(
        r["package"],
        json!({"ecosystem": "ECOSYSTEM_PYPI", "name": "requests", "version": "2.0.1"})
    );
    assert_eq!(r["published_at"], micros(1_767_225_600, 123_456));
    assert_eq!(r["source"], "FEED_SOURCE_WATCHLIST");
    assert_eq!(r["selected_artifact"], "1");
    assert_eq!(r["prerelease"], "true");
    assert_eq!(r["yanked"], "false");
    assert_eq!(r["artifacts"][0]["size"], "12345");
    assert_eq!(r["artifacts"][0]["kind"], "ARTIFACT_KIND_SDIST");
    assert_eq!(
        r["artifacts"][0]["registry_digests"],
        json!([{"algorithm": "md5", "value": "00ff"}, {"algorithm": "blake2b_256", "value": "ee"}])
    );
    assert_eq!(r["artifacts"][1]["registry_digests"], json!([]));
    assert_eq!(r["_msg_id"], "msg-1");
    assert_eq!(r["_stream_sequence"], "1");
    assert_eq!(
        r["_published"],
        Value::String(published(1).timestamp_micros().to_string())
    );
    assert_eq!(releases[1]["package"]["name"], HOSTILE);

    let statics = select(
        &client,
        "static_results",
        "package.name AS name, created_at, files, findings",
    )
    .await;
    assert_eq!(statics[0]["name"], "static-pkg");
    assert_eq!(statics[0]["created_at"], micros(1_767_300_000, 1));
    assert_eq!(
        statics[0]["files"][0]["parse"]["identifiers"][0]["name"],
        "exec"
    );
    assert_eq!(
        statics[0]["files"][0]["parse"]["identifiers"][0]["entropy"],
        "1.5"
    );
    let finding = &statics[0]["findings"][0];
    assert_eq!(finding["severity"], "SEVERITY_HIGH");
    assert_eq!(finding["confidence"], "0.9");
    assert_eq!(finding["tags"], json!(["exec", "base64"]));
    assert_eq!(finding["evidence"][0]["snippet"], "exec(b64decode(...))");

    let dynamics = select(&client, "dynamic_results", "package, phases").await;
    let phase = &dynamics[0]["phases"][0];
    assert_eq!(
        dynamics[0]["package"]["name"],
        dynamic.package.as_ref().unwrap().name
    );
    // Bytes as base64, durations as microseconds.
    assert_eq!(phase["stdout_tail"], "/wBvaw==");
    assert_eq!(phase["duration"], "3250000");
    assert_eq!(
        phase["commands"][0]["argv"],
        json!(["sh", "-c", "node install.js --step 0"])
    );
    assert_eq!(phase["dns"][0]["types"], json!(["A", "AAAA"]));
    assert_eq!(
        phase["sockets"].as_array().unwrap().len(),
        dynamic.phases[0].sockets.len()
    );

    let verdicts = select(&client, "verdicts", "severity, score, reasons, run_ids").await;
    assert_eq!(verdicts[0]["severity"], "SEVERITY_CRITICAL");
    assert_eq!(verdicts[0]["score"], "97.5");
    assert_eq!(verdicts[0]["reasons"][0]["weight"], "0.75");
    assert_eq!(verdicts[0]["run_ids"], json!(["run-1", "run-2"]));

    let alerts = select(&client, "alerts", "alert_id, verdict, change").await;
    assert_eq!(alerts[0]["alert_id"], "alert-1");
    assert_eq!(alerts[0]["verdict"]["package"]["name"], "verdict-pkg");
    assert_eq!(alerts[0]["change"], Value::Null);

    let analysis = select(&client, "analysis", "Package, _stream_sequence").await;
    assert_eq!(
        analysis[0]["Package"]["Name"],
        dynamic.package.as_ref().unwrap().name
    );
    assert_eq!(analysis[0]["_stream_sequence"], "4");
}

/// Every column of every table, as generated by the round-trip fixtures:
/// what BigQuery returns equals what was sent, value for value.
#[tokio::test]
async fn every_column_holds_what_was_sent() {
    let bq = BqEmulator::start().await;
    let mut writer = start_writer(&bq, config(&bq, "paddock")).await;
    let client = client(&bq, "paddock").await;
    let mut sequence = 0;
    for table in tables() {
        let mut rows = Vec::new();
        for mut message in common::samples(table) {
            // BigQuery's INTEGER is 64-bit signed; the refusal of larger
            // values is tested below.
            clamp_u64(&mut message);
            sequence += 1;
            rows.push(native(table, sequence, message.encode_to_vec()));
        }
        let sent = paddock_sink::bigquery::json_rows(table, &rows);
        let dispositions = writer.write(rows).await.unwrap();
        assert!(
            dispositions.iter().all(|d| *d == Disposition::Written),
            "{table}: {dispositions:?}"
        );
        let fields = table_fields(table);
        let stored = select(&client, table.table_name(), "*").await;
        assert_eq!(stored.len(), sent.len(), "{table}");
        for (index, (sent, stored)) in sent.iter().zip(&stored).enumerate() {
            let sent = sent.as_ref().unwrap();
            let expected = canonical_row(&fields, sent);
            let actual = canonical_row(&fields, stored);
            if let Some(difference) = first_difference("", &expected, &actual) {
                panic!("{table} row {index}: {difference}");
            }
        }
    }
}

fn clamp_u64(message: &mut DynamicMessage) {
    fn value(v: &mut Reflect) {
        match v {
            Reflect::U64(n) if *n > i64::MAX as u64 => *n = i64::MAX as u64,
            Reflect::Message(m) => clamp_u64(m),
            Reflect::List(items) => items.iter_mut().for_each(value),
            Reflect::Map(map) => map.values_mut().for_each(value),
            _ => {}
        }
    }
    let fields: Vec<_> = message.descriptor().fields().collect();
    for field in fields {
        if message.has_field(&field) {
            value(message.get_field_mut(&field));
        }
    }
}

/// A row in one representation whatever its source (the JSON sent, or
/// the query's result): integers and timestamps as decimal strings
/// (timestamps in microseconds), floats as their `f64` debug text,
/// booleans as booleans, absent REPEATED columns as empty arrays, absent
/// scalars and RECORDs as null.
fn canonical_row(fields: &Value, row: &Value) -> Value {
    Value::Object(
        fields
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let name = f["name"].as_str().unwrap();
                (name.to_owned(), canonical(f, row.get(name)))
            })
            .collect(),
    )
}

fn canonical(field: &Value, value: Option<&Value>) -> Value {
    let value = value.unwrap_or(&Value::Null);
    if field["mode"] == "REPEATED" {
        return Value::Array(
            value
                .as_array()
                .into_iter()
                .flatten()
                .map(|item| canonical_single(field, item))
                .collect(),
        );
    }
    canonical_single(field, value)
}

fn canonical_single(field: &Value, value: &Value) -> Value {
    if value.is_null() {
        return Value::Null;
    }
    let text = || match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match field["type"].as_str().unwrap() {
        "RECORD" => canonical_row(&field["fields"], value),
        "INTEGER" => Value::String(text().parse::<i128>().unwrap().to_string()),
        "FLOAT" => {
            let parsed: f64 = match text().as_str() {
                "Infinity" => f64::INFINITY,
                "-Infinity" => f64::NEG_INFINITY,
                other => other.parse().unwrap(),
            };
            Value::String(format!("{parsed:?}"))
        }
        "BOOLEAN" => Value::Bool(value == &Value::Bool(true) || value == "true"),
        "TIMESTAMP" => Value::String(match DateTime::parse_from_rfc3339(&text()) {
            Ok(time) => time.timestamp_micros().to_string(),
            Err(_) => text(),
        }),
        _ => value.clone(),
    }
}

fn first_difference(path: &str, expected: &Value, actual: &Value) -> Option<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e.iter().find_map(|(k, v)| {
            first_difference(&format!("{path}.{k}"), v, a.get(k).unwrap_or(&Value::Null))
        }),
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
            .iter()
            .zip(a)
            .enumerate()
            .find_map(|(i, (e, a))| first_difference(&format!("{path}[{i}]"), e, a)),
        (e, a) if e == a => None,
        (e, a) => Some(format!("{path}: sent {e}, stored {a}")),
    }
}

#[tokio::test]
async fn refused_rows_are_rejected_and_the_others_written() {
    let bq = BqEmulator::start().await;
    let mut writer = start_writer(&bq, config(&bq, "paddock")).await;
    let client = client(&bq, "paddock").await;

    let mut year_10000 = release("year-10000");
    year_10000.published_at = ts(253_402_300_800, 0);
    let mut too_big = release("too-big");
    too_big.artifacts[0].size = u64::MAX;
    let rows = vec![
        native(Table::Releases, 1, release("a").encode_to_vec()),
        native(Table::Releases, 2, year_10000.encode_to_vec()),
        native(Table::Releases, 3, release("b").encode_to_vec()),
        native(Table::Releases, 4, too_big.encode_to_vec()),
        native(Table::Releases, 5, release("c").encode_to_vec()),
        native(Table::Verdicts, 6, verdict().encode_to_vec()),
        native(Table::Releases, 7, release("d").encode_to_vec()),
    ];
    let dispositions = writer.write(rows).await.unwrap();
    let written: Vec<bool> = dispositions
        .iter()
        .map(|d| *d == Disposition::Written)
        .collect();
    assert_eq!(
        written,
        [true, false, true, false, true, true, true],
        "{dispositions:?}"
    );
    let Disposition::Rejected(reason) = &dispositions[1] else {
        unreachable!()
    };
    assert!(
        reason.contains("column published_at") && reason.contains("out of range"),
        "{reason}"
    );
    let Disposition::Rejected(reason) = &dispositions[3] else {
        unreachable!()
    };
    assert!(
        reason.starts_with(
            "releases: bigquery refused the insert request holding only this row: http 500"
        ),
        "{reason}"
    );
    let stored = select(&client, "releases", "package.name AS name").await;
    let names: Vec<&str> = stored.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a", "b", "c", "d"]);

    // A value our conversion accepts but BigQuery does not: BigQuery's
    // per-row refusal, with the others in the request stored.
    let good = json!({"_msg_id": "x", "_stream_sequence": "100",
        "_published": "2026-11-22T07:00:00.000000Z", "feed_name": "ok"});
    let mut bad = good.clone();
    bad["published_at"] = json!("+10000-01-01T00:00:00.000000Z");
    bad["_stream_sequence"] = json!("101");
    let outcomes = client
        .insert_all("releases", &[("i-100".into(), good), ("i-101".into(), bad)])
        .await
        .unwrap();
    assert_eq!(outcomes[0], Ok(()));
    let reason = outcomes[1].as_ref().unwrap_err();
    assert!(
        reason.starts_with("bigquery refused the row: invalid"),
        "{reason}"
    );
    // (The emulator names the first column of the row as the location, not
    // the one at fault.)

    // Every request failing with 500 is an outage, not bad rows: an error,
    // nothing rejected.
    let overflow = |seq: u64| {
        json!({"_msg_id": "o", "_stream_sequence": u64::MAX.to_string(),
               "_published": "2026-11-22T07:00:00Z", "feed_name": seq.to_string()})
    };
    let error = client
        .insert_all(
            "releases",
            &[("o-1".into(), overflow(1)), ("o-2".into(), overflow(2))],
        )
        .await
        .unwrap_err();
    assert!(error.to_string().contains("that is an outage"), "{error}");
}

#[tokio::test]
async fn already_written_finds_earlier_rows_only() {
    let bq = BqEmulator::start().await;
    let mut writer = start_writer(&bq, config(&bq, "dedupe")).await;
    let rows: Vec<Row> = (1..=5)
        .map(|seq| {
            native(
                Table::Releases,
                seq,
                release(&format!("p{seq}")).encode_to_vec(),
            )
        })
        .chain([native(Table::Verdicts, 6, verdict().encode_to_vec())])
        .collect();
    let dispositions = writer.write(rows.clone()).await.unwrap();
    assert!(dispositions.iter().all(|d| *d == Disposition::Written));

    // A second writer on the same dataset: ensuring again changes nothing.
    let mut second = start_writer(&bq, config(&bq, "dedupe")).await;

    let mut candidates: Vec<Row> = (1..=8)
        .map(|seq| native(Table::Releases, seq, Vec::new()))
        .collect();
    candidates.push(native(Table::Verdicts, 6, Vec::new()));
    // Sequence 3 was stored as a release, not as a verdict.
    candidates.push(native(Table::Verdicts, 3, Vec::new()));
    // Same sequence, another publication time: another stream's row.
    let mut other_stream = native(Table::Releases, 4, Vec::new());
    other_stream.published = published(4) + chrono::Duration::days(3);
    let found = second.already_written(&candidates, 1).await.unwrap();
    let expected: HashSet<RowKey> = [2, 3, 4, 5]
        .into_iter()
        .map(|sequence| RowKey {
            output: Output::Native(Table::Releases),
            sequence,
        })
        .chain([RowKey {
            output: Output::Native(Table::Verdicts),
            sequence: 6,
        }])
        .collect();
    assert_eq!(found, expected);
    let found = second.already_written(&[other_stream], 0).await.unwrap();
    assert!(found.is_empty(), "{found:?}");
    assert_eq!(second.kind(), "bigquery");
}

#[tokio::test]
async fn maps_new_columns_and_long_results() {
    let bq = BqEmulator::start().await;
    let client = client(&bq, "misc").await;
    client.ensure_dataset().await.unwrap();
    client.ensure_dataset().await.unwrap();

    // A map column (the Paddock protos have none yet): Arrow map to
    // REPEATED RECORD {key, value} and back.
    let mut labels = MapBuilder::new(None, StringBuilder::new(), Int64Builder::new());
    labels.keys().append_value("team");
    labels.values().append_value(i64::MIN);
    labels.keys().append_value("quote\"d");
    labels.values().append_value(7);
    labels.append(true).unwrap();
    labels.append(false).unwrap();
    let labels = labels.finish();
    let schema = Arc::new(Schema::new(vec![Field::new(
        "labels",
        labels.data_type().clone(),
        true,
    )]));
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(labels)]).unwrap();
    let fields = bigquery_schema(&schema);
    client.ensure_table("maps", &fields, None).await.unwrap();
    let rows: Vec<(String, Value)> = record_batch_json(&batch)
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(i, row)| (format!("map-{i}"), Value::Object(row)))
        .collect();
    let outcomes = client.insert_all("maps", &rows).await.unwrap();
    assert_eq!(outcomes, [Ok(()), Ok(())]);
    let stored = client
        .query(&format!(
            "SELECT labels FROM {}",
            client.table_ref("maps").unwrap()
        ))
        .await
        .unwrap();
    let mut stored: Vec<Value> = stored.into_iter().map(|r| r["labels"].clone()).collect();
    stored.sort_by_key(|v| v.as_array().map_or(0, Vec::len));
    assert_eq!(
        stored,
        [
            json!([]),
            json!([{"key": "team", "value": "-9223372036854775808"}, {"key": "quote\"d", "value": "7"}]),
        ]
    );

    // A new column, as a new proto field brings: added to the existing
    // table. (The emulator widens its catalog, not its storage, so nothing
    // is inserted after this.)
    let mut wider = fields.as_array().unwrap().clone();
    wider.push(json!({"name": "n", "type": "INTEGER", "mode": "NULLABLE"}));
    client
        .ensure_table("maps", &Value::Array(wider), None)
        .await
        .unwrap();
    let stored = client.table_schema("maps").await.unwrap().unwrap();
    assert_eq!(stored.fields[1].name, "n");
    assert_eq!(stored.fields[0].fields[1].name, "value");

    // More rows than one result page (10,000), in several insert requests.
    let fields = json!([{"name": "i", "type": "INTEGER", "mode": "REQUIRED"}]);
    client.ensure_table("many", &fields, None).await.unwrap();
    let rows: Vec<(String, Value)> = (0..10_050)
        .map(|i| (format!("r{i}"), json!({"i": i})))
        .collect();
    let outcomes = client.insert_all("many", &rows).await.unwrap();
    assert!(outcomes.iter().all(Result::is_ok));
    let stored = client
        .query(&format!(
            "SELECT i FROM {} ORDER BY i",
            client.table_ref("many").unwrap()
        ))
        .await
        .unwrap();
    assert_eq!(stored.len(), 10_050);
    assert_eq!(stored[10_049]["i"], "10049");

    // Names that are not identifiers never reach a URL or SQL.
    assert!(client.table_ref("x` OR 1=1 --").is_err());
    assert!(client.insert_all("a/b", &[]).await.is_err());
}
