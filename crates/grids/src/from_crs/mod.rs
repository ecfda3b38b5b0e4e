//! From a CRS back to an FST grid: the inverse of [`crate::Grid`], for writers (GDAL's
//! `CreateCopy`, format converters).
//!
//! Input is what GDAL gives a writer: a CRS (WKT1, WKT2, a PROJ string or `AUTH:CODE`) with a
//! geotransform ([`from_geotransform`]) or 1-D coordinate arrays ([`from_axes`]), or 2-D
//! latitude/longitude arrays ([`from_lat_lon`]); or what a netCDF writer has, a CF grid
//! mapping with its 1-D axes ([`from_cf_axes`], no PROJ: the mapping's own formulas stand in
//! for PROJ's conversion, and the candidates are the same). Output is a [`GridDescriptor`] (plus the row
//! order) that [`crate::Grid::new`] turns back into the same latitudes and longitudes.
//!
//! How: PROJ converts sample pixel centres to the latitude/longitude of the CRS's own geodetic
//! CRS (no datum shift: FST grids carry no datum). Then the candidate FST grids of the CRS's
//! family are built, from the simplest to the most general, and each is checked against those
//! samples through `Grid::new`; the first within [`FromCrsOptions::tolerance_deg`] wins. The
//! families are recognised by geometry (where PROJ puts the pole, the rotated equator, the 60°
//! circle), not by parameter names, so every spelling of a rotated pole (PROJ `ob_tran` with
//! either `o_lon_p` convention, netCDF CF and GRIB2 rotated-pole WKT) and of a spherical polar
//! stereographic (variant A or B, any `lat_ts`, any radius) is handled alike.
//!
//! | source | candidates, in order |
//! |---|---|
//! | geographic (longlat, any ellipsoid) | A, B, G (exact global grids), L, Z on L |
//! | rotated longlat (`ob_tran`, CF/GRIB rotated pole) | Z on E |
//! | polar stereographic on a sphere | N/S, Z on N/S |
//! | anything else PROJ can convert to lat/lon | — |
//! | always, last | Y (on L) with PROJ's lat/lon |
//!
//! Why the fallbacks exist: ig encodings quantise. L stores its origin and spacing in 0.01°;
//! N/S (old-style) store pi/pj in 0.1 grid lengths, d60 in 100 m and the orientation in 0.01°
//! (the new style stores point (1,1) to ~0.01°, never exact); E stores its two defining points
//! in 1/40°. A grid whose parameters fall between these steps becomes Z on the same family with
//! explicit axes, which is exact whenever the reference grid itself is (an L or N/S reference
//! with 0.01° and 100 m steps and axes in those units; an E reference made of two lattice points
//! of the source's rotated equator, the rotation about the pole being absorbed in the `>>`
//! values: the pole itself need not be a lattice point, and an E grid's almost never is). A
//! rotated pole whose equator holds no two lattice points cannot be an E rotation at all, so it
//! becomes Y.
//!
//! Positional records are float32 in files librmn reads ([`PositionalPrecision::F32`], the
//! default): 24 bits of mantissa hold an axis value to ~6e-8 of its magnitude, so Z and Y grids
//! are exact only when their values are (decimal grids in hundredths of a degree or hundreds of
//! metres usually are), and otherwise within ~1e-5° for global extents. The measured error is
//! reported in [`FstGrid::max_error_deg`]; [`PositionalPrecision::F64`] (64-bit records, which
//! our reader reads) meets 1e-6° for every case.

mod candidates;
mod cf;
#[cfg(feature = "proj")]
mod proj;

pub use cf::CfGridMapping;

use std::sync::Arc;

use crate::descriptor::{GridDescriptor, GridOptions};
use crate::error::GridError;
use crate::grid::{Grid, MAX_POINTS};
use crate::rotation::norm180;
use crate::rotation::unit;
use candidates::{longlat_candidates, polar_candidates, rotated_candidate, store, y_candidate};
#[cfg(feature = "proj")]
use proj::{CrsType, Source};

/// A CRS's conversion to and from the latitude/longitude of its own geodetic CRS, in the GIS
/// axis order (x = easting or longitude, y = northing or latitude; degrees for angles): PROJ
/// for any CRS, or the closed formulas of a [`CfGridMapping`].
pub(crate) trait ToLatLon {
    /// Convert CRS coordinates (x, y) in place to (longitude, latitude) in degrees, or back
    /// (`forward = false`). Points that cannot be converted come back as infinities.
    fn convert(&self, x: &mut [f64], y: &mut [f64], forward: bool);

