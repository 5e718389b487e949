//! Acceptance: 10,000 mixed messages (releases, static and dynamic results,
//! alerts with their verdicts) through the real `paddock-sink` binary,
//! SIGKILLed three times at random points while it writes. The Parquet files
//! then hold every message exactly once, field for field as published, and
//! an independent reader (pyarrow) reads them with the documented columns.
#![allow(clippy::disallowed_methods)]

#[path = "../../../crates/paddock-sink/tests/common/mod.rs"]
mod common;
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use paddock_proto::v1;
use paddock_sink::parquet::read_table;
use paddock_sink::{from_record_batch, Table};
use paddock_testkit::rng::XorShift;
use paddock_testkit::TestNats;
use prost::Message as _;
use prost_reflect::ReflectMessage;

fn sink(nats: &str, prefix: &str, dir: &Path) -> tokio::process::Child {
    support::sink_command(nats, prefix)
        .env("PADDOCK__SINK__PARQUET__DIR", dir)
        .env("PADDOCK__SINK__PARQUET__MAX_ROWS", "400")
        .env("PADDOCK__SINK__PARQUET__MAX_AGE", "300ms")
        .env("PADDOCK__SINK__PARQUET__REFERENCE_TABLES", "true")
        .env("PADDOCK__BUS__TOPOLOGY__ACK_WAIT", "4s")
        .spawn()
        .expect("paddock-sink starts")
}

/// The first `n` columns of `batch` (the table's own, without bookkeeping).
fn own_columns(table: Table, batch: &arrow_array::RecordBatch) -> arrow_array::RecordBatch {
    let n = table.schema().fields().len();
    batch.project(&(0..n).collect::<Vec<_>>()).unwrap()
}

