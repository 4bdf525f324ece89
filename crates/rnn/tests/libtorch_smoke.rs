//! Smoke test of the libtorch link: if this passes, tch loads, runs an LSTM
//! step and a CTC loss, and gives the numbers we compute by hand.
use tch::{nn, Device, Kind, Tensor};

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn lstm_step_matches_hand_computation() {
    // One input, one hidden unit, so each gate has a single weight.
    // libtorch gate order in w_ih / w_hh rows: input, forget, cell (g), output.
    let vs = nn::VarStore::new(Device::Cpu);
    let lstm = nn::lstm(vs.root(), 1, 1, Default::default());
    let w_ih = [0.5, -0.3, 0.8, 0.1];
    let w_hh = [0.2, 0.4, -0.6, 0.7];
    let b_ih = [0.05, 0.1, -0.05, 0.0];
    let b_hh = [0.01, -0.02, 0.03, 0.04];
    tch::no_grad(|| {
        for (name, var) in vs.variables() {
            let vals: &[f64] = match name.as_str() {
                "weight_ih_l0" => &w_ih,
                "weight_hh_l0" => &w_hh,
                "bias_ih_l0" => &b_ih,
                "bias_hh_l0" => &b_hh,
                other => panic!("unexpected parameter {other}"),
            };
            let src = Tensor::from_slice(vals)
                .to_kind(Kind::Float)
                .reshape(var.size());
            let mut var = var;
            var.copy_(&src);
        }
    });
    let (x, h0, c0) = (0.9f64, 0.3f64, -0.2f64);
    let input = Tensor::from_slice(&[x as f32]).reshape([1, 1, 1]);
    let h = Tensor::from_slice(&[h0 as f32]).reshape([1, 1, 1]);
    let c = Tensor::from_slice(&[c0 as f32]).reshape([1, 1, 1]);
    use tch::nn::RNN;
    let (out, state) = lstm.seq_init(&input, &nn::LSTMState((h, c)));

    let pre = |k: usize| w_ih[k] * x + b_ih[k] + w_hh[k] * h0 + b_hh[k];
    let i = sigmoid(pre(0));
    let f = sigmoid(pre(1));
    let g = pre(2).tanh();
    let o = sigmoid(pre(3));
    let c1 = f * c0 + i * g;
    let h1 = o * c1.tanh();

    let got_h = out.double_value(&[0, 0, 0]);
    let got_c = state.c().double_value(&[0, 0, 0]);
    assert!((got_h - h1).abs() < 1e-6, "h: libtorch {got_h}, hand {h1}");
    assert!((got_c - c1).abs() < 1e-6, "c: libtorch {got_c}, hand {c1}");
}

#[test]
fn ctc_loss_matches_hand_computation() {
    // T=2 frames, C=2 classes (blank=0, "a"=1), target "a".
    // Valid alignments: (a,a), (a,blank), (blank,a).
    let p = [[0.4f64, 0.6], [0.7, 0.3]]; // p[t][c]
    let prob = p[0][1] * p[1][1] + p[0][1] * p[1][0] + p[0][0] * p[1][1];
    let expected = -prob.ln();
    let log_probs = Tensor::from_slice(&[p[0][0], p[0][1], p[1][0], p[1][1]])
        .reshape([2, 1, 2])
        .log();
    let targets = Tensor::from_slice(&[1i64]).reshape([1, 1]);
    let loss = Tensor::ctc_loss_tensor(
        &log_probs,
        &targets,
        &Tensor::from_slice(&[2i64]),
        &Tensor::from_slice(&[1i64]),
        0,
        tch::Reduction::None,
        false,
    );
    let got = loss.double_value(&[0]);
    assert!(
        (got - expected).abs() < 1e-9,
        "libtorch {got}, hand {expected}"
    );
}
