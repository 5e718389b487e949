//! What can go wrong writing, withdrawing and reading reports.

use std::path::PathBuf;

/// An error of [`crate::ReportDir`] or [`crate::KnownMalicious`]. Each
/// names the file and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum OsvError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("package name `{name}` cannot be a report directory: {reason}")]
    BadName { name: String, reason: String },
    #[error("the report cannot be written: {0}")]
    Invalid(String),
    #[error("{path}: {reason}; it was left as it is: move it away or fix it, then write again")]
    Occupied { path: PathBuf, reason: String },
    #[error("{path} is a symbolic link or not a directory; reports are only written into real directories under the root")]
    NotADirectory { path: PathBuf },
    #[error("{path}: not an OSV export Paddock reads (a directory of .json reports or a .zip of them): {reason}")]
    NotAnExport { path: PathBuf, reason: String },
    #[error("{path}: {what} past the limit of {limit}; raise the limit if the export is genuine")]
    Limit {
        path: PathBuf,
        what: &'static str,
        limit: u64,
    },
}

impl OsvError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> OsvError {
        let path = path.into();
        move |source| OsvError::Io { path, source }
    }
}
