//! One training step (forward, backward, optimiser step) of the two models
//! the applications train most, built from sori-rnn and sori-train exactly
//! as the applications build them (see `common/mod.rs`):
//!
//! - `imdb_lstm`: the lecture's IMDB model, Embedding(10000, 32) → LSTM(32)
//!   → Dense(1), batch 128 × 500 tokens, binary cross-entropy, RMSprop.
//! - `speech_bilstm`: 3-layer BiLSTM with 256 units per direction over 40
//!   features, T = 300, batch 16, a 29-way frame classifier, Adam.
//!
//! The peer `benches/peers/train_step_torch.py` runs the same steps in
//! PyTorch; both use `SORI_BENCH_THREADS` intra-op threads (default 2).
//! The steps run with subnormals flushed to zero, as sori's binaries do
//! (`sori_train::cpu`); `make bench` also runs the peer in that mode.
//! Run alone: `cargo bench -p sori-train --bench step` (ids
//! `train_step_{threads}t/{model}`).
use criterion::{criterion_group, criterion_main, Criterion};
use std::time::Duration;

mod common;

fn setup(c: &mut Criterion) {
    // As the applications run (sori_train::cpu), before libtorch's threads exist.
    sori_train::configure_process();
    let threads = common::threads();
    tch::set_num_threads(threads);
    // The thread count is part of the id: `make bench` runs this at 1 thread
    // and at all threads, and both results stay in one report.
    let mut g = c.benchmark_group(format!("train_step_{threads}t"));
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    let mut imdb = common::imdb_lstm();
    g.bench_function("imdb_lstm", |b| b.iter(&mut imdb));
    g.measurement_time(Duration::from_secs(20));
    let mut speech = common::speech_bilstm();
    g.bench_function("speech_bilstm", |b| b.iter(&mut speech));
    g.finish();
}

criterion_group!(benches, setup);
criterion_main!(benches);
