//! The inverse mapping: CRS + geotransform (or axes, or lat/lon arrays) → FST grid →
//! `Grid::new` → the source's latitude/longitude at every pixel centre.
//!
//! The source's latitudes and longitudes come from PROJ through the `proj` crate (not through
//! the code under test), from the CRS to its own geographic CRS.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::float_cmp,
    clippy::disallowed_methods,
    clippy::too_many_lines
)]

use grids::from_crs::{
    from_axes, from_geotransform, from_lat_lon, FromCrsError, FromCrsOptions, FstGrid,
    PositionalPrecision,
};
use grids::{gaussian_latitudes, Grid, GridOptions};
use proj::Proj;
use proptest::prelude::*;

const F64: FromCrsOptions = FromCrsOptions {
    precision: PositionalPrecision::F64,
    tolerance_deg: 1e-6,
    max_points: 1 << 24,
};

fn f32_opts() -> FromCrsOptions {
    FromCrsOptions::default()
}

/// Great-circle distance in degrees (chord of unit vectors: exact for tiny distances).
fn dist(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let u = |la: f64, lo: f64| {
        let (sp, cp) = la.to_radians().sin_cos();
        let (sl, cl) = lo.to_radians().sin_cos();
        [cp * cl, cp * sl, sp]
    };
    let (a, b) = (u(lat1, lon1), u(lat2, lon2));
    let c = ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt();
    (2.0 * (c / 2.0).min(1.0).asin()).to_degrees()
}

/// Latitude/longitude of every pixel centre (line-major, source order) of a geotransformed
/// raster, through PROJ from `crs` to `geo`.
fn source_lat_lon(crs: &str, geo: &str, gt: &[f64; 6], ni: usize, nj: usize) -> Vec<(f64, f64)> {
    let p = Proj::new_known_crs(crs, geo, None).unwrap_or_else(|e| panic!("{crs}: {e}"));
    let mut out = Vec::with_capacity(ni * nj);
    for k in 0..nj {
        for i in 0..ni {
            let (fi, fk) = (i as f64 + 0.5, k as f64 + 0.5);
            let x = gt[0] + fi * gt[1] + fk * gt[2];
            let y = gt[3] + fi * gt[4] + fk * gt[5];
            let (lon, lat) = p.convert((x, y)).unwrap();
            out.push((lat, lon));
        }
    }
    out
}

/// Worst distance between the source's points and those of the FST grid read back.
fn round_trip_error(g: &FstGrid, src: &[(f64, f64)]) -> f64 {
    let grid = Grid::new(&g.descriptor, GridOptions::default()).unwrap();
    let ll = grid.lat_lon();
    let (ni, nj) = (g.descriptor.ni as usize, g.descriptor.nj as usize);
    assert_eq!(src.len(), ni * nj);
    let mut worst = 0.0_f64;
    for k in 0..nj {
        let j = if g.flip_rows { nj - 1 - k } else { k };
        for i in 0..ni {
            let (lat, lon) = src[i + k * ni];
            let e = dist(lat, lon, ll.lat[i + j * ni], ll.lon[i + j * ni]);
            assert!(!e.is_nan());
            worst = worst.max(e);
        }
    }
    worst
}

/// Round trip with both precisions: float64 records always within 1e-6°; float32 within what
/// the grid reports (it checks every point of these small grids), and within 1e-6° when
/// `f32_exact`.
fn check(
    crs: &str,
    geo: &str,
    gt: &[f64; 6],
    ni: usize,
    nj: usize,
    f32_exact: bool,
) -> [FstGrid; 2] {
    let src = source_lat_lon(crs, geo, gt, ni, nj);
    let g64 = from_geotransform(crs, gt, ni as u32, nj as u32, &F64).unwrap();
    let e64 = round_trip_error(&g64, &src);
    assert!(e64 <= 1e-6, "{crs} {gt:?}: f64 {e64} {g64:?}");
    let g32 = from_geotransform(crs, gt, ni as u32, nj as u32, &f32_opts()).unwrap();
    let e32 = round_trip_error(&g32, &src);
    assert!(
        (e32 - g32.max_error_deg).abs() <= 1e-9,
        "{crs}: reported {} measured {e32}",
        g32.max_error_deg
    );
    // float32 keeps 24 bits: at worst half an ulp of 180° (Y longitudes), 7.6e-6°.
    assert!(e32 <= 1e-5, "{crs} {gt:?}: f32 {e32} {:?}", g32.notes);
    if f32_exact {
        assert!(e32 <= 1e-6, "{crs} {gt:?}: f32 {e32} {:?}", g32.notes);
    }
    [g64, g32]
}

