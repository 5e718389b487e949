//! The BigQuery REST API's messages this client sends and reads, typed.
//!
//! Requests are built from these structs, so a misspelt or misplaced key
//! cannot reach the server; responses are read into them with every field
//! optional, because BigQuery-compatible servers (the emulator) leave some
//! out. Only the fields the client uses are modelled; serde ignores the
//! rest. Row values stay `serde_json::Value`: their shape is the table's.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `datasets.insert`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DatasetInsert<'a> {
    pub dataset_reference: DatasetReference<'a>,
    pub location: &'a str,
    pub description: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DatasetReference<'a> {
    pub project_id: &'a str,
    pub dataset_id: &'a str,
}

/// `datasets.get`, as far as it is read.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Dataset {
    pub location: Option<String>,
}

/// `tables.insert`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TableInsert<'a> {
    pub table_reference: TableReference<'a>,
    pub schema: TableSchema,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_partitioning: Option<TimePartitioning<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TableReference<'a> {
    pub project_id: &'a str,
    pub dataset_id: &'a str,
    pub table_id: &'a str,
}

/// Day partitions on a TIMESTAMP column.
#[derive(Debug, Serialize)]
pub(crate) struct TimePartitioning<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub field: &'a str,
}

/// `tables.patch` adding columns.
#[derive(Debug, Serialize)]
pub(crate) struct TablePatch {
    pub schema: TableSchema,
}

/// `tables.get`, as far as it is read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Table {
    pub schema: TableSchema,
}

/// A table's columns.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TableSchema {
    pub fields: Vec<TableFieldSchema>,
}

/// One column: BigQuery's `TableFieldSchema`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TableFieldSchema {
    pub name: String,
    /// `STRING`, `INTEGER`, `RECORD`… (legacy names, as the REST API
    /// uses them).
    #[serde(rename = "type")]
    pub kind: String,
    /// `NULLABLE`, `REQUIRED` or `REPEATED`; absent means `NULLABLE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// A RECORD's columns.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<TableFieldSchema>,
}

impl TableFieldSchema {
    /// The columns of a `fields` array as [`super::schema`] builds it.
    pub(crate) fn list(fields: &Value) -> Result<Vec<Self>, serde_json::Error> {
        serde_json::from_value(fields.clone())
    }

    /// The mode, `NULLABLE` when absent.
    pub fn mode(&self) -> &str {
        self.mode.as_deref().unwrap_or("NULLABLE")
    }
}

/// One row of `tabledata.insertAll`; the request itself is written by hand
/// around rows serialised once (see `insert_body`), with these options.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InsertRow<'a> {
    pub insert_id: &'a str,
    pub json: &'a Value,
}

/// The options of every `tabledata.insertAll` request.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InsertOptions {
    pub skip_invalid_rows: bool,
    pub ignore_unknown_values: bool,
}

/// The options the sink sends: a refused row does not hold back the
/// others, and an unknown column is an error, not dropped.
pub(crate) const INSERT_OPTIONS: InsertOptions = InsertOptions {
    skip_invalid_rows: true,
    ignore_unknown_values: false,
};

/// `tabledata.insertAll`'s answer.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct InsertAllResponse {
    pub insert_errors: Vec<RowErrors>,
}

/// The errors of one row, by its index in the request.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RowErrors {
    pub index: Option<u64>,
    pub errors: Vec<ErrorProto>,
}

/// BigQuery's `ErrorProto`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct ErrorProto {
    pub reason: Option<String>,
    pub location: Option<String>,
    pub message: Option<String>,
}

/// The body of an error status.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ErrorResponse {
    pub error: Option<ErrorBody>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ErrorBody {
    pub message: Option<String>,
    pub status: Option<String>,
    pub errors: Vec<ErrorProto>,
}

/// `jobs.query`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QueryRequest<'a> {
    pub query: &'a str,
    pub use_legacy_sql: bool,
    pub location: &'a str,
    pub timeout_ms: u64,
    pub max_results: u32,
    pub format_options: FormatOptions,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FormatOptions {
    /// TIMESTAMP values as integer microseconds, not float seconds.
    pub use_int64_timestamp: bool,
}

/// `jobs.query` and `jobs.getQueryResults` answers.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct QueryResponse {
    /// Absent is taken as complete (the emulator leaves it out).
    pub job_complete: Option<bool>,
    pub job_reference: Option<JobReference>,
    pub schema: TableSchema,
    pub rows: Vec<Value>,
    pub page_token: Option<String>,
    pub errors: Vec<ErrorProto>,
    pub status: Option<JobStatus>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct JobReference {
    pub job_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct JobStatus {
    pub error_result: Option<ErrorProto>,
}

/// A response whose content is not read.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Ignored {}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn requests_serialise_with_the_rest_api_names() {
        let table = TableInsert {
            table_reference: TableReference {
                project_id: "p",
                dataset_id: "d",
                table_id: "t",
            },
            schema: TableSchema {
                fields: vec![TableFieldSchema {
                    name: "r".into(),
                    kind: "RECORD".into(),
                    mode: Some("REPEATED".into()),
                    fields: vec![TableFieldSchema {
                        name: "k".into(),
                        kind: "STRING".into(),
                        mode: None,
                        fields: vec![],
                    }],
                }],
            },
            time_partitioning: Some(TimePartitioning {
                kind: "DAY",
                field: "_published",
            }),
        };
        assert_eq!(
            serde_json::to_value(&table).unwrap(),
            json!({
                "tableReference": {"projectId": "p", "datasetId": "d", "tableId": "t"},
                "schema": {"fields": [{"name": "r", "type": "RECORD", "mode": "REPEATED",
                    "fields": [{"name": "k", "type": "STRING"}]}]},
                "timePartitioning": {"type": "DAY", "field": "_published"},
            })
        );
        let query = QueryRequest {
            query: "SELECT 1",
            use_legacy_sql: false,
            location: "US",
            timeout_ms: 5,
            max_results: 10,
            format_options: FormatOptions {
                use_int64_timestamp: true,
            },
        };
        assert_eq!(
            serde_json::to_value(&query).unwrap(),
            json!({"query": "SELECT 1", "useLegacySql": false, "location": "US",
                   "timeoutMs": 5, "maxResults": 10,
                   "formatOptions": {"useInt64Timestamp": true}})
        );
    }

    #[test]
    fn responses_with_missing_or_unknown_fields_still_read() {
        let response: QueryResponse =
            serde_json::from_value(json!({"kind": "x", "rows": [{"f": []}]})).unwrap();
        assert_eq!(response.job_complete, None);
        assert_eq!(response.rows.len(), 1);
        assert!(response.schema.fields.is_empty());
        let errors: InsertAllResponse = serde_json::from_value(json!({})).unwrap();
        assert!(errors.insert_errors.is_empty());
    }
}
