//! The dataset model, in safe Rust: what a GDAL dataset opened on an FST file (or on one of
//! its subdatasets) contains, and how a block of a band is filled.
//!
//! * fields come from `fst_core::catalog::Catalog` (never re-derived here);
//! * georeferencing comes from `grids` (CRS WKT, affine transform, lat/lon arrays);
//! * records are decoded on first touch into a per-dataset [`DecodeCache`].
//!
//! Rows are flipped so that line 0 is the northern edge whenever the record's first row is
//! the southern one (the usual FST order), as GRIB does; the geotransform and the
//! geolocation arrays follow the same flip.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Timelike, Utc};
use fst_core::catalog::{Catalog, Field as CatField, FieldSlice};
use fst_core::codec::{missing_mask, SampleType, Samples};
use fst_core::date::DateStamp;
use fst_core::source::ByteSource;
use fst_core::{FstFile, OpenOptions, RecordIndex, RecordMeta};
use grids::{Coordinates, Grid, GridOptions};

use crate::cache::DecodeCache;
use crate::names::{self, Part};

/// GDAL data types used by the driver (values of `GDALDataType` in GDAL 3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    /// `GDT_Byte`.
    Byte,
    /// `GDT_UInt32`.
    UInt32,
    /// `GDT_Int32`.
    Int32,
    /// `GDT_Float32`.
    Float32,
    /// `GDT_Float64`.
    Float64,
    /// `GDT_CFloat32`.
    CFloat32,
    /// `GDT_CFloat64`.
    CFloat64,
    /// `GDT_UInt64`.
    UInt64,
    /// `GDT_Int64`.
    Int64,
}

impl DataType {
    /// The `GDALDataType` value.
    #[must_use]
    pub fn gdal_code(self) -> i32 {
        match self {
            DataType::Byte => 1,
            DataType::UInt32 => 4,
            DataType::Int32 => 5,
            DataType::Float32 => 6,
            DataType::Float64 => 7,
            DataType::CFloat32 => 10,
            DataType::CFloat64 => 11,
            DataType::UInt64 => 12,
            DataType::Int64 => 13,
        }
    }

    /// Bytes per pixel.
    #[must_use]
    pub fn size(self) -> usize {
        match self {
            DataType::Byte => 1,
            DataType::UInt32 | DataType::Int32 | DataType::Float32 => 4,
            DataType::Float64 | DataType::CFloat32 | DataType::UInt64 | DataType::Int64 => 8,
            DataType::CFloat64 => 16,
        }
    }

    fn of(s: SampleType) -> DataType {
        match s {
            SampleType::F64 => DataType::Float64,
            SampleType::U32 | SampleType::Raw32 => DataType::UInt32,
            SampleType::I32 => DataType::Int32,
            SampleType::U64 => DataType::UInt64,
            SampleType::I64 => DataType::Int64,
            SampleType::U8 => DataType::Byte,
            SampleType::C64 => DataType::CFloat32,
            SampleType::C128 => DataType::CFloat64,
            _ => DataType::Float32,
        }
    }

    /// The value librmn's missing-value package puts in place of missing points.
    fn missing_flag(self) -> Option<f64> {
        match self {
            DataType::Float32 => Some(f64::from(-1e38_f32)),
            DataType::Float64 => Some(-1e38),
            DataType::Int32 => Some(f64::from(i32::MIN)),
            DataType::UInt32 => Some(f64::from(u32::MAX)),
            DataType::Int64 => Some(i64::MIN as f64),
            DataType::UInt64 => Some(u64::MAX as f64),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            DataType::Byte => "8-bit unsigned integer",
            DataType::UInt32 => "32-bit unsigned integer",
            DataType::Int32 => "32-bit integer",
            DataType::Float32 => "32-bit floating-point",
            DataType::Float64 => "64-bit floating-point",
            DataType::CFloat32 => "complex 32-bit floating-point",
            DataType::CFloat64 => "complex 64-bit floating-point",
            DataType::UInt64 => "64-bit unsigned integer",
            DataType::Int64 => "64-bit integer",
        }
    }
}

/// Largest grid whose latitude/longitude arrays a LON/LAT subdataset computes (2 × 8 bytes
/// per point), so that a corrupt shape cannot ask for tens of gigabytes.
const MAX_GEOLOCATION_POINTS: u64 = 1 << 27;

/// Options of the model that the host may set.
#[derive(Debug, Clone, Copy)]
pub struct ModelOptions {
    /// Bytes of decoded records kept per dataset handle.
    pub cache_bytes: u64,
}

impl Default for ModelOptions {
    fn default() -> Self {
        Self {
            cache_bytes: 64 << 20,
        }
    }
}

/// One band: a 2-D slice (record, k).
#[derive(Debug, Clone)]
pub struct Band {
    /// Pixel type.
    pub data_type: DataType,
    /// Human-readable description (`TT 850 mb 2026-11-20T12:00Z (+12 h)`).
    pub description: String,
    /// Metadata items of the default domain: `FST_*`, `NETCDF_VARNAME`, `NETCDF_DIM_*`.
    pub metadata: Vec<(String, String)>,
    /// Every `FST_*` item of the band, in the metadata domain `FST` (the default domain leaves
    /// out the ones that differ between the bands of a netCDF time × level hypercube).
    pub fst_metadata: Vec<(String, String)>,
    /// Nodata value, for records with missing values.
    pub nodata: Option<f64>,
    /// Block size (full rows).
    pub block: (usize, usize),
    record: RecordIndex,
    k: u32,
}

/// Where a dataset's pixels come from.
#[derive(Debug)]
enum Content {
    /// A subdataset listing: no pixels.
    Listing,
    /// Records of a field. Line `l` of the raster is record row `row(l)`.
    Records { flip: bool, row_offset: usize },
    /// A geolocation array (already flipped).
    Array(Arc<Vec<f64>>),
}

/// A decoded record, with missing points replaced by the band's nodata value.
#[derive(Debug)]
struct Decoded {
    samples: Samples,
}