const WGS84: &str = "+proj=longlat +datum=WGS84 +no_defs +type=crs";

#[test]
fn longlat_exact_l_and_quantised_z() {
    let [g, _] = check(
        "EPSG:4326",
        WGS84,
        &[-180.0, 1.0, 0.0, 90.0, 0.0, -1.0],
        360,
        180,
        true,
    );
    assert_eq!(
        (g.descriptor.grtyp, g.descriptor.ig),
        (b'L', [100, 100, 50, 18050])
    );
    assert!(g.flip_rows && g.notes.is_empty());
    // 0.125° centred on multiples of 1/16°: not a 0.01° L, but exact as Z on L in hundredths.
    let [g, g32] = check(
        "OGC:CRS84",
        WGS84,
        &[10.0, 0.125, 0.0, 60.0, 0.0, -0.125],
        80,
        50,
        true,
    );
    assert_eq!(g.descriptor.grtyp, b'Z');
    let rec = g32.positional_records().unwrap();
    assert_eq!((rec.grtyp, rec.ig[0], rec.ig[1]), (b'L', 1, 1));
    assert_eq!((rec.x_shape, rec.y_shape), ((80, 1), (1, 50)));
    assert_eq!(&rec.ip, &g32.descriptor.ig[..3]);
    assert!(
        rec.x.iter().all(|&v| v >= 0.0),
        "no negative `>>` on L (librmn's quirk)"
    );
    assert!(g.notes.iter().any(|n| n.starts_with("L:")), "{:?}", g.notes);
    // Any ellipsoid or sphere: the lat/lon are the CRS's own.
    check(
        "+proj=longlat +R=6371229 +type=crs",
        "+proj=longlat +R=6371229 +type=crs",
        &[-30.0, 0.5, 0.0, 10.0, 0.0, 0.5],
        20,
        10,
        true,
    );
}

#[test]
fn global_a_b_g() {
    // A: 2.5°, no pole rows, north up → ig2 = 1 and no flip.
    let (ni, nj) = (144, 72);
    let [g, _] = check(
        "EPSG:4326",
        WGS84,
        &[-1.25, 2.5, 0.0, 90.0, 0.0, -2.5],
        ni,
        nj,
        true,
    );
    assert_eq!((g.descriptor.grtyp, g.descriptor.ig), (b'A', [0, 1, 0, 0]));
    assert!(!g.flip_rows);
    // B: poles included, last column repeats the first; south first.
    let [g, _] = check(
        "EPSG:4326",
        WGS84,
        &[-2.5, 5.0, 0.0, -92.5, 0.0, 5.0],
        73,
        37,
        true,
    );
    assert_eq!((g.descriptor.grtyp, g.descriptor.ig), (b'B', [0, 0, 0, 0]));
    // A northern hemisphere.
    let [g, _] = check(
        "EPSG:4326",
        WGS84,
        &[-1.0, 2.0, 0.0, 0.0, 0.0, 1.0],
        180,
        90,
        true,
    );
    assert_eq!((g.descriptor.grtyp, g.descriptor.ig), (b'A', [1, 0, 0, 0]));
    // G: Gaussian latitudes from grids' own, north to south as GRIB has them.
    let nj = 48;
    let mut lat = gaussian_latitudes(nj);
    lat.reverse();
    let lon: Vec<f64> = (0..96).map(|i| i as f64 * 3.75).collect();
    let g = from_axes("EPSG:4326", &lon, &lat, &f32_opts()).unwrap();
    assert_eq!((g.descriptor.grtyp, g.descriptor.ig), (b'G', [0, 1, 0, 0]));
    assert!(g.max_error_deg <= 1e-9);
    // ... and its southern half.
    let south: Vec<f64> = gaussian_latitudes(2 * nj)[..nj].to_vec();
    let g = from_axes("EPSG:4326", &lon, &south, &f32_opts()).unwrap();
    assert_eq!((g.descriptor.grtyp, g.descriptor.ig), (b'G', [2, 0, 0, 0]));
    // Latitudes 1e-4° off are not Gaussian: Z.
    let off: Vec<f64> = lat.iter().map(|v| v + 1e-4).collect();
    let g = from_axes("EPSG:4326", &lon, &off, &F64).unwrap();
    assert_eq!(g.descriptor.grtyp, b'Z');
}