    /// One point through [`ToLatLon::convert`].
    fn convert1(&self, x: f64, y: f64, forward: bool) -> (f64, f64) {
        let (mut a, mut b) = ([x], [y]);
        self.convert(&mut a, &mut b, forward);
        (a[0], b[0])
    }
}

/// How the writer will store the `>>`/`^^` values of Z and Y grids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PositionalPrecision {
    /// float32 (datyp 5, 32 bits): what librmn reads. Values are rounded to f32 before the
    /// grid is checked, so the reported error is what readers will see.
    #[default]
    F32,
    /// float64 (datyp 5, 64 bits): exact, read by this crate's reader; librmn's ezscint reads
    /// positional records as float32 and will not.
    F64,
}

/// Options of the inverse mapping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FromCrsOptions {
    /// Precision of the positional records the writer will write.
    pub precision: PositionalPrecision,
    /// Largest angular distance, in degrees, between a source pixel centre and the same point
    /// of the FST grid for a candidate grid type to be accepted.
    pub tolerance_deg: f64,
    /// Largest ni·nj for which whole-raster arrays are built: the Y fallback (four arrays of
    /// that many values), rotated geotransforms and [`from_lat_lon`]. Grids that are
    /// rectilinear in their CRS only need their axes and a sample, and are bounded by
    /// [`MAX_POINTS`] alone.
    pub max_points: usize,
}

impl Default for FromCrsOptions {
    fn default() -> Self {
        FromCrsOptions {
            precision: PositionalPrecision::F32,
            tolerance_deg: 1e-6,
            max_points: 1 << 24,
        }
    }
}

/// The FST grid that represents a source raster.
#[derive(Debug, Clone, PartialEq)]
pub struct FstGrid {
    /// Grid type, shape, ig1..ig4 and (Z, Y) the positional records' values, exactly as a
    /// reader will get them back (already rounded to f32 for [`PositionalPrecision::F32`]).
    pub descriptor: GridDescriptor,
    /// True when FST row j holds source line `nj − 1 − j` (a north-up raster written
    /// south-first, as L, N, S and Z grids need); false when row j is line j.
    pub flip_rows: bool,
    /// Largest angular distance, in degrees, between a checked source pixel centre and the
    /// same point of `Grid::new(&descriptor)`.
    pub max_error_deg: f64,
    /// How many pixel centres were checked (all of them up to 512×512, else 512 rows × 512
    /// columns, evenly spaced, first and last included).
    pub checked_points: usize,
    /// Why simpler grid types were not used, one line each (empty when the first candidate
    /// fitted).
    pub notes: Vec<String>,
}

/// The `>>` and `^^` records of a Z or Y grid, ready for a writer.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionalRecords {
    /// ip1, ip2, ip3 of both records (the data record's ig1..ig3).
    pub ip: [u32; 3],
    /// Grid type of both records (the reference grid).
    pub grtyp: u8,
    /// ig1..ig4 of both records (the reference grid's parameters).
    pub ig: [u32; 4],
    /// (ni, nj) of the `>>` record: (ni, 1) for Z, the grid's shape for Y.
    pub x_shape: (u32, u32),
    /// (ni, nj) of the `^^` record: (1, nj) for Z, the grid's shape for Y.
    pub y_shape: (u32, u32),
    /// `>>` values.
    pub x: Arc<[f64]>,
    /// `^^` values.
    pub y: Arc<[f64]>,
}

impl PositionalRecords {
    /// `>>` as float32 (exact when the grid was made with [`PositionalPrecision::F32`]).
    #[must_use]
    pub fn x_f32(&self) -> Vec<f32> {
        self.x.iter().map(|&v| v as f32).collect()
    }

    /// `^^` as float32.
    #[must_use]
    pub fn y_f32(&self) -> Vec<f32> {
        self.y.iter().map(|&v| v as f32).collect()
    }
}

impl FstGrid {
    /// The positional records to write beside the data record, for Z and Y grids.
    #[must_use]
    pub fn positional_records(&self) -> Option<PositionalRecords> {
        let d = &self.descriptor;
        let p = d.positional.as_ref()?;
        let (xs, ys) = if d.grtyp == b'Y' {
            ((d.ni, d.nj), (d.ni, d.nj))
        } else {
            ((d.ni, 1), (1, d.nj))
        };
        Some(PositionalRecords {
            ip: [d.ig[0], d.ig[1], d.ig[2]],
            grtyp: p.grtyp,
            ig: p.ig,
            x_shape: xs,
            y_shape: ys,
            x: p.x.clone(),
            y: p.y.clone(),
        })
    }
}

