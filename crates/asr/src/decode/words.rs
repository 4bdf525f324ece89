//! A word n-gram LM fused with the character LM at word boundaries, for an
//! open vocabulary (the multi-level LM of Hori, Cho and Watanabe 2018,
//! "End-to-end speech recognition with word-based RNN language models",
//! here with n-grams on both levels).
//!
//! Why two levels: the character LM ([`CharLm`]) scores any spelling, so it
//! never rules out a word it has not seen, but six characters of context
//! rarely reach the previous word; a word LM knows which words follow which,
//! but has nothing to say about a word outside its vocabulary. The fusion
//! lets the character LM guide the search inside a word and, when the word
//! ends (a space, or the end of the hypothesis), corrects the score:
//!
//! * a word the word LM knows: its character-LM score `lc` (its letters and
//!   the space after it) is replaced by `lc + w * (lw - lc)`, with `lw` the
//!   word LM's log-probability given the previous words; at weight `w = 1`
//!   the word costs exactly what the word LM says, at 0 the fusion is off;
//! * a word it does not know keeps its spelling score and pays
//!   `oov_penalty` (a log-probability, at most 0), so an unseen name can win
//!   when the audio is clear, but not by spelling a common word wrongly.
//!
//! At the end of a hypothesis the word LM's `</s>` joins the last word's
//! score in the same way. All numbers are natural logs, as
//! [`LanguageModel`] wants.
use crate::data::vocab::{normalize, Vocab};
use crate::decode::lm::CharLm;
use crate::error::{AsrError, Result};
use sori_ctc::LanguageModel;
use sori_lm::{NgramLm, Smoothing, Tokenization, BOS, EOS, MAX_ORDER, UNK};
use std::path::Path;

const LN_10: f64 = std::f64::consts::LN_10;

/// A word n-gram model seen through the labels of an acoustic model.
#[derive(Debug, Clone)]
pub struct WordLm {
    lm: NgramLm,
    /// The character of each label.
    chars: Vec<char>,
    /// The label of the space (the word separator).
    space: usize,
}

impl WordLm {
    /// `lm` over words (tokens without white space) for the labels of
    /// `vocab`, which must have a space.
    pub fn new(lm: NgramLm, vocab: &Vocab) -> Result<Self> {
        let space = vocab.index(' ').ok_or_else(|| {
            AsrError::Config("a word LM needs a model whose labels include the space".into())
        })?;
        Ok(WordLm {
            lm,
            chars: vocab.labels().to_vec(),
            space,
        })
    }

    /// Reads a word-level ARPA file (plain or gzip) for `vocab`; refuses a
    /// character LM (all of whose words are one character or `<sp>`).
    pub fn load(path: &Path, vocab: &Vocab) -> Result<Self> {
        let lm = NgramLm::read_arpa(path)?;
        let words = lm
            .vocab()
            .tokens()
            .iter()
            .filter(|t| !t.starts_with('<') && t.chars().count() > 1)
            .count();
        if words == 0 {
            return Err(AsrError::Config(format!(
                "{}: no token longer than one character (a character LM? give it with --lm)",
                path.display()
            )));
        }
        Self::new(lm, vocab).map_err(|e| match e {
            AsrError::Config(m) => AsrError::Config(format!("{}: {m}", path.display())),
            e => e,
        })
    }

    /// The n-gram model.
    pub fn model(&self) -> &NgramLm {
        &self.lm
    }

    /// The label of the space.
    pub fn space(&self) -> usize {
        self.space
    }

    /// The word id of `labels` (one word), or [`UNK`].
    fn id_of(&self, labels: &[usize], buf: &mut String) -> u32 {
        buf.clear();
        buf.extend(
            labels
                .iter()
                .map(|&l| self.chars.get(l).copied().unwrap_or('\u{fffd}')),
        );
        self.lm.vocab().id_or_unk(buf)
    }

