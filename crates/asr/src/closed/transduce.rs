//! Labelling one speaker's recordings together instead of one at a time
//! (transductive inference). No transcript is read: only the recordings and
//! a model's closed-vocabulary posteriors.
//!
//! Why: a model trained on other speakers makes *systematic* mistakes on a
//! new voice (all of one speaker's "six" heard as "seven"), while that
//! speaker's own recordings of one word are close to each other. On FSDD the
//! nearest other recording of the same speaker, by DTW over the model's
//! input features, says the same digit 99.4 % of the time; the models alone
//! get 80-88 %. Two steps use that:
//!
//! 1. **Label propagation** (Zhou et al., 2004, "Learning with local and
//!    global consistency") over a graph joining each recording to its `k`
//!    nearest by DTW: `F = α S F + (1 − α) P`, iterated to its fixed point
//!    `(1 − α)(I − α S)⁻¹ P`, where `P` holds the model's posteriors and `S`
//!    is the symmetrically normalised affinity matrix. Confident, correct
//!    neighbours outvote a model's doubtful answers.
//! 2. **A balanced prior** (optional): Sinkhorn scaling of the posteriors so
//!    that every candidate gets the same share of the recordings. Right when
//!    the recordings are a word list read the same number of times per word
//!    (FSDD: 50 of each digit); wrong otherwise, so it is opt-in. It is what
//!    undoes a systematic confusion, which propagation alone cannot: when a
//!    whole word's cluster leans to the wrong answer, that answer is then
//!    over-subscribed and gives way.
use rayon::prelude::*;

/// Settings of [`relabel`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transduction {
    /// Neighbours per recording in the graph; 0 turns propagation off.
    pub neighbours: usize,
    /// Weight of the neighbours against the model (0..1).
    pub alpha: f64,
    /// Every candidate equally frequent among the recordings.
    pub balanced: bool,
}

impl Default for Transduction {
    /// Off: each recording alone. The weight α = 0.9 is the one to use with
    /// neighbours: on FSDD 5 or 10 neighbours and α from 0.8 to 0.9 gave the
    /// same accuracy within 0.1 %.
    fn default() -> Self {
        Transduction {
            neighbours: 0,
            alpha: 0.9,
            balanced: false,
        }
    }
}

impl Transduction {
    /// True when [`relabel`] changes anything.
    pub fn is_active(&self) -> bool {
        self.neighbours > 0 || self.balanced
    }
}