/// Why a source cannot become an FST grid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FromCrsError {
    /// PROJ cannot open the CRS or convert it to latitude/longitude.
    #[error("CRS '{definition}': {detail}")]
    Crs {
        /// The definition, shortened.
        definition: String,
        /// What went wrong.
        detail: String,
    },
    /// Some pixel centres have no latitude/longitude (outside the projection's domain).
    #[error("{bad} of {total} pixel centres have no latitude/longitude through PROJ (first at column {i}, line {j})")]
    NoLatLon {
        /// How many failed.
        bad: usize,
        /// How many were converted.
        total: usize,
        /// Column of the first failure.
        i: usize,
        /// Source line of the first failure.
        j: usize,
    },
    /// The raster is larger than the points budget.
    #[error("{ni}x{nj} points exceed the budget of {max} points")]
    TooLarge {
        /// Columns.
        ni: u64,
        /// Lines.
        nj: u64,
        /// The budget ([`FromCrsOptions::max_points`], at most [`MAX_POINTS`]).
        max: usize,
    },
    /// The arrays of a raster within the budget could not be allocated.
    #[error("cannot allocate {values} values for the raster's coordinates")]
    OutOfMemory {
        /// How many f64 values were asked for.
        values: usize,
    },
    /// The arguments are unusable (empty, non-finite, not monotonic, mismatched lengths).
    #[error("{0}")]
    Input(String),
    /// A CF grid mapping that [`from_cf_axes`] cannot convert without PROJ (another
    /// projection, an ellipsoidal polar stereographic, missing parameters).
    #[error("CF grid mapping: {0}")]
    CfMapping(String),
    /// Building a grid failed where it should not have.
    #[error(transparent)]
    Grid(#[from] GridError),
}

type Result<T> = std::result::Result<T, FromCrsError>;

/// An empty vector with room for `n` values, or a clean error when memory is short.
fn try_vec<T>(n: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_e| FromCrsError::OutOfMemory { values: n })?;
    Ok(v)
}

/// The FST grid of a raster of `ni` columns and `nj` lines georeferenced by `crs` and the GDAL
/// geotransform `gt` (`X = gt[0] + (i+½)·gt[1] + (k+½)·gt[2]` at the centre of column i,
/// line k; likewise Y with gt[3..6]). X and Y follow the GIS order (easting or longitude
/// first), as GDAL's geotransforms do by default.
///
/// A geotransform with rotation terms (gt[2], gt[4] ≠ 0) has no rectilinear FST type and
/// becomes Y.
///
/// ```
/// use grids::from_crs::{from_geotransform, FromCrsOptions};
/// // 1° global grid, north up, on WGS 84: centres at -179.5..179.5, -89.5..89.5.
/// let opts = FromCrsOptions::default();
/// let g = from_geotransform("EPSG:4326", &[-180.0, 1.0, 0.0, 90.0, 0.0, -1.0], 360, 180, &opts)?;
/// assert_eq!((g.descriptor.grtyp, g.descriptor.ig), (b'L', [100, 100, 50, 18050]));
/// assert!(g.flip_rows && g.max_error_deg < 1e-9);
/// // At 0.25° the first centre, -89.875°, falls between the 0.01° steps of L's ig3: Z on L.
/// let g = from_geotransform("EPSG:4326", &[-180.0, 0.25, 0.0, 90.0, 0.0, -0.25], 1440, 720, &opts)?;
/// assert_eq!(g.descriptor.grtyp, b'Z');
/// assert!(g.max_error_deg < 1e-9);
/// # Ok::<(), grids::from_crs::FromCrsError>(())
/// ```
#[cfg(feature = "proj")]
pub fn from_geotransform(
    crs: &str,
    gt: &[f64; 6],
    ni: u32,
    nj: u32,
    opts: &FromCrsOptions,
) -> Result<FstGrid> {
    check_shape(u64::from(ni), u64::from(nj), MAX_POINTS)?;
    if gt.iter().any(|v| !v.is_finite()) {
        return Err(FromCrsError::Input(format!(
            "geotransform {gt:?} has non-finite terms"
        )));
    }
    let (ni, nj) = (ni as usize, nj as usize);
    if gt[2] == 0.0 && gt[4] == 0.0 {
        if gt[1] == 0.0 || gt[5] == 0.0 {
            return Err(FromCrsError::Input(format!(
                "geotransform {gt:?} has a zero pixel size"
            )));
        }
        let x: Vec<f64> = (0..ni).map(|i| gt[0] + (i as f64 + 0.5) * gt[1]).collect();
        let y: Vec<f64> = (0..nj).map(|k| gt[3] + (k as f64 + 0.5) * gt[5]).collect();
        return from_axes(crs, &x, &y, opts);
    }
    if gt[1] * gt[5] - gt[2] * gt[4] == 0.0 {
        return Err(FromCrsError::Input(format!(
            "geotransform {gt:?} is singular"
        )));
    }
    check_shape(ni as u64, nj as u64, opts.max_points)?;
    let src = Source::open(crs)?;
    let n = ni * nj;
    let mut x = try_vec(n)?;
    let mut y = try_vec(n)?;
    for k in 0..nj {
        for i in 0..ni {
            let (fi, fk) = (i as f64 + 0.5, k as f64 + 0.5);
            x.push(gt[0] + fi * gt[1] + fk * gt[2]);
            y.push(gt[3] + fi * gt[4] + fk * gt[5]);
        }
    }
    src.convert(&mut x, &mut y, true);
    check_converted(&x, &y, ni)?;
    from_lat_lon_checked(
        ni,
        nj,
        &y,
        &x,
        opts,
        vec![
            "the geotransform is rotated or sheared: no FST grid type but Y has that geometry"
                .to_owned(),
        ],
    )
}

