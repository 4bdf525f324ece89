//! Time of one optimiser update (no forward/backward), this crate's
//! optimisers next to libtorch's C++ ones (`tch::nn::OptimizerConfig`), on
//! the parameters of the speech encoder of `benches/step.rs` (3-layer
//! BiLSTM, 256 units, 40 inputs, 29 outputs: 3.8 M parameters) with fixed
//! gradients. It shows what owning the optimiser state (for `--resume`)
//! costs per step. Measured 2026-11-29 on the idle 2-core machine, 2
//! threads, two runs: Adam 4.8-5.0 ms (libtorch 4.6-4.7), AdamW 4.6-5.0
//! (5.0-5.4), RMSprop 3.3-3.8 (2.6), SGD 2.0-2.1 (1.4): equal for Adam,
//! about 1 ms more for RMSprop and 0.6 ms more for SGD, which have one
//! more pass over memory than libtorch's fused `value=` arguments allow
//! (tch does not expose them). Per training step that is under 0.5 %.
//! `cargo run --release -p sori-train --example optimizer_step [-- THREADS]`
use sori_rnn::{Cell, Encoder, EncoderConfig};
use sori_train::{OptimizerKind, OptimizerSpec};
use std::time::Instant;
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Tensor};

fn var_store() -> nn::VarStore {
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let cfg = EncoderConfig::new(Cell::Lstm, 40, 256)
        .layers(3)
        .bidirectional(true);
    let _enc = Encoder::new(&(vs.root() / "encoder"), &cfg).unwrap();
    let _out = nn::linear(vs.root() / "output", 512, 29, Default::default());
    // Fixed gradients: one backward pass of a loss touching every weight.
    let loss: Tensor = vs
        .trainable_variables()
        .iter()
        .map(|v| (v * v).sum(Kind::Float))
        .sum();
    loss.backward();
    vs
}

fn time(label: &str, mut step: impl FnMut()) {
    for _ in 0..5 {
        step();
    }
    let n = 50;
    let t = Instant::now();
    for _ in 0..n {
        step();
    }
    println!(
        "{label:<28} {:8.3} ms/step",
        t.elapsed().as_secs_f64() * 1e3 / n as f64
    );
}

fn main() {
    // As in the binaries: subnormals flushed, freed memory kept (crate::cpu).
    sori_train::configure_process();
    let threads: i32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    tch::set_num_threads(threads);
    let params: i64 = var_store()
        .trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum();
    println!("{params} parameters, {threads} threads");
    for kind in [
        OptimizerKind::Adam,
        OptimizerKind::AdamW,
        OptimizerKind::RmsProp,
        OptimizerKind::Sgd,
    ] {
        let spec = OptimizerSpec::new(kind, 1e-4);
        let vs = var_store();
        let mut ours = spec.build(&vs).unwrap();
        time(&format!("sori-train {}", kind.name()), || ours.step());
        let vs = var_store();
        let wd = spec.effective_weight_decay();
        let m = spec.effective_momentum();
        let mut theirs = match kind {
            OptimizerKind::Adam => nn::adam(0.9, 0.999, wd).build(&vs, 1e-4),
            OptimizerKind::AdamW => nn::adamw(0.9, 0.999, wd).build(&vs, 1e-4),
            OptimizerKind::RmsProp => nn::rms_prop(0.9, 1e-7, wd, m, false).build(&vs, 1e-4),
            OptimizerKind::Sgd => nn::sgd(m, 0.0, wd, false).build(&vs, 1e-4),
        }
        .unwrap();
        time(&format!("libtorch {}", kind.name()), || theirs.step());
    }
}
