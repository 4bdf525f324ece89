//! Native CTC forward+backward against libtorch's `ctc_loss` forward +
//! backward on the three shapes, at one thread (rayon pool of 1,
//! `tch::set_num_threads(1)`) and at all threads; and prefix beam search
//! throughput (150 frames, 29 classes, beam 16, no LM).
//!
//! Run alone: `cargo bench -p sori-ctc --bench ctc`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use sori_ctc::{beam_search, ctc_loss_grad, BeamOptions, CtcOptions};
use std::time::Duration;

mod common;
use common::{data, peaky_log_probs, Data, SHAPES};

/// Loss plus one gradient entry, so neither result can be optimised away.
fn native(d: &Data) -> f64 {
    let out = ctc_loss_grad(&d.batch(), &CtcOptions::default()).expect("valid batch");
    (out.loss + out.grad[0]) as f64
}

fn torch(d: &Data, lp: &tch::Tensor, targets: &tch::Tensor) -> f64 {
    let (loss, grad) = d.torch_step(lp, targets);
    loss + grad.double_value(&[0, 0, 0])
}

fn bench_loss(c: &mut Criterion) {
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut group = c.benchmark_group("ctc_fwd_bwd");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    for (i, &(t, n, cl, s)) in SHAPES.iter().enumerate() {
        let d = data(t, n, cl, s, 17 + i as u64);
        let (lp, targets) = d.tensors();
        let name = d.name();
        // Agreement check before timing (the tests hold the 1e-4 bound).
        let ours = native(&d);
        let theirs = torch(&d, &lp, &targets);
        assert!(
            (ours - theirs).abs() < 1e-3 * theirs.abs().max(1.0),
            "{ours} vs {theirs}"
        );
        for threads in [1, all] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            tch::set_num_threads(threads as i32);
            group.bench_function(BenchmarkId::new(format!("native_{threads}t"), &name), |b| {
                b.iter(|| pool.install(|| native(&d)))
            });
            group.bench_function(
                BenchmarkId::new(format!("libtorch_{threads}t"), &name),
                |b| b.iter(|| torch(&d, &lp, &targets)),
            );
        }
    }
    group.finish();
}

fn bench_beam(c: &mut Criterion) {
    let classes = 29;
    let lp = peaky_log_probs(150, classes, 99);
    let opts = BeamOptions {
        beam_width: 16,
        ..Default::default()
    };
    let mut group = c.benchmark_group("ctc_beam");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    group.throughput(criterion::Throughput::Elements(1));
    group.bench_function("beam16_T150_C29_utterance", |b| {
        b.iter(|| beam_search(&lp, classes, &opts, None).expect("valid").len())
    });
    group.finish();
}

criterion_group!(benches, bench_loss, bench_beam);
criterion_main!(benches);
