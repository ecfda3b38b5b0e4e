//! The live catalog: the FST files of the data directories, opened with fst-core and grouped
//! into layers with fst-core's [`Catalog`]; grids built by `grids` (its FST bridge resolves a
//! record's positional records into a [`GridDescriptor`]).
//!
//! A [`Snapshot`] is immutable; the watcher builds a new one when files change and swaps it
//! in, so a request always sees one consistent catalog.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use fst_core::catalog::Catalog;
use fst_core::codec::{SampleType, Samples};
use fst_core::date::DateStamp;
use fst_core::ip::{Level, LevelKind};
use fst_core::{FstFile, RecordMeta};
use grids::{Grid, GridCache, GridDescriptor, GridOptions};

use crate::render::FieldValues;
use crate::vars;

/// The identity and version of a file: a rewritten file gets a new version, so caches never
/// serve pixels of an older content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileVersion {
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds.
    pub mtime_ns: i128,
    /// Inode.
    pub inode: u64,
}

impl FileVersion {
    /// The current version of a path.
    pub fn of(path: &Path) -> std::io::Result<Self> {
        let m = std::fs::metadata(path)?;
        Ok(Self {
            size: m.len(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
            inode: m.ino(),
        })
    }
}

/// One open file.
#[derive(Debug)]
pub struct OpenFile {
    /// Path.
    pub path: PathBuf,
    /// Version when opened.
    pub version: FileVersion,
    /// The reader.
    pub fst: FstFile,
}

/// One 2-D slice of a layer.
#[derive(Debug, Clone)]
pub struct Slice {
    /// File it lives in.
    pub file: Arc<OpenFile>,
    /// Its record.
    pub record: RecordMeta,
    /// Second record (V of a vector layer).
    pub record_v: Option<RecordMeta>,
    /// Valid time.
    pub valid: DateTime<Utc>,
    /// Model run.
    pub run: DateTime<Utc>,
    /// Encoded level.
    pub ip1: u32,
    /// Decoded level.
    pub level: Option<Level>,
}

impl Slice {
    /// A cache identity of the slice's data.
    #[must_use]
    pub fn data_key(&self) -> String {
        format!(
            "{}|{}-{}-{}|{}|{}",
            self.file.path.display(),
            self.file.version.size,
            self.file.version.mtime_ns,
            self.file.version.inode,
            self.record.index.0,
            self.record_v.as_ref().map_or(-1, |r| i64::from(r.index.0))
        )
    }
}

/// A layer: one field across all files of a collection.
#[derive(Debug)]
pub struct Layer {
    /// Name used in requests.
    pub name: String,
    /// Human title.
    pub title: String,
    /// Variable name.
    pub nomvar: String,
    /// Field type.
    pub typvar: String,
    /// Label.
    pub etiket: String,
    /// Native unit.
    pub units: String,
    /// True for a derived wind layer (UU+VV).
    pub vector: bool,
    /// Grid.
    pub grid: Arc<Grid>,
    /// Geographic bounds [west, south, east, north]; east may exceed 180 for grids that
    /// cross the antimeridian.
    pub bbox: [f64; 4],
    /// Slices, ordered by run, valid time, level.
    pub slices: Vec<Slice>,
    /// Distinct valid times.
    pub times: Vec<DateTime<Utc>>,
    /// Distinct runs.
    pub runs: Vec<DateTime<Utc>>,
    /// Distinct levels (ip1, decoded), in catalog order.
    pub levels: Vec<(u32, Option<Level>)>,
    /// Unit of the levels.
    pub level_units: String,
}

/// One consistent view of the data.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Increases with every rebuild.
    pub generation: u64,
    /// Open files by path.
    pub files: HashMap<PathBuf, Arc<OpenFile>>,
    /// Layers by name (one per level kind of a field that mixes kinds).
    pub layers: BTreeMap<String, Arc<Layer>>,
    /// Whole fields by name, across their level kinds: what observation departures
    /// interpolate in (a model field's pressure or height levels with its surface level). The
    /// same `Arc` as the layer where a field has one kind.
    pub fields: BTreeMap<String, Arc<Layer>>,
    /// Files that could not be opened and fields that could not become layers, with the
    /// reason (logged once per file version, shown in /healthz).
    pub skipped: Vec<Skipped>,
}