fn column_u64(batch: &arrow_array::RecordBatch, name: &str) -> Vec<u64> {
    batch
        .column_by_name(name)
        .unwrap()
        .as_any()
        .downcast_ref::<arrow_array::UInt64Array>()
        .unwrap()
        .values()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_messages_survive_three_kills_exactly_once() {
    let nats = TestNats::start().await;
    let (bus, prefix) = support::bus(&nats).await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("parquet");

    let mut rng = XorShift(0x5eed_0008);
    let messages = support::mixed(&mut rng, 10_000, |_| {});
    let (mut child, sequences) = support::publish_through_kills(
        &bus,
        &messages,
        &mut rng,
        (Duration::from_millis(700), Duration::from_millis(1500)),
        || sink(nats.url(), &prefix, &root),
        || {
            let files = paddock_sink::parquet::committed_files(&root).unwrap().len();
            format!("{files} files committed")
        },
    )
    .await;
    support::drained(&bus, "parquet", Duration::from_secs(180)).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();

    // Expected rows per table, by (stream sequence).
    let mut expected: BTreeMap<Table, BTreeMap<u64, Vec<u8>>> = BTreeMap::new();
    for ((table, bytes), sequence) in messages.iter().zip(&sequences) {
        expected
            .entry(*table)
            .or_default()
            .insert(*sequence, bytes.clone());
        if *table == Table::Alerts {
            let alert = v1::Alert::decode(bytes.as_slice()).unwrap();
            if let Some(verdict) = alert.verdict {
                expected
                    .entry(Table::Verdicts)
                    .or_default()
                    .insert(*sequence, verdict.encode_to_vec());
            }
        }
    }

    let mut total = 0;
    for table in paddock_sink::tables() {
        let want = expected.remove(&table).unwrap_or_default();
        let batches = read_table(&root, table.table_name()).unwrap();
        let mut seen = BTreeMap::new();
        for batch in &batches {
            let sequences = column_u64(batch, "_stream_sequence");
            let rows = from_record_batch(table, &own_columns(table, batch)).unwrap();
            for (sequence, row) in sequences.into_iter().zip(rows) {
                assert!(
                    seen.insert(sequence, row).is_none(),
                    "{table}: sequence {sequence} written twice"
                );
            }
        }
        assert_eq!(
            seen.len(),
            want.len(),
            "{table}: {} rows read back, {} published",
            seen.len(),
            want.len()
        );
        for (sequence, bytes) in &want {
            let row = seen
                .get(sequence)
                .unwrap_or_else(|| panic!("{table}: sequence {sequence} missing"));
            let original =
                prost_reflect::DynamicMessage::decode(table.descriptor(), bytes.as_slice())
                    .unwrap();
            if let Some(difference) = common::first_difference(&original, row) {
                panic!("{table} sequence {sequence}: {difference}");
            }
            assert_eq!(row.descriptor().full_name(), table.message_name());
        }
        if table != Table::Verdicts {
            total += seen.len();
        }
    }
    assert_eq!(total, 10_000, "every published message has exactly one row");

    // The reference tables hold one row per result whose record fits the
    // reference schema (it is narrower: INT64 where the protos have
    // uint64, and these messages hold extremes), each once.
    for (reference, source, table) in [
        (
            "analysis",
            Table::DynamicResults,
            paddock_sink::row::ReferenceTable::Analysis,
        ),
        (
            "staticanalysis",
            Table::StaticResults,
            paddock_sink::row::ReferenceTable::StaticAnalysis,
        ),
    ] {
        let mut seen = std::collections::BTreeSet::new();
        for batch in read_table(&root, reference).unwrap() {
            for sequence in column_u64(&batch, "_stream_sequence") {
                assert!(
                    seen.insert(sequence),
                    "{reference}: {sequence} written twice"
                );
            }
        }
        let mut want = std::collections::BTreeSet::new();
        for ((t, bytes), sequence) in messages.iter().zip(&sequences) {
            if *t != source {
                continue;
            }
            let record = paddock_sink::reference::record_for(table, bytes).unwrap();
            let row = paddock_sink::row::Row {
                output: paddock_sink::row::Output::Reference(table),
                ecosystem: "npm".into(),
                published: chrono::Utc::now(),
                stream: "RESULTS".into(),
                sequence: *sequence,
                msg_id: String::new(),
                body: paddock_sink::row::RowBody::Json(record),
            };
            if paddock_sink::reference::to_record_batch(table, &[&row]).is_ok() {
                want.insert(*sequence);
            }
        }
        assert_eq!(seen, want, "{reference}");
        assert!(
            !seen.is_empty(),
            "{reference}: no row fits the reference schema"
        );
        eprintln!("{reference}: {} rows", seen.len());
    }

    // An independent reader: pyarrow, over the hive-partitioned directory.
    let script = r#"
import sys, pyarrow.dataset as ds
root = sys.argv[1]
for table in ["releases", "static_results", "dynamic_results", "verdicts", "alerts", "analysis", "staticanalysis"]:
    d = ds.dataset(f"{root}/{table}", format="parquet", partitioning="hive")
    t = d.to_table()
    names = t.schema.names
    # (the reference's static table has an `ecosystem` column of its own,
    # equal to the partition's)
    assert names[-1] == "date" and "ecosystem" in names, names
    assert "_msg_id" in names and "_stream_sequence" in names and "_published" in names, names
    print(table, t.num_rows, len(set(t.column("_stream_sequence").to_pylist())))
d = ds.dataset(f"{root}/dynamic_results", format="parquet", partitioning="hive")
t = d.to_table(columns=["package", "phases", "ecosystem"])
first = t.slice(0, 1).to_pylist()[0]
assert first["package"]["name"], first["package"]
print("package.name", repr(first["package"]["name"])[:40])
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&root)
        .output()
        .expect("python3 runs (scripts/install-deps --test installs pyarrow)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pyarrow failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts: BTreeMap<String, (usize, usize)> = stdout
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let name = parts.next()?.to_owned();
            let rows = parts.next()?.parse().ok()?;
            let distinct = parts.next()?.parse().ok()?;
            Some((name, (rows, distinct)))
        })
        .collect();
    let pyarrow_total: usize = ["releases", "static_results", "dynamic_results", "alerts"]
        .iter()
        .map(|t| {
            let (rows, distinct) = counts[*t];
            assert_eq!(rows, distinct, "{t}: duplicate rows seen by pyarrow");
            rows
        })
        .sum();
    assert_eq!(pyarrow_total, 10_000, "pyarrow: {stdout}");

    // The README's DuckDB queries run on these files.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let section = &readme[readme
        .find("Query them with DuckDB")
        .expect("the README shows DuckDB queries")..];
    let sql = &section[section.find("```sql").unwrap() + 6..];
    let sql = &sql[..sql.find("```").unwrap()];
    let sql = sql.replace(
        "~/.local/share/paddock/parquet",
        &root.display().to_string(),
    );
    let script = r#"
import sys, duckdb
for query in [q for q in sys.argv[1].split(";") if q.strip()]:
    rows = duckdb.sql(query).fetchall()
    print(len(rows))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&sql)
        .output()
        .expect("python3 runs (scripts/install-deps --test installs duckdb)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the README's DuckDB queries failed: {}\n{sql}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts: Vec<usize> = stdout
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    assert_eq!(counts.len(), 2, "{stdout}");
    assert!(
        counts.iter().all(|&n| n > 0),
        "each README query finds rows: {counts:?}"
    );
}
