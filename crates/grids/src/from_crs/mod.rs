//! From a CRS back to an FST grid: the inverse of [`crate::Grid`], for writers (GDAL's
//! `CreateCopy`, format converters).
//!
//! Input is what GDAL gives a writer: a CRS (WKT1, WKT2, a PROJ string or `AUTH:CODE`) with a
//! geotransform ([`from_geotransform`]) or 1-D coordinate arrays ([`from_axes`]), or 2-D
//! latitude/longitude arrays ([`from_lat_lon`]). Output is a [`GridDescriptor`] (plus the row
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
//! with 0.01° and 100 m steps and axes in those units; an E reference whose rotated pole lies on
//! the 1/40° lattice, the rotation about the pole being absorbed in the `>>` values). A rotated
//! pole off that lattice cannot be an E rotation at all, so it becomes Y.
//!
//! Positional records are float32 in files librmn reads ([`PositionalPrecision::F32`], the
//! default): 24 bits of mantissa hold an axis value to ~6e-8 of its magnitude, so Z and Y grids
//! are exact only when their values are (decimal grids in hundredths of a degree or hundreds of
//! metres usually are), and otherwise within ~1e-5° for global extents. The measured error is
//! reported in [`FstGrid::max_error_deg`]; [`PositionalPrecision::F64`] (64-bit records, which
//! our reader reads) meets 1e-6° for every case.

mod proj;

use std::sync::Arc;

use crate::descriptor::{GridDescriptor, GridOptions, Positional};
use crate::error::GridError;
use crate::gauss::gaussian_latitudes;
use crate::grid::{Grid, MAX_POINTS, ONE_PLUS_SIN60};
use crate::links::{positional_tags, z_igs};
use crate::params::{
    wrap360, GlobalParams, Hemisphere, LatLonParams, PolarParams, RotatedParams, EARTH_RADIUS_M,
};
use crate::rotation::{latlon_of, norm180, unit, Rotation};
use proj::{CrsType, Source};

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
    /// Largest ni·nj accepted: a Y grid needs four arrays of that many values.
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
    /// The arguments are unusable (empty, non-finite, not monotonic, mismatched lengths).
    #[error("{0}")]
    Input(String),
    /// Building a grid failed where it should not have.
    #[error(transparent)]
    Grid(#[from] GridError),
}

