//! The crate's error type: one line each, naming the file or setting at fault.
use std::path::{Path, PathBuf};

/// Errors returned by an application's [`crate::Task`] or data source.
/// `anyhow::Error` converts into it with `?` / `.into()`.
pub type TaskError = Box<dyn std::error::Error + Send + Sync>;
/// Result of application callbacks.
pub type TaskResult<T> = Result<T, TaskError>;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid JSON: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A model directory holding something else than what was asked for.
    #[error("{path}: {message}")]
    Model { path: PathBuf, message: String },
    /// A bad setting (learning rate, batch size, device, ...).
    #[error("{0}")]
    Config(String),
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// An error from the application's task or data.
    #[error("{0}")]
    Task(TaskError),
    /// The loss or the gradient became NaN or infinite (`what` says which
    /// and how; `detail` what happened to the run and its checkpoint).
    #[error("{what} is {value} at epoch {epoch}, batch {batch}; {detail}")]
    Diverged {
        what: String,
        value: f64,
        epoch: usize,
        /// 1-based batch within the epoch.
        batch: usize,
        detail: String,
    },
}

impl TrainError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> TrainError {
        TrainError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
    pub(crate) fn model(path: &Path, message: impl Into<String>) -> TrainError {
        TrainError::Model {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}
