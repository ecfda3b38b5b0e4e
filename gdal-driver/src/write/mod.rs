//! Writing FST files from GDAL datasets (`CreateCopy`): each band becomes a record, written
//! as it comes, on the grid `grids::from_crs` finds for the source's CRS and geotransform.
//!
//! Kept apart from the dataset model ([`crate::model`]), which only reads. The C++ shim reads
//! the source band by band and hands each band to [`Creator::write_band`] (through a
//! [`Pipeline`], which runs it on a thread of its own while the shim reads the next band); the
//! file is created
//! under a temporary name and appears only when [`Creator::finish`] succeeds (fst-core's
//! writer), so a failed copy leaves no half file.
//!
//! Keys of a band, first found wins: the creation option; the band's `FST_*` metadata (what
//! this driver publishes when reading FST, so `FST → GTiff → FST` keeps every key); GRIB2 and
//! netCDF metadata ([`keys`]); defaults.

mod band;
mod keys;
mod options;
mod pipeline;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use fst_core::codec::SamplesRef;
use fst_core::date::DateStamp;
use fst_core::record::Datyp;
use fst_core::vertical::{HY_NOMVAR, NOMVAR as VERTICAL_NOMVAR};
use fst_core::write::{
    FstWriter, PositionalAxes, PositionalRecords, RecordKeys, ReferenceGrid, WriteOptions,
};
use fst_core::{Container, WriteError};
use grids::from_crs::{from_geotransform, from_lat_lon, FromCrsError, FromCrsOptions, FstGrid};

use crate::vertical_metadata::Carried;
use band::{write_record, BandBuffers, BandEncoder, BandPlan};
pub use options::{CreateOptions, CREATION_OPTION_LIST};
pub use pipeline::Pipeline;

/// Why a copy to FST failed. Messages name the file and, for band errors, the band.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CreateError {
    /// A creation option is malformed or out of range.
    #[error("creation option {name}={value}: {reason}")]
    Option {
        /// Option name.
        name: String,
        /// Value given.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// The source cannot be written as FST.
    #[error("{path}: {reason}")]
    Source {
        /// Target file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The source's CRS and geotransform have no FST grid.
    #[error("{path}: no FST grid for the source's georeferencing")]
    Grid {
        /// Target file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<FromCrsError>,
    },
    /// A band's keys or values cannot be written.
    #[error("{path}, band {band}: {reason}")]
    Band {
        /// Target file.
        path: PathBuf,
        /// Band number (1-based).
        band: usize,
        /// What is wrong.
        reason: String,
    },
    /// The writer failed (its message names the file and the record).
    #[error(transparent)]
    Write(Box<WriteError>),
}

impl From<WriteError> for CreateError {
    fn from(e: WriteError) -> Self {
        CreateError::Write(Box::new(e))
    }
}

/// What the shim knows about the source dataset.
#[derive(Debug, Clone, Default)]
pub struct SourceInfo {
    /// Columns.
    pub xsize: usize,
    /// Lines.
    pub ysize: usize,
    /// GDAL geotransform, when the source has one.
    pub geotransform: Option<[f64; 6]>,
    /// The source CRS as WKT (any version PROJ reads), when it has one.
    pub crs: Option<String>,
    /// Dataset metadata (default domain): netCDF's `time#units` and the like.
    pub metadata: Vec<(String, String)>,
    /// Latitude and longitude of every pixel, line by line (GDAL's GEOLOCATION arrays), used
    /// when there is no geotransform.
    pub lat_lon: Option<(Vec<f64>, Vec<f64>)>,
}

/// One band of the source, as the shim hands it over.
#[derive(Debug, Clone, Copy)]
pub struct BandInput<'a> {
    /// Band number, 1-based.
    pub number: usize,
    /// GDAL data type code (`GDT_*`).
    pub gdal_type: i32,
    /// Band metadata (default domain).
    pub metadata: &'a [(String, String)],
    /// The nodata value, if any.
    pub nodata: Option<f64>,
    /// `xsize·ysize` values, line by line from the top, as GDAL reads them.
    pub values: BandValues<'a>,
}