    /// Word ids of the up to `order - 1` words before `end` in `context`
    /// (`<s>` first when they reach the start), into `out`, oldest first.
    fn history(&self, context: &[usize], end: usize, out: &mut Vec<u32>, buf: &mut String) {
        out.clear();
        let want = self.lm.order() - 1;
        let mut stop = end;
        while out.len() < want {
            // Skip the spaces before the word, then take the word.
            while stop > 0 && context[stop - 1] == self.space {
                stop -= 1;
            }
            if stop == 0 {
                out.push(BOS);
                break;
            }
            let start = context[..stop]
                .iter()
                .rposition(|&l| l == self.space)
                .map_or(0, |p| p + 1);
            out.push(self.id_of(&context[start..stop], buf));
            stop = start;
        }
        out.reverse();
    }
}

/// The character LM and a word LM fused at word boundaries (see the module
/// doc): what the beam search queries when a model ships both.
#[derive(Debug, Clone, Copy)]
pub struct Fusion<'a> {
    pub chars: &'a CharLm,
    pub words: &'a WordLm,
    /// Share of the word LM in a known word's score (0: off, 1: the word
    /// LM's alone).
    pub weight: f64,
    /// Added (natural log) to a word the word LM does not know.
    pub oov_penalty: f64,
}

impl Fusion<'_> {
    /// The correction for the word that ends at the end of `context`, its
    /// character-LM score ending in `char_end` (the space or `</s>`), and
    /// the word LM's own `</s>` after it when `sentence_end`.
    fn correction(&self, context: &[usize], char_end: f64, sentence_end: bool) -> f64 {
        let space = self.words.space;
        let end = context.len();
        let start = context
            .iter()
            .rposition(|&l| l == space)
            .map_or(0, |p| p + 1);
        if start == end {
            return 0.0;
        }
        let mut buf = String::new();
        let id = self.words.id_of(&context[start..end], &mut buf);
        if id == UNK {
            return self.oov_penalty;
        }
        let mut hist = Vec::with_capacity(MAX_ORDER);
        self.words.history(context, start, &mut hist, &mut buf);
        let mut lw = self.words.lm.log10_prob(&hist, id) * LN_10;
        if sentence_end {
            hist.push(id);
            lw += self.words.lm.log10_prob(&hist, EOS) * LN_10;
        }
        let lc = (start..end)
            .map(|i| self.chars.log_prob(&context[..i], context[i]))
            .sum::<f64>()
            + char_end;
        self.weight * (lw - lc)
    }
}

impl LanguageModel for Fusion<'_> {
    fn log_prob(&self, context: &[usize], label: usize) -> f64 {
        let c = self.chars.log_prob(context, label);
        if label != self.words.space {
            return c;
        }
        c + self.correction(context, c, false)
    }

    fn end_log_prob(&self, context: &[usize]) -> f64 {
        let c = self.chars.end_log_prob(context);
        c + self.correction(context, c, true)
    }
}

/// A model's words of a transcript: normalised as transcripts are, split at
/// spaces.
pub fn word_tokens(text: &str) -> Vec<String> {
    Tokenization::Words.tokens(&normalize(text))
}

/// Trains a word model on texts (normalised first; empty ones skipped).
pub fn train_word_lm(
    texts: &[String],
    order: usize,
    smoothing: Smoothing,
    min_count: &[u64],
) -> Result<NgramLm> {
    crate::decode::lm::train_with(texts, word_tokens, order, smoothing, min_count)
}

/// Scores texts (normalised like transcripts) with a word model.
pub fn word_perplexity(lm: &NgramLm, texts: &[String]) -> sori_lm::Perplexity {
    crate::decode::lm::perplexity_with(lm, texts, word_tokens)
}

/// The word LM a model directory may ship, gzip-compressed or plain.
pub const MODEL_WORD_LM_FILES: [&str; 2] = ["words.arpa.gz", "words.arpa"];