const SPHERE_GRIB: &str = "+proj=longlat +R=6371229 +no_defs +type=crs";

fn netcdf_rotated_wkt(plat: f64, plon: f64, north_pole_grid_lon: f64) -> String {
    format!(
        r#"GEOGCRS["Rotated_pole",BASEGEOGCRS["unknown",DATUM["unknown",ELLIPSOID["unknown",6371229,0,LENGTHUNIT["metre",1]]],PRIMEM["Greenwich",0,ANGLEUNIT["degree",0.0174532925199433]]],DERIVINGCONVERSION["Pole rotation (netCDF CF convention)",METHOD["Pole rotation (netCDF CF convention)"],PARAMETER["Grid north pole latitude (netCDF CF convention)",{plat},ANGLEUNIT["degree",0.0174532925199433]],PARAMETER["Grid north pole longitude (netCDF CF convention)",{plon},ANGLEUNIT["degree",0.0174532925199433]],PARAMETER["North pole grid longitude (netCDF CF convention)",{north_pole_grid_lon},ANGLEUNIT["degree",0.0174532925199433]]],CS[ellipsoidal,2],AXIS["latitude",north,ORDER[1],ANGLEUNIT["degree",0.0174532925199433]],AXIS["longitude",east,ORDER[2],ANGLEUNIT["degree",0.0174532925199433]]]"#
    )
}

fn grib_rotated_wkt(splat: f64, splon: f64, angle: f64) -> String {
    format!(
        r#"GEOGCRS["Coordinate System imported from GRIB file",BASEGEOGCRS["Coordinate System imported from GRIB file",DATUM["unnamed",ELLIPSOID["Sphere",6371229,0,LENGTHUNIT["metre",1]]],PRIMEM["Greenwich",0,ANGLEUNIT["degree",0.0174532925199433]]],DERIVINGCONVERSION["Pole rotation (GRIB convention)",METHOD["Pole rotation (GRIB convention)"],PARAMETER["Latitude of the southern pole (GRIB convention)",{splat},ANGLEUNIT["degree",0.0174532925199433]],PARAMETER["Longitude of the southern pole (GRIB convention)",{splon},ANGLEUNIT["degree",0.0174532925199433]],PARAMETER["Axis rotation angle (GRIB convention)",{angle},ANGLEUNIT["degree",0.0174532925199433]]],CS[ellipsoidal,2],AXIS["latitude",north,ORDER[1],ANGLEUNIT["degree",0.0174532925199433]],AXIS["longitude",east,ORDER[2],ANGLEUNIT["degree",0.0174532925199433]]]"#
    )
}

