//! The sink's Parquet dataset as a results store.
//!
//! The sink writes `<root>/<table>/ecosystem=<eco>/date=<day>/part-*.parquet`
//! (see `paddock_sink::parquet`). A lookup reads, of the ecosystems the
//! lockfiles use, two tables and only the columns it needs: `verdicts`
//! (package, severity, score, reasons, created_at) and `static_results`
//! (package, artifact, created_at); the per-file facts that make static
//! results large are never decoded. Rows are matched against the wanted
//! releases as they are read, so memory follows the lockfiles, not the
//! store.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch, StructArray};
use paddock_proto::v1::{Ecosystem, Severity};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

use crate::store::{
    keep_latest, Analysed, AnalysedArtifact, Reason, ReleaseKey, Store, StoreError,
};

/// The sink's Parquet dataset under `root`.
#[derive(Debug, Clone)]
pub struct ParquetStore {
    root: PathBuf,
}

impl ParquetStore {
    /// The dataset at `root`: a directory with a `verdicts` table, as the
    /// sink writes it.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        let store = Self {
            root: root.to_owned(),
        };
        if !root.join("verdicts").is_dir() {
            return Err(store.error(format!(
                "no verdicts here ({} is missing): point --store at the sink's Parquet directory (`paddock up` writes <data dir>/parquet), or analyse the missing releases with --analyze-missing",
                root.join("verdicts").display()
            )));
        }
        Ok(store)
    }

    fn error(&self, reason: String) -> StoreError {
        StoreError {
            store: self.describe(),
            reason,
        }
    }

    /// The committed files of `table` in the partitions of `ecosystems`.
    fn files(
        &self,
        table: &str,
        ecosystems: &HashSet<Ecosystem>,
    ) -> Result<Vec<PathBuf>, StoreError> {
        let mut out = Vec::new();
        for eco in ecosystems {
            let dir = self.root.join(table).join(format!(
                "ecosystem={}",
                paddock_proto::ecosystem::cli_name(*eco)
            ));
            let days = match std::fs::read_dir(&dir) {
                Ok(days) => days,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(self.error(format!("listing {}: {e}", dir.display()))),
            };
            for day in days {
                let day = day.map_err(|e| self.error(format!("listing {}: {e}", dir.display())))?;
                let Ok(parts) = std::fs::read_dir(day.path()) else {
                    continue;
                };
                for part in parts.flatten() {
                    let name = part.file_name();
                    let name = name.to_string_lossy();
                    // Only committed files: `.part-….tmp` is a write in
                    // progress.
                    if name.starts_with("part-") && name.ends_with(".parquet") {
                        out.push(part.path());
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Reads `columns` of every file of `table` in `ecosystems`, handing
    /// each batch to `each`.
    fn scan(
        &self,
        table: &str,
        columns: &[&str],
        ecosystems: &HashSet<Ecosystem>,
        mut each: impl FnMut(&RecordBatch) -> Result<(), String>,
    ) -> Result<(), StoreError> {
        for path in self.files(table, ecosystems)? {
            let fail =
                |e: &dyn std::fmt::Display| self.error(format!("reading {}: {e}", path.display()));
            let file = File::open(&path).map_err(|e| fail(&e))?;
            let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| fail(&e))?;
            let roots: Vec<usize> = {
                let fields = builder.parquet_schema().root_schema().get_fields();
                columns
                    .iter()
                    .filter_map(|c| fields.iter().position(|f| f.name() == *c))
                    .collect()
            };
            if roots.len() != columns.len() {
                return Err(fail(&format!(
                    "not a Paddock {table} file: it lacks one of the columns {}",
                    columns.join(", ")
                )));
            }
            let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
            let reader = builder
                .with_projection(mask)
                .with_batch_size(8192)
                .build()
                .map_err(|e| fail(&e))?;
            for batch in reader {
                let batch = batch.map_err(|e| fail(&e))?;
                each(&batch).map_err(|e| fail(&e))?;
            }
        }
        Ok(())
    }
}

impl Store for ParquetStore {
    fn describe(&self) -> String {
        format!("parquet:{}", self.root.display())
    }

    fn lookup(
        &self,
        wanted: &HashSet<ReleaseKey>,
    ) -> Result<HashMap<ReleaseKey, Analysed>, StoreError> {
        let ecosystems: HashSet<Ecosystem> = wanted.iter().map(|k| k.ecosystem).collect();
        let store = self.describe();
        let mut found: HashMap<ReleaseKey, Analysed> = HashMap::new();
        self.scan(
            "verdicts",
            &["package", "created_at", "severity", "score", "reasons"],
            &ecosystems,
            |batch| {
                let packages = Packages::of(batch)?;
                let created = micros(batch, "created_at")?;
                let severity = column(batch, "severity")?
                    .as_string_opt::<i32>()
                    .ok_or("severity is not text")?;
                let score = column(batch, "score")?
                    .as_primitive_opt::<Float64Type>()
                    .ok_or("score is not a double")?;
                let reasons = column(batch, "reasons")?
                    .as_list_opt::<i32>()
                    .ok_or("reasons is not a list")?;
                for row in 0..batch.num_rows() {
                    let Some((key, name)) = packages.key(row, wanted) else {
                        continue;
                    };
                    let mut list = read_reasons(reasons.value(row).as_struct_opt())?;
                    list.sort_by(|a, b| b.weight.total_cmp(&a.weight));
                    let analysed = Analysed {
                        name,
                        severity: parse_severity(severity.value(row)),
                        score: score.value(row),
                        reasons: list,
                        judged_at: timestamp(created, row),
                        artifact: None,
                        store: store.clone(),
                    };
                    keep_latest(&mut found, key, analysed);
                }
                Ok(())
            },
        )?;
        // The analysed artifact, for the releases that have a verdict.
        let judged: HashSet<ReleaseKey> = found.keys().cloned().collect();
        let mut artifacts: HashMap<ReleaseKey, (Option<String>, AnalysedArtifact)> = HashMap::new();
        self.scan(
            "static_results",
            &["package", "created_at", "artifact"],
            &ecosystems,
            |batch| {
                let packages = Packages::of(batch)?;
                let created = micros(batch, "created_at")?;
                let artifact = column(batch, "artifact")?
                    .as_struct_opt()
                    .ok_or("artifact is not a struct")?;
                let filename = text_field(artifact, "filename")?;
                let sha256 = text_field(artifact, "sha256")?;
                let registry = artifact
                    .column_by_name("registry_digests")
                    .and_then(|c| c.as_list_opt::<i32>())
                    .ok_or("artifact.registry_digests is missing")?;
                for row in 0..batch.num_rows() {
                    let Some((key, _)) = packages.key(row, &judged) else {
                        continue;
                    };
                    if artifact.is_null(row) {
                        continue;
                    }
                    let digests = registry.value(row);
                    let digests = digests
                        .as_struct_opt()
                        .ok_or("registry_digests are not structs")?;
                    let (algorithms, values) = (
                        text_field(digests, "algorithm")?,
                        text_field(digests, "value")?,
                    );
                    let registry = (0..digests.len())
                        .map(|i| (algorithms.value(i).to_owned(), values.value(i).to_owned()));
                    let at = timestamp(created, row);
                    let new =
                        AnalysedArtifact::new(filename.value(row), sha256.value(row), registry);
                    match artifacts.get(&key) {
                        Some((old_at, _)) if *old_at > at => {}
                        _ => {
                            artifacts.insert(key, (at, new));
                        }
                    }
                }
                Ok(())
            },
        )?;
        for (key, (_, artifact)) in artifacts {
            if let Some(analysed) = found.get_mut(&key) {
                analysed.artifact = Some(artifact);
            }
        }
        Ok(found)
    }
}

/// The `package` column of a batch.
struct Packages<'a> {
    ecosystem: &'a arrow_array::StringArray,
    name: &'a arrow_array::StringArray,
    version: &'a arrow_array::StringArray,
}

impl<'a> Packages<'a> {
    fn of(batch: &'a RecordBatch) -> Result<Self, String> {
        let package = column(batch, "package")?
            .as_struct_opt()
            .ok_or("package is not a struct")?;
        Ok(Self {
            ecosystem: text_field(package, "ecosystem")?,
            name: text_field(package, "name")?,
            version: text_field(package, "version")?,
        })
    }

    /// The row's release and the registry's spelling of its name, if it
    /// is one of `wanted`.
    fn key(&self, row: usize, wanted: &HashSet<ReleaseKey>) -> Option<(ReleaseKey, String)> {
        if self.name.is_null(row) {
            return None;
        }
        let ecosystem = Ecosystem::from_str_name(self.ecosystem.value(row))?;
        let name = self.name.value(row);
        let key = ReleaseKey::new(ecosystem, name, self.version.value(row));
        wanted.contains(&key).then(|| (key, name.to_owned()))
    }
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a dyn Array, String> {
    batch
        .column_by_name(name)
        .map(|c| c.as_ref())
        .ok_or_else(|| format!("no {name} column"))
}

fn text_field<'a>(
    parent: &'a StructArray,
    name: &str,
) -> Result<&'a arrow_array::StringArray, String> {
    parent
        .column_by_name(name)
        .and_then(|c| c.as_string_opt::<i32>())
        .ok_or_else(|| format!("no text field {name}"))
}

fn micros<'a>(
    batch: &'a RecordBatch,
    name: &str,
) -> Result<&'a arrow_array::PrimitiveArray<TimestampMicrosecondType>, String> {
    column(batch, name)?
        .as_primitive_opt::<TimestampMicrosecondType>()
        .ok_or_else(|| format!("{name} is not a timestamp"))
}

fn timestamp(
    column: &arrow_array::PrimitiveArray<TimestampMicrosecondType>,
    row: usize,
) -> Option<String> {
    if column.is_null(row) {
        return None;
    }
    chrono::DateTime::from_timestamp_micros(column.value(row))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

fn parse_severity(text: &str) -> Severity {
    Severity::from_str_name(text).unwrap_or(Severity::Unspecified)
}

fn read_reasons(reasons: Option<&StructArray>) -> Result<Vec<Reason>, String> {
    let Some(reasons) = reasons else {
        return Ok(Vec::new());
    };
    let code = text_field(reasons, "code")?;
    let description = text_field(reasons, "description")?;
    let severity = text_field(reasons, "severity")?;
    let weight = reasons
        .column_by_name("weight")
        .and_then(|c| c.as_primitive_opt::<Float64Type>())
        .ok_or("no double field weight")?;
    Ok((0..reasons.len())
        .map(|i| Reason {
            code: code.value(i).to_owned(),
            description: description.value(i).to_owned(),
            weight: weight.value(i),
            severity: parse_severity(severity.value(i)),
        })
        .collect())
}
