//! Native CTC forward+backward against libtorch's `ctc_loss` forward +
//! backward on the three shapes, at one thread (rayon pool of 1,
//! `tch::set_num_threads(1)`) and at all threads; and prefix beam search
//! throughput (150 frames, 29 classes, beam 16, no LM).
//!
//! Run alone: `cargo bench -p sori-ctc --bench ctc`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use sori_ctc::{beam_search, ctc_loss_grad, BeamOptions, CtcBatch, CtcOptions, Shape, Targets};
use std::time::Duration;
use tch::{Kind, Tensor};

struct Data {
    shape: Shape,
    lp: Vec<f32>,
    targets: Vec<i64>,
    input_lengths: Vec<i64>,
    target_lengths: Vec<i64>,
}

fn data(frames: usize, batch: usize, classes: usize, s: usize, seed: u64) -> Data {
    let mut x = seed;
    let mut next = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
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

fn native(d: &Data) -> f32 {
    let out = ctc_loss_grad(
        &CtcBatch {
            log_probs: &d.lp,
            shape: d.shape,
            targets: Targets::Padded {
                labels: &d.targets,
                max_len: d.target_lengths[0] as usize,
            },
            input_lengths: &d.input_lengths,
            target_lengths: &d.target_lengths,
        },
        &CtcOptions::default(),
    )
    .expect("valid batch");
    out.loss + out.grad[0]
}

fn torch_inputs(d: &Data) -> (Tensor, Tensor) {
    let Shape {
        frames,
        batch,
        classes,
    } = d.shape;
    let lp = Tensor::from_slice(&d.lp).view([frames as i64, batch as i64, classes as i64]);
    let t = Tensor::from_slice(&d.targets).view([batch as i64, d.target_lengths[0]]);
    (lp, t)
}

fn torch(d: &Data, lp: &Tensor, targets: &Tensor) -> f64 {
    let x = lp.detach().set_requires_grad(true);
    let loss = Tensor::ctc_loss(
        &x,
        targets,
        d.input_lengths.as_slice(),
        d.target_lengths.as_slice(),
        0,
        tch::Reduction::Mean,
        false,
    );
    loss.backward();
    loss.double_value(&[]) + x.grad().double_value(&[0, 0, 0])
}

fn bench_loss(c: &mut Criterion) {
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    let shapes = [(150, 32, 29, 40), (500, 16, 29, 120), (200, 16, 1000, 50)];
    let mut group = c.benchmark_group("ctc_fwd_bwd");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    for (i, &(t, n, cl, s)) in shapes.iter().enumerate() {
        let d = data(t, n, cl, s, 17 + i as u64);
        let (lp, targets) = torch_inputs(&d);
        let name = format!("T{t}_N{n}_C{cl}_S{s}");
        // Agreement check before timing (the tests hold the 1e-4 bound).
        let ours = native(&d) as f64;
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
    let _ = Kind::Float;
}

fn bench_beam(c: &mut Criterion) {
    // Peaky frames, as a trained model gives: mostly blank.
    let (frames, classes) = (150usize, 29usize);
    let mut x = 99u64;
    let mut next = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
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
