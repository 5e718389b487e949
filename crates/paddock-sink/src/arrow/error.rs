//! The crate's error type.

/// Why messages could not be turned into a record batch, or back.
///
/// Every variant names the table; those about one message also name its
/// row: the index in the slice given to
/// [`to_record_batch`](crate::to_record_batch) or in the batch given to
/// [`from_record_batch`](crate::from_record_batch).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The bytes are not an encoding of the table's message type.
    #[error(
        "table {table}, row {row}: not a valid {message}: {error}; \
         the message is truncated or corrupt, or was published to the wrong subject"
    )]
    Decode {
        table: String,
        row: usize,
        message: String,
        error: prost::DecodeError,
    },
    /// The message holds a field the sink's descriptors lack: the producer
    /// was built from newer protos. Storing the rest would drop the field.
    #[error(
        "table {table}, row {row}: unknown field number {number} in {message} at {path}; \
         the producer's protos are newer than the sink's: upgrade the sink, then redeliver"
    )]
    UnknownField {
        table: String,
        row: usize,
        path: String,
        message: String,
        number: u32,
    },
    /// A value cannot be stored in (or read from) its column.
    #[error("table {table}, row {row}, column {path}: {reason}")]
    Value {
        table: String,
        row: usize,
        path: String,
        reason: String,
    },
    /// The batch as a whole is unusable: given to `from_record_batch`
    /// without the table's schema, or (not expected) arrays Arrow refused.
    #[error("table {table}: {reason}")]
    Batch { table: String, reason: String },
}

impl SinkError {
    /// The table (or message name) the error is about.
    pub fn table(&self) -> &str {
        match self {
            SinkError::Decode { table, .. }
            | SinkError::UnknownField { table, .. }
            | SinkError::Value { table, .. }
            | SinkError::Batch { table, .. } => table,
        }
    }

    /// The row the error is about, if it is about one.
    pub fn row(&self) -> Option<usize> {
        match self {
            SinkError::Decode { row, .. }
            | SinkError::UnknownField { row, .. }
            | SinkError::Value { row, .. } => Some(*row),
            SinkError::Batch { .. } => None,
        }
    }
}

/// A problem found while converting a column, before its row is known.
#[derive(Debug)]
pub(crate) struct ColumnError {
    /// Dotted path from the top-level message, built as the error unwinds.
    pub(crate) path: Vec<String>,
    pub(crate) problem: Problem,
}

#[derive(Debug)]
pub(crate) enum Problem {
    Unknown { message: String, number: u32 },
    Value(String),
}

impl ColumnError {
    pub(crate) fn value(reason: impl Into<String>) -> Self {
        Self {
            path: Vec::new(),
            problem: Problem::Value(reason.into()),
        }
    }

    /// Adds the enclosing field's name (or `[]` for a list element).
    pub(crate) fn within(mut self, segment: &str) -> Self {
        self.path.push(segment.to_owned());
        self
    }

    pub(crate) fn path_string(&self) -> String {
        let mut out = String::new();
        for segment in self.path.iter().rev() {
            if !out.is_empty() && !segment.starts_with('[') && !segment.starts_with('{') {
                out.push('.');
            }
            out.push_str(segment);
        }
        out
    }

    pub(crate) fn into_sink_error(self, table: &str, row: usize) -> SinkError {
        let path = if self.path.is_empty() {
            "the top level".to_owned()
        } else {
            self.path_string()
        };
        match self.problem {
            Problem::Unknown { message, number } => SinkError::UnknownField {
                table: table.to_owned(),
                row,
                path,
                message,
                number,
            },
            Problem::Value(reason) => SinkError::Value {
                table: table.to_owned(),
                row,
                path,
                reason,
            },
        }
    }
}
