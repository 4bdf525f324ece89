//! A trained translator: the model directory format, loading, translating
//! lines and scoring them.
//!
//! A model directory holds `config.json` (kind `seq2seq`, see
//! [`sori_train::ModelDir`]; a directory of another kind is refused with a
//! one-line error), `src_tokenizer.json` and `tgt_tokenizer.json`, and the
//! trainer's `best.safetensors` / `last.safetensors`.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sori_text::bleu::{Bleu, BleuScore};
use sori_text::chrf::Chrf;
use sori_train::ModelDir;
use tch::{nn, Device};

use crate::error::{Result, Seq2SeqError};
use crate::model::{ModelConfig, Seq2Seq};
use crate::search::{beam_search, greedy};
use crate::subword::{Subword, EOS, UNK};

/// The `kind` written in `config.json`.
pub const KIND: &str = "seq2seq";
/// Source tokenizer file in the model directory.
pub const SRC_TOKENIZER: &str = "src_tokenizer.json";
/// Target tokenizer file in the model directory.
pub const TGT_TOKENIZER: &str = "tgt_tokenizer.json";

/// What `config.json` holds besides the kind and version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranslatorConfig {
    pub model: ModelConfig,
    /// Language names, for display only (`de`, `en`, `src`, ...).
    pub src_lang: String,
    pub tgt_lang: String,
    /// Longest source (in pieces) the encoder sees; longer input is cut.
    pub max_src_len: usize,
    /// Upper bound on output pieces.
    pub max_len: usize,
}

/// How to decode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeOptions {
    /// Beam width; 1 is greedy.
    pub beam: usize,
    /// Length-penalty exponent (GNMT); 0 disables normalisation.
    pub alpha: f64,
}

impl DecodeOptions {
    /// Refuses a beam wider than [`sori_train::MAX_BEAM`] (the search keeps
    /// that many decoder states) and a non-finite `alpha`.
    pub fn validate(&self) -> Result<()> {
        if self.beam > sori_train::MAX_BEAM {
            return Err(Seq2SeqError::Config(format!(
                "beam width {} is above the limit of {}",
                self.beam,
                sori_train::MAX_BEAM
            )));
        }
        if !self.alpha.is_finite() {
            return Err(Seq2SeqError::Config(format!(
                "length-penalty alpha must be finite, got {}",
                self.alpha
            )));
        }
        Ok(())
    }
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            beam: 5,
            alpha: 0.6,
        }
    }
}

/// One translated sentence with what the attention plot needs.
#[derive(Debug, Clone)]
pub struct Translation {
    pub text: String,
    /// Source pieces (with the final `</s>`).
    pub src_pieces: Vec<String>,
    /// Output pieces (with the final `</s>`).
    pub tgt_pieces: Vec<String>,
    /// `[output piece][source piece]` attention weights.
    pub attention: Vec<Vec<f32>>,
}

/// A model with its tokenizers.
pub struct Translator {
    pub vs: nn::VarStore,
    pub model: Seq2Seq,
    pub src_tok: Subword,
    pub tgt_tok: Subword,
    pub config: TranslatorConfig,
}

impl Translator {
    /// A fresh (randomly initialised) translator.
    pub fn new(
        config: TranslatorConfig,
        src_tok: Subword,
        tgt_tok: Subword,
        device: Device,
    ) -> Result<Translator> {
        let vs = nn::VarStore::new(device);
        let model = Seq2Seq::new(&vs.root(), &config.model)?;
        Ok(Translator {
            vs,
            model,
            src_tok,
            tgt_tok,
            config,
        })
    }

    /// Loads a trained model directory (best weights, else last).
    pub fn load(dir: &Path, device: Device) -> Result<Translator> {
        if !dir.is_dir() {
            return Err(Seq2SeqError::Model(format!(
                "{}: no such model directory",
                dir.display()
            )));
        }
        let md = ModelDir::new(dir);
        let config: TranslatorConfig = md.read_config(KIND)?;
        // Sizes are checked against their limits before anything is read
        // or allocated.
        config
            .model
            .validate()
            .map_err(|e| Seq2SeqError::Model(format!("{}: {e}", md.config_path().display())))?;
        let src_tok = Subword::load(&dir.join(SRC_TOKENIZER))?;
        let tgt_tok = Subword::load(&dir.join(TGT_TOKENIZER))?;
        if src_tok.vocab_size() as i64 != config.model.src_vocab
            || tgt_tok.vocab_size() as i64 != config.model.tgt_vocab
        {
            return Err(Seq2SeqError::Model(format!(
                "{}: tokenizer vocabularies ({}, {}) do not match config.json ({}, {})",
                dir.display(),
                src_tok.vocab_size(),
                tgt_tok.vocab_size(),
                config.model.src_vocab,
                config.model.tgt_vocab
            )));
        }
        let mut t = Translator::new(config, src_tok, tgt_tok, device)?;
        md.load_best_or_last(&mut t.vs)?;
        Ok(t)
    }

    /// Writes config and tokenizers (weights are the trainer's business).
    pub fn save_config(&self, dir: &ModelDir) -> Result<()> {
        dir.write_config(KIND, &self.config)?;
        for (name, tok) in [
            (SRC_TOKENIZER, &self.src_tok),
            (TGT_TOKENIZER, &self.tgt_tok),
        ] {
            let path = dir.path().join(name);
            sori_train::atomic_write(&path, tok.to_json()?.as_bytes())?;
        }
        Ok(())
    }

    /// Source ids for the encoder: pieces (cut to `max_src_len - 1`) + `</s>`.
    pub fn source_ids(&self, text: &str) -> Result<Vec<i64>> {
        let mut ids = self.src_tok.encode(text)?;
        ids.truncate(self.config.max_src_len.saturating_sub(1).max(1));
        ids.push(EOS);
        Ok(ids)
    }