/// Dynamic time warping distance between two feature sequences
/// (`frames × dim`, row-major), with Euclidean frame distances and the
/// symmetric step weights of Sakoe and Chiba (a diagonal step counts its
/// distance twice), divided by `n + m`: every warping path then has the
/// same total weight, so the result is an average distance per frame that
/// does not favour short or long paths.
pub fn dtw_distance(a: &[f32], b: &[f32], dim: usize) -> f64 {
    let (n, m) = (a.len() / dim.max(1), b.len() / dim.max(1));
    if n == 0 || m == 0 {
        return f64::INFINITY;
    }
    let frame = |i: usize, j: usize| -> f64 {
        a[i * dim..(i + 1) * dim]
            .iter()
            .zip(&b[j * dim..(j + 1) * dim])
            .map(|(x, y)| {
                let d = (*x - *y) as f64;
                d * d
            })
            .sum::<f64>()
            .sqrt()
    };
    // Two rows of the cumulative cost g(i, j).
    let mut prev = vec![f64::INFINITY; m];
    let mut cur = vec![f64::INFINITY; m];
    for i in 0..n {
        for j in 0..m {
            let d = frame(i, j);
            cur[j] = if i == 0 && j == 0 {
                2.0 * d
            } else {
                let up = if i > 0 { prev[j] + d } else { f64::INFINITY };
                let left = if j > 0 { cur[j - 1] + d } else { f64::INFINITY };
                let diag = if i > 0 && j > 0 {
                    prev[j - 1] + 2.0 * d
                } else {
                    f64::INFINITY
                };
                up.min(left).min(diag)
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[m - 1] / (n + m) as f64
}

/// All pairwise [`dtw_distance`]s of a group of recordings. Only the
/// strict upper triangle is stored (the distance is symmetric and zero on
/// the diagonal): half the memory of the full matrix, which is what grows
/// with the square of the group.
#[derive(Debug, Clone)]
pub struct Distances {
    n: usize,
    /// Row `i` holds `d(i, j)` for `j = i+1 .. n`, rows one after another.
    upper: Vec<f64>,
}

impl Distances {
    /// Number of recordings.
    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// `d(i, j)`; 0 for `i == j`.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        let (a, b) = if i < j { (i, j) } else { (j, i) };
        if a == b {
            0.0
        } else {
            self.upper[a * self.n - a * (a + 1) / 2 + (b - a - 1)]
        }
    }
}

/// The [`Distances`] of `seqs` (`frames × dim` each), rows in parallel.
pub fn distance_matrix(seqs: &[&[f32]], dim: usize) -> Distances {
    let n = seqs.len();
    let mut upper = vec![0.0; n * n.saturating_sub(1) / 2];
    let mut rows: Vec<(usize, &mut [f64])> = Vec::with_capacity(n);
    let mut rest = upper.as_mut_slice();
    for i in 0..n {
        let (row, tail) = rest.split_at_mut(n - i - 1);
        rows.push((i, row));
        rest = tail;
    }
    rows.into_par_iter().for_each(|(i, row)| {
        for (off, v) in row.iter_mut().enumerate() {
            *v = dtw_distance(seqs[i], seqs[i + 1 + off], dim);
        }
    });
    Distances { n, upper }
}

/// The normalised affinity `S = D^-1/2 W D^-1/2` of the symmetric
/// `k`-nearest-neighbour graph of a distance matrix, as sparse rows of
/// `(column, weight)`. `W[i][j] = exp(-(d_ij / σ)²)` when `j` is among
/// `i`'s `k` nearest or `i` among `j`'s, with σ the median distance to a
/// nearest neighbour (so the scale of the features does not matter).
pub fn neighbour_affinity(d: &Distances, k: usize) -> Vec<Vec<(usize, f64)>> {
    let n = d.len();
    let k = k.min(n.saturating_sub(1));
    if k == 0 {
        return vec![Vec::new(); n];
    }
    let nearest: Vec<Vec<usize>> = (0..n)
        .map(|i| {
            let mut others: Vec<usize> = (0..n).filter(|&j| j != i).collect();
            others.sort_by(|&a, &b| d.get(i, a).total_cmp(&d.get(i, b)).then(a.cmp(&b)));
            others.truncate(k);
            others
        })
        .collect();
    let mut near: Vec<f64> = nearest
        .iter()
        .enumerate()
        .flat_map(|(i, js)| js.iter().map(move |&j| d.get(i, j)))
        .filter(|v| v.is_finite())
        .collect();
    near.sort_by(f64::total_cmp);
    let sigma = near.get(near.len() / 2).copied().unwrap_or(1.0).max(1e-12);
    let mut w: Vec<std::collections::BTreeMap<usize, f64>> = vec![Default::default(); n];
    for (i, js) in nearest.iter().enumerate() {
        for &j in js {
            let v = (-(d.get(i, j) / sigma).powi(2)).exp();
            if v > 0.0 {
                w[i].insert(j, v);
                w[j].insert(i, v);
            }
        }
    }
    let degree: Vec<f64> = w.iter().map(|row| row.values().sum()).collect();
    w.iter()
        .enumerate()
        .map(|(i, row)| {
            row.iter()
                .map(|(&j, &v)| (j, v / (degree[i] * degree[j]).sqrt()))
                .collect()
        })
        .collect()
}

/// Iterates `F ← α S F + (1 − α) P` (rows of `P`: one distribution per
/// recording) to its fixed point and returns `F` with rows renormalised.
pub fn propagate(s: &[Vec<(usize, f64)>], p: &[Vec<f64>], alpha: f64) -> Vec<Vec<f64>> {
    let mut f = p.to_vec();
    // The error shrinks by α per step; stop when it no longer shows.
    for _ in 0..10_000 {
        let next: Vec<Vec<f64>> = s
            .iter()
            .zip(p)
            .map(|(row, prior)| {
                let mut out: Vec<f64> = prior.iter().map(|v| (1.0 - alpha) * v).collect();
                for &(j, w) in row {
                    for (o, v) in out.iter_mut().zip(&f[j]) {
                        *o += alpha * w * v;
                    }
                }
                out
            })
            .collect();
        let change = next
            .iter()
            .zip(&f)
            .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs()))
            .fold(0.0, f64::max);
        f = next;
        if change < 1e-12 {
            break;
        }
    }
    for row in &mut f {
        normalise(row);
    }
    f
}

