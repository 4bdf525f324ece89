//! Fixtures for `make bench`'s `asr transcribe` rows, made without espeak-ng
//! or a trained model so they exist on a fresh clone:
//!
//! `cargo run --release -p sori-asr --example bench_fixtures -- OUT_DIR [SECONDS]`
//!
//! writes `OUT_DIR/model/` (the default `asr train` architecture, randomly
//! initialised: the cost of transcribing does not depend on the weights) and
//! `OUT_DIR/long.wav` (SECONDS, default 600, of 16 kHz speech-like audio).
use sori_asr::bench_audio::speech_like;
use sori_asr::frontend::FrontEnd;
use sori_asr::model::{Architecture, AsrConfig, AsrModel};
use sori_asr::Vocab;
use sori_train::{ModelDir, Which};
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
    tch::manual_seed(1);
    let frontend = FrontEnd::default();
    let vocab = Vocab::new(" abcdefghijklmnopqrstuvwxyz'".chars());
    let model = AsrModel::new(
        AsrConfig::new(frontend.clone(), vocab, &Architecture::default()),
        tch::Device::Cpu,
    )?;
    let dir = ModelDir::create(out.join("model"))?;
    model.write_config(&dir)?;
    dir.save_weights(&model.vs, Which::Last)?;

    let rate = frontend.sample_rate;
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
