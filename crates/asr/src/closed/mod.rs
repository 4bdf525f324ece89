//! Closed-vocabulary and one-speaker techniques: answers restricted to a
//! list of candidates (`choices`), several models combined (`ensemble`),
//! one speaker's recordings labelled together (`transduce`) and confident
//! answers kept as training labels (`pseudo`).
//!
//! Why apart: these assume something about the audio (the words that can
//! occur, one speaker per group) that the open recogniser must not. The core
//! (`recognize`, `eval`, `align`, ...) never imports this folder; the arrow
//! only points here from the binary.
pub mod choices;
pub mod ensemble;
pub mod pseudo;
pub mod transduce;
