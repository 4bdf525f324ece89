//! The prefix beam search with a language model against exhaustive search
//! on tiny inputs: every frame-level path is enumerated (all `classes ^
//! frames` of them), paths are grouped by their collapsed labelling, and
//! each labelling `L` is scored as the search defines it,
//! `ln p_ctc(L) + alpha * (ln P_lm(L) + ln P_lm(end | L)) + beta * |L|`,
//! with the LM's log-probabilities summed here label by label.
//!
//! With a beam wider than the number of prefixes the search must return
//! exactly the best labellings in order with those scores; with narrow
//! beams every hypothesis must carry its labelling's exact LM score, an
//! acoustic score no larger than the true one, and a score no better than
//! the optimum. Two LMs: a hand-made bigram table with end probabilities,
//! and a table drawn per whole context (so a wrong context passed to the LM
//! changes the scores).

mod common;

use std::collections::HashMap;

use common::{collapse, for_each_path, Rng};
use sori_ctc::{beam_search, BeamOptions, LanguageModel};

/// ln p_ctc(labelling) for every labelling reachable in `frames` frames.
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

/// ln P_lm(labels) including the end of the sentence.
fn lm_total(lm: &dyn LanguageModel, labels: &[usize]) -> f64 {
    let mut s = 0.0;
    for i in 0..labels.len() {
        s += lm.log_prob(&labels[..i], labels[i]);
    }
    s + lm.end_log_prob(labels)
}

/// Hand-made bigram over the labels {a, b} (class ids given), with the end
/// of the sentence: P(next | previous), previous being start, a or b.
struct HandBigram {
    a: usize,
    b: usize,
}

impl HandBigram {
    /// Rows: start, after a, after b; columns: a, b, end.
    const P: [[f64; 3]; 3] = [[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.5, 0.1, 0.4]];
    fn row(&self, context: &[usize]) -> [f64; 3] {
        match context.last() {
            None => Self::P[0],
            Some(&l) if l == self.a => Self::P[1],
            Some(&l) if l == self.b => Self::P[2],
            Some(l) => panic!("label {l} in the context is no label of this LM"),
        }
    }
}

impl LanguageModel for HandBigram {
    fn log_prob(&self, context: &[usize], label: usize) -> f64 {
        let r = self.row(context);
        if label == self.a {
            r[0].ln()
        } else if label == self.b {
            r[1].ln()
        } else {
            panic!("the LM was asked about class {label}, the blank")
        }
    }
    fn end_log_prob(&self, context: &[usize]) -> f64 {
        self.row(context)[2].ln()
    }
}

/// A distribution over the labels and the end drawn per whole context.
struct ContextTable {
    classes: usize,
    blank: usize,
    seed: u64,
}

impl ContextTable {
    fn dist(&self, context: &[usize]) -> Vec<f64> {
        let mut h = self.seed;
        for &c in context {
            h = (h ^ (c as u64 + 1))
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .rotate_left(29);
        }
        let mut rng = Rng::new(h);
        // One weight per class (the blank's is unused) and one for the end.
        let w: Vec<f64> = (0..=self.classes)
            .map(|_| (2.0 * rng.normal()).exp())
            .collect();
        let z: f64 = w
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != self.blank)
            .map(|(_, x)| x)
            .sum();
        w.iter().map(|x| (x / z).ln()).collect()
    }
}

impl LanguageModel for ContextTable {
    fn log_prob(&self, context: &[usize], label: usize) -> f64 {
        assert_ne!(label, self.blank, "the LM was asked about the blank");
        self.dist(context)[label]
    }
    fn end_log_prob(&self, context: &[usize]) -> f64 {
        self.dist(context)[self.classes]
    }
}

