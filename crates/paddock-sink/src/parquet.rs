//! The Parquet writer: one file per (table, ecosystem, date) and flush,
//! committed atomically, with the stream sequences it holds in its footer so
//! that a restarted sink recognises what it already wrote.
//!
//! # Layout
//!
//! ```text
//! <root>/<table>/ecosystem=<eco>/date=<YYYY-MM-DD>/part-<first seq>-<last seq>-<unique>.parquet
//! ```
//!
//! Hive-style partition directories, so DuckDB, pyarrow, Spark and
//! BigQuery external tables read `ecosystem` and `date` as columns. Every
//! file holds its table's columns followed by the bookkeeping columns
//! `_msg_id`, `_stream_sequence` and `_published`.
//!
//! # Invariants
//!
//! - A file appears under its final name complete or not at all: it is
//!   written as `.<name>.tmp` beside its final place, fsynced, renamed, and
//!   the directory fsynced. Readers that glob `*.parquet` never see a
//!   partial file.
//! - A file's footer names the stream (`paddock.stream`) and every stream
//!   sequence it holds (`paddock.sequences`, as ranges). A message is
//!   written to a table exactly when some committed file of that table
//!   lists its sequence; [`ParquetWriter::already_written`] answers from
//!   the footers of the files whose last sequence is above the consumer's
//!   ack floor (the file name carries it, so older files are not opened).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray, UInt64Array};
use arrow_schema::Schema;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde::{Deserialize, Serialize};

use crate::row::{
    bookkeeping_fields, Disposition, Output, Row, RowBody, RowKey, WriteError, Writer,
};
use crate::{SinkError, Table};

/// Footer key: the stream the file's rows came from.
pub const STREAM_KEY: &str = "paddock.stream";
/// Footer key: the stream sequences of the file's rows, as `a-b,c,…` ranges.
pub const SEQUENCES_KEY: &str = "paddock.sequences";

/// Temporary files older than this are a crashed writer's and are removed.
const STALE_TEMPORARY: Duration = Duration::from_secs(3600);

/// Compression of the Parquet pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    Zstd,
    Snappy,
    None,
}

/// `[sink.parquet]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ParquetConfig {
    /// Whether `paddock up` runs the Parquet sink.
    pub enabled: bool,
    /// Root of the table directories. Unset: `<data_dir>/parquet`.
    pub dir: Option<PathBuf>,
    /// `zstd` (default), `snappy` or `none`.
    pub compression: Codec,
    /// zstd level, 1–22.
    pub zstd_level: i32,
    /// Also write the reference system's `analysis` and `staticanalysis`
    /// tables (package-analysis record shapes).
    pub reference_tables: bool,
    #[serde(flatten)]
    pub batch: paddock_bus::BatchConfig,
}

impl Default for ParquetConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            dir: None,
            compression: Codec::Zstd,
            zstd_level: 3,
            reference_tables: false,
            batch: paddock_bus::BatchConfig::default(),
        }
    }
}

/// Writes rows to Parquet files under one root.
#[derive(Debug)]
pub struct ParquetWriter {
    root: PathBuf,
    compression: Compression,
    /// Sequences known to be committed, per table and stream, above the
    /// last ack floor seen. Filled from the footers on first use.
    committed: BTreeMap<(Output, String), BTreeSet<u64>>,
    scanned: HashSet<(Output, String)>,
}

static FILE_COUNTER: AtomicU64 = AtomicU64::new(0);