/// A band's values as the shim read them: float64, or float32 where the source's type is one
/// float32 holds exactly (then half the bytes cross the edge and no value is widened only
/// to be narrowed again), or the 64-bit integers of an `Int64`/`UInt64` band as they are
/// (float64 holds them exactly only up to 2^53: a raw 64-bit record copied through float64
/// lost its low bits).
#[derive(Debug, Clone, Copy)]
pub enum BandValues<'a> {
    /// float64 values.
    F64(&'a [f64]),
    /// float32 values.
    F32(&'a [f32]),
    /// unsigned 64-bit integers (`UInt64` bands).
    U64(&'a [u64]),
    /// signed 64-bit integers (`Int64` bands).
    I64(&'a [i64]),
}

impl BandValues<'_> {
    /// Whether every value of a 64-bit integer band, but those equal to `nodata`, is in
    /// `lo..=hi` (false for float bands).
    pub(crate) fn integers_within(&self, lo: i64, hi: i64, nodata: Option<f64>) -> bool {
        // nodata as the band's own integer: a float comparison would take a large value
        // near it (beyond 2^53) for it.
        let integral = nodata.filter(|n| n.fract() == 0.0);
        match self {
            BandValues::U64(v) => {
                let nd = integral.filter(|&n| n >= 0.0).map(|n| n as u64);
                let (lo, hi) = (lo.max(0) as u64, hi.max(0) as u64);
                v.iter().all(|&x| Some(x) == nd || (lo..=hi).contains(&x))
            }
            BandValues::I64(v) => {
                let nd = integral.map(|n| n as i64);
                v.iter().all(|&x| Some(x) == nd || (lo..=hi).contains(&x))
            }
            BandValues::F64(_) | BandValues::F32(_) => false,
        }
    }

    /// How many values.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            BandValues::F64(v) => v.len(),
            BandValues::F32(v) => v.len(),
            BandValues::U64(v) => v.len(),
            BandValues::I64(v) => v.len(),
        }
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `k` as float64 (NaN past the end; 64-bit integers rounded to the nearest
    /// float64 above 2^53).
    fn get(&self, k: usize) -> f64 {
        match self {
            BandValues::F64(v) => v.get(k).copied().unwrap_or(f64::NAN),
            BandValues::F32(v) => v.get(k).map_or(f64::NAN, |&x| f64::from(x)),
            BandValues::U64(v) => v.get(k).map_or(f64::NAN, |&x| x as f64),
            BandValues::I64(v) => v.get(k).map_or(f64::NAN, |&x| x as f64),
        }
    }

    /// Value `k` as the integer it is (64-bit bands), or rounded to one (0 past the end or
    /// for NaN): the elements of a raw (datyp 0) record.
    fn get_bits(&self, k: usize) -> u64 {
        match self {
            BandValues::U64(v) => v.get(k).copied().unwrap_or(0),
            BandValues::I64(v) => v.get(k).map_or(0, |&x| x as u64),
            _ => {
                let x = self.get(k);
                if x.is_nan() {
                    0
                } else if x < 0.0 {
                    (x.round() as i64) as u64
                } else {
                    x.round() as u64
                }
            }
        }
    }
}

/// The keys that tell two records apart for readers.
type SearchKeys = (String, String, String, u32, u32, u32, i32);

fn search_keys(k: &RecordKeys) -> SearchKeys {
    (
        k.nomvar.clone(),
        k.typvar.clone(),
        k.etiket.clone(),
        k.ip1,
        k.ip2,
        k.ip3,
        k.valid_date().0,
    )
}

/// The vertical descriptors a file being appended to has already: `!!` (ip1, ip2) and `HY`.
#[derive(Debug, Default)]
struct Present {
    vgrid: HashSet<(u32, u32)>,
    hy: bool,
}

/// What [`Present`] finds in the file at `path` (nothing when it cannot be read: the append
/// itself then reports why).
fn present_descriptors(path: &Path) -> Present {
    let mut p = Present::default();
    if let Ok(file) = fst_core::FstFile::open(path) {
        for r in file.records() {
            match r.nomvar.trimmed() {
                n if n == VERTICAL_NOMVAR => {
                    p.vgrid.insert((r.ip1, r.ip2));
                }
                n if n == HY_NOMVAR => p.hy = true,
                _ => {}
            }
        }
    }
    p
}

/// A copy in progress: the open writer, the grid and the keys written so far.
pub struct Creator {
    path: PathBuf,
    writer: Option<FstWriter>,
    options: CreateOptions,
    source: SourceInfo,
    /// How the band's columns become the record's.
    unwrap: Unwrap,
    grid: Option<FstGrid>,
    written: HashSet<SearchKeys>,
    /// The writer's call count of the next band's record (numbers follow each other: a
    /// [`Pipeline`] writes the records in this order).
    next_sequence: u64,
    turbo: bool,
    buffers: BandBuffers,
}

impl std::fmt::Debug for Creator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Creator")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// How the copy puts back a global longitude grid our reader rewrapped to −180..180.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Unwrap {
    /// Record column c is band column (c + band columns − roll) mod (band columns); 0: the
    /// columns as they are.
    pub(super) roll: usize,
    /// Whether the record ends with its first column again (a B grid's 360°E, which the
    /// reader left out of the band).
    pub(super) repeat_first: bool,
}

impl Unwrap {
    /// From the source's dataset items `FST_COLUMNS_ROLLED` and `FST_REPEATED_COLUMN_DROPPED`.
    fn of(source: &SourceInfo) -> Unwrap {
        let roll = columns_rolled(source);
        let dropped = keys::find(&source.metadata, "FST_REPEATED_COLUMN_DROPPED")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("YES"));
        Unwrap {
            roll,
            repeat_first: roll > 0 && dropped,
        }
    }

    /// The record's columns for a band of `band_columns`.
    pub(super) fn record_columns(self, band_columns: usize) -> usize {
        band_columns + usize::from(self.repeat_first)
    }
}

