//! Y (and O) grids: a cloud of points given by 2-D latitude and longitude arrays.
//!
//! The inverse uses an R*-tree of unit vectors (so the antimeridian and the poles need no
//! special case), then refines inside the neighbouring cells by inverting the bilinear
//! interpolation in the tangent plane at the target point.

use std::sync::OnceLock;

use rstar::primitives::GeomWithData;
use rstar::RTree;

use crate::rotation::unit;

type Node = GeomWithData<[f64; 3], u32>;

/// A 2-D geolocated point set, i fastest.
#[derive(Debug)]
pub(crate) struct Cloud {
    pub(crate) ni: usize,
    pub(crate) nj: usize,
    pub(crate) lat: Vec<f64>,
    pub(crate) lon: Vec<f64>,
    tree: OnceLock<RTree<Node>>,
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// Straight-line distance between two unit vectors.
fn chord(a: [f64; 3], b: [f64; 3]) -> f64 {
    (a[0] - b[0]).hypot(a[1] - b[1]).hypot(a[2] - b[2])
}

fn normalize(a: [f64; 3]) -> [f64; 3] {
    let l = dot(a, a).sqrt();
    a.map(|c| c / l)
}

/// Solve bilinear `P(s,t) = 0` for a cell with corners p00, p10, p01, p11 (plane coordinates).
fn bilinear_inverse(p: [[f64; 2]; 4]) -> Option<(f64, f64)> {
    let [p00, p10, p01, p11] = p;
    let a = p00;
    let b = [p10[0] - p00[0], p10[1] - p00[1]];
    let c = [p01[0] - p00[0], p01[1] - p00[1]];
    let d = [
        p11[0] - p10[0] - p01[0] + p00[0],
        p11[1] - p10[1] - p01[1] + p00[1],
    ];
    let (mut s, mut t) = (0.5, 0.5);
    for _ in 0..30 {
        let f = [
            a[0] + b[0] * s + c[0] * t + d[0] * s * t,
            a[1] + b[1] * s + c[1] * t + d[1] * s * t,
        ];
        let j00 = b[0] + d[0] * t;
        let j10 = b[1] + d[1] * t;
        let j01 = c[0] + d[0] * s;
        let j11 = c[1] + d[1] * s;
        let det = j00 * j11 - j01 * j10;
        if det == 0.0 || !det.is_finite() {
            return None;
        }
        let ds = (f[0] * j11 - f[1] * j01) / det;
        let dt = (j00 * f[1] - j10 * f[0]) / det;
        s -= ds;
        t -= dt;
        if ds.abs() < 1e-13 && dt.abs() < 1e-13 {
            return Some((s, t));
        }
    }
    // Not converged: accept only a true solution. Newton can wander for targets far from the
    // cell, and an unconverged iterate inside [0, 1]² would put a distant point in this cell.
    let f = [
        a[0] + b[0] * s + c[0] * t + d[0] * s * t,
        a[1] + b[1] * s + c[1] * t + d[1] * s * t,
    ];
    let scale = b[0].hypot(b[1]) + c[0].hypot(c[1]);
    (s.is_finite() && t.is_finite() && (f[0].hypot(f[1]) <= 1e-9 * scale)).then_some((s, t))
}

impl Cloud {
    pub(crate) fn new(ni: usize, nj: usize, lat: Vec<f64>, lon: Vec<f64>) -> Self {
        Cloud {
            ni,
            nj,
            lat,
            lon,
            tree: OnceLock::new(),
        }
    }

    fn xyz(&self, k: usize) -> [f64; 3] {
        unit(self.lat[k], self.lon[k])
    }

    fn tree(&self) -> &RTree<Node> {
        self.tree.get_or_init(|| {
            let nodes = (0..self.lat.len())
                .map(|k| Node::new(self.xyz(k), k as u32))
                .collect();
            RTree::bulk_load(nodes)
        })
    }

    /// Fractional (i, j), 0-based, of a geographic point, or `None` when it is outside.
    pub(crate) fn index_of(&self, lat: f64, lon: f64) -> Option<(f64, f64)> {
        if !(lat.is_finite() && lon.is_finite()) {
            return None;
        }
        let q = unit(lat, lon);
        let nn = self.tree().nearest_neighbor(&q)?;
        let k = nn.data as usize;
        let (i0, j0) = (k % self.ni, k / self.ni);
        if *nn.geom() == q {
            return Some((i0 as f64, j0 as f64));
        }
        if self.ni < 2 || self.nj < 2 {
            return None;
        }
        // Tangent-plane (gnomonic) coordinates centred on the target.
        let east = {
            let e = cross([0.0, 0.0, 1.0], q);
            if dot(e, e) < 1e-20 {
                [0.0, 1.0, 0.0]
            } else {
                normalize(e)
            }
        };
        let north = cross(q, east);
        let plane = |k: usize| -> Option<[f64; 2]> {
            let p = self.xyz(k);
            let d = dot(p, q);
            (d > 1e-6).then(|| [dot(p, east) / d, dot(p, north) / d])
        };
        let mut fallback = None;
        let i_lo = i0.saturating_sub(1);
        let j_lo = j0.saturating_sub(1);
        for cj in j_lo..=j0.min(self.nj - 2) {
            for ci in i_lo..=i0.min(self.ni - 2) {
                let at = |i: usize, j: usize| plane(i + j * self.ni);
                let (Some(a), Some(b), Some(c), Some(d)) = (
                    at(ci, cj),
                    at(ci + 1, cj),
                    at(ci, cj + 1),
                    at(ci + 1, cj + 1),
                ) else {
                    continue;
                };
                let Some((s, t)) = bilinear_inverse([a, b, c, d]) else {
                    continue;
                };
                let (fi, fj) = (ci as f64 + s, cj as f64 + t);
                let eps = 1e-9;
                if (-eps..=1.0 + eps).contains(&s) && (-eps..=1.0 + eps).contains(&t) {
                    return Some((fi, fj));
                }
                // Beyond the outermost cells, accept up to half a cell of extrapolation, for
                // targets near the cell only: seen from a distant target the cell projects
                // huge in the tangent plane, and "half a cell" there would reach it.
                let inside = |x: f64, n: usize| (-0.5..=n as f64 - 0.5).contains(&x);
                let near = {
                    let x = |i: usize, j: usize| self.xyz(i + j * self.ni);
                    let diag = chord(x(ci, cj), x(ci + 1, cj + 1))
                        .max(chord(x(ci + 1, cj), x(ci, cj + 1)));
                    chord(q, self.xyz(k)) <= diag
                };
                if near
                    && (-0.5..=1.5).contains(&s)
                    && (-0.5..=1.5).contains(&t)
                    && inside(fi, self.ni)
                    && inside(fj, self.nj)
                    && (fi < 0.0
                        || fj < 0.0
                        || fi > (self.ni - 1) as f64
                        || fj > (self.nj - 1) as f64)
                {
                    fallback = Some((fi, fj));
                }
            }
        }
        fallback
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bilinear_unit_square() {
        let (s, t) =
            bilinear_inverse([[-0.25, -0.5], [0.75, -0.5], [-0.25, 0.5], [0.75, 0.5]]).unwrap();
        assert!((s - 0.25).abs() < 1e-12 && (t - 0.5).abs() < 1e-12);
    }
}
