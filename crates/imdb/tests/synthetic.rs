//! End to end without the corpus: synthetic reviews whose sentiment is
//! carried by a few clearly positive or negative words among neutral filler
//! are used to train small models through the real pipeline (tokeniser,
//! padding, sori-train's loop, model directory); held-out accuracy must beat
//! chance (50%) by a wide margin.
use sori_imdb::classifier::Classifier;
use sori_imdb::data::{Review, SplitMix64};
use sori_imdb::model::{Arch, ModelConfig};
use sori_imdb::tokenize::Side;
use sori_imdb::train::{default_train_config, train};
use sori_train::{OptimizerKind, OptimizerSpec};
use tch::Device;

const POS: [&str; 6] = [
    "wonderful",
    "brilliant",
    "loved",
    "superb",
    "moving",
    "delightful",
];
const NEG: [&str; 6] = ["awful", "boring", "hated", "dreadful", "waste", "clumsy"];
const FILLER: [&str; 16] = [
    "the", "movie", "film", "plot", "actor", "scene", "was", "and", "a", "story", "director", "it",
    "ending", "music", "cast", "script",
];

fn reviews(n: usize, seed: u64) -> Vec<Review> {
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|i| {
            let label = (i % 2) as u8;
            let cue = if label == 1 { &POS } else { &NEG };
            let len = 8 + rng.index(10);
            let mut words: Vec<&str> = (0..len).map(|_| FILLER[rng.index(FILLER.len())]).collect();
            for _ in 0..3 {
                let at = rng.index(words.len());
                words[at] = cue[rng.index(cue.len())];
            }
            Review {
                text: format!("{}.<br />The End!", words.join(" ")),
                label,
            }
        })
        .collect()
}

fn accuracy_after_training(arch: Arch, maxlen: usize) -> f64 {
    tch::manual_seed(0);
    let mut cfg = ModelConfig::preset(arch);
    cfg.num_words = 100;
    cfg.maxlen = maxlen;
    cfg.embedding_dim = 8;
    cfg.hidden = 12;
    if cfg.ngram_buckets > 0 {
        cfg.ngram_buckets = 4096;
        cfg.padding = Side::Post;
    }
    let mut tc = default_train_config(arch);
    tc.epochs = 12;
    tc.batch_size = 32;
    tc.optimizer = OptimizerSpec::new(OptimizerKind::Adam, 1e-2);
    tc.quiet = true;
    let dir = tempfile::tempdir().unwrap();
    let trained = train(
        &reviews(480, 1),
        &cfg,
        tc,
        0.2,
        Some(dir.path()),
        Device::Cpu,
    )
    .unwrap();
    assert_eq!((trained.train_examples, trained.val_examples), (384, 96));
    assert_eq!(trained.report.history.len(), 12);
    // The model directory is complete and reloads to the same predictions.
    let loaded = Classifier::load(dir.path(), Device::Cpu).unwrap();
    let test = reviews(200, 2);
    let a = trained.classifier.probabilities(&test).unwrap();
    let b = loaded.probabilities(&test).unwrap();
    assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-6));
    assert!(dir.path().join("history.jsonl").is_file());
    loaded.evaluate(&test).unwrap().accuracy
}

#[test]
fn lstm_learns_synthetic_sentiment() {
    let acc = accuracy_after_training(Arch::Lstm, 20);
    assert!(acc > 0.85, "held-out accuracy {acc}");
}

#[test]
fn embedding_flatten_learns_synthetic_sentiment() {
    let acc = accuracy_after_training(Arch::EmbeddingFlatten, 20);
    assert!(acc > 0.85, "held-out accuracy {acc}");
}

#[test]
fn best_recipe_learns_synthetic_sentiment() {
    let acc = accuracy_after_training(Arch::Best, 20);
    assert!(acc > 0.85, "held-out accuracy {acc}");
}
