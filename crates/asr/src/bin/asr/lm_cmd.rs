//! `asr lm`: parsing and printing around `sori_asr::decode::lm`.
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use sori_asr::decode::lm::{perplexity, train_char_lm, training_texts};
use sori_asr::decode::words::{train_word_lm, word_perplexity};
use sori_lm::Smoothing;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SmoothingArg {
    /// Interpolated modified Kneser-Ney.
    Kn,
    /// Interpolated Witten-Bell.
    Wb,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq)]
pub enum UnitArg {
    /// Characters (the space is a token): the beam search's `--lm`.
    Char,
    /// Words: the `--word-lm` fused with the character LM at word boundaries.
    Word,
}

/// Train a character or word n-gram LM (ARPA; gzip when OUT ends in .gz)
/// for the beam search.
#[derive(Args, Debug)]
pub struct LmArgs {
    /// Text file(s), one sentence per line; repeat or separate with commas.
    #[arg(long, value_delimiter = ',')]
    text: Vec<PathBuf>,
    /// Manifest(s) whose transcripts are training text; repeat or separate with commas.
    #[arg(long, value_delimiter = ',')]
    manifest: Vec<PathBuf>,
    /// Tokens of the model.
    #[arg(long, value_enum, default_value_t = UnitArg::Char)]
    unit: UnitArg,
    /// Longest n-gram (characters, the space included, or words); when not
    /// given, 6 for characters and 3 for words.
    #[arg(long)]
    order: Option<usize>,
    /// Count pruning: the smallest count an n-gram keeps, per order from 1
    /// (e.g. 1,2,2: bigrams and trigrams seen once are dropped; unigrams
    /// are never dropped). Back-off weights are recomputed so every context
    /// still sums to one.
    #[arg(long, value_delimiter = ',')]
    min_count: Vec<u64>,
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
    let word = a.unit == UnitArg::Word;
    let order = a.order.unwrap_or(if word { 3 } else { 6 });
    let lm = if word {
        train_word_lm(&texts, order, smoothing, &a.min_count)?
    } else {
        train_char_lm(&texts, order, smoothing, &a.min_count)?
    };
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
        let (p, unit) = if word {
            (word_perplexity(&lm, &held), "word")
        } else {
            (perplexity(&lm, &held), "character")
        };
        println!(
            "held out: {} sentences, {} {unit}s (</s> included), {} OOV: perplexity {:.3}, {:.3} bits per {unit}",
            p.sentences,
            p.tokens,
            p.oovs,
            p.perplexity(),
            p.bits_per_token()
        );
    }
    Ok(())
}