#[test]
fn rotated_pole_in_every_spelling() {
    // A COSMO-like domain: rotated pole (40°N, 170°W), 0.0625° cells around rotated (0, 0).
    let gt = [-5.0, 0.0625, 0.0, 4.0, 0.0, -0.0625];
    let defs = [
        "+proj=ob_tran +o_proj=longlat +o_lat_p=40 +o_lon_p=0 +lon_0=10 +R=6371229 +type=crs"
            .to_owned(),
        // The same pole with o_lon_p shifted by 180° (the rotated frame centred elsewhere).
        "+proj=ob_tran +o_proj=longlat +o_lat_p=40 +o_lon_p=180 +lon_0=10 +R=6371229 +type=crs"
            .to_owned(),
        netcdf_rotated_wkt(40.0, -170.0, 0.0),
        // WKT1 as GDAL's netCDF driver writes it (PROJ4 extension, radians-per-unit quirk).
        r#"GEOGCS["Rotated_pole",DATUM["unknown",SPHEROID["Sphere",6371229,0]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],EXTENSION["PROJ4","+proj=ob_tran +o_proj=longlat +lon_0=10 +o_lon_p=0 +o_lat_p=40 +a=6371229 +b=6371229 +to_meter=0.0174532925199 +wktext"]]"#.to_owned(),
        grib_rotated_wkt(-40.0, 10.0, 0.0),
    ];
    for def in &defs {
        let [g, g32] = check(def, SPHERE_GRIB, &gt, 160, 128, true);
        assert_eq!(g.descriptor.grtyp, b'Z', "{def}");
        let rec = g.positional_records().unwrap();
        assert_eq!(rec.grtyp, b'E');
        assert!(g.flip_rows);
        assert!(g32.max_error_deg <= 1e-6, "{def}: {}", g32.max_error_deg);
    }
    // A pole off the 1/40° lattice cannot be an E rotation: Y, exact in float64.
    let def = "+proj=ob_tran +o_proj=longlat +o_lat_p=37.4321 +o_lon_p=0 +lon_0=-12.3456 \
               +R=6371229 +type=crs";
    let [g, g32] = check(def, SPHERE_GRIB, &gt, 40, 30, false);
    assert_eq!(g.descriptor.grtyp, b'Y');
    assert_eq!(g.positional_records().unwrap().x_shape, (40, 30));
    assert!(!g.flip_rows);
    assert!(g.notes.iter().any(|n| n.contains("1/40")), "{:?}", g.notes);
    // float32 longitudes in (-180, 180] hold ~4e-6° at worst here.
    assert!(g32.max_error_deg <= 1e-5, "{}", g32.max_error_deg);
}

#[test]
fn float32_rotated_axes_are_kept() {
    // netCDF rlon/rlat stored as float32: `>>`/`^^` are those very values (the rotated frame
    // of o_lon_p = 0 is ours up to a multiple of 90°, so nothing is added to them).
    let def = netcdf_rotated_wkt(42.5, -162.0, 0.0);
    let x: Vec<f64> = (0..90)
        .map(|i| f64::from((-5.0 + 0.11 * f64::from(i)) as f32))
        .collect();
    let y: Vec<f64> = (0..70)
        .map(|j| f64::from((4.0 - 0.11 * f64::from(j)) as f32))
        .collect();
    let g = from_axes(&def, &x, &y, &f32_opts()).unwrap();
    let rec = g.positional_records().unwrap();
    assert_eq!((g.descriptor.grtyp, rec.grtyp), (b'Z', b'E'));
    assert_eq!(&rec.x[..], &x[..]);
    let ys: Vec<f64> = y.iter().rev().copied().collect();
    assert_eq!(&rec.y[..], &ys[..]);
    // The reader fits a uniform axis through float32 values that are evenly spaced to float32
    // precision, so interior points move by up to half an ulp.
    assert!(g.max_error_deg <= 1e-6, "{}", g.max_error_deg);
    let p = Proj::new_known_crs(&def, SPHERE_GRIB, None).unwrap();
    let src: Vec<(f64, f64)> = y
        .iter()
        .flat_map(|&b| x.iter().map(move |&a| (a, b)))
        .map(|q| {
            let (lon, lat) = p.convert(q).unwrap();
            (lat, lon)
        })
        .collect();
    assert!(round_trip_error(&g, &src) <= 1e-6);
}

