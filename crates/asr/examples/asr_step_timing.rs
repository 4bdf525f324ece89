//! Times the pieces of one training step (encoder forward/backward, native
//! CTC loss) on a random batch, to size models for a 2-core machine.
//!
//! `cargo run --release -p sori-asr --example asr_step_timing -- [HIDDEN]
//! [LAYERS] [gru|lstm] [equal|ragged] [BATCH] [STACK]` (defaults 160 3 lstm
//! ragged 32 3); the last line is the best of four steps per utterance.
use sori_asr::frontend::FrontEnd;
use sori_asr::{Architecture, AsrConfig, AsrModel, Vocab};
use sori_ctc::CtcLoss;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let hidden: i64 = args.get(1).map_or(160, |s| s.parse().unwrap());
    let layers: i64 = args.get(2).map_or(3, |s| s.parse().unwrap());
    let gru = args.get(3).is_some_and(|s| s == "gru");
    let equal = args.get(4).is_some_and(|s| s == "equal");
    // Batch size and frames stacked per encoder step (the recipe's batch
    // and --stack), to compare throughput per utterance.
    let b: i64 = args.get(5).map_or(32, |s| s.parse().unwrap());
    let stack: i64 = args.get(6).map_or(3, |s| s.parse().unwrap());
    tch::set_num_threads(2);
    let vocab = Vocab::from_texts(["abcdefghijklmnopqrstuvwxyz'"]);
    let arch = Architecture {
        hidden,
        layers,
        cell: if gru {
            sori_rnn::Cell::Gru
        } else {
            sori_rnn::Cell::Lstm
        },
        stack,
        ..Architecture::default()
    };
    let model = AsrModel::new(
        AsrConfig::new(FrontEnd::default(), vocab.clone(), &arch),
        Device::Cpu,
    )
    .unwrap();
    let t = 240i64;
    let xs = Tensor::randn([b, t, 40], (Kind::Float, Device::Cpu));
    let lengths: Vec<i64> = (0..b).map(|i| if equal { t } else { t - i * 3 }).collect();
    let targets = Tensor::randint_low(1, 27, [b * 30], (Kind::Int64, Device::Cpu));
    let tl = vec![30i64; b as usize];
    let loss_fn = CtcLoss::new(vocab.blank()).with_zero_infinity(true);
    let mut best = f64::INFINITY;
    for rep in 0..4 {
        let t0 = Instant::now();
        let (lp, out_len) = model.forward(&xs, &lengths, true).unwrap();
        let t1 = Instant::now();
        let loss = loss_fn
            .forward(&lp.transpose(0, 1), &targets, &out_len, &tl)
            .unwrap();
        let t2 = Instant::now();
        loss.backward();
        let t3 = Instant::now();
        let lp2 = lp.detach().transpose(0, 1).contiguous();
        let t4 = Instant::now();
        let _ = Tensor::ctc_loss(
            &lp2,
            &targets.view([b, 30]),
            &out_len,
            &tl,
            vocab.blank() as i64,
            tch::Reduction::Mean,
            true,
        );
        let t5 = Instant::now();
        best = best.min((t3 - t0).as_secs_f64());
        println!(
            "rep {rep}: forward {:.0} ms, native ctc {:.0} ms, backward {:.0} ms (libtorch ctc fwd {:.0} ms)",
            (t1 - t0).as_secs_f64() * 1e3,
            (t2 - t1).as_secs_f64() * 1e3,
            (t3 - t2).as_secs_f64() * 1e3,
            (t5 - t4).as_secs_f64() * 1e3
        );
    }
    println!(
        "batch {b}, stack {stack}: best step {:.0} ms, {:.1} ms per utterance of {t} frames",
        best * 1e3,
        best * 1e3 / b as f64
    );
}
