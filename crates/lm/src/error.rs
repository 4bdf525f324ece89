//! The error type of the LM crate. Every variant renders as one line that
//! names the file (and line, for ARPA and text input), because callers print
//! it as `error: ...` and a user must be able to find the fault from it.
use std::path::PathBuf;

/// Errors from training, reading and writing n-gram models.
#[derive(Debug, thiserror::Error)]
pub enum LmError {
    /// A file that could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An ARPA file that breaks the format (or a limit of this reader).
    #[error("{}:{line}: {message}", path.display())]
    Arpa {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// A line of a training text that cannot be used (not UTF-8).
    #[error("{}:{line}: {message}", path.display())]
    Text {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// Training material without a single sentence.
    #[error("{}: no sentences to train on", path.display())]
    EmptyCorpus { path: PathBuf },
    /// A bad option (order out of range, discounts of the wrong shape).
    #[error("{0}")]
    Config(String),
}

impl LmError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        LmError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Results of this crate.
pub type Result<T, E = LmError> = std::result::Result<T, E>;
