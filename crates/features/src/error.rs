//! Typed errors for everything that can go wrong between a file on disk and a
//! feature matrix. Each variant names the file (or `<memory>` for in-memory
//! input) and the problem, so a caller can print it as one line.

use std::path::Path;

/// Why audio could not be read or features could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// The file could not be opened or read. (The I/O error is part of the
    /// message rather than a `source()`, so the one-line message is complete
    /// and chained printers do not repeat it.)
    #[error("{path}: cannot read: {cause}")]
    Io { path: String, cause: std::io::Error },
    /// The bytes are not a RIFF/WAVE file, or its header is malformed.
    #[error("{path}: not a valid WAV file: {reason}")]
    NotWav { path: String, reason: String },
    /// A WAV encoding this crate does not decode (e.g. ADPCM, 64-bit float).
    #[error("{path}: unsupported WAV encoding: {reason}")]
    Unsupported { path: String, reason: String },
    /// The header announces more sample data than the file holds.
    #[error(
        "{path}: truncated WAV: the header announces {expected} samples but the file holds {found}"
    )]
    Truncated {
        path: String,
        expected: u64,
        found: u64,
    },
    /// The header says the file has zero channels.
    #[error("{path}: WAV header declares zero channels")]
    ZeroChannels { path: String },
    /// The header says the sample rate is 0 Hz.
    #[error("{path}: WAV header declares a sample rate of 0 Hz")]
    ZeroSampleRate { path: String },
    /// A sample is NaN or infinite.
    #[error("{path}: sample {index} is not a finite number ({value})")]
    NonFinite {
        path: String,
        index: u64,
        value: f32,
    },
    /// The resampler rejected the conversion.
    #[error("{path}: cannot resample {from} Hz to {to} Hz: {reason}")]
    Resample {
        path: String,
        from: u32,
        to: u32,
        reason: String,
    },
    /// The feature configuration is inconsistent (e.g. window longer than the FFT).
    #[error("invalid feature configuration: {0}")]
    Config(String),
    /// The configuration needs the whole utterance (top_db, CMVN) and cannot stream.
    #[error("cannot stream with this configuration: {0} needs the whole utterance")]
    NotStreamable(&'static str),
    /// Writing the output failed.
    #[error("{path}: cannot write: {cause}")]
    Write { path: String, cause: std::io::Error },
}

/// Result alias used across the crate.
pub type Result<T, E = FeatureError> = std::result::Result<T, E>;

pub(crate) fn display_path(path: &Path) -> String {
    path.display().to_string()
}
