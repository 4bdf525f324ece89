//! Decoding helpers around `sori_ctc`'s greedy and beam search: the
//! character n-gram LM adapter (`lm`) that the beam search queries, and the
//! word n-gram LM fused with it at word boundaries (`words`).
pub mod lm;
pub mod words;