/// The columns our reader moved to the front of a global longitude grid it rewrapped to
/// −180..180 (its dataset item `FST_COLUMNS_ROLLED`), which the copy puts back; 0 when the
/// source has none or is no longer that whole grid (a window of it, say).
fn columns_rolled(source: &SourceInfo) -> usize {
    let Some(k) = keys::number::<usize>(&source.metadata, "FST_COLUMNS_ROLLED") else {
        return 0;
    };
    let whole = source
        .geotransform
        .is_some_and(|gt| (gt[1] * source.xsize as f64 - 360.0).abs() < 1e-6);
    if whole && k < source.xsize {
        k
    } else {
        0
    }
}

/// `grid` in the row order of the records it was read from, when it is the A, B or G grid of
/// an FST source (its dataset items `FST_GRTYP` and `FST_IG2`: 0 south first, 1 north first):
/// an FST → FST copy keeps its keys, and programs that index the array as stored (row 1 the
/// southernmost, in much Fortran) find it where it was. Both orders georeference alike; other
/// sources keep the order the grid was found in (a north-up raster: north first).
fn in_source_row_order(mut grid: FstGrid, metadata: &[(String, String)]) -> FstGrid {
    let d = &mut grid.descriptor;
    let same_type =
        keys::find(metadata, "FST_GRTYP").is_some_and(|g| g.trim().as_bytes() == [d.grtyp]);
    let source_ig2 = keys::number::<u32>(metadata, "FST_IG2");
    if let (true, true, Some(ig2 @ (0 | 1))) =
        (matches!(d.grtyp, b'A' | b'B' | b'G'), same_type, source_ig2)
    {
        if d.ig[1] != ig2 {
            d.ig[1] = ig2;
            grid.flip_rows = !grid.flip_rows;
        }
    }
    grid
}

/// Whether this build's encoder can write turbo records (another crate may not have them).
fn turbo_available() -> bool {
    let v = [0.0f32, 1.0, 2.0, 3.0];
    let req = fst_core::codec::EncodeRequest {
        datyp: Datyp(134),
        nbits: 16,
        ni: 2,
        nj: 2,
        nk: 1,
    };
    fst_core::codec::encode(SamplesRef::F32(&v), None, &req, &fst_core::Limits::DEFAULT).is_ok()
}

