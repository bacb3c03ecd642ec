//! Errors that stop a run before or outside any job (job failures are statuses, not errors).

use std::io;

/// An error of the engine itself.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The pipeline specification is inconsistent.
    #[error("invalid pipeline specification: {0}")]
    InvalidSpec(String),
    /// The executor cannot be used (no Docker engine answering, ...).
    #[error("{0}")]
    Executor(String),
    /// Preparing the run failed (state directory, source snapshot, ...).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error (names its path when it comes from `fs_err`).
        #[source]
        source: io::Error,
    },
}

impl EngineError {
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}
