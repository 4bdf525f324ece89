//! End-to-end on a generated task no model can solve without attention to
//! positions: reverse a sequence of 3 to 7 digits. A tiny model trains in
//! seconds and must get almost every held-out sequence exactly right with
//! greedy and beam search; the trained directory must load back and
//! translate identically. No corpus is needed.

use sori_rnn::AttentionKind;
use sori_seq2seq::{evaluate, train, DecodeOptions, ModelConfig, Pair, TrainOptions, Translator};
use sori_train::{OptimizerKind, OptimizerSpec, Rng, TrainConfig};
use tch::Device;

fn reversal_pairs(n: usize, seed: u64) -> Vec<Pair> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let len = 3 + rng.below(5) as usize;
            let digits: Vec<String> = (0..len).map(|_| rng.below(10).to_string()).collect();
            let rev: Vec<String> = digits.iter().rev().cloned().collect();
            Pair::new(digits.join(" "), rev.join(" "))
        })
        .collect()
}

/// libtorch's random generator is global to the process and the test
/// harness runs the two trainings on parallel threads; interleaved draws
/// made the initial weights, and so the accuracy, vary from run to run
/// (a CI run once ended at 0.82).
static TORCH_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner())
}

fn options(attention: AttentionKind) -> TrainOptions {
    let mut model = ModelConfig::new(0, 0);
    model.emb_dim = 32;
    model.enc_hidden = 64;
    model.dec_hidden = 64;
    model.attn_dim = 32;
    model.dropout = 0.0;
    model.attention = attention;
    TrainOptions {
        model,
        src_vocab_size: 40,
        tgt_vocab_size: 40,
        label_smoothing: 0.0,
        max_train_len: 32,
        max_len: 32,
        src_lang: "digits".into(),
        tgt_lang: "reversed".into(),
        show_samples: 0,
        silent: true,
    }
}

fn config(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 32,
        optimizer: OptimizerSpec::new(OptimizerKind::Adam, 3e-3),
        clip_grad_norm: Some(1.0),
        seed: 1,
        ..TrainConfig::default()
    }
}

fn exact_match(hyps: &[String], pairs: &[Pair]) -> f64 {
    let ok = hyps.iter().zip(pairs).filter(|(h, p)| **h == p.tgt).count();
    ok as f64 / pairs.len() as f64
}

#[test]
fn bahdanau_model_learns_to_reverse_and_reloads() {
    let _serial = serial();
    tch::manual_seed(1);
    let train_pairs = reversal_pairs(2000, 1);
    let val = reversal_pairs(100, 2);
    let test = reversal_pairs(100, 3);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model");
    let (t, report) = train(
        train_pairs,
        val,
        &options(AttentionKind::Bahdanau),
        config(12),
        Some(&out),
        Device::Cpu,
    )
    .unwrap();
    assert_eq!(report.monitor, "val_bleu");
    let src: Vec<&str> = test.iter().map(|p| p.src.as_str()).collect();
    let refs: Vec<&str> = test.iter().map(|p| p.tgt.as_str()).collect();

    let greedy = t
        .translate_lines(
            &src,
            &DecodeOptions {
                beam: 1,
                alpha: 0.6,
            },
        )
        .unwrap();
    let beam = t.translate_lines(&src, &DecodeOptions::default()).unwrap();
    let g = exact_match(&greedy, &test);
    let b = exact_match(&beam, &test);
    assert!(g >= 0.9, "greedy exact match {g}: {:?}", &greedy[..5]);
    assert!(b >= 0.9, "beam exact match {b}: {:?}", &beam[..5]);
    assert!(evaluate(&beam, &refs).unwrap().bleu.score > 90.0);

    // The directory loads back and translates the same way.
    let again = Translator::load(&out, Device::Cpu).unwrap();
    let beam2 = again
        .translate_lines(&src, &DecodeOptions::default())
        .unwrap();
    assert_eq!(beam, beam2);

    // Empty lines pass through; the attention matrix has one row per output
    // piece (plus </s>) and rows that sum to one.
    assert_eq!(
        again.translate("", &DecodeOptions::default()).unwrap().text,
        ""
    );
    let tr = again
        .translate_with_attention("1 2 3 4", &DecodeOptions::default())
        .unwrap();
    assert_eq!(tr.attention.len(), tr.tgt_pieces.len());
    for row in &tr.attention {
        assert_eq!(row.len(), tr.src_pieces.len());
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    }
    let png = dir.path().join("attn.png");
    sori_seq2seq::plot::attention_png(&png, &tr.src_pieces, &tr.tgt_pieces, &tr.attention).unwrap();
    assert!(std::fs::metadata(&png).unwrap().len() > 100);
}

#[test]
fn luong_model_learns_to_reverse() {
    let _serial = serial();
    tch::manual_seed(2);
    let (t, _) = train(
        reversal_pairs(2000, 11),
        reversal_pairs(100, 12),
        &options(AttentionKind::LuongGeneral),
        config(12),
        None,
        Device::Cpu,
    )
    .unwrap();
    let test = reversal_pairs(100, 13);
    let src: Vec<&str> = test.iter().map(|p| p.src.as_str()).collect();
    let hyps = t.translate_lines(&src, &DecodeOptions::default()).unwrap();
    let acc = exact_match(&hyps, &test);
    eprintln!("luong exact match {acc}");
    assert!(acc >= 0.9, "beam exact match {acc}: {:?}", &hyps[..5]);
}
