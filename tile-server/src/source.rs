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
use fst_core::codec::Samples;
use fst_core::date::DateStamp;
use fst_core::ip::Level;
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
    /// Layers by name.
    pub layers: BTreeMap<String, Arc<Layer>>,
    /// Files that could not be opened, with the reason (logged, shown in /healthz).
    pub skipped: Vec<(PathBuf, String)>,
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

/// Decode a record to f32 values, NaN where missing.
pub fn decode_values(file: &OpenFile, rec: &RecordMeta) -> Result<Vec<f32>, String> {
    let f = file.fst.decode(rec).map_err(|e| e.to_string())?;
    let n = (rec.ni as usize) * (rec.nj as usize);
    let mut v: Vec<f32> = match f.samples {
        Samples::F32(v) => v,
        Samples::F64(v) => v.into_iter().map(|x| x as f32).collect(),
        Samples::I32(v) => v.into_iter().map(|x| x as f32).collect(),
        Samples::U32(v) => v.into_iter().map(|x| x as f32).collect(),
        Samples::I64(v) => v.into_iter().map(|x| x as f32).collect(),
        Samples::U64(v) => v.into_iter().map(|x| x as f32).collect(),
        _ => return Err(format!("record {} holds no numeric values", rec.index.0)),
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
        return Err(format!(
            "record {} decoded {} values, expected {n}",
            rec.index.0,
            v.len()
        ));
    }
    Ok(v)
}

/// Decode a slice into a field (wind speed for vector layers). The file's version is checked
/// after the read: if the file changed meanwhile, the result is discarded (never a
/// half-written field).
pub fn decode_slice(s: &Slice) -> Result<FieldValues, String> {
    let mut v = decode_values(&s.file, &s.record)?;
    if let Some(rv) = &s.record_v {
        let vv = decode_values(&s.file, rv)?;
        for (a, b) in v.iter_mut().zip(vv) {
            *a = a.hypot(b);
        }
    }
    match FileVersion::of(&s.file.path) {
        Ok(now) if now == s.file.version => {}
        _ => {
            return Err(format!(
                "{} changed while it was read",
                s.file.path.display()
            ))
        }
    }
    Ok(FieldValues {
        ni: s.record.ni as usize,
        nj: s.record.nj as usize,
        values: v,
    })
}

/// Decode the two components of a vector slice (grid-relative).
pub fn decode_components(s: &Slice) -> Result<(FieldValues, FieldValues), String> {
    let Some(rv) = &s.record_v else {
        return Err("not a vector layer".into());
    };
    let u = decode_values(&s.file, &s.record)?;
    let v = decode_values(&s.file, rv)?;
    match FileVersion::of(&s.file.path) {
        Ok(now) if now == s.file.version => {}
        _ => {
            return Err(format!(
                "{} changed while it was read",
                s.file.path.display()
            ))
        }
    }
    let (ni, nj) = (s.record.ni as usize, s.record.nj as usize);
    Ok((
        FieldValues { ni, nj, values: u },
        FieldValues { ni, nj, values: v },
    ))
}

/// The grid descriptor of a data record, positional records resolved (grids' FST bridge).
pub fn descriptor_of(fst: &FstFile, rec: &RecordMeta) -> Result<GridDescriptor, String> {
    grids::fst::descriptor_from_record(fst, rec).map_err(|e| e.to_string())
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
}

/// What groups fields across files into one layer: (nomvar, typvar, etiket, grid).
type FieldKey = (String, String, String, String);

/// Build a snapshot of `paths`, reusing the open files of `prev` whose version is unchanged.
#[must_use]
pub fn build_snapshot(
    paths: &[PathBuf],
    prev: Option<&Snapshot>,
    grids: &GridCache,
    generation: u64,
) -> Snapshot {
    let (files, skipped) = open_files(paths, prev);
    let mut sorted: Vec<&Arc<OpenFile>> = files.values().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut pending: BTreeMap<FieldKey, Pending> = BTreeMap::new();
    for file in sorted {
        add_fields(&mut pending, file, grids);
    }
    let derived = wind_layers(&pending);
    let all: Vec<Pending> = pending.into_values().chain(derived).collect();
    let layers = name_layers(&all);
    Snapshot {
        generation,
        files,
        layers,
        skipped,
    }
}

