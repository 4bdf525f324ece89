//! Test helpers: a small deterministic random generator, and brute-force
//! oracles that enumerate every frame-level path (independent of both the
//! native trellis and libtorch).
#![allow(dead_code)]

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }
    pub fn next_u64(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in lo..=hi.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// Log-softmax of random logits, `[frames, classes]` row-major, f64.
pub fn random_log_probs(rng: &mut Rng, frames: usize, classes: usize, scale: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(frames * classes);
    for _ in 0..frames {
        let row: Vec<f64> = (0..classes).map(|_| rng.normal() * scale).collect();
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let z = row.iter().map(|v| (v - m).exp()).sum::<f64>().ln() + m;
        out.extend(row.iter().map(|v| v - z));
    }
    out
}

/// Calls `f(path)` for every path of `frames` symbols out of `classes`.
/// `len` random labels in `0..classes`, never the blank.
pub fn random_target(rng: &mut Rng, len: usize, classes: usize, blank: usize) -> Vec<usize> {
    (0..len)
        .map(|_| {
            let c = rng.range(0, classes - 2);
            if c >= blank {
                c + 1
            } else {
                c
            }
        })
        .collect()
}

pub fn for_each_path(frames: usize, classes: usize, mut f: impl FnMut(&[usize])) {
    let mut path = vec![0usize; frames];
    loop {
        f(&path);
        let mut i = 0;
        loop {
            if i == frames {
                return;
            }
            path[i] += 1;
            if path[i] < classes {
                break;
            }
            path[i] = 0;
            i += 1;
        }
    }
}

pub fn collapse(path: &[usize], blank: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut prev = None;
    for &c in path {
        if Some(c) != prev && c != blank {
            out.push(c);
        }
        prev = Some(c);
    }
    out
}

/// -log sum of the probabilities of all paths that collapse to `target`, and
/// the posterior occupation gamma[t][c] (probability mass of those paths
/// emitting c at t, divided by the total), by enumeration.
pub fn brute_force_ctc(
    lp: &[f64],
    frames: usize,
    classes: usize,
    target: &[usize],
    blank: usize,
) -> (f64, Vec<f64>) {
    let mut total = 0.0f64;
    let mut occ = vec![0.0f64; frames * classes];
    for_each_path(frames, classes, |path| {
        if collapse(path, blank) == target {
            let p: f64 = path
                .iter()
                .enumerate()
                .map(|(t, &c)| lp[t * classes + c])
                .sum::<f64>()
                .exp();
            total += p;
            for (t, &c) in path.iter().enumerate() {
                occ[t * classes + c] += p;
            }
        }
    });
    for v in occ.iter_mut() {
        *v /= total;
    }
    (-total.ln(), occ)
}
