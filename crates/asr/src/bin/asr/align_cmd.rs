//! `asr align`: parsing and printing around `sori_asr::align`.
use anyhow::Result;
use clap::{Args, ValueEnum};
use sori_asr::recognize::Recognizer;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq)]
pub enum AlignFormat {
    /// One line per word: start, end (seconds), score, word.
    Text,
    /// One JSON object: text, duration, log_prob, words.
    Json,
}

/// Forced alignment of a transcript to an audio file.
#[derive(Args, Debug)]
pub struct AlignArgs {
    /// The audio file (WAV, FLAC, MP3, Ogg Vorbis, M4A, AIFF; `-` reads standard input).
    file: PathBuf,
    /// What is said in it (characters must be in the model's vocabulary).
    transcript: String,
    /// Model directory (from `asr train`) [default: $SORI_ASR_MODEL, else the
    /// checkout's models/asr-en].
    #[arg(long)]
    model: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AlignFormat::Text)]
    format: AlignFormat,
    /// Intra-op CPU threads for libtorch (0: libtorch's default, one per
    /// core; more than the cores are capped to them with a note; at most 65536).
    #[arg(long, default_value_t = 0, value_parser = sori_train::threads)]
    threads: usize,
    /// Where the network runs.
    #[arg(long, value_enum, default_value_t = sori_train::DeviceArg::Cpu)]
    device: sori_train::DeviceArg,
}

pub fn run(a: AlignArgs) -> Result<()> {
    let (dir, device) = sori_train::model_run(
        a.model.as_deref(),
        sori_asr::model::DEFAULT_MODEL_VAR,
        sori_asr::model::DEFAULT_MODEL,
        a.device,
        a.threads,
    )?;
    let mut rec = Recognizer::load_on(&dir, device)?;
    let al = rec.align_file(&a.file, &a.transcript)?;
    match a.format {
        AlignFormat::Text => {
            for w in &al.words {
                println!("{:8.2} {:8.2} {:7.2}  {}", w.start, w.end, w.score, w.word);
            }
        }
        AlignFormat::Json => {
            let mut v = serde_json::to_value(&al)?;
            v["audio"] = serde_json::json!(a.file);
            println!("{v}");
        }
    }
    Ok(())
}
