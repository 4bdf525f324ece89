//! One training step (forward, backward, optimiser step) of the two models
//! the applications train most, built from sori-rnn and sori-train exactly
//! as the applications build them:
//!
//! - `imdb_lstm`: the lecture's IMDB model, Embedding(10000, 32) → LSTM(32)
//!   → Dense(1), batch 128 × 500 tokens, binary cross-entropy, RMSprop.
//! - `speech_bilstm`: 3-layer BiLSTM with 256 units per direction over 40
//!   features, T = 300, batch 16, a 29-way frame classifier, Adam.
//!
//! The peer `benches/peers/train_step_torch.py` runs the same steps in
//! PyTorch; both use `SORI_BENCH_THREADS` intra-op threads (default 2).
//! Run alone: `cargo bench -p sori-train --bench step`.
use criterion::{criterion_group, criterion_main, Criterion};
use sori_rnn::{Cell, Encoder, EncoderConfig};
use sori_train::{OptimizerKind, OptimizerSpec};
use std::time::Duration;
use tch::{nn, nn::Module, Device, Kind, Reduction, Tensor};

fn threads() -> i32 {
    std::env::var("SORI_BENCH_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2)
}

fn imdb_lstm(c: &mut Criterion) {
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let emb = nn::embedding(vs.root() / "embedding", 10000, 32, Default::default());
    let enc = Encoder::new(
        &(vs.root() / "lstm"),
        &EncoderConfig::new(Cell::Lstm, 32, 32),
    )
    .unwrap();
    let dense = nn::linear(vs.root() / "dense", 32, 1, Default::default());
    let mut opt = OptimizerSpec::new(OptimizerKind::RmsProp, 1e-3)
        .build(&vs)
        .unwrap();
    let (b, t) = (128i64, 500i64);
    let tokens = Tensor::randint(10000, [b, t], (Kind::Int64, Device::Cpu));
    let labels = Tensor::randint(2, [b], (Kind::Float, Device::Cpu));
    let lengths = vec![t; b as usize];
    let mut step = || {
        let xs = emb.forward(&tokens);
        let out = enc.forward(&xs, &lengths, true).unwrap();
        let logits = dense.forward(&out.state.last_layer_h(1)).squeeze_dim(-1);
        let loss =
            logits.binary_cross_entropy_with_logits::<Tensor>(&labels, None, None, Reduction::Mean);
        opt.zero_grad();
        loss.backward();
        opt.step();
        loss.double_value(&[])
    };
    let mut g = c.benchmark_group("train_step");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.bench_function("imdb_lstm", |bch| bch.iter(&mut step));
    g.finish();
}

fn speech_bilstm(c: &mut Criterion) {
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let cfg = EncoderConfig::new(Cell::Lstm, 40, 256)
        .layers(3)
        .bidirectional(true);
    let enc = Encoder::new(&(vs.root() / "encoder"), &cfg).unwrap();
    let out_layer = nn::linear(vs.root() / "output", 512, 29, Default::default());
    let mut opt = OptimizerSpec::new(OptimizerKind::Adam, 1e-3)
        .build(&vs)
        .unwrap();
    let (b, t) = (16i64, 300i64);
    let feats = Tensor::randn([b, t, 40], (Kind::Float, Device::Cpu));
    let targets = Tensor::randint(29, [b * t], (Kind::Int64, Device::Cpu));
    let lengths = vec![t; b as usize];
    let mut step = || {
        let out = enc.forward(&feats, &lengths, true).unwrap();
        let logits = out_layer.forward(&out.outputs).reshape([b * t, 29]);
        let loss = logits.cross_entropy_for_logits(&targets);
        opt.zero_grad();
        loss.backward();
        opt.step();
        loss.double_value(&[])
    };
    let mut g = c.benchmark_group("train_step");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("speech_bilstm", |bch| bch.iter(&mut step));
    g.finish();
}

fn setup(c: &mut Criterion) {
    tch::set_num_threads(threads());
    imdb_lstm(c);
    speech_bilstm(c);
}

criterion_group!(benches, setup);
criterion_main!(benches);