/// Open files by path, and the paths skipped with the reason.
type OpenedFiles = (HashMap<PathBuf, Arc<OpenFile>>, Vec<(PathBuf, String)>);

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
                    _ => skipped.push((p.clone(), "changed while it was opened".to_string())),
                }
            }
            Err(e) => {
                // Not an FST file, or a file being written: keep the previous version if any.
                if let Some(old) = prev.and_then(|s| s.files.get(p)) {
                    files.insert(p.clone(), Arc::clone(old));
                }
                skipped.push((p.clone(), e.to_string()));
            }
        }
    }
    (files, skipped)
}

/// Add the slices of every numeric field of `file` to the layers being assembled.
fn add_fields(pending: &mut BTreeMap<FieldKey, Pending>, file: &Arc<OpenFile>, grids: &GridCache) {
    let cat = Catalog::build(file.fst.records());
    for field in cat.fields() {
        let Some(first) = field.slices.first().and_then(|s| file.fst.record(s.record)) else {
            continue;
        };
        if first.datyp.base() == 3 || first.datyp.base() == 7 {
            continue; // characters
        }
        let grid = match descriptor_of(&file.fst, first).and_then(|d| {
            grids
                .get(&d, GridOptions::default())
                .map_err(|e| e.to_string())
        }) {
            Ok(g) => g,
            Err(e) => {
                tracing::debug!(
                    "{}: {} skipped: {e}",
                    file.path.display(),
                    field.key.nomvar.trimmed()
                );
                continue;
            }
        };
        let key = (
            field.key.nomvar.trimmed().to_string(),
            field.key.typvar.trimmed().to_string(),
            field.key.etiket.trimmed().to_string(),
            field.key.grid.to_string(),
        );
        let entry = pending.entry(key.clone()).or_insert_with(|| Pending {
            nomvar: key.0.clone(),
            typvar: key.1.clone(),
            etiket: key.2.clone(),
            grid_key: key.3.clone(),
            grid: Arc::clone(&grid),
            slices: Vec::new(),
        });
        for fs in &field.slices {
            let Some(rec) = file.fst.record(fs.record) else {
                continue;
            };
            let (Some(valid), Some(run)) = (stamp_time(fs.datev), stamp_time(fs.dateo)) else {
                continue;
            };
            entry.slices.push(Slice {
                file: Arc::clone(file),
                record: rec.clone(),
                record_v: None,
                valid,
                run,
                ip1: fs.ip1,
                level: fs.level,
            });
        }
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
            });
        }
    }
    derived
}

/// Name the assembled layers: the nomvar alone when unique, else with typvar/etiket, else
/// with the grid.
fn name_layers(all: &[Pending]) -> BTreeMap<String, Arc<Layer>> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    let mut count2: HashMap<(&str, &str, &str), usize> = HashMap::new();
    for p in all {
        *count.entry(&p.nomvar).or_default() += 1;
        *count2.entry((&p.nomvar, &p.typvar, &p.etiket)).or_default() += 1;
    }
    let mut layers = BTreeMap::new();
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
        let name: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        layers.insert(name.clone(), Arc::new(make_layer(p, name)));
    }
    layers
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
        .map_or("", |l| vars::level_units(l.kind))
        .to_string();
    let (title, units) = vars::describe(&p.nomvar).unwrap_or(("", ""));
    let mut title = if title.is_empty() {
        p.nomvar.clone()
    } else {
        format!("{title} ({})", p.nomvar)
    };
    if name != p.nomvar {
        title = format!("{title} [{} {}]", p.typvar, p.etiket);
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
        if !levels.iter().any(|l| l.0 == s.ip1) {
            levels.push((s.ip1, s.level));
        }
    }
    levels.sort_by(crate::dims::surface_first);
    levels
}
