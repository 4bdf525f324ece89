//! `asr transcribe` real-time factor on one core: 60 s of 16 kHz audio
//! through the whole recogniser (WAV samples → fbank → frame stacking →
//! the default BiLSTM stack → greedy CTC decoding → words with times).
//! Target (issue 6): real-time factor ≤ 0.05, i.e. ≤ 3 s per 60 s.
//!
//! Uses the model in `SORI_ASR_MODEL` when set, else a randomly initialised
//! model of `asr train`'s default architecture (the cost does not depend on
//! the weights); the audio is `bench_audio::speech_like`.
//!
//! `committed_default_60s_1_thread`: what `asr transcribe` does by default,
//! the committed `models/asr-en` with its shipped LMs (beam 64, character LM
//! fused with the word LM; `recognize::shipped_decoder`) on real synthetic
//! speech: the five committed test WAVs (held-out voices) repeated to 60 s,
//! since the beam search's cost depends on how peaked the posteriors are.
use criterion::{criterion_group, criterion_main, Criterion};
use sori_asr::recognize::{shipped_decoder, Recognizer};
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
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/asr-en");
    let mut rec = Recognizer::load(&committed).unwrap();
    let decoder = shipped_decoder(&committed, &rec.model.config.vocab)
        .unwrap()
        .expect("models/asr-en ships its LMs");
    rec.decoder = Box::new(decoder);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/committed");
    let mut clips = Vec::new();
    for name in ["m7", "f5", "andy", "linda", "slt"] {
        let a = sori_features::read_audio(&fixtures.join(format!("{name}.wav"))).unwrap();
        assert_eq!(a.sample_rate, rate);
        clips.push(a.samples);
    }
    let mut speech = Vec::new();
    while speech.len() < 60 * rate as usize {
        for c in &clips {
            speech.extend_from_slice(c);
        }
    }
    speech.truncate(60 * rate as usize);
    g.bench_function("committed_default_60s_1_thread", |b| {
        b.iter(|| rec.transcribe_samples(&speech, path).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
