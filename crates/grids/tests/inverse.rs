//! `index_of(lat_lon(i, j)) == (i, j)` within 1e-6 of a cell for every grid type, including
//! grids that contain a pole or cross the antimeridian; `index_of_many` agrees with
//! `index_of`; fractional points round-trip too.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::float_cmp,
    clippy::disallowed_methods,
    clippy::too_many_lines
)]

mod common;

use common::Manifest;
use grids::params::{LatLonParams, PolarParams, RotatedParams};
use grids::{Grid, GridDescriptor, GridOptions, Positional};
use proptest::prelude::*;
use std::sync::Arc;

const TOL: f64 = 1e-6;

fn synthetic() -> Vec<(String, GridDescriptor)> {
    let mut v = vec![];
    let mut add = |name: &str, d: GridDescriptor| v.push((name.to_owned(), d));
    // L across the antimeridian, up to the pole row.
    let ig = LatLonParams {
        lat0: 60.0,
        lon0: 170.0,
        dlat: 0.5,
        dlon: 0.5,
    }
    .encode()
    .unwrap();
    add("L antimeridian", GridDescriptor::simple(b'L', 41, 61, ig));
    // Polar grids with the pole inside (on a point and between points).
    for (g, pi, pj) in [(b'N', 21.0, 21.0), (b'S', 20.5, 19.25), (b'N', 3.0, 40.0)] {
        let ig = PolarParams {
            north: g == b'N',
            pi,
            pj,
            d60: 100_000.0,
            dgrw: 35.0,
        }
        .encode()
        .unwrap();
        add(
            &format!("{} pole at ({pi},{pj})", g as char),
            GridDescriptor::simple(g, 41, 41, ig),
        );
    }
    // Rotated grids whose points come close to the geographic poles and straddle 0/360.
    let ig = RotatedParams {
        xlat1: 1.0,
        xlon1: 179.0,
        xlat2: 0.0,
        xlon2: 270.0,
    }
    .encode()
    .unwrap();
    add("E near-identity", GridDescriptor::simple(b'E', 181, 90, ig));
    let ig = RotatedParams {
        xlat1: -20.0,
        xlon1: 10.0,
        xlat2: 60.0,
        xlon2: 40.0,
    }
    .encode()
    .unwrap();
    add("E steep", GridDescriptor::simple(b'E', 120, 61, ig));
    // A Z grid on E whose rotated pole... a LAM around the true north pole.
    let ig_ref = RotatedParams {
        xlat1: 0.0,
        xlon1: 180.0,
        xlat2: 0.0,
        xlon2: 270.0,
    }
    .encode()
    .unwrap();
    let ax: Arc<[f64]> = (0..60).map(|k| 150.0 + k as f64 * 1.0).collect();
    let ay: Arc<[f64]> = (0..40).map(|k| 50.0 + k as f64 * 1.0).collect();
    add(
        "Z on E to 89.5N across 180",
        GridDescriptor::with_positional(
            b'Z',
            60,
            40,
            [1, 2, 3, 0],
            Positional {
                grtyp: b'E',
                ig: ig_ref,
                x: ax,
                y: ay,
            },
        ),
    );
    // G T63-like and large, with the north-to-south flag.
    add(
        "G 192x96 N->S",
        GridDescriptor::simple(b'G', 192, 96, [0, 1, 0, 0]),
    );
    add(
        "A 360x180",
        GridDescriptor::simple(b'A', 360, 180, [0, 0, 0, 0]),
    );
    v
}

fn all_grids() -> Vec<(String, Grid)> {
    let m = Manifest::load("grids");
    let mut out: Vec<(String, Grid)> = m
        .grids()
        .into_iter()
        .map(|(k, d, _)| (k, Grid::new(&d, GridOptions::default()).unwrap()))
        .collect();
    for (k, d) in synthetic() {
        out.push((k, Grid::new(&d, GridOptions::default()).unwrap()));
    }
    out
}

