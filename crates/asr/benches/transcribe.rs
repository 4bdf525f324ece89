//! `asr transcribe` real-time factor on one core: 60 s of 16 kHz audio
//! through the whole recogniser (WAV samples → fbank → frame stacking →
//! the default BiLSTM stack → greedy CTC decoding → words with times).
//! Target (issue 6): real-time factor ≤ 0.05, i.e. ≤ 3 s per 60 s.
//!
//! Uses the model in `SORI_ASR_MODEL` when set, else a randomly initialised
//! model of `asr train`'s default architecture (the cost does not depend on
//! the weights); the audio is `bench_audio::speech_like`.
use criterion::{criterion_group, criterion_main, Criterion};
use sori_asr::recognize::Recognizer;
use sori_asr::support::bench_audio::{speech_like, untrained_default_model};
use std::path::Path;
use std::time::Duration;

fn recognizer() -> (Recognizer, &'static str) {
    if let Some(dir) = std::env::var_os("SORI_ASR_MODEL") {
        return (Recognizer::load(Path::new(&dir)).unwrap(), "trained");
    }
    let model = untrained_default_model().unwrap();
    (Recognizer::new(model).unwrap(), "default_arch")
}

fn bench(c: &mut Criterion) {
    // The mode the binary runs in (sori_train::cpu).
    sori_train::configure_process();
    tch::set_num_threads(1);
    let (mut rec, label) = recognizer();
    let rate = rec.model.config.frontend.sample_rate;
    let audio = speech_like(60 * rate as usize, rate);
    let path = Path::new("speech_like.wav");
    let mut g = c.benchmark_group("asr_transcribe");
    g.sample_size(10).measurement_time(Duration::from_secs(15));
    g.bench_function(format!("{label}_60s_1_thread"), |b| {
        b.iter(|| rec.transcribe_samples(&audio, path).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