fn stamp_time(stamp: i32) -> Option<DateTime<Utc>> {
    DateStamp(stamp).to_datetime()
}

/// Every regular file under the data paths (a path may also be a single file). Hidden files,
/// temporary names (`*.tmp`, `*.part`, `*~`) and sidecars (`*.aux.xml`, …) are ignored
/// ([`crate::sidecars::ignored`]), so that writers can write elsewhere and rename into place.
#[must_use]
pub fn list_files(data: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in data {
        if d.is_file() {
            out.push(d.clone());
            continue;
        }
        let Ok(rd) = std::fs::read_dir(d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if crate::sidecars::ignored(name) {
                continue;
            }
            if p.is_file() {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Why a record of a served file cannot give a field. Messages name the file by its name
/// only (never the server's directory) and the record by its index: they reach clients.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The file changed (rewritten, truncated, removed) while it was read: transient, the
    /// next catalog has the new version.
    #[error("{file} changed while it was read")]
    Changed {
        /// File name.
        file: String,
    },
    /// The record's bytes cannot be read (the file is shorter than its directory says, as
    /// while a producer writes it in place, or the disk failed): retry.
    #[error("record {record} of {file} cannot be read: {reason}")]
    Unreadable {
        /// File name.
        file: String,
        /// Record index.
        record: u32,
        /// What failed, without the path.
        reason: String,
        /// fst-core's error (with the full path, for the server's log).
        #[source]
        source: Box<fst_core::DecodeError>,
    },
    /// The record can never decode: its bytes are malformed or it exceeds a limit. The
    /// data's fault, not transient.
    #[error("record {record} of {file} cannot be decoded: {reason}")]
    Undecodable {
        /// File name.
        file: String,
        /// Record index.
        record: u32,
        /// What fst-core found, without the path.
        reason: String,
        /// fst-core's error (with the full path, for the server's log).
        #[source]
        source: Box<fst_core::DecodeError>,
    },
    /// The record decodes to something that is not a numeric field of its shape.
    #[error("record {record} of {file}: {reason}")]
    NotAField {
        /// File name.
        file: String,
        /// Record index.
        record: u32,
        /// What is wrong.
        reason: String,
    },
    /// A vector operation on a slice without a second component.
    #[error("not a vector layer")]
    NotVector,
    /// The record's grid cannot be built (descriptor, positional records, limits).
    #[error("record {record} of {file}: grid: {source}")]
    Grid {
        /// File name.
        file: String,
        /// Record index.
        record: u32,
        /// What grids found.
        #[source]
        source: Box<grids::GridError>,
    },
    /// The field is larger than the server accepts (`limits.max_grid_points`).
    #[error("record {record} of {file}: {points} points exceed the server's limit of {limit}")]
    TooLarge {
        /// File name.
        file: String,
        /// Record index.
        record: u32,
        /// ni·nj.
        points: u64,
        /// `limits.max_grid_points`.
        limit: u64,
    },
}

impl SourceError {
    /// Whether retrying may succeed (the file changed under the read, or could not be read).
    #[must_use]
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Changed { .. } | Self::Unreadable { .. })
    }
}

/// The name of a file, for messages that reach clients.
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || "<file>".to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// What fst-core found, without the path it puts in front.
fn decode_reason(e: &fst_core::DecodeError) -> String {
    use fst_core::DecodeError as D;
    match e {
        D::Io { offset, len, .. } => format!("cannot read {len} bytes at byte {offset}"),
        D::Format { offset, kind, .. } => format!("at byte {offset}: {kind}"),
        D::Framing { offset, kind, .. } => format!("at byte {offset}: {kind}"),
        D::Limits { limit, .. } => limit.to_string(),
        D::Usage { reason, .. } => reason.clone(),
        _ => "malformed record".to_string(),
    }
}

/// A `Changed` error if the file is no longer the version that was opened.
fn check_unchanged(file: &OpenFile) -> Result<(), SourceError> {
    match FileVersion::of(&file.path) {
        Ok(now) if now == file.version => Ok(()),
        _ => Err(SourceError::Changed {
            file: file_name(&file.path),
        }),
    }
}

/// Decode a record to f32 values, NaN where missing. A decode error of a file that changed
/// meanwhile is [`SourceError::Changed`] (transient); of an unchanged file, the record's
/// fault ([`SourceError::Undecodable`]).
pub fn decode_values(file: &OpenFile, rec: &RecordMeta) -> Result<Vec<f32>, SourceError> {
    let record = rec.index.0;
    let f = file.fst.decode(rec).map_err(|source| {
        check_unchanged(file).err().unwrap_or_else(|| {
            let (file, reason) = (file_name(&file.path), decode_reason(&source));
            let source = Box::new(source);
            if matches!(*source, fst_core::DecodeError::Io { .. }) {
                SourceError::Unreadable {
                    file,
                    record,
                    reason,
                    source,
                }
            } else {
                SourceError::Undecodable {
                    file,
                    record,
                    reason,
                    source,
                }
            }
        })
    })?;
    let not_a_field = |reason: String| SourceError::NotAField {
        file: file_name(&file.path),
        record,
        reason,
    };
    let n = (rec.ni as usize) * (rec.nj as usize);
    let mut v: Vec<f32> = match f.samples {
        Samples::F32(v) => v,
        Samples::F64(v) => v.into_iter().map(|x| x as f32).collect(),
        Samples::I32(v) => v.into_iter().map(|x| x as f32).collect(),
        Samples::U32(v) => v.into_iter().map(|x| x as f32).collect(),
        Samples::I64(v) => v.into_iter().map(|x| x as f32).collect(),
        Samples::U64(v) => v.into_iter().map(|x| x as f32).collect(),
        _ => return Err(not_a_field("holds no numeric values".into())),
    };
    if let Some(m) = f.missing {
        for (x, miss) in v.iter_mut().zip(m) {
            if miss {
                *x = f32::NAN;
            }
        }
    }
    v.truncate(n);
    if v.len() != n {
        return Err(not_a_field(format!(
            "decoded {} values, expected {n}",
            v.len()
        )));
    }
    Ok(v)
}

/// Decode a slice into a field (wind speed for vector layers). The file's version is checked
/// after the read: if the file changed meanwhile, the result is discarded (never a
/// half-written field).
pub fn decode_slice(s: &Slice) -> Result<FieldValues, SourceError> {
    let mut v = decode_values(&s.file, &s.record)?;
    if let Some(rv) = &s.record_v {
        let vv = decode_values(&s.file, rv)?;
        for (a, b) in v.iter_mut().zip(vv) {
            *a = a.hypot(b);
        }
    }
    check_unchanged(&s.file)?;
    Ok(FieldValues {
        ni: s.record.ni as usize,
        nj: s.record.nj as usize,
        values: v,
    })
}

/// Decode the two components of a vector slice (grid-relative).
pub fn decode_components(s: &Slice) -> Result<(FieldValues, FieldValues), SourceError> {
    let Some(rv) = &s.record_v else {
        return Err(SourceError::NotVector);
    };
    let u = decode_values(&s.file, &s.record)?;
    let v = decode_values(&s.file, rv)?;
    check_unchanged(&s.file)?;
    let (ni, nj) = (s.record.ni as usize, s.record.nj as usize);
    Ok((
        FieldValues { ni, nj, values: u },
        FieldValues { ni, nj, values: v },
    ))
}

/// The grid descriptor of a data record, positional records resolved (grids' FST bridge).
pub fn descriptor_of(fst: &FstFile, rec: &RecordMeta) -> Result<GridDescriptor, SourceError> {
    grids::fst::descriptor_from_record(fst, rec).map_err(|source| SourceError::Grid {
        file: fst.path().map_or_else(|| "<memory>".to_string(), file_name),
        record: rec.index.0,
        source: Box::new(source),
    })
}

/// Bounds folded into [-180, 180] for documents that cannot express an antimeridian
/// crossing (capabilities, TileJSON): a grid reaching past 180° is clipped at -180.
#[must_use]
pub fn bbox_pm180(b: [f64; 4]) -> [f64; 4] {
    if b[2] > 180.0 {
        [(b[0] - 360.0).max(-180.0), b[1], b[2] - 360.0, b[3]]
    } else {
        [b[0].max(-180.0), b[1], b[2].min(180.0), b[3]]
    }
}

/// A layer being assembled: one field's slices across files, before naming.
struct Pending {
    nomvar: String,
    typvar: String,
    etiket: String,
    grid_key: String,
    grid: Arc<Grid>,
    slices: Vec<Slice>,
    /// Empty for a field's main level kind; for its other kinds, their coordinate's name
    /// (`height_agl`), appended to the layer name ([`split_by_level_kind`]).
    level_suffix: String,
}

/// What groups fields across files into one layer: (nomvar, typvar, etiket, grid).
type FieldKey = (String, String, String, String);

/// One problem with a file or with one of its records: kept in the snapshot (`/healthz`
/// lists them) and logged once per file version, not at every rebuild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Its version when the problem was found (`None` if it could not be read).
    pub version: Option<FileVersion>,
    /// What is wrong.
    pub reason: String,
}

