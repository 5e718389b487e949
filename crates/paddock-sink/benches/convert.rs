//! Rows per second of `to_record_batch` for realistic dynamic results (three
//! phases of events, about 12 KB encoded), next to the reflective path it
//! replaced (each message decoded as a `DynamicMessage` first), and of the
//! same batch written to Parquet with zstd into memory. Single thread.
//!
//! Run with `cargo bench -p paddock-sink --bench convert`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use paddock_sink::{to_record_batch, Table};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use prost::Message as _;

/// Repeats `f` until at least a second has passed; returns calls per second.
fn rate(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut calls = 0u32;
    while start.elapsed() < Duration::from_secs(1) {
        f();
        calls += 1;
    }
    f64::from(calls) / start.elapsed().as_secs_f64()
}

/// Writes `batch` to an in-memory Parquet file again and again: (files per
/// second, bytes per file).
fn parquet_write(batch: &arrow_array::RecordBatch, compression: Compression) -> (f64, usize) {
    let properties = WriterProperties::builder()
        .set_compression(compression)
        .build();
    let mut size = 0;
    let rate = rate(|| {
        let mut out = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), Some(properties.clone()))
            .expect("writer");
        writer.write(batch).expect("write");
        writer.close().expect("close");
        size = out.len();
    });
    (rate, size)
}

fn main() -> anyhow::Result<()> {
    let messages: Vec<Vec<u8>> = (0..5000)
        .map(|i| common::realistic_dynamic_result(i).encode_to_vec())
        .collect();
    let mean = messages.iter().map(Vec::len).sum::<usize>() / messages.len();
    println!("dynamic results, {mean} bytes encoded on average");
    for batch_size in [100, 1000, 5000] {
        let slice = &messages[..batch_size];
        let descriptor = Table::DynamicResults.descriptor();
        let decode = rate(|| {
            for bytes in slice {
                paddock_sink::DynamicMessage::decode(descriptor.clone(), bytes.as_slice())
                    .expect("decodes");
            }
        });
        let typed = rate(|| {
            for bytes in slice {
                paddock_proto::v1::DynamicResult::decode(bytes.as_slice()).expect("decodes");
            }
        });
        let reflective = rate(|| {
            paddock_sink::batch::to_record_batch_reflective(Table::DynamicResults, slice)
                .expect("converts");
        });
        let convert = rate(|| {
            to_record_batch(Table::DynamicResults, slice).expect("converts");
        });
        let batch = to_record_batch(Table::DynamicResults, slice)?;
        let (write, size) = parquet_write(&batch, Compression::ZSTD(ZstdLevel::default()));
        let rows = batch_size as f64;
        println!(
            "batch {batch_size:>5}: typed decode alone {:>8.0} rows/s, reflective decode alone {:>8.0} rows/s, reflective to_record_batch {:>8.0} rows/s, \
             to_record_batch (wire) {:>8.0} rows/s, parquet zstd write {:>8.0} rows/s, both {:>8.0} rows/s, {} bytes/row in parquet",
            typed * rows,
            decode * rows,
            reflective * rows,
            convert * rows,
            write * rows,
            rows / (1.0 / convert + 1.0 / write),
            size / batch_size,
        );
        for (name, compression) in [
            ("zstd 1", Compression::ZSTD(ZstdLevel::try_new(1)?)),
            ("snappy", Compression::SNAPPY),
        ] {
            let (write, size) = parquet_write(&batch, compression);
            println!(
                "             parquet {name} write {:>8.0} rows/s, both {:>8.0} rows/s, {} bytes/row",
                write * rows,
                rows / (1.0 / convert + 1.0 / write),
                size / batch_size
            );
        }
    }
    Ok(())
}
