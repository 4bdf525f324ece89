//! The character language model of the beam search: a `sori-lm` n-gram
//! model over the recogniser's characters, trained from transcripts
//! (`asr lm`) or read from any ARPA file whose tokens are characters.
//!
//! Text is normalised as transcripts are (lower case, single spaces), and
//! the space, which ARPA cannot hold as a token, is spelt `<sp>` (or `|` /
//! `▁` in files from other tools, when `<sp>` is absent). The model
//! predicts the space like any character, so words are scored through their
//! letters and the boundaries between them; the end of a hypothesis is
//! scored with `</s>` through [`LanguageModel::end_log_prob`]. A character
//! of the acoustic model that the LM never saw is scored as `<unk>`, and LM
//! tokens the acoustic model cannot output are simply never asked for.
use crate::data::manifest::read_manifest;
use crate::data::vocab::{normalize, Vocab};
use crate::error::{AsrError, Result};
use sori_ctc::LanguageModel;
use sori_lm::{
    read_lines, NgramCounter, NgramLm, Smoothing, Tokenization, TrainOptions, BOS, EOS, MAX_ORDER,
    SPACE_TOKEN, UNK,
};
use std::path::{Path, PathBuf};

/// Spellings of the space accepted in an LM, in order of preference.
pub const SPACE_SPELLINGS: [&str; 3] = [SPACE_TOKEN, "|", "\u{2581}"];

/// An n-gram model seen through the label ids of an acoustic model.
#[derive(Debug, Clone)]
pub struct CharLm {
    lm: NgramLm,
    /// LM id of each label (space = label 0).
    ids: Vec<u32>,
    unmapped: Vec<char>,
}

impl CharLm {
    /// Maps the labels of `vocab` to the tokens of `lm`.
    pub fn new(lm: NgramLm, vocab: &Vocab) -> Self {
        let space = SPACE_SPELLINGS
            .iter()
            .find_map(|s| lm.vocab().get(s))
            .unwrap_or(UNK);
        let mut unmapped = Vec::new();
        let ids = vocab
            .labels()
            .iter()
            .map(|&c| {
                let id = if c == ' ' {
                    space
                } else {
                    lm.vocab().id_or_unk(c.encode_utf8(&mut [0; 4]))
                };
                if id == UNK {
                    unmapped.push(c);
                }
                id
            })
            .collect();
        CharLm { lm, ids, unmapped }
    }

    /// Reads an ARPA file for the labels of `vocab`.
    pub fn load(path: &Path, vocab: &Vocab) -> Result<Self> {
        Ok(Self::new(NgramLm::read_arpa(path)?, vocab))
    }

    /// Labels of the acoustic model that the LM scores as `<unk>`.
    pub fn unmapped(&self) -> &[char] {
        &self.unmapped
    }

    /// The n-gram model.
    pub fn model(&self) -> &NgramLm {
        &self.lm
    }

    fn id(&self, label: usize) -> u32 {
        self.ids.get(label).copied().unwrap_or(UNK)
    }

    /// `<s>` (when the context reaches back to the start) and the LM ids of
    /// the last labels, as many as the order uses.
    fn history<'a>(&self, context: &[usize], buf: &'a mut [u32; MAX_ORDER]) -> &'a [u32] {
        let want = self.lm.order() - 1;
        let keep = want.min(context.len());
        let mut n = 0;
        if keep < want {
            buf[0] = BOS;
            n = 1;
        }
        for &l in &context[context.len() - keep..] {
            buf[n] = self.id(l);
            n += 1;
        }
        &buf[..n]
    }
}

impl LanguageModel for CharLm {
    fn log_prob(&self, context: &[usize], label: usize) -> f64 {
        let mut buf = [0u32; MAX_ORDER];
        let h = self.history(context, &mut buf);
        self.lm.log10_prob(h, self.id(label)) * std::f64::consts::LN_10
    }

    fn end_log_prob(&self, context: &[usize]) -> f64 {
        let mut buf = [0u32; MAX_ORDER];
        let h = self.history(context, &mut buf);
        self.lm.log10_prob(h, EOS) * std::f64::consts::LN_10
    }
}

/// Scores texts (normalised like transcripts) with a character model.
pub fn perplexity(lm: &NgramLm, texts: &[String]) -> sori_lm::Perplexity {
    perplexity_with(lm, texts, lm_tokens)
}

/// Scores texts cut into tokens by `tokens` (empty ones skipped).
pub fn perplexity_with(
    lm: &NgramLm,
    texts: &[String],
    tokens: impl Fn(&str) -> Vec<String>,
) -> sori_lm::Perplexity {
    let sentences: Vec<Vec<String>> = texts
        .iter()
        .map(|t| tokens(t))
        .filter(|t| !t.is_empty())
        .collect();
    lm.perplexity(&sentences)
}

/// The character LM a model directory may ship (`asr transcribe` and `asr
/// eval` use it with a beam search unless `--no-lm`).
pub const MODEL_LM_FILE: &str = "lm.arpa";

/// The same, gzip-compressed (preferred when both are there).
pub const MODEL_LM_FILE_GZ: &str = "lm.arpa.gz";

