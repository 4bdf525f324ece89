//! Cepstral mean and variance normalisation (CMVN): per-column statistics
//! over the frames of one feature matrix (per utterance, the extractor's
//! [`crate::Cmvn`] option) or of many (all of a speaker's recordings, as
//! sori-asr's speaker normalisation fits them), and their application.
//!
//! One implementation for both, so an utterance normalised alone and a
//! speaker's recordings normalised together differ only in which frames the
//! statistics saw. Two passes in f64 (the mean, then the variance around
//! it), as numpy and Kaldi's `apply-cmvn` compute them; the per-utterance
//! figures are checked against those references in `tests/`.

/// Per-column mean and scale (1 / standard deviation, or 1 for mean-only
/// normalisation) of the first `mean.len()` columns of a set of
/// `frames × dim` matrices.
#[derive(Debug, Clone, PartialEq)]
pub struct CmvnStats {
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
    /// Frames the statistics were computed over.
    pub frames: usize,
}

impl CmvnStats {
    /// Statistics of the first `cols` columns (`cols <= dim`) over every
    /// frame (row of `dim` values) of `matrices`; with `variance` false the
    /// scale is 1. `None` when there are no frames (or `dim` is 0). A constant column gets
    /// a large finite scale (the variance is floored at 1e-20), so it
    /// normalises to zeros, never to NaN.
    pub fn fit<'a, I>(dim: usize, cols: usize, variance: bool, matrices: I) -> Option<CmvnStats>
    where
        I: IntoIterator<Item = &'a [f32]>,
        I::IntoIter: Clone,
    {
        assert!(cols <= dim, "cols {cols} of dim {dim}");
        if dim == 0 {
            return None;
        }
        let matrices = matrices.into_iter();
        let rows = || {
            matrices
                .clone()
                .flat_map(move |m| m.chunks_exact(dim))
                .map(move |row| &row[..cols])
        };
        let mut sum = vec![0f64; cols];
        let mut frames = 0usize;
        for row in rows() {
            for (s, &x) in sum.iter_mut().zip(row) {
                *s += x as f64;
            }
            frames += 1;
        }
        if frames == 0 {
            return None;
        }
        let n = frames as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let scale = if variance {
            let mut sq = vec![0f64; cols];
            for row in rows() {
                for ((q, &x), m) in sq.iter_mut().zip(row).zip(&mean) {
                    *q += (x as f64 - m) * (x as f64 - m);
                }
            }
            sq.iter().map(|q| 1.0 / (q / n).max(1e-20).sqrt()).collect()
        } else {
            vec![1.0; cols]
        };
        Some(CmvnStats {
            mean,
            scale,
            frames,
        })
    }

    /// Normalises the first `mean.len()` columns of each `dim`-wide row of
    /// `data` in place: `(x - mean) * scale`, computed in f64.
    pub fn apply(&self, data: &mut [f32], dim: usize) {
        for row in data.chunks_exact_mut(dim) {
            for ((x, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *x = ((*x as f64 - m) * s) as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The oracle: mean and population variance of each column written out
    /// by hand for a small matrix.
    #[test]
    fn statistics_over_several_matrices_are_those_of_their_frames() {
        // Columns (1, 3, 5, 7) and (10, 30, 50, 0); a third column left alone.
        let a = [1.0f32, 10.0, 9.0, 3.0, 30.0, 9.0];
        let b = [5.0f32, 50.0, 9.0, 7.0, 0.0, 9.0];
        let s = CmvnStats::fit(3, 2, true, [&a[..], &b[..]]).unwrap();
        assert_eq!(s.frames, 4);
        assert_eq!(s.mean, vec![4.0, 22.5]);
        // var: (9+1+1+9)/4 = 5; (156.25+56.25+756.25+506.25)/4 = 368.75
        assert!((s.scale[0] - 1.0 / 5f64.sqrt()).abs() < 1e-12);
        assert!((s.scale[1] - 1.0 / 368.75f64.sqrt()).abs() < 1e-12);
        let mut all = [a, b].concat();
        s.apply(&mut all, 3);
        for j in 0..2 {
            let col: Vec<f64> = all.iter().skip(j).step_by(3).map(|&x| x as f64).collect();
            let m = col.iter().sum::<f64>() / 4.0;
            let v = col.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / 4.0;
            assert!(m.abs() < 1e-6 && (v - 1.0).abs() < 1e-5, "{m} {v}");
        }
        assert!(all.iter().skip(2).step_by(3).all(|&x| x == 9.0));
    }

    #[test]
    fn mean_only_constant_columns_and_no_frames() {
        let a = [2.0f32, 4.0, 2.0, 8.0];
        let s = CmvnStats::fit(2, 2, false, [&a[..]]).unwrap();
        assert_eq!(
            (s.mean.clone(), s.scale.clone()),
            (vec![2.0, 6.0], vec![1.0, 1.0])
        );
        let c = CmvnStats::fit(2, 2, true, [&a[..]]).unwrap();
        let mut d = a;
        c.apply(&mut d, 2);
        assert!(d.iter().all(|x| x.is_finite()) && d[0] == 0.0 && d[2] == 0.0);
        assert_eq!(
            CmvnStats::fit(2, 2, true, std::iter::empty::<&[f32]>()),
            None
        );
    }
}
