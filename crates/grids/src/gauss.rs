//! Gaussian latitudes: the roots of the Legendre polynomial Pₙ (`docs/grids.md` §2.2).
//!
//! Computed in f64 with Newton's method from the Abramowitz & Stegun 22.16.6 first guess.
//! librmn iterates in float32 (tolerance 1e-6), so it is up to ~2e-4° off on the row next to
//! the pole of large grids; ours are accurate to about 1e-13°.

/// Roots refined together: the recurrence runs over a block of roots at once, which the
/// compiler vectorises.
const BLOCK: usize = 8;

/// The n Gaussian latitudes in degrees, ascending (south to north).
///
/// ```
/// let l = grids::gaussian_latitudes(3);
/// assert_eq!(l[1], 0.0);
/// assert!((l[2] - 0.6_f64.sqrt().asin().to_degrees()).abs() < 1e-12); // root of P3: √(3/5)
/// ```
#[must_use]
pub fn gaussian_latitudes(n: usize) -> Vec<f64> {
    let mut lat = vec![0.0; n];
    let nf = n as f64;
    let half = n / 2;
    // Recurrence coefficients (2m+1)/(m+1) and m/(m+1), computed once.
    let a: Vec<f64> = (1..n)
        .map(|m| (2.0 * m as f64 + 1.0) / (m as f64 + 1.0))
        .collect();
    let b: Vec<f64> = (1..n).map(|m| m as f64 / (m as f64 + 1.0)).collect();
    let mut k0 = 1;
    while k0 <= half {
        let mut x = [0.5; BLOCK];
        let cnt = BLOCK.min(half + 1 - k0);
        for (l, xl) in x.iter_mut().enumerate().take(cnt) {
            let theta = (4.0 * (k0 + l) as f64 - 1.0) * std::f64::consts::PI / (4.0 * nf + 2.0);
            *xl = (theta + 1.0 / (8.0 * nf * nf * theta.tan())).cos();
        }
        // The first guess is good to O(n⁻⁴); Newton doubles the digits each time, so a few
        // steps reach full precision. Stop when the whole block has converged.
        for _ in 0..8 {
            let (p, p_prev) = legendre_block(&x, &a, &b);
            let mut worst = 0.0_f64;
            for l in 0..BLOCK {
                let dp = nf * (x[l] * p[l] - p_prev[l]) / (x[l] * x[l] - 1.0);
                let dx = p[l] / dp;
                if l < cnt {
                    x[l] -= dx;
                    worst = worst.max(dx.abs());
                }
            }
            if worst < 1e-15 {
                break;
            }
        }
        for (l, &xl) in x.iter().enumerate().take(cnt) {
            let k = k0 + l;
            let v = xl.asin().to_degrees();
            // k = 1 is the root closest to +1: the northernmost latitude.
            lat[n - k] = v;
            lat[k - 1] = -v;
        }
        k0 += BLOCK;
    }
    if n % 2 == 1 {
        lat[half] = 0.0;
    }
    lat
}

/// Pₙ and Pₙ₋₁ at a block of points, by the three-term recurrence.
fn legendre_block(x: &[f64; BLOCK], a: &[f64], b: &[f64]) -> ([f64; BLOCK], [f64; BLOCK]) {
    let mut p0 = [1.0; BLOCK];
    let mut p1 = *x;
    for (&am, &bm) in a.iter().zip(b) {
        for l in 0..BLOCK {
            let p2 = am * x[l] * p1[l] - bm * p0[l];
            p0[l] = p1[l];
            p1[l] = p2;
        }
    }
    (p1, p0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_orders() {
        // P2 roots: ±1/√3.
        let l = gaussian_latitudes(2);
        let e = (1.0_f64 / 3.0_f64.sqrt()).asin().to_degrees();
        assert!((l[1] - e).abs() < 1e-12 && (l[0] + e).abs() < 1e-12);
        let l = gaussian_latitudes(3);
        assert_eq!(l[1], 0.0);
        assert!((l[2] - (0.6_f64.sqrt()).asin().to_degrees()).abs() < 1e-12);
        let l = gaussian_latitudes(640);
        assert!(l.windows(2).all(|w| w[0] < w[1]));
        // Against a plain one-root-at-a-time Newton iteration.
        for n in [1, 2, 5, 16, 33, 640, 1000] {
            let l = gaussian_latitudes(n);
            for (k, &v) in l.iter().enumerate().filter(|(_, v)| **v > 0.0) {
                let mut x = v.to_radians().sin();
                for _ in 0..5 {
                    let (mut p0, mut p1) = (1.0, x);
                    for m in 1..n {
                        let mf = m as f64;
                        let p2 = ((2.0 * mf + 1.0) * x * p1 - mf * p0) / (mf + 1.0);
                        p0 = p1;
                        p1 = p2;
                    }
                    x -= p1 / (n as f64 * (x * p1 - p0) / (x * x - 1.0));
                }
                assert!((x.asin().to_degrees() - v).abs() < 1e-11, "n={n} k={k}");
            }
        }
    }
}