#[test]
fn polar_stereographic() {
    // FST's own definition: exact N (old-style igs), pole at pi = 51, pj = 41 (1-based).
    let north = "+proj=stere +lat_0=90 +lat_ts=60 +lon_0=-100 +x_0=0 +y_0=0 +R=6371000 +type=crs";
    let geo = "+proj=longlat +R=6371000 +type=crs";
    let d60 = 50_000.0;
    let gt = [-50.5 * d60, d60, 0.0, 40.0 * d60 + d60 / 2.0, 0.0, -d60];
    let [g, _] = check(north, geo, &gt, 101, 81, true);
    assert_eq!(g.descriptor.grtyp, b'N', "{:?}", g.notes);
    let p = grids::params::PolarParams::decode(true, g.descriptor.ig);
    assert_eq!((p.pi, p.pj, p.d60), (51.0, 41.0, d60));
    // The same as WKT1 (variant B, as GDAL writes it).
    let wkt1 = r#"PROJCS["unnamed",GEOGCS["unknown",DATUM["unknown",SPHEROID["Sphere",6371000,0]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Polar_Stereographic"],PARAMETER["latitude_of_origin",60],PARAMETER["central_meridian",-100],PARAMETER["false_easting",0],PARAMETER["false_northing",0],UNIT["metre",1]]"#;
    let [g1, _] = check(wkt1, geo, &gt, 101, 81, true);
    assert_eq!(g1.descriptor, g.descriptor);
    // South, variant A with its scale factor on another sphere: same geometry, d60 scaled.
    let k0 = f64::midpoint(1.0, 60f64.to_radians().sin());
    let south = format!("+proj=stere +lat_0=-90 +k_0={k0} +lon_0=30 +R=6371229 +type=crs");
    let [g, _] = check(
        &south,
        "+proj=longlat +R=6371229 +type=crs",
        &[-2e6, 25_000.0, 0.0, 2e6, 0.0, -25_000.0],
        160,
        160,
        false,
    );
    assert!(matches!(g.descriptor.grtyp, b'S' | b'Z'), "{g:?}");
    // lat_ts = 70 on the sphere: only a scale; 12.5 km cells centred on half cells → Z on N.
    let ts70 = "+proj=stere +lat_0=90 +lat_ts=70 +lon_0=-45 +R=6371000 +type=crs";
    let [g, _] = check(
        ts70,
        geo,
        &[-1e6, 12_500.0, 0.0, 1e6, 0.0, -12_500.0],
        160,
        160,
        false,
    );
    assert!(matches!(g.descriptor.grtyp, b'N' | b'Z'), "{g:?}");
    // On an ellipsoid (NSIDC EPSG:3413), FST's spherical formulas do not apply: Y.
    let [g, _] = check(
        "EPSG:3413",
        WGS84,
        &[-1e6, 25_000.0, 0.0, 1e6, 0.0, -25_000.0],
        40,
        40,
        false,
    );
    assert_eq!(g.descriptor.grtyp, b'Y');
}

#[test]
fn other_projections_become_y() {
    let gt = [-1e6, 10_000.0, 0.0, 6e6, 0.0, -10_000.0];
    let [g, g32] = check("EPSG:3857", WGS84, &gt, 50, 40, false);
    assert_eq!(g.descriptor.grtyp, b'Y');
    assert!(g32.max_error_deg < 1e-5);
    // A rotated (non-north-up) geotransform on longlat is Y too.
    let gt = [10.0, 0.1, 0.02, 50.0, 0.01, -0.1];
    let [g, _] = check("EPSG:4326", WGS84, &gt, 30, 20, false);
    assert_eq!(g.descriptor.grtyp, b'Y');
    let lcc = "+proj=lcc +lat_1=49 +lat_2=77 +lat_0=49 +lon_0=-95 +datum=NAD83 +type=crs";
    let [g, _] = check(
        lcc,
        "+proj=longlat +datum=NAD83 +type=crs",
        &[-2e6, 50_000.0, 0.0, 2e6, 0.0, -50_000.0],
        40,
        30,
        false,
    );
    assert_eq!(g.descriptor.grtyp, b'Y');
}

