//! Audio input and acoustic features: WAV reading, resampling, MFCC and
//! log-mel filterbanks (Kaldi and librosa presets), streaming extraction.
//!
//! This crate has no libtorch dependency on purpose: features are plain
//! `Vec<f32>` matrices so they can be computed, tested and benchmarked without
//! linking a 1 GB C++ library.
