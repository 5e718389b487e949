//! Messages → record batch → Parquet (zstd) → record batch → messages, for
//! every table, with every field of every reachable message set; and the
//! values in the Parquet file read back with plain Arrow downcasts, without
//! this crate's reader, to pin what other readers see.

mod common;

use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{DurationMicrosecondType, TimestampMicrosecondType, UInt32Type};
use arrow_array::{Array, RecordBatch, StructArray};
use paddock_sink::{from_record_batch, tables, to_record_batch, Table};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use prost::Message as _;

fn write_parquet(path: &Path, batch: &RecordBatch) -> anyhow::Result<()> {
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .build();
    let mut writer = ArrowWriter::try_new(File::create(path)?, batch.schema(), Some(properties))?;
    writer.write(batch)?;
    writer.close()?;
    Ok(())
}

fn read_parquet(path: &Path) -> anyhow::Result<Vec<RecordBatch>> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path)?)?;
    let metadata = builder.metadata().clone();
    for row_group in metadata.row_groups() {
        for column in row_group.columns() {
            anyhow::ensure!(
                matches!(column.compression(), Compression::ZSTD(_)),
                "column {} is {:?}",
                column.column_path(),
                column.compression()
            );
        }
    }
    let reader = builder.with_batch_size(3).build()?;
    Ok(reader.collect::<Result<Vec<_>, _>>()?)
}

#[test]
fn every_table_round_trips_through_parquet() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    for table in tables() {
        let messages = common::samples(table);

        // The fixture must set every field, or the round trip proves little.
        let unset: Vec<String> = common::reachable_fields(&table.descriptor())
            .difference(&common::set_fields(&messages))
            .cloned()
            .collect();
        assert!(
            unset.is_empty(),
            "{table}: the fixture leaves {unset:?} unset"
        );

        let encoded: Vec<Vec<u8>> = messages.iter().map(|m| m.encode_to_vec()).collect();
        let batch = to_record_batch(table, &encoded)?;
        assert_eq!(batch.schema(), table.schema());
        assert_eq!(batch.num_rows(), messages.len());

        let path = dir.path().join(format!("{table}.parquet"));
        write_parquet(&path, &batch)?;
        // Read back in batches of three, so that rows cross batch boundaries.
        let batches = read_parquet(&path)?;
        assert!(batches.len() > 1);
        let mut back = Vec::new();
        for read in &batches {
            assert_eq!(read.schema().fields(), table.schema().fields(), "{table}");
            back.extend(from_record_batch(table, read)?);
        }

        assert_eq!(back.len(), messages.len(), "{table}");
        for (row, (expected, actual)) in messages.iter().zip(&back).enumerate() {
            if let Some(difference) = common::first_difference(expected, actual) {
                panic!("{table}, row {row}: {difference}");
            }
            assert_eq!(expected.encode_to_vec().len(), actual.encode_to_vec().len());
        }
    }
    Ok(())
}

#[test]
fn the_comparison_catches_a_changed_value() {
    // first_difference must be able to fail, or the round trip proves nothing.
    let table = Table::DynamicResults;
    let original = common::populated(&table.descriptor(), 1);
    let mut changed = original.clone();
    let phases = changed.get_field_by_name_mut("phases").unwrap();
    let phase = phases.as_list_mut().unwrap()[1].as_message_mut().unwrap();
    let sockets = phase.get_field_by_name_mut("sockets").unwrap();
    let socket = sockets.as_list_mut().unwrap()[0].as_message_mut().unwrap();
    socket.set_field_by_name("port", prost_reflect::Value::U32(1));
    let difference = common::first_difference(&original, &changed).expect("a difference");
    assert!(
        difference.starts_with("phases[1].sockets[0].port: U32("),
        "{difference}"
    );
}