#[test]
fn lat_lon_arrays() {
    // A product of axes that wraps the antimeridian: Z or L on longlat.
    let (ni, nj) = (6, 3);
    let xs = [357.0, 358.0, 359.0, 0.0, 1.0, 2.0];
    let ys = [50.0, 49.0, 48.0];
    let lat: Vec<f64> = ys.iter().flat_map(|&y| [y; 6]).collect();
    let lon: Vec<f64> = ys.iter().flat_map(|_| xs).collect();
    let g = from_lat_lon(ni, nj, &lat, &lon, &f32_opts()).unwrap();
    assert_eq!(
        (g.descriptor.grtyp, g.descriptor.ig),
        (b'L', [100, 100, 13800, 35700])
    );
    assert!(g.flip_rows && g.max_error_deg < 1e-9);
    // Gaussian latitudes as 2-D arrays (south to north): G.
    let glat = gaussian_latitudes(32);
    let g_lat: Vec<f64> = glat.iter().flat_map(|&y| [y; 64]).collect();
    let g_lon: Vec<f64> = glat
        .iter()
        .flat_map(|_| (0..64).map(|i| f64::from(i) * 5.625))
        .collect();
    let g = from_lat_lon(64, 32, &g_lat, &g_lon, &f32_opts()).unwrap();
    assert_eq!((g.descriptor.grtyp, g.descriptor.ig), (b'G', [0, 0, 0, 0]));
    assert!(!g.flip_rows);
    // A curvilinear grid: Y, row order kept.
    let lat2: Vec<f64> = (0..ni * nj)
        .map(|k| 40.0 + (k / ni) as f64 + 0.01 * (k % ni) as f64)
        .collect();
    let g = from_lat_lon(ni, nj, &lat2, &lon, &F64).unwrap();
    assert_eq!(g.descriptor.grtyp, b'Y');
    assert!(!g.flip_rows && g.max_error_deg <= 1e-12);
    let src: Vec<(f64, f64)> = lat2.iter().zip(&lon).map(|(&a, &b)| (a, b)).collect();
    assert!(round_trip_error(&g, &src) <= 1e-12);
}

