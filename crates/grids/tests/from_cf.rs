//! `from_cf_axes` (a CF grid mapping's own formulas, no PROJ) against `from_axes` (the same
//! CRS through PROJ): both must give the same FST grid, bit for bit, for the mappings our
//! xarray backend writes, and the CF path alone must give back the FST grid a reader made.
#![allow(clippy::unwrap_used, clippy::panic, clippy::float_cmp)]

use grids::from_crs::{from_axes, from_cf_axes, CfGridMapping, FromCrsOptions, FstGrid};
use grids::{Coordinates, Grid, GridDescriptor, GridOptions};

const R: f64 = 6_371_000.0;

fn axis(start: f64, step: f64, n: usize) -> Vec<f64> {
    (0..n).map(|k| start + step * k as f64).collect()
}

/// Both paths, with identical results (the reported error to rounding).
fn same(cf: &CfGridMapping, crs: &str, x: &[f64], y: &[f64]) -> FstGrid {
    let opts = FromCrsOptions::default();
    let a = from_cf_axes(cf, x, y, &opts).unwrap();
    let b = from_axes(crs, x, y, &opts).unwrap_or_else(|e| panic!("{crs}: {e}"));
    assert_eq!(
        a.descriptor, b.descriptor,
        "{crs}\nCF {:?}\nPROJ {:?}",
        a.notes, b.notes
    );
    assert_eq!(a.flip_rows, b.flip_rows, "{crs}");
    assert!(
        (a.max_error_deg - b.max_error_deg).abs() <= 1e-9,
        "{crs}: {} vs {}",
        a.max_error_deg,
        b.max_error_deg
    );
    a
}

fn rotated(plat: f64, plon: f64, lon0: f64) -> (CfGridMapping, String) {
    let cf = CfGridMapping::RotatedLatitudeLongitude {
        grid_north_pole_latitude: plat,
        grid_north_pole_longitude: plon,
        north_pole_grid_longitude: lon0,
    };
    // PROJ's CF export convention: lon_0 = pole longitude + 180, o_lon_p = north pole grid
    // longitude.
    let crs = format!(
        "+proj=ob_tran +o_proj=longlat +o_lat_p={plat} +o_lon_p={lon0} +lon_0={} +R={R} \
         +type=crs",
        plon + 180.0
    );
    (cf, crs)
}

#[test]
fn rotated_poles_match_proj() {
    let x = axis(-10.0, 0.125, 161);
    let y = axis(8.0, -0.125, 129);
    for (plat, plon, lon0) in [
        (40.0, -170.0, 0.0),
        (37.5, -153.0, 0.0),
        (31.75, -92.5, 0.0),
        (42.5, -162.0, 30.0),
        (-35.0, 20.0, 0.0),
        (90.0, 0.0, 0.0),
    ] {
        let (cf, crs) = rotated(plat, plon, lon0);
        let g = same(&cf, &crs, &x, &y);
        assert_eq!(g.descriptor.grtyp, b'Z', "{crs}: {:?}", g.notes);
        assert_eq!(g.positional_records().unwrap().grtyp, b'E');
        assert!(g.max_error_deg <= 1e-6);
    }
    // Off the 1/40° lattice: Y in both (the values to float32 rounding).
    let (cf, crs) = rotated(37.4321, -12.3456, 0.0);
    let opts = FromCrsOptions::default();
    let a = from_cf_axes(&cf, &x[..40], &y[..30], &opts).unwrap();
    let b = from_axes(&crs, &x[..40], &y[..30], &opts).unwrap();
    assert_eq!((a.descriptor.grtyp, b.descriptor.grtyp), (b'Y', b'Y'));
    let (pa, pb) = (
        a.positional_records().unwrap(),
        b.positional_records().unwrap(),
    );
    for (u, v) in
        pa.x.iter()
            .zip(pb.x.iter())
            .chain(pa.y.iter().zip(pb.y.iter()))
    {
        assert!((u - v).abs() <= 2e-5, "{u} {v}");
    }
}

#[test]
fn polar_stereographic_matches_proj() {
    let d60 = 50_000.0;
    let x = axis(-50.0 * d60, d60, 101);
    let y = axis(40.0 * d60, -d60, 81);
    for (north, lon0, fe, fnorth, lat_ts) in [
        (true, -100.0, 0.0, 0.0, 60.0),
        (true, 15.0, 2e5, -3e5, 60.0),
        (false, 30.0, 0.0, 0.0, -60.0),
        (true, -45.0, 0.0, 0.0, 70.0),
    ] {
        let cf = CfGridMapping::PolarStereographic {
            north,
            straight_vertical_longitude_from_pole: lon0,
            scale_factor: f64::midpoint(1.0, f64::sin(f64::to_radians(lat_ts)).abs()),
            false_easting: fe,
            false_northing: fnorth,
            earth_radius: R,
        };
        let lat0 = if north { 90 } else { -90 };
        let crs = format!(
            "+proj=stere +lat_0={lat0} +lat_ts={lat_ts} +lon_0={lon0} +x_0={fe} +y_0={fnorth} \
             +R={R} +type=crs"
        );
        let g = same(&cf, &crs, &x, &y);
        let want: &[u8] = if lat_ts.abs() == 60.0 { b"NS" } else { b"Z" };
        assert!(want.contains(&g.descriptor.grtyp), "{crs}: {g:?}");
    }
}

