//! The BigQuery destination's error type.

/// Why a BigQuery operation failed.
///
/// [`BigQueryError::is_transient`] says whether trying again later may
/// succeed (the server or network was unavailable); the others need a
/// change of configuration, permissions or data first.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BigQueryError {
    /// The configuration is unusable.
    #[error("bigquery configuration: {0}")]
    Config(String),
    /// Credentials could not be read or are not of a supported kind.
    #[error("bigquery credentials from {origin}: {reason}")]
    Credentials { origin: String, reason: String },
    /// An access token could not be obtained.
    #[error("bigquery access token from {origin}: {reason}")]
    Token {
        origin: String,
        reason: String,
        /// The token endpoint was unreachable or answered 5xx/429.
        transient: bool,
    },
    /// No answer: connection refused or reset, DNS failure, timeout.
    #[error(
        "bigquery {operation}: {reason}; check that the endpoint is reachable \
         (it is retried with backoff)"
    )]
    Transport { operation: String, reason: String },
    /// The server answered with an error status.
    #[error("bigquery {operation}: http {status} {reason}: {message}{hint}", hint = hint(*.status, reason))]
    Api {
        operation: String,
        status: u16,
        /// BigQuery's error reason (`invalid`, `notFound`, `accessDenied`,
        /// `backendError`…), or the HTTP reason phrase.
        reason: String,
        message: String,
    },
    /// The server answered 2xx with something this client cannot read.
    #[error("bigquery {operation}: unexpected response: {reason}")]
    Response { operation: String, reason: String },
    /// A query ran and failed.
    #[error("bigquery query failed: {message}; the query was: {sql}")]
    Query { sql: String, message: String },
}

impl BigQueryError {
    /// Whether the same request may succeed later without any change: the
    /// network or the service was unavailable, or a rate limit was hit.
    pub fn is_transient(&self) -> bool {
        match self {
            BigQueryError::Transport { .. } => true,
            BigQueryError::Token { transient, .. } => *transient,
            BigQueryError::Api { status, reason, .. } => is_transient_status(*status, reason),
            _ => false,
        }
    }

    /// Whether the server said the dataset or table does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, BigQueryError::Api { status: 404, .. })
    }

    /// The HTTP status, for an error the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            BigQueryError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Statuses worth retrying: request timeout, rate limits, and the server
/// being unavailable. A 500 is not among them: whether it is the server's
/// fault or the request's is for the caller to find out.
pub(crate) fn is_transient_status(status: u16, reason: &str) -> bool {
    matches!(status, 408 | 429 | 502 | 503 | 504)
        || (status == 403 && matches!(reason, "rateLimitExceeded" | "quotaExceeded"))
}

fn hint(status: u16, reason: &str) -> &'static str {
    match (status, reason) {
        (401, _) => "; the credentials were refused: check the key file or run `gcloud auth application-default login`",
        (403, "rateLimitExceeded" | "quotaExceeded") => "; a quota was hit: it is retried with backoff",
        (403, _) => {
            "; the principal lacks a permission: grant it roles/bigquery.dataEditor on the dataset \
             and roles/bigquery.jobUser on the project"
        }
        (404, _) => "; check bigquery.project and bigquery.dataset (the sink creates missing tables)",
        (429 | 502 | 503 | 504, _) => "; the service is busy or unavailable: it is retried with backoff",
        _ => "",
    }
}