#[test]
fn refusals_are_typed() {
    let o = f32_opts();
    let e = from_geotransform("+proj=nonsense", &[0.0, 1.0, 0.0, 0.0, 0.0, 1.0], 2, 2, &o);
    assert!(matches!(e, Err(FromCrsError::Crs { .. })), "{e:?}");
    let e = from_geotransform("EPSG:4978", &[0.0, 1.0, 0.0, 0.0, 0.0, 1.0], 2, 2, &o);
    assert!(matches!(e, Err(FromCrsError::Crs { .. })), "{e:?}");
    let e = from_geotransform(
        "EPSG:4326",
        &[0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
        100_000,
        100_000,
        &o,
    );
    assert!(matches!(e, Err(FromCrsError::TooLarge { .. })), "{e:?}");
    let e = from_geotransform("EPSG:4326", &[0.0, 0.0, 0.0, 0.0, 0.0, 1.0], 2, 2, &o);
    assert!(matches!(e, Err(FromCrsError::Input(_))), "{e:?}");
    let e = from_geotransform("EPSG:4326", &[f64::NAN, 1.0, 0.0, 0.0, 0.0, 1.0], 2, 2, &o);
    assert!(matches!(e, Err(FromCrsError::Input(_))), "{e:?}");
    let e = from_geotransform("EPSG:4326", &[0.0, 1.0, 0.0, 0.0, 0.0, 1.0], 0, 2, &o);
    assert!(matches!(e, Err(FromCrsError::Input(_))), "{e:?}");
    // An orthographic view whose corners are off the globe.
    let ortho = "+proj=ortho +lat_0=0 +lon_0=0 +R=6371000 +type=crs";
    let e = from_geotransform(ortho, &[-7e6, 1e6, 0.0, 7e6, 0.0, -1e6], 14, 14, &o);
    assert!(matches!(e, Err(FromCrsError::NoLatLon { .. })), "{e:?}");
    let e = from_axes("EPSG:4326", &[1.0, 1.0], &[1.0, 2.0], &o);
    assert!(matches!(e, Err(FromCrsError::Input(_))), "{e:?}");
    let e = from_lat_lon(2, 2, &[0.0; 3], &[0.0; 4], &o);
    assert!(matches!(e, Err(FromCrsError::Input(_))), "{e:?}");
    let e = from_lat_lon(1, 1, &[91.0], &[0.0], &o);
    assert!(matches!(e, Err(FromCrsError::Input(_))), "{e:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// Random regular longlat grids: exact L when on the 0.01° lattice, Z on L otherwise.
    #[test]
    fn regular_longlat(lon0 in -400.0..400.0_f64, lat0 in -85.0..55.0_f64,
                       dlon in 0.001..2.0_f64, dlat in 0.001..1.0_f64,
                       ni in 1usize..40, nj in 1usize..30, on_lattice: bool, north_up: bool) {
        let q = |v: f64| if on_lattice { (v * 100.0).round() / 100.0 } else { v };
        let (lon0, lat0, dlon, dlat) = (q(lon0), q(lat0), q(dlon).max(0.01), q(dlat).max(0.01));
        let gt = if north_up {
            [lon0 - dlon / 2.0, dlon, 0.0, lat0 + (nj as f64 - 0.5) * dlat, 0.0, -dlat]
        } else {
            [lon0 - dlon / 2.0, dlon, 0.0, lat0 - dlat / 2.0, 0.0, dlat]
        };
        let [g, _] = check("EPSG:4326", WGS84, &gt, ni, nj, false);
        prop_assert!(matches!(g.descriptor.grtyp, b'L' | b'Z' | b'A' | b'B'), "{:?}", g);
    }

    /// Random rotated poles on the E lattice, any o_lon_p: Z on E within 1e-6° (float64) and
    /// within the reported error (float32).
    #[test]
    fn rotated_poles(plat40 in -3600i32..=3600, plon40 in -7200i32..7200, o_lon_p in -180.0..180.0_f64,
                     x0 in -30.0..30.0_f64, y0 in -30.0..30.0_f64, d in 0.01..0.5_f64,
                     ni in 2usize..30, nj in 2usize..30) {
        let (plat, plon) = (f64::from(plat40) / 40.0, f64::from(plon40) / 40.0);
        let def = format!("+proj=ob_tran +o_proj=longlat +o_lat_p={plat} +o_lon_p={o_lon_p} \
                           +lon_0={} +R=6371229 +type=crs", plon + 180.0);
        let gt = [x0, d, 0.0, y0, 0.0, -d];
        let [g, _] = check(&def, SPHERE_GRIB, &gt, ni, nj, false);
        prop_assert_eq!(g.descriptor.grtyp, b'Z', "{:?}", g.notes);
    }

    /// Random spherical polar stereographic grids: N/S when the igs hold them, else Z on N/S.
    #[test]
    fn polar_grids(north: bool, lon_0 in -180.0..180.0_f64, lattice: bool,
                   d in 1_000.0..200_000.0_f64, pi in -50.0..150.0_f64, pj in -50.0..150.0_f64,
                   ni in 2usize..30, nj in 2usize..30) {
        let (d, pi, pj, lon_0) = if lattice {
            ((d / 100.0).round() * 100.0, (pi * 10.0).round() / 10.0, (pj * 10.0).round() / 10.0,
             (lon_0 * 100.0).round() / 100.0)
        } else {
            (d, pi, pj, lon_0)
        };
        let lat0 = if north { 90 } else { -90 };
        let def = format!("+proj=stere +lat_0={lat0} +lat_ts={} +lon_0={lon_0} +R=6371000 +type=crs",
                          lat0 * 2 / 3);
        // Source line 0 is the top row: pole at 1-based (pi, pj) counted from the bottom.
        let gt = [(0.5 - pi) * d, d, 0.0, (nj as f64 - pj + 0.5) * d, 0.0, -d];
        let [g, _] = check(&def, "+proj=longlat +R=6371000 +type=crs", &gt, ni, nj, false);
        if lattice && (0.0..=204.7).contains(&pi) && (0.0..=204.7).contains(&pj) {
            prop_assert!(matches!(g.descriptor.grtyp, b'N' | b'S'), "{:?}", g);
        } else if lattice {
            prop_assert!(matches!(g.descriptor.grtyp, b'N' | b'S' | b'Z'), "{:?}", g);
        } else {
            // An orientation between the 0.01° steps of dgrw has no N/S reference: Y.
            prop_assert!(matches!(g.descriptor.grtyp, b'N' | b'S' | b'Z' | b'Y'), "{:?}", g);
        }
    }
}
