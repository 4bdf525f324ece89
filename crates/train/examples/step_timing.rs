//! Median seconds per training step of the two benchmark models, as one
//! JSON line in the format of `benches/peers/train_step_torch.py`, so the
//! Rust and PyTorch steps can be timed alternately on a busy machine.
//! Usage: `cargo run --release -p sori-train --example step_timing -- [repeats]`
#[path = "../benches/common/mod.rs"]
mod common;

fn median_time(mut step: impl FnMut() -> f64, repeats: usize) -> f64 {
    for _ in 0..2 {
        step();
    }
    let mut times: Vec<f64> = (0..repeats)
        .map(|_| {
            let t0 = std::time::Instant::now();
            step();
            t0.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let repeats = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10usize)
        .max(1);
    sori_train::configure_process();
    let threads = common::threads();
    tch::set_num_threads(threads);
    let imdb = median_time(common::imdb_lstm(), repeats);
    let speech = median_time(common::speech_bilstm(), repeats);
    println!(
        "{{\"bench\": \"train_step_sori\", \"threads\": {threads}, \"imdb_lstm_s\": {imdb}, \"speech_bilstm_s\": {speech}}}"
    );
}