impl ParquetWriter {
    /// A writer under `root` (created if missing).
    pub fn new(root: &Path, config: &ParquetConfig) -> Result<Self, WriteError> {
        std::fs::create_dir_all(root).map_err(|e| {
            WriteError::transient(format!(
                "creating the Parquet directory {}: {e}",
                root.display()
            ))
        })?;
        let compression = match config.compression {
            Codec::Zstd => {
                Compression::ZSTD(ZstdLevel::try_new(config.zstd_level).map_err(|e| {
                    WriteError::permanent(format!(
                        "sink.parquet.zstd_level {}: {e}",
                        config.zstd_level
                    ))
                })?)
            }
            Codec::Snappy => Compression::SNAPPY,
            Codec::None => Compression::UNCOMPRESSED,
        };
        Ok(Self {
            root: root.to_owned(),
            compression,
            committed: BTreeMap::new(),
            scanned: HashSet::new(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Reads the footers of `output`'s files from `stream` whose last
    /// sequence is above `floor`.
    fn scan(&mut self, output: Output, stream: &str, floor: u64) -> Result<(), WriteError> {
        let key = (output, stream.to_owned());
        if self.scanned.contains(&key) {
            return Ok(());
        }
        let mut found = BTreeSet::new();
        for path in committed_files(&self.root.join(output.table_name()))? {
            let Some((_, last)) = file_sequences(&path) else {
                continue;
            };
            if last <= floor {
                continue;
            }
            let (file_stream, sequences) = read_footer(&path)?;
            if file_stream == stream {
                found.extend(sequences.into_iter().filter(|s| *s > floor));
            }
        }
        tracing::debug!(table = %output, stream, floor, found = found.len(), "scanned committed Parquet files");
        self.committed.entry(key.clone()).or_default().extend(found);
        self.scanned.insert(key);
        Ok(())
    }
}

/// Writes one file under `root`: `rows` all belong to one table and
/// partition.
fn write_file(
    root: &Path,
    compression: Compression,
    output: Output,
    rows: &[&Row],
) -> Result<PathBuf, FileError> {
    let batch = match output {
        Output::Native(table) => native_batch(table, rows)?,
        Output::Reference(table) => {
            crate::reference::to_record_batch(table, rows).map_err(FileError::Row)?
        }
    };
    let first = rows.iter().map(|r| r.sequence).min().unwrap_or(0);
    let last = rows.iter().map(|r| r.sequence).max().unwrap_or(0);
    let dir = root
        .join(output.table_name())
        .join(format!("ecosystem={}", partition_value(&rows[0].ecosystem)))
        .join(format!("date={}", rows[0].date()));
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, "creating", e))?;
    let unique = format!(
        "{}-{}-{}",
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis(),
        std::process::id(),
        FILE_COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let name = format!("part-{first:012}-{last:012}-{unique}.parquet");
    let temporary = dir.join(format!(".{name}.tmp"));
    let path = dir.join(&name);

    let sequences: Vec<u64> = rows.iter().map(|r| r.sequence).collect();
    let properties = WriterProperties::builder()
        .set_compression(compression)
        .set_created_by(format!("paddock {}", env!("CARGO_PKG_VERSION")))
        .set_key_value_metadata(Some(vec![
            KeyValue::new(STREAM_KEY.to_owned(), rows[0].stream.clone()),
            KeyValue::new(SEQUENCES_KEY.to_owned(), encode_ranges(&sequences)),
        ]))
        .build();
    let result = (|| {
        let file = File::create(&temporary).map_err(|e| io(&temporary, "creating", e))?;
        let mut writer =
            ArrowWriter::try_new(BufWriter::new(file), batch.schema(), Some(properties))
                .map_err(|e| FileError::Io(format!("starting {}: {e}", temporary.display())))?;
        writer
            .write(&batch)
            .map_err(|e| FileError::Io(format!("writing {}: {e}", temporary.display())))?;
        let file = writer
            .into_inner()
            .map_err(|e| FileError::Io(format!("finishing {}: {e}", temporary.display())))?
            .into_inner()
            .map_err(|e| FileError::Io(format!("flushing {}: {e}", temporary.display())))?;
        file.sync_all().map_err(|e| io(&temporary, "syncing", e))?;
        std::fs::rename(&temporary, &path).map_err(|e| io(&path, "renaming to", e))?;
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io(&dir, "syncing", e))?;
        Ok(path.clone())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// Why one file could not be written.
#[derive(Debug)]
enum FileError {
    /// One row does not convert: it can never be written.
    Row(SinkError),
    /// The file system failed: retry.
    Io(String),
}

impl From<SinkError> for FileError {
    fn from(e: SinkError) -> Self {
        FileError::Row(e)
    }
}

fn io(path: &Path, what: &str, e: std::io::Error) -> FileError {
    FileError::Io(format!("{what} {}: {e}", path.display()))
}

/// The batch of a native table: the messages' columns, then bookkeeping.
fn native_batch(table: Table, rows: &[&Row]) -> Result<RecordBatch, SinkError> {
    let bodies: Vec<&[u8]> = rows
        .iter()
        .map(|r| match &r.body {
            RowBody::Proto(bytes) => bytes.as_ref(),
            RowBody::Json(_) => &[][..],
        })
        .collect();
    let batch = crate::to_record_batch(table, &bodies)?;
    with_bookkeeping(batch, rows)
}

/// `batch` with the bookkeeping columns of `rows` appended.
pub fn with_bookkeeping(batch: RecordBatch, rows: &[&Row]) -> Result<RecordBatch, SinkError> {
    let table = batch
        .schema()
        .metadata()
        .get(crate::arrow::schema::MESSAGE_METADATA_KEY)
        .cloned()
        .unwrap_or_default();
    let mut fields: Vec<_> = batch.schema().fields().iter().cloned().collect();
    fields.extend(bookkeeping_fields().into_iter().map(Arc::new));
    let schema = Schema::new_with_metadata(fields, batch.schema().metadata().clone());
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns.push(Arc::new(StringArray::from_iter_values(
        rows.iter().map(|r| r.msg_id.as_str()),
    )));
    columns.push(Arc::new(UInt64Array::from_iter_values(
        rows.iter().map(|r| r.sequence),
    )));
    columns.push(Arc::new(
        TimestampMicrosecondArray::from_iter_values(
            rows.iter().map(|r| r.published.timestamp_micros()),
        )
        .with_timezone(crate::arrow::schema::TIMESTAMP_TZ),
    ));
    RecordBatch::try_new(Arc::new(schema), columns).map_err(|e| SinkError::Batch {
        table,
        reason: e.to_string(),
    })
}

/// A partition value safe as one path component: the ecosystem names are
/// Paddock's own, but nothing from a message goes into a path unchecked.
fn partition_value(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if clean.is_empty() || clean.chars().all(|c| c == '.') {
        "unknown".to_owned()
    } else {
        clean
    }
}

/// `1-3,5,7-9` for `[1, 2, 3, 5, 7, 8, 9]` (any order, duplicates ignored).
pub fn encode_ranges(sequences: &[u64]) -> String {
    let sorted: BTreeSet<u64> = sequences.iter().copied().collect();
    let mut out = String::new();
    let mut iter = sorted.into_iter().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}-{end}"));
        }
    }
    out
}

/// The inverse of [`encode_ranges`]; `None` for anything malformed.
pub fn decode_ranges(text: &str) -> Option<Vec<u64>> {
    let mut out = Vec::new();
    if text.is_empty() {
        return Some(out);
    }
    for part in text.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u64, u64) = (a.parse().ok()?, b.parse().ok()?);
                if b < a || b - a > 10_000_000 {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().ok()?),
        }
    }
    Some(out)
}