/// Bounds of the catalog build, from the server's `[limits]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogLimits {
    /// Largest ni·nj of a field that becomes a layer; larger fields are skipped before any
    /// grid or coordinate is computed from their header.
    pub max_grid_points: u64,
}

/// Build a snapshot of `paths`, reusing the open files of `prev` whose version is unchanged.
///
/// Each file is one fallible, bounded step: a file that cannot be opened, a field whose grid
/// cannot be built or is larger than `limits.max_grid_points`, is skipped and listed in
/// [`Snapshot::skipped`]; the other files are served. A panic inside one file's step (a bug,
/// not a design path) skips that file too.
#[must_use]
pub fn build_snapshot(
    paths: &[PathBuf],
    prev: Option<&Snapshot>,
    grids: &GridCache,
    generation: u64,
    limits: CatalogLimits,
) -> Snapshot {
    let (files, mut skipped) = open_files(paths, prev);
    let mut sorted: Vec<&Arc<OpenFile>> = files.values().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut pending: BTreeMap<FieldKey, Pending> = BTreeMap::new();
    for file in sorted {
        let skip = |reason: String| Skipped {
            path: file.path.clone(),
            version: Some(file.version),
            reason,
        };
        // A file that panicked in this version already is not tried again (nor logged again).
        let panicked = prev.and_then(|p| {
            p.skipped.iter().find(|s| {
                s.path == file.path
                    && s.version == Some(file.version)
                    && s.reason.starts_with(PANIC_PREFIX)
            })
        });
        if let Some(s) = panicked {
            skipped.push(s.clone());
            continue;
        }
        let mut problems = Vec::new();
        let fields = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            file_fields(file, grids, limits, &mut problems)
        }));
        skipped.extend(problems.into_iter().map(skip));
        match fields {
            Ok(fields) => merge_fields(&mut pending, fields),
            Err(p) => skipped.push(skip(format!("{PANIC_PREFIX}{}", panic_text(p.as_ref())))),
        }
    }
    let derived = wind_layers(&pending);
    let all: Vec<Pending> = pending.into_values().chain(derived).collect();
    let (layers, fields) = name_layers(&all);
    for s in &skipped {
        if !prev.is_some_and(|p| p.skipped.contains(s)) {
            tracing::warn!("skipped {}: {}", s.path.display(), s.reason);
        }
    }
    Snapshot {
        generation,
        files,
        layers,
        fields,
        skipped,
    }
}

