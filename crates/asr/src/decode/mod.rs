//! Decoding helpers around `sori_ctc`'s greedy and beam search: the
//! character n-gram LM adapter (`lm`) that the beam search queries, and the
//! word n-gram LM fused with it at word boundaries (`words`).
pub mod lm;
pub mod words;

/// Beam width when an LM is used and no width is asked for.
pub const DEFAULT_LM_BEAM: usize = 64;
/// Weight of the (fused) LM's log-probability, alpha.
pub const DEFAULT_ALPHA: f64 = 1.0;
/// Bonus per emitted character, beta.
pub const DEFAULT_BETA: f64 = 2.0;
/// The word LM's share of a known word's score.
pub const DEFAULT_WORD_WEIGHT: f64 = 1.0;
/// Natural-log penalty of a word the word LM does not know.
pub const DEFAULT_OOV_PENALTY: f64 = -2.0;

/// The first of `names` that is a file in model directory `dir` (the
/// compressed spelling of an LM first).
pub(crate) fn shipped_file(dir: &std::path::Path, names: &[&str]) -> Option<std::path::PathBuf> {
    names.iter().map(|f| dir.join(f)).find(|p| p.is_file())
}
