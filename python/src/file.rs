//! `File`, `Record` and `Level`: an open standard file, its records and their decoded level.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use fst_core::catalog::{Catalog, FieldSlice};
use fst_core::codec::{SampleType, Samples};
use fst_core::date::DateStamp;
use fst_core::ip::{decode_ip, encode_ip, IpStyle, LevelKind};
use fst_core::record::RecordMeta;
use fst_core::{Field, FstFile, Limits, OpenOptions, Query};
use numpy::npyffi::NPY_ORDER;
use numpy::{Complex32, Complex64, Element, IntoPyArray, PyArray1, PyArrayMethods};
use pyo3::exceptions::{PyIndexError, PyKeyError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};
use pyo3::IntoPyObjectExt;

use crate::errors::{self, Context};
use crate::grid::Grid;
use crate::table::{int_keys, Columns, INT_KEYS};

/// An open RPN standard file (XDF or RSF) for reading.
///
/// Thread safety: the directory is read once at open and never changes; records are read
/// with positional reads, so any number of Python threads may read one `File` at once
/// (decoding releases the GIL). Closing drops this object's reference to the file; records
/// obtained earlier keep their own and stay readable.
#[pyclass(frozen, module = "fstgis._fstgis")]
pub(crate) struct File {
    inner: RwLock<Option<Arc<FstFile>>>,
    name: Option<String>,
}

/// How missing values (datyp +64) come back.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Missing {
    /// NaN in float arrays, a masked array for the others.
    Auto,
    /// Always a masked array (when the record has missing values).
    Mask,
    /// The stored plug values, no mask.
    Raw,
}

impl Missing {
    fn parse(text: &str) -> PyResult<Self> {
        match text {
            "nan" | "auto" => Ok(Missing::Auto),
            "mask" | "masked" => Ok(Missing::Mask),
            "raw" | "none" => Ok(Missing::Raw),
            other => Err(errors::usage(format!(
                "missing={other:?}: expected \"nan\", \"mask\" or \"raw\""
            ))),
        }
    }
}

impl File {
    fn get(&self) -> PyResult<Arc<FstFile>> {
        self.inner
            .read()
            .ok()
            .and_then(|g| g.as_ref().map(Arc::clone))
            .ok_or_else(errors::closed)
    }

    fn new(file: FstFile, name: Option<String>) -> Self {
        File {
            inner: RwLock::new(Some(Arc::new(file))),
            name,
        }
    }
}

fn limits_from(max_values: Option<u64>, max_bytes: Option<u64>) -> Limits {
    let mut limits = Limits::DEFAULT;
    if let Some(v) = max_values {
        limits.max_values_per_record = v;
    }
    if let Some(b) = max_bytes {
        limits.max_decoded_bytes = b;
    }
    limits
}

fn record_of(file: &Arc<FstFile>, index: i64) -> PyResult<Record> {
    let n = file.records().len() as i64;
    let i = if index < 0 { index + n } else { index };
    if !(0..n).contains(&i) {
        return Err(PyIndexError::new_err(format!(
            "record index {index} out of range (the file has {n} records)"
        )));
    }
    let meta = file.records()[i as usize].clone();
    Ok(Record {
        file: Arc::clone(file),
        meta,
    })
}

/// The decoded level of ip1 equals `(value, kind)` when both encode to the same level:
/// `(850, 2)` finds 850 hPa whether ip1 is old or new style.
fn level_matches(ip1: u32, wanted: (f32, LevelKind)) -> bool {
    let Ok(have) = decode_ip(ip1) else {
        return false;
    };
    if have.kind != wanted.1 {
        return false;
    }
    let canonical = encode_ip(wanted.0, wanted.1, IpStyle::New)
        .ok()
        .and_then(|ip| decode_ip(ip).ok());
    match canonical {
        Some(c) => c.value.to_bits() == have.value.to_bits() || c.value == have.value,
        None => have.value == wanted.0,
    }
}

pub(crate) fn level_kind(code: i64) -> PyResult<LevelKind> {
    u32::try_from(code)
        .ok()
        .and_then(LevelKind::from_code)
        .ok_or_else(|| errors::usage(format!("{code} is not a level kind")))
}

