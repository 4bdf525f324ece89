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
    /// The bytes are in no format this crate reads, or a header is
    /// malformed. `format` is what the first bytes (else the file name)
    /// announce: `"WAV"`, `"FLAC"`, `"MP3"`, `"Ogg"`, `"MP4/M4A"`, `"AAC"`,
    /// `"AIFF"`, or `"audio"`. (The name is from when only WAV was read.)
    #[error("{path}: not a valid {format} file: {reason}")]
    NotWav {
        path: String,
        format: &'static str,
        reason: String,
    },
    /// A codec or encoding this crate does not decode (e.g. Opus, AC-3, GSM
    /// in WAV).
    #[error("{path}: unsupported audio encoding: {reason}")]
    Unsupported { path: String, reason: String },
    /// The header announces more sample data than the input holds (WAV,
    /// AIFF, FLAC). Counts are samples over all channels.
    #[error(
        "{path}: truncated {format}: the header announces {expected} samples but the file holds {found}"
    )]
    Truncated {
        path: String,
        format: &'static str,
        expected: u64,
        found: u64,
    },
    /// The decoder rejected a packet in the middle of a compressed stream;
    /// decoding stops there. `frame` is the number of frames decoded before
    /// it, `seconds` the same as time.
    #[error("{path}: corrupt {format} data at {seconds:.3} s (frame {frame}): {reason}")]
    Corrupt {
        path: String,
        format: &'static str,
        frame: u64,
        seconds: f64,
        reason: String,
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