/// An open dataset.
pub struct Dataset {
    file: Arc<FstFile>,
    /// Raster width (0 for a listing).
    pub xsize: usize,
    /// Raster height (0 for a listing).
    pub ysize: usize,
    /// GDAL geotransform, for grids regular in their CRS.
    pub geotransform: Option<[f64; 6]>,
    /// CRS as WKT.
    pub wkt: Option<String>,
    /// Dataset metadata (default domain).
    pub metadata: Vec<(String, String)>,
    /// `SUBDATASETS` domain, as (NAME, DESC) pairs.
    pub subdatasets: Vec<(String, String)>,
    /// `GEOLOCATION` domain.
    pub geolocation: Vec<(String, String)>,
    /// The bands.
    pub bands: Vec<Band>,
    /// The file path (for PAM), when a subdataset was opened.
    pub physical_path: Option<String>,
    /// The subdataset part of the name (for PAM), when a subdataset was opened.
    pub subdataset_name: Option<String>,
    content: Content,
    cache: DecodeCache<Decoded>,
    /// Decode buffers of whole-record blocks, reused so that reading a band does not fault in
    /// fresh pages every time.
    pool: Mutex<Vec<Samples>>,
    /// The records of the next bands, each decoding on its own thread while the caller
    /// consumes this one (see [`Dataset::prefetch_after`]).
    prefetch: Mutex<VecDeque<Prefetch>>,
    /// The band read last (`usize::MAX` before the first read), to detect band-by-band walks.
    last_band: AtomicUsize,
    /// Whether the last read of `last_band` reached the raster's bottom row.
    last_read_reached_bottom: AtomicBool,
}

/// How many bands ahead of a band-by-band walk are decoded in advance. Two keep a two-core
/// machine busy while the caller copies or writes; more only hold more buffers.
const READ_AHEAD: usize = 2;

/// A record decoding ahead of its first read.
struct Prefetch {
    record: RecordIndex,
    job: std::thread::JoinHandle<Result<Samples, String>>,
}

impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dataset")
            .field("xsize", &self.xsize)
            .field("ysize", &self.ysize)
            .field("bands", &self.bands.len())
            .finish_non_exhaustive()
    }
}

/// Opens the bytes behind a path (local file, or a VSI path in the plugin).
pub type SourceOpener<'a> = &'a dyn Fn(&str) -> Result<Arc<dyn ByteSource>, String>;

/// Open `name`: a path, or a subdataset name.
pub fn open(name: &str, opener: SourceOpener<'_>, opts: ModelOptions) -> Result<Dataset, String> {
    let (path, sds) = if names::is_subdataset(name) {
        let s = names::parse(name)?;
        (s.path.clone(), Some(s))
    } else {
        (name.to_owned(), None)
    };
    let source = opener(&path)?;
    let file = FstFile::from_source(source, Some(path.clone().into()), OpenOptions::default())
        .map_err(|e| e.to_string())?;
    let file = Arc::new(file);
    let catalog = Catalog::build(file.records());
    let fields = catalog.fields();
    let ctx = Ctx {
        file: &file,
        path: &path,
        opts,
    };
    match sds {
        None => match fields {
            [] => Err(format!(
                "{path}: the file holds no data records ({} records in all)",
                file.records().len()
            )),
            [only] if only.key.grid.grtyp != b'U' => ctx.field(only, Part::Whole, None),
            _ => Ok(ctx.listing(fields)),
        },
        Some(s) => {
            let field = fields
                .iter()
                .find(|f| names::encode_key(&f.key) == s.key)
                .ok_or_else(|| {
                    format!(
                        "{path}: no field {}:{}:{}:{} in the file",
                        s.key[0], s.key[1], s.key[2], s.key[3]
                    )
                })?;
            let sub = names::format(&path, &field.key, s.part);
            let sub = sub.get(names::PREFIX.len()..).map(str::to_owned);
            ctx.field(field, s.part, sub)
        }
    }
}

struct Ctx<'a> {
    file: &'a Arc<FstFile>,
    path: &'a str,
    opts: ModelOptions,
}

#[allow(clippy::needless_pass_by_value)]
fn kv(k: &str, v: impl ToString) -> (String, String) {
    (k.to_owned(), v.to_string())
}