/// Every labelling with its exhaustive score, best first.
fn ranked(
    lp: &[f64],
    frames: usize,
    classes: usize,
    blank: usize,
    lm: &dyn LanguageModel,
    alpha: f64,
    beta: f64,
) -> Vec<(Vec<usize>, f64, f64)> {
    let mut out: Vec<(Vec<usize>, f64, f64)> = labelling_probs(lp, frames, classes, blank)
        .into_iter()
        .map(|(l, ac)| {
            let s = ac + alpha * lm_total(lm, &l) + beta * l.len() as f64;
            (l, s, ac)
        })
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

#[allow(clippy::too_many_arguments)]
fn check_wide(
    lp: &[f64],
    frames: usize,
    classes: usize,
    blank: usize,
    lm: &dyn LanguageModel,
    alpha: f64,
    beta: f64,
    what: &str,
) {
    let all = ranked(lp, frames, classes, blank, lm, alpha, beta);
    let opts = BeamOptions {
        beam_width: 100_000,
        blank,
        lm_weight: alpha,
        insertion_bonus: beta,
        nbest: 4,
    };
    let hyps = beam_search(lp, classes, &opts, Some(lm)).unwrap();
    assert_eq!(hyps.len(), 4.min(all.len()), "{what}");
    for (i, h) in hyps.iter().enumerate() {
        // Near-ties may come in either order: the labelling must be one
        // whose exhaustive score is this rank's within 1e-9.
        let (_, s, _) = &all[i];
        let (_, _, ac) = all
            .iter()
            .find(|(l, _, _)| *l == h.labels)
            .unwrap_or_else(|| panic!("{what}: {:?} is unreachable", h.labels));
        assert!(
            (h.score - s).abs() < 1e-9,
            "{what}: rank {i} {:?} score {} vs exhaustive {:?} {}",
            h.labels,
            h.score,
            all[i].0,
            s
        );
        assert!(
            (h.acoustic - ac).abs() < 1e-9,
            "{what}: acoustic {} vs {}",
            h.acoustic,
            ac
        );
        assert!(
            (h.lm - lm_total(lm, &h.labels)).abs() < 1e-9,
            "{what}: lm {} vs {}",
            h.lm,
            lm_total(lm, &h.labels)
        );
    }
}

#[test]
fn hand_made_bigram_wide_beam_equals_exhaustive_search() {
    let mut rng = Rng::new(7);
    for case in 0..60 {
        let frames = rng.range(1, 6);
        let blank = rng.range(0, 2);
        let (a, b) = match blank {
            0 => (1, 2),
            1 => (2, 0),
            _ => (0, 1),
        };
        let lp = common::random_log_probs(&mut rng, frames, 3, 1.5);
        let lm = HandBigram { a, b };
        for &(alpha, beta) in &[(0.5, 0.0), (1.0, 1.0), (2.0, -0.5), (0.0, 0.7)] {
            check_wide(
                &lp,
                frames,
                3,
                blank,
                &lm,
                alpha,
                beta,
                &format!("case {case} T {frames} blank {blank} alpha {alpha} beta {beta}"),
            );
        }
    }
}

/// The hand-made LM decides: the acoustics are flat over "a" and "b" on
/// one frame, and ln P(a) + ln P(end | a) = ln(0.7 * 0.3) = ln 0.21 beats
/// ln(0.2 * 0.4) = ln 0.08 for "b", and the empty output's ln 0.1.
#[test]
fn hand_made_bigram_picks_the_likelier_sentence() {
    let lp: Vec<f64> = [0.2f64, 0.4, 0.4].iter().map(|p| p.ln()).collect();
    let lm = HandBigram { a: 1, b: 2 };
    let opts = BeamOptions {
        beam_width: 8,
        blank: 0,
        lm_weight: 1.0,
        insertion_bonus: 0.0,
        nbest: 3,
    };
    let hyps = beam_search(&lp, 3, &opts, Some(&lm)).unwrap();
    let labels: Vec<Vec<usize>> = hyps.iter().map(|h| h.labels.clone()).collect();
    // a: 0.4 * 0.21 = 0.084; empty: 0.2 * 0.1 = 0.02; b: 0.4 * 0.08 = 0.032.
    assert_eq!(labels, vec![vec![1], vec![2], vec![]]);
    assert!((hyps[0].score - (0.4f64 * 0.21).ln()).abs() < 1e-12);
    assert!((hyps[1].score - (0.4f64 * 0.08).ln()).abs() < 1e-12);
    assert!((hyps[2].score - (0.2f64 * 0.1).ln()).abs() < 1e-12);
}

#[test]
fn context_dependent_lm_wide_beam_equals_exhaustive_search() {
    let mut rng = Rng::new(99);
    for case in 0..40 {
        let frames = rng.range(1, 5);
        let classes = rng.range(3, 4);
        let blank = rng.range(0, classes - 1);
        let lp = common::random_log_probs(&mut rng, frames, classes, 1.0);
        let lm = ContextTable {
            classes,
            blank,
            seed: case,
        };
        for &(alpha, beta) in &[(0.8, 0.3), (1.5, 0.0)] {
            check_wide(
                &lp,
                frames,
                classes,
                blank,
                &lm,
                alpha,
                beta,
                &format!("case {case} T {frames} C {classes} blank {blank} alpha {alpha}"),
            );
        }
    }
}

#[test]
fn narrow_beams_score_their_labellings_truly_and_never_beat_the_optimum() {
    let mut rng = Rng::new(2024);
    for case in 0..40 {
        let frames = rng.range(2, 5);
        let classes = 4;
        let blank = rng.range(0, 3);
        let lp = common::random_log_probs(&mut rng, frames, classes, 1.0);
        let lm = ContextTable {
            classes,
            blank,
            seed: 1000 + case,
        };
        let (alpha, beta) = (1.0, 0.5);
        let all = ranked(&lp, frames, classes, blank, &lm, alpha, beta);
        let probs = labelling_probs(&lp, frames, classes, blank);
        for width in 1..=3 {
            let opts = BeamOptions {
                beam_width: width,
                blank,
                lm_weight: alpha,
                insertion_bonus: beta,
                nbest: width,
            };
            let hyps = beam_search(&lp, classes, &opts, Some(&lm)).unwrap();
            for h in &hyps {
                let lm_true = lm_total(&lm, &h.labels);
                assert!((h.lm - lm_true).abs() < 1e-9, "case {case} width {width}");
                // The beam may have pruned some of the labelling's paths.
                assert!(h.acoustic <= probs[&h.labels] + 1e-9);
                let s = h.acoustic + alpha * h.lm + beta * h.labels.len() as f64;
                assert!((h.score - s).abs() < 1e-9);
                assert!(
                    h.score <= all[0].1 + 1e-9,
                    "case {case} width {width} beat the optimum"
                );
            }
        }
    }
}

/// f32 log-probabilities give the f64 result within f32 rounding.
#[test]
fn f32_input_with_lm_matches_exhaustive_search() {
    let mut rng = Rng::new(5);
    for case in 0..20 {
        let frames = rng.range(1, 5);
        let lp = common::random_log_probs(&mut rng, frames, 3, 1.5);
        let lp32: Vec<f32> = lp.iter().map(|&x| x as f32).collect();
        let lp_rounded: Vec<f64> = lp32.iter().map(|&x| x as f64).collect();
        let lm = HandBigram { a: 1, b: 2 };
        let all = ranked(&lp_rounded, frames, 3, 0, &lm, 1.0, 0.2);
        let opts = BeamOptions {
            beam_width: 1000,
            blank: 0,
            lm_weight: 1.0,
            insertion_bonus: 0.2,
            nbest: 1,
        };
        let h = &beam_search(&lp32, 3, &opts, Some(&lm)).unwrap()[0];
        assert!(
            (h.score - all[0].1).abs() < 1e-9,
            "case {case}: {} vs {}",
            h.score,
            all[0].1
        );
        assert!(all
            .iter()
            .take_while(|(_, s, _)| all[0].1 - s < 1e-9)
            .any(|(l, _, _)| *l == h.labels));
    }
}
