//! The floating-point types the CTC kernels run on, and fast `exp`/`ln`.
//!
//! The trellis recursions spend nearly all their time in `exp` and `ln`. The
//! standard library calls libm one value at a time, which the compiler cannot
//! vectorise, so for `f32` we evaluate both with short polynomials written
//! branch-free (range reduction by powers of two, then a Taylor series) that
//! LLVM turns into SIMD code. Their error is about one ulp, far below the
//! 1e-4 agreement the tests ask of the loss. `f64` keeps the libm versions:
//! it is the accuracy reference, not the fast path.
//!
//! "Minus infinity" inside the kernels is the finite sentinel [`Real::NEG`]:
//! `NEG - NEG` is 0 rather than NaN, so the log-sum-exp needs no branches.

/// A floating-point type the kernels are generic over (`f32` or `f64`).
pub trait Real:
    Copy
    + Send
    + Sync
    + PartialOrd
    + std::fmt::Debug
    + std::fmt::Display
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
    + std::ops::AddAssign
    + std::ops::SubAssign
    + 'static
{
    /// Finite stand-in for log(0) inside the kernels.
    const NEG: Self;
    /// Values at or below this are treated as log(0).
    const NEG_HALF: Self;
    const ZERO: Self;
    const ONE: Self;
    /// `exp(x)`, 0 for `x` below the underflow limit (fast polynomial for f32).
    fn fexp(self) -> Self;
    /// `ln(x)` for positive normal `x` (fast polynomial for f32).
    fn fln(self) -> Self;
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
    fn is_nan(self) -> bool;
    /// Larger of two values without NaN handling (compiles to one `max`).
    #[inline(always)]
    fn fmax(self, other: Self) -> Self {
        if self > other {
            self
        } else {
            other
        }
    }
    /// Branch-free minimum (NaN-free inputs), the twin of `fmax`.
    #[inline(always)]
    fn fmin(self, other: Self) -> Self {
        if self < other {
            self
        } else {
            other
        }
    }
}

impl Real for f32 {
    const NEG: f32 = -1.0e30;
    const NEG_HALF: f32 = -0.5e30;
    const ZERO: f32 = 0.0;
    const ONE: f32 = 1.0;
    #[inline(always)]
    fn fexp(self) -> f32 {
        exp_f32(self)
    }
    #[inline(always)]
    fn fln(self) -> f32 {
        ln_f32(self)
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn from_f64(v: f64) -> f32 {
        v as f32
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
}

impl Real for f64 {
    const NEG: f64 = -1.0e300;
    const NEG_HALF: f64 = -0.5e300;
    const ZERO: f64 = 0.0;
    const ONE: f64 = 1.0;
    #[inline(always)]
    fn fexp(self) -> f64 {
        self.exp()
    }
    #[inline(always)]
    fn fln(self) -> f64 {
        self.ln()
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn from_f64(v: f64) -> f64 {
        v
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
}

/// exp(x) for f32: x = k ln2 + r with |r| <= ln2/2, e^r by its degree-7
/// Taylor polynomial (truncation < 5e-9 relative), 2^k by building the
/// exponent bits. Inputs below -87 give 0, above 88 are clamped.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split so that k * LN2_HI is exact for |k| < 2^9.
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // 1.5 * 2^23: adding and subtracting it rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    let xc = if x > 88.0 { 88.0 } else { x };
    let xc = if xc < -87.0 { -87.0 } else { xc };
    let k = (xc * LOG2E + ROUND) - ROUND;
    let r = xc - k * LN2_HI - k * LN2_LO;
    let p = 1.0 / 5040.0;
    let p = p * r + 1.0 / 720.0;
    let p = p * r + 1.0 / 120.0;
    let p = p * r + 1.0 / 24.0;
    let p = p * r + 1.0 / 6.0;
    let p = p * r + 0.5;
    let p = p * r + 1.0;
    let p = p * r + 1.0;
    let scale = f32::from_bits(((k as i32 + 127) << 23) as u32);
    let y = p * scale;
    if x < -87.0 {
        0.0
    } else {
        y
    }
}

/// ln(x) for positive normal f32: x = 2^e m with m in [sqrt(1/2), sqrt(2)),
/// ln m = 2 atanh(s) with s = (m-1)/(m+1), |s| <= 0.172, summed to s^9
/// (truncation < 1e-9).
#[inline(always)]
pub fn ln_f32(x: f32) -> f32 {
    const SQRT_HALF_BITS: i32 = 0x3f35_04f3;
    const LN2: f32 = std::f32::consts::LN_2;
    let bits = x.to_bits() as i32;
    let shifted = bits - SQRT_HALF_BITS;
    let e = (shifted >> 23) as f32;
    let m = f32::from_bits(((shifted & 0x007f_ffff) + SQRT_HALF_BITS) as u32);
    let s = (m - 1.0) / (m + 1.0);
    let z = s * s;
    let p = 1.0 / 9.0;
    let p = p * z + 1.0 / 7.0;
    let p = p * z + 1.0 / 5.0;
    let p = p * z + 1.0 / 3.0;
    let p = p * z + 1.0;
    2.0 * s * p + e * LN2
}

/// Stable log(exp(a) + exp(b)) in f64 with libm (scalar paths).
#[inline]
pub fn log_add(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    hi + (lo - hi).exp().ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_matches_libm() {
        let mut worst = 0.0f64;
        let mut x = -86.5f32;
        while x < 88.0 {
            let want = (x as f64).exp();
            let got = exp_f32(x) as f64;
            worst = worst.max(((got - want) / want).abs());
            x += 0.0137;
        }
        assert!(worst < 4e-7, "worst relative error {worst}");
        assert_eq!(exp_f32(-100.0), 0.0);
        assert_eq!(exp_f32(-1.0e30), 0.0);
        assert_eq!(exp_f32(0.0), 1.0);
    }

    #[test]
    fn fast_ln_matches_libm() {
        let mut worst = 0.0f64;
        let mut x = 1.0e-30f32;
        while x < 1.0e30 {
            let want = (x as f64).ln();
            let got = ln_f32(x) as f64;
            worst = worst.max((got - want).abs() / want.abs().max(1e-3));
            x *= 1.0371;
        }
        for i in 0..20000 {
            let x = 1.0 + i as f32 * 1e-4;
            let want = (x as f64).ln();
            let got = ln_f32(x) as f64;
            assert!((got - want).abs() < 2e-7 * want.max(1e-3) + 1e-7, "{x}");
        }
        assert!(worst < 4e-7, "worst relative error {worst}");
        assert_eq!(ln_f32(1.0), 0.0);
    }

    #[test]
    fn log_add_is_stable() {
        assert_eq!(log_add(f64::NEG_INFINITY, -3.0), -3.0);
        assert!((log_add(-1000.0, -1000.0) - (-1000.0 + 2f64.ln())).abs() < 1e-12);
    }
}
