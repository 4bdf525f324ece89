//! The one error type of the `asr` library. Every variant renders as a single
//! line that names the file (and line) at fault, because the binary prints it
//! as `error: ...` and a user must be able to act on it without a backtrace.
use std::path::PathBuf;

/// Errors from corpora, manifests, models and recognition.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A manifest line that is not a valid utterance record.
    #[error("{path}:{line}: {message}")]
    Manifest {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// Audio that cannot be used (not a WAV, empty, silent, unreadable).
    #[error("{path}: {message}")]
    Audio { path: PathBuf, message: String },
    /// A model directory that is missing, of another kind or inconsistent.
    #[error("{path}: {message}")]
    Model { path: PathBuf, message: String },
    /// Transcripts with characters the model cannot output.
    #[error("{path}: {count} transcript(s) contain characters outside the vocabulary: {chars} (use --oov drop|space)")]
    OutOfVocabulary {
        path: PathBuf,
        count: usize,
        chars: String,
    },
    /// An external program (espeak-ng, sox) failed or is missing.
    #[error("{program}: {message}")]
    External { program: String, message: String },
    /// A bad option value or combination.
    #[error("{0}")]
    Config(String),
    /// An error from the training crate (model directories, the loop).
    #[error(transparent)]
    Train(#[from] sori_train::TrainError),
    /// Audio that cannot be read or resampled, from sori-features (its
    /// message names the file: the path is data of that error, not text to
    /// strip and add again).
    #[error(transparent)]
    Features(#[from] sori_features::FeatureError),
    /// An error from the CTC crate.
    #[error("ctc: {0}")]
    Ctc(#[from] sori_ctc::CtcError),
    /// An error from the language-model crate (ARPA files, training text).
    #[error(transparent)]
    Lm(#[from] sori_lm::LmError),
    /// An error from libtorch.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

impl AsrError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        AsrError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Results of this crate.
pub type Result<T, E = AsrError> = std::result::Result<T, E>;

/// A per-file failure message that names the file once: `message` as it
/// is when it already starts with the path, else `path: message`.
pub fn naming(path: &std::path::Path, message: &str) -> String {
    let p = path.display().to_string();
    if message.starts_with(&p) {
        message.to_string()
    } else {
        format!("{p}: {message}")
    }
}