impl Ctx<'_> {
    fn empty(&self, content: Content) -> Dataset {
        Dataset {
            file: Arc::clone(self.file),
            xsize: 0,
            ysize: 0,
            geotransform: None,
            wkt: None,
            metadata: vec![kv("FST_CONTAINER", self.file.container().name())],
            subdatasets: Vec::new(),
            geolocation: Vec::new(),
            bands: Vec::new(),
            physical_path: None,
            subdataset_name: None,
            content,
            cache: DecodeCache::new(self.opts.cache_bytes),
            pool: Mutex::new(Vec::new()),
            prefetch: Mutex::new(VecDeque::new()),
            last_band: AtomicUsize::new(usize::MAX),
            last_read_reached_bottom: AtomicBool::new(false),
        }
    }

    fn listing(&self, fields: &[CatField]) -> Dataset {
        let mut ds = self.empty(Content::Listing);
        for f in fields {
            let dt = field_type(self.file, f);
            let k = &f.key;
            let (ni, nj) = (k.grid.ni, k.grid.nj);
            let desc = |part: &str, nj: u32| {
                format!(
                    "[{}x{}x{}] {} {} {} on grid {}{} ({})",
                    f.band_count(),
                    nj,
                    ni,
                    k.nomvar.trimmed(),
                    k.typvar.trimmed(),
                    k.etiket.trimmed(),
                    k.grid,
                    part,
                    dt.name()
                )
            };
            if k.grid.grtyp == b'U' {
                ds.subdatasets.push((
                    names::format(self.path, k, Part::Yin),
                    desc(" (Yin)", nj / 2),
                ));
                ds.subdatasets.push((
                    names::format(self.path, k, Part::Yang),
                    desc(" (Yang)", nj / 2),
                ));
            } else {
                ds.subdatasets
                    .push((names::format(self.path, k, Part::Whole), desc("", nj)));
            }
        }
        ds
    }

    #[allow(clippy::too_many_lines)]
    fn field(&self, f: &CatField, part: Part, sub: Option<String>) -> Result<Dataset, String> {
        let k = &f.key;
        let first = f
            .slices
            .first()
            .and_then(|s| self.file.record(s.record))
            .ok_or("empty field")?;
        let (ni, nj) = (k.grid.ni as usize, k.grid.nj as usize);
        let is_u = k.grid.grtyp == b'U';
        match (is_u, part) {
            (true, Part::Whole) => {
                return Err(format!(
                    "{}: a U (Yin-Yang) field opens as two subdatasets, :YIN and :YANG",
                    self.path
                ))
            }
            (false, Part::Yin | Part::Yang) => {
                return Err(format!("{}: YIN/YANG apply to U grids only", self.path))
            }
            _ => {}
        }
        let mut ds = self.empty(Content::Listing);
        if sub.is_some() {
            ds.physical_path = Some(self.path.to_owned());
            ds.subdataset_name = sub;
        }
        ds.xsize = ni;
        ds.ysize = if is_u { nj / 2 } else { nj };
        ds.metadata.extend([
            kv("FST_NOMVAR", k.nomvar.trimmed()),
            kv("FST_TYPVAR", k.typvar.trimmed()),
            kv("FST_ETIKET", k.etiket.trimmed()),
            kv("FST_GRTYP", char::from(k.grid.grtyp)),
            kv("FST_IG1", k.grid.ig[0]),
            kv("FST_IG2", k.grid.ig[1]),
            kv("FST_IG3", k.grid.ig[2]),
            kv("FST_IG4", k.grid.ig[3]),
            kv("FST_GRID", k.grid),
        ]);

        // Georeferencing.
        let mut flip = true;
        let mut row_offset = 0;
        let grid = grids::fst::descriptor_from_record(self.file, first)
            .and_then(|d| Grid::new(&d, GridOptions::default()))
            .map_err(|e| e.to_string());
        match &grid {
            Err(e) => ds.metadata.push(kv("FST_GEOREFERENCING_ERROR", e)),
            Ok(g) => {
                if let Some(r) = g.ref_grtyp() {
                    ds.metadata.push(kv("FST_GRREF", r));
                }
                let sub_k = match part {
                    Part::Yang => 1,
                    _ => 0,
                };
                if is_u {
                    row_offset = sub_k * (nj / 2);
                }
                let coords = match g.coordinates() {
                    Coordinates::Subgrids(mut v) if is_u && v.len() == 2 => v.swap_remove(sub_k),
                    c => c,
                };
                match coords {
                    Coordinates::Affine(t) => {
                        flip = t.dy > 0.0;
                        let h = ds.ysize as f64;
                        ds.geotransform = Some(if flip {
                            [
                                t.x0 - t.dx / 2.0,
                                t.dx,
                                0.0,
                                t.y0 + (h - 0.5) * t.dy,
                                0.0,
                                -t.dy,
                            ]
                        } else {
                            t.to_gdal()
                        });
                        // Longitude grids that start east of 180° are shown in -180..180, as
                        // GRIB does, so that they overlay other layers.
                        let longlat = g
                            .subgrid_proj_string(sub_k)
                            .is_ok_and(|p| p.starts_with("+proj=longlat"));
                        if let Some(gt) = ds
                            .geotransform
                            .as_mut()
                            .filter(|gt| longlat && gt[0] >= 180.0)
                        {
                            gt[0] -= 360.0;
                        }
                        match g.subgrid_crs(sub_k) {
                            Ok(c) => ds.wkt = Some(c.wkt),
                            Err(e) => ds.metadata.push(kv("FST_GEOREFERENCING_ERROR", e)),
                        }
                    }
                    Coordinates::Rectilinear { y, .. } => {
                        flip = y.last() > y.first();
                        self.geolocation(&mut ds, k, g)?;
                    }
                    Coordinates::Geolocation => {
                        let ll = g.lat_lon();
                        let row_mean = |j: usize| {
                            ll.lat
                                .get(j * ni..(j + 1) * ni)
                                .map_or(0.0, |r| r.iter().sum::<f64>() / ni as f64)
                        };
                        flip = row_mean(nj - 1) > row_mean(0);
                        self.geolocation(&mut ds, k, g)?;
                    }
                    Coordinates::Subgrids(_) => ds
                        .metadata
                        .push(kv("FST_GEOREFERENCING_ERROR", "unexpected subgrids")),
                }
            }
        }

        if let Part::Lon | Part::Lat = part {
            let g = grid
                .as_ref()
                .map_err(|e| format!("{}: no coordinates: {e}", self.path))?;
            if ds.geolocation.is_empty() {
                return Err(format!(
                    "{}: LON/LAT subdatasets exist only for grids described by geolocation arrays",
                    self.path
                ));
            }
            if (ni as u64) * (nj as u64) > MAX_GEOLOCATION_POINTS {
                return Err(format!(
                    "{}: {ni}x{nj} points exceed the per-record limit",
                    self.path
                ));
            }
            let ll = g.lat_lon();
            let src = if part == Part::Lon {
                normalised_lon(&ll.lon)
            } else {
                ll.lat.clone()
            };
            let mut v = Vec::new();
            v.try_reserve_exact(ni * nj)
                .map_err(|e| format!("{}: {e}", self.path))?;
            for line in 0..nj {
                let j = if flip { nj - 1 - line } else { line };
                v.extend_from_slice(src.get(j * ni..(j + 1) * ni).ok_or("short lat/lon array")?);
            }
            ds.geolocation.clear();
            ds.geotransform = None;
            ds.wkt = None;
            ds.content = Content::Array(Arc::new(v));
            let what = if part == Part::Lon {
                "longitude"
            } else {
                "latitude"
            };
            ds.bands.push(Band {
                data_type: DataType::Float64,
                description: format!("{what} (degrees)"),
                metadata: vec![kv("FST_COORDINATE", what)],
                fst_metadata: vec![],
                nodata: None,
                block: block_shape(ni, nj, 8),
                record: first.index,
                k: 0,
            });
            return Ok(ds);
        }

        ds.metadata
            .push(kv("FST_ROWS_REVERSED", if flip { "YES" } else { "NO" }));
        ds.content = Content::Records { flip, row_offset };
        let dt = field_type(self.file, f);
        let block = block_shape(ds.xsize, ds.ysize, dt.size());
        for s in &f.slices {
            let rec = self.file.record(s.record).ok_or("record vanished")?;
            for kk in 0..rec.nk {
                ds.bands.push(band(rec, s, kk, dt, block));
            }
        }
        if ds.bands.is_empty() {
            return Err(format!("{}: the field has no 2-D slices", self.path));
        }
        if let Some((dims, per_band)) = netcdf_dims(f) {
            ds.metadata.extend(dims);
            for (b, items) in ds.bands.iter_mut().zip(per_band) {
                b.metadata.extend(items);
            }
            keep_uniform_keys(&mut ds.bands);
        }
        ds.metadata.push(kv(
            &format!("{}#long_name", names::netcdf_varname(k.nomvar.trimmed())),
            netcdf_long_name(k),
        ));
        Ok(ds)
    }

    /// GEOLOCATION metadata pointing at the LON/LAT subdatasets of the field.
    fn geolocation(
        &self,
        ds: &mut Dataset,
        k: &fst_core::catalog::FieldKey,
        g: &Grid,
    ) -> Result<(), String> {
        let geo = grids::Crs::from_proj(format!(
            "+proj=longlat +R={} +no_defs +type=crs",
            grids::params::EARTH_RADIUS_M
        ))
        .map_err(|e| e.to_string())?;
        if ds.wkt.is_none() {
            ds.wkt = g.crs().ok().map(|c| c.wkt);
        }
        ds.geolocation = vec![
            kv("X_DATASET", names::format(self.path, k, Part::Lon)),
            kv("X_BAND", 1),
            kv("Y_DATASET", names::format(self.path, k, Part::Lat)),
            kv("Y_BAND", 1),
            kv("PIXEL_OFFSET", 0),
            kv("PIXEL_STEP", 1),
            kv("LINE_OFFSET", 0),
            kv("LINE_STEP", 1),
            kv("GEOREFERENCING_CONVENTION", "PIXEL_CENTER"),
            kv("SRS", geo.wkt),
        ];
        Ok(())
    }
}