#[pymethods]
impl File {
    /// Open a file by path (reads the directory only). The GIL is released meanwhile.
    #[staticmethod]
    #[pyo3(signature = (path, recover=false, max_values_per_record=None, max_decoded_bytes=None))]
    fn open_path(
        py: Python<'_>,
        path: PathBuf,
        recover: bool,
        max_values_per_record: Option<u64>,
        max_decoded_bytes: Option<u64>,
    ) -> PyResult<File> {
        let options = OpenOptions::new()
            .recover(recover)
            .limits(limits_from(max_values_per_record, max_decoded_bytes));
        let name = path.display().to_string();
        let file = py
            .detach(|| FstFile::open_with(&path, options))
            .map_err(|e| errors::open_error(&e))?;
        Ok(File::new(file, Some(name)))
    }

    /// Open a file held in memory (the bytes are copied once).
    #[staticmethod]
    #[pyo3(signature = (data, recover=false, max_values_per_record=None, max_decoded_bytes=None))]
    fn open_bytes(
        py: Python<'_>,
        data: &Bound<'_, PyBytes>,
        recover: bool,
        max_values_per_record: Option<u64>,
        max_decoded_bytes: Option<u64>,
    ) -> PyResult<File> {
        let bytes: Arc<[u8]> = Arc::from(data.as_bytes());
        let options = OpenOptions::new()
            .recover(recover)
            .limits(limits_from(max_values_per_record, max_decoded_bytes));
        let file = py
            .detach(|| FstFile::from_bytes(bytes, options))
            .map_err(|e| errors::open_error(&e))?;
        Ok(File::new(file, None))
    }

    /// The path, or None for in-memory input.
    #[getter]
    fn path(&self) -> Option<String> {
        self.name.clone()
    }

