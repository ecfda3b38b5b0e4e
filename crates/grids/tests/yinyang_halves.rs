//! Where a Yin-Yang (U) grid's halves overlap, the half librmn 19.5 takes for a point:
//! `gdxyfll` (and so `gdllsval`, the point values) and `ezsint` (regridding, what a map
//! tile is). `tests/data/yinyang_halves.bin` was written by
//! `tests/data/make_yinyang_halves.py` (see there) on the U record of grids.fst: 1 500
//! points of the overlap and 500 anywhere.
#![allow(clippy::unwrap_used, clippy::panic, clippy::float_cmp)]

mod common;

use common::Manifest;
use grids::{Grid, GridOptions};

struct Point {
    lat: f64,
    lon: f64,
    /// librmn's `gdxyfll`: 1-based x, y (Yang rows after Yin's).
    x: f64,
    y: f64,
    /// `ezsint` nearest of 0 on Yin, 1 on Yang.
    ezsint_yang: bool,
}

fn points() -> Vec<Point> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/yinyang_halves.bin");
    let bytes = std::fs::read(path).unwrap();
    bytes
        .chunks_exact(48)
        .map(|c| {
            let v = |k: usize| f64::from_le_bytes(c[8 * k..8 * k + 8].try_into().unwrap());
            Point {
                lat: v(0),
                lon: v(1),
                x: v(2),
                y: v(3),
                ezsint_yang: v(4) > 0.5,
            }
        })
        .collect()
}

fn u_grid(opts: GridOptions) -> Grid {
    let m = Manifest::load("grids");
    let (_, d, _) = m
        .grids()
        .into_iter()
        .find(|(_, d, _)| d.grtyp == b'U')
        .unwrap();
    Grid::new(&d, opts).unwrap()
}

#[test]
fn point_values_take_librmns_half_at_its_position() {
    for opts in [
        GridOptions::default(),
        GridOptions {
            librmn_compat: true,
        },
    ] {
        let g = u_grid(opts);
        let half_rows = (g.shape().1 / 2) as f64;
        let (mut wrong_half, mut worst) = (Vec::new(), 0.0_f64);
        for (k, p) in points().iter().enumerate() {
            let Some((i, j)) = g.index_of(p.lat, p.lon) else {
                panic!("point {k} ({}, {}) outside", p.lat, p.lon);
            };
            let (want_i, want_j) = (p.x - 1.0, p.y - 1.0);
            if (j >= half_rows - 0.5) != (want_j >= half_rows - 0.5) {
                wrong_half.push(k);
                continue;
            }
            worst = worst.max((i - want_i).abs()).max((j - want_j).abs());
        }
        assert!(
            wrong_half.is_empty(),
            "{opts:?}: {} of {} points in the other half than gdxyfll, e.g. {:?}",
            wrong_half.len(),
            points().len(),
            &wrong_half[..wrong_half.len().min(5)]
        );
        assert!(worst < 2e-3, "{opts:?}: positions {worst} grid cells off");
    }
}

#[test]
fn maps_take_the_half_librmn_regrids_from() {
    let g = u_grid(GridOptions::default());
    let half_rows = (g.shape().1 / 2) as f64;
    let pts = points();
    let lon: Vec<f64> = pts.iter().map(|p| p.lon).collect();
    let lat: Vec<f64> = pts.iter().map(|p| p.lat).collect();
    let (mut i, mut j) = (vec![0.0; pts.len()], vec![0.0; pts.len()]);
    g.index_of_many(&lon, &lat, &mut i, &mut j).unwrap();
    let wrong: Vec<usize> = (0..pts.len())
        .filter(|&k| (j[k] >= half_rows - 0.5) != pts[k].ezsint_yang)
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} points in the other half than ezsint, e.g. {:?}",
        wrong.len(),
        pts.len(),
        &wrong[..wrong.len().min(5)]
    );
}
