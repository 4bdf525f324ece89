//! Speed of the character LM: training an order-6 Kneser-Ney model on 5000
//! generated sentences, and the query the CTC beam search makes (one
//! `log10_prob` per beam entry and character per frame).
use criterion::{criterion_group, criterion_main, Criterion};
use sori_lm::{train, NgramLm, Tokenization, TrainOptions, BOS};
use std::hint::black_box;
use std::time::Duration;

/// Sentences from a fixed grammar (a deterministic generator, no corpus).
fn sentences(n: usize) -> Vec<Vec<String>> {
    let subjects = [
        "the cat",
        "a dog",
        "my sister",
        "the old man",
        "linda",
        "the truck",
    ];
    let verbs = [
        "sat on",
        "ran to",
        "looked at",
        "is behind",
        "walked past",
        "found",
    ];
    let objects = [
        "the mat",
        "the river",
        "a red car",
        "the blue house",
        "the garden",
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut pick = |k: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % k as u64) as usize
    };
    (0..n)
        .map(|_| {
            let s = format!(
                "{} {} {}",
                subjects[pick(subjects.len())],
                verbs[pick(verbs.len())],
                objects[pick(objects.len())]
            );
            Tokenization::Chars.tokens(&s)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let data = sentences(5000);
    let opts = TrainOptions::new(6);
    let mut g = c.benchmark_group("lm");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    g.bench_function("train_order6_5k_sentences", |b| {
        b.iter(|| train(black_box(&data), &opts).unwrap())
    });
    let lm: NgramLm = train(&data, &opts).unwrap();
    // Contexts from the data: every 5-token history of the first sentences.
    let mut contexts: Vec<Vec<u32>> = Vec::new();
    for s in data.iter().take(50) {
        let mut h = vec![BOS];
        h.extend(lm.vocab().encode(s));
        for end in 1..h.len() {
            contexts.push(h[end.saturating_sub(5)..end].to_vec());
        }
    }
    let vocab = lm.vocab().len() as u32;
    let queries = contexts.len() as u64 * vocab as u64;
    g.throughput(criterion::Throughput::Elements(queries));
    g.bench_function("query_order6_every_token", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            for ctx in &contexts {
                for w in 0..vocab {
                    sum += lm.log10_prob(black_box(ctx), w);
                }
            }
            sum
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
