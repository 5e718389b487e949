//! A small client for the BigQuery REST API (v2): the dataset and tables
//! the sink needs, streaming inserts, and queries.
//!
//! Written here rather than taken from `gcp-bigquery-client`: that crate
//! brings its own HTTP and OAuth stacks (yup-oauth2, a second reqwest),
//! and the sink needs what it does not give: per-row outcomes sorted into
//! refused and retried, a refused request split until the bad rows are
//! alone, and insert ids bounded to BigQuery's limit. The requests and
//! answers are typed in [`super::model`]; tokens come from `gcp_auth`.
//!
//! # Failures
//!
//! Every request is retried, up to [`BigQueryConfig::retries`] times with
//! exponential backoff, when it got no answer (connection error, timeout)
//! or a transient status (408, 429, 502, 503, 504, 403 rate limits). Other
//! statuses are errors
//! returned to the caller, except in [`BigQueryClient::insert_all`], which
//! sorts out which rows are at fault; see there.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tracing::{debug, info, warn};

use super::auth::Authenticator;
use super::config::{is_identifier, BigQueryConfig};
use super::error::BigQueryError;
use super::model::{
    Dataset, DatasetInsert, DatasetReference, ErrorProto, ErrorResponse, FormatOptions, Ignored,
    InsertAllResponse, InsertRow, QueryRequest, QueryResponse, Table, TableFieldSchema,
    TableInsert, TablePatch, TableReference, TableSchema, TimePartitioning, INSERT_OPTIONS,
};
use super::schema::merge;

/// The longest delay between two retries.
const MAX_BACKOFF: Duration = Duration::from_secs(32);
/// Bytes of an insert request besides its rows (the options and
/// `"rows":[]`), at most.
const INSERT_OVERHEAD: usize = 128;
/// BigQuery's longest insert id. Longer ids are replaced by a digest.
const MAX_INSERT_ID: usize = 128;
/// Rows per page asked of a query.
const QUERY_PAGE_ROWS: u32 = 10_000;

/// What became of one row given to [`BigQueryClient::insert_all`].
pub type InsertOutcome = Result<(), String>;

/// A BigQuery REST client bound to one project and dataset.
#[derive(Debug)]
pub struct BigQueryClient {
    http: reqwest::Client,
    auth: Authenticator,
    config: BigQueryConfig,
    project: String,
    /// `<endpoint>/bigquery/v2/projects/<project>/`
    root: url::Url,
}

