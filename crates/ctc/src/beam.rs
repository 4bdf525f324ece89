//! Prefix beam search (Hannun et al. 2014, "First-pass large vocabulary
//! continuous speech recognition using bi-directional recurrent DNNs").
//!
//! Each prefix keeps two probabilities: of the paths ending in a blank (pb)
//! and in its last label (pnb), so that "a a" and "a" stay apart. An optional
//! language model scores each extension with weight `lm_weight` (alpha); an
//! insertion bonus (beta) per label offsets the LM's bias to short outputs.
//! The ranking score is `ln(pb + pnb) + beta * len`, where pnb already holds
//! the LM factor `P_lm^alpha` of the prefix. With a beam at least as wide as
//! the number of distinct prefixes the search is exact.
//!
//! Prefixes are stored as a tree of (parent, label) nodes, so extending costs
//! O(1); candidates of one frame are merged by (parent node, label) key.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::error::CtcError;
use crate::real::{log_add, Real};

/// A label-level language model for the beam search (natural-log scores).
pub trait LanguageModel: Sync {
    /// ln P(label | context), context being the labels decoded so far.
    fn log_prob(&self, context: &[usize], label: usize) -> f64;
    /// ln P(end of sentence | context); 0 by default.
    fn end_log_prob(&self, _context: &[usize]) -> f64 {
        0.0
    }
}

/// Options of [`beam_search`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BeamOptions {
    pub beam_width: usize,
    pub blank: usize,
    /// Weight alpha of the LM log-probability (ignored without an LM).
    pub lm_weight: f64,
    /// Bonus beta added per emitted label.
    pub insertion_bonus: f64,
    /// How many hypotheses to return (at most `beam_width`).
    pub nbest: usize,
}

impl Default for BeamOptions {
    fn default() -> Self {
        BeamOptions {
            beam_width: 16,
            blank: 0,
            lm_weight: 0.0,
            insertion_bonus: 0.0,
            nbest: 1,
        }
    }
}

/// One decoded hypothesis.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    pub labels: Vec<usize>,
    /// Ranking score: acoustic + alpha * lm + beta * len.
    pub score: f64,
    /// ln p_ctc(labels | input) summed over the paths the beam kept.
    pub acoustic: f64,
    /// Unweighted LM log-probability (0 without an LM).
    pub lm: f64,
}

#[derive(Clone, Copy)]
struct Node {
    parent: u32,
    label: u32,
    len: u32,
}

#[derive(Clone, Copy)]
struct Beam {
    node: u32,
    pb: f64,
    pnb: f64,
    lm: f64,
}

#[derive(Clone, Copy)]
struct Cand {
    parent: u32,
    label: u32,
    node: u32, // u32::MAX until it survives
    len: u32,
    pb: f64,
    pnb: f64,
    lm: f64,
}

/// Multiplicative hash for (node, label) keys: they are small integers, and
/// SipHash would dominate the search.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0 ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

const NONE: u32 = u32::MAX;

