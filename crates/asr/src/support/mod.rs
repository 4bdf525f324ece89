//! Test and benchmark fixtures (behind the `test-support` feature, which the
//! crate's own tests, examples and benches turn on): deterministic audio and
//! untrained models (`bench_audio`), a tiny trainable corpus (`toy`), and
//! the external-tool check that skips visibly or fails under CI (`tools`).
pub mod bench_audio;
pub mod tools;
pub mod toy;