/// Sinkhorn scaling: rescales the columns (candidates) of `p` towards equal
/// totals and its rows back to distributions, alternately, until the column
/// totals are equal. A candidate no recording can be has no mass to scale
/// and is left at zero.
pub fn balance(p: &mut [Vec<f64>]) {
    let n = p.len();
    let c = p.first().map_or(0, Vec::len);
    if n == 0 || c == 0 {
        return;
    }
    let live = (0..c).filter(|&j| p.iter().any(|r| r[j] > 0.0)).count();
    let target = n as f64 / live.max(1) as f64;
    for _ in 0..10_000 {
        let totals: Vec<f64> = (0..c).map(|j| p.iter().map(|r| r[j]).sum()).collect();
        let off = totals
            .iter()
            .filter(|t| **t > 0.0)
            .map(|t| (t - target).abs())
            .fold(0.0, f64::max);
        if off < 1e-9 * target {
            break;
        }
        for row in p.iter_mut() {
            for (v, t) in row.iter_mut().zip(&totals) {
                if *t > 0.0 {
                    *v *= target / t;
                }
            }
            normalise(row);
        }
    }
}

/// The posterior of each candidate, `softmax(log_likelihoods)`; `None` when
/// every candidate is impossible.
pub fn posterior(log_likelihoods: &[f64]) -> Option<Vec<f64>> {
    let top = log_likelihoods
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    if !top.is_finite() {
        return None;
    }
    let mut p: Vec<f64> = log_likelihoods.iter().map(|l| (l - top).exp()).collect();
    normalise(&mut p);
    Some(p)
}

fn normalise(row: &mut [f64]) {
    let z: f64 = row.iter().sum();
    if z > 0.0 {
        row.iter_mut().for_each(|v| *v /= z);
    }
}

/// The recordings' posteriors after [`propagate`] over their DTW graph
/// and/or [`balance`], as `t` asks. `posteriors[i]` is recording `i`'s
/// distribution over the candidates and `inputs[i]` its feature matrix
/// (`frames × dim`).
pub fn relabel(
    posteriors: &[Vec<f64>],
    inputs: &[&[f32]],
    dim: usize,
    t: &Transduction,
) -> Vec<Vec<f64>> {
    assert_eq!(posteriors.len(), inputs.len(), "one input per recording");
    let mut p = posteriors.to_vec();
    if t.neighbours > 0 && p.len() > 1 {
        let d = distance_matrix(inputs, dim);
        let s = neighbour_affinity(&d, t.neighbours);
        p = propagate(&s, &p, t.alpha);
    }
    if t.balanced {
        balance(&mut p);
    }
    p
}

