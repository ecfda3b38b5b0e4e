//! ig encoding both ways against librmn's cigaxg values, the librmn-compatible mode's two
//! quirks, and the grid cache.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::float_cmp,
    clippy::disallowed_methods,
    clippy::too_many_lines
)]

mod common;

use std::sync::Arc;

use common::Manifest;
use grids::params::{LatLonParams, RotatedParams};
use grids::{Grid, GridCache, GridDescriptor, GridOptions, GridParams, Positional};

#[test]
fn fixture_igs_decode_to_cigaxg_and_encode_back() {
    for name in ["grids", "shapes"] {
        let m = Manifest::load(name);
        for (key, d, g) in m.grids() {
            let Some(xg) = g.get("xg").and_then(|x| x.as_array()) else {
                continue;
            };
            let xg: Vec<f64> = xg.iter().map(|v| v.as_f64().unwrap()).collect();
            let p = GridParams::decode(d.grtyp, d.ig).unwrap();
            let ours = match p {
                GridParams::Global(p) => {
                    let e = p.encode();
                    vec![f64::from(e[0]), f64::from(e[1]), 0.0, 0.0]
                }
                GridParams::LatLon(p) => vec![p.lat0, p.lon0, p.dlat, p.dlon],
                GridParams::Polar(p) => vec![p.pi, p.pj, p.d60, p.dgrw],
                GridParams::Rotated(p) => vec![p.xlat1, p.xlon1, p.xlat2, p.xlon2],
            };
            for (a, b) in ours.iter().zip(&xg) {
                // librmn decodes in float32.
                assert!(
                    (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                    "{key}: {ours:?} vs {xg:?}"
                );
            }
            assert_eq!(p.encode().unwrap(), d.ig, "{key}");
        }
        // And the reference grids of Z/Y/#.
        for (key, _, g) in m.grids() {
            let Some(r) = g.get("ref") else { continue };
            let gr = r["grref"].as_str().unwrap().as_bytes()[0];
            if gr == b'F' {
                continue;
            }
            let ig =
                ["ig1ref", "ig2ref", "ig3ref", "ig4ref"].map(|k| r[k].as_u64().unwrap() as u32);
            let p = GridParams::decode(gr, ig).unwrap();
            assert_eq!(p.encode().unwrap(), ig, "{key} reference");
        }
    }
}

#[test]
fn z_on_l_negative_axis_quirk() {
    let ig_ref = LatLonParams {
        lat0: 0.0,
        lon0: 0.0,
        dlat: 0.5,
        dlon: 0.5,
    }
    .encode()
    .unwrap();
    let ax: Arc<[f64]> = (-20..=20).map(f64::from).collect();
    let ay: Arc<[f64]> = (0..10).map(f64::from).collect();
    let d = GridDescriptor::with_positional(
        b'Z',
        41,
        10,
        [7, 8, 9, 0],
        Positional {
            grtyp: b'L',
            ig: ig_ref,
            x: ax,
            y: ay,
        },
    );
    let faithful = Grid::new(&d, GridOptions::default()).unwrap();
    let compat = Grid::new(
        &d,
        GridOptions {
            librmn_compat: true,
        },
    )
    .unwrap();
    // ax = -20: scale then wrap gives 350°; librmn's file path wraps first: (−20+360)·0.5 = 170°.
    assert_eq!(faithful.lat_lon().lon[0], 350.0);
    assert_eq!(compat.lat_lon().lon[0], 170.0);
    // Non-negative ax agree.
    assert_eq!(faithful.lat_lon().lon[20..41], compat.lat_lon().lon[20..41]);
    // The faithful grid stays regular (affine); the quirky one does not.
    assert!(faithful.geotransform().is_some());
    assert!(compat.geotransform().is_none());
    // Both invert their own points.
    for g in [&faithful, &compat] {
        let ll = g.lat_lon();
        for k in 0..41 {
            let (i, _) = g.index_of(ll.lat[k], ll.lon[k]).unwrap();
            assert!((i - k as f64).abs() < 1e-9);
        }
    }
}

fn yy_record(ni: usize, nj: usize, yin: [f64; 4], yang: [f64; 4]) -> Vec<f64> {
    let ax: Vec<f64> = (0..ni)
        .map(|k| 45.0 - 3.0 + k as f64 * (276.0 / (ni - 1) as f64))
        .collect();
    let ay: Vec<f64> = (0..nj)
        .map(|k| -46.0 + k as f64 * (92.0 / (nj - 1) as f64))
        .collect();
    let mut v = vec![70.0, 1.0, 2.0, 1.0, 1.0];
    for rot in [yin, yang] {
        v.extend([ni as f64, nj as f64, ax[0], ax[ni - 1], ay[0], ay[nj - 1]]);
        v.extend(rot);
        v.extend(&ax);
        v.extend(&ay);
    }
    v
}

#[test]
fn u_rotation_quantisation_quirk() {
    let (ni, nj) = (61, 21);
    let yin = [0.0, 180.0, 0.0, 270.0];
    let yang = [0.013, 0.0071, 89.987, 0.0];
    let mk = |yang: [f64; 4]| {
        GridDescriptor::with_positional(
            b'U',
            ni as u32,
            2 * nj as u32,
            [1, 2, 3, 0],
            Positional {
                grtyp: b'F',
                ig: [1, 0, 0, 0],
                x: yy_record(ni, nj, yin, yang).into(),
                y: Arc::from(Vec::new()),
            },
        )
    };
    let faithful = Grid::new(&mk(yang), GridOptions::default()).unwrap();
    let compat = Grid::new(
        &mk(yang),
        GridOptions {
            librmn_compat: true,
        },
    )
    .unwrap();
    let q = RotatedParams {
        xlat1: yang[0],
        xlon1: yang[1],
        xlat2: yang[2],
        xlon2: yang[3],
    }
    .quantised()
    .unwrap();
    let pre = Grid::new(
        &mk([q.xlat1, q.xlon1, q.xlat2, q.xlon2]),
        GridOptions::default(),
    )
    .unwrap();
    let (a, b, c) = (faithful.lat_lon(), compat.lat_lon(), pre.lat_lon());
    let mut max_fc = 0.0_f64;
    for k in 0..a.lat.len() {
        assert!(common::err_deg(b.lat[k], b.lon[k], c.lat[k], c.lon[k]) < 1e-12);
        max_fc = max_fc.max(common::err_deg(a.lat[k], a.lon[k], b.lat[k], b.lon[k]));
    }
    assert!(
        max_fc > 5e-3,
        "quantisation should move points visibly, moved {max_fc}"
    );
    // Yin rows are untouched by the quirk (identity rotation is exact in 1/40°).
    let half = ni * nj;
    assert_eq!(a.lat[..half], b.lat[..half]);
}

#[test]
fn cache_shares_grids() {
    let cache = GridCache::new(2);
    let d = GridDescriptor::simple(b'L', 60, 40, [50, 75, 12000, 25000]);
    let a = cache.get(&d, GridOptions::default()).unwrap();
    let b = cache.get(&d, GridOptions::default()).unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    let c = cache
        .get(
            &d,
            GridOptions {
                librmn_compat: true,
            },
        )
        .unwrap();
    assert!(!Arc::ptr_eq(&a, &c));
    let _ = cache.get(
        &GridDescriptor::simple(b'A', 8, 4, [0, 0, 0, 0]),
        GridOptions::default(),
    );
    assert_eq!(cache.len(), 2);
    // lat/lon are computed once per grid.
    assert!(Arc::ptr_eq(&a.lat_lon(), &b.lat_lon()));
}

/// The `^>` builder reproduces the fixture's record (written by rpnpy) from its parts, and
/// links built with `links` resolve.
#[test]
fn yin_yang_record_and_links_round_trip() {
    let m = Manifest::load("grids");
    let (_, d, _) = m
        .grids()
        .into_iter()
        .find(|(k, _, _)| k.starts_with("U:"))
        .unwrap();
    let v = &d.positional.as_ref().unwrap().x;
    let (ni, nj) = (v[5] as usize, v[6] as usize);
    let ax = &v[15..15 + ni];
    let ay = &v[15 + ni..15 + ni + nj];
    // The record librmn wrote is the one fst-core's writer builds, value for value.
    let f32s = |s: &[f64]| s.iter().map(|&x| x as f32).collect::<Vec<f32>>();
    let rot = |k: usize| {
        [
            v[k] as f32,
            v[k + 1] as f32,
            v[k + 2] as f32,
            v[k + 3] as f32,
        ]
    };
    let (ax, ay) = (f32s(ax), f32s(ay));
    let rebuilt = fst_core::write::yin_yang_values(&fst_core::write::YinYang {
        ax: &ax,
        ay: &ay,
        yin: rot(11),
        yang: rot(5 + 10 + ni + nj + 6),
    });
    let rebuilt: Vec<f64> = rebuilt.into_iter().map(f64::from).collect();
    assert_eq!(&rebuilt[..], &v[..]);
    // A Z grid written with our tags.
    let ig_ref = RotatedParams {
        xlat1: 45.0,
        xlon1: 260.0,
        xlat2: 45.0,
        xlon2: 270.0,
    }
    .encode()
    .unwrap();
    let ax: Vec<f64> = (0..30).map(|k| 180.0 + f64::from(k)).collect();
    let ay: Vec<f64> = (0..20).map(|k| -10.0 + f64::from(k)).collect();
    let tags = grids::links::positional_tags(b'E', ig_ref, &ax, &ay);
    let d = GridDescriptor::with_positional(
        b'Z',
        30,
        20,
        grids::links::z_igs(tags),
        Positional {
            grtyp: b'E',
            ig: ig_ref,
            x: ax.clone().into(),
            y: ay.clone().into(),
        },
    );
    assert!(Grid::new(&d, GridOptions::default())
        .unwrap()
        .geotransform()
        .is_some());
    let t = GridDescriptor::with_positional(
        b'#',
        10,
        5,
        grids::links::tile_igs(tags, 11, 6).unwrap(),
        Positional {
            grtyp: b'E',
            ig: ig_ref,
            x: ax.into(),
            y: ay.into(),
        },
    );
    let tile = Grid::new(&t, GridOptions::default()).unwrap();
    let full = Grid::new(&d, GridOptions::default()).unwrap();
    assert_eq!(tile.lat_lon().lat[0], full.lat_lon().lat[10 + 5 * 30]);
}

mod roundtrip {
    use grids::params::{LatLonParams, PolarParams, RotatedParams};
    use proptest::prelude::*;

    proptest! {
        /// encode∘decode is the identity on igs, and decode∘encode moves parameters by at most
        /// the encoding's quantum.
        #[test]
        fn l_params(lat0 in -90.0..90.0_f64, lon0 in -360.0..720.0_f64, dlat in 0.01..10.0_f64, dlon in 0.01..10.0_f64) {
            let p = LatLonParams { lat0, lon0, dlat, dlon };
            let ig = p.encode().unwrap();
            let d = LatLonParams::decode(ig);
            prop_assert_eq!(d.encode().unwrap(), ig);
            prop_assert!((d.lat0 - lat0).abs() <= 0.005 + 1e-9 && (d.dlat - dlat).abs() <= 0.005 + 1e-9);
            let dl = (d.lon0 - lon0).rem_euclid(360.0);
            prop_assert!(dl.min(360.0 - dl) <= 0.005 + 1e-9);
        }

        #[test]
        fn ps_old_params(north in any::<bool>(), pi in 0.0..204.0_f64, pj in 0.0..204.0_f64,
                         d60 in 1000.0..3.0e6_f64, dgrw in 0.0..359.9_f64) {
            let p = PolarParams { north, pi, pj, d60, dgrw };
            let ig = p.encode().unwrap();
            prop_assert!(ig[3] < 32768);
            let d = PolarParams::decode(north, ig);
            prop_assert_eq!(d.encode().unwrap(), ig);
            prop_assert!((d.pi - pi).abs() <= 0.05 + 1e-9 && (d.pj - pj).abs() <= 0.05 + 1e-9);
            prop_assert!((d.d60 - d60).abs() <= 50.0 + 1e-6);
        }

        #[test]
        fn ps_new_params(north in any::<bool>(), pi in -250.0..-1.0_f64, pj in -250.0..250.0_f64,
                         d60_hm in 50u32..400, dgrw_t in -1790i32..3590) {
            // d60 and dgrw on their quanta (100 m, 0.1°), so that only the position of point
            // (1,1) is rounded.
            let d60 = f64::from(d60_hm) * 100.0;
            let dgrw = f64::from(dgrw_t) / 10.0;
            let p = PolarParams { north, pi, pj, d60, dgrw };
            let ig = p.encode().unwrap();
            prop_assert!(ig[3] >= 32768);
            let d = PolarParams::decode(north, ig);
            prop_assert_eq!(d.encode().unwrap(), ig);
            // The position of point (1,1) is stored to 180/16383° in latitude and 360/32767°
            // in longitude; turn that into grid units at its distance from the pole.
            let rho = 1.866_025 * 6.371e6;
            let r = (pi - 1.0).hypot(pj - 1.0) * d60;
            prop_assume!(r < 1.2e7);
            let q = (180.0_f64 / 16383.0).to_radians();
            let tol = ((rho / 2.0) * (1.0 + (r / rho).powi(2)) * q + r * q) / d60 + 1e-6;
            prop_assert!((d.pi - pi).abs() <= tol && (d.pj - pj).abs() <= tol, "{:?} vs {:?}", d, p);
            let dg = (d.dgrw - dgrw).rem_euclid(360.0);
            prop_assert!(dg.min(360.0 - dg) <= 0.05 + 1e-9);
        }

        #[test]
        fn e_params(xlat1 in -90.0..90.0_f64, xlon1 in 0.0..360.0_f64, xlat2 in -90.0..90.0_f64, xlon2 in 0.0..360.0_f64) {
            let p = RotatedParams { xlat1, xlon1, xlat2, xlon2 };
            let ig = p.encode().unwrap();
            let d = RotatedParams::decode(ig);
            prop_assert_eq!(d.encode().unwrap(), ig);
            let q = 1.0 / 80.0 + 1e-9;
            let dl = |a: f64, b: f64| { let x = (a - b).rem_euclid(360.0); x.min(360.0 - x) };
            prop_assert!((d.xlat1 - xlat1).abs() <= q && dl(d.xlon1, xlon1) <= q);
            prop_assert!((d.xlat2 - xlat2).abs() <= q && dl(d.xlon2, xlon2) <= q);
        }
    }
}

/// O grids (SPI/fstd2nc: 2-D `^^`/`>>` on the data record's own grtyp O) behave as Y grids.
#[test]
fn o_grid_is_a_point_cloud() {
    let m = Manifest::load("grids");
    let (_, d, _) = m
        .grids()
        .into_iter()
        .find(|(k, _, _)| k.starts_with("Y:"))
        .unwrap();
    let y = Grid::new(&d, GridOptions::default()).unwrap();
    let mut od = d.clone();
    od.grtyp = b'O';
    let o = Grid::new(&od, GridOptions::default()).unwrap();
    assert_eq!(y.lat_lon(), o.lat_lon());
    assert_eq!(o.grtyp(), 'O');
    assert!(o.geotransform().is_none());
}

#[test]
fn grids_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Grid>();
    check::<GridCache>();
    check::<grids::LatLon>();
}

/// Longitudes that round to a full turn share the encoding of 0°, so that decode∘encode is the
/// identity on igs (found by the round-trip properties above).
#[test]
fn longitudes_rounding_to_a_full_turn_wrap() {
    use grids::params::{PolarParams, RotatedParams};
    let e = RotatedParams {
        xlat1: 0.0,
        xlon1: 359.99,
        xlat2: 0.0,
        xlon2: 359.99,
    };
    let ig = e.encode().unwrap();
    assert_eq!(
        ig,
        RotatedParams {
            xlat1: 0.0,
            xlon1: 0.0,
            xlat2: 0.0,
            xlon2: 0.0
        }
        .encode()
        .unwrap()
    );
    assert_eq!(RotatedParams::decode(ig).encode().unwrap(), ig);

    let p = PolarParams {
        north: true,
        pi: -17.439_910_352_643_032,
        pj: -80.128_070_563_984_62,
        d60: 5000.0,
        dgrw: 77.2,
    };
    let ig = p.encode().unwrap();
    assert!(ig[2] < 32767, "{ig:?}");
    assert_eq!(PolarParams::decode(true, ig).encode().unwrap(), ig);
}
