//! Beam search and forced alignment against brute force on tiny inputs:
//! every frame-level path is enumerated, paths are grouped by their collapsed
//! labelling (for the beam search) or filtered by the transcript (for the
//! alignment).

mod common;

use std::collections::HashMap;

use common::{collapse, for_each_path, Rng};
use sori_ctc::{beam_search, force_align, greedy_decode, BeamOptions, LanguageModel};

/// ln p(labelling) for every labelling reachable in `frames` frames.
fn labelling_probs(
    lp: &[f64],
    frames: usize,
    classes: usize,
    blank: usize,
) -> HashMap<Vec<usize>, f64> {
    let mut probs: HashMap<Vec<usize>, f64> = HashMap::new();
    for_each_path(frames, classes, |path| {
        let p: f64 = path
            .iter()
            .enumerate()
            .map(|(t, &c)| lp[t * classes + c])
            .sum::<f64>()
            .exp();
        *probs.entry(collapse(path, blank)).or_insert(0.0) += p;
    });
    probs.into_iter().map(|(k, v)| (k, v.ln())).collect()
}

#[test]
fn wide_beam_finds_the_brute_force_best_labellings() {
    let mut rng = Rng::new(21);
    for _ in 0..40 {
        let frames = rng.range(1, 6);
        let classes = rng.range(2, 4);
        let blank = rng.range(0, classes - 1);
        let lp = common::random_log_probs(&mut rng, frames, classes, 1.5);
        let probs = labelling_probs(&lp, frames, classes, blank);
        let mut ranked: Vec<(&Vec<usize>, &f64)> = probs.iter().collect();
        ranked.sort_by(|a, b| b.1.partial_cmp(a.1).unwrap());
        let opts = BeamOptions {
            beam_width: 1000,
            blank,
            nbest: 3,
            ..Default::default()
        };
        let hyps = beam_search(&lp, classes, &opts, None).unwrap();
        assert_eq!(&hyps[0].labels, ranked[0].0);
        for (h, (labels, p)) in hyps.iter().zip(&ranked) {
            assert_eq!(&h.labels, *labels);
            assert!((h.score - **p).abs() < 1e-9, "{} vs {}", h.score, p);
            assert!((h.acoustic - **p).abs() < 1e-9);
        }
    }
}

/// A bigram table over labels: ln P(label | previous label or start).
struct Bigram {
    classes: usize,
    table: Vec<f64>, // (prev + 1) * classes + label, prev = -1 for start
}

impl LanguageModel for Bigram {
    fn log_prob(&self, context: &[usize], label: usize) -> f64 {
        let prev = context.last().map_or(0, |&p| p + 1);
        self.table[prev * self.classes + label]
    }
}

#[test]
fn language_model_changes_the_ranking() {
    // 3 frames, classes {blank 0, 1, 2}; acoustics prefer label 1 slightly.
    let row = |p: [f64; 3]| p.map(f64::ln);
    let lp: Vec<f64> = [
        row([0.3, 0.4, 0.3]),
        row([0.3, 0.4, 0.3]),
        row([0.3, 0.4, 0.3]),
    ]
    .concat();
    let mut table = vec![(0.5f64).ln(); 4 * 3];
    // From the start, the LM strongly prefers 2 over 1.
    table[2] = (0.95f64).ln();
    table[1] = (0.05f64).ln();
    let lm = Bigram { classes: 3, table };
    let plain = beam_search(
        &lp,
        3,
        &BeamOptions {
            beam_width: 50,
            nbest: 5,
            ..Default::default()
        },
        None,
    )
    .unwrap();
    assert_eq!(plain[0].labels[0], 1);
    let opts = BeamOptions {
        beam_width: 50,
        nbest: 5,
        lm_weight: 2.0,
        ..Default::default()
    };
    let with_lm = beam_search(&lp, 3, &opts, Some(&lm)).unwrap();
    assert_eq!(with_lm[0].labels[0], 2, "{with_lm:?}");
    // Scores decompose: score = acoustic + alpha * lm (no bonus here).
    for h in &with_lm {
        assert!((h.score - (h.acoustic + 2.0 * h.lm)).abs() < 1e-9);
    }
    // The acoustic score of a labelling does not depend on the LM.
    let probs = labelling_probs(&lp, 3, 3, 0);
    for h in &with_lm {
        assert!((h.acoustic - probs[&h.labels]).abs() < 1e-9);
    }
    // An insertion bonus favours longer outputs.
    let long = beam_search(
        &lp,
        3,
        &BeamOptions {
            beam_width: 50,
            insertion_bonus: 5.0,
            ..Default::default()
        },
        None,
    )
    .unwrap();
    assert_eq!(long[0].labels.len(), 3);
}

