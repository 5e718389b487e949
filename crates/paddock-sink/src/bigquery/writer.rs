//! [`BigQueryWriter`]: the sink service's BigQuery destination.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;
use tracing::{info_span, Instrument as _};

use super::client::BigQueryClient;
use super::config::BigQueryConfig;
use super::error::BigQueryError;
use super::json::{native_json_rows, reference_json_row};
use super::schema::{table_fields, with_bookkeeping};
use crate::reference;
use crate::row::{
    Disposition, Output, ReferenceTable, Row, RowKey, WriteError, Writer, PUBLISHED_COLUMN,
    SEQUENCE_COLUMN,
};
use crate::tables;

/// Sequences per `already_written` query.
const SEQUENCES_PER_QUERY: usize = 1000;

/// Writes rows to BigQuery with streaming inserts, one table per
/// [`Output`].
///
/// On creation it ensures the dataset and the five native tables (their
/// own columns then the bookkeeping ones, day-partitioned on
/// `_published`), and the reference tables `analysis` (partitioned on
/// `CreatedTimestamp`) and `staticanalysis` (on `created`) when
/// `reference_tables` is set. A table first written later (a reference
/// table while `reference_tables` is off), or one dropped while the sink
/// runs, is ensured before its first insert.
#[derive(Debug)]
pub struct BigQueryWriter {
    client: BigQueryClient,
    /// Tables known to exist with the sink's columns.
    ensured: HashSet<Output>,
}

impl BigQueryWriter {
    /// Connects with `config` and ensures the dataset and tables.
    pub async fn new(config: BigQueryConfig) -> Result<Self, BigQueryError> {
        let client = BigQueryClient::new(config).await?;
        Self::with_client(client).await
    }

    /// The writer over an existing client; ensures the dataset and tables.
    pub async fn with_client(client: BigQueryClient) -> Result<Self, BigQueryError> {
        client.ensure_dataset().await?;
        let mut writer = Self {
            client,
            ensured: HashSet::new(),
        };
        let mut outputs: Vec<Output> = tables().into_iter().map(Output::Native).collect();
        if writer.client.config().reference_tables {
            outputs.push(Output::Reference(ReferenceTable::Analysis));
            outputs.push(Output::Reference(ReferenceTable::StaticAnalysis));
        }
        for output in outputs {
            writer.ensure(output).await?;
        }
        Ok(writer)
    }

    pub fn client(&self) -> &BigQueryClient {
        &self.client
    }

    /// The BigQuery schema (`fields`) of an output's table, bookkeeping
    /// columns included.
    pub fn fields(output: Output) -> Value {
        match output {
            Output::Native(table) => table_fields(table),
            Output::Reference(table) => with_bookkeeping(reference::bigquery_fields(table)),
        }
    }

