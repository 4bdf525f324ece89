//! The hot loops of the frame pipeline, in portable Rust and as AVX2 + FMA
//! kernels for x86_64.
//!
//! Why intrinsics: LLVM leaves these loops scalar (the f32 to f64 widening
//! sums, the pairwise unpacking of the packed real FFT that reads one half of
//! the spectrum backwards) and they then cost more than the FFT itself. The
//! portable versions are the reference the kernels are tested against, and
//! what runs on CPUs without AVX2. Both are f64 throughout; the kernels use
//! fused multiply-adds, so the two agree to rounding, not bit for bit
//! (a given machine always takes the same path, so batch and streaming
//! results stay identical).

/// Dot product with eight independent accumulators, so the compiler can
/// vectorise it (a single running sum is one long dependency chain); a
/// four-wide step takes a tail of four, as the padded filter runs have.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        let x: &[f64; 8] = x.try_into().expect("chunks of 8");
        let y: &[f64; 8] = y.try_into().expect("chunks of 8");
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let (ca, cb) = (ra.chunks_exact(4), rb.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..4 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// Writes `x` widened to f64 into `out` and returns `(sum x, sum x^2)`.
pub(crate) fn widen(x: &[f32], out: &mut [f64]) -> (f64, f64) {
    let out = &mut out[..x.len()];
    let mut s = [0.0f64; 4];
    let mut q = [0.0f64; 4];
    let (chunks, rest) = (x.chunks_exact(4), x.chunks_exact(4).remainder());
    let mut tail = (0.0, 0.0);
    for (o, &v) in out[x.len() - rest.len()..].iter_mut().zip(rest) {
        let v = v as f64;
        *o = v;
        tail.0 += v;
        tail.1 += v * v;
    }
    for (c, o) in chunks.zip(out.chunks_exact_mut(4)) {
        for i in 0..4 {
            let v = c[i] as f64;
            o[i] = v;
            s[i] += v;
            q[i] += v * v;
        }
    }
    (
        (s[0] + s[1]) + (s[2] + s[3]) + tail.0,
        (q[0] + q[1]) + (q[2] + q[3]) + tail.1,
    )
}

/// Index of the first NaN or infinite value.
pub(crate) fn first_non_finite(x: &[f32]) -> Option<usize> {
    // A branch-free scan per block (an integer max vectorises): non-finite
    // floats are exactly those whose magnitude bits reach the infinity
    // pattern. The exact position is looked up only in a bad block.
    const BLOCK: usize = 1024;
    for (b, block) in x.chunks(BLOCK).enumerate() {
        let max_bits = block
            .iter()
            .map(|v| v.to_bits() & 0x7fff_ffff)
            .fold(0, u32::max);
        if max_bits >= f32::INFINITY.to_bits() {
            return block
                .iter()
                .position(|v| !v.is_finite())
                .map(|i| b * BLOCK + i);
        }
    }
    None
}

/// `out[i] = (x[i] - k x[i-1] - offset) w[i]` with `x[-1] = x[0]`
/// (pre-emphasis, DC offset and the window in one pass); `out.len() == x.len()`.
pub(crate) fn emphasise_window(x: &[f64], w: &[f64], k: f64, offset: f64, out: &mut [f64]) {
    let n = out.len();
    let (x, w) = (&x[..n], &w[..n]);
    if n == 0 {
        return;
    }
    out[0] = (x[0] - k * x[0] - offset) * w[0];
    for i in 1..n {
        out[i] = (x[i] - k * x[i - 1] - offset) * w[i];
    }
}

/// Twiddle factors `W^k = exp(-2 pi i k / n)` of the packed real FFT of
/// even length `n = 2m`, for the pairs `k = 1..=(m-1)/2`.
pub(crate) struct Twiddles {
    /// `(cos, -sin)` of `2 pi k / n` per pair, interleaved.
    pairs: Vec<f64>,
    /// The first `4 * (pairs / 4)` pairs again, for the AVX2 kernel: per
    /// block of four bins `k..k+4`, the four cosines then the four sines.
    blocks: Vec<f64>,
}

impl Twiddles {
    pub(crate) fn new(n: usize) -> Twiddles {
        let m = n / 2;
        let w = |k: usize| {
            let a = 2.0 * std::f64::consts::PI * k as f64 / n as f64;
            (a.cos(), -a.sin())
        };
        let count = m.saturating_sub(1) / 2;
        let pairs = (1..=count).flat_map(|k| <[f64; 2]>::from(w(k))).collect();
        let mut blocks = Vec::new();
        for k in (1..=count - count % 4).step_by(4) {
            blocks.extend((k..k + 4).map(|j| w(j).0));
            blocks.extend((k..k + 4).map(|j| w(j).1));
        }
        Twiddles { pairs, blocks }
    }

    /// Number of pairs `(k, m-k)`.
    fn len(&self) -> usize {
        self.pairs.len() / 2
    }
}

/// [`emphasise_window`] reading f32 samples, for frames that need no
/// statistics first (no DC removal, no raw energy): one pass instead of two.
pub(crate) fn emphasise_window_f32(x: &[f32], w: &[f64], k: f64, offset: f64, out: &mut [f64]) {
    let n = out.len();
    let (x, w) = (&x[..n], &w[..n]);
    if n == 0 {
        return;
    }
    let x0 = x[0] as f64;
    out[0] = (x0 - k * x0 - offset) * w[0];
    for i in 1..n {
        out[i] = (x[i] as f64 - k * x[i - 1] as f64 - offset) * w[i];
    }
}

/// Power spectrum, times four, of a real signal of length `2m` from the
/// `m`-point complex FFT `z` of its samples packed as `x[2j] + i x[2j+1]`:
/// `power[k] = 4 |X[k]|^2`, `k = 0..=m` (the factor is exact and the caller
/// folds a quarter into its filter weights, saving a multiply per bin).
///
/// With `E = (Z[k] + conj Z[m-k]) / 2` and `O = (Z[k] - conj Z[m-k]) / 2i`,
/// `X[k] = E + W^k O` and `X[m-k] = conj(E - W^k O)`: one pass over the
/// pairs `(k, m-k)`, with `2E` and `2O` (the halves are the factor four).
pub(crate) fn packed_power(z: &[[f64; 2]], tw: &Twiddles, power: &mut [f64]) {
    let m = z.len();
    edges(z, power);
    for k in 1..=tw.len() {
        let (p, q) = pair_power(z[k], z[m - k], tw.pairs[2 * k - 2], tw.pairs[2 * k - 1]);
        power[k] = p;
        power[m - k] = q;
    }
}

/// `x = scale * ln(max(x, floor))` in place (`scale` 1 for the natural log,
/// `10 / ln 10` for decibels).
pub(crate) fn log_floor(x: &mut [f64], floor: f64, scale: f64) {
    x.iter_mut().for_each(|v| *v = scale * v.max(floor).ln());
}

/// Bins 0, `m` and (for even `m`) `m/2`, which have no partner.
#[inline(always)]
fn edges(z: &[[f64; 2]], power: &mut [f64]) {
    let m = z.len();
    let [r, i] = z[0];
    power[0] = 4.0 * ((r + i) * (r + i));
    power[m] = 4.0 * ((r - i) * (r - i));
    if m.is_multiple_of(2) {
        // X[m/2] = conj Z[m/2].
        let [r, i] = z[m / 2];
        power[m / 2] = 4.0 * (r * r + i * i);
    }
}

/// `(4 |X[k]|^2, 4 |X[m-k]|^2)` from `a = Z[k]`, `b = Z[m-k]`, `W^k = c + i s`.
#[inline(always)]
fn pair_power(a: [f64; 2], b: [f64; 2], c: f64, s: f64) -> (f64, f64) {
    // 2E, 2O and 2 W^k O.
    let (er, ei) = (a[0] + b[0], a[1] - b[1]);
    let (or, oi) = (a[1] + b[1], b[0] - a[0]);
    let (pr, pi) = (c * or - s * oi, c * oi + s * or);
    let (xr, xi) = (er + pr, ei + pi);
    let (yr, yi) = (er - pr, ei - pi);
    (xr * xr + xi * xi, yr * yr + yi * yi)
}

/// Whether the AVX2 + FMA kernels run: the CPU has them (the answer is
/// cached by std) and `SORI_FEATURES_KERNEL` is not `portable`. That
/// variable (`portable`, or `auto`/empty for the default; read when an
/// extractor is made) lets every machine test the portable path against
/// the reference fixtures (`tests/kernels.rs`); another value panics naming
/// it, so a test run that asks for a path never silently gets the other.
pub(crate) fn has_avx2() -> bool {
    match std::env::var_os("SORI_FEATURES_KERNEL") {
        None => {}
        Some(v) if v.is_empty() || v == "auto" => {}
        Some(v) if v == "portable" => return false,
        Some(v) => panic!("SORI_FEATURES_KERNEL={v:?}: expected portable or auto"),
    }
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// [`first_non_finite`] with the fastest kernel this CPU runs.
pub(crate) fn find_non_finite(x: &[f32]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the features were just detected.
        return unsafe { avx2::first_non_finite(x) };
    }
    first_non_finite(x)
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2 {
    //! The same kernels with 256-bit vectors. Callers must have checked
    //! that the CPU has AVX2 and FMA (`is_x86_feature_detected!`).

    use std::arch::x86_64::*;

    /// Horizontal sum of four lanes.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn hsum(v: __m256d) -> f64 {
        let lo = _mm256_castpd256_pd128(v);
        let hi = _mm256_extractf128_pd::<1>(v);
        let s = _mm_add_pd(lo, hi);
        _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)))
    }

    /// See [`super::widen`].
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn widen(x: &[f32], out: &mut [f64]) -> (f64, f64) {
        let n = x.len();
        let out = &mut out[..n];
        let mut s = [_mm256_setzero_pd(); 2];
        let mut q = [_mm256_setzero_pd(); 2];
        let mut i = 0;
        while i + 8 <= n {
            // SAFETY: i + 8 <= n = x.len() = out.len().
            unsafe {
                let a = _mm256_cvtps_pd(_mm_loadu_ps(x.as_ptr().add(i)));
                let b = _mm256_cvtps_pd(_mm_loadu_ps(x.as_ptr().add(i + 4)));
                _mm256_storeu_pd(out.as_mut_ptr().add(i), a);
                _mm256_storeu_pd(out.as_mut_ptr().add(i + 4), b);
                s[0] = _mm256_add_pd(s[0], a);
                s[1] = _mm256_add_pd(s[1], b);
                q[0] = _mm256_fmadd_pd(a, a, q[0]);
                q[1] = _mm256_fmadd_pd(b, b, q[1]);
            }
            i += 8;
        }
        let (ts, tq) = super::widen(&x[i..], &mut out[i..]);
        (
            hsum(_mm256_add_pd(s[0], s[1])) + ts,
            hsum(_mm256_add_pd(q[0], q[1])) + tq,
        )
    }

    /// See [`super::first_non_finite`] (the same code; with AVX2 the
    /// unsigned max vectorises eight-wide).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn first_non_finite(x: &[f32]) -> Option<usize> {
        super::first_non_finite(x)
    }

    /// See [`super::emphasise_window`].
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn emphasise_window(x: &[f64], w: &[f64], k: f64, offset: f64, out: &mut [f64]) {
        let n = out.len();
        let (x, w) = (&x[..n], &w[..n]);
        if n < 5 {
            return super::emphasise_window(x, w, k, offset, out);
        }
        out[0] = (x[0] - k * x[0] - offset) * w[0];
        let (kv, ov) = (_mm256_set1_pd(k), _mm256_set1_pd(offset));
        // Four outputs i..i+4 read x[i-1..i+4]; i runs from 1.
        let mut i = 1;
        while i + 4 <= n {
            // SAFETY: i + 4 <= n bounds every load and the store; i >= 1.
            unsafe {
                let cur = _mm256_loadu_pd(x.as_ptr().add(i));
                let prev = _mm256_loadu_pd(x.as_ptr().add(i - 1));
                let y = _mm256_sub_pd(_mm256_fnmadd_pd(kv, prev, cur), ov);
                let y = _mm256_mul_pd(y, _mm256_loadu_pd(w.as_ptr().add(i)));
                _mm256_storeu_pd(out.as_mut_ptr().add(i), y);
            }
            i += 4;
        }
        for j in i..n {
            out[j] = (x[j] - k * x[j - 1] - offset) * w[j];
        }
    }

    /// See [`super::emphasise_window_f32`].
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn emphasise_window_f32(x: &[f32], w: &[f64], k: f64, offset: f64, out: &mut [f64]) {
        let n = out.len();
        let (x, w) = (&x[..n], &w[..n]);
        if n < 5 {
            return super::emphasise_window_f32(x, w, k, offset, out);
        }
        let x0 = x[0] as f64;
        out[0] = (x0 - k * x0 - offset) * w[0];
        let (kv, ov) = (_mm256_set1_pd(k), _mm256_set1_pd(offset));
        let mut i = 1;
        while i + 4 <= n {
            // SAFETY: i + 4 <= n bounds every load and the store; i >= 1.
            unsafe {
                let cur = _mm256_cvtps_pd(_mm_loadu_ps(x.as_ptr().add(i)));
                let prev = _mm256_cvtps_pd(_mm_loadu_ps(x.as_ptr().add(i - 1)));
                let y = _mm256_sub_pd(_mm256_fnmadd_pd(kv, prev, cur), ov);
                let y = _mm256_mul_pd(y, _mm256_loadu_pd(w.as_ptr().add(i)));
                _mm256_storeu_pd(out.as_mut_ptr().add(i), y);
            }
            i += 4;
        }
        for j in i..n {
            out[j] = (x[j] as f64 - k * x[j - 1] as f64 - offset) * w[j];
        }
    }

    /// See [`super::packed_power`]. Four bins `k..k+4` and their partners
    /// per step, with real and imaginary parts in separate registers.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn packed_power(z: &[[f64; 2]], tw: &super::Twiddles, power: &mut [f64]) {
        let m = z.len();
        let pairs = tw.len();
        assert!(m >= 2 && pairs <= (m - 1) / 2 && power.len() > m);
        assert_eq!(tw.blocks.len(), 2 * (pairs - pairs % 4));
        super::edges(z, power);
        let zp = z.as_ptr().cast::<f64>();
        let pp = power.as_mut_ptr();
        let mut k = 1;
        for w in tw.blocks.chunks_exact(8) {
            // SAFETY: k + 3 <= pairs <= (m-1)/2, so z[k..k+4] and
            // z[m-k-3..m-k+1] are in bounds and power[k..k+4],
            // power[m-k-3..m-k+1] too (power.len() > m); `w` has 8 values.
            unsafe {
                // Complex values j, j2 into the two halves of a register:
                // 128-bit loads and an insert, which stay off the shuffle port.
                let pair = |j: usize, j2: usize| {
                    _mm256_insertf128_pd::<1>(
                        _mm256_castpd128_pd256(_mm_loadu_pd(zp.add(2 * j))),
                        _mm_loadu_pd(zp.add(2 * j2)),
                    )
                };
                let (a0, a1) = (pair(k, k + 2), pair(k + 1, k + 3));
                let (b0, b1) = (pair(m - k, m - k - 2), pair(m - k - 1, m - k - 3));
                // Lanes k..k+4 and their partners m-k, m-k-1, m-k-2, m-k-3.
                let (ar, ai) = (_mm256_unpacklo_pd(a0, a1), _mm256_unpackhi_pd(a0, a1));
                let (br, bi) = (_mm256_unpacklo_pd(b0, b1), _mm256_unpackhi_pd(b0, b1));
                let (c, s) = (
                    _mm256_loadu_pd(w.as_ptr()),
                    _mm256_loadu_pd(w.as_ptr().add(4)),
                );
                // 2E, 2O and 2 W^k O.
                let (er, ei) = (_mm256_add_pd(ar, br), _mm256_sub_pd(ai, bi));
                let (or, oi) = (_mm256_add_pd(ai, bi), _mm256_sub_pd(br, ar));
                let pr = _mm256_fmsub_pd(c, or, _mm256_mul_pd(s, oi));
                let pi = _mm256_fmadd_pd(c, oi, _mm256_mul_pd(s, or));
                let (xr, xi) = (_mm256_add_pd(er, pr), _mm256_add_pd(ei, pi));
                let (yr, yi) = (_mm256_sub_pd(er, pr), _mm256_sub_pd(ei, pi));
                let px = _mm256_fmadd_pd(xr, xr, _mm256_mul_pd(xi, xi));
                let py = _mm256_fmadd_pd(yr, yr, _mm256_mul_pd(yi, yi));
                // Bins k..k+4, and m-k-3..m-k+1 reversed into ascending order.
                _mm256_storeu_pd(pp.add(k), px);
                _mm256_storeu_pd(
                    pp.add(m - k - 3),
                    _mm256_permute4x64_pd::<0b00_01_10_11>(py),
                );
            }
            k += 4;
        }
        for k in k..=pairs {
            let (p, q) =
                super::pair_power(z[k], z[m - k], tw.pairs[2 * k - 2], tw.pairs[2 * k - 1]);
            power[k] = p;
            power[m - k] = q;
        }
    }

    /// See [`super::log_floor`]: `ln(x) = e ln 2 + 2 atanh(s)` with
    /// `x = 2^e r`, `r` in `[sqrt(1/2), sqrt(2))`, `s = (r-1)/(r+1)`
    /// (`|s| < 0.172`) and the atanh series to `s^19`, whose next term is
    /// below 1e-16 of the sum. Inputs are positive normal numbers (the
    /// floor guarantees it for finite spectra).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn log_floor(x: &mut [f64], floor: f64, scale: f64) {
        let (floor_v, scale_v) = (_mm256_set1_pd(floor), _mm256_set1_pd(scale));
        let run = |v: __m256d| _mm256_mul_pd(ln(_mm256_max_pd(v, floor_v)), scale_v);
        let mut chunks = x.chunks_exact_mut(4);
        for c in &mut chunks {
            // SAFETY: `c` has four f64s.
            unsafe { _mm256_storeu_pd(c.as_mut_ptr(), run(_mm256_loadu_pd(c.as_ptr()))) };
        }
        let rest = chunks.into_remainder();
        if !rest.is_empty() {
            // Masked lanes load as 0, which the floor lifts to a valid input.
            let lanes: [i64; 4] = std::array::from_fn(|i| if i < rest.len() { -1 } else { 0 });
            // SAFETY: the mask touches only the first `rest.len()` elements.
            unsafe {
                let mask = _mm256_loadu_si256(lanes.as_ptr().cast());
                let v = run(_mm256_maskload_pd(rest.as_ptr(), mask));
                _mm256_maskstore_pd(rest.as_mut_ptr(), mask, v);
            }
        }
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn ln(x: __m256d) -> __m256d {
        let bits = _mm256_castpd_si256(x);
        // Biased exponent as f64 via the 2^52 trick (AVX2 has no i64 -> f64).
        let two52 = _mm256_set1_epi64x(0x4330_0000_0000_0000);
        let e = _mm256_or_si256(_mm256_srli_epi64::<52>(bits), two52);
        let e = _mm256_sub_pd(
            _mm256_castsi256_pd(e),
            _mm256_set1_pd(4_503_599_627_370_496.0 + 1023.0),
        );
        // Mantissa in [1, 2), then folded into [sqrt(1/2), sqrt(2)).
        let mant = _mm256_or_si256(
            _mm256_and_si256(bits, _mm256_set1_epi64x(0x000F_FFFF_FFFF_FFFF)),
            _mm256_set1_epi64x(0x3FF0_0000_0000_0000),
        );
        let r = _mm256_castsi256_pd(mant);
        let big = _mm256_cmp_pd::<_CMP_GT_OQ>(r, _mm256_set1_pd(std::f64::consts::SQRT_2));
        let r = _mm256_blendv_pd(r, _mm256_mul_pd(r, _mm256_set1_pd(0.5)), big);
        let e = _mm256_add_pd(e, _mm256_and_pd(big, _mm256_set1_pd(1.0)));
        let one = _mm256_set1_pd(1.0);
        let s = _mm256_div_pd(_mm256_sub_pd(r, one), _mm256_add_pd(r, one));
        let z = _mm256_mul_pd(s, s);
        // sum_{j=0..9} z^j / (2j+1), Horner from the top.
        let mut p = _mm256_set1_pd(1.0 / 19.0);
        for j in (0..9).rev() {
            p = _mm256_fmadd_pd(p, z, _mm256_set1_pd(1.0 / (2 * j + 1) as f64));
        }
        let two_s = _mm256_add_pd(s, s);
        _mm256_fmadd_pd(
            e,
            _mm256_set1_pd(std::f64::consts::LN_2),
            _mm256_mul_pd(two_s, p),
        )
    }

    /// Dot product of equal-length slices, FMA in two four-lane accumulators.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
        let n = a.len().min(b.len());
        let (mut s0, mut s1) = (_mm256_setzero_pd(), _mm256_setzero_pd());
        let mut i = 0;
        // SAFETY (all loads): i + 8 <= n or i + 4 <= n before each load.
        while i + 8 <= n {
            unsafe {
                s0 = _mm256_fmadd_pd(
                    _mm256_loadu_pd(a.as_ptr().add(i)),
                    _mm256_loadu_pd(b.as_ptr().add(i)),
                    s0,
                );
                s1 = _mm256_fmadd_pd(
                    _mm256_loadu_pd(a.as_ptr().add(i + 4)),
                    _mm256_loadu_pd(b.as_ptr().add(i + 4)),
                    s1,
                );
            }
            i += 8;
        }
        if i + 4 <= n {
            unsafe {
                s0 = _mm256_fmadd_pd(
                    _mm256_loadu_pd(a.as_ptr().add(i)),
                    _mm256_loadu_pd(b.as_ptr().add(i)),
                    s0,
                );
            }
            i += 4;
        }
        let mut tail = 0.0;
        for j in i..n {
            tail += a[j] * b[j];
        }
        hsum(_mm256_add_pd(s0, s1)) + tail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect()
    }

    /// Brute-force DFT power of a real signal.
    fn dft_power(x: &[f64]) -> Vec<f64> {
        let n = x.len();
        (0..=n / 2)
            .map(|k| {
                let (mut re, mut im) = (0.0, 0.0);
                for (j, &v) in x.iter().enumerate() {
                    let a = -2.0 * std::f64::consts::PI * (k * j % n) as f64 / n as f64;
                    re += v * a.cos();
                    im += v * a.sin();
                }
                re * re + im * im
            })
            .collect()
    }

    fn packed_fft(x: &[f64]) -> Vec<[f64; 2]> {
        let mut buf: Vec<rustfft::num_complex::Complex<f64>> = x
            .chunks_exact(2)
            .map(|p| rustfft::num_complex::Complex::new(p[0], p[1]))
            .collect();
        rustfft::FftPlanner::new()
            .plan_fft_forward(x.len() / 2)
            .process(&mut buf);
        buf.iter().map(|c| [c.re, c.im]).collect()
    }

    #[test]
    fn packed_power_matches_brute_force_dft() {
        for n in [
            4, 6, 8, 10, 12, 14, 18, 20, 26, 30, 34, 64, 100, 512, 550, 2048,
        ] {
            let x = noise(n, n as u64);
            let want: Vec<f64> = dft_power(&x).iter().map(|p| 4.0 * p).collect();
            let z = packed_fft(&x);
            let tw = Twiddles::new(n);
            let mut got = vec![f64::NAN; n / 2 + 1];
            packed_power(&z, &tw, &mut got);
            let scale = want.iter().cloned().fold(0.0, f64::max);
            for (k, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!((g - w).abs() <= 1e-12 * scale, "n {n} bin {k}: {g} vs {w}");
            }
            #[cfg(target_arch = "x86_64")]
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                let mut fast = vec![f64::NAN; n / 2 + 1];
                // SAFETY: the features were just detected.
                unsafe { avx2::packed_power(&z, &tw, &mut fast) };
                for (k, (f, w)) in fast.iter().zip(&want).enumerate() {
                    assert!(
                        (f - w).abs() <= 1e-12 * scale,
                        "avx2 n {n} bin {k}: {f} vs {w}"
                    );
                }
            }
        }
    }

    #[test]
    fn kernels_match_the_portable_versions() {
        for n in [0, 1, 3, 4, 5, 7, 8, 9, 17, 400, 401] {
            let x: Vec<f32> = noise(n, 7 + n as u64)
                .iter()
                .map(|&v| (v * 3e4) as f32)
                .collect();
            let w = noise(n, 99);
            let mut wide = vec![f64::NAN; n];
            let (s, q) = widen(&x, &mut wide);
            assert!(wide.iter().zip(&x).all(|(&a, &b)| a == b as f64));
            let (bs, bq) = x.iter().fold((0.0, 0.0), |(a, b), &v| {
                (a + v as f64, b + v as f64 * v as f64)
            });
            assert!((s - bs).abs() <= 1e-9 * bq.sqrt().max(1.0), "{n}: sum");
            assert!((q - bq).abs() <= 1e-12 * bq.max(1.0), "{n}: squares");
            let mut want = vec![0.0; n];
            emphasise_window(&wide, &w, 0.97, 12.5, &mut want);
            let mut from_f32 = vec![0.0; n];
            emphasise_window_f32(&x, &w, 0.97, 12.5, &mut from_f32);
            assert_eq!(from_f32, want);
            for i in 0..n {
                let prev = x[i.saturating_sub(1)] as f64;
                let v = (x[i] as f64 - 0.97 * prev - 12.5) * w[i];
                assert!((want[i] - v).abs() <= 1e-9, "{n}: emphasis {i}");
            }
            #[cfg(target_arch = "x86_64")]
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                // SAFETY: the features were just detected.
                let mut fast_wide = vec![f64::NAN; n];
                let (fs, fq) = unsafe { avx2::widen(&x, &mut fast_wide) };
                assert_eq!(fast_wide, wide);
                assert!((fs - s).abs() <= 1e-9 * bq.sqrt().max(1.0), "{n}: avx2 sum");
                assert!((fq - q).abs() <= 1e-12 * bq.max(1.0), "{n}: avx2 squares");
                let mut got = vec![0.0; n];
                unsafe { avx2::emphasise_window(&wide, &w, 0.97, 12.5, &mut got) };
                for i in 0..n {
                    assert!((got[i] - want[i]).abs() <= 1e-9, "{n}: avx2 emphasis {i}");
                }
                unsafe { avx2::emphasise_window_f32(&x, &w, 0.97, 12.5, &mut got) };
                for i in 0..n {
                    assert!(
                        (got[i] - want[i]).abs() <= 1e-9,
                        "{n}: avx2 f32 emphasis {i}"
                    );
                }
                let y = noise(n, 5);
                let d = unsafe { avx2::dot(&w, &y) };
                let bd: f64 = w.iter().zip(&y).map(|(a, b)| a * b).sum();
                assert!((d - bd).abs() <= 1e-12 * n.max(1) as f64, "{n}: avx2 dot");
            }
        }
    }

    #[test]
    fn finds_the_first_non_finite_value() {
        let clean: Vec<f32> = (0..5000).map(|i| i as f32 * 1e30).collect();
        assert_eq!(first_non_finite(&clean), None);
        for at in [0, 1, 1023, 1024, 1025, 4999] {
            for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                let mut x = clean.clone();
                x[at] = bad;
                x[4999.min(at + 3)] = f32::NAN;
                assert_eq!(first_non_finite(&x), Some(at));
                #[cfg(target_arch = "x86_64")]
                if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                    // SAFETY: the features were just detected.
                    assert_eq!(unsafe { avx2::first_non_finite(&x) }, Some(at));
                }
            }
        }
    }

    #[test]
    fn vector_log_matches_std() {
        let mut x: Vec<f64> = noise(2000, 3)
            .iter()
            .enumerate()
            .map(|(i, &u)| {
                10f64.powf(-12.0 + 24.0 * (u + 0.5)) * if i % 7 == 0 { 0.0 } else { 1.0 }
            })
            .collect();
        x.extend([
            1.0,
            1.0 + 1e-12,
            1.0 - 1e-12,
            2.0,
            0.5,
            std::f64::consts::SQRT_2,
            1e300,
        ]);
        let floor = f32::EPSILON as f64;
        for scale in [1.0, 10.0 / std::f64::consts::LN_10] {
            let mut want = x.clone();
            log_floor(&mut want, floor, scale);
            #[cfg(target_arch = "x86_64")]
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                for len in [x.len(), x.len() - 1, x.len() - 2, x.len() - 3, 3, 1] {
                    let mut got = x[..len].to_vec();
                    // SAFETY: the features were just detected.
                    unsafe { avx2::log_floor(&mut got, floor, scale) };
                    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                        let tol = 1e-15 * w.abs().max(1e-3);
                        assert!((g - w).abs() <= tol, "x {}: {g} vs {w}", x[i]);
                    }
                }
            }
        }
    }
}
