//! Fixtures for `make bench`'s `asr transcribe` rows, made without espeak-ng
//! or a trained model so they exist on a fresh clone:
//!
//! `cargo run --release -p sori-asr --example bench_fixtures -- OUT_DIR [SECONDS]`
//!
//! writes `OUT_DIR/model/` (the default `asr train` architecture, randomly
//! initialised: the cost of transcribing does not depend on the weights) and
//! `OUT_DIR/long.wav` (SECONDS, default 600, of 16 kHz speech-like audio).
use sori_asr::bench_audio::{speech_like, untrained_default_model};
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
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(out.join("long.wav"), spec)?;
    for s in samples {
        w.write_sample((s * 32767.0).round().clamp(-32768.0, 32767.0) as i16)?;
    }
    w.finalize()?;
    println!(
        "{}: random-init model ({} parameters) and {seconds} s of audio",
        out.display(),
        model.param_count()
    );
    Ok(())
}
