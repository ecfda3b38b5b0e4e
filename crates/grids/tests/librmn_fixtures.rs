//! Every fixture grid of grids.fst and shapes.fst against librmn's own lat/lon (gdll).
//!
//! Tolerance: 1e-4° (longitude scaled by cos latitude) more than 1° from a pole, 3e-3° within
//! 1° of a pole, where librmn's float32 arithmetic dominates the difference.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::float_cmp,
    clippy::disallowed_methods,
    clippy::too_many_lines
)]

mod common;

use common::{err_deg, Manifest};
use grids::{Grid, GridOptions};

fn check_against_librmn(opts: GridOptions) -> Vec<String> {
    let m = Manifest::load("grids");
    let (report, seen) = compare_grids(&m, opts, fixed_set_tolerance);
    for t in ["A", "B", "G", "L", "N", "S", "E", "Z", "Y", "U", "#"] {
        assert!(seen.contains(t), "fixture grid type {t} not covered");
    }
    report
}

/// The tolerance of the fixed fixture set at latitude `lat` (see the top of the file).
fn fixed_set_tolerance(lat: f64) -> f64 {
    if lat.abs() > 89.0 {
        3e-3
    } else {
        1e-4
    }
}

/// The tolerance for grids drawn at random, which put points anywhere, far from the
/// projection centre too: librmn works in float32, where one rounding of a longitude near 360°
/// is 3e-5° (eight are allowed: 2.5e-4°, ≈ 28 m), and computes latitudes through an arc sine
/// whose error grows as 1/cos(lat) towards the poles (≈3.4e-6°/cos(lat) per rounding; four are
/// allowed). A formula error shows up orders of magnitude above this.
fn random_set_tolerance(lat: f64) -> f64 {
    let polar = 4.0 * 3.4e-6 / lat.to_radians().cos().abs().max(1e-9);
    fixed_set_tolerance(lat).max(2.5e-4 + polar)
}

/// Every grid of the manifest's "grids" section against librmn's gdll latitudes and
/// longitudes, each point within `tolerance(librmn's latitude)`: one report line per grid, and
/// the grid types seen.
fn compare_grids(
    m: &Manifest,
    opts: GridOptions,
    tolerance: fn(f64) -> f64,
) -> (Vec<String>, std::collections::BTreeSet<String>) {
    let mut report = vec![];
    let mut seen = std::collections::BTreeSet::new();
    for (key, d, g) in m.grids() {
        seen.insert(g["grtyp"].as_str().unwrap().to_owned());
        let grid = Grid::new(&d, opts).unwrap_or_else(|e| panic!("{key}: {e}"));
        let ll = grid.lat_lon();
        // Grids too big for the blob carry a few sample points instead (0-based i, j).
        let (points, lat, lon): (Vec<usize>, Vec<f64>, Vec<f64>) = if g.get("lat").is_some() {
            let lat = m.blob_f64(&g["lat"]);
            assert_eq!(lat.len(), ll.lat.len(), "{key}");
            ((0..lat.len()).collect(), lat, m.blob_f64(&g["lon"]))
        } else {
            let ni = g["ni"].as_u64().unwrap() as usize;
            let samples = g["samples"].as_array().unwrap();
            let at = |s: &serde_json::Value, k: &str| s[k].as_f64().unwrap();
            (
                samples
                    .iter()
                    .map(|s| at(s, "i") as usize + ni * at(s, "j") as usize)
                    .collect(),
                samples.iter().map(|s| at(s, "lat")).collect(),
                samples.iter().map(|s| at(s, "lon")).collect(),
            )
        };
        let (mut worst, mut worst_polar) = (0.0_f64, 0.0_f64);
        for ((&k, &want_lat), &want_lon) in points.iter().zip(&lat).zip(&lon) {
            let e = err_deg(ll.lat[k], ll.lon[k], want_lat, want_lon);
            assert!(
                e <= tolerance(want_lat),
                "{key}: point {k} off by {e:.2e}° at librmn ({want_lat}, {want_lon}), ours ({}, {})",
                ll.lat[k],
                ll.lon[k]
            );
            if want_lat.abs() > 89.0 {
                worst_polar = worst_polar.max(e);
            } else {
                worst = worst.max(e);
            }
        }
        report.push(format!(
            "{key:32} max err {worst:.2e}° (|lat|>89: {worst_polar:.2e}°)"
        ));
    }
    (report, seen)
}

/// Grids drawn at random and described by librmn (`bench/make_fixtures.py --random SEED`,
/// run by `scripts/oracle-random.sh`), from the manifests in `FSTGIS_EXTRA_FIXTURES`.
/// Without the variable there is nothing to check.
#[test]
fn extra_fixture_grids_match_librmn() {
    let Some(dir) = std::env::var_os("FSTGIS_EXTRA_FIXTURES") else {
        eprintln!("FSTGIS_EXTRA_FIXTURES not set: no extra fixtures to check");
        return;
    };
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let m = Manifest::load_path(&path);
        if m.json
            .get("grids")
            .is_none_or(|g| g.as_object().is_none_or(serde_json::Map::is_empty))
        {
            continue;
        }
        for opts in [
            GridOptions::default(),
            GridOptions {
                librmn_compat: true,
            },
        ] {
            let (report, seen) = compare_grids(&m, opts, random_set_tolerance);
            checked += report.len();
            println!("{}: {} grids, types {seen:?}", path.display(), report.len());
        }
    }
    assert!(checked > 0, "no grids in the extra fixtures");
}

#[test]
fn grids_fst_matches_librmn() {
    let r = check_against_librmn(GridOptions::default());
    println!("{}", r.join("\n"));
}

