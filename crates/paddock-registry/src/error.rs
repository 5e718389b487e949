//! The registry crate's error type. Each message says what failed and, where
//! the user can do something about it, what to do.

use crate::extract::ExtractError;

/// What went wrong talking to a registry or handling its artifact.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("no {ecosystem} registry is configured: set {setting}{hint}")]
    NotConfigured {
        ecosystem: &'static str,
        setting: &'static str,
        hint: &'static str,
    },

    #[error("cannot reach the {ecosystem} registry at {url}: {reason}; check that it is reachable from this machine (or configure a mirror)")]
    Unreachable {
        ecosystem: &'static str,
        url: String,
        reason: String,
    },

    #[error("{what} not found at {url}")]
    NotFound { what: String, url: String },

    #[error("{url} answered HTTP {status}{retried}")]
    Status {
        url: String,
        status: u16,
        retried: String,
    },

    #[error("malformed response from {url}: {reason}")]
    Malformed { url: String, reason: String },

    #[error("{url} sent more than the limit of {limit} bytes")]
    TooLarge { url: String, limit: u64 },

    #[error("{package} has no version `{version}`")]
    NoSuchVersion { package: String, version: String },

    #[error("{package} has no releases that can be analysed: {reason}")]
    NoRelease { package: String, reason: String },

    #[error("{package} {version} has no artifact to analyse: {reason}")]
    NoArtifact {
        package: String,
        version: String,
        reason: String,
    },

    #[error("{filename} failed verification: {algorithm} expected {expected}, got {actual}")]
    DigestMismatch {
        filename: String,
        algorithm: String,
        expected: String,
        actual: String,
    },

    #[error("{filename} is {actual} bytes but the registry says {expected}")]
    SizeMismatch {
        filename: String,
        expected: u64,
        actual: u64,
    },

    #[error("invalid package name `{0}`")]
    InvalidName(String),

    #[error("cannot extract {filename}: {source}")]
    Extract {
        filename: String,
        source: ExtractError,
    },

    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl RegistryError {
    /// Whether trying again later may succeed (the feed retries these).
    pub fn is_transient(&self) -> bool {
        match self {
            RegistryError::Unreachable { .. } => true,
            RegistryError::Status { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}
