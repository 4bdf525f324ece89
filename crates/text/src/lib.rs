//! Text side of the project: tokenisers and vocabularies, and the metrics that
//! compare text (edit distance, CER, WER, BLEU, chrF).
//!
//! No libtorch dependency: token ids are plain integers here.

pub mod bleu;
pub mod chrf;
pub mod edit;