/// The FST grid of a raster whose pixel centres are at `x[i]`, `y[k]` in `crs` (1-D coordinate
/// variables, e.g. netCDF `lon`/`lat` or `rlon`/`rlat`, or GRIB Gaussian latitudes). Both
/// arrays must be strictly monotonic; a longitude axis may wrap (350, 355, 0, 5).
///
/// ```
/// use grids::from_crs::{from_axes, FromCrsOptions};
/// let x = [-10.0, -9.5, -9.0, -7.0]; // irregular: Z on L
/// let y = [40.0, 41.0, 42.0];
/// let g = from_axes("OGC:CRS84", &x, &y, &FromCrsOptions::default())?;
/// assert_eq!(g.descriptor.grtyp, b'Z');
/// assert_eq!(g.positional_records().unwrap().grtyp, b'L');
/// assert!(!g.flip_rows && g.max_error_deg < 1e-9);
/// # Ok::<(), grids::from_crs::FromCrsError>(())
/// ```
#[cfg(feature = "proj")]
pub fn from_axes(crs: &str, x: &[f64], y: &[f64], opts: &FromCrsOptions) -> Result<FstGrid> {
    check_shape(x.len() as u64, y.len() as u64, MAX_POINTS)?;
    let src = Source::open(crs)?;
    let family = classify(&src);
    axes_in(&src, family, x, y, opts)
}

/// [`from_axes`] for a CRS given as a CF grid mapping, converted by its own formulas: no
/// PROJ needed, and the same grids (the tests compare both paths). Pixel centres are at
/// `x[i]`, `y[k]` in the mapping's coordinates (degrees of longitude or rotated longitude,
/// metres of a polar stereographic).
///
/// ```
/// use grids::from_crs::{from_cf_axes, CfGridMapping, FromCrsOptions};
/// // A rotated-pole grid as our xarray backend writes it: Z on E.
/// let m = CfGridMapping::RotatedLatitudeLongitude {
///     grid_north_pole_latitude: 37.5,
///     grid_north_pole_longitude: -153.0,
///     north_pole_grid_longitude: 0.0,
/// };
/// let x: Vec<f64> = (0..20).map(|i| -10.0 + 0.5 * f64::from(i)).collect();
/// let y: Vec<f64> = (0..10).map(|j| -5.0 + 0.5 * f64::from(j)).collect();
/// let g = from_cf_axes(&m, &x, &y, &FromCrsOptions::default())?;
/// assert_eq!(g.descriptor.grtyp, b'Z');
/// assert_eq!(g.positional_records().unwrap().grtyp, b'E');
/// assert!(g.max_error_deg < 1e-6);
/// # Ok::<(), grids::from_crs::FromCrsError>(())
/// ```
pub fn from_cf_axes(
    mapping: &CfGridMapping,
    x: &[f64],
    y: &[f64],
    opts: &FromCrsOptions,
) -> Result<FstGrid> {
    check_shape(x.len() as u64, y.len() as u64, MAX_POINTS)?;
    axes_in(mapping, mapping.family(), x, y, opts)
}