    /// Source pieces of `text` that the source vocabulary knows: neither
    /// `<unk>` (a character never seen in training) nor a bare word-start
    /// marker `▁`. 0 for a non-blank text means the model cannot read any
    /// of it.
    pub fn known_pieces(&self, text: &str) -> Result<usize> {
        Ok(self
            .src_tok
            .encode(text)?
            .into_iter()
            .filter(|&i| {
                i != UNK
                    && !self
                        .src_tok
                        .id_to_piece(i)
                        .trim_matches('\u{2581}')
                        .is_empty()
            })
            .count())
    }

    /// Translates one sentence; an empty or blank line gives an empty line.
    pub fn translate(&self, text: &str, opts: &DecodeOptions) -> Result<Translation> {
        self.translate_inner(text, opts, false)
    }

    /// As [`Translator::translate`], keeping the attention weights.
    pub fn translate_with_attention(
        &self,
        text: &str,
        opts: &DecodeOptions,
    ) -> Result<Translation> {
        self.translate_inner(text, opts, true)
    }

    fn translate_inner(&self, text: &str, opts: &DecodeOptions, keep: bool) -> Result<Translation> {
        opts.validate()?;
        if text.trim().is_empty() {
            return Ok(Translation {
                text: String::new(),
                src_pieces: Vec::new(),
                tgt_pieces: Vec::new(),
                attention: Vec::new(),
            });
        }
        let ids = self.source_ids(text)?;
        let hyp = tch::no_grad(|| {
            beam_search(
                &self.model,
                &ids,
                opts.beam,
                self.config.max_len,
                opts.alpha,
                keep,
            )
        })?;
        let out = self.tgt_tok.decode(&hyp.tokens)?;
        let src_pieces = ids.iter().map(|&i| self.src_tok.id_to_piece(i)).collect();
        let tgt_pieces = hyp
            .tokens
            .iter()
            .chain(std::iter::once(&EOS))
            .map(|&i| self.tgt_tok.id_to_piece(i))
            .collect();
        Ok(Translation {
            text: out,
            src_pieces,
            tgt_pieces,
            attention: hyp.attention,
        })
    }

    /// Translates many lines (empty lines stay empty). Greedy (`beam` 1)
    /// runs in batches of 64; beam search runs sentence by sentence.
    pub fn translate_lines<S: AsRef<str>>(
        &self,
        lines: &[S],
        opts: &DecodeOptions,
    ) -> Result<Vec<String>> {
        if opts.beam > 1 {
            return lines
                .iter()
                .map(|l| self.translate(l.as_ref(), opts).map(|t| t.text))
                .collect();
        }
        let mut out = vec![String::new(); lines.len()];
        let todo: Vec<usize> = (0..lines.len())
            .filter(|&i| !lines[i].as_ref().trim().is_empty())
            .collect();
        for chunk in todo.chunks(64) {
            let ids: Vec<Vec<i64>> = chunk
                .iter()
                .map(|&i| self.source_ids(lines[i].as_ref()))
                .collect::<Result<_>>()?;
            let decoded = self.greedy_batch(&ids)?;
            for (&i, toks) in chunk.iter().zip(decoded) {
                out[i] = self.tgt_tok.decode(&toks)?;
            }
        }
        Ok(out)
    }

    /// Greedy decoding of a batch of source id sequences.
    pub fn greedy_batch(&self, ids: &[Vec<i64>]) -> Result<Vec<Vec<i64>>> {
        let refs: Vec<&[i64]> = ids.iter().map(|v| v.as_slice()).collect();
        let (src, lengths) = sori_train::pad_tokens(
            &refs,
            crate::subword::PAD,
            None,
            sori_train::Side::Post,
            sori_train::Side::Post,
            self.model.device(),
        );
        tch::no_grad(|| greedy(&self.model, &src, &lengths, self.config.max_len))
    }
}

/// Corpus scores of a translation: sacreBLEU BLEU, lowercased BLEU, chrF.
#[derive(Debug, Clone)]
pub struct EvalReport {
    pub sentences: usize,
    pub bleu: BleuScore,
    pub bleu_lowercase: BleuScore,
    pub chrf: f64,
}

impl std::fmt::Display for EvalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = &self.bleu;
        writeln!(
            f,
            "BLEU = {:.2} {:.1}/{:.1}/{:.1}/{:.1} (BP = {:.3} ratio = {:.3} hyp_len = {} ref_len = {})  [nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp]",
            b.score,
            b.precisions[0],
            b.precisions[1],
            b.precisions[2],
            b.precisions[3],
            b.bp,
            if b.stats.ref_len > 0 {
                b.stats.hyp_len as f64 / b.stats.ref_len as f64
            } else {
                0.0
            },
            b.stats.hyp_len,
            b.stats.ref_len
        )?;
        writeln!(
            f,
            "BLEU (lowercased, 13a-tokenised) = {:.2}",
            self.bleu_lowercase.score
        )?;
        write!(
            f,
            "chrF2 = {:.2}  [nrefs:1|case:mixed|nc:6|nw:0|space:no]  ({} sentences)",
            self.chrf, self.sentences
        )
    }
}

/// Scores line-aligned hypotheses against references.
pub fn evaluate<H: AsRef<str>, R: AsRef<str>>(hyps: &[H], refs: &[R]) -> Result<EvalReport> {
    Ok(EvalReport {
        sentences: hyps.len(),
        bleu: Bleu::sacrebleu().corpus_score(hyps, refs)?,
        bleu_lowercase: Bleu::lowercased().corpus_score(hyps, refs)?,
        chrf: Chrf::default().corpus_score(hyps, refs)?,
    })
}
