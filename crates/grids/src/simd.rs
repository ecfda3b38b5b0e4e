//! Branch-free f64 math for the vectorised kernels: `atan2`, `sin`/`cos` of degrees, `floor`
//! and the [0, 360) wrap, written as straight-line arithmetic and selects so that the compiler
//! turns loops over them into SIMD code (see [`crate::kernels`]). No `unsafe` here: the
//! instruction-set dispatch is done by `multiversion` on the kernels.
//!
//! Accuracy (checked against `std` in the tests below): a few ulp, i.e. ≲ 1e-15 relative,
//! which is far below the crate's 1e-9° round-trip needs.

// `inline(always)` is the point of this module: the kernels only vectorise when these bodies
// are inlined into their multiversioned loops.
#![allow(clippy::inline_always)]

use std::f64::consts::{FRAC_PI_2, FRAC_PI_4, PI};

/// tan(π/8): below it atan's series converges fast; above it we use
/// atan(a) = π/4 + atan((a − 1)/(a + 1)).
const TAN_PI_8: f64 = 0.414_213_562_373_095_03;

/// atan(t) = t + t·t²·P(t²) on |t| ≤ tan(π/8): a least-squares fit of degree 9 on Chebyshev
/// nodes, relative error 5e-16 (fitted for this crate with numpy, see the README).
const ATAN_P: [f64; 10] = [
    -0.333_333_333_333_325_27,
    0.199_999_999_996_881_42,
    -0.142_857_142_490_028_9,
    0.111_111_089_968_935_76,
    -0.090_908_398_183_239_26,
    0.076_909_129_548_509_62,
    -0.066_487_320_654_106_1,
    0.057_335_853_542_587_856,
    -0.044_805_527_410_247_556,
    0.022_774_571_476_700_787,
];

#[inline(always)]
fn horner(x: f64, c: &[f64]) -> f64 {
    let mut acc = 0.0;
    for &k in c.iter().rev() {
        acc = acc * x + k;
    }
    acc
}

/// `y.atan2(x)` in radians, branch-free. atan2(0, 0) = 0.
#[inline(always)]
pub(crate) fn atan2(y: f64, x: f64) -> f64 {
    let (ax, ay) = (x.abs(), y.abs());
    let mx = if ax > ay { ax } else { ay };
    let mn = if ax > ay { ay } else { ax };
    let big = mn > TAN_PI_8 * mx;
    // One division either way: mn/mx, or (mn − mx)/(mn + mx) = (a − 1)/(a + 1).
    let num = if big { mn - mx } else { mn };
    let den = if big { mn + mx } else { mx };
    let den = if den == 0.0 { 1.0 } else { den };
    let t = num / den;
    let t2 = t * t;
    let mut r = t + t * t2 * horner(t2, &ATAN_P);
    r += if big { FRAC_PI_4 } else { 0.0 };
    r = if ay > ax { FRAC_PI_2 - r } else { r };
    r = if x < 0.0 { PI - r } else { r };
    r.copysign(y)
}

/// Largest integer ≤ x (exact for |x| < 2⁵²), branch-free.
#[inline(always)]
pub(crate) fn floor(x: f64) -> f64 {
    // f64::floor is a single instruction with SSE4.1 and wider, and a libm call without.
    x.floor()
}

/// x brought into [0, 360).
#[inline(always)]
pub(crate) fn wrap360(x: f64) -> f64 {
    // A multiplication instead of a division (divisions dominate these kernels); the two
    // selects repair the rare case where the rounded product lands on the other side of an
    // integer.
    let w = x - 360.0 * floor(x * (1.0 / 360.0));
    let w = if w < 0.0 { w + 360.0 } else { w };
    if w >= 360.0 {
        w - 360.0
    } else {
        w
    }
}

const DEG: f64 = PI / 180.0;