/// The work of [`from_axes`] once the CRS can be converted and its family is known.
fn axes_in(
    src: &dyn ToLatLon,
    family: Family,
    x: &[f64],
    y: &[f64],
    opts: &FromCrsOptions,
) -> Result<FstGrid> {
    let mut x = x.to_vec();
    if matches!(family, Family::LongLat | Family::Rotated) {
        unwrap_lon(&mut x);
    }
    check_monotonic("x", &x)?;
    check_monotonic("y", y)?;
    let (ni, nj) = (x.len(), y.len());
    let flip = nj > 1 && y[0] > y[nj - 1];
    let ys: Vec<f64> = if flip {
        y.iter().rev().copied().collect()
    } else {
        y.to_vec()
    };
    let sample = Sample::from_axes(src, &x, &ys, flip)?;
    let mut notes = Vec::new();
    let cands = match family {
        Family::LongLat => longlat_candidates(&x, &ys, flip, opts.precision),
        Family::Rotated => match rotated_candidate(src, &x, &ys, flip, opts.precision) {
            Ok(c) => c,
            Err(why) => {
                notes.push(format!("Z on E: {why}"));
                Vec::new()
            }
        },
        Family::Polar { north } => polar_candidates(src, north, &x, &ys, flip, opts.precision)
            .unwrap_or_else(|why| {
                notes.push(format!("N/S: {why}"));
                Vec::new()
            }),
        Family::Other => {
            notes.push(
                "the CRS is neither geographic, rotated longlat nor spherical polar \
                 stereographic"
                    .to_owned(),
            );
            Vec::new()
        }
    };
    choose(cands, &sample, opts, notes, || {
        check_shape(ni as u64, nj as u64, opts.max_points)?;
        let mut lon = try_vec(ni * nj)?;
        let mut lat = try_vec(ni * nj)?;
        for &yk in y {
            lon.extend_from_slice(&x);
            lat.extend(std::iter::repeat_n(yk, ni));
        }
        src.convert(&mut lon, &mut lat, true);
        check_converted(&lon, &lat, ni)?;
        Ok((lat, lon))
    })
}

/// The FST grid of a raster whose pixel centres have the latitudes `lat` and longitudes `lon`
/// (degrees, ni·nj each, column index fastest, line 0 first). Arrays that are a lat/lon
/// product (latitude constant along lines, longitude along columns) are matched to A, B, G, L
/// or Z on L; anything else becomes Y.
///
/// ```
/// use grids::from_crs::{from_lat_lon, FromCrsOptions};
/// let (ni, nj) = (3, 2);
/// let lat = [10.0, 10.0, 10.0, 10.5, 10.5, 10.5];
/// let lon = [20.0, 20.5, 21.0, 20.0, 20.5, 21.0];
/// let g = from_lat_lon(ni, nj, &lat, &lon, &FromCrsOptions::default())?;
/// assert_eq!((g.descriptor.grtyp, g.descriptor.ig), (b'L', [50, 50, 10000, 2000]));
/// # Ok::<(), grids::from_crs::FromCrsError>(())
/// ```
pub fn from_lat_lon(
    ni: u32,
    nj: u32,
    lat: &[f64],
    lon: &[f64],
    opts: &FromCrsOptions,
) -> Result<FstGrid> {
    check_shape(u64::from(ni), u64::from(nj), opts.max_points)?;
    let (ni, nj) = (ni as usize, nj as usize);
    if lat.len() != ni * nj || lon.len() != ni * nj {
        return Err(FromCrsError::Input(format!(
            "a {ni}x{nj} grid needs {} latitudes and longitudes, got {} and {}",
            ni * nj,
            lat.len(),
            lon.len()
        )));
    }
    if let Some(k) =
        (0..ni * nj).find(|&k| !(lon[k].is_finite() && (-90.0..=90.0).contains(&lat[k])))
    {
        return Err(FromCrsError::Input(format!(
            "point {k} (column {}, line {}) has latitude {} and longitude {}",
            k % ni,
            k / ni,
            lat[k],
            lon[k]
        )));
    }
    from_lat_lon_checked(ni, nj, lat, lon, opts, Vec::new())
}

fn from_lat_lon_checked(
    ni: usize,
    nj: usize,
    lat: &[f64],
    lon: &[f64],
    opts: &FromCrsOptions,
    mut notes: Vec<String>,
) -> Result<FstGrid> {
    let rows_const = (0..nj).all(|k| lat[k * ni..(k + 1) * ni].iter().all(|&v| v == lat[k * ni]));
    let cols_const = (1..nj).all(|k| lon[k * ni..(k + 1) * ni] == lon[..ni]);
    let mut x = lon[..ni].to_vec();
    unwrap_lon(&mut x);
    let y: Vec<f64> = (0..nj).map(|k| lat[k * ni]).collect();
    let rectilinear = rows_const && cols_const && strictly_monotonic(&x) && strictly_monotonic(&y);
    let flip = rectilinear && nj > 1 && y[0] > y[nj - 1];
    let sample = Sample::from_arrays(ni, nj, lat, lon, flip)?;
    let cands = if rectilinear {
        let ys: Vec<f64> = if flip {
            y.iter().rev().copied().collect()
        } else {
            y
        };
        longlat_candidates(&x, &ys, flip, opts.precision)
    } else {
        if notes.is_empty() {
            notes
                .push("latitude is not constant along lines or longitude along columns".to_owned());
        }
        Vec::new()
    };
    choose(cands, &sample, opts, notes, || {
        Ok((lat.to_vec(), lon.to_vec()))
    })
}

