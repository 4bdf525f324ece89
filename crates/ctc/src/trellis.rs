//! The full alpha and beta trellises of one sequence, computed plainly in
//! f64 log space: for teaching, printing and checking (the fast path in
//! [`crate::loss`] never stores beta). `alpha[t][s]` is the log-probability of
//! the paths over frames 0..=t that end in extended state s (emission at t
//! included); `beta[t][s]` that of completing frames t+1.. from state s.
//! Their sum over any frame gives the same total: log p(target | input).

use crate::error::CtcError;
use crate::real::log_add;

/// Alpha and beta of one sequence over the extended label sequence.
#[derive(Debug, Clone)]
pub struct Trellis {
    /// Extended labels: blank, l1, blank, l2, ..., blank (2L+1 states).
    pub states: Vec<usize>,
    /// `alpha[t][s]`, natural-log space.
    pub alpha: Vec<Vec<f64>>,
    /// `beta[t][s]`, natural-log space, emission at t excluded.
    pub beta: Vec<Vec<f64>>,
    /// Negative log-likelihood of the target (+inf when impossible).
    pub loss: f64,
}

/// Computes the trellis of `target` over `log_probs` (`[frames, classes]`
/// row-major, natural-log probabilities).
pub fn trellis(
    log_probs: &[f64],
    classes: usize,
    target: &[usize],
    blank: usize,
) -> Result<Trellis, CtcError> {
    crate::error::check_frames(log_probs.len(), classes, blank)?;
    crate::error::check_target(target, classes, blank)?;
    let frames = log_probs.len() / classes;
    let states: Vec<usize> = (0..2 * target.len() + 1)
        .map(|s| if s % 2 == 0 { blank } else { target[s / 2] })
        .collect();
    let n = states.len();
    let lp = |t: usize, s: usize| log_probs[t * classes + states[s]];
    let skip = |s: usize| s >= 2 && states[s] != blank && states[s] != states[s - 2];
    let ninf = f64::NEG_INFINITY;
    let mut alpha = vec![vec![ninf; n]; frames];
    let mut beta = vec![vec![ninf; n]; frames];
    if frames == 0 {
        let loss = if target.is_empty() {
            0.0
        } else {
            f64::INFINITY
        };
        return Ok(Trellis {
            states,
            alpha,
            beta,
            loss,
        });
    }
    alpha[0][0] = lp(0, 0);
    if n > 1 {
        alpha[0][1] = lp(0, 1);
    }
    for t in 1..frames {
        for s in 0..n {
            let mut a = alpha[t - 1][s];
            if s >= 1 {
                a = log_add(a, alpha[t - 1][s - 1]);
            }
            if skip(s) {
                a = log_add(a, alpha[t - 1][s - 2]);
            }
            alpha[t][s] = if a == ninf { ninf } else { a + lp(t, s) };
        }
    }
    beta[frames - 1][n - 1] = 0.0;
    if n > 1 {
        beta[frames - 1][n - 2] = 0.0;
    }
    for t in (0..frames - 1).rev() {
        for s in 0..n {
            let mut b = beta[t + 1][s] + lp(t + 1, s);
            if s + 1 < n {
                b = log_add(b, beta[t + 1][s + 1] + lp(t + 1, s + 1));
            }
            if s + 2 < n && skip(s + 2) {
                b = log_add(b, beta[t + 1][s + 2] + lp(t + 1, s + 2));
            }
            beta[t][s] = b;
        }
    }
    let mut z = alpha[frames - 1][n - 1];
    if n > 1 {
        z = log_add(z, alpha[frames - 1][n - 2]);
    }
    Ok(Trellis {
        states,
        alpha,
        beta,
        loss: -z,
    })
}