/// Taylor coefficients of sin (r³ … r¹⁵) and cos (r² … r¹⁶): on |r| ≤ π/4 the first omitted
/// terms are below 5e-17.
const SIN_C: [f64; 7] = [
    -1.0 / 6.0,
    1.0 / 120.0,
    -1.0 / 5040.0,
    1.0 / 362_880.0,
    -1.0 / 39_916_800.0,
    1.0 / 6_227_020_800.0,
    -1.0 / 1_307_674_368_000.0,
];
const COS_C: [f64; 8] = [
    -0.5,
    1.0 / 24.0,
    -1.0 / 720.0,
    1.0 / 40_320.0,
    -1.0 / 3_628_800.0,
    1.0 / 479_001_600.0,
    -1.0 / 87_178_291_200.0,
    1.0 / 20_922_789_888_000.0,
];

/// (sin, cos) of an angle in degrees, branch-free. The reduction to [−45°, 45°] is done in
/// degrees, where it is exact, before converting to radians.
#[inline(always)]
pub(crate) fn sin_cos_deg(x: f64) -> (f64, f64) {
    let q = floor(x / 90.0 + 0.5);
    let r = (x - q * 90.0) * DEG;
    let r2 = r * r;
    let s = r + r * r2 * horner(r2, &SIN_C);
    let c = 1.0 + r2 * horner(r2, &COS_C);
    let quad = q - 4.0 * floor(q * 0.25);
    let swap = quad == 1.0 || quad == 3.0;
    let (ss, cc) = if swap { (c, s) } else { (s, c) };
    let sin = if quad >= 2.0 { -ss } else { ss };
    let cos = if quad == 1.0 || quad == 2.0 { -cc } else { cc };
    (sin, cos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn atan2_matches_std(y in -1e3..1e3_f64, x in -1e3..1e3_f64) {
            let (a, b) = (atan2(y, x), y.atan2(x));
            prop_assert!((a - b).abs() <= 4.0 * f64::EPSILON * b.abs().max(1e-300), "{y} {x}: {a} {b}");
        }

        #[test]
        fn atan2_tiny_ratios(y in -1e-8..1e-8_f64, x in prop::sample::select(vec![-1.0, 1.0, 3e5])) {
            let (a, b) = (atan2(y, x), y.atan2(x));
            prop_assert!((a - b).abs() <= 4.0 * f64::EPSILON * b.abs(), "{y} {x}: {a} {b}");
            let (a, b) = (atan2(x, y), x.atan2(y));
            prop_assert!((a - b).abs() <= 4.0 * f64::EPSILON * b.abs(), "{y} {x}: {a} {b}");
        }

        #[test]
        fn wrap360_in_range(x in -1e6..1e6_f64, k in -5i32..5) {
            for v in [x, f64::from(k) * 360.0, f64::from(k) * 360.0 - 1e-13, f64::from(k) * 360.0 + 1e-13] {
                let w = wrap360(v);
                prop_assert!((0.0..360.0).contains(&w), "{v} -> {w}");
                let d = (w - v) / 360.0;
                prop_assert!((d - d.round()).abs() < 1e-9, "{v} -> {w}");
            }
        }

        #[test]
        fn sin_cos_match_std(x in -1000.0..1000.0_f64) {
            let (s, c) = sin_cos_deg(x);
            let (s0, c0) = x.to_radians().sin_cos();
            // std converts to radians first, which costs it about |x|·π/180 ulp; we reduce in
            // degrees, exactly, so the tolerance is the reference's error.
            let tol = 4e-16 * (4.0 + x.abs() / 45.0);
            prop_assert!((s - s0).abs() <= tol && (c - c0).abs() <= tol, "{x}: {s} {c} vs {s0} {c0}");
        }
    }

    #[test]
    fn special_values() {
        assert_eq!(atan2(0.0, 0.0), 0.0);
        assert_eq!(atan2(0.0, 1.0), 0.0);
        assert!((atan2(1.0, 0.0) - FRAC_PI_2).abs() < 1e-16);
        assert!((atan2(0.0, -1.0) - PI).abs() < 1e-15);
        assert!((atan2(-1.0, -1.0) + 3.0 * FRAC_PI_4).abs() < 1e-15);
        assert_eq!(sin_cos_deg(90.0), (1.0, 0.0));
        assert_eq!(sin_cos_deg(-180.0).1, -1.0);
        assert_eq!(wrap360(-1e-20), 0.0);
        assert_eq!(wrap360(360.0), 0.0);
    }
}
