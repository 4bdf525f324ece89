//! Corpora the project builds itself: synthetic multi-speaker speech
//! (`synth`, espeak-ng) and leave-one-speaker-out manifests of the Free
//! Spoken Digit Dataset (`fsdd`).
pub mod fsdd;
pub mod open;
pub mod synth;
pub mod text;