/// The first and last sequence in a committed file's name.
fn file_sequences(path: &Path) -> Option<(u64, u64)> {
    let name = path.file_name()?.to_str()?;
    let rest = name.strip_prefix("part-")?.strip_suffix(".parquet")?;
    let mut parts = rest.splitn(3, '-');
    let first = parts.next()?.parse().ok()?;
    let last = parts.next()?.parse().ok()?;
    Some((first, last))
}

/// The stream and sequences in a file's footer.
fn read_footer(path: &Path) -> Result<(String, Vec<u64>), WriteError> {
    let file = File::open(path)
        .map_err(|e| WriteError::transient(format!("opening {}: {e}", path.display())))?;
    let reader = SerializedFileReader::new(file).map_err(|e| {
        WriteError::transient(format!(
            "reading the footer of {} (move the file away if it is not Paddock's): {e}",
            path.display()
        ))
    })?;
    let metadata = reader.metadata().file_metadata().key_value_metadata();
    let get = |key: &str| {
        metadata
            .and_then(|kv| kv.iter().find(|k| k.key == key))
            .and_then(|k| k.value.clone())
    };
    let stream = get(STREAM_KEY).unwrap_or_default();
    let sequences = get(SEQUENCES_KEY)
        .as_deref()
        .and_then(decode_ranges)
        .ok_or_else(|| {
            WriteError::transient(format!(
                "{} has no readable {SEQUENCES_KEY} in its footer",
                path.display()
            ))
        })?;
    Ok((stream, sequences))
}

