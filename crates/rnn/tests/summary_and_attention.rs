//! Parameter counts (libtorch vs Keras, explained in `summary.rs`), the
//! summary table, and attention checked against direct computations.
use sori_rnn::{
    count_params, keras_rnn_param_count, length_mask, rnn_param_count, Attention, AttentionKind,
    Cell, Encoder, EncoderConfig, Summary,
};
use tch::{nn, Device, Kind, Tensor};

#[test]
fn lstm32_on_32_inputs_has_8448_parameters_here_and_8320_in_keras() {
    let vs = nn::VarStore::new(Device::Cpu);
    let enc = Encoder::new(
        &(vs.root() / "lstm"),
        &EncoderConfig::new(Cell::Lstm, 32, 32),
    )
    .unwrap();
    // Counted from the variables libtorch actually holds.
    assert_eq!(count_params(&vs, "lstm"), (8448, 0));
    assert_eq!(enc.param_count(), 8448);
    assert_eq!(rnn_param_count(Cell::Lstm, 32, 32, 1, false), 8448);
    // Keras: one bias per gate.
    assert_eq!(keras_rnn_param_count(Cell::Lstm, 32, 32), 8320);
    // The difference is exactly the second bias vector, 4 gates × 32.
    assert_eq!(8448 - 8320, 4 * 32);
    // SimpleRNN(32) on 32 embeddings: Keras 2,080 (the lecture), here 2,112.
    assert_eq!(keras_rnn_param_count(Cell::RnnTanh, 32, 32), 2080);
    assert_eq!(rnn_param_count(Cell::RnnTanh, 32, 32, 1, false), 2112);
    // GRU: Keras' reset_after=True also has two biases; the counts agree.
    assert_eq!(
        keras_rnn_param_count(Cell::Gru, 32, 32),
        rnn_param_count(Cell::Gru, 32, 32, 1, false)
    );
}

#[test]
fn formula_matches_created_variables_for_deep_bidirectional_stacks() {
    for cell in [Cell::RnnTanh, Cell::RnnRelu, Cell::Lstm, Cell::Gru] {
        let vs = nn::VarStore::new(Device::Cpu);
        let cfg = EncoderConfig::new(cell, 40, 256)
            .layers(3)
            .bidirectional(true);
        let enc = Encoder::new(&vs.root(), &cfg).unwrap();
        let (n, _) = count_params(&vs, "");
        assert_eq!(n, rnn_param_count(cell, 40, 256, 3, true), "{cell}");
        assert_eq!(enc.param_count(), n);
    }
}