/// Index of the largest value (the first of equals).
pub fn argmax(row: &[f64]) -> Option<usize> {
    (0..row.len()).max_by(|&a, &b| row[a].total_cmp(&row[b]).then(b.cmp(&a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every monotone path from (0,0) to (n-1,m-1) with the symmetric
    /// weights, by exhaustive recursion: the oracle for the DP.
    fn brute_dtw(a: &[f32], b: &[f32], dim: usize) -> f64 {
        let (n, m) = (a.len() / dim, b.len() / dim);
        let d = |i: usize, j: usize| -> f64 {
            (0..dim)
                .map(|k| ((a[i * dim + k] - b[j * dim + k]) as f64).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        fn walk(i: usize, j: usize, n: usize, m: usize, d: &dyn Fn(usize, usize) -> f64) -> f64 {
            if i == n - 1 && j == m - 1 {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            if i + 1 < n {
                best = best.min(d(i + 1, j) + walk(i + 1, j, n, m, d));
            }
            if j + 1 < m {
                best = best.min(d(i, j + 1) + walk(i, j + 1, n, m, d));
            }
            if i + 1 < n && j + 1 < m {
                best = best.min(2.0 * d(i + 1, j + 1) + walk(i + 1, j + 1, n, m, d));
            }
            best
        }
        (2.0 * d(0, 0) + walk(0, 0, n, m, &d)) / (n + m) as f64
    }

    fn pseudo_random(seed: u64, len: usize) -> Vec<f32> {
        let mut rng = crate::rng::Rng::new(seed);
        (0..len).map(|_| rng.uniform() as f32 * 2.0 - 1.0).collect()
    }

    #[test]
    fn dtw_equals_the_best_of_all_warping_paths() {
        for (seed, n, m, dim) in [
            (1, 1, 1, 2),
            (2, 3, 5, 2),
            (3, 6, 4, 3),
            (4, 7, 7, 1),
            (5, 2, 8, 4),
        ] {
            let a = pseudo_random(seed, n * dim);
            let b = pseudo_random(seed + 100, m * dim);
            let got = dtw_distance(&a, &b, dim);
            let want = brute_dtw(&a, &b, dim);
            assert!((got - want).abs() < 1e-9, "{n}x{m}: {got} vs {want}");
            assert!((dtw_distance(&b, &a, dim) - got).abs() < 1e-9, "symmetric");
        }
        // A sequence and its time-stretched copy are at distance zero.
        let a = pseudo_random(9, 5 * 3);
        let stretched: Vec<f32> = a
            .chunks(3)
            .flat_map(|f| [f, f])
            .flatten()
            .copied()
            .collect();
        assert_eq!(dtw_distance(&a, &stretched, 3), 0.0);
        assert_eq!(dtw_distance(&a, &[], 3), f64::INFINITY);
    }

    /// Solves (I − αS) X = (1 − α) P by Gaussian elimination on the dense
    /// matrix: the closed form that the iteration must reach.
    fn closed_form(s: &[Vec<(usize, f64)>], p: &[Vec<f64>], alpha: f64) -> Vec<Vec<f64>> {
        let n = p.len();
        let c = p[0].len();
        let mut a = vec![vec![0.0; n + c]; n];
        for i in 0..n {
            a[i][i] = 1.0;
            for &(j, w) in &s[i] {
                a[i][j] -= alpha * w;
            }
            for k in 0..c {
                a[i][n + k] = (1.0 - alpha) * p[i][k];
            }
        }
        for col in 0..n {
            let piv = (col..n)
                .max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))
                .unwrap();
            a.swap(col, piv);
            let pivot_row = a[col].clone();
            for (r, row) in a.iter_mut().enumerate() {
                if r != col {
                    let f = row[col] / pivot_row[col];
                    for (x, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                        *x -= f * p;
                    }
                }
            }
        }
        (0..n)
            .map(|i| {
                let mut row: Vec<f64> = (0..c).map(|k| a[i][n + k] / a[i][i]).collect();
                let z: f64 = row.iter().sum();
                row.iter_mut().for_each(|v| *v /= z);
                row
            })
            .collect()
    }

    #[test]
    fn propagation_reaches_the_closed_form() {
        let n = 12;
        let seqs: Vec<Vec<f32>> = (0..n)
            .map(|i| pseudo_random(i as u64, (3 + i % 4) * 2))
            .collect();
        let refs: Vec<&[f32]> = seqs.iter().map(Vec::as_slice).collect();
        let d = distance_matrix(&refs, 2);
        for i in 0..n {
            assert_eq!(d.get(i, i), 0.0);
            for j in 0..n {
                assert_eq!(d.get(i, j), d.get(j, i));
                assert!((d.get(i, j) - dtw_distance(refs[i], refs[j], 2)).abs() < 1e-12);
            }
        }
        let s = neighbour_affinity(&d, 3);
        // Symmetric, and every recording has at least its 3 neighbours.
        for (i, row) in s.iter().enumerate() {
            assert!(row.len() >= 3);
            for &(j, w) in row {
                let back = s[j].iter().find(|(k, _)| *k == i).expect("symmetric").1;
                assert!((w - back).abs() < 1e-15);
            }
        }
        let p: Vec<Vec<f64>> = (0..n)
            .map(|i| posterior(&[-(i as f64 % 3.0), -1.0, -2.0 + i as f64 * 0.1]).unwrap())
            .collect();
        for alpha in [0.5, 0.9, 0.99] {
            let got = propagate(&s, &p, alpha);
            let want = closed_form(&s, &p, alpha);
            for (g, w) in got.iter().zip(&want) {
                for (x, y) in g.iter().zip(w) {
                    assert!((x - y).abs() < 1e-8, "alpha {alpha}: {x} vs {y}");
                }
            }
        }
    }

    #[test]
    fn balancing_equalises_the_candidates_and_keeps_distributions() {
        // Three recordings lean to candidate 0, one to 1; candidate 2 is
        // impossible for all of them.
        let mut p = vec![
            vec![0.9, 0.1, 0.0],
            vec![0.8, 0.2, 0.0],
            vec![0.6, 0.4, 0.0],
            vec![0.3, 0.7, 0.0],
        ];
        balance(&mut p);
        for row in &p {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            assert_eq!(row[2], 0.0);
        }
        for j in 0..2 {
            let t: f64 = p.iter().map(|r| r[j]).sum();
            assert!((t - 2.0).abs() < 1e-6, "candidate {j} total {t}");
        }
        // The order within a column is kept: the least sure of candidate 0
        // is the one that moves to candidate 1.
        let answers: Vec<usize> = p.iter().map(|r| argmax(r).unwrap()).collect();
        assert_eq!(answers, vec![0, 0, 1, 1]);
    }

    /// Two well separated groups of recordings (two "words"); a model that
    /// labels most of group B as A. Propagation alone keeps the model's
    /// majority in each group; with the balance prior group B gets its own
    /// answer, because A is then over-subscribed.
    #[test]
    fn a_systematic_confusion_is_undone_only_with_the_balance_prior() {
        let dim = 2;
        let mut seqs = Vec::new();
        let mut post = Vec::new();
        for i in 0..20 {
            let group_b = i >= 10;
            let centre = if group_b { 3.0 } else { -3.0 };
            let jitter = pseudo_random(i as u64, 5 * dim);
            seqs.push(
                jitter
                    .iter()
                    .map(|j| centre + 0.3 * j)
                    .collect::<Vec<f32>>(),
            );
            // Group A: sure of A. Group B: 8 of 10 lean (weakly) to A.
            let p_a = if !group_b {
                0.95
            } else if i < 18 {
                0.65
            } else {
                0.3
            };
            post.push(vec![p_a, 1.0 - p_a]);
        }
        let refs: Vec<&[f32]> = seqs.iter().map(Vec::as_slice).collect();
        let answers = |t: Transduction| -> Vec<usize> {
            relabel(&post, &refs, dim, &t)
                .iter()
                .map(|r| argmax(r).unwrap())
                .collect()
        };
        let truth: Vec<usize> = (0..20).map(|i| usize::from(i >= 10)).collect();
        let plain = answers(Transduction::default());
        assert_eq!(plain.iter().zip(&truth).filter(|(a, b)| a == b).count(), 12);
        let propagated = answers(Transduction {
            neighbours: 10,
            ..Transduction::default()
        });
        // Group B's neighbours are group B: its majority answer (A) spreads.
        assert!(propagated[10..].iter().all(|&a| a == 0));
        let both = answers(Transduction {
            neighbours: 10,
            alpha: 0.9,
            balanced: true,
        });
        assert_eq!(both, truth);
        // Without transduction nothing changes.
        let off = Transduction::default();
        assert!(!off.is_active());
        assert_eq!(relabel(&post, &refs, dim, &off), post);
    }
}