    /// "XDF" or "RSF".
    #[getter]
    fn container(&self) -> PyResult<&'static str> {
        Ok(self.get()?.container().name())
    }

    /// Directory entries, deleted ones included.
    #[getter]
    fn entry_count(&self) -> PyResult<u64> {
        Ok(self.get()?.entry_count())
    }

    /// Anything unusual found at open that did not prevent reading, as `(byte offset,
    /// message)` pairs.
    #[getter]
    fn diagnostics(&self) -> PyResult<Vec<(u64, String)>> {
        Ok(self
            .get()?
            .diagnostics()
            .iter()
            .map(|d| (d.offset, d.message.clone()))
            .collect())
    }

    #[getter]
    fn closed(&self) -> bool {
        self.inner.read().map_or(true, |g| g.is_none())
    }

    /// Drop this object's reference to the file.
    fn close(&self) {
        if let Ok(mut g) = self.inner.write() {
            *g = None;
        }
    }

    fn __len__(&self) -> PyResult<usize> {
        Ok(self.get()?.records().len())
    }

    /// Every live record, in directory order.
    fn records(&self) -> PyResult<Vec<Record>> {
        let file = self.get()?;
        Ok(file
            .records()
            .iter()
            .map(|m| Record {
                file: Arc::clone(&file),
                meta: m.clone(),
            })
            .collect())
    }

    /// The record at `index` (negative counts from the end).
    fn record(&self, index: i64) -> PyResult<Record> {
        record_of(&self.get()?, index)
    }

    /// The records matching every given criterion, with librmn's rules: None, blank strings
    /// and -1 match anything; names compare case-insensitively; `datev` compares like
    /// `fstinf` (low 3 bits of the packed date ignored); `level` is `(value, kind)`.
    #[pyo3(signature = (nomvar=None, typvar=None, etiket=None, ip1=-1, ip2=-1, ip3=-1,
                        datev=-1, grtyp=None, level=None, first=false))]
    #[allow(clippy::too_many_arguments)]
    fn search(
        &self,
        py: Python<'_>,
        nomvar: Option<&str>,
        typvar: Option<&str>,
        etiket: Option<&str>,
        ip1: i64,
        ip2: i64,
        ip3: i64,
        datev: i64,
        grtyp: Option<&str>,
        level: Option<(f64, i64)>,
        first: bool,
    ) -> PyResult<Vec<Record>> {
        let file = self.get()?;
        let mut query = Query::new().ip1(ip1).ip2(ip2).ip3(ip3);
        if let Some(n) = nomvar {
            query = query.nomvar(n);
        }
        if let Some(t) = typvar {
            query = query.typvar(t);
        }
        if let Some(e) = etiket {
            query = query.etiket(e);
        }
        if datev != -1 {
            let stamp = i32::try_from(datev)
                .map_err(|_out_of_range| errors::usage(format!("datev {datev} is not a stamp")))?;
            query = query.datev(stamp);
        }
        if let Some(g) = grtyp {
            match g.as_bytes() {
                [] => {}
                [b] => query = query.grtyp(*b),
                _ => return Err(errors::usage(format!("grtyp {g:?}: one character"))),
            }
        }
        let level = match level {
            Some((value, kind)) => Some((value as f32, level_kind(kind)?)),
            None => None,
        };
        let indices: Vec<usize> = py.detach(|| {
            let mut out = Vec::new();
            for (i, rec) in file.records().iter().enumerate() {
                if query.matches(rec) && level.is_none_or(|l| level_matches(rec.ip1, l)) {
                    out.push(i);
                    if first {
                        break;
                    }
                }
            }
            out
        });
        Ok(indices
            .into_iter()
            .map(|i| Record {
                file: Arc::clone(&file),
                meta: file.records()[i].clone(),
            })
            .collect())
    }

    /// Decode the record at `index` (see `Record.read`).
    #[pyo3(signature = (index, missing="nan"))]
    fn read(&self, py: Python<'_>, index: i64, missing: &str) -> PyResult<Py<PyAny>> {
        let rec = record_of(&self.get()?, index)?;
        rec.read(py, missing)
    }

    /// The geometry of the record at `index`'s grid.
    fn grid(&self, py: Python<'_>, index: i64) -> PyResult<Grid> {
        let rec = record_of(&self.get()?, index)?;
        Grid::of_record(py, &rec.file, &rec.meta, rec.context())
    }

    /// fst-core's catalog: the records grouped into fields (same nomvar, typvar, etiket and
    /// grid; grid descriptor records left out), each a dict of its keys and, per record in
    /// (valid time, level) order, numpy arrays `record`, `datev`, `dateo`,
    /// `forecast_seconds`, `ip1`, `level`, `level_kind` (-1: ip1 does not decode), `nk`,
    /// `datyp` and `nbits`; and `deet`, the field's time step (see [`field_time_step`]), and
    /// `ip3`, the one all its records have (-1 when they differ).
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let file = self.get()?;
        let catalog = py.detach(|| Catalog::build(file.records()));
        let mut out = Vec::new();
        for field in catalog.fields() {
            let d = PyDict::new(py);
            d.set_item("nomvar", field.key.nomvar.trimmed())?;
            d.set_item("typvar", field.key.typvar.trimmed())?;
            d.set_item("etiket", field.key.etiket.trimmed())?;
            let first = field.slices.first().map(|s| s.record);
            let grid = first.and_then(|r| file.record(r)).map(grid_id);
            d.set_item("grid_id", grid)?;
            let s = &field.slices;
            let col = |f: &dyn Fn(&FieldSlice) -> i64| s.iter().map(f).collect::<Vec<i64>>();
            d.set_item("record", col(&|x| x.record.0.into()).into_pyarray(py))?;
            d.set_item("datev", col(&|x| x.datev.into()).into_pyarray(py))?;
            d.set_item("dateo", col(&|x| x.dateo.into()).into_pyarray(py))?;
            d.set_item(
                "forecast_seconds",
                col(&|x| x.forecast_seconds as i64).into_pyarray(py),
            )?;
            d.set_item("ip1", col(&|x| x.ip1.into()).into_pyarray(py))?;
            d.set_item(
                "level",
                s.iter()
                    .map(|x| x.level.map_or(f64::NAN, |l| f64::from(l.value)))
                    .collect::<Vec<f64>>()
                    .into_pyarray(py),
            )?;
            d.set_item(
                "level_kind",
                col(&|x| x.level.map_or(-1, |l| l.kind.code().into())).into_pyarray(py),
            )?;
            d.set_item("nk", col(&|x| x.nk.into()).into_pyarray(py))?;
            // How each record is stored: the backend's dtype, without a Record per record.
            let meta = |x: &FieldSlice| file.record(x.record);
            d.set_item(
                "datyp",
                col(&|x| meta(x).map_or(-1, |r| r.datyp.0.into())).into_pyarray(py),
            )?;
            d.set_item(
                "nbits",
                col(&|x| meta(x).map_or(-1, |r| r.nbits.into())).into_pyarray(py),
            )?;
            d.set_item("deet", field_time_step(s.iter().filter_map(meta)))?;
            // ip3 when every record has the same (an accumulation period, a member number),
            // -1 when they differ: from_xarray writes it back.
            d.set_item(
                "ip3",
                shared(s.iter().filter_map(meta).map(|r| r.ip3)).map_or(-1, i64::from),
            )?;
            out.push(d);
        }
        Ok(out)
    }

    /// One entry per record, as columns: raw keys and decoded values (text columns as
    /// `(codes, values)`: int32 codes into a list of distinct strings; times as int64
    /// microseconds since 1970, `i64::MIN` for no date, numpy's `NaT`). Built with the GIL
    /// released.
    fn columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let file = self.get()?;
        let cols = py.detach(|| Columns::build(file.records()));
        let d = cols.into_dict(py)?;
        let n = file.records().len();
        let name = (vec![0u32; n].into_pyarray(py), vec![self.name.clone()]);
        d.set_item("file", name)?;
        Ok(d)
    }
}

