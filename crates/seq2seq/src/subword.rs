//! Sub-word vocabularies with Hugging Face's `tokenizers` crate: BPE trained
//! on the training side of the corpus, one per language, saved in the model
//! directory as standard `tokenizer.json` files.
//!
//! Why BPE over words: a word vocabulary either explodes (German compounds,
//! Korean particles glued to nouns) or maps many test words to `<unk>`; BPE
//! keeps the vocabulary small and spells any rare word in pieces. The
//! pre-tokeniser is Metaspace (spaces become `▁` and stay inside the
//! pieces), so decoding restores the original spacing exactly and no
//! detokeniser is needed before sacreBLEU. Characters never seen in training
//! become `<unk>` instead of failing.

use std::path::Path;

use tokenizers::decoders::metaspace::Metaspace as MetaspaceDecoder;
use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::normalizers::unicode::NFC;
use tokenizers::pre_tokenizers::metaspace::{Metaspace, PrependScheme};
use tokenizers::{AddedToken, PostProcessorWrapper, Tokenizer, TokenizerBuilder, TokenizerImpl};

use crate::error::{Result, Seq2SeqError};

/// Padding id (every vocabulary puts the four specials first, in this order).
pub const PAD: i64 = 0;
/// Unknown piece.
pub const UNK: i64 = 1;
/// Start of sentence (the decoder's first input).
pub const BOS: i64 = 2;
/// End of sentence.
pub const EOS: i64 = 3;
const SPECIALS: [&str; 4] = ["<pad>", "<unk>", "<s>", "</s>"];

fn tok_err(e: impl std::fmt::Display) -> Seq2SeqError {
    Seq2SeqError::Tokenizer(e.to_string())
}

/// A trained sub-word tokenizer for one language.
#[derive(Clone)]
pub struct Subword {
    inner: Tokenizer,
}

impl std::fmt::Debug for Subword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Subword(vocab={})", self.vocab_size())
    }
}

impl Subword {
    /// Trains BPE with at most `vocab_size` pieces (specials included) on
    /// `texts`; pieces must occur at least `min_frequency` times.
    pub fn train<S: AsRef<str> + Sync>(
        texts: &[S],
        vocab_size: usize,
        min_frequency: u64,
    ) -> Result<Subword> {
        if vocab_size < SPECIALS.len() + 1 {
            return Err(Seq2SeqError::Config(format!(
                "vocabulary size must be at least {}, got {vocab_size}",
                SPECIALS.len() + 1
            )));
        }
        let mut trainer = BpeTrainerBuilder::new()
            .vocab_size(vocab_size)
            .min_frequency(min_frequency)
            .show_progress(false)
            .special_tokens(
                SPECIALS
                    .iter()
                    .map(|s| AddedToken::from(s.to_string(), true))
                    .collect(),
            )
            .build();
        let model = BPE::builder()
            .unk_token(SPECIALS[UNK as usize].to_string())
            .build()
            .map_err(tok_err)?;
        let mut tk: TokenizerImpl<BPE, NFC, Metaspace, PostProcessorWrapper, MetaspaceDecoder> =
            TokenizerBuilder::new()
                .with_model(model)
                .with_normalizer(Some(NFC))
                .with_pre_tokenizer(Some(Metaspace::new('▁', PrependScheme::Always, true)))
                .with_decoder(Some(MetaspaceDecoder::new(
                    '▁',
                    PrependScheme::Always,
                    true,
                )))
                .build()
                .map_err(tok_err)?;
        tk.train(&mut trainer, texts.iter().map(|s| s.as_ref()))
            .map_err(tok_err)?;
        let json = tk.to_string(false).map_err(tok_err)?;
        let sw = Subword::from_json(&json)?;
        sw.check_specials()?;
        Ok(sw)
    }

    /// Loads a tokenizer from its JSON text.
    pub fn from_json(json: &str) -> Result<Subword> {
        let inner: Tokenizer = json.parse().map_err(tok_err)?;
        Ok(Subword { inner })
    }

    /// The JSON text (`tokenizer.json` format).
    pub fn to_json(&self) -> Result<String> {
        self.inner.to_string(true).map_err(tok_err)
    }

    /// Loads `tokenizer.json`-style file.
    pub fn load(path: &Path) -> Result<Subword> {
        // Bounded: a link to /dev/zero fails fast instead of filling memory.
        let text = sori_train::read_text_bounded(path, sori_train::MAX_VOCAB_BYTES)?;
        let sw = Subword::from_json(&text).map_err(|e| {
            Seq2SeqError::Model(format!("{}: not a tokenizer file ({e})", path.display()))
        })?;
        sw.check_specials()
            .map_err(|e| Seq2SeqError::Model(format!("{}: {e}", path.display())))?;
        Ok(sw)
    }

    fn check_specials(&self) -> Result<()> {
        for (id, s) in SPECIALS.iter().enumerate() {
            if self.inner.token_to_id(s) != Some(id as u32) {
                return Err(Seq2SeqError::Tokenizer(format!(
                    "special token {s} is not id {id}"
                )));
            }
        }
        Ok(())
    }

    /// Number of pieces including the specials.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Piece ids of `text`, without `<s>`/`</s>`.
    pub fn encode(&self, text: &str) -> Result<Vec<i64>> {
        if text.trim().is_empty() {
            return Ok(Vec::new());
        }
        let enc = self.inner.encode(text, false).map_err(tok_err)?;
        Ok(enc.get_ids().iter().map(|&i| i as i64).collect())
    }

    /// The pieces of `text` as strings (for attention plot labels).
    pub fn pieces(&self, text: &str) -> Result<Vec<String>> {
        if text.trim().is_empty() {
            return Ok(Vec::new());
        }
        let enc = self.inner.encode(text, false).map_err(tok_err)?;
        Ok(enc.get_tokens().to_vec())
    }

    /// The piece string of one id.
    pub fn id_to_piece(&self, id: i64) -> String {
        self.inner
            .id_to_token(id as u32)
            .unwrap_or_else(|| SPECIALS[UNK as usize].to_string())
    }

    /// Text of `ids`; specials are dropped.
    pub fn decode(&self, ids: &[i64]) -> Result<String> {
        let ids: Vec<u32> = ids
            .iter()
            .filter(|&&i| i > EOS || i == UNK)
            .map(|&i| i as u32)
            .collect();
        self.inner.decode(&ids, false).map_err(tok_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_restores_text_and_unknown_characters_become_unk() {
        let texts = [
            "Ein Mann fährt Fahrrad.",
            "Eine Frau fährt ein Auto.",
            "Zwei Männer spielen Fußball.",
            "나는 학생입니다.",
        ];
        let sw = Subword::train(&texts, 200, 1).unwrap();
        for t in texts {
            let ids = sw.encode(t).unwrap();
            assert!(ids.iter().all(|&i| i > EOS), "{t}: {ids:?}");
            assert_eq!(sw.decode(&ids).unwrap(), t);
        }
        let ids = sw.encode("Ein Mann €").unwrap();
        assert!(ids.contains(&UNK));
        assert!(sw.encode("").unwrap().is_empty());
        let again = Subword::from_json(&sw.to_json().unwrap()).unwrap();
        assert_eq!(
            again.encode(texts[0]).unwrap(),
            sw.encode(texts[0]).unwrap()
        );
    }
}