/// How a file skipped after a panic is marked (and recognised at the next rebuild).
const PANIC_PREFIX: &str = "catalog build panicked: ";

/// The message of a panic payload, when it has one.
#[must_use]
pub fn panic_text(p: &(dyn std::any::Any + Send)) -> &str {
    p.downcast_ref::<&str>()
        .copied()
        .or_else(|| p.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message")
}

/// Open files by path, and the paths skipped with the reason.
type OpenedFiles = (HashMap<PathBuf, Arc<OpenFile>>, Vec<Skipped>);

/// Open `paths`, reusing the open files of `prev` whose version is unchanged.
fn open_files(paths: &[PathBuf], prev: Option<&Snapshot>) -> OpenedFiles {
    let mut files = HashMap::new();
    let mut skipped = Vec::new();
    for p in paths {
        let Ok(version) = FileVersion::of(p) else {
            continue;
        };
        if let Some(old) = prev
            .and_then(|s| s.files.get(p))
            .filter(|f| f.version == version)
        {
            files.insert(p.clone(), Arc::clone(old));
            continue;
        }
        let skip = |reason: String| Skipped {
            path: p.clone(),
            version: Some(version),
            reason,
        };
        match FstFile::open(p) {
            Ok(fst) => {
                // Re-check: a file rewritten during the open is skipped until it settles.
                match FileVersion::of(p) {
                    Ok(v2) if v2 == version => {
                        files.insert(
                            p.clone(),
                            Arc::new(OpenFile {
                                path: p.clone(),
                                version,
                                fst,
                            }),
                        );
                    }
                    _ => skipped.push(skip("changed while it was opened".to_string())),
                }
            }
            Err(fst_core::OpenError::NotFst { .. }) if crate::obs::is_observation_path(p) => {
                // An observation file (IODA, ODB): the observation layers serve it; it is no
                // problem of the field catalogue (it was logged and listed in /healthz).
            }
            Err(e) => {
                // Not an FST file, or a file being written: keep the previous version if any.
                if let Some(old) = prev.and_then(|s| s.files.get(p)) {
                    files.insert(p.clone(), Arc::clone(old));
                }
                skipped.push(skip(e.to_string()));
            }
        }
    }
    (files, skipped)
}

/// One field of one file: its layer key, grid and slices.
struct FileField {
    key: FieldKey,
    grid: Arc<Grid>,
    slices: Vec<Slice>,
}

/// The grid of a field whose first record is `rec`, checked against the limits before
/// anything is computed from the record's header.
fn field_grid(
    file: &OpenFile,
    rec: &RecordMeta,
    grids: &GridCache,
    limits: CatalogLimits,
) -> Result<Arc<Grid>, SourceError> {
    let points = u64::from(rec.ni) * u64::from(rec.nj);
    if points > limits.max_grid_points {
        return Err(SourceError::TooLarge {
            file: file_name(&file.path),
            record: rec.index.0,
            points,
            limit: limits.max_grid_points,
        });
    }
    let d = descriptor_of(&file.fst, rec)?;
    grids
        .get(&d, GridOptions::default())
        .map_err(|source| SourceError::Grid {
            file: file_name(&file.path),
            record: rec.index.0,
            source: Box::new(source),
        })
}

/// Every numeric field of `file` that has a usable grid; the others are described in
/// `problems`.
fn file_fields(
    file: &Arc<OpenFile>,
    grids: &GridCache,
    limits: CatalogLimits,
    problems: &mut Vec<String>,
) -> Vec<FileField> {
    // A file cut short (RSF) opens with what can be read: its missing fields or times are
    // said, not silently absent.
    for d in file.fst.diagnostics().iter().filter(|d| d.truncated) {
        problems.push(format!(
            "truncated at byte {}: layers may lack fields or times ({})",
            d.offset, d.message
        ));
    }
    let cat = Catalog::build(file.fst.records());
    let mut out = Vec::new();
    for field in cat.fields() {
        let Some(first) = field.slices.first().and_then(|s| file.fst.record(s.record)) else {
            continue;
        };
        // Only numbers can be coloured: characters (datyp 3, 7), the raw words of datyp 0 and
        // complex values (8) never decode to a field, so they are not offered as layers.
        // (A datyp fst-core cannot decode stays, and says so when it is requested.)
        if fst_core::codec::sample_type(&first.codec_params()).is_ok_and(|t| {
            !matches!(
                t,
                SampleType::F32
                    | SampleType::F64
                    | SampleType::U32
                    | SampleType::I32
                    | SampleType::U64
                    | SampleType::I64
            )
        }) {
            continue;
        }
        let grid = match field_grid(file, first, grids, limits) {
            Ok(g) => g,
            Err(e) => {
                problems.push(format!("{}: {e}", field.key.nomvar.trimmed()));
                continue;
            }
        };
        let key = (
            field.key.nomvar.trimmed().to_string(),
            field.key.typvar.trimmed().to_string(),
            field.key.etiket.trimmed().to_string(),
            field.key.grid.to_string(),
        );
        let mut slices = Vec::new();
        for fs in &field.slices {
            let Some(rec) = file.fst.record(fs.record) else {
                continue;
            };
            let (Some(valid), Some(run)) = (stamp_time(fs.datev), stamp_time(fs.dateo)) else {
                continue;
            };
            slices.push(Slice {
                file: Arc::clone(file),
                record: rec.clone(),
                record_v: None,
                valid,
                run,
                ip1: fs.ip1,
                level: fs.level,
            });
        }
        if slices.is_empty() {
            // Every request selects a run and a valid time: a field without a dated record
            // could only answer 500.
            problems.push(format!(
                "{}: no record has a valid date (dateo/datev stamps that are no date)",
                field.key.nomvar.trimmed()
            ));
            continue;
        }
        out.push(FileField { key, grid, slices });
    }
    out
}

/// Add the fields of one file to the layers being assembled.
fn merge_fields(pending: &mut BTreeMap<FieldKey, Pending>, fields: Vec<FileField>) {
    for f in fields {
        let key = f.key;
        let entry = pending.entry(key.clone()).or_insert_with(|| Pending {
            nomvar: key.0.clone(),
            typvar: key.1.clone(),
            etiket: key.2.clone(),
            grid_key: key.3.clone(),
            grid: f.grid,
            slices: Vec::new(),
            level_suffix: String::new(),
        });
        entry.slices.extend(f.slices);
    }
}

/// Derived wind layers: UU with a VV of the same typvar, etiket and grid, paired slice by
/// slice.
fn wind_layers(pending: &BTreeMap<FieldKey, Pending>) -> Vec<Pending> {
    let mut derived = Vec::new();
    for (k, p) in pending {
        if p.nomvar != "UU" {
            continue;
        }
        let vk = ("VV".to_string(), k.1.clone(), k.2.clone(), k.3.clone());
        let Some(vp) = pending.get(&vk) else { continue };
        let mut slices = Vec::new();
        for s in &p.slices {
            if let Some(v) = vp.slices.iter().find(|v| {
                v.valid == s.valid
                    && v.run == s.run
                    && v.ip1 == s.ip1
                    && Arc::ptr_eq(&v.file, &s.file)
            }) {
                let mut s2 = s.clone();
                s2.record_v = Some(v.record.clone());
                slices.push(s2);
            }
        }
        if !slices.is_empty() {
            derived.push(Pending {
                nomvar: "UV".into(),
                typvar: p.typvar.clone(),
                etiket: p.etiket.clone(),
                grid_key: p.grid_key.clone(),
                grid: Arc::clone(&p.grid),
                slices,
                level_suffix: String::new(),
            });
        }
    }
    derived
}

/// One layer per level kind of a field whose records mix kinds (GEM writes TT on its hybrid
/// levels and at 1.5 m above ground under one nomvar): in one layer, ELEVATION would list
/// numbers of different units under the first one's unit, and the same number twice (sigma 1
/// and hybrid 1; 0 m above sea level and above ground), reaching only the first. The kind
/// with the most levels keeps the field's layer (ties: the one nearer the surface, as levels
/// are listed); each other kind becomes a layer suffixed with its coordinate's name, like the
/// Python backend's variables (`TT_height_agl`). Undecodable ip1s form a kind of their own
/// (`_ip1`). None when the field has one kind.
fn split_by_level_kind(p: &Pending) -> Option<Vec<Pending>> {
    let mut kinds: Vec<(Option<LevelKind>, Vec<Slice>)> = Vec::new();
    for s in &p.slices {
        let kind = s.level.map(|l| l.kind);
        match kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, v)) => v.push(s.clone()),
            None => kinds.push((kind, vec![s.clone()])),
        }
    }
    if kinds.len() < 2 {
        return None;
    }
    let distinct = |slices: &[Slice]| distinct_levels(slices).len();
    let nearest = |slices: &[Slice]| distinct_levels(slices).into_iter().next();
    let main = kinds
        .iter()
        .enumerate()
        .max_by(|(_, a), (_, b)| {
            distinct(&a.1).cmp(&distinct(&b.1)).then_with(|| {
                // Nearer the surface wins a tie: `surface_first` orders it first.
                match (nearest(&a.1), nearest(&b.1)) {
                    (Some(x), Some(y)) => crate::dims::surface_first(&y, &x),
                    _ => std::cmp::Ordering::Equal,
                }
            })
        })
        .map_or(0, |(i, _)| i);
    let parts = kinds
        .into_iter()
        .enumerate()
        .map(|(i, (kind, slices))| Pending {
            nomvar: p.nomvar.clone(),
            typvar: p.typvar.clone(),
            etiket: p.etiket.clone(),
            grid_key: p.grid_key.clone(),
            grid: Arc::clone(&p.grid),
            slices,
            level_suffix: if i == main {
                String::new()
            } else {
                kind.and_then(fst_cf::vertical)
                    .map_or(fst_cf::MIXED_LEVELS.dim, |v| v.dim)
                    .to_string()
            },
        })
        .collect();
    Some(parts)
}