    /// The column an output's table is day-partitioned on.
    pub fn partition_field(output: Output) -> &'static str {
        match output {
            Output::Native(_) => PUBLISHED_COLUMN,
            Output::Reference(table) => reference::partition_column(table),
        }
    }

    /// The row's insert id: `<msg id>/<table>`, the same on every retry.
    pub fn insert_id(row: &Row) -> String {
        format!("{}/{}", row.msg_id, row.output.table_name())
    }

    async fn ensure(&mut self, output: Output) -> Result<(), BigQueryError> {
        if self.ensured.contains(&output) {
            return Ok(());
        }
        self.client
            .ensure_table(
                output.table_name(),
                &Self::fields(output),
                Some(Self::partition_field(output)),
            )
            .await?;
        self.ensured.insert(output);
        Ok(())
    }

    /// Rows of `rows` by output, in order, with their index.
    fn group<'a>(
        rows: impl Iterator<Item = (usize, &'a Row)>,
    ) -> BTreeMap<Output, Vec<(usize, &'a Row)>> {
        let mut groups: BTreeMap<Output, Vec<(usize, &Row)>> = BTreeMap::new();
        for (index, row) in rows {
            groups.entry(row.output).or_default().push((index, row));
        }
        groups
    }

    async fn write_rows(&mut self, rows: &[Row]) -> Result<Vec<Disposition>, BigQueryError> {
        let mut dispositions: Vec<Option<Disposition>> = vec![None; rows.len()];
        for (output, group) in Self::group(rows.iter().enumerate()) {
            self.ensure(output).await?;
            let encoded: Vec<Result<Value, String>> = match output {
                Output::Native(table) => {
                    let refs: Vec<&Row> = group.iter().map(|(_, r)| *r).collect();
                    native_json_rows(table, &refs)
                        .into_iter()
                        .map(|r| r.map_err(|e| e.to_string()))
                        .collect()
                }
                Output::Reference(_) => group.iter().map(|(_, r)| reference_json_row(r)).collect(),
            };
            let mut inserts: Vec<(String, Value)> = Vec::with_capacity(group.len());
            let mut positions: Vec<usize> = Vec::with_capacity(group.len());
            for ((index, row), json) in group.iter().zip(encoded) {
                match json {
                    Ok(json) => {
                        inserts.push((Self::insert_id(row), json));
                        positions.push(*index);
                    }
                    Err(reason) => dispositions[*index] = Some(Disposition::Rejected(reason)),
                }
            }
            if inserts.is_empty() {
                continue;
            }
            let table = output.table_name();
            let span = info_span!("bigquery.insert", table, rows = inserts.len());
            let outcomes = match self
                .client
                .insert_all(table, &inserts)
                .instrument(span)
                .await
            {
                Ok(outcomes) => outcomes,
                Err(error) => {
                    if error.is_not_found() {
                        // Dropped while the sink ran: recreate it next time.
                        self.ensured.remove(&output);
                    }
                    return Err(error);
                }
            };
            for (index, outcome) in positions.into_iter().zip(outcomes) {
                dispositions[index] = Some(match outcome {
                    Ok(()) => Disposition::Written,
                    Err(reason) => Disposition::Rejected(format!("{table}: {reason}")),
                });
            }
        }
        Ok(dispositions
            .into_iter()
            .map(|d| {
                d.unwrap_or_else(|| Disposition::Rejected("no outcome (a bug in the sink)".into()))
            })
            .collect())
    }

    async fn find_written(
        &mut self,
        rows: &[Row],
        ack_floor: u64,
    ) -> Result<HashSet<RowKey>, BigQueryError> {
        let mut found = HashSet::new();
        let candidates = rows.iter().enumerate().filter(|(_, r)| {
            // Larger sequences cannot be stored, nor appear in SQL.
            r.sequence > ack_floor && i64::try_from(r.sequence).is_ok()
        });
        for (output, group) in Self::group(candidates) {
            self.ensure(output).await?;
            for chunk in group.chunks(SEQUENCES_PER_QUERY) {
                // sequence -> the row's _published in microseconds.
                let wanted: HashMap<u64, i64> = chunk
                    .iter()
                    .map(|(_, r)| (r.sequence, r.published.timestamp_micros()))
                    .collect();
                let sql = self.written_query(output, &wanted)?;
                for stored in self.client.query(&sql).await? {
                    let sequence = integer(&stored["s"]).and_then(|s| u64::try_from(s).ok());
                    let published = integer(&stored["p"]);
                    if let (Some(sequence), Some(published)) = (sequence, published) {
                        if wanted.get(&sequence) == Some(&published) {
                            found.insert(RowKey { output, sequence });
                        }
                    }
                }
            }
        }
        Ok(found)
    }

    /// The query for which of `wanted` (sequence → published µs) are
    /// stored. Only integers and a validated table reference go in; the
    /// `_published` range lets BigQuery prune partitions.
    fn written_query(
        &self,
        output: Output,
        wanted: &HashMap<u64, i64>,
    ) -> Result<String, BigQueryError> {
        let mut sequences: Vec<u64> = wanted.keys().copied().collect();
        sequences.sort_unstable();
        let list = sequences
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let min = wanted.values().min().copied().unwrap_or_default();
        let max = wanted.values().max().copied().unwrap_or_default();
        Ok(format!(
            "SELECT {SEQUENCE_COLUMN} AS s, UNIX_MICROS({PUBLISHED_COLUMN}) AS p FROM {table} \
             WHERE {SEQUENCE_COLUMN} IN ({list}) \
             AND {PUBLISHED_COLUMN} BETWEEN TIMESTAMP_MICROS({min}) AND TIMESTAMP_MICROS({max})",
            table = self.client.table_ref(output.table_name())?,
        ))
    }
}

/// An INTEGER result value (a decimal string, or a number).
fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

impl Writer for BigQueryWriter {
    fn kind(&self) -> &'static str {
        "bigquery"
    }

    /// The rows already in their tables: for each table, the candidates'
    /// `_stream_sequence`s are looked up (1000 per query) together with
    /// their `_published` time, so a row left by another stream with the
    /// same sequence is not mistaken for this one.
    async fn already_written(
        &mut self,
        rows: &[Row],
        ack_floor: u64,
    ) -> Result<HashSet<RowKey>, WriteError> {
        self.find_written(rows, ack_floor)
            .await
            .map_err(write_error)
    }

    async fn write(&mut self, rows: Vec<Row>) -> Result<Vec<Disposition>, WriteError> {
        self.write_rows(&rows).await.map_err(write_error)
    }
}

/// A BigQuery error as the sink sees it: transient when trying again may
/// work (see [`BigQueryError::is_transient`]).
fn write_error(error: BigQueryError) -> WriteError {
    if error.is_transient() {
        WriteError::transient(error)
    } else {
        WriteError::permanent(error)
    }
}
