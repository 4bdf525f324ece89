//! Inputs shared by `benches/ctc.rs` (criterion, the benchmark of record)
//! and `examples/ctc_timing.rs` (quick best-of-N timings), so both measure
//! the same batches: random log-probabilities and labels from a seeded LCG,
//! and a peaky posteriorgram for the beam search.
#![allow(dead_code)] // each user takes a part

use sori_ctc::{CtcBatch, Shape, Targets};
use tch::Tensor;

/// The three shapes: (frames, batch, classes, target length).
pub const SHAPES: [(usize, usize, usize, usize); 3] =
    [(150, 32, 29, 40), (500, 16, 29, 120), (200, 16, 1000, 50)];

/// Uniform numbers in [0, 1) from a seeded LCG.
pub fn lcg(seed: u64) -> impl FnMut() -> f64 {
    let mut x = seed;
    move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One padded batch, every sequence at full length.
pub struct Data {
    pub shape: Shape,
    pub lp: Vec<f32>,
    pub targets: Vec<i64>,
    pub input_lengths: Vec<i64>,
    pub target_lengths: Vec<i64>,
}

pub fn data(frames: usize, batch: usize, classes: usize, s: usize, seed: u64) -> Data {
    let mut next = lcg(seed);
    let logits: Vec<f32> = (0..frames * batch * classes)
        .map(|_| (next() * 6.0 - 3.0) as f32)
        .collect();
    let lp = sori_ctc::log_softmax_rows(&logits, classes);
    let targets: Vec<i64> = (0..batch * s)
        .map(|_| 1 + (next() * (classes - 1) as f64) as i64)
        .collect();
    Data {
        shape: Shape::new(frames, batch, classes),
        lp,
        targets,
        input_lengths: vec![frames as i64; batch],
        target_lengths: vec![s as i64; batch],
    }
}

impl Data {
    pub fn name(&self) -> String {
        let Shape {
            frames,
            batch,
            classes,
        } = self.shape;
        format!("T{frames}_N{batch}_C{classes}_S{}", self.target_lengths[0])
    }

    pub fn batch(&self) -> CtcBatch<'_, f32> {
        CtcBatch {
            log_probs: &self.lp,
            shape: self.shape,
            targets: Targets::Padded {
                labels: &self.targets,
                max_len: self.target_lengths[0] as usize,
            },
            input_lengths: &self.input_lengths,
            target_lengths: &self.target_lengths,
        }
    }

    /// The same batch as tensors for libtorch: `[T, N, C]` and `[N, S]`.
    pub fn tensors(&self) -> (Tensor, Tensor) {
        let Shape {
            frames,
            batch,
            classes,
        } = self.shape;
        let lp = Tensor::from_slice(&self.lp).view([frames as i64, batch as i64, classes as i64]);
        let t = Tensor::from_slice(&self.targets).view([batch as i64, self.target_lengths[0]]);
        (lp, t)
    }

    /// libtorch's `ctc_loss` forward + backward (mean reduction, blank 0):
    /// the loss and the gradient with respect to the log-probabilities.
    pub fn torch_step(&self, lp: &Tensor, targets: &Tensor) -> (f64, Tensor) {
        let x = lp.detach().set_requires_grad(true);
        let loss = Tensor::ctc_loss(
            &x,
            targets,
            self.input_lengths.as_slice(),
            self.target_lengths.as_slice(),
            0,
            tch::Reduction::Mean,
            false,
        );
        loss.backward();
        (loss.double_value(&[]), x.grad())
    }
}

/// `frames × classes` log-probabilities that are peaky like a trained
/// model's: 60 % of the frames mostly blank (class 0), the rest one label.
pub fn peaky_log_probs(frames: usize, classes: usize, seed: u64) -> Vec<f32> {
    let mut next = lcg(seed);
    let mut logits = Vec::with_capacity(frames * classes);
    for _ in 0..frames {
        let hot = if next() < 0.6 {
            0
        } else {
            1 + (next() * (classes - 1) as f64) as usize
        };
        for c in 0..classes {
            logits.push((next() * 2.0 + if c == hot { 6.0 } else { 0.0 }) as f32);
        }
    }
    sori_ctc::log_softmax_rows(&logits, classes)
}
