//! `imdb classify` throughput for the lecture's `lstm` model (Embedding(10000,
//! 32), LSTM(32), maxlen 500) on one core: tokenising, padding and the forward
//! pass of a batch of 256 review-length texts (230 words, the IMDB mean).
//! Target: at least 2,000 reviews per second.
//!
//! Uses the trained model in `models/imdb-lstm` when there is one (or the
//! directory in `SORI_IMDB_MODEL`), otherwise a randomly initialised model of
//! the same shape (the cost does not depend on the weights). A second row
//! times the committed model, `models/imdb-en` (`best`, maxlen 400: a BiGRU
//! plus the hashed n-gram branch), on the same reviews.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sori_imdb::classifier::Classifier;
use sori_imdb::data::SplitMix64;
use sori_imdb::model::{Arch, ModelConfig};
use sori_imdb::tokenize::Vocabulary;
use std::path::PathBuf;
use std::time::Duration;
use tch::Device;

const WORDS: [&str; 24] = [
    "the",
    "movie",
    "was",
    "a",
    "wonderful",
    "surprise",
    "and",
    "the",
    "acting",
    "is",
    "awful",
    "but",
    "plot",
    "of",
    "this",
    "film",
    "really",
    "good",
    "bad",
    "story",
    "i",
    "it",
    "great",
    "characters",
];

fn reviews(n: usize) -> Vec<String> {
    let mut rng = SplitMix64::new(9);
    (0..n)
        .map(|_| {
            let w: Vec<&str> = (0..230).map(|_| WORDS[rng.index(WORDS.len())]).collect();
            format!("{}.", w.join(" "))
        })
        .collect()
}

fn classifier() -> (Classifier, &'static str) {
    let dir = std::env::var_os("SORI_IMDB_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/imdb-lstm")
        });
    if let Ok(c) = Classifier::load(&dir, Device::Cpu) {
        if c.net.config.arch == Arch::Lstm {
            return (c, "trained");
        }
    }
    let cfg = ModelConfig::preset(Arch::Lstm);
    let vocab = Vocabulary::fit(WORDS, cfg.num_words).expect("vocabulary");
    (
        Classifier::new(&cfg, vocab, Device::Cpu).expect("model"),
        "random",
    )
}

fn bench(c: &mut Criterion) {
    // The mode the binary runs in (sori_train::cpu).
    sori_train::configure_process();
    tch::set_num_threads(1);
    let (clf, which) = classifier();
    let texts = reviews(256);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut g = c.benchmark_group("imdb_classify");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(refs.len() as u64));
    g.bench_function(format!("lstm_{which}_256_reviews_1_thread"), |b| {
        b.iter(|| clf.classify(&refs).expect("classify"))
    });
    let committed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/imdb-en");
    match Classifier::load(&committed, Device::Cpu) {
        Ok(best) => {
            g.bench_function("committed_imdb_en_256_reviews_1_thread", |b| {
                b.iter(|| best.classify(&refs).expect("classify"))
            });
        }
        Err(e) => eprintln!("imdb_classify: no committed model row ({e})"),
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
