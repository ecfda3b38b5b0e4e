//! What a dataset is: its shape, georeferencing, metadata and bands, built at open from
//! fst-core's catalog and grids, with every size checked before anything is allocated.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex};

use fst_core::catalog::{Catalog, Field as CatField};
use fst_core::codec::{SampleType, Samples};
use fst_core::source::ByteSource;
use fst_core::{FstFile, Limits, OpenOptions, RecordIndex, RecordMeta};
use grids::{Coordinates, Grid, GridOptions};

use crate::cache::DecodeCache;
use crate::names::{self, Part};

use super::error::ModelError;
use super::metadata::{band, keep_uniform_keys, kv, netcdf_dims, variable_attributes};
use super::read::{Decoded, Prefetch};

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

    pub(super) fn of(s: SampleType) -> DataType {
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
    pub(super) fn missing_flag(self) -> Option<f64> {
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

    pub(super) fn name(self) -> &'static str {
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
    /// The limits files are opened with; every size the driver multiplies (nk, ni·nj, the
    /// geolocation arrays) is checked against them before anything is allocated.
    pub limits: Limits,
    /// Most bands one dataset may have (the sum of nk over a field's records). Each band costs
    /// GDAL an object and the driver its metadata (about 2 KB), so a corrupt nk of a million
    /// would take gigabytes at open: 32768 bands leave room for a field of hundreds of times
    /// by a hundred levels.
    pub max_bands: usize,
    /// Global longitude grids on 0..360 are rewrapped to −180..180 (their columns from 180°E
    /// first), as GDAL's GRIB driver does since 3.4, so that they overlay other layers: the
    /// `FST_ADJUST_LONGITUDE_RANGE` configuration option (NO keeps 0..360).
    pub adjust_longitude_range: bool,
}

impl Default for ModelOptions {
    fn default() -> Self {
        Self {
            cache_bytes: 64 << 20,
            limits: Limits::DEFAULT,
            max_bands: 1 << 15,
            adjust_longitude_range: true,
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
    /// The band's unit (`GDALRasterBand::GetUnitType`): the nomvar's CF units, as the `units`
    /// item; empty when the table does not know the nomvar.
    pub unit_type: String,
    /// Nodata value, for records with missing values.
    pub nodata: Option<f64>,
    /// Block size (full rows).
    pub block: (usize, usize),
    pub(super) record: RecordIndex,
    pub(super) k: u32,
}

/// Where a dataset's pixels come from.
#[derive(Debug)]
pub(super) enum Content {
    /// A subdataset listing: no pixels.
    Listing,
    /// Records of a field. Line `l` of the raster is record row `row(l)`; column `c` is
    /// record column `(c + roll) % xsize` (a global longitude grid rewrapped to −180..180,
    /// whose band may leave out the record's last column: see [`Rewrap`]).
    Records {
        flip: bool,
        row_offset: usize,
        roll: usize,
    },
    /// A geolocation array (already flipped).
    Array(Arc<Vec<f64>>),
}

/// An open dataset.
pub struct Dataset {
    pub(super) file: Arc<FstFile>,
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
    pub(super) content: Content,
    pub(super) cache: DecodeCache<Decoded>,
    /// Decode buffers of whole-record blocks, reused so that reading a band does not fault in
    /// fresh pages every time.
    pub(super) pool: Mutex<Vec<Samples>>,
    /// The records of the next bands, each decoding on its own thread while the caller
    /// consumes this one (see [`Dataset::prefetch_after`]).
    pub(super) prefetch: Mutex<VecDeque<Prefetch>>,
    /// The band read last (`usize::MAX` before the first read), to detect band-by-band walks.
    pub(super) last_band: AtomicUsize,
    /// Whether the last read of `last_band` reached the raster's bottom row.
    pub(super) last_read_reached_bottom: AtomicBool,
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

/// Opens the bytes behind a path (local file, or a VSI path in the plugin). Its error says
/// why; [`ModelError::Source`] names the path.
pub type SourceOpener<'a> = &'a dyn Fn(&str) -> Result<Arc<dyn ByteSource>, String>;

impl Dataset {
    /// What fst-core found unusual in the file at open (e.g. an RSF file cut short).
    #[must_use]
    pub fn diagnostics(&self) -> &[fst_core::Diagnostic] {
        self.file.diagnostics()
    }
}

/// How a global longitude grid on 0..360 is laid on −180..180 (see [`rewrap_columns`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Rewrap {
    /// Band column c is record column (c + roll) mod `columns`.
    pub(super) roll: usize,
    /// The band's columns: the record's, less its last when that one repeats the first
    /// (a B grid's 360°E, the same meridian as its 0°).
    pub(super) columns: usize,
}

/// A global longitude grid on 0..360 (`gt`: its geotransform, `xsize` columns spanning 360°,
/// or 360° and one column more when the last repeats the first; the first centre in
/// [0°, 180°)) rewrapped to −180..180: `gt` moved to start at the first column at or east of
/// 180°E, less 360°. None for other grids, left as they are.
pub(super) fn rewrap_columns(gt: &mut [f64; 6], xsize: usize) -> Option<Rewrap> {
    let dx = gt[1];
    let first = gt[0] + dx / 2.0;
    let spans = |n: usize| (dx * n as f64 - 360.0).abs() < 1e-6;
    let columns = if spans(xsize) {
        xsize
    } else if xsize > 2 && spans(xsize - 1) {
        xsize - 1
    } else {
        return None;
    };
    if !(dx > 0.0 && (0.0..180.0).contains(&first)) {
        return None;
    }
    // Columns west of 180°E (a column at 180° exactly goes east, to −180°).
    let west = (180.0 - first) / dx;
    let roll = if (west - west.round()).abs() < 1e-6 {
        west.round()
    } else {
        west.ceil()
    } as usize;
    if roll == 0 || roll >= columns {
        return None;
    }
    gt[0] += roll as f64 * dx - 360.0;
    Some(Rewrap { roll, columns })
}

/// Open `name`: a path, or a subdataset name.
pub fn open(
    name: &str,
    opener: SourceOpener<'_>,
    opts: ModelOptions,
) -> Result<Dataset, ModelError> {
    let (path, sds) = if names::is_subdataset(name) {
        let s = names::parse(name).map_err(ModelError::Name)?;
        (s.path.clone(), Some(s))
    } else {
        (name.to_owned(), None)
    };
    let source = opener(&path).map_err(|detail| ModelError::Source {
        path: path.clone(),
        detail,
    })?;
    let file = FstFile::from_source(
        source,
        Some(path.clone().into()),
        OpenOptions::default().limits(opts.limits),
    )?;
    let file = Arc::new(file);
    let catalog = Catalog::build(file.records());
    // Raw records of a width that holds no elements (RSF's FILE_JSON blob: datyp 0, 1 bit
    // per "point") are no raster: listed, every read of them failed.
    let opaque = |f: &CatField| {
        f.slices
            .first()
            .and_then(|s| file.record(s.record))
            .is_some_and(|r| r.datyp.base() == 0 && !matches!(r.nbits, 8 | 16 | 32 | 64))
    };
    let rasters: Vec<CatField>;
    let fields = if catalog.fields().iter().any(opaque) {
        rasters = catalog
            .fields()
            .iter()
            .filter(|f| !opaque(f))
            .cloned()
            .collect();
        &rasters[..]
    } else {
        catalog.fields()
    };
    let ctx = Ctx {
        file: &file,
        path: &path,
        opts,
    };
    match sds {
        None => match fields {
            [] => Err(ModelError::NotFound {
                what: format!(
                    "the file holds no data records ({} records in all)",
                    file.records().len()
                ),
                path,
            }),
            [only] if only.key.grid.grtyp != b'U' => ctx.field(only, Part::Whole, None),
            _ => Ok(ctx.listing(fields)),
        },
        Some(s) => {
            let field = fields
                .iter()
                .find(|f| names::encode_key(&f.key) == s.key)
                .ok_or_else(|| ModelError::NotFound {
                    path: path.clone(),
                    what: format!(
                        "no field {}:{}:{}:{} in the file",
                        s.key[0], s.key[1], s.key[2], s.key[3]
                    ),
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
    fn field(&self, f: &CatField, part: Part, sub: Option<String>) -> Result<Dataset, ModelError> {
        let k = &f.key;
        let first = f
            .slices
            .first()
            .and_then(|s| self.file.record(s.record))
            .ok_or_else(|| self.not_found("the field has no records"))?;
        let (ni, nj) = (k.grid.ni as usize, k.grid.nj as usize);
        let is_u = k.grid.grtyp == b'U';
        match (is_u, part) {
            (true, Part::Whole) => {
                return Err(self
                    .unsupported("a U (Yin-Yang) field opens as two subdatasets, :YIN and :YANG"))
            }
            (false, Part::Yin | Part::Yang) => {
                return Err(self.unsupported("YIN/YANG apply to U grids only"))
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
        let mut roll = 0;
        let mut repeated_column = false;
        let grid = grids::fst::descriptor_from_record(self.file, first)
            .and_then(|d| Grid::with_limits(&d, GridOptions::default(), &self.opts.limits));
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
                        if let Some(gt) = ds
                            .geotransform
                            .as_mut()
                            .filter(|_| longlat && !is_u && self.opts.adjust_longitude_range)
                        {
                            if let Some(r) = rewrap_columns(gt, ds.xsize) {
                                repeated_column = r.columns < ds.xsize;
                                ds.xsize = r.columns;
                                roll = r.roll;
                            }
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
                        // Point by point: the grid's arrays are not needed for two rows.
                        let row_mean = |j: usize| {
                            (0..ni)
                                .filter_map(|i| g.point(i as f64, j as f64))
                                .map(|(lat, _)| lat)
                                .sum::<f64>()
                                / ni as f64
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
            let no_coordinates = |source| ModelError::Grid {
                path: self.path.to_owned(),
                source,
            };
            let g = grid.map_err(no_coordinates)?;
            if ds.geolocation.is_empty() {
                return Err(self.unsupported(
                    "LON/LAT subdatasets exist only for grids described by geolocation arrays",
                ));
            }
            if (ni as u64) * (nj as u64) > MAX_GEOLOCATION_POINTS {
                return Err(ModelError::TooLarge(format!(
                    "{}: {ni}x{nj} points exceed the {MAX_GEOLOCATION_POINTS} a LON/LAT \
                     subdataset computes",
                    self.path
                )));
            }
            let ll = g.try_lat_lon().map_err(no_coordinates)?;
            let (src, shift) = if part == Part::Lon {
                (&ll.lon, lon_shift(&ll.lon))
            } else {
                (&ll.lat, false)
            };
            let mut v = Vec::new();
            v.try_reserve_exact(ni * nj).map_err(|e| {
                ModelError::OutOfMemory(format!("{}: {ni}x{nj} coordinates: {e}", self.path))
            })?;
            for line in 0..nj {
                let j = if flip { nj - 1 - line } else { line };
                let row = src.get(j * ni..(j + 1) * ni).ok_or_else(|| {
                    ModelError::Corrupt(format!("{}: short lat/lon array", self.path))
                })?;
                v.extend(
                    row.iter()
                        .map(|&x| if shift && x > 180.0 { x - 360.0 } else { x }),
                );
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
                unit_type: if part == Part::Lon {
                    "degrees_east"
                } else {
                    "degrees_north"
                }
                .to_owned(),
                nodata: None,
                block: block_shape(ni, nj, 8),
                record: first.index,
                k: 0,
            });
            return Ok(ds);
        }

        ds.metadata
            .push(kv("FST_ROWS_REVERSED", if flip { "YES" } else { "NO" }));
        if roll > 0 {
            // Band column c is record column (c + roll) % (band columns).
            ds.metadata.push(kv("FST_COLUMNS_ROLLED", roll));
        }
        if repeated_column {
            // The record's last column (360°E) repeats its first (0°E): no band column.
            ds.metadata.push(kv("FST_REPEATED_COLUMN_DROPPED", "YES"));
        }
        ds.content = Content::Records {
            flip,
            row_offset,
            roll,
        };
        self.check_band_count(f)?;
        let dt = field_type(self.file, f);
        let block = block_shape(ds.xsize, ds.ysize, dt.size());
        for s in &f.slices {
            let rec = self.record(s.record)?;
            for kk in 0..rec.nk {
                ds.bands.push(band(rec, s, kk, dt, block));
            }
        }
        if ds.bands.is_empty() {
            return Err(self.not_found("the field has no 2-D slices"));
        }
        if let Some((dims, per_band)) = netcdf_dims(f) {
            ds.metadata.extend(dims);
            for (b, items) in ds.bands.iter_mut().zip(per_band) {
                b.metadata.extend(items);
            }
            keep_uniform_keys(&mut ds.bands);
        }
        ds.metadata.extend(variable_attributes(k));
        ds.metadata
            .extend(crate::vertical_metadata::items(self.file, f));
        Ok(ds)
    }

    /// Check every size the bands are built from before any is: each record's ni·nj·nk
    /// against the limits and against its payload (a corrupt nk must not become a million
    /// bands over a few bytes), and the band count against [`ModelOptions::max_bands`].
    fn check_band_count(&self, f: &CatField) -> Result<(), ModelError> {
        let mut bands: u64 = 0;
        for s in &f.slices {
            let rec = self.record(s.record)?;
            check_record_size(rec, &self.opts.limits)
                .map_err(|e| ModelError::TooLarge(format!("{}: {e}", self.path)))?;
            bands = bands.saturating_add(u64::from(rec.nk));
        }
        if bands > self.opts.max_bands as u64 {
            return Err(ModelError::TooLarge(format!(
                "{}: the field {} has {bands} bands (records × nk), more than the {} a dataset \
                 may have",
                self.path,
                f.key.nomvar.trimmed(),
                self.opts.max_bands
            )));
        }
        Ok(())
    }

    fn not_found(&self, what: &str) -> ModelError {
        ModelError::NotFound {
            path: self.path.to_owned(),
            what: what.to_owned(),
        }
    }

    fn unsupported(&self, reason: &str) -> ModelError {
        ModelError::Unsupported {
            path: self.path.to_owned(),
            reason: reason.to_owned(),
        }
    }

    fn record(&self, index: RecordIndex) -> Result<&RecordMeta, ModelError> {
        self.file
            .record(index)
            .ok_or_else(|| self.not_found(&format!("record {index}")))
    }

    /// GEOLOCATION metadata pointing at the LON/LAT subdatasets of the field.
    fn geolocation(
        &self,
        ds: &mut Dataset,
        k: &fst_core::catalog::FieldKey,
        g: &Grid,
    ) -> Result<(), ModelError> {
        let geo = grids::Crs::from_proj(format!(
            "+proj=longlat +R={} +no_defs +type=crs",
            grids::params::EARTH_RADIUS_M
        ))
        .map_err(|source| ModelError::Grid {
            path: self.path.to_owned(),
            source,
        })?;
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

/// Whether longitudes are better shown in (-180, 180] than in [0, 360) as given: unless that
/// splits the grid (its span grows).
fn lon_shift(lon: &[f64]) -> bool {
    let span = |shift: bool| {
        let (lo, hi) = lon
            .iter()
            .map(|&x| if shift && x > 180.0 { x - 360.0 } else { x })
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                (a.min(x), b.max(x))
            });
        hi - lo
    };
    span(true) <= span(false)
}

/// A record's ni·nj·nk against the limits and its payload, from the directory alone.
fn check_record_size(rec: &RecordMeta, limits: &Limits) -> Result<(), String> {
    let n = rec.point_count();
    let claim = || {
        format!(
            "record {} claims {} level(s) of {}x{} points ({n} values)",
            rec.index, rec.nk, rec.ni, rec.nj
        )
    };
    if n > limits.max_values_per_record {
        return Err(format!(
            "{}, more than the limit of {} (fst_core::Limits::max_values_per_record)",
            claim(),
            limits.max_values_per_record
        ));
    }
    if rec.datyp.is_turbo() {
        // fst-core decodes turbo records of one level only; each level would be a band.
        if rec.nk > 1 {
            return Err(format!(
                "{}: turbo compression holds one level per record",
                claim()
            ));
        }
    } else if n > rec.payload.len.saturating_mul(8) {
        // Every other codec spends at least one bit per value.
        return Err(format!(
            "{}, but its payload of {} bytes holds at most {} (one bit each)",
            claim(),
            rec.payload.len,
            rec.payload.len.saturating_mul(8)
        ));
    }
    Ok(())
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
            file.sample_layout(r).map_or(DataType::Float32, |(t, _)| {
                // Datyp 0 reads as elements of its nbits (read.rs, `raw_elements`).
                match (t, r.nbits) {
                    (SampleType::Raw32, 8) => DataType::Byte,
                    (SampleType::Raw32, 64) => DataType::UInt64,
                    _ => DataType::of(t),
                }
            })
        });
    let first = types.next().unwrap_or(DataType::Float32);
    if types.all(|t| t == first) {
        first
    } else {
        DataType::Float64
    }
}