/// The date a stamp denotes, when Python's `datetime` can hold it (years 1..9999; extended
/// stamps reach year 0).
fn python_time(stamp: i32) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::Datelike;
    DateStamp(stamp).to_datetime().filter(|d| d.year() >= 1)
}

pub(crate) fn forecast_hours(deet: u32, npas: u32) -> f64 {
    (u64::from(deet) * u64::from(npas)) as f64 / 3600.0
}

/// The value every item has; None when they differ or there are none.
fn shared<T: PartialEq + Copy>(mut values: impl Iterator<Item = T>) -> Option<T> {
    let first = values.next()?;
    values.all(|v| v == first).then_some(first)
}

/// A field's time step: the deet of its records that are past their origin (npas > 0)
/// when they share one, else (no record past its origin) the deet all its records share;
/// 0 when they differ. `from_xarray` writes lead times as multiples of it, so that a model's
/// step (GEM's 300 s, npas 36 at +3 h) comes back as it was, not as hours.
fn field_time_step<'a>(records: impl Iterator<Item = &'a RecordMeta> + Clone) -> u32 {
    let any_stepped = records.clone().any(|r| r.npas > 0);
    shared(
        records
            .filter(|r| r.npas > 0 || !any_stepped)
            .map(|r| r.deet),
    )
    .unwrap_or(0)
}

/// The grid a record lies on, as the fixture manifests name it: `grtyp:ni:nj:ig1:ig2:ig3:ig4`.
pub(crate) fn grid_id(m: &RecordMeta) -> String {
    format!(
        "{}:{}:{}:{}:{}:{}:{}",
        m.grtyp_char(),
        m.ni,
        m.nj,
        m.ig1,
        m.ig2,
        m.ig3,
        m.ig4
    )
}

/// A decoded level: value, kind (librmn's number) and unit (librmn's text). Compares equal
/// to `(value, kind)` and `(value, kind, unit)` tuples and unpacks like one.
#[pyclass(frozen, module = "fstgis._fstgis")]
#[derive(Clone, Copy)]
pub(crate) struct Level {
    value: f32,
    kind: LevelKind,
}

impl Level {
    pub(crate) fn new(value: f32, kind: LevelKind) -> Self {
        Level { value, kind }
    }

