//! The crate's error type: every variant prints as one line that names the
//! file or setting at fault, so the binary can print `error: ...` and stop.
use std::path::PathBuf;

/// Errors from loading data, training, translating and evaluating.
#[derive(Debug, thiserror::Error)]
pub enum Seq2SeqError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Line-aligned files that are not aligned.
    #[error("{src} has {src_lines} lines but {tgt} has {tgt_lines}; source and target files must be line-aligned")]
    LineCountMismatch {
        src: PathBuf,
        src_lines: usize,
        tgt: PathBuf,
        tgt_lines: usize,
    },
    /// Line-aligned files of other kinds (hypotheses and references,
    /// sources and references) that are not aligned.
    #[error("{a_lines} {a_what} in {a} but {b_lines} {b_what} in {b}; they must be line-aligned, one per line each")]
    Misaligned {
        a_what: &'static str,
        a: PathBuf,
        a_lines: usize,
        b_what: &'static str,
        b: PathBuf,
        b_lines: usize,
    },
    /// A TSV line without the expected columns.
    #[error("{path}:{line}: {message}")]
    BadLine {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// A data set with nothing usable in it.
    #[error("{0}")]
    NoData(String),
    /// The sub-word tokenizer failed to train, load or run.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// A bad option value.
    #[error("{0}")]
    Config(String),
    /// A model directory that is missing, damaged or of another kind.
    #[error("{0}")]
    Model(String),
    #[error(transparent)]
    Rnn(#[from] sori_rnn::RnnError),
    #[error(transparent)]
    Train(#[from] sori_train::TrainError),
    #[error(transparent)]
    Metric(#[from] sori_text::bleu::MetricError),
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    #[error("plot: {0}")]
    Plot(String),
}

impl Seq2SeqError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Seq2SeqError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result with [`Seq2SeqError`].
pub type Result<T> = std::result::Result<T, Seq2SeqError>;