#[test]
fn summary_table_like_keras() {
    let vs = nn::VarStore::new(Device::Cpu);
    let _emb = nn::embedding(vs.root() / "embedding", 10000, 32, Default::default());
    let _enc = Encoder::new(
        &(vs.root() / "lstm"),
        &EncoderConfig::new(Cell::Lstm, 32, 32),
    )
    .unwrap();
    let _out = nn::linear(vs.root() / "dense", 32, 1, Default::default());
    let mut s = Summary::new("imdb_lstm");
    s.add_from_vars(
        "embedding",
        "Embedding",
        &[None, Some(500), Some(32)],
        &vs,
        "embedding",
    )
    .add_from_vars("lstm", "LSTM", &[None, Some(32)], &vs, "lstm")
    .add_from_vars("dense", "Dense", &[None, Some(1)], &vs, "dense");
    assert_eq!(s.total_params(), 320_000 + 8448 + 33);
    let text = s.to_string();
    assert!(text.starts_with("Model: \"imdb_lstm\""), "{text}");
    for needle in [
        "embedding (Embedding)",
        "(None, 500, 32)",
        "320,000",
        "lstm (LSTM)",
        "8,448",
        "dense (Dense)",
        "(None, 1)",
        "Total params: 328,481",
        "Trainable params: 328,481",
        "Non-trainable params: 0",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    // A frozen layer is counted as non-trainable.
    let mut frozen = nn::VarStore::new(Device::Cpu);
    let _e = nn::embedding(frozen.root() / "emb", 10, 4, Default::default());
    frozen.freeze();
    let mut s2 = Summary::new("f");
    s2.add_from_vars("emb", "Embedding", &[None, Some(4)], &frozen, "emb");
    assert!(s2.to_string().contains("Non-trainable params: 40"));
}

fn keys_and_query(q: i64, k: i64) -> (Tensor, Tensor) {
    tch::manual_seed(4);
    let keys = Tensor::randn([2, 5, k], (Kind::Float, Device::Cpu));
    let query = Tensor::randn([2, q], (Kind::Float, Device::Cpu));
    (keys, query)
}

#[test]
fn masked_attention_ignores_padding_and_sums_to_one() {
    for kind in [
        AttentionKind::Bahdanau,
        AttentionKind::LuongGeneral,
        AttentionKind::LuongDot,
    ] {
        let vs = nn::VarStore::new(Device::Cpu);
        let attn = Attention::new(&vs.root(), kind, 6, 6, 7).unwrap();
        let (keys, query) = keys_and_query(6, 6);
        let lengths = [5, 3];
        let mask = length_mask(&lengths, 5, Device::Cpu);
        let (ctx, w) = tch::no_grad(|| attn.forward(&query, &keys, Some(&mask)));
        assert_eq!(ctx.size(), [2, 6]);
        assert_eq!(w.size(), [2, 5]);
        let sums = w.sum_dim_intlist(-1, false, Kind::Float);
        assert!((sums - 1.0).abs().max().double_value(&[]) < 1e-6);
        // Padded positions of row 1 get exactly zero weight ...
        assert_eq!(w.get(1).narrow(0, 3, 2).abs().max().double_value(&[]), 0.0);
        // ... so garbage there changes nothing.
        let noisy = keys.copy();
        noisy
            .get(1)
            .narrow(0, 3, 2)
            .copy_(&(Tensor::randn([2, 6], (Kind::Float, Device::Cpu)) * 50.0));
        let (ctx2, _) = tch::no_grad(|| attn.forward(&query, &noisy, Some(&mask)));
        let d = (ctx2.get(1) - ctx.get(1)).abs().max().double_value(&[]);
        assert!(d < 1e-5, "{kind:?}: padding leaked into the context ({d})");
        // Row 1 equals attending over its 3 real positions alone.
        let (alone, _) = tch::no_grad(|| {
            attn.forward(
                &query.narrow(0, 1, 1),
                &keys.narrow(0, 1, 1).narrow(1, 0, 3),
                None,
            )
        });
        let d = (alone.get(0) - ctx.get(1)).abs().max().double_value(&[]);
        assert!(d < 1e-5, "{kind:?}: masked != truncated ({d})");
    }
}

#[test]
fn attention_scores_match_their_formulas() {
    let vs = nn::VarStore::new(Device::Cpu);
    let (keys, query) = keys_and_query(4, 6);
    // Dot needs equal sizes.
    assert!(Attention::new(&vs.root(), AttentionKind::LuongDot, 4, 6, 0).is_err());
    let general = Attention::new(&(vs.root() / "g"), AttentionKind::LuongGeneral, 4, 6, 0).unwrap();
    let bahdanau = Attention::new(&(vs.root() / "b"), AttentionKind::Bahdanau, 4, 6, 5).unwrap();
    let vars: std::collections::HashMap<String, Tensor> = vs.variables().into_iter().collect();
    tch::no_grad(|| {
        // Luong general: score_s = qᵀ W_a k_s.
        let wa = &vars["g.w_a.weight"]; // [Q, K]
        let want = keys
            .matmul(&wa.tr())
            .bmm(&query.unsqueeze(-1))
            .squeeze_dim(-1);
        let want_w = want.softmax(-1, Kind::Float);
        let (ctx, w) = general.forward(&query, &keys, None);
        assert!((&w - &want_w).abs().max().double_value(&[]) < 1e-6);
        let want_ctx = want_w.unsqueeze(1).bmm(&keys).squeeze_dim(1);
        assert!((ctx - want_ctx).abs().max().double_value(&[]) < 1e-6);
        // Bahdanau: score_s = vᵀ tanh(W_q q + W_k k_s + b).
        let wq = &vars["b.w_query.weight"];
        let wk = &vars["b.w_key.weight"];
        let bk = &vars["b.w_key.bias"];
        let v = &vars["b.v.weight"]; // [1, A]
        let e = (keys.matmul(&wk.tr()) + bk + query.matmul(&wq.tr()).unsqueeze(1)).tanh();
        let want = e.matmul(&v.tr()).squeeze_dim(-1).softmax(-1, Kind::Float);
        let (_, w) = bahdanau.forward(&query, &keys, None);
        assert!((w - want).abs().max().double_value(&[]) < 1e-6);
    });
}