    fn tuple<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        (f64::from(self.value), self.kind.code(), self.kind.unit()).into_pyobject(py)
    }
}

#[pymethods]
impl Level {
    /// The value, in the kind's unit (librmn's float32, widened exactly).
    #[getter]
    fn value(&self) -> f64 {
        f64::from(self.value)
    }

    /// librmn's kind number: 0 m, 1 sigma, 2 hPa, 3 arbitrary, 4 m above ground, 5 hybrid,
    /// 6 theta, 7 depth, 10 hours, 15 integer, 17 matrix index, 21 pressure-metres.
    #[getter]
    fn kind(&self) -> u8 {
        self.kind.code()
    }

    /// librmn's unit text (`m sg mb "" M hy th m- H _0 [] mp`).
    #[getter]
    fn unit(&self) -> &'static str {
        self.kind.unit()
    }

    fn __len__(&self) -> usize {
        3
    }

    fn __getitem__<'py>(&self, py: Python<'py>, i: isize) -> PyResult<Bound<'py, PyAny>> {
        self.tuple(py)?.as_any().get_item(i)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.tuple(py)?.as_any().try_iter()?.into_any())
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        if let Ok(o) = other.cast::<Level>() {
            let o = o.get();
            return o.value.to_bits() == self.value.to_bits() && o.kind == self.kind;
        }
        if let Ok((v, k)) = other.extract::<(f64, i64)>() {
            return v == f64::from(self.value) && k == i64::from(self.kind.code());
        }
        if let Ok((v, k, u)) = other.extract::<(f64, i64, String)>() {
            return v == f64::from(self.value)
                && k == i64::from(self.kind.code())
                && u == self.kind.unit();
        }
        false
    }

    /// The hash of `(value, kind)`, so that a Level and the tuple it equals hash alike.
    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        (f64::from(self.value), self.kind.code())
            .into_pyobject(py)?
            .as_any()
            .hash()
    }

    fn __repr__(&self) -> String {
        format!(
            "Level(value={}, kind={}, unit={:?})",
            self.value,
            self.kind.code(),
            self.kind.unit()
        )
    }

    fn __str__(&self) -> String {
        fst_core::ip::Level {
            value: self.value,
            kind: self.kind,
        }
        .to_string()
    }
}

/// One record: its keys (from the directory), decoded level and times, grid and values.
/// Values are read on demand (`.data`, `.read()`), with the GIL released.
#[pyclass(frozen, module = "fstgis._fstgis")]
pub(crate) struct Record {
    pub(crate) file: Arc<FstFile>,
    pub(crate) meta: RecordMeta,
}

fn fortran_array<'py, T: Element>(
    py: Python<'py>,
    values: Vec<T>,
    dims: &[usize],
) -> PyResult<Bound<'py, PyAny>> {
    // The Rust buffer becomes the array's memory (no copy); a reshape of a contiguous
    // vector to Fortran order is a view.
    let flat = PyArray1::from_vec(py, values);
    Ok(flat
        .reshape_with_order(dims.to_vec(), NPY_ORDER::NPY_FORTRANORDER)?
        .into_any())
}

fn complex<T: Copy, C>(pairs: &[T], make: impl Fn(T, T) -> C) -> Vec<C> {
    pairs.chunks_exact(2).map(|p| make(p[0], p[1])).collect()
}

fn blank_missing<T: Copy>(values: &mut [T], mask: &[bool], nan: T) {
    for (v, &m) in values.iter_mut().zip(mask) {
        if m {
            *v = nan;
        }
    }
}

