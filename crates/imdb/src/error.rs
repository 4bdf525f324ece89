//! The one error type of the library: every bad input (a malformed CSV row, an
//! empty review, a model directory that is missing files or belongs to another
//! application) becomes a variant whose message names the file and the problem
//! on one line, so the binary can print it after `error: ` and exit.
use std::path::PathBuf;

/// Everything that can go wrong in `sori-imdb`.
#[derive(Debug, thiserror::Error)]
pub enum ImdbError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: line {line}: {message}")]
    Malformed {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    BadData { path: PathBuf, message: String },
    #[error("empty review{}: nothing to classify", .at.as_deref().map(|s| format!(" ({s})")).unwrap_or_default())]
    EmptyReview { at: Option<String> },
    #[error("{dir}: not a model directory: missing {missing}")]
    MissingModelFile { dir: PathBuf, missing: String },
    #[error("{dir}: {message}")]
    WrongModel { dir: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    #[error("training: {0}")]
    Train(#[from] sori_train::TrainError),
}

/// Shorthand used throughout the crate.
pub type Result<T> = std::result::Result<T, ImdbError>;

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ImdbError {
    let path = path.into();
    move |source| ImdbError::Io { path, source }
}
