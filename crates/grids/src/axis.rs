//! One coordinate axis of a grid that is rectilinear in its CRS.

use std::sync::Arc;

/// Values of one axis, in CRS units (degrees or metres), one per grid index.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Axis {
    /// `start + k·step` for k = 0..n.
    Uniform { start: f64, step: f64, n: usize },
    /// Strictly monotonic values (increasing or decreasing).
    Explicit(Arc<[f64]>),
}

/// Relative tolerance under which an axis read from float32 positional records counts as
/// evenly spaced: float32 keeps about 7 digits, so a uniform axis written by GEM or rpnpy
/// deviates from a straight line by a few 1e-7 of its magnitude.
const UNIFORM_REL_TOL: f64 = 1e-6;

impl Axis {
    pub(crate) fn uniform(start: f64, step: f64, n: usize) -> Self {
        Axis::Uniform { start, step, n }
    }

    /// An axis from explicit values. It becomes [`Axis::Uniform`] (a least-deviation fit
    /// through the end points) when the values are evenly spaced to float32 precision, so that
    /// the grid gets an affine transform and the analytic inverse. Returns `None` when the
    /// values are not strictly monotonic or not finite.
    pub(crate) fn from_values(v: &[f64]) -> Option<Self> {
        let n = v.len();
        if v.iter().any(|x| !x.is_finite()) {
            return None;
        }
        if n < 2 {
            return v.first().map(|&s| Axis::Uniform {
                start: s,
                step: 1.0,
                n,
            });
        }
        let inc = v[1] > v[0];
        if !v
            .windows(2)
            .all(|w| if inc { w[1] > w[0] } else { w[1] < w[0] })
        {
            return None;
        }
        let start = v[0];
        let step = (v[n - 1] - v[0]) / (n - 1) as f64;
        let mag = v.iter().fold(step.abs(), |m, x| m.max(x.abs()));
        let dev = v.iter().enumerate().fold(0.0_f64, |m, (k, &x)| {
            m.max((x - (start + k as f64 * step)).abs())
        });
        if dev <= UNIFORM_REL_TOL * mag.max(step.abs()) && dev <= 1e-3 * step.abs() {
            Some(Axis::Uniform { start, step, n })
        } else {
            Some(Axis::Explicit(v.into()))
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Axis::Uniform { n, .. } => *n,
            Axis::Explicit(v) => v.len(),
        }
    }

    pub(crate) fn value(&self, k: usize) -> f64 {
        match self {
            Axis::Uniform { start, step, .. } => start + k as f64 * step,
            Axis::Explicit(v) => v.get(k).copied().unwrap_or(f64::NAN),
        }
    }

    pub(crate) fn values(&self) -> Vec<f64> {
        (0..self.len()).map(|k| self.value(k)).collect()
    }

    /// Coordinate at fractional index `f` (linear between points, extrapolated outside).
    pub(crate) fn value_at(&self, f: f64) -> f64 {
        match self {
            Axis::Uniform { start, step, .. } => start + f * step,
            Axis::Explicit(v) => {
                let n = v.len();
                if n < 2 {
                    return v.first().copied().unwrap_or(f64::NAN);
                }
                let k = (f.floor().max(0.0) as usize).min(n - 2);
                v[k] + (f - k as f64) * (v[k + 1] - v[k])
            }
        }
    }

    pub(crate) fn first(&self) -> f64 {
        self.value(0)
    }

    pub(crate) fn last(&self) -> f64 {
        self.value(self.len().saturating_sub(1))
    }

    /// `a + b·x` applied to every value (a uniform axis stays uniform).
    pub(crate) fn affine(&self, a: f64, b: f64) -> Self {
        match self {
            Axis::Uniform { start, step, n } => Axis::Uniform {
                start: a + b * start,
                step: b * step,
                n: *n,
            },
            Axis::Explicit(v) => Axis::Explicit(v.iter().map(|x| a + b * x).collect()),
        }
    }

