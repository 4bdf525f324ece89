//! Quick timing of native CTC forward+backward against libtorch's, and of
//! the beam search, without criterion (best of N runs, release profile):
//! prints one JSON line. The criterion version is `benches/ctc.rs`.
//!
//! Run: `cargo run --release -p sori-ctc --example ctc_timing`

use std::time::Instant;

use sori_ctc::{beam_search, ctc_loss_grad, BeamOptions, CtcBatch, CtcOptions, Shape, Targets};
use tch::Tensor;

fn lcg(seed: u64) -> impl FnMut() -> f64 {
    let mut x = seed;
    move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn best_ms(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        let t0 = Instant::now();
        f();
        best = best.min(t0.elapsed().as_secs_f64() * 1e3);
    }
    best
}

fn main() {
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut fields = Vec::new();
    for (i, &(t, n, c, s)) in [
        (150usize, 32usize, 29usize, 40usize),
        (500, 16, 29, 120),
        (200, 16, 1000, 50),
    ]
    .iter()
    .enumerate()
    {
        let mut next = lcg(17 + i as u64);
        let logits: Vec<f32> = (0..t * n * c)
            .map(|_| (next() * 6.0 - 3.0) as f32)
            .collect();
        let lp = sori_ctc::log_softmax_rows(&logits, c);
        let targets: Vec<i64> = (0..n * s)
            .map(|_| 1 + (next() * (c - 1) as f64) as i64)
            .collect();
        let il = vec![t as i64; n];
        let tl = vec![s as i64; n];
        let batch = CtcBatch {
            log_probs: &lp,
            shape: Shape::new(t, n, c),
            targets: Targets::Padded {
                labels: &targets,
                max_len: s,
            },
            input_lengths: &il,
            target_lengths: &tl,
        };
        let lpt = Tensor::from_slice(&lp).view([t as i64, n as i64, c as i64]);
        let tt = Tensor::from_slice(&targets).view([n as i64, s as i64]);
        let torch_step = || {
            let x = lpt.detach().set_requires_grad(true);
            let loss = Tensor::ctc_loss(
                &x,
                &tt,
                il.as_slice(),
                tl.as_slice(),
                0,
                tch::Reduction::Mean,
                false,
            );
            loss.backward();
            (loss.double_value(&[]), x.grad())
        };
        let (tl_loss, tgrad) = torch_step();
        let ours = ctc_loss_grad(&batch, &CtcOptions::default()).expect("valid");
        let tgrad = Vec::<f32>::try_from(tgrad.flatten(0, -1)).expect("f32");
        let gmax = tgrad.iter().fold(0f32, |m, v| m.max(v.abs()));
        let max_grad_diff = ours
            .grad
            .iter()
            .zip(&tgrad)
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()))
            / gmax;
        let loss_rel = ((ours.loss as f64 - tl_loss) / tl_loss).abs();
        for threads in [1, all] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            tch::set_num_threads(threads as i32);
            let reps = if t == 500 { 5 } else { 10 };
            let native = best_ms(reps, || {
                pool.install(|| ctc_loss_grad(&batch, &CtcOptions::default()).expect("valid"));
            });
            let torch = best_ms(reps, || {
                let _ = torch_step();
            });
            fields.push(format!(
                "\"T{t}_N{n}_C{c}_S{s}/{threads}t\": {{\"native_ms\": {native:.3}, \"libtorch_ms\": {torch:.3}, \"speedup\": {:.2}, \"loss_rel_diff\": {loss_rel:.2e}, \"grad_max_diff_rel_to_scale\": {max_grad_diff:.2e}}}",
                torch / native
            ));
        }
    }
    // Beam search: 150 peaky frames, 29 classes, beam 16, no LM, one core.
    let (frames, classes) = (150usize, 29usize);
    let mut next = lcg(99);
    let mut logits = Vec::with_capacity(frames * classes);
    for _ in 0..frames {
        let hot = if next() < 0.6 {
            0
        } else {
            1 + (next() * 28.0) as usize
        };
        for c in 0..classes {
            logits.push((next() * 2.0 + if c == hot { 6.0 } else { 0.0 }) as f32);
        }
    }
    let lp = sori_ctc::log_softmax_rows(&logits, classes);
    let opts = BeamOptions {
        beam_width: 16,
        ..Default::default()
    };
    let ms = best_ms(20, || {
        beam_search(&lp, classes, &opts, None).expect("valid");
    });
    fields.push(format!(
        "\"beam16_T150_C29\": {{\"ms_per_utt\": {ms:.3}, \"utt_per_s\": {:.0}}}",
        1e3 / ms
    ));
    println!(
        "{{\"bench\": \"ctc_native_vs_libtorch\", {}}}",
        fields.join(", ")
    );
}
