//! Decoding helpers around `sori_ctc`'s greedy and beam search: the
//! character n-gram LM adapter (`lm`) that the beam search queries.
pub mod lm;
