//! Fixtures for `make bench`'s `asr transcribe` rows, made without espeak-ng
//! or a trained model so they exist on a fresh clone:
//!
//! `cargo run --release -p sori-asr --example bench_fixtures -- OUT_DIR [SECONDS]`
//!
//! writes `OUT_DIR/model/` (the default `asr train` architecture, randomly
//! initialised: the cost of transcribing does not depend on the weights) and
//! `OUT_DIR/long.wav` (SECONDS, default 600, of 16 kHz speech-like audio).
use sori_asr::support::bench_audio::{speech_like, untrained_default_model, write_wav16};
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or_else(|| anyhow::anyhow!("usage: bench_fixtures OUT_DIR [SECONDS]"))?,
    );
    let seconds: f64 = match args.next() {
        Some(s) => s
            .parse()
            .map_err(|_| anyhow::anyhow!("SECONDS: not a number: {s}"))?,
        None => 600.0,
    };
    std::fs::create_dir_all(&out)?;
    let model = untrained_default_model()?;
    model.save_as(&out.join("model"))?;

    let rate = model.config.frontend.sample_rate;
    let samples = speech_like((seconds * rate as f64) as usize, rate);
    write_wav16(&out.join("long.wav"), rate, &samples)?;
    println!(
        "{}: random-init model ({} parameters) and {seconds} s of audio",
        out.display(),
        model.param_count()
    );
    Ok(())
}
