//! Translation latency: one sentence, beam 5, one libtorch thread.
//!
//! Uses the model in `$SORI_SEQ2SEQ_MODEL` when set, else the committed
//! `models/de-en` (the "trained" row); without either, a randomly
//! initialised model of the size the README
//! recipe trains (256-d embeddings, bidirectional 256-unit GRU encoder,
//! 256-unit Bahdanau decoder, 8,000-piece vocabularies), with tokenizers
//! trained on a few generated sentences. The search runs to its length limit
//! when an untrained model never emits `</s>`, so the random-model number is
//! a pessimistic one: each sentence decodes the full `2 * len + 10` steps.
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use sori_seq2seq::subword::Subword;
use sori_seq2seq::{DecodeOptions, ModelConfig, Translator, TranslatorConfig};
use tch::Device;

const SENTENCES: [&str; 4] = [
    "Ein Mann fährt Fahrrad.",
    "Zwei junge Männer spielen auf einer Wiese Fußball.",
    "Eine Frau mit einem roten Hut sitzt auf einer Bank im Park.",
    "Ein kleines Mädchen klettert in ein Spielhaus aus Holz.",
];

fn random_translator() -> Translator {
    let words: Vec<String> = (0..4000)
        .map(|i| format!("w{i} x{} y{}", i % 97, i % 13))
        .chain(SENTENCES.iter().map(|s| s.to_string()))
        .collect();
    let src = Subword::train(&words, 8000, 1).expect("tokenizer");
    let tgt = src.clone();
    let mut model = ModelConfig::new(8000, 8000);
    model.src_vocab = src.vocab_size() as i64;
    model.tgt_vocab = tgt.vocab_size() as i64;
    let config = TranslatorConfig {
        model,
        src_lang: "de".into(),
        tgt_lang: "en".into(),
        max_src_len: 128,
        max_len: 128,
    };
    Translator::new(config, src, tgt, Device::Cpu).expect("model")
}

fn bench(c: &mut Criterion) {
    // The mode the binary runs in (sori_train::cpu).
    sori_train::configure_process();
    tch::set_num_threads(1);
    let dir = std::env::var_os("SORI_SEQ2SEQ_MODEL")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/de-en")
        });
    let (translator, label) = match Translator::load(&dir, Device::Cpu) {
        Ok(t) => (t, "trained"),
        Err(_) => (random_translator(), "random_init"),
    };
    let opts = DecodeOptions {
        beam: 5,
        alpha: 0.6,
    };
    let mut g = c.benchmark_group("seq2seq_translate");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.bench_function(format!("beam5_1thread_{label}_per_sentence"), |b| {
        let mut i = 0;
        b.iter(|| {
            let s = SENTENCES[i % SENTENCES.len()];
            i += 1;
            black_box(translator.translate(s, &opts).expect("translate"))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
