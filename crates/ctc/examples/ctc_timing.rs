//! Quick timing of native CTC forward+backward against libtorch's, and of
//! the beam search, without criterion (best of N runs, release profile):
//! prints one JSON line. The criterion version is `benches/ctc.rs`; both
//! take their inputs from `benches/common`.
//!
//! Run: `cargo run --release -p sori-ctc --example ctc_timing`

use std::time::Instant;

use sori_ctc::{beam_search, ctc_loss_grad, BeamOptions, CtcOptions};

#[path = "../benches/common/mod.rs"]
mod common;
use common::{data, peaky_log_probs, SHAPES};

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
    for (i, &(t, n, c, s)) in SHAPES.iter().enumerate() {
        let d = data(t, n, c, s, 17 + i as u64);
        let batch = d.batch();
        let (lpt, tt) = d.tensors();
        let (tl_loss, tgrad) = d.torch_step(&lpt, &tt);
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
                let _ = d.torch_step(&lpt, &tt);
            });
            fields.push(format!(
                "\"{}/{threads}t\": {{\"native_ms\": {native:.3}, \"libtorch_ms\": {torch:.3}, \"speedup\": {:.2}, \"loss_rel_diff\": {loss_rel:.2e}, \"grad_max_diff_rel_to_scale\": {max_grad_diff:.2e}}}",
                d.name(),
                torch / native
            ));
        }
    }
    // Beam search: 150 peaky frames, 29 classes, beam 16, no LM, one core.
    let classes = 29;
    let lp = peaky_log_probs(150, classes, 99);
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
