//! The lecture's gate equations, computed by hand with tensor operations
//! from the encoder's own weights, against libtorch's fused kernels.
//!
//! Symbol map (lecture → libtorch, per layer, `H` hidden units):
//! - LSTM: `W_i, W_f, W_c, W_o` (input weights of the input, forget,
//!   candidate and output gates) are the row blocks `[0..H], [H..2H],
//!   [2H..3H], [3H..4H]` of `weight_ih_l0` ([4H, I]); the recurrent `U_*`
//!   are the same blocks of `weight_hh_l0` ([4H, H]); the lecture's single
//!   bias `b_*` is `bias_ih_l0[block] + bias_hh_l0[block]`.
//! - GRU: `W_r, W_z, W_h` are the blocks `[0..H], [H..2H], [2H..3H]` of
//!   `weight_ih_l0` ([3H, I]) in the order reset, update, new; `U_*` those
//!   of `weight_hh_l0`. The candidate's recurrent bias `b_hn` stays inside
//!   the reset product: `n = tanh(W_in x + b_in + r∘(W_hn h + b_hn))`.
use sori_rnn::{Cell, Encoder, EncoderConfig, State};
use std::collections::HashMap;
use tch::{nn, Device, Kind, Tensor};

const I: i64 = 3;
const H: i64 = 4;
const B: i64 = 2;

fn weights(vs: &nn::VarStore) -> HashMap<String, Tensor> {
    vs.variables().into_iter().collect()
}

fn block(t: &Tensor, k: i64) -> Tensor {
    t.narrow(0, k * H, H)
}

/// `x W_kᵀ + b_ik + h U_kᵀ + b_hk` for gate block `k`.
fn pre(w: &HashMap<String, Tensor>, x: &Tensor, h: &Tensor, k: i64) -> Tensor {
    x.matmul(&block(&w["weight_ih_l0"], k).tr())
        + block(&w["bias_ih_l0"], k)
        + h.matmul(&block(&w["weight_hh_l0"], k).tr())
        + block(&w["bias_hh_l0"], k)
}

/// Agreement to f32 rounding, relative to the values' size: the fused
/// kernel sums in another order (and with MKL/oneDNN's own blocking), so a
/// cell state of magnitude 3 may differ in the 6th digit. A wrong gate order
/// or bias layout differs by 1e-1.
fn close(a: &Tensor, b: &Tensor, what: &str) {
    let d = (a - b).abs().max().double_value(&[]);
    let scale = b.abs().max().double_value(&[]);
    assert!(
        d < 2e-5 * (1.0 + scale),
        "{what}: hand vs libtorch differ by {d} (values up to {scale})"
    );
}

#[test]
fn lstm_step_by_hand_equals_libtorch() {
    tch::manual_seed(1);
    let vs = nn::VarStore::new(Device::Cpu);
    let enc = Encoder::new(&vs.root(), &EncoderConfig::new(Cell::Lstm, I, H)).unwrap();
    let w = weights(&vs);
    let x = Tensor::randn([B, I], (Kind::Float, Device::Cpu));
    let h_prev = Tensor::randn([B, H], (Kind::Float, Device::Cpu));
    let c_prev = Tensor::randn([B, H], (Kind::Float, Device::Cpu));

    // Lecture: i = σ(W_i x + U_i h + b_i), f = σ(...), c̃ = tanh(...), o = σ(...)
    let i = pre(&w, &x, &h_prev, 0).sigmoid();
    let f = pre(&w, &x, &h_prev, 1).sigmoid();
    let g = pre(&w, &x, &h_prev, 2).tanh();
    let o = pre(&w, &x, &h_prev, 3).sigmoid();
    let c = &f * &c_prev + &i * &g; // c_t = f ∘ c_{t-1} + i ∘ c̃
    let h = &o * c.tanh(); // h_t = o ∘ tanh(c_t)

    let state = State {
        h: h_prev.unsqueeze(0),
        c: Some(c_prev.unsqueeze(0)),
    };
    let (out, new_state) = tch::no_grad(|| enc.step(&x, Some(&state)).unwrap());
    close(&out, &h, "LSTM output h");
    close(&new_state.h.get(0), &h, "LSTM final h");
    close(&new_state.c.unwrap().get(0), &c, "LSTM cell c");
    // The gates are genuinely mixed (not saturated), so the check has teeth.
    let spread = f.max().double_value(&[]) - f.min().double_value(&[]);
    assert!(spread > 0.05, "forget gate nearly constant: {spread}");
}

#[test]
fn gru_step_by_hand_equals_libtorch() {
    tch::manual_seed(2);
    let vs = nn::VarStore::new(Device::Cpu);
    let enc = Encoder::new(&vs.root(), &EncoderConfig::new(Cell::Gru, I, H)).unwrap();
    let w = weights(&vs);
    let x = Tensor::randn([B, I], (Kind::Float, Device::Cpu));
    let h_prev = Tensor::randn([B, H], (Kind::Float, Device::Cpu));

    let r = pre(&w, &x, &h_prev, 0).sigmoid(); // reset
    let z = pre(&w, &x, &h_prev, 1).sigmoid(); // update
    let n = (x.matmul(&block(&w["weight_ih_l0"], 2).tr())
        + block(&w["bias_ih_l0"], 2)
        + &r * (h_prev.matmul(&block(&w["weight_hh_l0"], 2).tr()) + block(&w["bias_hh_l0"], 2)))
    .tanh(); // candidate h̃
    let h = (1.0 - &z) * &n + &z * &h_prev; // h = (1 − z) ∘ h̃ + z ∘ h_prev

    let state = State {
        h: h_prev.unsqueeze(0),
        c: None,
    };
    let (out, new_state) = tch::no_grad(|| enc.step(&x, Some(&state)).unwrap());
    close(&out, &h, "GRU output h");
    close(&new_state.h.get(0), &h, "GRU final h");

    // The paper's variant, n' = tanh(W x + U (r ∘ h)), is a different
    // function; make sure the test can tell them apart.
    let paper = (x.matmul(&block(&w["weight_ih_l0"], 2).tr())
        + block(&w["bias_ih_l0"], 2)
        + (&r * &h_prev).matmul(&block(&w["weight_hh_l0"], 2).tr())
        + block(&w["bias_hh_l0"], 2))
    .tanh();
    let h_paper: Tensor = (1.0 - &z) * paper + &z * &h_prev;
    let d = (h_paper - &h).abs().max().double_value(&[]);
    assert!(d > 1e-4, "reset placement indistinguishable ({d})");
}

#[test]
fn simple_rnn_step_by_hand_equals_libtorch() {
    for (cell, act) in [(Cell::RnnTanh, "tanh"), (Cell::RnnRelu, "relu")] {
        tch::manual_seed(3);
        let vs = nn::VarStore::new(Device::Cpu);
        let enc = Encoder::new(&vs.root(), &EncoderConfig::new(cell, I, H)).unwrap();
        let w = weights(&vs);
        let x = Tensor::randn([B, I], (Kind::Float, Device::Cpu));
        let h_prev = Tensor::randn([B, H], (Kind::Float, Device::Cpu));
        let a = pre(&w, &x, &h_prev, 0);
        let h = if act == "tanh" { a.tanh() } else { a.relu() };
        let state = State {
            h: h_prev.unsqueeze(0),
            c: None,
        };
        let (out, _) = tch::no_grad(|| enc.step(&x, Some(&state)).unwrap());
        close(&out, &h, act);
    }
}
