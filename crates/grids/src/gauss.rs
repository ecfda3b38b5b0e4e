//! Gaussian latitudes: the roots of the Legendre polynomial Pₙ (`docs/grids.md` §2.2).
//!
//! Computed in f64 with Newton's method from the Abramowitz & Stegun 22.16.6 first guess.
//! librmn iterates in float32 (tolerance 1e-6), so it is up to ~2e-4° off on the row next to
//! the pole of large grids; ours are accurate to about 1e-13°.

/// The n Gaussian latitudes in degrees, ascending (south to north).
#[must_use]
pub fn gaussian_latitudes(n: usize) -> Vec<f64> {
    let mut lat = vec![0.0; n];
    let nf = n as f64;
    let half = n / 2;
    for k in 1..=half {
        let theta = (4.0 * k as f64 - 1.0) * std::f64::consts::PI / (4.0 * nf + 2.0);
        let mut x = (theta + 1.0 / (8.0 * nf * nf * theta.tan())).cos();
        for _ in 0..100 {
            let (p, dp) = legendre(n, x);
            let dx = p / dp;
            x -= dx;
            if dx.abs() < 1e-16 {
                break;
            }
        }
        let l = x.asin().to_degrees();
        // k = 1 is the root closest to +1: the northernmost latitude.
        lat[n - k] = l;
        lat[k - 1] = -l;
    }
    if n % 2 == 1 {
        lat[half] = 0.0;
    }
    lat
}

/// Pₙ(x) and Pₙ′(x) by the three-term recurrence.
fn legendre(n: usize, x: f64) -> (f64, f64) {
    let (mut p0, mut p1) = (1.0, x);
    for m in 1..n {
        let mf = m as f64;
        let p2 = ((2.0 * mf + 1.0) * x * p1 - mf * p0) / (mf + 1.0);
        p0 = p1;
        p1 = p2;
    }
    let nf = n as f64;
    let dp = nf * (x * p1 - p0) / (x * x - 1.0);
    (p1, dp)
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
    }
}
