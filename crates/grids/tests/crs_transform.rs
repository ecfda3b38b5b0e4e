//! `crs::CrsTransform`: conversions in GIS axis order, NaN where PROJ cannot, and no memory
//! kept per creation (the server makes one per client CRS and worker thread).
#![cfg(feature = "proj")]
#![allow(clippy::unwrap_used, clippy::panic, clippy::float_cmp)]

use grids::crs::CrsTransform;

#[test]
fn converts_in_gis_axis_order_both_ways() {
    // EPSG:4326 is latitude-first for its authority; the transform takes longitude first.
    let to_lcc = CrsTransform::new("EPSG:4326", "EPSG:3978").unwrap();
    let back = CrsTransform::new("EPSG:3978", "EPSG:4326").unwrap();
    let (lon0, lat0) = (vec![-95.0, -75.7, -123.1], vec![49.0, 45.4, 49.3]);
    let (mut x, mut y) = (lon0.clone(), lat0.clone());
    to_lcc.convert(&mut x, &mut y);
    // EPSG:3978's natural origin is 95°W, 49°N, with no false easting or northing.
    assert!(x[0].abs() < 1e-6 && y[0].abs() < 1e-6, "{x:?} {y:?}");
    assert!(x[1] > 1e6 && x[2] < -1e6, "{x:?}");
    back.convert(&mut x, &mut y);
    for k in 0..3 {
        assert!((x[k] - lon0[k]).abs() < 1e-9 && (y[k] - lat0[k]).abs() < 1e-9);
    }
}

#[test]
fn points_proj_cannot_convert_are_nan_in_both_coordinates() {
    let t = CrsTransform::new("EPSG:3857", "EPSG:4326").unwrap();
    let (mut x, mut y) = (vec![0.0, f64::INFINITY, 1.0], vec![0.0, 0.0, f64::NAN]);
    t.convert(&mut x, &mut y);
    assert!(x[0].abs() < 1e-12 && y[0].abs() < 1e-12);
    assert!(x[1].is_nan() && y[1].is_nan());
    assert!(x[2].is_nan() && y[2].is_nan());
}

#[test]
fn failures_are_errors_naming_both_crss() {
    for (from, to) in [
        ("EPSG:99999999", "EPSG:4326"),
        ("EPSG:4326", "+proj=nonsense"),
        ("EPSG:4326", "EPSG:43\u{0}26"),
    ] {
        let e = CrsTransform::new(from, to).unwrap_err().to_string();
        assert!(e.contains("PROJ"), "{e}");
    }
}

#[test]
fn moves_between_threads() {
    let t = CrsTransform::new("EPSG:3995", "EPSG:4326").unwrap();
    let (x, y) = std::thread::spawn(move || {
        let (mut x, mut y) = (vec![0.0], vec![-1e6]);
        t.convert(&mut x, &mut y);
        (x[0], y[0])
    })
    .join()
    .unwrap();
    assert!(x.abs() < 1e-9 && y > 80.0 && y < 81.0, "{x} {y}");
}

fn rss_kb() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4
}

/// Creating and dropping transforms, failures included, keeps nothing per creation: a second
/// pass over the same CRSs does not grow the process. (proj 0.27's `Proj` kept some 30 KB
/// per failed creation, so a client cycling through bad codes grew a server without bound.)
#[test]
fn creating_and_dropping_keeps_no_memory() {
    // Valid map CRSs, CRSs with no operation to a geographic CRS, and codes PROJ does not know.
    let codes: Vec<String> = (3000..3400)
        .chain(4970..4990)
        .chain(5700..5720)
        .chain(90_000..90_200)
        .map(|c| format!("EPSG:{c}"))
        .collect();
    let pass = || {
        let mut made = 0;
        for c in &codes {
            if let Ok(t) = CrsTransform::new(c, "EPSG:4326") {
                let (mut x, mut y) = (vec![1000.0], vec![1000.0]);
                t.convert(&mut x, &mut y);
                made += 1;
            }
        }
        made
    };
    // The first passes fill PROJ's caches (database, grids) and the allocator's pools.
    let made = pass();
    assert!(made > 100, "only {made} transforms made");
    pass();
    let before = rss_kb();
    for _ in 0..3 {
        pass();
    }
    let grown = rss_kb().saturating_sub(before);
    // A leak of 30 KB per failed creation would be 3 × ~250 × 30 KB ≈ 22 MB here.
    assert!(
        grown < 4_000,
        "RSS grew {grown} KB over 3 passes of {} creations",
        codes.len()
    );
}