impl BigQueryClient {
    /// A client for `config` (validated first), authenticating as its
    /// `credentials` say.
    ///
    /// No BigQuery request is made: a key file is read and checked, and
    /// tokens are fetched on first use (the application-default chain may
    /// fetch one while it looks for credentials).
    pub async fn new(config: BigQueryConfig) -> Result<Self, BigQueryError> {
        config.validate()?;
        let project = config.project()?.to_owned();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("paddock-sink/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BigQueryError::Config(format!("building the HTTP client: {e}")))?;
        let mut root = url::Url::parse(&config.endpoint)
            .map_err(|e| BigQueryError::Config(format!("bigquery.endpoint: {e}")))?;
        root.path_segments_mut()
            .map_err(|()| {
                BigQueryError::Config(format!(
                    "bigquery.endpoint {:?} cannot be a base URL",
                    config.endpoint
                ))
            })?
            .pop_if_empty()
            .extend(["bigquery", "v2", "projects", &project, ""]);
        let auth = Authenticator::new(&config.credentials, config.timeout).await?;
        info!(
            project = %project,
            dataset = %config.dataset,
            endpoint = %config.endpoint,
            credentials = %auth.describe(),
            "bigquery client ready"
        );
        Ok(Self {
            http,
            auth,
            config,
            project,
            root,
        })
    }

    pub fn config(&self) -> &BigQueryConfig {
        &self.config
    }

    pub fn project(&self) -> &str {
        &self.project
    }

    pub fn dataset(&self) -> &str {
        &self.config.dataset
    }

    /// `` `project.dataset.table` `` for SQL. The names are validated
    /// identifiers, so the quoting cannot be broken out of.
    pub fn table_ref(&self, table: &str) -> Result<String, BigQueryError> {
        check_table(table)?;
        Ok(format!(
            "`{}.{}.{}`",
            self.project, self.config.dataset, table
        ))
    }

    fn url(&self, segments: &[&str]) -> url::Url {
        let mut url = self.root.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Creates the dataset in the configured location unless it exists.
    pub async fn ensure_dataset(&self) -> Result<(), BigQueryError> {
        let dataset = self.config.dataset.as_str();
        let url = self.url(&["datasets", dataset]);
        match self
            .call::<Dataset>("get dataset", Method::GET, url, None, true)
            .await
        {
            Ok(existing) => {
                let location = existing.location.unwrap_or_default();
                if !location.is_empty() && !location.eq_ignore_ascii_case(&self.config.location) {
                    warn!(
                        dataset,
                        location,
                        configured = %self.config.location,
                        "the dataset is in another location than bigquery.location: queries run \
                         in the configured one and may not find it; set bigquery.location to {location}"
                    );
                }
                Ok(())
            }
            Err(error) if error.is_not_found() => {
                let body = json_body(&DatasetInsert {
                    dataset_reference: DatasetReference {
                        project_id: &self.project,
                        dataset_id: dataset,
                    },
                    location: &self.config.location,
                    description: "Paddock: releases, analysis results, verdicts and alerts",
                })?;
                match self
                    .call::<Ignored>(
                        "create dataset",
                        Method::POST,
                        self.url(&["datasets"]),
                        Some(body),
                        true,
                    )
                    .await
                {
                    Ok(_) => {
                        info!(dataset, location = %self.config.location, "created the bigquery dataset");
                        Ok(())
                    }
                    // Created by another sink meanwhile.
                    Err(error) if error.status() == Some(409) => Ok(()),
                    Err(error) => Err(error),
                }
            }
            Err(error) => Err(error),
        }
    }

    /// The columns of table `name`, `None` when it does not exist.
    pub async fn table_schema(&self, name: &str) -> Result<Option<TableSchema>, BigQueryError> {
        check_table(name)?;
        let url = self.url(&["datasets", &self.config.dataset, "tables", name]);
        match self
            .call::<Table>("get table", Method::GET, url, None, true)
            .await
        {
            Ok(table) => Ok(Some(table.schema)),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Creates table `name` with `fields` (a BigQuery `fields` array, as
    /// [`super::schema`] builds it), day-partitioned on `partition_field` if
    /// given, unless it exists. An existing table gets the columns of
    /// `fields` it lacks (as NULLABLE), so a field added to the protos
    /// appears without a migration; a column whose type differs is logged,
    /// not changed.
    ///
    /// The emulator records an added column in its catalog but not in its
    /// storage, so there inserts into a table that was widened fail.
    pub async fn ensure_table(
        &self,
        name: &str,
        fields: &Value,
        partition_field: Option<&str>,
    ) -> Result<(), BigQueryError> {
        check_table(name)?;
        let wanted = TableFieldSchema::list(fields).map_err(|e| {
            BigQueryError::Config(format!("the columns of table {name} are malformed: {e}"))
        })?;
        match self.table_schema(name).await? {
            Some(existing) => {
                let have = to_values(&existing.fields)?;
                let merge = merge(&have, &to_values(&wanted)?);
                for conflict in &merge.conflicts {
                    warn!(
                        table = name,
                        conflict = %conflict,
                        "a bigquery column differs from the sink's schema; rows with a value \
                         there are refused until the column is fixed or the table recreated"
                    );
                }
                if merge.added.is_empty() {
                    return Ok(());
                }
                let fields = TableFieldSchema::list(&Value::Array(merge.fields)).map_err(|e| {
                    BigQueryError::Config(format!("merging the columns of table {name}: {e}"))
                })?;
                let body = json_body(&TablePatch {
                    schema: TableSchema { fields },
                })?;
                let url = self.url(&["datasets", &self.config.dataset, "tables", name]);
                self.call::<Ignored>("add columns", Method::PATCH, url, Some(body), true)
                    .await?;
                info!(table = name, columns = ?merge.added, "added columns to the bigquery table");
                Ok(())
            }
            None => {
                let body = json_body(&TableInsert {
                    table_reference: TableReference {
                        project_id: &self.project,
                        dataset_id: &self.config.dataset,
                        table_id: name,
                    },
                    schema: TableSchema {
                        fields: wanted.clone(),
                    },
                    time_partitioning: partition_field
                        .map(|field| TimePartitioning { kind: "DAY", field }),
                })?;
                let url = self.url(&["datasets", &self.config.dataset, "tables"]);
                match self
                    .call::<Ignored>("create table", Method::POST, url, Some(body), true)
                    .await
                {
                    Ok(_) => {
                        info!(table = name, "created the bigquery table");
                        Ok(())
                    }
                    Err(error) if error.status() == Some(409) => Ok(()),
                    Err(error) if matches!(error.status(), Some(400 | 500)) => {
                        // Some BigQuery-compatible servers (the emulator)
                        // cannot take a nested field named like a SQL
                        // keyword (`Evidence.column`) through tables.insert;
                        // GoogleSQL DDL, with every name quoted, works on
                        // them and on BigQuery alike.
                        warn!(table = name, %error, "creating the table through the API failed; trying DDL");
                        self.create_with_ddl(name, &wanted, partition_field)
                            .await
                            .map_err(|ddl| BigQueryError::Api {
                                operation: format!("create table {name}"),
                                status: error.status().unwrap_or(500),
                                reason: "invalid".into(),
                                message: format!("{error}; then with DDL: {ddl}"),
                            })
                    }
                    Err(error) => Err(error),
                }
            }
        }
    }

    /// Creates table `name` with `CREATE TABLE IF NOT EXISTS` (every name
    /// quoted), day-partitioned on `partition_field`.
    async fn create_with_ddl(
        &self,
        name: &str,
        fields: &[TableFieldSchema],
        partition_field: Option<&str>,
    ) -> Result<(), BigQueryError> {
        let columns: Vec<String> = fields
            .iter()
            .map(|f| {
                let required = if f.mode() == "REQUIRED" {
                    " NOT NULL"
                } else {
                    ""
                };
                Ok(format!("{} {}{required}", quoted(f)?, ddl_type(f)?))
            })
            .collect::<Result<_, BigQueryError>>()?;
        let mut sql = format!(
            "CREATE TABLE IF NOT EXISTS {} ({})",
            self.table_ref(name)?,
            columns.join(", ")
        );
        if let Some(field) = partition_field {
            check_table(field)?;
            sql.push_str(&format!(" PARTITION BY DATE(`{field}`)"));
        }
        self.query(&sql).await?;
        info!(table = name, "created the bigquery table with DDL");
        Ok(())
    }

    /// Streams `rows` (insert id, JSON row) into `table`, and says per row
    /// (same order) whether it was stored or why BigQuery refused it.
    ///
    /// Rows go in requests of at most `batch_rows` rows and
    /// `max_request_bytes` bytes, with `skipInvalidRows`, so a refused row
    /// does not hold back the others. An insert id longer than BigQuery's
    /// 128 characters is replaced by its SHA-256 (still the same on
    /// every retry).
    ///
    /// - A row BigQuery reports as `invalid` is `Err(reason)`.
    /// - A row reported as not inserted for a passing reason (`timeout`,
    ///   `backendError`, `stopped`) is sent again, up to `retries` times.
    /// - A request refused as a whole (400, 413 or 500: one row the server
    ///   cannot even parse spoils the request) is split in halves until the
    ///   rows at fault are alone; a 500 is first retried `retries` times.
    ///   A lone row refused that way is `Err` with the server's message —
    ///   unless the server refused every request of the call with a 500,
    ///   which is an outage, not bad rows: then the call fails.
    ///
    /// # Errors
    ///
    /// When nothing can be said about some rows: the service stayed
    /// unavailable through the retries, the credentials or permissions
    /// were refused, or the table does not exist. Insert ids make a later
    /// retry of every row safe within BigQuery's deduplication window.
    pub async fn insert_all(
        &self,
        table: &str,
        rows: &[(String, Value)],
    ) -> Result<Vec<InsertOutcome>, BigQueryError> {
        check_table(table)?;
        let entries: Vec<Vec<u8>> = rows
            .iter()
            .map(|(id, row)| {
                let entry = InsertRow {
                    insert_id: &bounded_insert_id(id),
                    json: row,
                };
                serde_json::to_vec(&entry).map_err(|e| BigQueryError::Response {
                    operation: "insert".into(),
                    reason: format!("encoding a row: {e}"),
                })
            })
            .collect::<Result<_, _>>()?;
        let url = self.url(&[
            "datasets",
            &self.config.dataset,
            "tables",
            table,
            "insertAll",
        ]);
        let mut state = InsertState {
            outcomes: vec![None; rows.len()],
            any_succeeded: false,
            suspects: Vec::new(),
        };
        // Work items, last first: the rows of one request.
        let mut pending: Vec<Pending> = self
            .chunks(&entries)
            .into_iter()
            .rev()
            .map(|rows| Pending {
                rows,
                attempt: 0,
                whole: true,
            })
            .collect();
        while let Some(item) = pending.pop() {
            let body = insert_body(&entries, &item.rows);
            match self.send_insert(url.clone(), body).await {
                Ok(response) => {
                    state.any_succeeded = true;
                    let retry = state.record(&item.rows, &response);
                    if !retry.is_empty() {
                        if item.attempt >= self.config.retries {
                            return Err(BigQueryError::Api {
                                operation: format!("insert into {table}"),
                                status: 200,
                                reason: "rows not inserted".into(),
                                message: format!(
                                    "{} rows were still reported as not inserted (timeout or \
                                     backend error) after {} attempts",
                                    retry.len(),
                                    item.attempt + 1
                                ),
                            });
                        }
                        tokio::time::sleep(self.backoff(item.attempt)).await;
                        pending.push(Pending {
                            rows: retry,
                            attempt: item.attempt + 1,
                            whole: false,
                        });
                    }
                }
                Err(error) if matches!(error.status(), Some(400 | 413 | 500)) => {
                    let server_error = error.status() == Some(500);
                    if server_error && item.whole && item.attempt < self.config.retries {
                        debug!(table, rows = item.rows.len(), %error, "insert refused, retrying");
                        tokio::time::sleep(self.backoff(item.attempt)).await;
                        pending.push(Pending {
                            attempt: item.attempt + 1,
                            ..item
                        });
                    } else if item.rows.len() > 1 {
                        debug!(table, rows = item.rows.len(), %error, "insert refused, splitting");
                        let mut left = item.rows;
                        let right = left.split_off(left.len() / 2);
                        for rows in [right, left] {
                            pending.push(Pending {
                                rows,
                                attempt: item.attempt,
                                whole: false,
                            });
                        }
                    } else {
                        state.suspects.push(Suspect {
                            row: item.rows[0],
                            server_error,
                            retried: item.whole && item.attempt >= self.config.retries,
                            error,
                        });
                    }
                }
                Err(error) => return Err(error),
            }
        }
        state.finish(table)
    }

    /// Consecutive rows in requests of at most `batch_rows` rows and
    /// `max_request_bytes` bytes (a larger row alone).
    fn chunks(&self, entries: &[Vec<u8>]) -> Vec<Vec<usize>> {
        let mut chunks = Vec::new();
        let mut current: Vec<usize> = Vec::new();
        let mut bytes = INSERT_OVERHEAD;
        for (index, entry) in entries.iter().enumerate() {
            let size = entry.len() + 1;
            if !current.is_empty()
                && (current.len() >= self.config.batch_rows
                    || bytes + size > self.config.max_request_bytes)
            {
                chunks.push(std::mem::take(&mut current));
                bytes = INSERT_OVERHEAD;
            }
            current.push(index);
            bytes += size;
        }
        if !current.is_empty() {
            chunks.push(current);
        }
        chunks
    }

    async fn send_insert(
        &self,
        url: url::Url,
        body: Bytes,
    ) -> Result<InsertAllResponse, BigQueryError> {
        self.call("insert", Method::POST, url, Some(body), false)
            .await
    }

    /// Runs a GoogleSQL query and returns its rows as JSON objects keyed by
    /// column name, following every page. Values are as BigQuery's REST
    /// API gives them: strings for scalars (INTEGER `"5"`, FLOAT `"0.5"`,
    /// BOOLEAN `"true"`, BYTES base64, TIMESTAMP microseconds since the
    /// epoch), objects for RECORDs, arrays for REPEATED columns, null for
    /// NULL.
    ///
    /// Waits for the query up to ten times `timeout`.
    pub async fn query(&self, sql: &str) -> Result<Vec<Value>, BigQueryError> {
        let deadline = Instant::now() + self.config.timeout * 10;
        let wait_ms = u64::try_from(self.config.timeout.as_millis()).unwrap_or(u64::MAX);
        let body = json_body(&QueryRequest {
            query: sql,
            use_legacy_sql: false,
            location: &self.config.location,
            timeout_ms: wait_ms,
            max_results: QUERY_PAGE_ROWS,
            format_options: FormatOptions {
                use_int64_timestamp: true,
            },
        })?;
        let mut response: QueryResponse = self
            .call(
                "query",
                Method::POST,
                self.url(&["queries"]),
                Some(body),
                true,
            )
            .await
            .map_err(|e| query_error(sql, e))?;
        check_query_errors(sql, &response)?;
        let job = response
            .job_reference
            .as_ref()
            .and_then(|r| r.job_id.clone());
        let results_url = |page: Option<&str>| -> Result<url::Url, BigQueryError> {
            let job = job.as_deref().ok_or_else(|| BigQueryError::Response {
                operation: "query".into(),
                reason: "no jobReference.jobId to fetch the results with".into(),
            })?;
            let mut url = self.url(&["queries", job]);
            {
                let mut query = url.query_pairs_mut();
                query
                    .append_pair("location", &self.config.location)
                    .append_pair("timeoutMs", &wait_ms.to_string())
                    .append_pair("maxResults", &QUERY_PAGE_ROWS.to_string())
                    .append_pair("formatOptions.useInt64Timestamp", "true");
                if let Some(page) = page {
                    query.append_pair("pageToken", page);
                }
            }
            Ok(url)
        };
        while response.job_complete == Some(false) {
            if Instant::now() >= deadline {
                return Err(BigQueryError::Query {
                    sql: sql.to_owned(),
                    message: format!(
                        "not complete after {:?}; it is still running as job {}",
                        self.config.timeout * 10,
                        job.as_deref().unwrap_or("?")
                    ),
                });
            }
            response = self
                .call("query results", Method::GET, results_url(None)?, None, true)
                .await
                .map_err(|e| query_error(sql, e))?;
            check_query_errors(sql, &response)?;
        }
        let fields = std::mem::take(&mut response.schema.fields);
        let mut rows = Vec::new();
        loop {
            for row in &response.rows {
                rows.push(decode_row(&fields, row));
            }
            let Some(page) = response.page_token.take() else {
                break;
            };
            response = self
                .call(
                    "query results",
                    Method::GET,
                    results_url(Some(&page))?,
                    None,
                    true,
                )
                .await
                .map_err(|e| query_error(sql, e))?;
            check_query_errors(sql, &response)?;
        }
        Ok(rows)
    }

    /// A request with a JSON `body` (see [`json_body`]) whose answer is
    /// read as `R`; see [`Self::request`]. An empty answer is `R`'s
    /// default.
    async fn call<R: DeserializeOwned + Default>(
        &self,
        operation: &str,
        method: Method,
        url: url::Url,
        body: Option<Bytes>,
        retry_server_errors: bool,
    ) -> Result<R, BigQueryError> {
        let bytes = self
            .request(operation, method, url, body, retry_server_errors)
            .await?;
        if bytes.is_empty() {
            return Ok(R::default());
        }
        serde_json::from_slice(&bytes).map_err(|e| BigQueryError::Response {
            operation: operation.to_owned(),
            reason: format!("not the expected JSON: {e}"),
        })
    }

    /// Sends a request with the token, retrying transient failures (and
    /// 500s when `retry_server_errors`), and returns the 2xx response's
    /// body.
    async fn request(
        &self,
        operation: &str,
        method: Method,
        url: url::Url,
        body: Option<Bytes>,
        retry_server_errors: bool,
    ) -> Result<Bytes, BigQueryError> {
        let mut attempt = 0;
        loop {
            let result = self
                .request_once(operation, method.clone(), url.clone(), body.clone())
                .await;
            let error = match result {
                Ok(bytes) => return Ok(bytes),
                Err(error) => error,
            };
            let retryable = error.is_transient()
                || (retry_server_errors && error.status().is_some_and(|s| s >= 500));
            if !retryable || attempt >= self.config.retries {
                return Err(error);
            }
            let delay = self.backoff(attempt);
            warn!(operation, attempt = attempt + 1, ?delay, %error, "bigquery request failed, retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn request_once(
        &self,
        operation: &str,
        method: Method,
        url: url::Url,
        body: Option<Bytes>,
    ) -> Result<Bytes, BigQueryError> {
        let mut request = self.http.request(method, url);
        if let Some(header) = self.auth.authorization().await? {
            request = request.header(reqwest::header::AUTHORIZATION, header);
        }
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let transport = |e: reqwest::Error| BigQueryError::Transport {
            operation: operation.to_owned(),
            reason: if e.is_timeout() {
                format!("timed out: {e}")
            } else {
                e.to_string()
            },
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        if status.is_success() {
            return Ok(bytes);
        }
        Err(api_error(operation, status, &bytes))
    }

    fn backoff(&self, attempt: u32) -> Duration {
        paddock_proto::backoff::Backoff {
            initial: self.config.retry_backoff,
            max: MAX_BACKOFF,
        }
        .delay(attempt.into())
    }
}

/// One insert request's rows, by index into the call's rows.
struct Pending {
    rows: Vec<usize>,
    attempt: u32,
    /// Rows as first chunked (not split, not a retry of some rows): only
    /// these are retried on a 500 before splitting.
    whole: bool,
}

/// A row alone in a request that the server refused as a whole.
struct Suspect {
    row: usize,
    server_error: bool,
    /// It was retried `retries` times by itself.
    retried: bool,
    error: BigQueryError,
}

struct InsertState {
    outcomes: Vec<Option<InsertOutcome>>,
    any_succeeded: bool,
    suspects: Vec<Suspect>,
}

impl InsertState {
    /// Records a 2xx response to the request of `rows`; returns the rows to
    /// send again.
    fn record(&mut self, rows: &[usize], response: &InsertAllResponse) -> Vec<usize> {
        let mut errors: HashMap<usize, Vec<&ErrorProto>> = HashMap::new();
        for entry in &response.insert_errors {
            if let Some(index) = entry.index.and_then(|i| usize::try_from(i).ok()) {
                errors.entry(index).or_default().extend(&entry.errors);
            }
        }
        let mut retry = Vec::new();
        for (position, &row) in rows.iter().enumerate() {
            let Some(errors) = errors.get(&position) else {
                self.outcomes[row] = Some(Ok(()));
                continue;
            };
            let passing = !errors.is_empty()
                && errors.iter().all(|e| {
                    matches!(
                        e.reason.as_deref().unwrap_or_default(),
                        "stopped" | "timeout" | "backendError" | "internalError"
                    )
                });
            if passing {
                retry.push(row);
            } else {
                self.outcomes[row] = Some(Err(describe_row_errors(errors)));
            }
        }
        retry
    }

    fn finish(mut self, table: &str) -> Result<Vec<InsertOutcome>, BigQueryError> {
        let outage = !self.any_succeeded
            && !self.suspects.is_empty()
            && self.suspects.iter().all(|s| s.server_error && !s.retried);
        if outage {
            let first = self.suspects.swap_remove(0).error;
            return Err(BigQueryError::Api {
                operation: format!("insert into {table}"),
                status: 500,
                reason: "every request failed".into(),
                message: format!(
                    "the server refused every insert request of the batch ({first}); \
                     that is an outage, not bad rows: the rows are retried later"
                ),
            });
        }
        for suspect in self.suspects {
            let message = match &suspect.error {
                BigQueryError::Api {
                    status,
                    reason,
                    message,
                    ..
                } => format!("http {status} {reason}: {message}"),
                other => other.to_string(),
            };
            self.outcomes[suspect.row] = Some(Err(format!(
                "bigquery refused the insert request holding only this row: {message}"
            )));
        }
        Ok(self
            .outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err("no outcome (a bug in the sink)".to_owned())))
            .collect())
    }
}

/// `reason at location: message; …` of a row's insert errors.
fn describe_row_errors(errors: &[&ErrorProto]) -> String {
    if errors.is_empty() {
        return "bigquery refused the row without saying why".to_owned();
    }
    let parts: Vec<String> = errors
        .iter()
        .map(|e| {
            let reason = e.reason.as_deref().unwrap_or("error");
            let message = e.message.as_deref().unwrap_or_default();
            match e.location.as_deref().filter(|l| !l.is_empty()) {
                Some(location) => format!("{reason} at {location}: {message}"),
                None => format!("{reason}: {message}"),
            }
        })
        .collect();
    format!("bigquery refused the row: {}", parts.join("; "))
}

fn insert_body(entries: &[Vec<u8>], rows: &[usize]) -> Bytes {
    let size = INSERT_OVERHEAD + rows.iter().map(|&r| entries[r].len() + 1).sum::<usize>();
    let mut body = Vec::with_capacity(size);
    // `{<options>,"rows":[<entries>]}`, the rows serialised once for every
    // request they are retried or split into.
    let options = serde_json::to_vec(&INSERT_OPTIONS).unwrap_or_else(|_| b"{}".to_vec());
    body.extend_from_slice(&options[..options.len() - 1]);
    body.extend_from_slice(br#","rows":["#);
    for (i, &row) in rows.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&entries[row]);
    }
    body.extend_from_slice(b"]}");
    Bytes::from(body)
}

/// The insert id as given, or `sha256:<hex>` of it when it is longer than
/// BigQuery accepts.
fn bounded_insert_id(id: &str) -> String {
    if id.len() <= MAX_INSERT_ID {
        return id.to_owned();
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, id.as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// A field's name, backquoted, after checking it is an identifier.
fn quoted(field: &TableFieldSchema) -> Result<String, BigQueryError> {
    check_table(&field.name)?;
    Ok(format!("`{}`", field.name))
}

/// A field's GoogleSQL type (without NOT NULL), from its REST schema form.
fn ddl_type(field: &TableFieldSchema) -> Result<String, BigQueryError> {
    let base = match field.kind.as_str() {
        "RECORD" | "STRUCT" => {
            let children: Vec<String> = field
                .fields
                .iter()
                .map(|c| Ok(format!("{} {}", quoted(c)?, ddl_type(c)?)))
                .collect::<Result<_, BigQueryError>>()?;
            format!("STRUCT<{}>", children.join(", "))
        }
        "INTEGER" | "INT64" => "INT64".to_owned(),
        "FLOAT" | "FLOAT64" => "FLOAT64".to_owned(),
        "BOOLEAN" | "BOOL" => "BOOL".to_owned(),
        other @ ("STRING" | "BYTES" | "TIMESTAMP" | "DATE" | "NUMERIC" | "JSON") => {
            other.to_owned()
        }
        other => {
            return Err(BigQueryError::Config(format!(
                "column {}: no DDL type for `{other}`",
                field.name
            )))
        }
    };
    Ok(if field.mode() == "REPEATED" {
        format!("ARRAY<{base}>")
    } else {
        base
    })
}

/// A request body.
fn json_body<T: Serialize>(body: &T) -> Result<Bytes, BigQueryError> {
    serde_json::to_vec(body)
        .map(Bytes::from)
        .map_err(|e| BigQueryError::Config(format!("encoding a request: {e}")))
}

/// Columns as the `fields` JSON [`merge`] works on.
fn to_values(fields: &[TableFieldSchema]) -> Result<Vec<Value>, BigQueryError> {
    fields
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()
        .map_err(|e| BigQueryError::Config(format!("encoding columns: {e}")))
}

fn check_table(name: &str) -> Result<(), BigQueryError> {
    if is_identifier(name) {
        Ok(())
    } else {
        Err(BigQueryError::Config(format!(
            "{name:?} is not a table id this client writes (letters, digits and underscores)"
        )))
    }
}

/// The error of a non-2xx response, from BigQuery's error body
/// `{"error": {"code", "message", "errors": [{"reason", "message"}], "status"}}`.
fn api_error(operation: &str, status: StatusCode, body: &[u8]) -> BigQueryError {
    let parsed: Option<ErrorResponse> = serde_json::from_slice(body).ok();
    let error = parsed.and_then(|p| p.error);
    let reason = error
        .as_ref()
        .and_then(|e| {
            e.errors
                .first()
                .and_then(|first| first.reason.clone())
                .or(e.status.clone())
        })
        .unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("error")
                .to_ascii_lowercase()
        });
    let message = error
        .and_then(|e| e.message)
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(500).collect());
    BigQueryError::Api {
        operation: operation.to_owned(),
        status: status.as_u16(),
        reason,
        message,
    }
}

fn query_error(sql: &str, error: BigQueryError) -> BigQueryError {
    match error {
        BigQueryError::Api {
            status: 400,
            message,
            ..
        } => BigQueryError::Query {
            sql: sql.to_owned(),
            message,
        },
        other => other,
    }
}

/// A query response reporting failure: real BigQuery answers 400, the
/// emulator 200 with `errors` and no schema; a finished job may also carry
/// `status.errorResult`.
fn check_query_errors(sql: &str, response: &QueryResponse) -> Result<(), BigQueryError> {
    let failed = response
        .status
        .as_ref()
        .is_some_and(|s| s.error_result.is_some())
        || (!response.errors.is_empty() && response.schema.fields.is_empty());
    if !failed {
        return Ok(());
    }
    let message = response
        .status
        .iter()
        .filter_map(|s| s.error_result.as_ref())
        .chain(&response.errors)
        .map(|e| {
            format!(
                "{}: {}",
                e.reason.as_deref().unwrap_or("error"),
                e.message.as_deref().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    Err(BigQueryError::Query {
        sql: sql.to_owned(),
        message,
    })
}

/// A result row (`{"f": [{"v": …}, …]}`) as an object keyed by column.
fn decode_row(fields: &[TableFieldSchema], row: &Value) -> Value {
    let cells = row["f"].as_array().map(Vec::as_slice).unwrap_or_default();
    let object = fields
        .iter()
        .zip(cells)
        .map(|(field, cell)| (field.name.clone(), decode_value(field, &cell["v"])))
        .collect();
    Value::Object(object)
}

fn decode_value(field: &TableFieldSchema, value: &Value) -> Value {
    if value.is_null() {
        return Value::Null;
    }
    if field.mode() == "REPEATED" {
        return Value::Array(
            value
                .as_array()
                .into_iter()
                .flatten()
                .map(|item| decode_single(field, &item["v"]))
                .collect(),
        );
    }
    decode_single(field, value)
}

fn decode_single(field: &TableFieldSchema, value: &Value) -> Value {
    match field.kind.as_str() {
        "RECORD" | "STRUCT" if !value.is_null() => decode_row(&field.fields, value),
        _ => value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn long_insert_ids_are_digested() {
        assert_eq!(bounded_insert_id("m-1/releases"), "m-1/releases");
        let long = "x".repeat(200);
        let id = bounded_insert_id(&long);
        assert_eq!(id.len(), "sha256:".len() + 64);
        assert_eq!(id, bounded_insert_id(&long));
    }

    #[test]
    fn insert_bodies_are_valid_json() {
        let entries = vec![
            br#"{"insertId":"a","json":{}}"#.to_vec(),
            br#"{"insertId":"b","json":{"x":1}}"#.to_vec(),
        ];
        let body: Value = serde_json::from_slice(&insert_body(&entries, &[1, 0])).unwrap();
        assert_eq!(body["skipInvalidRows"], true);
        assert_eq!(body["ignoreUnknownValues"], false);
        assert_eq!(body["rows"][0]["insertId"], "b");
        assert_eq!(body["rows"][1]["insertId"], "a");
    }

    #[test]
    fn row_errors_are_sorted_into_refused_and_retried() {
        let mut state = InsertState {
            outcomes: vec![None; 5],
            any_succeeded: true,
            suspects: Vec::new(),
        };
        let response = json!({"insertErrors": [
            {"index": 0, "errors": [{"reason": "invalid", "location": "ts", "message": "bad ts"}]},
            {"index": 2, "errors": [{"reason": "stopped", "message": ""}]},
            {"index": 3, "errors": [{"reason": "timeout"}, {"reason": "backendError"}]},
        ]});
        // The request held rows 4, 3, 2, 1 of the call (request positions 0..3).
        let response = serde_json::from_value(response).unwrap();
        let retry = state.record(&[4, 3, 2, 1], &response);
        assert_eq!(retry, [2, 1]);
        assert_eq!(
            state.outcomes[4],
            Some(Err("bigquery refused the row: invalid at ts: bad ts".into()))
        );
        assert_eq!(state.outcomes[3], Some(Ok(())));
        assert_eq!(state.outcomes[2], None);
    }

    #[test]
    fn an_all_500_call_is_an_outage_but_one_refused_row_among_others_is_not() {
        let error = || BigQueryError::Api {
            operation: "insert".into(),
            status: 500,
            reason: "internalError".into(),
            message: "An internal error occurred".into(),
        };
        let outage = InsertState {
            outcomes: vec![None, None],
            any_succeeded: false,
            suspects: vec![
                Suspect {
                    row: 0,
                    server_error: true,
                    retried: false,
                    error: error(),
                },
                Suspect {
                    row: 1,
                    server_error: true,
                    retried: false,
                    error: error(),
                },
            ],
        };
        let result = outage.finish("t");
        assert!(result.is_err());
        assert!(result
            .unwrap_err()
            .to_string()
            .contains("that is an outage"));

        let mixed = InsertState {
            outcomes: vec![Some(Ok(())), None],
            any_succeeded: true,
            suspects: vec![Suspect {
                row: 1,
                server_error: true,
                retried: false,
                error: error(),
            }],
        };
        let outcomes = mixed.finish("t").unwrap();
        assert_eq!(outcomes[0], Ok(()));
        let refused = outcomes[1].as_ref().unwrap_err();
        assert!(refused.contains("http 500 internalError"), "{refused}");
    }

    #[test]
    fn result_rows_decode_records_and_repeated_fields() {
        let fields = json!([
            {"name": "a", "type": "STRING", "mode": "NULLABLE"},
            {"name": "r", "type": "RECORD", "mode": "REPEATED", "fields": [
                {"name": "k", "type": "STRING", "mode": "NULLABLE"},
                {"name": "tags", "type": "STRING", "mode": "REPEATED"},
            ]},
            {"name": "s", "type": "RECORD", "mode": "NULLABLE", "fields": [
                {"name": "x", "type": "BOOLEAN", "mode": "NULLABLE"},
            ]},
            {"name": "n", "type": "INTEGER", "mode": "NULLABLE"},
        ]);
        let row = json!({"f": [
            {"v": "x\"y"},
            {"v": [{"v": {"f": [{"v": "a"}, {"v": [{"v": "p"}, {"v": "q"}]}]}}]},
            {"v": {"f": [{"v": "true"}]}},
            {"v": null},
        ]});
        assert_eq!(
            decode_row(&TableFieldSchema::list(&fields).unwrap(), &row),
            json!({
                "a": "x\"y",
                "r": [{"k": "a", "tags": ["p", "q"]}],
                "s": {"x": "true"},
                "n": null,
            })
        );
    }

    #[test]
    fn api_errors_carry_bigquery_reasons() {
        let body = br#"{"error":{"code":404,"message":"Not found: Table p:d.t","errors":[{"reason":"notFound","message":"Not found: Table p:d.t"}],"status":"NOT_FOUND"}}"#;
        let error = api_error("get table", StatusCode::NOT_FOUND, body);
        assert!(error.is_not_found());
        assert_eq!(
            error.to_string(),
            "bigquery get table: http 404 notFound: Not found: Table p:d.t; check \
             bigquery.project and bigquery.dataset (the sink creates missing tables)"
        );
        let error = api_error("insert", StatusCode::SERVICE_UNAVAILABLE, b"<html>");
        assert!(error.is_transient());
        assert!(error
            .to_string()
            .contains("http 503 service unavailable: <html>"));
    }

    #[test]
    fn query_failures_are_recognised() {
        let emulator = json!({"jobComplete": true, "schema": {"fields": []}, "rows": [],
            "errors": [{"reason": "notFound", "message": "Not found: Table x"}]});
        let emulator = serde_json::from_value(emulator).unwrap();
        let error = check_query_errors("SELECT 1", &emulator).unwrap_err();
        assert_eq!(
            error.to_string(),
            "bigquery query failed: notFound: Not found: Table x; the query was: SELECT 1"
        );
        let fine = json!({"jobComplete": true, "schema": {"fields": [{"name": "a"}]},
            "errors": [{"reason": "warning", "message": "w"}]});
        check_query_errors("SELECT 1", &serde_json::from_value(fine).unwrap()).unwrap();
    }
}