#[test]
fn grids_fst_matches_librmn_compat_mode() {
    check_against_librmn(GridOptions {
        librmn_compat: true,
    });
}

#[test]
fn shapes_fst_matches_librmn_samples() {
    let m = Manifest::load("shapes");
    for (key, d, g) in m.grids() {
        let grid = Grid::new(&d, GridOptions::default()).unwrap();
        let ll = grid.lat_lon();
        let (ni, _) = grid.shape();
        // shapes.bin is not shipped: check the stored samples, and for every grid the corners
        // implied by the manifest's min/max.
        if let Some(samples) = g["samples"].as_array() {
            for s in samples {
                let (i, j) = (
                    s["i"].as_u64().unwrap() as usize,
                    s["j"].as_u64().unwrap() as usize,
                );
                let k = i + j * ni;
                let e = err_deg(
                    ll.lat[k],
                    ll.lon[k],
                    s["lat"].as_f64().unwrap(),
                    s["lon"].as_f64().unwrap(),
                );
                assert!(e < 1e-4, "{key} ({i},{j}): {e}");
            }
        } else {
            let lat_min = ll.lat.iter().copied().fold(f64::INFINITY, f64::min);
            let lat_max = ll.lat.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            assert!(
                (lat_min - g["lat"]["min"].as_f64().unwrap()).abs() < 1e-4,
                "{key}"
            );
            assert!(
                (lat_max - g["lat"]["max"].as_f64().unwrap()).abs() < 1e-4,
                "{key}"
            );
            let lon_mean = ll.lon.iter().sum::<f64>() / ll.lon.len() as f64;
            assert!(
                (lon_mean - g["lon"]["mean"].as_f64().unwrap()).abs() < 1e-3,
                "{key}"
            );
        }
    }
}

#[test]
fn x_grid_is_refused_clearly() {
    let d = grids::GridDescriptor::simple(b'X', 12, 8, [0, 0, 0, 0]);
    let e = Grid::new(&d, GridOptions::default()).unwrap_err();
    assert!(matches!(e, grids::GridError::NotGeoreferenced { .. }));
    assert!(e.to_string().contains("no georeference"), "{e}");
    let e = Grid::new(
        &grids::GridDescriptor::simple(b'M', 12, 1, [1, 2, 3, 0]),
        GridOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, grids::GridError::Unsupported { .. }), "{e}");
}

/// The same grids, but with descriptors built from the FST file itself through the bridge.
#[test]
fn bridge_builds_the_same_descriptors_from_the_file() {
    let m = Manifest::load("grids");
    let file = fst_core::FstFile::open(common::fixture_dir().join("grids.fst")).unwrap();
    let by_key: std::collections::HashMap<String, grids::GridDescriptor> =
        m.grids().into_iter().map(|(k, d, _)| (k, d)).collect();
    let mut checked = 0;
    for rec in file.records() {
        let meta = m.record(u64::from(rec.index.0));
        let Some(key) = meta["grid"].as_str() else {
            if rec.grtyp == b'X' && rec.nomvar.trimmed() == "TT" {
                let d = grids::fst::descriptor_from_record(&file, rec).unwrap();
                assert!(Grid::new(&d, GridOptions::default()).is_err());
            }
            continue;
        };
        let d = grids::fst::descriptor_from_record(&file, rec).unwrap();
        assert_eq!(&d, &by_key[key], "record {}", rec.index);
        checked += 1;
    }
    assert_eq!(checked, 30);
}

/// The RSF (FST24) fixtures' Z-on-L grid through the bridge: the same descriptor as the XDF
/// twin, and coordinates lat0 + dlat·ay, lon0 + dlon·ax.
#[test]
fn bridge_reads_rsf_z_grid() {
    let dir = common::fixture_dir().join("../rsf");
    let mut descs = vec![];
    for name in ["rsf_basic.fst", "xdf_basic.fst"] {
        let file = fst_core::FstFile::open(dir.join(name)).unwrap();
        let rec = file
            .records()
            .iter()
            .find(|r| r.nomvar.trimmed() == "TT")
            .unwrap();
        descs.push(grids::fst::descriptor_from_record(&file, rec).unwrap());
    }
    assert_eq!(descs[0], descs[1]);
    let d = &descs[0];
    let pos = d.positional.as_ref().unwrap();
    let grid = Grid::new(d, GridOptions::default()).unwrap();
    assert_eq!(grid.ref_grtyp(), Some('L'));
    let p = grids::params::LatLonParams::decode(pos.ig);
    let ll = grid.lat_lon();
    let (ni, nj) = grid.shape();
    for j in 0..nj {
        for i in 0..ni {
            let k = i + j * ni;
            let lon = (p.lon0 + p.dlon * pos.x[i]).rem_euclid(360.0);
            assert!((ll.lat[k] - (p.lat0 + p.dlat * pos.y[j])).abs() < 1e-9);
            assert!(err_deg(ll.lat[k], ll.lon[k], ll.lat[k], lon) < 1e-9);
        }
    }
}

/// Where a polar grid point is the pole itself, librmn reports longitude 0; so do we.
#[test]
fn polar_pole_point_longitude_is_zero_like_librmn() {
    let m = Manifest::load("grids");
    let (_, d, g) = m
        .grids()
        .into_iter()
        .find(|(k, _, _)| k.starts_with("N:"))
        .unwrap();
    let grid = Grid::new(&d, GridOptions::default()).unwrap();
    // pi = 26, pj = 28 (1-based): the pole is point (25, 27).
    let k = 25 + 27 * 51;
    let lon = m.blob_f64(&g["lon"]);
    assert_eq!(grid.lat_lon().lat[k], 90.0);
    assert_eq!((grid.lat_lon().lon[k], lon[k]), (0.0, 0.0));
}