/// Refuse empty rasters and rasters of more than `budget` points (at most [`MAX_POINTS`]).
fn check_shape(ni: u64, nj: u64, budget: usize) -> Result<()> {
    if ni == 0 || nj == 0 {
        return Err(FromCrsError::Input(format!("empty raster {ni}x{nj}")));
    }
    let max = budget.min(MAX_POINTS);
    if ni > u64::from(u32::MAX) || nj > u64::from(u32::MAX) || ni.saturating_mul(nj) > max as u64 {
        return Err(FromCrsError::TooLarge { ni, nj, max });
    }
    Ok(())
}

fn strictly_monotonic(v: &[f64]) -> bool {
    v.iter().all(|x| x.is_finite())
        && (v.windows(2).all(|w| w[1] > w[0]) || v.windows(2).all(|w| w[1] < w[0]))
}

fn check_monotonic(what: &str, v: &[f64]) -> Result<()> {
    if strictly_monotonic(v) {
        Ok(())
    } else {
        Err(FromCrsError::Input(format!(
            "the {what} coordinates are not finite and strictly monotonic"
        )))
    }
}

fn check_converted(lon: &[f64], lat: &[f64], ni: usize) -> Result<()> {
    let bad = |k: &usize| !(lon[*k].is_finite() && (-90.0..=90.0).contains(&lat[*k]));
    match (0..lon.len()).find(bad) {
        None => Ok(()),
        Some(first) => Err(FromCrsError::NoLatLon {
            bad: (0..lon.len()).filter(bad).count(),
            total: lon.len(),
            i: first % ni.max(1),
            j: first / ni.max(1),
        }),
    }
}

/// Make a longitude axis that wraps once or more (350, 355, 0, 5) increasing; monotonic axes
/// are left alone.
fn unwrap_lon(v: &mut [f64]) {
    if strictly_monotonic(v) || v.iter().any(|x| !x.is_finite()) {
        return;
    }
    // Equal neighbours stay equal (and are refused as not monotonic): only drops wrap.
    for k in 1..v.len() {
        if v[k] < v[k - 1] {
            v[k] += 360.0 * (((v[k - 1] - v[k]) / 360.0).floor() + 1.0);
        }
    }
}

/// The candidate families of a CRS.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Family {
    LongLat,
    Rotated,
    Polar {
        north: bool,
    },
    #[cfg_attr(not(feature = "proj"), allow(dead_code))]
    Other,
}

#[cfg(feature = "proj")]
fn proj_param<'a>(ps: &'a str, key: &str) -> Option<&'a str> {
    ps.split_whitespace().find_map(|t| {
        let t = t.strip_prefix('+')?;
        match t.split_once('=') {
            Some((k, v)) if k == key => Some(v),
            None if t == key => Some(""),
            _ => None,
        }
    })
}

#[cfg(feature = "proj")]
fn classify(src: &Source) -> Family {
    let ps = src.proj_string.as_deref().unwrap_or("");
    match proj_param(ps, "proj") {
        Some("ob_tran") => {
            if matches!(
                proj_param(ps, "o_proj"),
                Some("longlat" | "lonlat" | "latlong" | "latlon")
            ) {
                Family::Rotated
            } else {
                Family::Other
            }
        }
        _ if src.kind == CrsType::Geographic => Family::LongLat,
        Some("stere") if src.kind == CrsType::Projected && src.sphere_radius.is_some() => {
            match proj_param(ps, "lat_0").and_then(|v| v.parse::<f64>().ok()) {
                Some(90.0) => Family::Polar { north: true },
                Some(-90.0) => Family::Polar { north: false },
                _ => Family::Other,
            }
        }
        _ => Family::Other,
    }
}

/// Sample pixel centres and their true latitude/longitude, in FST index space for the row
/// order `flip` (row j is source line `nj − 1 − j` when flipped).
struct Sample {
    ni: usize,
    nj: usize,
    flip: bool,
    cols: Vec<usize>,
    rows: Vec<usize>,
    lat: Vec<f64>,
    lon: Vec<f64>,
}

/// At most this many sampled indices per axis.
const SAMPLE_PER_AXIS: usize = 512;