/// The layers and the whole fields of a snapshot, by name.
type NamedLayers = BTreeMap<String, Arc<Layer>>;

/// Name the assembled fields: the nomvar alone when unique, else with typvar/etiket, else
/// with the grid. Returns the layers (a field mixing level kinds split by kind,
/// [`split_by_level_kind`], its secondary kinds' layers suffixed) and the whole fields under
/// the field's name.
fn name_layers(all: &[Pending]) -> (NamedLayers, NamedLayers) {
    let mut count: HashMap<&str, usize> = HashMap::new();
    let mut count2: HashMap<(&str, &str, &str), usize> = HashMap::new();
    for p in all {
        *count.entry(&p.nomvar).or_default() += 1;
        *count2.entry((&p.nomvar, &p.typvar, &p.etiket)).or_default() += 1;
    }
    let mut layers = BTreeMap::new();
    let mut fields = BTreeMap::new();
    for p in all {
        let mut name = p.nomvar.clone();
        if count.get(p.nomvar.as_str()).copied().unwrap_or(0) > 1 {
            name = format!("{}.{}.{}", p.nomvar, p.typvar, p.etiket);
            if count2
                .get(&(p.nomvar.as_str(), p.typvar.as_str(), p.etiket.as_str()))
                .copied()
                .unwrap_or(0)
                > 1
            {
                name = format!("{name}.{}", p.grid_key);
            }
        }
        let name = layer_name(&name);
        // Last resort: a panic while describing one layer (its bounding box walks the grid)
        // drops that layer, not the catalog.
        let described = |part: &Pending, name: &str| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                Arc::new(make_layer(part, name.to_string()))
            }))
            .map_err(|e| tracing::error!("layer {name} dropped: {}", panic_text(e.as_ref())))
            .ok()
        };
        let Some(whole) = described(p, &name) else {
            continue;
        };
        match split_by_level_kind(p) {
            None => {
                layers.insert(name.clone(), Arc::clone(&whole));
            }
            Some(parts) => {
                for part in &parts {
                    let part_name = if part.level_suffix.is_empty() {
                        name.clone()
                    } else {
                        layer_name(&format!("{name}_{}", part.level_suffix))
                    };
                    if let Some(layer) = described(part, &part_name) {
                        layers.insert(part_name, layer);
                    }
                }
            }
        }
        fields.insert(name, whole);
    }
    (layers, fields)
}