#[test]
fn realistic_dynamic_results_round_trip_from_the_generated_types() -> anyhow::Result<()> {
    let table = Table::DynamicResults;
    let originals: Vec<Vec<u8>> = (0..5)
        .map(|i| common::realistic_dynamic_result(i).encode_to_vec())
        .collect();
    let batch = to_record_batch(table, &originals)?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("dynamic.parquet");
    write_parquet(&path, &batch)?;
    let mut back = Vec::new();
    for read in read_parquet(&path)? {
        back.extend(from_record_batch(table, &read)?);
    }
    for (row, (bytes, actual)) in originals.iter().zip(&back).enumerate() {
        let decoded = paddock_proto::v1::DynamicResult::decode(actual.encode_to_vec().as_slice())?;
        let original = paddock_proto::v1::DynamicResult::decode(bytes.as_slice())?;
        assert_eq!(decoded, original, "row {row}");
    }
    Ok(())
}

fn column<'a>(array: &'a StructArray, name: &str) -> &'a dyn Array {
    array
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .as_ref()
}

#[test]
fn parquet_holds_the_documented_representation() -> anyhow::Result<()> {
    let result = common::realistic_dynamic_result(3);
    let batch = to_record_batch(Table::DynamicResults, &[result.encode_to_vec()])?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("dynamic.parquet");
    write_parquet(&path, &batch)?;
    let read = read_parquet(&path)?;
    let row = StructArray::from(read[0].clone());

    // Enums are their value names.
    let package = column(&row, "package").as_struct();
    assert_eq!(
        column(package, "ecosystem").as_string::<i32>().value(0),
        "ECOSYSTEM_NPM"
    );
    assert_eq!(
        column(package, "name").as_string::<i32>().value(0),
        "@scope/left-pad-3"
    );
    // Timestamps are microseconds since the epoch, UTC.
    let created = column(&row, "created_at").as_primitive::<TimestampMicrosecondType>();
    let expected = result.created_at.as_ref().unwrap();
    assert_eq!(
        created.value(0),
        expected.seconds * 1_000_000 + i64::from(expected.nanos) / 1000
    );
    assert_eq!(created.timezone(), Some("UTC"));
    // Scalars at their default are values, not nulls.
    assert_eq!(
        column(&row, "status_detail").as_string::<i32>().value(0),
        ""
    );
    assert_eq!(
        column(&row, "status").as_string::<i32>().value(0),
        "ANALYSIS_STATUS_COMPLETED"
    );

    // Per-phase lists nest: phases[1].sockets[2].port, phases[0].stdout_tail.
    let phases = column(&row, "phases").as_list::<i32>();
    assert_eq!(phases.value_length(0), 3);
    let phase_rows = phases.value(0);
    let phase_rows = phase_rows.as_struct();
    let names = column(phase_rows, "phase").as_string::<i32>();
    assert_eq!(
        (0..3).map(|i| names.value(i)).collect::<Vec<_>>(),
        ["PHASE_INSTALL", "PHASE_IMPORT", "PHASE_EXECUTE"]
    );
    let durations = column(phase_rows, "duration").as_primitive::<DurationMicrosecondType>();
    assert_eq!(durations.value(1), 13_125_000);
    let stdout = column(phase_rows, "stdout_tail").as_binary::<i32>();
    assert_eq!(stdout.value(0), result.phases[0].stdout_tail.as_slice());
    assert!(std::str::from_utf8(stdout.value(0)).is_err());
    let sockets = column(phase_rows, "sockets").as_list::<i32>();
    let import_sockets = sockets.value(1);
    let import_sockets = import_sockets.as_struct();
    assert_eq!(import_sockets.len(), 3);
    assert_eq!(
        column(import_sockets, "address")
            .as_string::<i32>()
            .value(2),
        "192.0.2.12"
    );
    assert_eq!(
        column(import_sockets, "port")
            .as_primitive::<UInt32Type>()
            .value(2),
        443
    );
    // Datagrams were empty: an empty list, not null.
    let datagrams = column(phase_rows, "datagrams").as_list::<i32>();
    assert!(datagrams.is_valid(0));
    assert_eq!(datagrams.value_length(0), 0);
    Ok(())
}