/// `NETCDF_DIM_*` items (the netCDF driver's convention, read by its `CreateCopy`) when the
/// field is a full valid-time × level hypercube in band order (time slowest, nk = 1): then
/// `gdal_translate -of netCDF` writes one `(time, level, y, x)` variable instead of one
/// variable per band. Time is in seconds since 1970, level in the ip1 kind's unit.
#[allow(clippy::type_complexity)]
fn netcdf_dims(f: &CatField) -> Option<(Vec<(String, String)>, Vec<Vec<(String, String)>>)> {
    let kind = f.slices.first()?.level?.kind;
    let mut points = Vec::new();
    for s in &f.slices {
        let level = s.level.filter(|l| l.kind == kind && s.nk == 1)?;
        let t = DateStamp(s.datev).to_datetime()?.timestamp();
        points.push((t, level.value));
    }
    let mut times: Vec<i64> = points.iter().map(|p| p.0).collect();
    times.dedup();
    let levels: Vec<f32> = points
        .iter()
        .take_while(|p| Some(&p.0) == times.first())
        .map(|p| p.1)
        .collect();
    let full = times.len() * levels.len() == points.len()
        && points.iter().enumerate().all(|(k, p)| {
            times.get(k / levels.len()) == Some(&p.0) && levels.get(k % levels.len()) == Some(&p.1)
        });
    let distinct = |v: &[f32]| {
        v.iter()
            .enumerate()
            .all(|(k, x)| !v.iter().skip(k + 1).any(|y| y.to_bits() == x.to_bits()))
    };
    if !full || times.windows(2).any(|w| w[0] >= w[1]) || !distinct(&levels) {
        return None;
    }
    let list = |v: Vec<String>| format!("{{{}}}", v.join(","));
    let dims = vec![
        kv("NETCDF_DIM_EXTRA", "{time,level}"),
        kv("NETCDF_DIM_time_DEF", format!("{{{},6}}", times.len())),
        kv(
            "NETCDF_DIM_time_VALUES",
            list(times.iter().map(ToString::to_string).collect()),
        ),
        kv("NETCDF_DIM_level_DEF", format!("{{{},5}}", levels.len())),
        kv(
            "NETCDF_DIM_level_VALUES",
            list(levels.iter().map(ToString::to_string).collect()),
        ),
        kv("time#standard_name", "time"),
        kv("time#units", "seconds since 1970-01-01 00:00:00"),
        kv("time#calendar", "standard"),
        kv("level#units", kind.unit()),
    ];
    let per_band = points
        .iter()
        .map(|&(t, l)| vec![kv("NETCDF_DIM_time", t), kv("NETCDF_DIM_level", l)])
        .collect();
    Some((dims, per_band))
}

/// In a time × level hypercube GDAL's netCDF writer makes one variable of all the bands and
/// copies every band's default-domain metadata onto it, the last band winning: drop from the
/// default domain the `FST_*` keys whose values differ between bands (ip1, dates, record, …),
/// so that the variable carries only what holds for all of it. The band keeps them in the
/// `FST` domain; its level and time are its `NETCDF_DIM_*` items.
fn keep_uniform_keys(bands: &mut [Band]) {
    let Some((first, rest)) = bands.split_first() else {
        return;
    };
    let varying: Vec<String> = first
        .fst_metadata
        .iter()
        .filter(|(key, value)| {
            rest.iter().any(|b| {
                b.fst_metadata
                    .iter()
                    .find(|(k, _)| k == key)
                    .is_none_or(|(_, v)| v != value)
            })
        })
        .map(|(key, _)| key.clone())
        .collect();
    for b in bands.iter_mut() {
        b.metadata
            .retain(|(k, _)| !(k.starts_with("FST_") && varying.contains(k)));
    }
}

/// The netCDF `long_name` of a field: `TT (typvar P, etiket R1_V800)`.
fn netcdf_long_name(k: &fst_core::catalog::FieldKey) -> String {
    let (n, t, e) = (k.nomvar.trimmed(), k.typvar.trimmed(), k.etiket.trimmed());
    if e.is_empty() {
        format!("{n} (typvar {t})")
    } else {
        format!("{n} (typvar {t}, etiket {e})")
    }
}

/// Longitudes in (-180, 180] unless that splits the grid (then [0, 360) as given).
fn normalised_lon(lon: &[f64]) -> Vec<f64> {
    let w: Vec<f64> = lon
        .iter()
        .map(|&x| if x > 180.0 { x - 360.0 } else { x })
        .collect();
    let span = |v: &[f64]| {
        let (lo, hi) = v
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        hi - lo
    };
    if span(&w) <= span(lon) {
        w
    } else {
        lon.to_vec()
    }
}

/// Records up to this size are one block: each is then decoded exactly once per read, straight
/// into GDAL's block cache (a pixel-interleaved `gdal_translate` reads every band for each
/// swath of rows, which with strips and a small decode cache would decode records again).
const WHOLE_RECORD_BLOCK_BYTES: usize = 64 << 20;