    /// Values `off..off+len`, or `None` when that range is not inside the axis.
    pub(crate) fn slice(&self, off: usize, len: usize) -> Option<Self> {
        let end = off.checked_add(len)?;
        if end > self.len() || len == 0 {
            return None;
        }
        Some(match self {
            Axis::Uniform { start, step, .. } => Axis::Uniform {
                start: start + off as f64 * step,
                step: *step,
                n: len,
            },
            Axis::Explicit(v) => Axis::Explicit(v.get(off..end)?.into()),
        })
    }

    /// Fractional index of coordinate `x` (linear between points, extrapolated with the end
    /// spacing outside). NaN in, NaN out.
    pub(crate) fn locate(&self, x: f64) -> f64 {
        match self {
            Axis::Uniform { start, step, .. } => (x - start) / step,
            Axis::Explicit(v) => locate_explicit(v, x),
        }
    }
}

fn locate_explicit(v: &[f64], x: f64) -> f64 {
    let n = v.len();
    if n < 2 || x.is_nan() {
        return if n == 1 && v[0] == x { 0.0 } else { f64::NAN };
    }
    let inc = v[1] > v[0];
    let beyond = |a: f64| if inc { a > x } else { a < x };
    // First k with v[k] beyond x, in the axis direction. Most explicit axes (Gaussian
    // latitudes, gently stretched Z axes) are nearly uniform: start from the uniform guess and
    // walk a few steps; fall back to bisection when the guess is far off.
    let guess = ((x - v[0]) / (v[n - 1] - v[0]) * (n - 1) as f64).clamp(0.0, (n - 1) as f64);
    let mut k = guess as usize + 1;
    let mut steps = 0;
    while k > 0 && k <= n && steps < 8 {
        let after_ok = k == n || beyond(v[k]);
        let before_ok = !beyond(v[k - 1]);
        if after_ok && before_ok {
            break;
        }
        k = if after_ok { k - 1 } else { k + 1 };
        steps += 1;
    }
    if steps == 8 || k == 0 || k > n {
        k = v.partition_point(|&a| !beyond(a));
    }
    let k = k.clamp(1, n - 1);
    let (a, b) = (v[k - 1], v[k]);
    (k - 1) as f64 + (x - a) / (b - a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_and_locate() {
        let v: Vec<f64> = (0..10)
            .map(|k| f64::from(104.36129_f32 + 0.25 * k as f32))
            .collect();
        assert!(matches!(Axis::from_values(&v), Some(Axis::Uniform { .. })));
        let s = [1.0, 2.0, 4.0, 8.0];
        let a = Axis::from_values(&s).unwrap();
        assert!(matches!(a, Axis::Explicit(_)));
        assert_eq!(a.locate(3.0), 1.5);
        assert_eq!(a.locate(8.0), 3.0);
        assert_eq!(a.locate(10.0), 3.5);
        assert_eq!(a.locate(0.5), -0.5);
        let d = Axis::from_values(&[8.0, 4.0, 2.0, 1.0]).unwrap();
        assert_eq!(d.locate(3.0), 1.5);
        assert!(Axis::from_values(&[1.0, 1.0, 2.0]).is_none());
        // The guessed walk and plain bisection agree everywhere, for strongly stretched axes
        // too.
        let st: Vec<f64> = (0..50).map(|k| f64::from(k).powi(3)).collect();
        let a = Axis::from_values(&st).unwrap();
        for q in 0..2000 {
            let x = -10.0 + f64::from(q) * 0.07 * 1000.0 / 2000.0 * 125.0 / 3.5;
            let k = st.partition_point(|&a| a <= x).clamp(1, 49);
            let want = (k - 1) as f64 + (x - st[k - 1]) / (st[k] - st[k - 1]);
            assert!((a.locate(x) - want).abs() < 1e-12, "{x}");
        }
    }
}