/// A decoded field as numpy: shape (ni, nj) or (ni, nj, nk), Fortran order, like rpnpy's
/// `fstluk`. Datyp 0 records (raw words) of a width other than 8, 16, 32 or 64 bits come back
/// flat, as words.
fn field_to_numpy(py: Python<'_>, field: Field, missing: Missing) -> PyResult<Py<PyAny>> {
    let mut dims = vec![field.ni as usize, field.nj as usize];
    if field.nk > 1 {
        dims.push(field.nk as usize);
    }
    let mask = if missing == Missing::Raw {
        None
    } else {
        field.missing
    };
    let mut mask_needed = mask.is_some() && missing == Missing::Mask;
    let array = match field.samples {
        Samples::F32(mut v) => {
            if let (Some(m), Missing::Auto) = (&mask, missing) {
                blank_missing(&mut v, m, f32::NAN);
            }
            fortran_array(py, v, &dims)?
        }
        Samples::F64(mut v) => {
            if let (Some(m), Missing::Auto) = (&mask, missing) {
                blank_missing(&mut v, m, f64::NAN);
            }
            fortran_array(py, v, &dims)?
        }
        other => {
            mask_needed = mask.is_some();
            match other {
                Samples::U32(v) => fortran_array(py, v, &dims)?,
                Samples::I32(v) => fortran_array(py, v, &dims)?,
                Samples::U64(v) => fortran_array(py, v, &dims)?,
                Samples::I64(v) => fortran_array(py, v, &dims)?,
                Samples::U8(v) => fortran_array(py, v, &dims)?,
                Samples::C64(v) => fortran_array(py, complex(&v, Complex32::new), &dims)?,
                Samples::C128(v) => fortran_array(py, complex(&v, Complex64::new), &dims)?,
                Samples::Raw32(v) => {
                    mask_needed = false;
                    // Raw words: shaped like the record when there is one word per point
                    // (nbits 32, as rpnpy shows them), else flat.
                    if v.len() == dims.iter().product::<usize>() {
                        fortran_array(py, v, &dims)?
                    } else {
                        PyArray1::from_vec(py, v).into_any()
                    }
                }
                _ => return Err(errors::usage("this record's element type is not supported")),
            }
        }
    };
    match mask {
        Some(m) if mask_needed => {
            let mask = fortran_array(py, m, &dims)?;
            let ma = py.import("numpy.ma")?;
            Ok(ma.call_method1("masked_array", (array, mask))?.unbind())
        }
        _ => Ok(array.unbind()),
    }
}

impl Record {
    pub(crate) fn context(&self) -> Context {
        Context {
            path: self.file.path().map(|p| p.display().to_string()),
            record: Some(self.meta.index.0),
            offset: Some(self.meta.record_offset.0),
        }
    }
}