/// One block per record when it is small enough, else full-width strips of about 1 MiB.
fn block_shape(xsize: usize, ysize: usize, size: usize) -> (usize, usize) {
    let (w, h) = (xsize.max(1), ysize.max(1));
    if w.saturating_mul(h).saturating_mul(size.max(1)) <= WHOLE_RECORD_BLOCK_BYTES {
        return (w, h);
    }
    let rows = (1usize << 20) / (w * size.max(1));
    (w, rows.clamp(1, h))
}

/// The pixel type of a field: its records' type when they agree, else Float64.
fn field_type(file: &FstFile, f: &CatField) -> DataType {
    let mut types = f
        .slices
        .iter()
        .filter_map(|s| file.record(s.record))
        .map(|r| {
            file.sample_layout(r)
                .map_or(DataType::Float32, |(t, _)| DataType::of(t))
        });
    let first = types.next().unwrap_or(DataType::Float32);
    if types.all(|t| t == first) {
        first
    } else {
        DataType::Float64
    }
}

fn iso_minutes(t: &DateTime<Utc>) -> String {
    if t.second() == 0 {
        t.format("%Y-%m-%dT%H:%MZ").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
}

fn band(rec: &RecordMeta, s: &FieldSlice, k: u32, dt: DataType, block: (usize, usize)) -> Band {
    let nomvar = rec.nomvar.trimmed();
    let level = match s.level {
        Some(l) => l.to_string(),
        None => format!("ip1={}", rec.ip1),
    };
    let datev = DateStamp(rec.datev).to_datetime();
    let dateo = DateStamp(s.dateo).to_datetime();
    let when = datev
        .as_ref()
        .map_or_else(|| format!("datev={}", rec.datev), iso_minutes);
    let hours = s.forecast_seconds as f64 / 3600.0;
    let mut description = format!("{nomvar} {level} {when} (+{hours} h)");
    if rec.nk > 1 {
        description = format!("{description} k={}", k + 1);
    }
    let mut md = vec![
        kv("FST_NOMVAR", nomvar),
        kv("FST_TYPVAR", rec.typvar.trimmed()),
        kv("FST_ETIKET", rec.etiket.trimmed()),
        kv("FST_IP1", rec.ip1),
        kv("FST_IP2", rec.ip2),
        kv("FST_IP3", rec.ip3),
    ];
    if let Some(l) = s.level {
        md.push(kv("FST_LEVEL", l.value));
        md.push(kv("FST_LEVEL_KIND", l.kind.code()));
        md.push(kv("FST_LEVEL_UNIT", l.kind.unit()));
    }
    if let Some(t) = DateStamp(s.dateo).to_iso8601() {
        md.push(kv("FST_DATEO", t));
    }
    if let Some(t) = dateo {
        md.push(kv("FST_DATEO_EPOCH", t.timestamp()));
    }
    if let Some(t) = DateStamp(rec.datev).to_iso8601() {
        md.push(kv("FST_DATEV", t));
    }
    if let Some(t) = datev {
        md.push(kv("FST_DATEV_EPOCH", t.timestamp()));
    }
    md.extend([
        kv("FST_DATEO_STAMP", s.dateo),
        kv("FST_DATEV_STAMP", rec.datev),
        kv("FST_FORECAST_SECONDS", s.forecast_seconds),
        kv("FST_DEET", rec.deet),
        kv("FST_NPAS", rec.npas),
        kv("FST_DATYP", rec.datyp.0),
        kv("FST_NBITS", rec.nbits),
        kv("FST_NK", rec.nk),
        kv("FST_K", k + 1),
        kv("FST_RECORD", rec.index.0),
    ]);
    if let Some(j) = &rec.extended_metadata {
        md.push(kv("FST_METADATA_JSON", j));
    }
    let has_missing = rec.datyp.has_missing() && matches!(rec.datyp.base(), 1 | 2 | 4 | 5 | 6);
    let fst_metadata = md.clone();
    md.push(kv("NETCDF_VARNAME", names::netcdf_varname(nomvar)));
    Band {
        data_type: dt,
        description,
        metadata: md,
        fst_metadata,
        nodata: if has_missing { dt.missing_flag() } else { None },
        block,
        record: rec.index,
        k,
    }
}

impl Dataset {
    /// Fill block (`bx`, `by`) of band `band` (0-based) into `out`, in the band's type,
    /// native byte order. Rows past the raster's end are filled with nodata (or zero).
    pub fn read_block(
        &self,
        band: usize,
        bx: usize,
        by: usize,
        out: &mut [u8],
    ) -> Result<(), String> {
        let b = self
            .bands
            .get(band)
            .ok_or_else(|| format!("no band {}", band + 1))?;
        let (bw, bh) = b.block;
        let px = b.data_type.size();
        if out.len() != bw * bh * px {
            return Err(format!(
                "block buffer of {} bytes, expected {}",
                out.len(),
                bw * bh * px
            ));
        }
        if bx != 0 || by * bh >= self.ysize.max(1) {
            return Err(format!("block ({bx}, {by}) outside the raster"));
        }
        let row_bytes = bw * px;
        let fill = b.nodata.unwrap_or(0.0);
        match &self.content {
            Content::Listing => Err("this dataset lists subdatasets and has no pixels".into()),
            Content::Array(v) => {
                for (r, dst) in out.chunks_exact_mut(row_bytes).enumerate() {
                    let line = by * bh + r;
                    match v.get(line * self.xsize..(line + 1) * self.xsize) {
                        Some(src) if line < self.ysize => write_f64(src, DataType::Float64, dst),
                        _ => fill_row(dst, DataType::Float64, fill),
                    }
                }
                Ok(())
            }
            Content::Records { flip, row_offset } => {
                let rec = self.file.record(b.record).ok_or("record vanished")?;
                let (ni, nj) = (rec.ni as usize, rec.nj as usize);
                let plane = b.k as usize * ni * nj;
                let copy = |samples: &Samples, out: &mut [u8]| -> Result<(), String> {
                    for (r, dst) in out.chunks_exact_mut(row_bytes).enumerate() {
                        let line = by * bh + r;
                        if line >= self.ysize {
                            fill_row(dst, b.data_type, fill);
                            continue;
                        }
                        let j = row_offset + if *flip { self.ysize - 1 - line } else { line };
                        copy_row(samples, plane + j * ni, ni, b.data_type, dst)?;
                    }
                    Ok(())
                };
                if bh >= self.ysize && rec.nk == 1 {
                    // The block is the whole record: GDAL's block cache keeps it, so decode into
                    // a reused buffer and do not cache the values a second time.
                    let samples = self.decode_pooled(rec, b.nodata)?;
                    let result = copy(&samples, out);
                    self.recycle(samples);
                    result
                } else {
                    let dec = self.cached(rec, b.nodata)?;
                    copy(&dec.samples, out)
                }
            }
        }
    }
}

impl Dataset {
    /// Copy the window (`xoff`, `yoff`, `w`, `h`) of band `band` at full resolution into `out`,
    /// pixel `(i, l)` at byte `l·line_space + i·pixel_space`, in the band's type. This is the
    /// path of GDAL's `RasterIO` without resampling: no block cache in between.
    #[allow(clippy::too_many_arguments)]
    pub fn read_window(
        &self,
        band: usize,
        (xoff, yoff, w, h): (usize, usize, usize, usize),
        out: &mut [u8],
        pixel_space: usize,
        line_space: usize,
    ) -> Result<(), String> {
        let b = self
            .bands
            .get(band)
            .ok_or_else(|| format!("no band {}", band + 1))?;
        let px = b.data_type.size();
        if w == 0 || h == 0 {
            return Ok(());
        }
        if xoff + w > self.xsize || yoff + h > self.ysize || pixel_space < px {
            return Err(format!(
                "window {xoff},{yoff} {w}x{h} outside the {}x{} raster",
                self.xsize, self.ysize
            ));
        }
        let need = (h - 1) * line_space + (w - 1) * pixel_space + px;
        if out.len() < need {
            return Err(format!(
                "buffer of {} bytes for a window needing {need}",
                out.len()
            ));
        }
        let mut row = vec![0u8; w * px];
        let put = |l: usize, row: &[u8], out: &mut [u8]| {
            let base = l * line_space;
            if pixel_space == px {
                if let Some(d) = out.get_mut(base..base + w * px) {
                    d.copy_from_slice(row);
                }
            } else {
                for (i, v) in row.chunks_exact(px).enumerate() {
                    if let Some(d) =
                        out.get_mut(base + i * pixel_space..base + i * pixel_space + px)
                    {
                        d.copy_from_slice(v);
                    }
                }
            }
        };
        match &self.content {
            Content::Listing => Err("this dataset lists subdatasets and has no pixels".into()),
            Content::Array(v) => {
                for l in 0..h {
                    let line = yoff + l;
                    let src = v
                        .get(line * self.xsize + xoff..line * self.xsize + xoff + w)
                        .ok_or("short array")?;
                    write_f64(src, DataType::Float64, &mut row);
                    put(l, &row, out);
                }
                Ok(())
            }
            Content::Records { flip, row_offset } => {
                let rec = self.file.record(b.record).ok_or("record vanished")?;
                let (ni, nj) = (rec.ni as usize, rec.nj as usize);
                let plane = b.k as usize * ni * nj;
                let dec = self.cached(rec, b.nodata)?;
                self.prefetch_after(band, rec.index);
                self.last_read_reached_bottom
                    .store(yoff + h == self.ysize, Ordering::Relaxed);
                for l in 0..h {
                    let line = yoff + l;
                    let j = row_offset + if *flip { self.ysize - 1 - line } else { line };
                    if pixel_space == px && line_space >= w * px {
                        let base = l * line_space;
                        let dst = out.get_mut(base..base + w * px).ok_or("short buffer")?;
                        copy_row(&dec.samples, plane + j * ni + xoff, w, b.data_type, dst)?;
                    } else {
                        copy_row(
                            &dec.samples,
                            plane + j * ni + xoff,
                            w,
                            b.data_type,
                            &mut row,
                        )?;
                        put(l, &row, out);
                    }
                }
                Ok(())
            }
        }
    }

    /// When the caller walks the bands in order (band `band` right after `band − 1`, as
    /// `gdal_translate` and `GDALDatasetCopyWholeRaster` do), start decoding the records of the
    /// next [`READ_AHEAD`] bands, each on a thread of its own, so that decoding overlaps with
    /// the caller's writing and uses idle cores. Random access never starts one.
    ///
    /// Such a walk also gives the previous band's record back to the buffer pool when its last
    /// read reached the bottom row (it was consumed top to bottom, as band-interleaved copies
    /// do): the walk then cycles through two or three buffers instead of faulting in fresh
    /// pages for every record until the cache is full. A pixel-interleaved copy, which reads
    /// every band strip by strip, keeps its records cached.
    fn prefetch_after(&self, band: usize, current: RecordIndex) {
        let prev = self.last_band.swap(band, Ordering::Relaxed);
        if prev == band || prev.wrapping_add(1) != band {
            return;
        }
        if self.last_read_reached_bottom.load(Ordering::Relaxed) {
            self.recycle_record_of(prev, current);
        }
        let mut wanted: Vec<(&RecordMeta, Option<f64>)> = Vec::new();
        for next in self.bands.iter().skip(band + 1).take(READ_AHEAD) {
            let Some(rec) = self.file.record(next.record) else {
                continue;
            };
            // Bands of one record (its nk levels) share one decode.
            if rec.index != current
                && !wanted.iter().any(|(r, _)| r.index == rec.index)
                && !self.cache.contains(rec.index)
            {
                wanted.push((rec, next.nodata));
            }
        }
        let mut slots = self.prefetch.lock().unwrap_or_else(PoisonError::into_inner);
        // Decodes this walk no longer needs are left to finish on their own.
        slots.retain(|p| wanted.iter().any(|(r, _)| r.index == p.record));
        for (rec, nodata) in wanted {
            if slots.iter().any(|p| p.record == rec.index) {
                continue;
            }
            let (file, rec, pooled) = (Arc::clone(&self.file), rec.clone(), self.take_pooled(rec));
            let record = rec.index;
            let job = std::thread::Builder::new()
                .name("fst-prefetch".into())
                .spawn(move || decode_samples(&file, &rec, nodata, pooled));
            // A thread that cannot be started only costs the overlap.
            if let Ok(job) = job {
                slots.push_back(Prefetch { record, job });
            }
        }
    }

    /// The decoded record, from the cache, from the record decoded ahead, or decoded into a
    /// pooled buffer; evicted records give their buffers back to the pool.
    fn cached(&self, rec: &RecordMeta, nodata: Option<f64>) -> Result<Arc<Decoded>, String> {
        self.cache.get_or_try_evict(
            rec.index,
            || {
                let ahead = {
                    let mut slots = self.prefetch.lock().unwrap_or_else(PoisonError::into_inner);
                    let at = slots.iter().position(|p| p.record == rec.index);
                    at.and_then(|at| slots.remove(at))
                };
                // A failed or panicked decode ahead is redone here, so that its error is
                // reported by the read that needs it.
                let samples = match ahead.map(|p| p.job.join()) {
                    Some(Ok(Ok(samples))) => samples,
                    _ => self.decode_pooled(rec, nodata)?,
                };
                let bytes = (samples.len() as u64)
                    .saturating_mul(fst_core::sample_size(samples.sample_type()));
                Ok((Decoded { samples }, bytes))
            },
            |old| self.recycle_decoded(old),
        )
    }

    /// Take the record of band `band` out of the cache into the buffer pool, unless it is
    /// `keep` (several bands can share a record: its nk levels) or someone still holds it.
    fn recycle_record_of(&self, band: usize, keep: RecordIndex) {
        let Some(rec) = self
            .bands
            .get(band)
            .and_then(|b| self.file.record(b.record))
        else {
            return;
        };
        if rec.index == keep {
            return;
        }
        if let Some(old) = self.cache.remove(rec.index) {
            self.recycle_decoded(old);
        }
    }

    /// Give a record that left the cache back to the pool, unless a reader still holds it.
    fn recycle_decoded(&self, old: Arc<Decoded>) {
        if let Ok(d) = Arc::try_unwrap(old) {
            self.recycle(d.samples);
        }
    }

    fn recycle(&self, samples: Samples) {
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.len() < 4 {
            pool.push(samples);
        }
    }

    /// A pooled buffer of `rec`'s element type and length, if there is one.
    fn take_pooled(&self, rec: &RecordMeta) -> Option<Samples> {
        let (kind, count) = self.file.sample_layout(rec).ok()?;
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        let at = pool
            .iter()
            .position(|s| s.sample_type() == kind && s.len() as u64 == count)?;
        Some(pool.swap_remove(at))
    }

    /// Decode `rec` into a pooled buffer of the right type and length when there is one.
    fn decode_pooled(&self, rec: &RecordMeta, nodata: Option<f64>) -> Result<Samples, String> {
        decode_samples(&self.file, rec, nodata, self.take_pooled(rec))
    }
}

/// Decode `rec` into `pooled` (a buffer of its element type and length) or a new buffer, with
/// missing values set to `nodata`.
fn decode_samples(
    file: &FstFile,
    rec: &RecordMeta,
    nodata: Option<f64>,
    pooled: Option<Samples>,
) -> Result<Samples, String> {
    let Some(mut samples) = pooled else {
        return decode(file, rec, nodata).map(|(d, _)| d.samples);
    };
    file.decode_into(rec, samples.as_mut())
        .map_err(|e| e.to_string())?;
    let params = rec.codec_params();
    if let (Some(mask), Some(flag)) = (missing_mask(&samples, &params), nodata) {
        apply_missing(&mut samples, &mask, flag);
    }
    Ok(samples)
}

fn decode(file: &FstFile, rec: &RecordMeta, nodata: Option<f64>) -> Result<(Decoded, u64), String> {
    let f = file.decode(rec).map_err(|e| e.to_string())?;
    let mut samples = f.samples;
    let need = rec.point_count() as usize;
    let have = samples.len()
        / if matches!(samples, Samples::C64(_) | Samples::C128(_)) {
            2
        } else {
            1
        };
    if have < need {
        return Err(format!(
            "record {} decodes to {have} values for {need} points (datyp {})",
            rec.index, rec.datyp.0
        ));
    }
    if let (Some(mask), Some(flag)) = (f.missing.as_ref(), nodata) {
        apply_missing(&mut samples, mask, flag);
    }
    let bytes = (samples.len() * fst_core::sample_size(samples.sample_type()) as usize) as u64;
    Ok((Decoded { samples }, bytes))
}

fn apply_missing(s: &mut Samples, mask: &[bool], flag: f64) {
    fn set<T: Copy>(v: &mut [T], mask: &[bool], x: T) {
        v.iter_mut()
            .zip(mask)
            .filter(|(_, &m)| m)
            .for_each(|(a, _)| *a = x);
    }
    match s {
        Samples::F32(v) => set(v, mask, flag as f32),
        Samples::F64(v) => set(v, mask, flag),
        Samples::U32(v) => set(v, mask, flag as u32),
        Samples::I32(v) => set(v, mask, flag as i32),
        Samples::U64(v) => set(v, mask, u64::MAX),
        Samples::I64(v) => set(v, mask, i64::MIN),
        _ => {}
    }
}

fn fill_row(dst: &mut [u8], dt: DataType, value: f64) {
    let v = vec![value; dst.len() / dt.size()];
    write_f64(&v, dt, dst);
}

/// Write f64 values as `dt`.
fn write_f64(src: &[f64], dt: DataType, dst: &mut [u8]) {
    macro_rules! put {
        ($t:ty) => {
            for (d, &x) in dst.chunks_exact_mut(std::mem::size_of::<$t>()).zip(src) {
                d.copy_from_slice(&(x as $t).to_ne_bytes());
            }
        };
    }
    match dt {
        DataType::Byte => put!(u8),
        DataType::UInt32 => put!(u32),
        DataType::Int32 => put!(i32),
        DataType::Float32 => put!(f32),
        DataType::Float64 => put!(f64),
        DataType::UInt64 => put!(u64),
        DataType::Int64 => put!(i64),
        DataType::CFloat32 => {
            for (d, &x) in dst.chunks_exact_mut(8).zip(src) {
                let (re, im) = d.split_at_mut(4);
                re.copy_from_slice(&(x as f32).to_ne_bytes());
                im.copy_from_slice(&0f32.to_ne_bytes());
            }
        }
        DataType::CFloat64 => {
            for (d, &x) in dst.chunks_exact_mut(16).zip(src) {
                let (re, im) = d.split_at_mut(8);
                re.copy_from_slice(&x.to_ne_bytes());
                im.copy_from_slice(&0f64.to_ne_bytes());
            }
        }
    }
}

/// Copy `n` points starting at point `start` of `s` into `dst` as `dt`.
fn copy_row(
    s: &Samples,
    start: usize,
    n: usize,
    dt: DataType,
    dst: &mut [u8],
) -> Result<(), String> {
    let short = || "record shorter than its shape".to_string();
    macro_rules! same {
        ($v:expr, $t:ty, $k:expr) => {{
            let src = $v.get(start * $k..(start + n) * $k).ok_or_else(short)?;
            for (d, x) in dst.chunks_exact_mut(std::mem::size_of::<$t>()).zip(src) {
                d.copy_from_slice(&x.to_ne_bytes());
            }
            return Ok(());
        }};
    }
    match (s, dt) {
        (Samples::F32(v), DataType::Float32) => same!(v, f32, 1),
        (Samples::F64(v), DataType::Float64) => same!(v, f64, 1),
        (Samples::U32(v) | Samples::Raw32(v), DataType::UInt32) => same!(v, u32, 1),
        (Samples::I32(v), DataType::Int32) => same!(v, i32, 1),
        (Samples::U64(v), DataType::UInt64) => same!(v, u64, 1),
        (Samples::I64(v), DataType::Int64) => same!(v, i64, 1),
        (Samples::U8(v), DataType::Byte) => same!(v, u8, 1),
        (Samples::C64(v), DataType::CFloat32) => same!(v, f32, 2),
        (Samples::C128(v), DataType::CFloat64) => same!(v, f64, 2),
        _ => {}
    }
    // Mixed types in one field: through f64 (real part of complex values).
    let conv: Vec<f64> = match s {
        Samples::F32(v) => v
            .get(start..start + n)
            .ok_or_else(short)?
            .iter()
            .map(|&x| f64::from(x))
            .collect(),
        Samples::F64(v) => v.get(start..start + n).ok_or_else(short)?.to_vec(),
        Samples::U32(v) | Samples::Raw32(v) => v
            .get(start..start + n)
            .ok_or_else(short)?
            .iter()
            .map(|&x| f64::from(x))
            .collect(),
        Samples::I32(v) => v
            .get(start..start + n)
            .ok_or_else(short)?
            .iter()
            .map(|&x| f64::from(x))
            .collect(),
        Samples::U64(v) => v
            .get(start..start + n)
            .ok_or_else(short)?
            .iter()
            .map(|&x| x as f64)
            .collect(),
        Samples::I64(v) => v
            .get(start..start + n)
            .ok_or_else(short)?
            .iter()
            .map(|&x| x as f64)
            .collect(),
        Samples::U8(v) => v
            .get(start..start + n)
            .ok_or_else(short)?
            .iter()
            .map(|&x| f64::from(x))
            .collect(),
        Samples::C64(v) => v
            .get(start * 2..(start + n) * 2)
            .ok_or_else(short)?
            .iter()
            .step_by(2)
            .map(|&x| f64::from(x))
            .collect(),
        Samples::C128(v) => v
            .get(start * 2..(start + n) * 2)
            .ok_or_else(short)?
            .iter()
            .step_by(2)
            .copied()
            .collect(),
        _ => return Err("unsupported sample type".into()),
    };
    write_f64(&conv, dt, dst);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> String {
        format!(
            "{}/../crates/fst-core/tests/fixtures/{rel}",
            env!("CARGO_MANIFEST_DIR")
        )
    }

    fn local(p: &str) -> Result<Arc<dyn ByteSource>, String> {
        let f = std::fs::File::open(p).map_err(|e| format!("{p}: {e}"))?;
        Ok(Arc::new(f))
    }

    #[test]
    fn listing_then_fields() {
        let ds = open(
            &fixture("rsf/rsf_basic.fst"),
            &local,
            ModelOptions::default(),
        )
        .unwrap();
        assert!(ds.bands.is_empty());
        assert!(ds.subdatasets.len() >= 4, "{:?}", ds.subdatasets);
        for (name, _) in &ds.subdatasets {
            let f = open(name, &local, ModelOptions::default()).unwrap();
            assert!(!f.bands.is_empty());
            let b = &f.bands[0];
            let mut buf = vec![0u8; b.block.0 * b.block.1 * b.data_type.size()];
            f.read_block(0, 0, 0, &mut buf).unwrap();
        }
    }

    /// Every band of `ds`, read whole in the order `order`, as bytes.
    fn read_bands(ds: &Dataset, order: impl Iterator<Item = usize>) -> Vec<(usize, Vec<u8>)> {
        order
            .map(|band| {
                let px = ds.bands[band].data_type.size();
                let mut buf = vec![0u8; ds.xsize * ds.ysize * px];
                ds.read_window(
                    band,
                    (0, 0, ds.xsize, ds.ysize),
                    &mut buf,
                    px,
                    ds.xsize * px,
                )
                .unwrap();
                (band, buf)
            })
            .collect()
    }

    #[test]
    fn band_walks_recycle_consumed_records_only() {
        let name = format!(
            "FST:\"{}\":TT:P:LEVELS:L-8x6-100-100-13000-28000",
            fixture("xdf/levels_dates.fst")
        );
        let record_bytes: u64 = 8 * 6 * 4;
        let ds = open(&name, &local, ModelOptions::default()).unwrap();
        let n = ds.bands.len();
        assert!(n > 10, "{n} bands");
        // In order, each band read top to bottom: consumed records go back to the pool.
        let mut forward = read_bands(&ds, 0..n);
        assert!(
            ds.cache.bytes() <= 2 * record_bytes,
            "{} bytes cached",
            ds.cache.bytes()
        );
        // The values do not depend on the order (nor on the recycled buffers).
        let fresh = open(&name, &local, ModelOptions::default()).unwrap();
        let mut backward = read_bands(&fresh, (0..n).rev());
        backward.sort_by_key(|b| b.0);
        forward.sort_by_key(|b| b.0);
        assert_eq!(forward, backward);
        // Strip by strip across the bands (a pixel-interleaved copy): nothing is dropped, so
        // the next strip does not decode again.
        let strips = open(&name, &local, ModelOptions::default()).unwrap();
        let row_bytes = strips.xsize * 4;
        let mut row = vec![0u8; row_bytes];
        for band in 0..n {
            strips
                .read_window(band, (0, 0, strips.xsize, 1), &mut row, 4, row_bytes)
                .unwrap();
        }
        assert_eq!(strips.cache.bytes(), n as u64 * record_bytes);
    }

    #[test]
    fn garbage_fails_cleanly() {
        let dir = std::env::temp_dir().join("gdal-fst-model-test");
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("bad.fst");
        let mut bytes = std::fs::read(fixture("xdf/grids.fst")).unwrap();
        bytes.truncate(5000);
        std::fs::write(&p, &bytes).unwrap();
        assert!(open(p.to_str().unwrap(), &local, ModelOptions::default()).is_err());
    }
}