#[test]
fn beam_of_one_on_peaky_input_equals_greedy() {
    let mut rng = Rng::new(5);
    let lp = common::random_log_probs(&mut rng, 30, 6, 8.0);
    let greedy = greedy_decode(&lp, 6, 0).unwrap();
    let beam = beam_search(
        &lp,
        6,
        &BeamOptions {
            beam_width: 1,
            ..Default::default()
        },
        None,
    )
    .unwrap();
    assert_eq!(beam[0].labels, greedy);
}

#[test]
fn forced_alignment_equals_the_best_enumerated_path() {
    let mut rng = Rng::new(8);
    let mut checked = 0;
    for _ in 0..60 {
        let frames = rng.range(1, 7);
        let classes = rng.range(2, 4);
        let blank = rng.range(0, classes - 1);
        let lp = common::random_log_probs(&mut rng, frames, classes, 2.0);
        let len = rng.range(0, 3.min(frames));
        let target = common::random_target(&mut rng, len, classes, blank);
        let mut best: Option<(f64, Vec<usize>)> = None;
        for_each_path(frames, classes, |path| {
            if collapse(path, blank) == target {
                let p: f64 = path
                    .iter()
                    .enumerate()
                    .map(|(t, &c)| lp[t * classes + c])
                    .sum();
                if best.as_ref().is_none_or(|b| p > b.0) {
                    best = Some((p, path.to_vec()));
                }
            }
        });
        let got = force_align(&lp, classes, &target, blank);
        let Some((p, path)) = best else {
            assert!(got.is_err());
            continue;
        };
        checked += 1;
        let got = got.unwrap();
        assert!((got.log_prob - p).abs() < 1e-9);
        assert_eq!(got.path, path);
        // Spans: the k-th run of non-blank frames is token k.
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for t in 0..frames {
            if path[t] == blank {
                continue;
            }
            if t > 0 && path[t - 1] == path[t] {
                runs.last_mut().unwrap().1 = t;
            } else {
                runs.push((t, t));
            }
        }
        assert_eq!(runs.len(), target.len());
        for (span, (&label, run)) in got.spans.iter().zip(target.iter().zip(&runs)) {
            assert_eq!((span.label, span.start, span.end), (label, run.0, run.1));
        }
    }
    assert!(checked > 30);
}

#[test]
fn decoders_reject_bad_input() {
    let lp = vec![0.0f64; 12];
    assert!(beam_search(
        &lp,
        4,
        &BeamOptions {
            beam_width: 0,
            ..Default::default()
        },
        None
    )
    .is_err());
    assert!(beam_search(&lp, 5, &BeamOptions::default(), None).is_err());
    assert!(force_align(&lp, 4, &[0], 0).is_err());
    assert!(force_align(&lp, 4, &[4], 0).is_err());
    assert!(force_align(&lp, 4, &[1, 1, 1], 0).is_err()); // needs 5 frames
    let mut nan = lp.clone();
    nan[5] = f64::NAN;
    assert!(beam_search(&nan, 4, &BeamOptions::default(), None).is_err());
}