impl Creator {
    /// Check the options and the source, find the grid, open the writer and write the
    /// positional records (Z and Y grids) before any data record.
    pub fn begin(
        path: &Path,
        source: SourceInfo,
        options: CreateOptions,
    ) -> Result<Self, CreateError> {
        let src_err = |reason: String| CreateError::Source {
            path: path.to_owned(),
            reason,
        };
        let name = path.to_string_lossy();
        if name.starts_with("/vsi") {
            return Err(src_err(
                "the FST writer writes local files only (not GDAL virtual files)".into(),
            ));
        }
        // A global grid our reader rewrapped to -180..180 goes back on the grid it came from.
        let unwrap = Unwrap::of(&source);
        let (ni, nj) = (
            u32::try_from(unwrap.record_columns(source.xsize))
                .ok()
                .filter(|&n| n > 0),
            u32::try_from(source.ysize).ok().filter(|&n| n > 0),
        );
        let (Some(ni), Some(nj)) = (ni, nj) else {
            return Err(src_err(format!(
                "a {}x{} raster cannot be an FST record",
                source.xsize, source.ysize
            )));
        };
        let geotransform = source.geotransform.map(|mut gt| {
            if unwrap.roll > 0 {
                gt[0] += 360.0 - unwrap.roll as f64 * gt[1];
            }
            gt
        });
        let grid = match (&geotransform, &source.crs) {
            (Some(gt), Some(crs)) if !crs.trim().is_empty() => Some(
                from_geotransform(crs, gt, ni, nj, &FromCrsOptions::default()).map_err(|e| {
                    CreateError::Grid {
                        path: path.to_owned(),
                        source: Box::new(e),
                    }
                })?,
            ),
            _ => match &source.lat_lon {
                Some((lat, lon)) => Some(
                    from_lat_lon(ni, nj, lat, lon, &FromCrsOptions::default()).map_err(|e| {
                        CreateError::Grid {
                            path: path.to_owned(),
                            source: Box::new(e),
                        }
                    })?,
                ),
                None => None,
            },
        };
        let grid = grid.map(|g| in_source_row_order(g, &source.metadata));
        let carried = crate::vertical_metadata::parse(&source.metadata)
            .map_err(|e| src_err(e.to_string()))?;
        // Only a copy that carries descriptors reads the file it appends to for its own.
        let carries = !carried.vgrid.is_empty() || carried.hy.is_some();
        let present = if carries && options.append && path.exists() {
            present_descriptors(path)
        } else {
            Present::default()
        };
        let container = options.container.unwrap_or(Container::Rsf);
        let wo = WriteOptions::new(container).force(options.force);
        let writer = if options.append && path.exists() {
            FstWriter::append(path, wo)?
        } else {
            FstWriter::create(path, wo)?
        };
        let mut c = Creator {
            path: path.to_owned(),
            writer: Some(writer),
            options,
            source,
            unwrap,
            grid,
            written: HashSet::new(),
            next_sequence: 0,
            turbo: turbo_available(),
            buffers: BandBuffers::default(),
        };
        if let Err(e) = c
            .write_positional()
            .and_then(|()| c.write_vertical(&carried, &present))
        {
            c.abandon();
            return Err(e);
        }
        c.next_sequence = c.writer.as_ref().map_or(0, FstWriter::write_calls);
        Ok(c)
    }

    fn writer(&mut self) -> Result<&mut FstWriter, CreateError> {
        let path = self.path.clone();
        self.writer.as_mut().ok_or(CreateError::Source {
            path,
            reason: "the writer is closed".into(),
        })
    }

    /// The `>>`/`^^` records of Z and Y grids, in float32 (what librmn reads), through
    /// fst-core's positional-record writer.
    fn write_positional(&mut self) -> Result<(), CreateError> {
        let Some(grid) = self.grid.as_ref() else {
            return Ok(());
        };
        let Some(p) = grid.positional_records() else {
            return Ok(());
        };
        let etiket = self.options.etiket.clone().unwrap_or_default();
        let (x, y) = (p.x_f32(), p.y_f32());
        let axes = if grid.descriptor.grtyp == b'Y' {
            PositionalAxes::Y {
                ni: p.x_shape.0,
                nj: p.x_shape.1,
                lon: &x,
                lat: &y,
            }
        } else {
            PositionalAxes::Z { x: &x, y: &y }
        };
        self.writer()?.write_positional(&PositionalRecords {
            tags: p.ip,
            reference: ReferenceGrid {
                grtyp: p.grtyp,
                ig: p.ig,
            },
            axes,
            etiket: &etiket,
        })?;
        Ok(())
    }

    /// The vertical descriptors the source carries (`FST_VGRID`, `FST_HY`: see
    /// [`crate::vertical_metadata`]) that the file does not have yet: `!!` records through
    /// fst-core's descriptor writer (vgrid's table and keys), `HY` with its constants, date
    /// stamp and etiket (the ETIKET option's where it renames the data, as vgrid finds `HY`
    /// by the data's etiket).
    fn write_vertical(&mut self, carried: &Carried, present: &Present) -> Result<(), CreateError> {
        for (ip1, ip2, d) in &carried.vgrid {
            if !present.vgrid.contains(&(*ip1, *ip2)) {
                self.writer()?.write_vertical(d, *ip1, *ip2)?;
            }
        }
        if let (Some((hy, dateo, etiket)), false) = (&carried.hy, present.hy) {
            let keys = RecordKeys {
                nomvar: HY_NOMVAR.into(),
                typvar: "X".into(),
                etiket: self
                    .options
                    .etiket
                    .clone()
                    .unwrap_or_else(|| etiket.clone()),
                dateo: DateStamp(*dateo),
                ip1: hy.ip1,
                grtyp: b'X',
                ig1: hy.ig1,
                ig2: hy.ig2,
                ni: 1,
                nj: 1,
                nk: 1,
                ..RecordKeys::default()
            };
            self.writer()?
                .write(&keys, SamplesRef::F32(&[0.0]), None, Datyp(5), 32)?;
        }
        Ok(())
    }