/// Every committed file under `dir` (recursively); removes temporary files
/// a crashed writer left long ago.
pub fn committed_files(dir: &Path) -> Result<Vec<PathBuf>, WriteError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(WriteError::transient(format!(
                    "listing {}: {e}",
                    dir.display()
                )));
            }
        };
        for entry in entries {
            let entry = entry
                .map_err(|e| WriteError::transient(format!("listing {}: {e}", dir.display())))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| {
                WriteError::transient(format!("inspecting {}: {e}", path.display()))
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() && name.starts_with("part-") && name.ends_with(".parquet") {
                out.push(path);
            } else if kind.is_file() && name.starts_with(".part-") && name.ends_with(".tmp") {
                let old = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|m| m.elapsed().ok())
                    .is_some_and(|age| age > STALE_TEMPORARY);
                if old {
                    tracing::info!(path = %path.display(), "removing a temporary file a crashed writer left");
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads every committed file of `table` under `root`, in file-name order.
pub fn read_table(root: &Path, table: &str) -> Result<Vec<RecordBatch>, WriteError> {
    let mut batches = Vec::new();
    for path in committed_files(&root.join(table))? {
        let file = File::open(&path)
            .map_err(|e| WriteError::transient(format!("opening {}: {e}", path.display())))?;
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.build())
            .map_err(|e| WriteError::transient(format!("reading {}: {e}", path.display())))?;
        for batch in reader {
            batches.push(
                batch.map_err(|e| {
                    WriteError::transient(format!("reading {}: {e}", path.display()))
                })?,
            );
        }
    }
    Ok(batches)
}

impl Writer for ParquetWriter {
    fn kind(&self) -> &'static str {
        "parquet"
    }

    async fn already_written(
        &mut self,
        rows: &[Row],
        ack_floor: u64,
    ) -> Result<HashSet<RowKey>, WriteError> {
        let mut found = HashSet::new();
        for row in rows {
            self.scan(row.output, &row.stream, ack_floor)?;
            let known = self
                .committed
                .get(&(row.output, row.stream.clone()))
                .is_some_and(|s| s.contains(&row.sequence));
            if known {
                found.insert(row.key());
            }
        }
        // Forget what the floor has passed: it is never asked about again.
        for set in self.committed.values_mut() {
            *set = set.split_off(&(ack_floor + 1));
        }
        Ok(found)
    }

    async fn write(&mut self, rows: Vec<Row>) -> Result<Vec<Disposition>, WriteError> {
        let mut dispositions = vec![Disposition::Written; rows.len()];
        // Group by file: table, ecosystem partition, date partition.
        let mut groups: BTreeMap<(Output, String, String), Vec<usize>> = BTreeMap::new();
        for (i, row) in rows.iter().enumerate() {
            groups
                .entry((row.output, partition_value(&row.ecosystem), row.date()))
                .or_default()
                .push(i);
        }
        for ((output, _, _), mut members) in groups {
            loop {
                if members.is_empty() {
                    break;
                }
                let group: Vec<Row> = members.iter().map(|&i| rows[i].clone()).collect();
                let (root, compression) = (self.root.clone(), self.compression);
                let (group, outcome) = tokio::task::spawn_blocking(move || {
                    let refs: Vec<&Row> = group.iter().collect();
                    let outcome = write_file(&root, compression, output, &refs);
                    (group, outcome)
                })
                .await
                .map_err(|e| {
                    WriteError::transient(format!("the Parquet writer task failed: {e}"))
                })?;
                match outcome {
                    Ok(path) => {
                        tracing::debug!(path = %path.display(), rows = group.len(), "committed");
                        for row in &group {
                            self.committed
                                .entry((output, row.stream.clone()))
                                .or_default()
                                .insert(row.sequence);
                        }
                        break;
                    }
                    Err(FileError::Row(error)) => {
                        // Drop the row at fault and write the others.
                        let at = error.row().filter(|&r| r < members.len()).unwrap_or(0);
                        let index = members.remove(at);
                        dispositions[index] = Disposition::Rejected(error.to_string());
                    }
                    Err(FileError::Io(reason)) => return Err(WriteError::transient(reason)),
                }
            }
        }
        Ok(dispositions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_round_trip() {
        let cases: [&[u64]; 4] = [&[], &[5], &[1, 2, 3, 5, 7, 8, 9], &[9, 1, 2, 2, 3]];
        for case in cases {
            let text = encode_ranges(case);
            let mut want: Vec<u64> = case.to_vec();
            want.sort();
            want.dedup();
            assert_eq!(decode_ranges(&text).unwrap(), want, "{text}");
        }
        assert_eq!(encode_ranges(&[1, 2, 3, 5, 7, 8, 9]), "1-3,5,7-9");
        for bad in ["x", "1-", "5-3", "1,,2", "0-99999999999"] {
            assert_eq!(decode_ranges(bad), None, "{bad}");
        }
    }

    #[test]
    fn file_names_carry_the_sequence_span() {
        let p = Path::new("/x/part-000000000012-000000000345-1700000000000-42-0.parquet");
        assert_eq!(file_sequences(p), Some((12, 345)));
        assert_eq!(file_sequences(Path::new("/x/other.parquet")), None);
    }

    #[test]
    fn partition_values_cannot_leave_their_directory() {
        assert_eq!(partition_value("crates.io"), "crates.io");
        assert_eq!(partition_value("../../etc"), ".._.._etc");
        assert_eq!(partition_value(".."), "unknown");
        assert_eq!(partition_value(""), "unknown");
        assert_eq!(partition_value("a/b"), "a_b");
    }
}