#[test]
fn index_of_inverts_lat_lon_everywhere() {
    for (name, grid) in all_grids() {
        let ll = grid.lat_lon();
        let (ni, nj) = grid.shape();
        let is_b = matches!(grid.grtyp(), 'B' | 'E') && ni > 2; // last column repeats the first
        let is_u = grid.grtyp() == 'U';
        for j in 0..nj {
            for i in 0..ni {
                let k = i + j * ni;
                let (lat, lon) = (ll.lat[k], ll.lon[k]);
                if is_u {
                    // Each subgrid inverts exactly; across the overlap the chosen subgrid may
                    // be the other one, so check that the answer is the same place.
                    let h = nj / 2;
                    let (sub, sj) = if j < h { (0, j) } else { (1, j - h) };
                    let (fi, fj) = grid.index_in_subgrid(sub, lat, lon).unwrap();
                    assert!(
                        (fi - i as f64).abs() < TOL && (fj - sj as f64).abs() < TOL,
                        "{name} ({i},{j})"
                    );
                    let (fi, fj) = grid.index_of(lat, lon).unwrap();
                    let (la2, lo2) = grid.point(fi, fj).unwrap();
                    assert!(
                        common::err_deg(la2, lo2, lat, lon) < 1e-9,
                        "{name} ({i},{j})"
                    );
                    continue;
                }
                let (fi, fj) = grid
                    .index_of(lat, lon)
                    .unwrap_or_else(|| panic!("{name} ({i},{j}) = ({lat},{lon}) reported outside"));
                assert!((fj - j as f64).abs() < TOL, "{name} ({i},{j}): j = {fj}");
                if grid.grtyp() == 'B' && lat.abs() == 90.0 {
                    continue; // every point of a pole row is the pole
                }
                let di = if is_b {
                    // The last column repeats the first.
                    let p = (ni - 1) as f64;
                    ((fi - i as f64) % p + p) % p
                } else {
                    fi - i as f64
                };
                assert!(
                    di.abs() < TOL || (di - (ni - 1) as f64).abs() < TOL,
                    "{name} ({i},{j}) = ({lat},{lon}): i = {fi}"
                );
            }
        }
        println!("{name}: ok");
    }
}

