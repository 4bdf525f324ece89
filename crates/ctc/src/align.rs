//! Forced alignment: the single most likely frame-level path (Viterbi
//! through the CTC trellis) for a known transcript, giving each token's first
//! and last frame. Multiply frames by the hop length for timestamps.

use crate::error::CtcError;
use crate::real::Real;

/// Where one target token sits in the input: frames `start..=end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenSpan {
    pub label: usize,
    pub start: usize,
    pub end: usize,
}

/// The best path of a transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct ForcedAlignment {
    /// One span per target token, in order.
    pub spans: Vec<TokenSpan>,
    /// Class emitted at each frame (blanks included).
    pub path: Vec<usize>,
    /// Natural-log probability of that path.
    pub log_prob: f64,
}

/// Viterbi alignment of `target` to `log_probs` (`[frames, classes]`
/// row-major). Errors on bad labels, NaN inputs, or a target that cannot fit
/// (`CtcError::Infeasible`).
pub fn force_align<F: Real>(
    log_probs: &[F],
    classes: usize,
    target: &[usize],
    blank: usize,
) -> Result<ForcedAlignment, CtcError> {
    crate::error::check_frames(log_probs.len(), classes, blank)?;
    crate::error::check_target(target, classes, blank)?;
    if let Some(i) = log_probs.iter().position(|v| v.is_nan()) {
        return Err(CtcError::NonFiniteLogProb {
            seq: 0,
            frame: i / classes,
            class: i % classes,
            value: f64::NAN,
        });
    }
    let frames = log_probs.len() / classes;
    let states: Vec<usize> = (0..2 * target.len() + 1)
        .map(|s| if s % 2 == 0 { blank } else { target[s / 2] })
        .collect();
    let n = states.len();
    if frames == 0 {
        return if target.is_empty() {
            Ok(ForcedAlignment {
                spans: vec![],
                path: vec![],
                log_prob: 0.0,
            })
        } else {
            Err(CtcError::Infeasible { seq: 0 })
        };
    }
    let lp = |t: usize, s: usize| log_probs[t * classes + states[s]].to_f64();
    let ninf = f64::NEG_INFINITY;
    let mut delta = vec![ninf; n];
    let mut back = vec![0u32; frames * n];
    delta[0] = lp(0, 0);
    if n > 1 {
        delta[1] = lp(0, 1);
    }
    let mut next = vec![ninf; n];
    for t in 1..frames {
        for s in 0..n {
            let mut best = delta[s];
            let mut from = s;
            if s >= 1 && delta[s - 1] > best {
                best = delta[s - 1];
                from = s - 1;
            }
            if s >= 2 && states[s] != blank && states[s] != states[s - 2] && delta[s - 2] > best {
                best = delta[s - 2];
                from = s - 2;
            }
            next[s] = if best == ninf { ninf } else { best + lp(t, s) };
            back[t * n + s] = from as u32;
        }
        std::mem::swap(&mut delta, &mut next);
    }
    let mut s = n - 1;
    if n > 1 && delta[n - 2] > delta[n - 1] {
        s = n - 2;
    }
    let log_prob = delta[s];
    if log_prob == ninf {
        return Err(CtcError::Infeasible { seq: 0 });
    }
    let mut state_path = vec![0usize; frames];
    for t in (0..frames).rev() {
        state_path[t] = s;
        if t > 0 {
            s = back[t * n + s] as usize;
        }
    }
    let mut spans: Vec<TokenSpan> = target
        .iter()
        .map(|&label| TokenSpan {
            label,
            start: usize::MAX,
            end: 0,
        })
        .collect();
    for (t, &s) in state_path.iter().enumerate() {
        if s % 2 == 1 {
            let span = &mut spans[s / 2];
            span.start = span.start.min(t);
            span.end = t;
        }
    }
    Ok(ForcedAlignment {
        spans,
        path: state_path.iter().map(|&s| states[s]).collect(),
        log_prob,
    })
}