#[pymethods]
impl Record {
    #[getter]
    fn nomvar(&self) -> &str {
        self.meta.nomvar.trimmed()
    }
    #[getter]
    fn typvar(&self) -> &str {
        self.meta.typvar.trimmed()
    }
    #[getter]
    fn etiket(&self) -> &str {
        self.meta.etiket.trimmed()
    }
    #[getter]
    fn grtyp(&self) -> String {
        self.meta.grtyp_char().to_string()
    }
    #[getter]
    fn ni(&self) -> u32 {
        self.meta.ni
    }
    #[getter]
    fn nj(&self) -> u32 {
        self.meta.nj
    }
    #[getter]
    fn nk(&self) -> u32 {
        self.meta.nk
    }
    /// The shape `.data` has: (ni, nj), or (ni, nj, nk) when nk > 1.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        if self.meta.nk > 1 {
            (self.meta.ni, self.meta.nj, self.meta.nk).into_pyobject(py)
        } else {
            (self.meta.ni, self.meta.nj).into_pyobject(py)
        }
    }
    /// Origin date stamp, `datev − deet·npas` with librmn's arithmetic (as `fstprm`).
    #[getter]
    fn dateo(&self) -> i32 {
        self.meta.dateo()
    }
    /// Valid date stamp, as stored.
    #[getter]
    fn datev(&self) -> i32 {
        self.meta.datev
    }
    #[getter]
    fn deet(&self) -> u32 {
        self.meta.deet
    }
    #[getter]
    fn npas(&self) -> u32 {
        self.meta.npas
    }
    #[getter]
    fn ip1(&self) -> u32 {
        self.meta.ip1
    }
    #[getter]
    fn ip2(&self) -> u32 {
        self.meta.ip2
    }
    #[getter]
    fn ip3(&self) -> u32 {
        self.meta.ip3
    }
    #[getter]
    fn ig1(&self) -> u32 {
        self.meta.ig1
    }
    #[getter]
    fn ig2(&self) -> u32 {
        self.meta.ig2
    }
    #[getter]
    fn ig3(&self) -> u32 {
        self.meta.ig3
    }
    #[getter]
    fn ig4(&self) -> u32 {
        self.meta.ig4
    }
    /// Data type, flags included (+64: missing values, +128: turbo compression).
    #[getter]
    fn datyp(&self) -> u8 {
        self.meta.datyp.0
    }
    #[getter]
    fn nbits(&self) -> u8 {
        self.meta.nbits
    }
    #[getter]
    fn dasiz(&self) -> u8 {
        self.meta.dasiz
    }
    /// Position among the file's live records (the index for `File.record`).
    #[getter]
    fn key(&self) -> u32 {
        self.meta.index.0
    }
    /// Position among all directory entries, deleted ones included.
    #[getter]
    fn file_index(&self) -> u32 {
        self.meta.file_index
    }
    /// Byte offset of the record in its file.
    #[getter]
    fn offset(&self) -> u64 {
        self.meta.record_offset.0
    }
    /// The record's size on disk, in bytes.
    #[getter]
    fn nbytes(&self) -> u64 {
        self.meta.record_len
    }
    #[getter]
    fn container(&self) -> &'static str {
        self.meta.container.name()
    }
    /// The file's path, or None for in-memory input.
    #[getter]
    fn path(&self) -> Option<String> {
        self.file.path().map(|p| p.display().to_string())
    }
    /// The RSF extended metadata (JSON text), if any.
    #[getter]
    fn metadata_json(&self) -> Option<String> {
        self.meta.extended_metadata.as_deref().map(str::to_owned)
    }
    /// ip1 decoded (librmn `convip`): a `Level`, or None when ip1 is not a valid ip (grid
    /// descriptor records use ip1 as a tag).
    #[getter]
    fn level(&self) -> Option<Level> {
        decode_ip(self.meta.ip1)
            .ok()
            .map(|d| Level::new(d.value, d.kind))
    }
    /// The valid time, UTC, or None when the stamp is not a date (0).
    #[getter]
    fn valid_time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        python_time(self.meta.datev)
    }
    /// The origin (analysis) time, UTC: valid time − deet·npas.
    #[getter]
    fn origin_time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        python_time(self.meta.dateo())
    }
    /// deet·npas in hours.
    #[getter]
    fn forecast_hour(&self) -> f64 {
        forecast_hours(self.meta.deet, self.meta.npas)
    }
    /// `grtyp:ni:nj:ig1:ig2:ig3:ig4`, the same for every record on the same grid.
    #[getter]
    fn grid_id(&self) -> String {
        grid_id(&self.meta)
    }

    /// The values: see `read()`; missing values (datyp +64) are NaN in float arrays and
    /// masked in the others.
    #[getter]
    fn data(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.read(py, "nan")
    }

    /// Decode the values into a numpy array shaped (ni, nj) or (ni, nj, nk), Fortran order
    /// (as rpnpy's `fstluk`), the decoder's buffer handed over without a copy. `missing`:
    /// "nan" (NaN for floats, a masked array otherwise), "mask" (always a masked array when
    /// the record has missing values) or "raw" (the stored plug values).
    #[pyo3(signature = (missing="nan"))]
    fn read(&self, py: Python<'_>, missing: &str) -> PyResult<Py<PyAny>> {
        let mode = Missing::parse(missing)?;
        let mut field = py
            .detach(|| self.file.decode(&self.meta))
            .map_err(|e| errors::decode_error(&e))?;
        // Datyp 0 of 8, 16 or 64 bits: the elements the caller wrote, not the words.
        let points = usize::try_from(self.meta.point_count()).unwrap_or(usize::MAX);
        field.samples = field
            .samples
            .raw_as_elements(u32::from(self.meta.nbits), points);
        field_to_numpy(py, field, mode)
    }

    /// Decode the values straight into `out`, a writable C- or Fortran-contiguous numpy
    /// array of the record's element type and ni·nj·nk elements (for a C-ordered
    /// (nk, nj, ni) array, i fastest as on disk). No intermediate buffer; the GIL is
    /// released. Returns False, leaving `out` untouched, when the record cannot be decoded
    /// that way (missing values, whose mask needs `read`; another element type).
    fn read_into(&self, py: Python<'_>, out: &Bound<'_, PyAny>) -> PyResult<bool> {
        if self.meta.datyp.has_missing() {
            return Ok(false);
        }
        let (kind, count) = self
            .file
            .sample_layout(&self.meta)
            .map_err(|e| errors::decode_error(&e))?;
        macro_rules! into {
            ($t:ty, $variant:ident) => {{
                let Ok(mut array) = out.extract::<numpy::PyReadwriteArrayDyn<'_, $t>>() else {
                    return Ok(false);
                };
                let Ok(slice) = array.as_slice_mut() else {
                    return Ok(false);
                };
                if slice.len() as u64 != count {
                    return Ok(false);
                }
                py.detach(|| {
                    self.file
                        .decode_into(&self.meta, fst_core::codec::SamplesMut::$variant(slice))
                })
                .map_err(|e| errors::decode_error(&e))?;
                Ok(true)
            }};
        }
        match kind {
            SampleType::F32 => into!(f32, F32),
            SampleType::F64 => into!(f64, F64),
            SampleType::I32 => into!(i32, I32),
            SampleType::U32 => into!(u32, U32),
            _ => Ok(false),
        }
    }

    /// The geometry of the record's grid (positional records resolved like librmn).
    #[getter]
    fn grid(&self, py: Python<'_>) -> PyResult<Grid> {
        Grid::of_record(py, &self.file, &self.meta, self.context())
    }

    /// The keys as a dict, with rpnpy `fstprm`'s names (strings trimmed).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("key", self.meta.index.0)?;
        d.set_item("nomvar", self.nomvar())?;
        d.set_item("typvar", self.typvar())?;
        d.set_item("etiket", self.etiket())?;
        d.set_item("grtyp", self.grtyp())?;
        for (k, v) in INT_KEYS.iter().zip(int_keys(&self.meta, self.meta.dateo())) {
            d.set_item(*k, v)?;
        }
        d.set_item("dasiz", self.meta.dasiz)?;
        d.set_item("offset", self.meta.record_offset.0)?;
        d.set_item("nbytes", self.meta.record_len)?;
        Ok(d)
    }

    /// `rec["nomvar"]`, like rpnpy's parameter dicts.
    fn __getitem__<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        let d = self.to_dict(py)?;
        match d.get_item(key)? {
            Some(v) => Ok(v),
            None => Err(PyKeyError::new_err(key.to_owned())),
        }
    }

    fn __repr__(&self) -> String {
        let level = decode_ip(self.meta.ip1).map_or_else(
            |_| format!("ip1={}", self.meta.ip1),
            |d| d.level().to_string(),
        );
        format!(
            "<Record {} {:?} {:?} {:?} {}x{}x{} {} valid={} grid={}>",
            self.meta.index.0,
            self.meta.nomvar.trimmed(),
            self.meta.typvar.trimmed(),
            self.meta.etiket.trimmed(),
            self.meta.ni,
            self.meta.nj,
            self.meta.nk,
            level,
            DateStamp(self.meta.datev),
            self.meta.grtyp_char(),
        )
    }

    /// Records compare equal when they are the same record of the same file.
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Record>().is_ok_and(|o| {
            let o = o.get();
            Arc::ptr_eq(&o.file, &self.file) && o.meta.index == self.meta.index
        })
    }

    fn __hash__(&self) -> u64 {
        (Arc::as_ptr(&self.file) as usize as u64) ^ u64::from(self.meta.index.0)
    }
}

/// Used by `helpers`: a Python object for a Level.
pub(crate) fn level_object(py: Python<'_>, value: f32, kind: LevelKind) -> PyResult<Py<PyAny>> {
    Level::new(value, kind).into_py_any(py)
}