#[test]
fn longlat_matches_proj() {
    let crs = "+proj=longlat +R=6371000 +type=crs";
    for (x, y) in [
        (axis(0.0, 1.0, 360), axis(-89.5, 1.0, 180)),
        (axis(-180.0, 0.25, 200), axis(60.0, -0.25, 100)),
        (vec![-10.0, -9.5, -9.0, -7.0], vec![40.0, 41.0, 42.0]),
    ] {
        same(&CfGridMapping::LatitudeLongitude, crs, &x, &y);
    }
}

fn rotated_e(xlat1: f64, xlon1: f64, xlat2: f64, xlon2: f64) -> GridDescriptor {
    let ig = grids::params::RotatedParams {
        xlat1,
        xlon1,
        xlat2,
        xlon2,
    }
    .encode()
    .unwrap();
    GridDescriptor::simple(b'E', 90, 60, ig)
}

fn polar(north: bool) -> GridDescriptor {
    let ig = grids::params::PolarParams {
        north,
        pi: 26.0,
        pj: 28.5,
        d60: 37_400.0,
        dgrw: 21.0,
    }
    .encode()
    .unwrap();
    GridDescriptor::simple(if north { b'N' } else { b'S' }, 51, 55, ig)
}

/// What the xarray backend writes for an FST grid (its PROJ definition's parameters as CF
/// attributes, its axes) comes back as that grid with the CF path alone.
#[test]
fn reader_grids_come_back() {
    let cases = [
        // E grids as GEM defines them: two points of the rotated equator on the 1/40°
        // lattice; the pole, their cross product, is off the lattice.
        rotated_e(45.0, 260.0, 0.0, 350.0),
        rotated_e(57.0, 250.0, 56.0, 291.0),
        rotated_e(-12.375, 33.5, 40.125, 101.25),
        polar(true),
        polar(false),
        GridDescriptor::simple(b'L', 30, 20, [50, 50, 10000, 2000]),
    ];
    for d in cases {
        let grid = Grid::new(&d, GridOptions::default()).unwrap();
        let (x, y) = match grid.coordinates() {
            Coordinates::Affine(gt) => {
                let (ni, nj) = grid.shape();
                (axis(gt.x0, gt.dx, ni), axis(gt.y0, gt.dy, nj))
            }
            Coordinates::Rectilinear { x, y } => (x, y),
            other => panic!("{other:?}"),
        };
        let proj = grid.subgrid_proj_string(0).unwrap();
        let p = |k: &str| -> Option<f64> {
            proj.split_whitespace()
                .find_map(|t| t.strip_prefix(&format!("+{k}=")))
                .and_then(|v| v.parse().ok())
        };
        let cf = match d.grtyp {
            b'E' => CfGridMapping::RotatedLatitudeLongitude {
                grid_north_pole_latitude: p("o_lat_p").unwrap(),
                grid_north_pole_longitude: p("lon_0").unwrap() - 180.0,
                north_pole_grid_longitude: p("o_lon_p").unwrap(),
            },
            b'N' | b'S' => CfGridMapping::PolarStereographic {
                north: d.grtyp == b'N',
                straight_vertical_longitude_from_pole: p("lon_0").unwrap(),
                scale_factor: f64::midpoint(1.0, p("lat_ts").unwrap().to_radians().sin().abs()),
                false_easting: 0.0,
                false_northing: 0.0,
                earth_radius: p("R").unwrap(),
            },
            _ => CfGridMapping::LatitudeLongitude,
        };
        let g = same(&cf, &proj, &x, &y);
        let back = Grid::new(&g.descriptor, GridOptions::default()).unwrap();
        let (a, b) = (grid.lat_lon(), back.lat_lon());
        let worst = a
            .lat
            .iter()
            .zip(&b.lat)
            .chain(a.lon.iter().zip(&b.lon))
            .map(|(u, v)| {
                let d = (u - v).abs();
                d.min((d - 360.0).abs())
            })
            .fold(0.0, f64::max);
        assert!(
            worst <= 1e-6,
            "{}: {worst} {:?}",
            char::from(d.grtyp),
            g.notes
        );
        if d.grtyp == b'E' {
            // Z on an E reference with the same rotation (not necessarily the same two
            // points: any two lattice points of the rotated equator define it).
            assert_eq!(g.descriptor.grtyp, b'Z', "{:?}", g.notes);
            let rec = g.positional_records().unwrap();
            assert_eq!(rec.grtyp, b'E');
            let pole = |ig| {
                let r = grids::Rotation::new(&grids::params::RotatedParams::decode(ig)).unwrap();
                r.ez
            };
            let (p, q) = (pole(d.ig), pole(rec.ig));
            let dot: f64 = p.iter().zip(&q).map(|(a, b)| a * b).sum();
            assert!(dot > 1.0 - 1e-14, "{dot}");
        } else {
            assert_eq!(g.descriptor.grtyp, d.grtyp, "{:?}", g.notes);
        }
    }
}