/// The character LM file in a model directory, if it ships one.
pub fn model_char_lm(dir: &Path) -> Option<PathBuf> {
    crate::decode::shipped_file(dir, &[MODEL_LM_FILE_GZ, MODEL_LM_FILE])
}

/// Reads an ARPA file for a model's labels and refuses one that shares no
/// character with them (a word-level LM, or another language).
pub fn load_for_model(path: &Path, vocab: &Vocab) -> Result<CharLm> {
    let lm = CharLm::load(path, vocab)?;
    let letters = vocab.labels().iter().filter(|&&c| c != ' ').count();
    let unmapped = lm.unmapped().iter().filter(|&&c| c != ' ').count();
    if letters > 0 && unmapped == letters {
        return Err(AsrError::Config(format!(
            "{}: none of the model's characters is a token of this LM (a word-level LM?)",
            path.display()
        )));
    }
    Ok(lm)
}

/// The LM's tokens of a transcript: normalised characters, spaces as `<sp>`.
pub fn lm_tokens(text: &str) -> Vec<String> {
    Tokenization::Chars.tokens(&normalize(text))
}

/// Sentences for an LM: the lines of text files and the transcripts of
/// manifests, in that order.
pub fn training_texts(text_files: &[PathBuf], manifests: &[PathBuf]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for f in text_files {
        out.extend(read_lines(f)?);
    }
    for m in manifests {
        out.extend(read_manifest(m)?.into_iter().map(|u| u.text));
    }
    Ok(out)
}

/// Trains a character model on texts (normalised first; empty ones skipped).
pub fn train_char_lm(
    texts: &[String],
    order: usize,
    smoothing: Smoothing,
    min_count: &[u64],
) -> Result<NgramLm> {
    train_with(texts, lm_tokens, order, smoothing, min_count)
}

/// Trains a model on texts cut into tokens by `tokens` (empty ones
/// skipped), count-pruned by `min_count` (`sori_lm::TrainOptions::prune`).
pub fn train_with(
    texts: &[String],
    tokens: impl Fn(&str) -> Vec<String>,
    order: usize,
    smoothing: Smoothing,
    min_count: &[u64],
) -> Result<NgramLm> {
    let mut counter = NgramCounter::new(order)?;
    for t in texts {
        let tokens = tokens(t);
        if !tokens.is_empty() {
            counter.add_sentence(&tokens);
        }
    }
    if counter.sentences() == 0 {
        return Err(AsrError::Config(
            "no text to train the language model on".into(),
        ));
    }
    Ok(counter.build(&TrainOptions {
        order,
        smoothing,
        discounts: None,
        prune: min_count.to_vec(),
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_map_to_lm_tokens_and_contexts_start_with_bos() {
        let texts: Vec<String> = ["the cat", "a cat sat", "the hat"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let lm = train_char_lm(&texts, 3, Smoothing::KneserNey, &[]).unwrap();
        // 'q' is a label the LM never saw.
        let vocab = Vocab::new("thecasq".chars());
        let clm = CharLm::new(lm.clone(), &vocab);
        assert_eq!(clm.unmapped(), ['q']);
        let l = |c: char| vocab.index(c).unwrap();
        let id = |t: &str| lm.vocab().get(t).unwrap();
        let ln10 = std::f64::consts::LN_10;
        // Empty context: p(t | <s>).
        let want = lm.log10_prob(&[BOS], id("t")) * ln10;
        assert!((clm.log_prob(&[], l('t')) - want).abs() < 1e-12);
        // One label of context: p(a | <s> c) — still reaches the start.
        let want = lm.log10_prob(&[BOS, id("c")], id("a")) * ln10;
        assert!((clm.log_prob(&[l('c')], l('a')) - want).abs() < 1e-12);
        // Long context: only the last two labels; the space is <sp>.
        let ctx = [l('t'), l('h'), l('e'), l(' ')];
        let want = lm.log10_prob(&[id("e"), id(SPACE_TOKEN)], id("c")) * ln10;
        assert!((clm.log_prob(&ctx, l('c')) - want).abs() < 1e-12);
        let want = lm.log10_prob(&[id("a"), id("t")], EOS) * ln10;
        assert!((clm.end_log_prob(&[l('c'), l('a'), l('t')]) - want).abs() < 1e-12);
        // The unknown label is <unk>.
        let want = lm.log10_prob(&[BOS, id("c")], UNK) * ln10;
        assert!((clm.log_prob(&[l('c')], l('q')) - want).abs() < 1e-12);
    }

    #[test]
    fn space_spelt_as_a_bar_is_accepted() {
        let arpa = "\\data\\\nngram 1=5\n\n\\1-grams:\n-1 <unk>\n-99 <s>\n-0.5 a\n-0.4 |\n-0.6 </s>\n\\end\\\n";
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bar.arpa");
        std::fs::write(&p, arpa).unwrap();
        let clm = CharLm::load(&p, &Vocab::new("a".chars())).unwrap();
        assert!(clm.unmapped().is_empty());
        assert!((clm.log_prob(&[], 0) - (-0.4 * std::f64::consts::LN_10)).abs() < 1e-12);
    }
}