fn sample_indices(n: usize) -> Vec<usize> {
    if n <= SAMPLE_PER_AXIS {
        return (0..n).collect();
    }
    let m = SAMPLE_PER_AXIS - 1;
    let mut v: Vec<usize> = (0..=m).map(|k| k * (n - 1) / m).collect();
    v.dedup();
    v
}

impl Sample {
    /// `xs`, `ys` in FST order.
    fn from_axes(src: &dyn ToLatLon, xs: &[f64], ys: &[f64], flip: bool) -> Result<Self> {
        let (cols, rows) = (sample_indices(xs.len()), sample_indices(ys.len()));
        let mut lon = try_vec(cols.len() * rows.len())?;
        let mut lat = try_vec(cols.len() * rows.len())?;
        for &j in &rows {
            for &i in &cols {
                lon.push(xs[i]);
                lat.push(ys[j]);
            }
        }
        src.convert(&mut lon, &mut lat, true);
        if let Err(FromCrsError::NoLatLon { bad, total, i, j }) =
            check_converted(&lon, &lat, cols.len())
        {
            let row = rows[j];
            return Err(FromCrsError::NoLatLon {
                bad,
                total,
                i: cols[i],
                j: if flip { ys.len() - 1 - row } else { row },
            });
        }
        Ok(Sample {
            ni: xs.len(),
            nj: ys.len(),
            flip,
            cols,
            rows,
            lat,
            lon,
        })
    }

    fn from_arrays(ni: usize, nj: usize, lat: &[f64], lon: &[f64], flip: bool) -> Result<Self> {
        let (cols, rows) = (sample_indices(ni), sample_indices(nj));
        let mut s = Sample {
            ni,
            nj,
            flip,
            lat: try_vec(cols.len() * rows.len())?,
            lon: try_vec(cols.len() * rows.len())?,
            cols,
            rows,
        };
        for &j in &s.rows {
            let k = if flip { nj - 1 - j } else { j };
            for &i in &s.cols {
                s.lat.push(lat[i + k * ni]);
                s.lon.push(lon[i + k * ni]);
            }
        }
        Ok(s)
    }

    /// Largest angular distance (degrees) between the samples and the grid's points.
    fn error(&self, c: &Candidate) -> Result<f64> {
        self.error_until(c, f64::INFINITY)
    }

    /// [`Sample::error`], stopping as soon as it exceeds `limit`: then the worst found so
    /// far, a lower bound of the error (above `limit`).
    fn error_until(&self, c: &Candidate, limit: f64) -> Result<f64> {
        // A Y grid's points are its `^^`/`>>` values (Grid::new only wraps the longitudes):
        // read them directly rather than have Grid::new copy arrays of up to `max_points`.
        let direct = match (&c.descriptor.positional, c.descriptor.grtyp) {
            (Some(p), b'Y') => Some(p),
            _ => None,
        };
        let g = match direct {
            Some(_) => None,
            None => Some(Grid::new(&c.descriptor, GridOptions::default())?),
        };
        let point = |i: usize, j: usize| match (&g, direct) {
            (Some(g), _) => g.point(i as f64, j as f64),
            (None, Some(p)) => {
                let k = i + j * self.ni;
                Some((*p.y.get(k)?, *p.x.get(k)?))
            }
            (None, None) => None,
        };
        let ncols = self.cols.len();
        // The distance at sampled column `ci` of sampled row `ri`, given the worst so far.
        let at = |ri: usize, ci: usize, worst: f64| -> f64 {
            let (Some(&j), Some(&i)) = (self.rows.get(ri), self.cols.get(ci)) else {
                return f64::INFINITY;
            };
            let jc = if c.flip == self.flip {
                j
            } else {
                self.nj - 1 - j
            };
            let k = ri * ncols + ci;
            let (Some(&lat), Some(&lon)) = (self.lat.get(k), self.lon.get(k)) else {
                return f64::INFINITY;
            };
            let d = match point(i, jc) {
                Some((la, lo)) => {
                    // |Δlat| + |Δlon| bounds the distance from above (along the meridian,
                    // then the parallel, which is no shorter than the great circle). A point
                    // whose bound is within the worst so far cannot change it, and one whose
                    // bound is negligible counts as its bound: neither needs trigonometry,
                    // and nearly every point is one of them (the error stays an upper bound
                    // of the true one).
                    let bound = (lat - la).abs() + norm180(lon - lo).abs();
                    if bound <= worst.max(NEGLIGIBLE_DEG) {
                        bound
                    } else {
                        angular_distance(lat, lon, la, lo)
                    }
                }
                None => f64::INFINITY,
            };
            if d.is_nan() {
                f64::INFINITY
            } else {
                d
            }
        };
        // The corners first: a candidate whose spacing is off errs most at a corner, and the
        // worst found there lets the bound skip the trigonometry almost everywhere else.
        let (last_r, last_c) = (self.rows.len().saturating_sub(1), ncols.saturating_sub(1));
        let mut worst = 0.0_f64;
        for (ri, ci) in [(0, 0), (0, last_c), (last_r, 0), (last_r, last_c)] {
            worst = worst.max(at(ri, ci, worst));
        }
        for ri in 0..self.rows.len() {
            if worst > limit {
                break;
            }
            for ci in 0..ncols {
                worst = worst.max(at(ri, ci, worst));
            }
        }
        Ok(worst)
    }