/// `name` with the characters a WMS layer name should not hold replaced by `_`.
fn layer_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The layer `name` of an assembled field: slices ordered, dimensions listed, described.
fn make_layer(p: &Pending, name: String) -> Layer {
    let mut slices = p.slices.clone();
    slices.sort_by(|a, b| a.run.cmp(&b.run).then(a.valid.cmp(&b.valid)));
    let mut times: Vec<DateTime<Utc>> = slices.iter().map(|s| s.valid).collect();
    times.sort();
    times.dedup();
    let mut runs: Vec<DateTime<Utc>> = slices.iter().map(|s| s.run).collect();
    runs.sort();
    runs.dedup();
    let levels = distinct_levels(&slices);
    let level_units = levels
        .first()
        .and_then(|l| l.1)
        .map_or("", |l| l.kind.display_unit())
        .to_string();
    let (title, units) = vars::describe(&p.nomvar).unwrap_or_default();
    let mut title = if title.is_empty() {
        p.nomvar.clone()
    } else {
        format!("{title} ({})", p.nomvar)
    };
    let qualified = if p.level_suffix.is_empty() {
        name.as_str()
    } else {
        name.strip_suffix(&format!("_{}", p.level_suffix))
            .unwrap_or(&name)
    };
    if qualified != p.nomvar {
        title = format!("{title} [{} {}]", p.typvar, p.etiket);
    }
    if let Some(kind) = levels.first().and_then(|l| l.1).map(|l| l.kind) {
        if !p.level_suffix.is_empty() {
            let what = fst_cf::vertical(kind).map_or("levels", |v| v.long_name);
            title = format!("{title}, {what}");
        }
    } else if !p.level_suffix.is_empty() {
        title = format!("{title}, {}", fst_cf::MIXED_LEVELS.long_name);
    }
    Layer {
        name,
        title,
        nomvar: p.nomvar.clone(),
        typvar: p.typvar.clone(),
        etiket: p.etiket.clone(),
        units: units.to_string(),
        vector: p.nomvar == "UV" && slices.iter().all(|s| s.record_v.is_some()),
        grid: Arc::clone(&p.grid),
        // From the grid's edges: a corrupt header's shape must not cost ni·nj arrays.
        bbox: p.grid.bbox().to_array(),
        slices,
        times,
        runs,
        levels,
        level_units,
    }
}

/// The distinct levels of `slices` (by ip1), the one nearest the surface first
/// ([`crate::dims::surface_first`]).
fn distinct_levels(slices: &[Slice]) -> Vec<(u32, Option<Level>)> {
    let mut levels: Vec<(u32, Option<Level>)> = Vec::new();
    for s in slices {
        // One entry per level: the same level under two ip1 encodings (old and new style)
        // is one ELEVATION value, whose slices `dims::select` finds by their decoded level.
        if !levels
            .iter()
            .any(|l| l.0 == s.ip1 || (s.level.is_some() && l.1 == s.level))
        {
            levels.push((s.ip1, s.level));
        }
    }
    levels.sort_by(crate::dims::surface_first);
    levels
}