/// Decodes one utterance (`[frames, classes]` row-major log-probabilities)
/// and returns up to `nbest` hypotheses, best first.
pub fn beam_search<F: Real>(
    log_probs: &[F],
    classes: usize,
    opts: &BeamOptions,
    lm: Option<&dyn LanguageModel>,
) -> Result<Vec<Hypothesis>, CtcError> {
    let blank = opts.blank;
    crate::error::check_frames(log_probs.len(), classes, blank)?;
    if opts.beam_width == 0 {
        return Err(CtcError::BeamWidth);
    }
    if let Some(i) = log_probs.iter().position(|v| v.is_nan()) {
        return Err(CtcError::NonFiniteLogProb {
            seq: 0,
            frame: i / classes,
            class: i % classes,
            value: f64::NAN,
        });
    }
    let alpha = if lm.is_some() { opts.lm_weight } else { 0.0 };
    let beta = opts.insertion_bonus;
    let ninf = f64::NEG_INFINITY;
    let mut nodes = vec![Node {
        parent: NONE,
        label: NONE,
        len: 0,
    }];
    let mut beams = vec![Beam {
        node: 0,
        pb: 0.0,
        pnb: ninf,
        lm: 0.0,
    }];
    let mut cands: Vec<Cand> = Vec::new();
    let mut index: HashMap<(u32, u32), usize, BuildHasherDefault<KeyHasher>> = HashMap::default();
    let mut row = vec![0f64; classes];
    let mut lm_row = vec![0f64; classes];
    let mut context = Vec::new();
    let mut order: Vec<(f64, usize)> = Vec::new();
    for frame in log_probs.chunks(classes) {
        for (r, v) in row.iter_mut().zip(frame) {
            *r = v.to_f64();
        }
        cands.clear();
        index.clear();
        let mut slot =
            |cands: &mut Vec<Cand>, parent: u32, label: u32, node: u32, len: u32, lm: f64| {
                let k = *index.entry((parent, label)).or_insert_with(|| {
                    cands.push(Cand {
                        parent,
                        label,
                        node,
                        len,
                        pb: ninf,
                        pnb: ninf,
                        lm,
                    });
                    cands.len() - 1
                });
                if node != NONE {
                    cands[k].node = node;
                }
                k
            };
        for b in &beams {
            let nd = nodes[b.node as usize];
            let total = log_add(b.pb, b.pnb);
            let stay = slot(&mut cands, nd.parent, nd.label, b.node, nd.len, b.lm);
            cands[stay].pb = log_add(cands[stay].pb, total + row[blank]);
            if nd.label != NONE {
                let e = nd.label as usize;
                cands[stay].pnb = log_add(cands[stay].pnb, b.pnb + row[e]);
            }
            if let Some(lm) = lm {
                context.clear();
                let mut n = b.node;
                while nodes[n as usize].label != NONE {
                    context.push(nodes[n as usize].label as usize);
                    n = nodes[n as usize].parent;
                }
                context.reverse();
                for (c, l) in lm_row.iter_mut().enumerate() {
                    *l = if c == blank {
                        0.0
                    } else {
                        lm.log_prob(&context, c)
                    };
                }
            }
            for c in 0..classes {
                if c == blank || row[c] == ninf {
                    continue;
                }
                let from = if c as u32 == nd.label { b.pb } else { total };
                let lmv = if lm.is_some() { lm_row[c] } else { 0.0 };
                let k = slot(&mut cands, b.node, c as u32, NONE, nd.len + 1, b.lm + lmv);
                cands[k].pnb = log_add(cands[k].pnb, from + row[c] + alpha * lmv);
            }
        }
        order.clear();
        order.extend(
            cands
                .iter()
                .enumerate()
                .map(|(i, c)| (log_add(c.pb, c.pnb) + beta * c.len as f64, i)),
        );
        let keep = opts.beam_width.min(order.len());
        let by_score = |a: &(f64, usize), b: &(f64, usize)| {
            b.0.partial_cmp(&a.0)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.1.cmp(&b.1))
        };
        if keep < order.len() {
            order.select_nth_unstable_by(keep - 1, by_score);
            order.truncate(keep);
        }
        order.sort_by(by_score);
        beams.clear();
        for &(_, i) in &order {
            let c = cands[i];
            let node = if c.node != NONE {
                c.node
            } else {
                nodes.push(Node {
                    parent: c.parent,
                    label: c.label,
                    len: c.len,
                });
                (nodes.len() - 1) as u32
            };
            beams.push(Beam {
                node,
                pb: c.pb,
                pnb: c.pnb,
                lm: c.lm,
            });
        }
    }
    let mut out: Vec<Hypothesis> = beams
        .iter()
        .map(|b| {
            let mut labels = Vec::new();
            let mut n = b.node;
            while nodes[n as usize].label != NONE {
                labels.push(nodes[n as usize].label as usize);
                n = nodes[n as usize].parent;
            }
            labels.reverse();
            let joint = log_add(b.pb, b.pnb);
            let end = lm.map_or(0.0, |m| m.end_log_prob(&labels));
            let lm_total = b.lm + end;
            Hypothesis {
                score: joint + alpha * end + beta * labels.len() as f64,
                acoustic: joint - alpha * b.lm,
                lm: if lm.is_some() { lm_total } else { 0.0 },
                labels,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .partial_cmp(&a.score)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    out.truncate(opts.nbest.max(1));
    Ok(out)
}
