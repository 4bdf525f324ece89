//! Test and benchmark fixtures (behind the `test-support` feature, which the
//! crate's own tests, examples and benches turn on): deterministic audio and
//! untrained models (`bench_audio`), a tiny trainable corpus (`toy`).
pub mod bench_audio;
pub mod toy;
