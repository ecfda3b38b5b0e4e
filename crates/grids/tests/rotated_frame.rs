//! Rotated grids (E, Z on E, #, the U subgrids) are published in a frame where the grid does
//! not straddle its CRS's antimeridian: PROJ's inverse of every grid point (true lon/lat →
//! CRS) must land on that point's own CRS coordinates, not 360° away, or QGIS and
//! `gdallocationinfo` lose the part of the grid east of rotated 180° (issue 10).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::float_cmp,
    clippy::disallowed_methods
)]

mod common;

use std::sync::Arc;

use common::Manifest;
use grids::params::RotatedParams;
use grids::{Coordinates, Grid, GridDescriptor, GridOptions, Positional};
use proj::Proj;

const GEO: &str = "+proj=longlat +R=6371000 +no_defs +type=crs";

/// A Z grid on E with rotated longitudes `x0, x0 + dx, …` (librmn's frame).
fn z_on_e(x0: f64, dx: f64, ni: usize, nj: usize) -> GridDescriptor {
    let ig = RotatedParams {
        xlat1: 52.0,
        xlon1: 260.0,
        xlat2: 52.0,
        xlon2: 290.0,
    }
    .encode()
    .unwrap();
    let ax: Arc<[f64]> = (0..ni).map(|k| x0 + k as f64 * dx).collect();
    let ay: Arc<[f64]> = (0..nj).map(|k| -14.0 + k as f64 * 0.4).collect();
    GridDescriptor::with_positional(
        b'Z',
        ni as u32,
        nj as u32,
        [1, 2, 3, 0],
        Positional {
            grtyp: b'E',
            ig,
            x: ax,
            y: ay,
        },
    )
}

fn rotated_grids() -> Vec<(String, Grid)> {
    let m = Manifest::load("grids");
    let mut out: Vec<(String, Grid)> = m
        .grids()
        .into_iter()
        .filter(|(k, _, _)| k.starts_with(['E', 'Z', 'U', '#']))
        .map(|(k, d, _)| (k, Grid::new(&d, GridOptions::default()).unwrap()))
        .filter(|(_, g)| g.grtyp() != 'Z' || g.ref_grtyp() == Some('E'))
        .collect();
    for (name, d) in [
        // A GEM LAM centred on librmn's rotated 180°: 162.4 … 197.6.
        ("LAM across rotated 180", z_on_e(162.4, 0.4, 89, 71)),
        // Across rotated 0/360 (the axis is unwrapped to 340 … 380).
        ("LAM across rotated 360", z_on_e(340.0, 0.5, 81, 41)),
        // Wider than 180° and not centred on a multiple of 180°: the centre is the shift.
        ("wide off-centre", z_on_e(30.0, 1.0, 230, 30)),
    ] {
        out.push((name.into(), Grid::new(&d, GridOptions::default()).unwrap()));
    }
    assert!(out.len() >= 7, "{}", out.len());
    out
}

fn crs_x_y(c: &Coordinates, i: usize, j: usize) -> (f64, f64) {
    match c {
        Coordinates::Affine(gt) => gt.apply(i as f64, j as f64),
        Coordinates::Rectilinear { x, y } => (x[i], y[j]),
        _ => unreachable!(),
    }
}