    /// The error of a Y grid holding the sampled points at precision `p` (as
    /// `candidates::y_candidate` stores them).
    fn y_rounding_error(&self, p: PositionalPrecision) -> f64 {
        self.lat
            .iter()
            .zip(&self.lon)
            .map(|(&la, &lo)| angular_distance(la, lo, store(la, p), store(norm180(lo), p)))
            .fold(0.0, f64::max)
    }

    fn len(&self) -> usize {
        self.cols.len() * self.rows.len()
    }
}

/// Distances below this (degrees, about 0.1 mm) are not worth a great-circle computation
/// when a candidate is checked: their bound stands in (see `Sample::error`).
const NEGLIGIBLE_DEG: f64 = 1e-9;

/// Great-circle distance in degrees, accurate for tiny distances (chord of unit vectors).
fn angular_distance(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (a, b) = (unit(lat1, lon1), unit(lat2, lon2));
    let c = ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt();
    (2.0 * (c / 2.0).min(1.0).asin()).to_degrees()
}

/// One candidate FST grid and its row order.
struct Candidate {
    descriptor: GridDescriptor,
    flip: bool,
    label: &'static str,
}

/// The first candidate within tolerance; otherwise the Y grid made from `full_truth` (source
/// line order) if it is within tolerance or closer than every candidate; otherwise the closest
/// candidate.
fn choose(
    cands: Vec<Candidate>,
    sample: &Sample,
    opts: &FromCrsOptions,
    mut notes: Vec<String>,
    full_truth: impl FnOnce() -> Result<(Vec<f64>, Vec<f64>)>,
) -> Result<FstGrid> {
    let tol = opts.tolerance_deg;
    let mut best: Option<(Candidate, f64)> = None;
    let done = |c: Candidate, e: f64, notes: Vec<String>| FstGrid {
        descriptor: c.descriptor,
        flip_rows: c.flip,
        max_error_deg: e,
        checked_points: sample.len(),
        notes,
    };
    // Each candidate is checked until it is found out of tolerance (a candidate whose
    // spacing is off by a rounding step errs at almost every point, and measuring its whole
    // error took most of the check); only when none is within tolerance are the others
    // measured in full, to keep the closest.
    let mut rejected = Vec::new();
    for c in cands {
        match sample.error_until(&c, tol) {
            Ok(e) if e <= tol => {
                for (r, at_least) in rejected {
                    let r: &Candidate = &r;
                    notes.push(format!(
                        "{}: more than {at_least:.2e}° from the source",
                        r.label
                    ));
                }
                return Ok(done(c, e, notes));
            }
            Ok(e) => rejected.push((c, e)),
            Err(err) => notes.push(format!("{}: {err}", c.label)),
        }
    }
    for (c, _) in rejected {
        match sample.error(&c) {
            Ok(e) => {
                notes.push(format!("{}: {e:.2e}° from the source", c.label));
                if best.as_ref().is_none_or(|(_, b)| e < *b) {
                    best = Some((c, e));
                }
            }
            Err(err) => notes.push(format!("{}: {err}", c.label)),
        }
    }
    // A Y grid's error is the rounding of the sampled points themselves: known before the
    // whole raster goes through PROJ, which is skipped when Y cannot do better.
    if let Some((c, b)) = best.take() {
        let ye = sample.y_rounding_error(opts.precision);
        if b <= ye {
            notes.push(format!("Y: {ye:.2e}° from the source"));
            return Ok(done(c, b, notes));
        }
        best = Some((c, b));
    }
    let (lat, lon) = full_truth()?;
    let y = y_candidate(sample.ni, sample.nj, &lat, &lon, opts.precision)?;
    let e = sample.error(&y)?;
    match best {
        Some((c, b)) if b < e => Ok(done(c, b, notes)),
        _ => Ok(done(y, e, notes)),
    }
}
