//! Every CRS validated by PROJ itself: each grid point's CRS coordinates (from
//! `coordinates()` / `geotransform()`) are transformed by PROJ, from both the PROJ string and
//! the WKT, to plain longitude/latitude on the same sphere, and must land within 1e-7° of
//! `lat_lon()`.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::float_cmp,
    clippy::disallowed_methods,
    clippy::too_many_lines
)]

mod common;

use common::{err_deg, Manifest};
use grids::params::{PolarParams, RotatedParams};
use grids::{Coordinates, Grid, GridDescriptor, GridOptions};
use proj::Proj;

const GEO: &str = "+proj=longlat +R=6371000 +no_defs +type=crs";

/// CRS coordinates of every point of (sub)grid `k`, i fastest.
fn crs_points(c: &Coordinates, ni: usize, nj: usize) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(ni * nj);
    for j in 0..nj {
        for i in 0..ni {
            out.push(match c {
                Coordinates::Affine(gt) => gt.apply(i as f64, j as f64),
                Coordinates::Rectilinear { x, y } => (x[i], y[j]),
                _ => unreachable!(),
            });
        }
    }
    out
}

fn check_grid(name: &str, grid: &Grid) -> f64 {
    let ll = grid.lat_lon();
    let (ni, nj) = grid.shape();
    let parts: Vec<(usize, Coordinates)> = match grid.coordinates() {
        Coordinates::Subgrids(v) => v.into_iter().enumerate().collect(),
        Coordinates::Geolocation => {
            // Y/O: the CRS is plain longlat, the coordinates are the arrays themselves.
            let crs = grid.crs().unwrap();
            assert!(crs.proj.contains("+proj=longlat"), "{name}");
            return 0.0;
        }
        c => vec![(0, c)],
    };
    let sub_nj = nj / parts.len();
    let mut worst = 0.0_f64;
    for (k, c) in parts {
        let crs = grid
            .subgrid_crs(k)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            crs.wkt.starts_with("GEOGCRS")
                || crs.wkt.starts_with("PROJCRS")
                || crs.wkt.starts_with("GEODCRS")
                || crs.wkt.starts_with("DERIVEDGEOGCRS")
                || crs.wkt.contains("CRS["),
            "{name}: {}",
            crs.wkt
        );
        for def in [crs.proj.as_str(), crs.wkt.as_str()] {
            let p = Proj::new_known_crs(def, GEO, None)
                .unwrap_or_else(|e| panic!("{name}: PROJ rejects {def}: {e}"));
            for (q, (x, y)) in crs_points(&c, ni, sub_nj).into_iter().enumerate() {
                let (lon, lat) = p.convert((x, y)).unwrap();
                let idx = q + k * ni * sub_nj;
                let e = err_deg(lat, lon, ll.lat[idx], ll.lon[idx]);
                worst = worst.max(e);
                assert!(
                    e <= 1e-7,
                    "{name} sub {k} point {q}: PROJ ({lat}, {lon}) vs ({}, {}) = {e}",
                    ll.lat[idx],
                    ll.lon[idx]
                );
            }
        }
    }
    worst
}

#[test]
fn fixture_grids_through_proj() {
    let m = Manifest::load("grids");
    for (key, d, _) in m.grids() {
        let grid = Grid::new(&d, GridOptions::default()).unwrap();
        let w = check_grid(&key, &grid);
        println!("{key:32} PROJ max err {w:.1e}°");
    }
}

#[test]
fn synthetic_rotations_through_proj() {
    let cases = [
        (0.0, 180.0, 0.0, 270.0), // identity: degenerate o_lat_p = 90
        (0.0, 0.0, 90.0, 0.0),    // standard Yang
        (45.0, 260.0, 45.0, 270.0),
        (-35.0, 120.0, -10.0, 100.0),
        (57.0, 250.0, 56.0, 291.0),
        (0.0, 180.0, 0.0, 90.0), // equator reversed: rotated pole at the south pole
        (80.0, 10.0, -5.0, 300.0),
        (-89.0, 33.0, 0.0, 123.0),
    ];
    for (a, b, c, d) in cases {
        let ig = RotatedParams {
            xlat1: a,
            xlon1: b,
            xlat2: c,
            xlon2: d,
        }
        .encode()
        .unwrap();
        let grid = Grid::new(
            &GridDescriptor::simple(b'E', 73, 37, ig),
            GridOptions::default(),
        )
        .unwrap();
        check_grid(&format!("E({a},{b},{c},{d})"), &grid);
    }
}

#[test]
fn synthetic_polar_through_proj() {
    for north in [true, false] {
        for (pi, pj, d60, dgrw) in [
            (26.0, 28.0, 150_000.0, 350.0),
            (10.5, 80.2, 50_000.0, 0.0),
            (21.0, 21.0, 200_000.0, 10.0),
            (-150.0, -200.0, 10_000.0, 250.0), // new-style encoding
            (400.0, 300.0, 5_000.0, -60.0),
        ] {
            let ig = PolarParams {
                north,
                pi,
                pj,
                d60,
                dgrw,
            }
            .encode()
            .unwrap();
            let g = if north { b'N' } else { b'S' };
            let grid = Grid::new(
                &GridDescriptor::simple(g, 45, 38, ig),
                GridOptions::default(),
            )
            .unwrap();
            check_grid(&format!("{}({pi},{pj},{d60},{dgrw})", g as char), &grid);
        }
    }
}