/// The word LM file in a model directory, if it ships one.
pub fn model_word_lm(dir: &Path) -> Option<std::path::PathBuf> {
    crate::decode::shipped_file(dir, &MODEL_WORD_LM_FILES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::lm::train_char_lm;
    use sori_lm::{train, TrainOptions};

    fn texts() -> Vec<String> {
        [
            "the cat sat",
            "a cat sat on the mat",
            "the dog ran",
            "a dog sat",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn setup() -> (CharLm, WordLm, Vocab) {
        let vocab = Vocab::from_texts(["abcdefghijklmnopqrstuvwxyz"]);
        let chars = CharLm::new(
            train_char_lm(&texts(), 4, Smoothing::KneserNey, &[]).unwrap(),
            &vocab,
        );
        let sentences: Vec<Vec<String>> = texts()
            .iter()
            .map(|t| Tokenization::Words.tokens(t))
            .collect();
        let words = WordLm::new(train(&sentences, &TrainOptions::new(3)).unwrap(), &vocab).unwrap();
        (chars, words, vocab)
    }

    fn labels(vocab: &Vocab, s: &str) -> Vec<usize> {
        s.chars().map(|c| vocab.index(c).unwrap()).collect()
    }

    /// The fused LM's log-probability of a whole sentence: every label, each
    /// given the ones before, and the end.
    fn sentence_score(lm: &dyn LanguageModel, ls: &[usize]) -> f64 {
        (0..ls.len())
            .map(|i| lm.log_prob(&ls[..i], ls[i]))
            .sum::<f64>()
            + lm.end_log_prob(ls)
    }

    #[test]
    fn weight_one_scores_known_words_by_the_word_lm_alone() {
        let (chars, words, vocab) = setup();
        let f = Fusion {
            chars: &chars,
            words: &words,
            weight: 1.0,
            oov_penalty: -5.0,
        };
        // Computed here from the word LM directly: <s> the cat sat </s>.
        let w = words.model();
        let id = |t: &str| w.vocab().get(t).unwrap();
        let want = (w.log10_prob(&[BOS], id("the"))
            + w.log10_prob(&[BOS, id("the")], id("cat"))
            + w.log10_prob(&[id("the"), id("cat")], id("sat"))
            + w.log10_prob(&[id("cat"), id("sat")], EOS))
            * LN_10;
        let got = sentence_score(&f, &labels(&vocab, "the cat sat"));
        assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        // Weight 0: exactly the character LM.
        let off = Fusion { weight: 0.0, ..f };
        let ls = labels(&vocab, "the cat sat");
        assert!((sentence_score(&off, &ls) - sentence_score(&chars, &ls)).abs() < 1e-9);
    }

    #[test]
    fn an_unknown_word_keeps_its_spelling_and_pays_the_penalty() {
        let (chars, words, vocab) = setup();
        let f = Fusion {
            chars: &chars,
            words: &words,
            weight: 1.0,
            oov_penalty: -3.0,
        };
        // "the zebra": "the" by the word LM (given <s>), "zebra" by its
        // spelling plus the penalty.
        let ls = labels(&vocab, "the zebra");
        let w = words.model();
        let the = w.vocab().get("the").unwrap();
        let spell_from = 4; // "zebra" starts after "the "
        let spelling: f64 = (spell_from..ls.len())
            .map(|i| chars.log_prob(&ls[..i], ls[i]))
            .sum::<f64>()
            + chars.end_log_prob(&ls);
        let want = w.log10_prob(&[BOS], the) * LN_10 + spelling - 3.0;
        let got = sentence_score(&f, &ls);
        assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    }

    #[test]
    fn history_skips_repeated_spaces_and_starts_with_bos() {
        let (_, words, vocab) = setup();
        let w = words.model();
        let id = |t: &str| w.vocab().get(t).unwrap();
        let ls = labels(&vocab, "a  dog sat");
        let mut h = Vec::new();
        let mut buf = String::new();
        words.history(&ls, ls.len(), &mut h, &mut buf);
        // Order 3: the last two words before the end.
        assert_eq!(h, vec![id("dog"), id("sat")]);
        words.history(&ls, 3, &mut h, &mut buf);
        assert_eq!(h, vec![BOS, id("a")]);
        words.history(&ls, 0, &mut h, &mut buf);
        assert_eq!(h, vec![BOS]);
    }

    #[test]
    fn a_character_lm_is_refused_as_word_lm() {
        let (chars, _, vocab) = setup();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("chars.arpa");
        chars.model().save_arpa(&p).unwrap();
        let e = WordLm::load(&p, &vocab).unwrap_err().to_string();
        assert!(
            e.contains("chars.arpa") && e.contains("character LM"),
            "{e}"
        );
    }
}
