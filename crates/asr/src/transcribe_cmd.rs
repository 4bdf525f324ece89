//! `asr transcribe` and `asr eval`: parsing and printing around
//! `sori_asr::recognize` and `sori_asr::eval`.
use anyhow::Result;
use clap::{Args, ValueEnum};
use sori_asr::eval::evaluate;
use sori_asr::metrics::alignment_lines;
use sori_asr::read_manifest;
use sori_asr::recognize::{to_srt, to_vtt, Recognizer};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq)]
pub enum Format {
    Text,
    Json,
    Srt,
    Vtt,
}

/// Decoding options shared by transcribe and eval.
#[derive(Args, Debug)]
pub struct DecodeArgs {
    /// Model directory (from `asr train`).
    #[arg(long)]
    model: PathBuf,
    /// libtorch CPU threads.
    #[arg(long, default_value_t = 1)]
    threads: i32,
    /// Longest audio chunk run through the network at once, in seconds.
    #[arg(long, default_value_t = 20.0)]
    chunk_seconds: f64,
}

impl DecodeArgs {
    pub fn recognizer(&self) -> Result<Recognizer> {
        tch::set_num_threads(self.threads.max(1));
        let mut rec = Recognizer::load(&self.model)?;
        rec.chunk_seconds = self.chunk_seconds;
        Ok(rec)
    }
}

/// Transcribe WAV files.
#[derive(Args, Debug)]
pub struct TranscribeArgs {
    /// WAV files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    decode: DecodeArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Text format: print word start and end times too.
    #[arg(long)]
    timestamps: bool,
}

pub fn transcribe(a: TranscribeArgs) -> Result<bool> {
    let mut rec = a.decode.recognizer()?;
    let many = a.files.len() > 1;
    let mut ok = true;
    for path in &a.files {
        match rec.transcribe_file(path) {
            Ok(t) => match a.format {
                Format::Text => {
                    if many {
                        println!("{}: {}", path.display(), t.text);
                    } else {
                        println!("{}", t.text);
                    }
                    if a.timestamps {
                        for w in &t.words {
                            println!("  {:8.2} {:8.2}  {}", w.start, w.end, w.word);
                        }
                    }
                }
                Format::Json => {
                    let v = serde_json::json!({
                        "audio": path, "text": t.text, "duration": t.duration, "words": t.words
                    });
                    println!("{v}");
                }
                Format::Srt => {
                    if many {
                        println!("# {}", path.display());
                    }
                    print!("{}", to_srt(&t));
                }
                Format::Vtt => {
                    if many {
                        println!("NOTE {}\n", path.display());
                    }
                    print!("{}", to_vtt(&t));
                }
            },
            Err(e) => {
                ok = false;
                eprintln!("error: {e}");
            }
        }
    }
    Ok(ok)
}

/// Score a model on a manifest: CER, WER, worst utterances.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Manifest with reference transcripts.
    #[arg(long)]
    manifest: PathBuf,
    #[command(flatten)]
    decode: DecodeArgs,
    /// How many of the worst utterances to show.
    #[arg(long, default_value_t = 5)]
    worst: usize,
    /// Score only the first N utterances.
    #[arg(long)]
    limit: Option<usize>,
    /// Also print every hypothesis.
    #[arg(long)]
    verbose: bool,
}

pub fn eval(a: EvalArgs) -> Result<bool> {
    let mut utts = read_manifest(&a.manifest)?;
    if let Some(n) = a.limit {
        utts.truncate(n);
    }
    let mut rec = a.decode.recognizer()?;
    let r = evaluate(&mut rec, &utts, |_, _| {});
    if a.verbose {
        for s in &r.scored {
            println!(
                "{}\n  ref: {}\n  hyp: {}",
                s.audio.display(),
                s.reference,
                s.hypothesis
            );
        }
    }
    for (p, e) in &r.failed {
        eprintln!("error: {} ({})", e, p.display());
    }
    println!(
        "{} utterances ({:.1} min of audio), {} failed: CER {:.2}% ({} / {} chars), WER {:.2}% ({} / {} words), exact {:.2}%",
        r.scored.len(),
        r.audio_seconds / 60.0,
        r.failed.len(),
        100.0 * r.cer(),
        r.chars.edits,
        r.chars.reference_len,
        100.0 * r.wer(),
        r.words.edits,
        r.words.reference_len,
        100.0 * r.exact_rate()
    );
    println!(
        "decoding: {:.1} s for {:.1} s of audio (real-time factor {:.4})",
        r.decode_seconds,
        r.audio_seconds,
        r.decode_seconds / r.audio_seconds.max(1e-9)
    );
    let worst = r.worst(a.worst);
    if !worst.is_empty() {
        println!("worst utterances:");
        for s in worst {
            let (top, bottom) = alignment_lines(&s.reference, &s.hypothesis);
            println!(
                "  {} [{}] {} char errors\n    ref: {top}\n    hyp: {bottom}",
                s.audio.display(),
                s.speaker.as_deref().unwrap_or("?"),
                s.chars.edits
            );
        }
    }
    Ok(r.failed.is_empty())
}
