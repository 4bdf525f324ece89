//! The two training steps measured by `benches/step.rs` and timed by
//! `examples/step_timing.rs` (shared so both measure the same thing).
use sori_rnn::{Cell, Encoder, EncoderConfig};
use sori_train::{OptimizerKind, OptimizerSpec};
use tch::{nn, nn::Module, Device, Kind, Reduction, Tensor};

/// Intra-op threads: `SORI_BENCH_THREADS`, default 2 (the peer uses the same).
pub fn threads() -> i32 {
    std::env::var("SORI_BENCH_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2)
}

/// The lecture's IMDB model: Embedding(10000, 32) → LSTM(32) → Dense(1),
/// batch 128 × 500 tokens, BCE, RMSprop. Returns a closure doing one step.
pub fn imdb_lstm() -> impl FnMut() -> f64 {
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
    move || {
        let _keep = &vs;
        let xs = emb.forward(&tokens);
        let out = enc.forward(&xs, &lengths, true).unwrap();
        let logits = dense.forward(&out.state.last_layer_h(1)).squeeze_dim(-1);
        let loss =
            logits.binary_cross_entropy_with_logits::<Tensor>(&labels, None, None, Reduction::Mean);
        opt.zero_grad();
        loss.backward();
        opt.step();
        loss.double_value(&[])
    }
}

/// Speech encoder: 3-layer BiLSTM, 256 units per direction, 40 features,
/// T = 300, batch 16, 29-way frame classifier, Adam.
pub fn speech_bilstm() -> impl FnMut() -> f64 {
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
    move || {
        let _keep = &vs;
        let out = enc.forward(&feats, &lengths, true).unwrap();
        let logits = out_layer.forward(&out.outputs).reshape([b * t, 29]);
        let loss = logits.cross_entropy_for_logits(&targets);
        opt.zero_grad();
        loss.backward();
        opt.step();
        loss.double_value(&[])
    }
}