    /// The grid found for the source (None: no georeferencing, written as an `X` grid).
    #[must_use]
    pub fn grid(&self) -> Option<&FstGrid> {
        self.grid.as_ref()
    }

    /// A warning when the source has no georeferencing (written as an `X` grid), or when the
    /// grid found reproduces its pixel centres less closely than 1e-6° (float32 `>>`/`^^` of a
    /// Y or Z grid on non-decimal axes; see grids' README).
    #[must_use]
    pub fn grid_warning(&self) -> Option<String> {
        let Some(g) = self.grid.as_ref() else {
            // A netCDF without a grid mapping, a plain image: nothing says where the pixels
            // are, and a silent X grid would look like a georeferencing bug downstream.
            return Some(
                "the source has no coordinate system: written as an X grid (not georeferenced); \
                 give it one (e.g. gdal_translate -a_srs EPSG:4326) to get an L, Z or Y grid"
                    .to_owned(),
            );
        };
        (g.max_error_deg > 1e-6).then(|| {
            format!(
                "grid {} reproduces the source's pixel centres within {:.2e} degrees (float32 positional records, what librmn reads)",
                char::from(g.descriptor.grtyp),
                g.max_error_deg
            )
        })
    }

    /// Encode and write one band as a record, on this thread ([`Pipeline`] does the same
    /// work on several).
    pub fn write_band(&mut self, band: BandInput<'_>) -> Result<(), CreateError> {
        let plan = self.plan_band(&band)?;
        let encoder = self.band_encoder()?;
        let mut buffers = std::mem::take(&mut self.buffers);
        let record = encoder.encode(&plan, band.values, &mut buffers);
        self.buffers = buffers;
        write_record(self.writer()?, &plan, &record?)
    }

    /// A band's record keys and packing, decided in band order (bands whose keys would be
    /// equal are told apart by ip3 here).
    fn plan_band(&mut self, band: &BandInput<'_>) -> Result<BandPlan, CreateError> {
        let band_err = |reason: String| CreateError::Band {
            path: self.path.clone(),
            band: band.number,
            reason,
        };
        let mut k =
            keys::band_keys(&self.options, &self.source.metadata, band).map_err(band_err)?;
        match &self.grid {
            Some(g) => {
                let d = &g.descriptor;
                k.grtyp = d.grtyp;
                [k.ig1, k.ig2, k.ig3, k.ig4] = d.ig;
            }
            None => {
                k.grtyp = b'X';
            }
        }
        k.ni = self.unwrap.record_columns(self.source.xsize) as u32;
        k.nj = self.source.ysize as u32;
        // Bands whose keys would be equal (plain GeoTIFF bands) stay apart by ip3.
        if self.options.ip3.is_none() && self.written.contains(&search_keys(&k)) {
            k.ip3 = band.number as u32;
        }
        self.written.insert(search_keys(&k));
        let (datyp, nbits) = keys::packing(&self.options, band, self.turbo);
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        Ok(BandPlan {
            number: band.number,
            sequence,
            keys: k,
            datyp,
            nbits,
            nodata: band.nodata,
        })
    }

    /// What encoding this copy's bands needs, for any thread.
    fn band_encoder(&mut self) -> Result<BandEncoder, CreateError> {
        let records = self.writer()?.encoder();
        Ok(BandEncoder {
            path: self.path.clone(),
            ni: self.source.xsize,
            nj: self.source.ysize,
            // Without a grid (X), our reader shows record row 0 at the bottom, like librmn's
            // tools: write south first so that the raster comes back the same way up.
            flip: self.grid.as_ref().is_none_or(|g| g.flip_rows),
            unwrap: self.unwrap,
            records,
        })
    }

    /// Close the file: a new file appears under its name only now.
    pub fn finish(mut self) -> Result<PathBuf, CreateError> {
        match self.writer.take() {
            Some(w) => Ok(w.close()?),
            None => Ok(self.path.clone()),
        }
    }

    /// Give up: a new file is deleted; an appended file lists the records it listed before
    /// the copy (fst-core's [`FstWriter::discard`]: XDF records of the copy are marked deleted,
    /// RSF ones stay in a segment no reader lists).
    pub fn abandon(mut self) {
        if let Some(w) = self.writer.take() {
            // An error here leaves some of the copy's XDF records listed; the copy's own
            // error has been reported already, and nothing better can be done.
            let _ = w.discard();
        }
    }
}

#[cfg(test)]
mod tests;
