//! Hostile and impossible descriptors (issue 14): a shape that fst-core accepts must not make a
//! grid allocate without bound, the bounding box comes from the edges only, and grids that
//! describe no place on the Earth are refused with a reason.
#![allow(clippy::unwrap_used, clippy::panic, clippy::float_cmp)]

mod common;

use common::Manifest;
use fst_core::Limits;
use grids::{GeoBox, Grid, GridDescriptor, GridError, GridOptions, Positional};

fn grid(grtyp: u8, ni: u32, nj: u32, ig: [u32; 4]) -> Result<Grid, GridError> {
    Grid::new(
        &GridDescriptor::simple(grtyp, ni, nj, ig),
        GridOptions::default(),
    )
}

fn invalid_detail(r: Result<Grid, GridError>) -> String {
    match r {
        Err(GridError::Invalid { detail, .. }) => detail,
        other => panic!("expected GridError::Invalid, got {other:?}"),
    }
}

/// The file: a header-only record claiming 46000 x 46000 points (2.1e9, under
/// fst-core's 2³¹ − 1 values) made every consumer compute 2 x 17 GB of latitude/longitude.
#[test]
fn a_huge_header_grid_refuses_its_arrays_but_answers_its_bbox() {
    for (grtyp, ig) in [(b'A', [0; 4]), (b'N', [230_000, 230_000, 0, 10])] {
        let g = grid(grtyp, 46_000, 46_000, ig).unwrap();
        match g.try_lat_lon() {
            Err(GridError::TooLarge { detail, .. }) => {
                assert!(detail.contains("33856000000 bytes"), "{detail}");
                assert!(detail.contains("max_decoded_bytes"), "{detail}");
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
        let b = g.bbox();
        assert!(b.south < b.north && b.west < b.east, "{b:?}");
    }
}

#[test]
fn lat_lon_follows_the_limits_it_was_built_with() {
    let d = GridDescriptor::simple(b'L', 100, 100, [10, 10, 9000, 0]);
    let small = Limits {
        max_decoded_bytes: 100 * 100 * 16 - 1,
        ..Limits::DEFAULT
    };
    let g = Grid::with_limits(&d, GridOptions::default(), &small).unwrap();
    assert!(matches!(g.try_lat_lon(), Err(GridError::TooLarge { .. })));
    let exact = Limits {
        max_decoded_bytes: 100 * 100 * 16,
        ..Limits::DEFAULT
    };
    let g = Grid::with_limits(&d, GridOptions::default(), &exact).unwrap();
    let ll = g.try_lat_lon().unwrap();
    assert_eq!(ll.lat.len(), 10_000);
    // Kept: the second call is the same arrays.
    assert!(std::sync::Arc::ptr_eq(&ll, &g.try_lat_lon().unwrap()));
    // The point count is checked at construction.
    let few = Limits {
        max_values_per_record: 9_999,
        ..Limits::DEFAULT
    };
    let e = Grid::with_limits(&d, GridOptions::default(), &few).unwrap_err();
    assert!(e.to_string().contains("max_values_per_record"), "{e}");
    let cache = grids::GridCache::with_limits(2, few);
    assert!(matches!(
        cache.get(&d, GridOptions::default()),
        Err(GridError::TooLarge { .. })
    ));
}

#[test]
fn axes_and_gaussian_latitudes_are_bounded_too() {
    // One row of 2³⁰ points: 8 GiB of axis.
    let e = grid(b'L', 1 << 30, 2, [1, 1, 0, 0]).unwrap_err();
    assert!(
        matches!(e, GridError::TooLarge { .. }) || matches!(e, GridError::Invalid { .. }),
        "{e}"
    );
    let e = grid(b'G', 2, 1 << 20, [0; 4]).unwrap_err();
    assert!(e.to_string().contains("Gaussian latitudes"), "{e}");
    // Hemispheric: twice the rows are computed.
    assert!(grid(b'G', 2, (1 << 14) + 1, [1, 0, 0, 0]).is_err());
    assert!(grid(b'G', 4, 64, [1, 0, 0, 0]).is_ok());
}

/// The bbox from the edges holds every point of the grid, and is no more than a cell larger
/// than the box of the points: checked on every fixture grid librmn wrote.
#[test]
fn bbox_from_edges_holds_every_point_of_the_fixture_grids() {
    for name in ["grids", "shapes"] {
        let m = Manifest::load(name);
        for (key, d, _) in m.grids() {
            let g = Grid::new(&d, GridOptions::default()).unwrap();
            let b = g.bbox();
            let ll = g.lat_lon();
            let (ni, nj) = g.shape();
            let (s, n) = ll
                .lat
                .iter()
                .fold((90.0f64, -90.0f64), |(a, b), &v| (a.min(v), b.max(v)));
            assert!(
                b.south <= s + 1e-9 && b.north >= n - 1e-9,
                "{key}: {b:?} vs {s}..{n}"
            );
            let inside_lon = |lon: f64| {
                b.east - b.west >= 360.0
                    || [-360.0, 0.0, 360.0]
                        .iter()
                        .any(|k| lon + k >= b.west - 1e-9 && lon + k <= b.east + 1e-9)
            };
            for (k, &lon) in ll.lon.iter().enumerate() {
                assert!(
                    inside_lon(lon),
                    "{key}: point {k} at lon {lon} outside {b:?}"
                );
            }
            // Not much larger than the points: half a cell each way, with a cell no larger than
            // the mean spacing by more than the grid's own stretch.
            let cell_lat = (n - s) / nj as f64;
            if b.north < 90.0 && b.south > -90.0 {
                let slack = (b.north - n) + (s - b.south);
                assert!(slack <= 4.0 * cell_lat + 0.5, "{key}: {b:?} vs {s}..{n}");
            }
            let _ = ni;
        }
    }
}

#[test]
fn bbox_of_polar_grids_with_the_pole_spans_every_longitude() {
    // grids.fst's S grid: the pole at (20, 20) of 41 x 41.
    let s = grid(b'S', 41, 41, [210, 210, 1000, 2000]).unwrap();
    let b = s.bbox();
    assert_eq!((b.west, b.east, b.south), (-180.0, 180.0, -90.0), "{b:?}");
    assert!(b.north > -90.0 && b.north < 0.0, "{b:?}");
    // The same grid with the pole far outside: a regional box.
    let off = grid(b'S', 41, 41, [2000, 2000, 1000, 2000]).unwrap();
    let b = off.bbox();
    assert!(b.east - b.west < 180.0 && b.south > -90.0, "{b:?}");
    // Global grids: the whole globe (A: half a cell beyond the outer rows is the pole; G:
    // half the spacing beyond the outer Gaussian latitudes, as `index_of` answers).
    assert_eq!(grid(b'A', 64, 32, [0; 4]).unwrap().bbox(), GeoBox::WORLD);
    let g = grid(b'G', 64, 32, [0; 4]).unwrap().bbox();
    assert_eq!((g.west, g.east), (-180.0, 180.0));
    assert!(g.north > 88.0 && g.south == -g.north, "{g:?}");
}

#[test]
fn bbox_crosses_the_antimeridian_the_short_way() {
    // L grid from 170°E, 20 columns of 1°: 170..189 (and half a cell).
    let g = grid(b'L', 20, 10, [100, 100, 9000, 17000]).unwrap();
    assert_eq!(g.bbox().to_array(), [169.5, -0.5, 189.5, 9.5]);
}

/// Issue 14, defect 8: an L grid reaching past ±90° was published (gdalinfo showed an
/// upper-left latitude of 23029.75).
#[test]
fn l_grids_past_the_pole_are_refused() {
    let d = invalid_detail(grid(b'L', 100, 100, [50, 50, 16_000_000, 0]));
    assert!(d.contains("[-90, 90]"), "{d}");
    let d = invalid_detail(grid(b'L', 10, 200, [100, 100, 0, 0]));
    assert!(d.contains("reach latitude 109"), "{d}");
    // Up to the pole exactly is a valid (global) grid.
    grid(b'L', 360, 181, [100, 100, 0, 0]).unwrap();
    grid(b'L', 1, 1, [100, 100, 18_000, 0]).unwrap();
    assert!(grid(b'L', 1, 2, [100, 100, 18_000, 0]).is_err());
}

#[test]
fn polar_grids_off_the_earth_are_refused() {
    // New-style encoding: the latitude of point (1,1) in 16383 steps of 180/16383°; a larger
    // field runs past the south pole.
    // (16384 more is the flag of dgrw's sign.)
    let d = invalid_detail(grid(
        b'N',
        10,
        10,
        [100, 1100, 14844, 32768 + 16384 + 16384],
    ));
    assert!(d.contains("past the pole"), "{d}");
    let d = invalid_detail(grid(
        b'N',
        10,
        10,
        [100, 1100, 14844, 32768 + 16384 + 20000],
    ));
    assert!(d.contains("past the pole"), "{d}");
    // Valid extremes of the same field.
    grid(b'N', 10, 10, [100, 1100, 14844, 32768 + 16383]).unwrap();
    grid(b'N', 10, 10, [100, 1100, 14844, 32768 + 16384 + 16383]).unwrap();
    // A grid length at 60° longer than half a great circle (new style, km: ig1·1000 m).
    let d = invalid_detail(grid(b'N', 10, 10, [30_000, 1100, 32768 + 100, 32768 + 100]));
    assert!(d.contains("half a great circle"), "{d}");
    let d = invalid_detail(grid(b'S', 10, 10, [200, 200, 0, 0]));
    assert!(d.contains("d60 = 0"), "{d}");
}

#[test]
fn rotations_with_latitudes_off_the_sphere_are_refused() {
    // ig1 carries the high bits of 40·(xlat1 + 90): 1900 gives xlat1 = 100°.
    let d = invalid_detail(grid(b'E', 20, 10, [1900, 450, 56000, 43200]));
    assert!(d.contains("xlat1 = 100"), "{d}");
    // ig2 carries xlat2 (c > 10801 after the sign fold is past 90°).
    let d = invalid_detail(grid(b'E', 20, 10, [1350, 4000, 56000, 43200]));
    assert!(d.contains("xlat2"), "{d}");
    grid(b'E', 20, 10, [1350, 450, 56000, 43200]).unwrap();
}

#[test]
fn z_on_l_past_the_pole_is_refused() {
    let pos = |y: Vec<f64>| Positional {
        grtyp: b'L',
        ig: [100, 100, 0, 0],
        x: (0..4).map(f64::from).collect::<Vec<_>>().into(),
        y: y.into(),
    };
    let z = |y: Vec<f64>| {
        let n = y.len() as u32;
        Grid::new(
            &GridDescriptor::with_positional(b'Z', 4, n, [1, 2, 3, 0], pos(y)),
            GridOptions::default(),
        )
    };
    // lat0 = -90, dlat = 1: `^^` = 0..180 reaches the north pole, 181 is past it.
    z(vec![0.0, 90.0, 180.0]).unwrap();
    let d = invalid_detail(z(vec![0.0, 90.0, 181.0]));
    assert!(d.contains("latitude 91"), "{d}");
}

mod arbitrary_descriptors {
    use super::*;
    use proptest::prelude::*;

    /// Small limits, so that a grid that passes them has arrays a test can afford.
    const LIMITS: Limits = Limits {
        max_decoded_bytes: 16 << 20,
        ..Limits::DEFAULT
    };

    fn descriptor() -> impl Strategy<Value = GridDescriptor> {
        let grtyp = prop::sample::select(b"ABGLNSEXZYU#M?".to_vec());
        let size = prop_oneof![1u32..64, 1u32..(1 << 24)];
        let ig = prop_oneof![0u32..40_000, 0u32..(1 << 24)];
        let values = prop::collection::vec(-1e3f64..1e3, 0..64);
        (
            grtyp,
            size.clone(),
            size,
            [ig.clone(), ig.clone(), ig.clone(), ig],
            prop::option::of((
                prop::sample::select(b"ELNSFO".to_vec()),
                values.clone(),
                values,
            )),
        )
            .prop_map(|(grtyp, ni, nj, ig, pos)| GridDescriptor {
                grtyp,
                ni,
                nj,
                ig,
                positional: pos.map(|(g, x, y)| Positional {
                    grtyp: g,
                    ig,
                    x: x.into(),
                    y: y.into(),
                }),
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Whatever a directory says: no panic, an error or a grid whose bounded operations
        /// answer quickly, with a box on the sphere and arrays only within the limits.
        #[test]
        fn any_descriptor_gives_an_error_or_a_bounded_grid(d in descriptor()) {
            let Ok(g) = Grid::with_limits(&d, GridOptions::default(), &LIMITS) else {
                return Ok(());
            };
            let b = g.bbox();
            prop_assert!(b.south >= -90.0 && b.north <= 90.0 && b.south <= b.north, "{b:?}");
            prop_assert!(b.west >= -180.0 && b.east - b.west <= 360.0, "{b:?}");
            let _ = g.geotransform();
            let _ = g.index_of(45.0, 10.0);
            let (ni, nj) = g.shape();
            match g.try_lat_lon() {
                Ok(ll) => {
                    prop_assert!((ni * nj * 16) as u64 <= LIMITS.max_decoded_bytes);
                    let on_sphere = |v: &f64| v.is_nan() || v.abs() <= 90.0 + 1e-9;
                    prop_assert!(ll.lat.iter().all(on_sphere));
                }
                Err(e) => prop_assert!(matches!(e, GridError::TooLarge { .. }), "{e}"),
            }
        }
    }
}