#[test]
fn proj_inverse_lands_every_point_on_its_own_crs_coordinates() {
    for (name, grid) in rotated_grids() {
        let (ni, nj) = grid.shape();
        let ll = grid.lat_lon();
        let parts: Vec<Coordinates> = match grid.coordinates() {
            Coordinates::Subgrids(v) => v,
            c => vec![c],
        };
        let sub_nj = nj / parts.len();
        for (k, c) in parts.iter().enumerate() {
            let crs = grid.subgrid_crs(k).unwrap();
            assert!(crs.proj.contains("+proj=ob_tran"), "{name}: {}", crs.proj);
            let to_crs = Proj::new_known_crs(GEO, &crs.proj, None).unwrap();
            for j in 0..sub_nj {
                for i in 0..ni {
                    let (x, y) = crs_x_y(c, i, j);
                    assert!(
                        (-180.0..=180.0).contains(&x),
                        "{name} sub {k}: x = {x} at ({i}, {j}) is outside [-180, 180]"
                    );
                    let q = i + (j + k * sub_nj) * ni;
                    let (px, py) = to_crs.convert((ll.lon[q], ll.lat[q])).unwrap();
                    // Rotated poles and the global E grid's first/last column (x = ±180, the
                    // same meridian) are the only places where two x name one point.
                    let dx = (px - x).abs();
                    let same_meridian = (dx - 360.0).abs() < 1e-6 && x.abs() > 179.999;
                    let near_pole = y.abs() > 89.999;
                    assert!(
                        (dx < 1e-6 || same_meridian || near_pole) && (py - y).abs() < 1e-6,
                        "{name} sub {k} point ({i}, {j}): PROJ puts it at ({px}, {py}), the grid \
                         at ({x}, {y})"
                    );
                }
            }
        }
    }
}

#[test]
fn shifted_frame_keeps_lat_lon_and_index_of() {
    // The published shift must not move the grid: the LAM across rotated 180 still has its
    // centre column at the rotation's point 1 (52N, 260E) and every node inverts to itself.
    let grid = Grid::new(&z_on_e(162.4, 0.4, 89, 71), GridOptions::default()).unwrap();
    let ll = grid.lat_lon();
    let (ni, nj) = grid.shape();
    // x = 180 is column 44, y = 0 is row 35.
    let q = 44 + 35 * ni;
    assert!((ll.lat[q] - 52.0).abs() < 1e-9 && (ll.lon[q] - 260.0).abs() < 1e-9);
    for j in 0..nj {
        for i in 0..ni {
            let q = i + j * ni;
            let (fi, fj) = grid.index_of(ll.lat[q], ll.lon[q]).unwrap();
            assert!(
                (fi - i as f64).abs() < 1e-6 && (fj - j as f64).abs() < 1e-6,
                "({i}, {j}) -> ({fi}, {fj})"
            );
        }
    }
    let gt = grid.geotransform().unwrap();
    assert!((gt.x0 - -17.6).abs() < 1e-9, "{gt:?}");
    // librmn's frame has o_lon_p = o; the published one o - 180.
    let o = grids::Rotation::new(&RotatedParams {
        xlat1: 52.0,
        xlon1: 260.0,
        xlat2: 52.0,
        xlon2: 290.0,
    })
    .unwrap()
    .ob_tran();
    let want = if o.o_lon_p > 0.0 {
        o.o_lon_p - 180.0
    } else {
        o.o_lon_p + 180.0
    };
    let proj = grid.proj_string().unwrap();
    let got: f64 = proj
        .split_whitespace()
        .find_map(|t| t.strip_prefix("+o_lon_p="))
        .unwrap()
        .parse()
        .unwrap();
    assert!((got - want).abs() < 1e-9, "{proj} vs {o:?}");
}

#[test]
fn global_e_and_yin_yang_are_centred_on_rotated_zero() {
    let m = Manifest::load("grids");
    for (k, d, _) in m.grids() {
        let grid = Grid::new(&d, GridOptions::default()).unwrap();
        match grid.grtyp() {
            'E' => {
                let gt = grid.geotransform().unwrap();
                let (ni, _) = grid.shape();
                assert_eq!(gt.x0, -180.0, "{k}");
                assert!(
                    (gt.apply((ni - 1) as f64, 0.0).0 - 180.0).abs() < 1e-9,
                    "{k}"
                );
            }
            'U' => {
                for s in 0..2 {
                    let gt = grid.subgrid_geotransform(s).unwrap();
                    let (ni, _) = grid.shape();
                    let centre = gt.x0 + gt.dx * (ni - 1) as f64 / 2.0;
                    assert!(centre.abs() < 1e-9, "{k} sub {s}: {gt:?}");
                }
            }
            _ => {}
        }
    }
}