#[test]
fn index_of_many_agrees_with_index_of() {
    let grids = all_grids();
    let mut lat = vec![];
    let mut lon = vec![];
    // A global lattice including the poles, the antimeridian and longitudes outside [0, 360).
    for a in -18..=18 {
        for b in -40..=40 {
            lat.push(a as f64 * 5.0 - 0.013 * b as f64 / 40.0);
            lon.push(b as f64 * 9.0 + 0.37);
        }
    }
    lat.extend([90.0, -90.0, 0.0, 45.0]);
    lon.extend([0.0, 180.0, -180.0, 540.0]);
    for (name, grid) in grids {
        let n = lat.len();
        let (mut oi, mut oj) = (vec![0.0; n], vec![0.0; n]);
        grid.index_of_many(&lon, &lat, &mut oi, &mut oj).unwrap();
        let mut inside = 0;
        for k in 0..n {
            match grid.index_of(lat[k], lon[k]) {
                Some((i, j)) if grid.grtyp() == 'U' && (oj[k] - j).abs() > 1e-9 => {
                    // Where the halves overlap, maps read the half librmn's regridding reads
                    // and point values the half its gdxyfll reads (see tests/yinyang_halves.rs):
                    // the same place from the other half.
                    inside += 1;
                    let one = grid.point(i, j).unwrap();
                    let many = grid.point(oi[k], oj[k]).unwrap();
                    assert!(
                        common::err_deg(one.0, one.1, many.0, many.1) < 1e-7,
                        "{name}: ({}, {}) many ({}, {}) one ({i}, {j})",
                        lat[k],
                        lon[k],
                        oi[k],
                        oj[k]
                    );
                }
                Some((i, j)) => {
                    inside += 1;
                    assert!(
                        (oi[k] - i).abs() < 1e-9 && (oj[k] - j).abs() < 1e-9,
                        "{name}: ({}, {}) many ({}, {}) one ({i}, {j})",
                        lat[k],
                        lon[k],
                        oi[k],
                        oj[k]
                    );
                }
                None => assert!(
                    oi[k].is_nan() && oj[k].is_nan(),
                    "{name}: ({}, {}) many ({}, {}) one None",
                    lat[k],
                    lon[k],
                    oi[k],
                    oj[k]
                ),
            }
        }
        println!("{name}: {inside}/{n} inside");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn fractional_points_round_trip(fi in 0.0..1.0_f64, fj in 0.0..1.0_f64) {
        for (name, grid) in all_grids() {
            if matches!(grid.grtyp(), 'Y' | 'B') { continue; }
            let (ni, nj) = grid.shape();
            let (i, j) = (fi * (ni - 1) as f64, fj * (nj - 1) as f64);
            let (lat, lon) = grid.point(i, j).unwrap();
            let Some((i2, j2)) = grid.index_of(lat, lon) else {
                panic!("{name}: ({i}, {j}) -> ({lat}, {lon}) outside");
            };
            let (lat2, lon2) = grid.point(i2, j2).unwrap();
            // Same place (U may answer from the other subgrid), and same index elsewhere.
            prop_assert!(common::err_deg(lat, lon, lat2, lon2) < 1e-8, "{name} ({i},{j})");
            // At a pole the longitude, hence i, is arbitrary.
            if grid.grtyp() != 'U' && lat.abs() < 89.9999 {
                prop_assert!((i - i2).abs() < TOL && (j - j2).abs() < TOL, "{name} ({i},{j}) -> ({i2},{j2})");
            }
        }
    }
}

/// A Y grid (2-D lat/lon arrays) over the north pole and across the antimeridian, built from
/// a rotated LAM: the tree + refinement inverse must agree with the analytic inverse of the
/// rotated grid it came from, at nodes exactly and between nodes closely (the two interpolate
/// differently: bilinear in the tangent plane versus linear in rotated degrees).
#[test]
fn y_grid_inverse_over_the_pole_and_antimeridian() {
    // Rotated pole at the true equator: the rotated equator runs through both true poles.
    let ig_ref = RotatedParams {
        xlat1: 0.0,
        xlon1: 180.0,
        xlat2: 90.0,
        xlon2: 0.0,
    }
    .encode()
    .unwrap();
    let ax: Arc<[f64]> = (0..50).map(|k| 250.3 + k as f64 * 0.8).collect();
    let ay: Arc<[f64]> = (0..40).map(|k| -16.0 + k as f64 * 0.8).collect();
    let z = Grid::new(
        &GridDescriptor::with_positional(
            b'Z',
            50,
            40,
            [1, 2, 3, 0],
            Positional {
                grtyp: b'E',
                ig: ig_ref,
                x: ax,
                y: ay,
            },
        ),
        GridOptions::default(),
    )
    .unwrap();
    let ll = z.lat_lon();
    let max_lat = ll.lat.iter().copied().fold(f64::MIN, f64::max);
    assert!(
        max_lat > 89.0,
        "the test grid should reach the pole, got {max_lat}"
    );
    let lon_neg: Arc<[f64]> = ll
        .lon
        .iter()
        .map(|&l| if l > 180.0 { l - 360.0 } else { l })
        .collect();
    let y = Grid::new(
        &GridDescriptor::with_positional(
            b'Y',
            50,
            40,
            [4, 5, 6, 0],
            Positional {
                grtyp: b'L',
                ig: [100, 100, 9000, 0],
                x: lon_neg,
                y: ll.lat.clone().into(),
            },
        ),
        GridOptions::default(),
    )
    .unwrap();
    for k in 0..ll.lat.len() {
        let (i, j) = y.index_of(ll.lat[k], ll.lon[k]).unwrap();
        assert!((i - (k % 50) as f64).abs() < 1e-9 && (j - (k / 50) as f64).abs() < 1e-9);
    }
    let mut worst = 0.0_f64;
    for a in 0..60 {
        for b in 0..60 {
            let (fi, fj) = (0.3 + a as f64 * 0.8, 0.2 + b as f64 * 0.64);
            let (lat, lon) = z.point(fi, fj).unwrap();
            let (i, j) = y
                .index_of(lat, lon)
                .unwrap_or_else(|| panic!("({fi}, {fj}) outside"));
            worst = worst.max((i - fi).abs()).max((j - fj).abs());
        }
    }
    assert!(worst < 0.01, "worst index difference {worst}");
    // Far outside.
    assert!(y.index_of(-45.0, 10.0).is_none());
}

/// Points far from a regional grid are outside it, whatever the grid type: found for the Y
/// grid, whose inverse once took an unconverged Newton iterate, or a half-cell extrapolation
/// seen from a distant tangent plane, for an answer.
#[test]
fn far_points_are_outside_regional_grids() {
    for (name, grid) in all_grids() {
        let ll = grid.lat_lon();
        let (mut s, mut n) = (90.0f64, -90.0f64);
        for &la in &ll.lat {
            s = s.min(la);
            n = n.max(la);
        }
        // A regional grid: test the band of latitudes 15° or more away from it.
        if n - s > 120.0 {
            continue;
        }
        let mut lat = -89.5;
        while lat < 90.0 {
            if lat < s - 15.0 || lat > n + 15.0 {
                let mut lon = -180.0;
                while lon < 180.0 {
                    assert_eq!(grid.index_of(lat, lon), None, "{name}: ({lat}, {lon})");
                    lon += 3.7;
                }
            }
            lat += 2.3;
        }
    }
}
