//! The benchmark grids: the same six 2,000,000-point grids as `bench_librmn.py`'s
//! `bench_synthetic` (defGrid_L / G / PS / E / ZE / YY), so the timings compare directly.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::doc_markdown,
    clippy::missing_panics_doc,
    clippy::must_use_candidate
)]

use std::sync::Arc;

use grids::params::{LatLonParams, PolarParams, RotatedParams};
use grids::{GridDescriptor, Positional};

pub fn bench_grids() -> Vec<(&'static str, GridDescriptor)> {
    let rot = RotatedParams {
        xlat1: 45.0,
        xlon1: -100.0,
        xlat2: 45.0,
        xlon2: -90.0,
    };
    let e_ig = rot.encode().unwrap();
    // Axes as GEM/rpnpy write them: float32 values.
    let f32v = |v: f64| f64::from(v as f32);
    let ax: Arc<[f64]> = (0..2000).map(|i| f32v(200.0 + 0.025 * i as f64)).collect();
    let ay: Arc<[f64]> = (0..1000).map(|j| f32v(-10.0 + 0.025 * j as f64)).collect();
    vec![
        (
            "L",
            GridDescriptor::simple(
                b'L',
                2000,
                1000,
                LatLonParams {
                    lat0: -89.91,
                    lon0: 0.0,
                    dlat: 0.18,
                    dlon: 0.18,
                }
                .encode()
                .unwrap(),
            ),
        ),
        ("G", GridDescriptor::simple(b'G', 2000, 1000, [0, 0, 0, 0])),
        (
            "N",
            GridDescriptor::simple(
                b'N',
                2000,
                1000,
                PolarParams {
                    north: true,
                    pi: 1000.0,
                    pj: 500.0,
                    d60: 10_000.0,
                    dgrw: 350.0,
                }
                .encode()
                .unwrap(),
            ),
        ),
        ("E", GridDescriptor::simple(b'E', 2000, 1000, e_ig)),
        (
            "Z->E",
            GridDescriptor::with_positional(
                b'Z',
                2000,
                1000,
                [1, 2, 3, 0],
                Positional {
                    grtyp: b'E',
                    ig: e_ig,
                    x: ax,
                    y: ay,
                },
            ),
        ),
        ("U", yin_yang(398, 2.0)),
    ]
}

/// GEM's Yin-Yang geometry as rpnpy's defGrid_YY builds it.
pub fn yin_yang(nj: usize, ovl: f64) -> GridDescriptor {
    let ni = 3 * (nj - 1) + 1;
    let (x0, x1) = (45.0 - 3.0 * ovl, 315.0 + 3.0 * ovl);
    let (y0, y1) = (-45.0 - ovl, 45.0 + ovl);
    let ax: Vec<f64> = (0..ni)
        .map(|i| x0 + (x1 - x0) * i as f64 / (ni - 1) as f64)
        .collect();
    let ay: Vec<f64> = (0..nj)
        .map(|j| y0 + (y1 - y0) * j as f64 / (nj - 1) as f64)
        .collect();
    let mut v = vec![70.0, 1.0, 2.0, 1.0, 1.0];
    for r in [[0.0, 180.0, 0.0, 270.0], [0.0, 0.0, 90.0, 0.0]] {
        v.extend([ni as f64, nj as f64, ax[0], ax[ni - 1], ay[0], ay[nj - 1]]);
        v.extend(r);
        v.extend(&ax);
        v.extend(&ay);
    }
    GridDescriptor::with_positional(
        b'U',
        ni as u32,
        2 * nj as u32,
        [4, 5, 6, 0],
        Positional {
            grtyp: b'F',
            ig: [1, 0, 0, 0],
            x: v.into(),
            y: Arc::from(Vec::new()),
        },
    )
}

/// A 256×256 tile's worth of query points covering (part of) a grid: a lat/lon lattice over
/// the grid's own extent, so most points fall inside.
pub fn tile_points(lat: &[f64], lon: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = 256;
    let step = (lat.len() / (n * n)).max(1);
    let mut la = Vec::with_capacity(n * n);
    let mut lo = Vec::with_capacity(n * n);
    for k in 0..n * n {
        let q = (k * step + k / 7) % lat.len();
        la.push(lat[q] + 0.001);
        lo.push(lon[q] - 0.001);
    }
    (lo, la)
}
