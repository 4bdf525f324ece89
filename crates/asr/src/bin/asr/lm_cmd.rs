//! `asr lm`: parsing and printing around `sori_asr::decode::lm`.
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use sori_asr::decode::lm::{perplexity, train_char_lm, training_texts};
use sori_lm::Smoothing;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SmoothingArg {
    /// Interpolated modified Kneser-Ney.
    Kn,
    /// Interpolated Witten-Bell.
    Wb,
}

/// Train a character n-gram LM (ARPA) for the beam search.
#[derive(Args, Debug)]
pub struct LmArgs {
    /// Text file(s), one sentence per line; repeat or separate with commas.
    #[arg(long, value_delimiter = ',')]
    text: Vec<PathBuf>,
    /// Manifest(s) whose transcripts are training text; repeat or separate with commas.
    #[arg(long, value_delimiter = ',')]
    manifest: Vec<PathBuf>,
    /// Longest n-gram (characters, the space included).
    #[arg(long, default_value_t = 6)]
    order: usize,
    /// Smoothing method.
    #[arg(long, value_enum, default_value_t = SmoothingArg::Kn)]
    smoothing: SmoothingArg,
    /// ARPA file to write.
    #[arg(long)]
    out: PathBuf,
    /// Held-out manifest(s) to report the perplexity on.
    #[arg(long, value_delimiter = ',')]
    ppl_manifest: Vec<PathBuf>,
    /// Held-out text file(s) to report the perplexity on.
    #[arg(long, value_delimiter = ',')]
    ppl_text: Vec<PathBuf>,
}

pub fn run(a: LmArgs) -> Result<()> {
    if a.text.is_empty() && a.manifest.is_empty() {
        bail!("give training text with --text FILE or --manifest FILE.jsonl");
    }
    let texts = training_texts(&a.text, &a.manifest)?;
    let smoothing = match a.smoothing {
        SmoothingArg::Kn => Smoothing::KneserNey,
        SmoothingArg::Wb => Smoothing::WittenBell,
    };
    let lm = train_char_lm(&texts, a.order, smoothing)?;
    lm.save_arpa(&a.out)?;
    let counts = lm
        .ngram_counts()
        .iter()
        .enumerate()
        .map(|(n, c)| format!("{}={c}", n + 1))
        .collect::<Vec<_>>()
        .join(" ");
    println!(
        "{} sentences, {} tokens in the vocabulary; n-grams {counts}; wrote {}",
        texts.len(),
        lm.vocab().len(),
        a.out.display()
    );
    if !a.ppl_text.is_empty() || !a.ppl_manifest.is_empty() {
        let held = training_texts(&a.ppl_text, &a.ppl_manifest)?;
        let p = perplexity(&lm, &held);
        println!(
            "held out: {} sentences, {} characters (</s> included), {} OOV: perplexity {:.3}, {:.3} bits per character",
            p.sentences,
            p.tokens,
            p.oovs,
            p.perplexity(),
            p.bits_per_token()
        );
    }
    Ok(())
}