type Result<T> = std::result::Result<T, FromCrsError>;

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
pub fn from_geotransform(
    crs: &str,
    gt: &[f64; 6],
    ni: u32,
    nj: u32,
    opts: &FromCrsOptions,
) -> Result<FstGrid> {
    check_shape(u64::from(ni), u64::from(nj), opts)?;
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
    let src = Source::open(crs)?;
    let n = ni * nj;
    let mut x = Vec::with_capacity(n);
    let mut y = Vec::with_capacity(n);
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
pub fn from_axes(crs: &str, x: &[f64], y: &[f64], opts: &FromCrsOptions) -> Result<FstGrid> {
    check_shape(x.len() as u64, y.len() as u64, opts)?;
    let src = Source::open(crs)?;
    let family = classify(&src);
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
    let sample = Sample::from_axes(&src, &x, &ys, flip)?;
    let mut notes = Vec::new();
    let cands = match family {
        Family::LongLat => longlat_candidates(&x, &ys, flip, opts.precision),
        Family::Rotated => match rotated_candidate(&src, &x, &ys, flip, opts.precision) {
            Ok(c) => vec![c],
            Err(why) => {
                notes.push(format!("Z on E: {why}"));
                Vec::new()
            }
        },
        Family::Polar { north } => polar_candidates(&src, north, &x, &ys, flip, opts.precision)
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
        let mut lon = Vec::with_capacity(ni * nj);
        let mut lat = Vec::with_capacity(ni * nj);
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
    check_shape(u64::from(ni), u64::from(nj), opts)?;
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
    let sample = Sample::from_arrays(ni, nj, lat, lon, flip);
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

fn check_shape(ni: u64, nj: u64, opts: &FromCrsOptions) -> Result<()> {
    if ni == 0 || nj == 0 {
        return Err(FromCrsError::Input(format!("empty raster {ni}x{nj}")));
    }
    let max = opts.max_points.min(MAX_POINTS);
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
    Polar { north: bool },
    Other,
}

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
                Some(l) if l == 90.0 => Family::Polar { north: true },
                Some(l) if l == -90.0 => Family::Polar { north: false },
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
    fn from_axes(src: &Source, xs: &[f64], ys: &[f64], flip: bool) -> Result<Self> {
        let (cols, rows) = (sample_indices(xs.len()), sample_indices(ys.len()));
        let mut lon = Vec::with_capacity(cols.len() * rows.len());
        let mut lat = Vec::with_capacity(cols.len() * rows.len());
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

    fn from_arrays(ni: usize, nj: usize, lat: &[f64], lon: &[f64], flip: bool) -> Self {
        let (cols, rows) = (sample_indices(ni), sample_indices(nj));
        let mut s = Sample {
            ni,
            nj,
            flip,
            lat: Vec::with_capacity(cols.len() * rows.len()),
            lon: Vec::with_capacity(cols.len() * rows.len()),
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
        s
    }

    /// Largest angular distance (degrees) between the samples and the grid's points.
    fn error(&self, c: &Candidate) -> Result<f64> {
        let g = Grid::new(&c.descriptor, GridOptions::default())?;
        let mut worst = 0.0_f64;
        let mut k = 0;
        for &j in &self.rows {
            let jc = if c.flip == self.flip {
                j
            } else {
                self.nj - 1 - j
            };
            for &i in &self.cols {
                let d = match g.point(i as f64, jc as f64) {
                    Some((la, lo)) => angular_distance(self.lat[k], self.lon[k], la, lo),
                    None => f64::INFINITY,
                };
                worst = if d.is_nan() {
                    f64::INFINITY
                } else {
                    worst.max(d)
                };
                k += 1;
            }
        }
        Ok(worst)
    }

    fn len(&self) -> usize {
        self.cols.len() * self.rows.len()
    }
}

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
    for c in cands {
        match sample.error(&c) {
            Ok(e) if e <= tol => return Ok(done(c, e, notes)),
            Ok(e) => {
                notes.push(format!("{}: {e:.2e}° from the source", c.label));
                if best.as_ref().is_none_or(|(_, b)| e < *b) {
                    best = Some((c, e));
                }
            }
            Err(err) => notes.push(format!("{}: {err}", c.label)),
        }
    }
    let (lat, lon) = full_truth()?;
    let y = y_candidate(sample.ni, sample.nj, &lat, &lon, opts.precision)?;
    let e = sample.error(&y)?;
    match best {
        Some((c, b)) if b < e => Ok(done(c, b, notes)),
        _ => Ok(done(y, e, notes)),
    }
}

fn store(v: f64, p: PositionalPrecision) -> f64 {
    match p {
        PositionalPrecision::F32 => f64::from(v as f32),
        PositionalPrecision::F64 => v,
    }
}

/// A Z or Y candidate on reference `rg`/`rig` with positional values `x`, `y` (before
/// rounding to the stored precision).
fn linked(
    grtyp: u8,
    ni: usize,
    nj: usize,
    rg: u8,
    rig: [u32; 4],
    x: impl Iterator<Item = f64>,
    y: impl Iterator<Item = f64>,
    p: PositionalPrecision,
) -> GridDescriptor {
    let x: Arc<[f64]> = x.map(|v| store(v, p)).collect();
    let y: Arc<[f64]> = y.map(|v| store(v, p)).collect();
    let tags = positional_tags(rg, rig, &x, &y);
    GridDescriptor::with_positional(
        grtyp,
        ni as u32,
        nj as u32,
        z_igs(tags),
        Positional {
            grtyp: rg,
            ig: rig,
            x,
            y,
        },
    )
}

fn y_candidate(
    ni: usize,
    nj: usize,
    lat: &[f64],
    lon: &[f64],
    p: PositionalPrecision,
) -> Result<Candidate> {
    // The reference L of rpnpy's Y grids (cxgaig('L', 0, 0, 1, 1)); librmn ignores it.
    let rig = LatLonParams {
        lat0: 0.0,
        lon0: 0.0,
        dlat: 1.0,
        dlon: 1.0,
    }
    .encode()?;
    // Longitudes in (−180, 180]: half the magnitude of [0, 360), so twice the f32 precision.
    Ok(Candidate {
        descriptor: linked(
            b'Y',
            ni,
            nj,
            b'L',
            rig,
            lon.iter().map(|&v| norm180(v)),
            lat.iter().copied(),
            p,
        ),
        flip: false,
        label: "Y",
    })
}

/// (start, step) of an evenly spaced axis (to 1e-9 of its step), step 1 for one value.
fn regular(v: &[f64]) -> Option<(f64, f64)> {
    let n = v.len();
    if n < 2 {
        return v.first().map(|&s| (s, 1.0));
    }
    let step = (v[n - 1] - v[0]) / (n - 1) as f64;
    let ok = v
        .iter()
        .enumerate()
        .all(|(k, &x)| (x - (v[0] + k as f64 * step)).abs() <= 1e-9 * step.abs());
    ok.then_some((v[0], step))
}

fn snap(v: f64, quantum: f64, tol: f64) -> Option<f64> {
    let q = (v / quantum).round() * quantum;
    ((v - q).abs() <= tol).then_some(q)
}

/// A, B, G, L and Z on L for longitude axis `x` and increasing latitude axis `y` (FST order).
fn longlat_candidates(x: &[f64], y: &[f64], flip: bool, p: PositionalPrecision) -> Vec<Candidate> {
    let (ni, nj) = (x.len(), y.len());
    let mut out = Vec::new();
    let rx = regular(x);
    let ry = regular(y);
    // A, B and G start at longitude 0 and cover the globe; their rows run south to north
    // unless ig2 = 1, which takes a north-up source as it is.
    if let Some((x0, dx)) = rx {
        let global = |g: u8| match g {
            b'B' => ni >= 2 && nj >= 2 && (dx - 360.0 / (ni - 1) as f64).abs() <= 1e-9,
            _ => (dx - 360.0 / ni as f64).abs() <= 1e-9,
        };
        let types: &[u8] = if ry.is_some() { b"AB" } else { b"G" };
        if norm180(x0).abs() <= 1e-9 {
            for &g in types.iter().filter(|&&g| global(g)) {
                for domain in [Hemisphere::Global, Hemisphere::North, Hemisphere::South] {
                    let ig = GlobalParams {
                        domain,
                        north_to_south: flip,
                    }
                    .encode();
                    if g == b'G' && !gaussian_match(y, domain) {
                        continue;
                    }
                    out.push(Candidate {
                        descriptor: GridDescriptor::simple(g, ni as u32, nj as u32, ig),
                        flip: false,
                        label: match g {
                            b'A' => "A",
                            b'B' => "B",
                            _ => "G",
                        },
                    });
                }
            }
        }
    }
    if let (Some((lon0, dlon)), Some((lat0, dlat))) = (rx, ry) {
        if dlon > 0.0 && dlat > 0.0 {
            if let Ok(ig) = (LatLonParams {
                lat0,
                lon0,
                dlat,
                dlon,
            })
            .encode()
            {
                out.push(Candidate {
                    descriptor: GridDescriptor::simple(b'L', ni as u32, nj as u32, ig),
                    flip,
                    label: "L",
                });
            }
        }
    }
    // Z on L: reference L with 0.01° spacing, `>>`/`^^` in hundredths of a degree from it.
    // `>>` starts at the westernmost longitude (floored to 0.01°) so that no value is
    // negative: librmn adds 360 to negative `>>` values before scaling by dlon, which would
    // move them by 3.6°. `^^` counts from the middle latitude, halving its magnitude.
    let xmin = x.iter().fold(f64::INFINITY, |m, &v| m.min(v));
    let kx = (xmin * 100.0).floor();
    let ky = (f64::midpoint(y[0], y[nj - 1]) * 100.0).floor();
    if let Ok(rig) = (LatLonParams {
        lat0: ky / 100.0,
        lon0: kx / 100.0,
        dlat: 0.01,
        dlon: 0.01,
    })
    .encode()
    {
        out.push(Candidate {
            descriptor: linked(
                b'Z',
                ni,
                nj,
                b'L',
                rig,
                x.iter().map(|&v| v * 100.0 - kx),
                y.iter().map(|&v| v * 100.0 - ky),
                p,
            ),
            flip,
            label: "Z on L",
        });
    }
    out
}

/// Whether `y` (increasing) are the Gaussian latitudes of a G grid on `domain`, to 1e-6°.
fn gaussian_match(y: &[f64], domain: Hemisphere) -> bool {
    let n = y.len();
    let lats = match domain {
        Hemisphere::Global => gaussian_latitudes(n),
        Hemisphere::North => gaussian_latitudes(2 * n).split_off(n),
        Hemisphere::South => {
            let mut l = gaussian_latitudes(2 * n);
            l.truncate(n);
            l
        }
    };
    lats.len() == n && lats.iter().zip(y).all(|(a, b)| (a - b).abs() <= 1e-6)
}

/// The rotated-pole candidate: the source's rotated pole, if it lies on the 1/40° lattice of
/// the E encoding, becomes an E rotation whose equator points are lattice points; the source's
/// rotated longitudes differ from ours by a constant, added to `>>`.
fn rotated_candidate(
    src: &Source,
    x: &[f64],
    y: &[f64],
    flip: bool,
    p: PositionalPrecision,
) -> std::result::Result<Candidate, String> {
    let (ni, nj) = (x.len(), y.len());
    // Two points of the source's rotated equator, 90° apart: their cross product is the
    // rotated north pole, whatever convention the CRS was written in.
    let a = src.convert1(0.0, 0.0, true);
    let b = src.convert1(90.0, 0.0, true);
    if ![a.0, a.1, b.0, b.1].iter().all(|v| v.is_finite()) {
        return Err("PROJ cannot convert the rotated equator".to_owned());
    }
    let (ua, ub) = (unit(a.1, a.0), unit(b.1, b.0));
    let pole = cross(ua, ub);
    let (plat, plon) = latlon_of(pole);
    let lattice = 1.0 / 40.0;
    let Some(plat) = snap(plat, lattice, 1e-8) else {
        return Err(format!(
            "the rotated pole's latitude {plat} is not a multiple of 1/40° (the E encoding's \
             step), so no E rotation is exact"
        ));
    };
    let plon = if plat.abs() == 90.0 {
        0.0
    } else {
        match snap(plon, lattice, 1e-8) {
            Some(v) => v,
            None => {
                return Err(format!(
                    "the rotated pole's longitude {plon} is not a multiple of 1/40° (the E \
                     encoding's step), so no E rotation is exact"
                ))
            }
        }
    };
    let up = unit(plat, plon);
    let lattice_point = |v: [f64; 3]| -> Option<(f64, f64)> {
        let (la, lo) = latlon_of(v);
        let la = snap(la, lattice, 1e-9)?;
        let lo = if la.abs() == 90.0 {
            0.0
        } else {
            wrap360(snap(lo, lattice, 1e-9)?)
        };
        Some((la, lo))
    };
    // The four points 90° from the pole that are on the lattice when the pole is: along its
    // meridian, and where its equator crosses the true equator. Each can be rotated (0, 180);
    // pick the one that makes the `>>` offset smallest.
    let firsts = [
        (90.0 - plat, plon + 180.0),
        (plat - 90.0, plon),
        (0.0, plon + 90.0),
        (0.0, plon - 90.0),
    ];
    let mut best: Option<(RotatedParams, [u32; 4], f64)> = None;
    for (la1, lo1) in firsts {
        let u1 = unit(la1, lo1);
        let Some((xlat1, xlon1)) = lattice_point(u1) else {
            continue;
        };
        let Some((xlat2, xlon2)) = lattice_point(cross(up, u1)) else {
            continue;
        };
        let rp = RotatedParams {
            xlat1,
            xlon1,
            xlat2,
            xlon2,
        };
        let Ok(ig) = rp.encode() else { continue };
        let back = RotatedParams::decode(ig);
        let same = (back.xlat1 - xlat1).abs() < 1e-12
            && (back.xlat2 - xlat2).abs() < 1e-12
            && (xlat1.abs() == 90.0 || norm180(back.xlon1 - xlon1).abs() < 1e-12)
            && (xlat2.abs() == 90.0 || norm180(back.xlon2 - xlon2).abs() < 1e-12);
        let Ok(rot) = Rotation::new(&back) else {
            continue;
        };
        if !same || dot(rot.ez, up) < 1.0 - 1e-14 {
            continue;
        }
        let delta = norm180(rot.to_rotated(a.1, a.0).1);
        if best.as_ref().is_none_or(|(_, _, d)| delta.abs() < d.abs()) {
            best = Some((back, ig, delta));
        }
    }
    let Some((_, ig, delta)) = best else {
        return Err("no two lattice points of the rotated equator encode exactly".to_owned());
    };
    // Keep `>>` equal to the source's values when the frames agree up to float noise.
    let delta = snap(delta, 1e-6, 1e-9).unwrap_or(delta);
    Ok(Candidate {
        descriptor: linked(
            b'Z',
            ni,
            nj,
            b'E',
            ig,
            x.iter().map(|&v| v + delta),
            y.iter().copied(),
            p,
        ),
        flip,
        label: "Z on E",
    })
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    let c = [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ];
    let n = dot(c, c).sqrt();
    c.map(|v| v / n)
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// N/S and Z on N/S for a spherical polar stereographic CRS (any radius, any `lat_ts`: on a
/// sphere they only scale the plane, which d60 absorbs).
fn polar_candidates(
    src: &Source,
    north: bool,
    x: &[f64],
    y: &[f64],
    flip: bool,
    p: PositionalPrecision,
) -> std::result::Result<Vec<Candidate>, String> {
    let (ni, nj) = (x.len(), y.len());
    let s = if north { 1.0 } else { -1.0 };
    let pole = src.convert1(0.0, 90.0 * s, false);
    let p0 = src.convert1(0.0, 60.0 * s, false);
    let p90 = src.convert1(90.0, 60.0 * s, false);
    if ![pole.0, pole.1, p0.0, p0.1, p90.0, p90.1]
        .iter()
        .all(|v| v.is_finite())
    {
        return Err("PROJ cannot place the pole or the 60° circle".to_owned());
    }
    let snap_m = |v: f64| snap(v, 1e-3, 1e-7).unwrap_or(v);
    let (xp, yp) = (snap_m(pole.0), snap_m(pole.1));
    let r60 = (p0.0 - xp).hypot(p0.1 - yp);
    // CRS units per FST metre: FST puts 60° at (1 + sin 60°)·R·tan 15° from the pole.
    let fst_r60 = ONE_PLUS_SIN60 * EARTH_RADIUS_M * 15f64.to_radians().tan();
    let scale = r60 / fst_r60;
    let scale = if (scale - 1.0).abs() <= 1e-12 {
        1.0
    } else {
        scale
    };
    let ang = |q: (f64, f64)| (q.1 - yp).atan2(q.0 - xp).to_degrees();
    // Greenwich is at angle dgrw from +x in both hemispheres; longitude 90°E is 90° further
    // counter-clockwise in the north and clockwise in the south.
    let dgrw_raw = wrap360(ang(p0));
    let dgrw = snap(dgrw_raw, 0.01, 1e-8).map_or(dgrw_raw, wrap360);
    if norm180(ang(p90) - dgrw_raw - 90.0 * s).abs() > 1e-6 {
        return Err("the CRS is mirrored with respect to FST's polar stereographic".to_owned());
    }
    let fx: Vec<f64> = x.iter().map(|&v| (v - xp) / scale).collect();
    let fy: Vec<f64> = y.iter().map(|&v| (v - yp) / scale).collect();
    let g = if north { b'N' } else { b'S' };
    let mut out = Vec::new();
    let (rx, ry) = (regular(&fx), regular(&fy));
    if let (Some((x0, dx)), Some((y0, dy))) = (rx, ry) {
        let d60 = match (ni > 1, nj > 1) {
            (true, _) => dx,
            (false, true) => dy,
            _ => 100.0,
        };
        let square = (ni < 2 || (dx - d60).abs() <= 1e-9 * d60)
            && (nj < 2 || (dy - d60).abs() <= 1e-9 * d60);
        if square && d60 > 0.0 {
            let pp = PolarParams {
                north,
                pi: snap(1.0 - x0 / d60, 0.1, 1e-9).unwrap_or(1.0 - x0 / d60),
                pj: snap(1.0 - y0 / d60, 0.1, 1e-9).unwrap_or(1.0 - y0 / d60),
                d60: snap(d60, 100.0, 1e-6).unwrap_or(d60),
                dgrw,
            };
            if let Ok(ig) = pp.encode() {
                out.push(Candidate {
                    descriptor: GridDescriptor::simple(g, ni as u32, nj as u32, ig),
                    flip,
                    label: if north { "N" } else { "S" },
                });
            }
        }
    }
    // Z on N/S: reference with the pole at grid point (0, 0) and d60 = 100 m (old-style
    // encoding, exact), `>>`/`^^` in hundreds of metres from the pole.
    let rig = PolarParams {
        north,
        pi: 0.0,
        pj: 0.0,
        d60: 100.0,
        dgrw,
    }
    .encode()
    .map_err(|e| e.to_string())?;
    out.push(Candidate {
        descriptor: linked(
            b'Z',
            ni,
            nj,
            g,
            rig,
            fx.iter().map(|&v| v / 100.0),
            fy.iter().map(|&v| v / 100.0),
            p,
        ),
        flip,
        label: if north { "Z on N" } else { "Z on S" },
    });
    Ok(out)
}
