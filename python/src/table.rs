//! The record table behind `File.columns()`, `to_polars()` and `to_pandas()`: one
//! contiguous buffer per column, built from the directory with the GIL released and handed
//! to numpy without a copy. No Python object is made per record: text columns are
//! dictionary-encoded (codes into a short list of distinct strings), times are int64
//! microseconds.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use fst_core::date::DateStamp;
use fst_core::ip::{decode_ip, LevelKind};
use fst_core::names::{Etiket, Nomvar, Typvar};
use fst_core::record::RecordMeta;
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use rustc_hash::FxHasher;

use crate::file::{forecast_hours, grid_id};

/// The keys are a few bytes of trusted, in-process data (never input chosen to collide), so
/// a fast non-keyed hash is enough; `SipHash` was a tenth of the table's cost.
type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A dictionary-encoded text column: one code per record into a list of distinct values.
/// A table of 100 000 records holds a few dozen names; building 100 000 Python strings per
/// column (and handing them to polars) would cost more than reading the directory.
struct TextColumn<K> {
    codes: Vec<u32>,
    values: Vec<String>,
    index: FastMap<K, u32>,
    /// The previous record's key and code: runs of equal keys skip the hash.
    last: Option<(K, u32)>,
}

impl<K: std::hash::Hash + Eq + Copy> TextColumn<K> {
    // `n` is the count of records already listed in memory (see `Columns::with_capacity`).
    #[allow(clippy::disallowed_methods)]
    fn with_capacity(n: usize) -> Self {
        TextColumn {
            codes: Vec::with_capacity(n),
            values: Vec::new(),
            index: FastMap::default(),
            last: None,
        }
    }

    fn push(&mut self, key: K, text: impl FnOnce() -> String) {
        if let Some((k, code)) = self.last {
            if k == key {
                self.codes.push(code);
                return;
            }
        }
        // A record table has at most u32::MAX rows (record indices are u32), so the number
        // of distinct values fits too.
        let next = self.values.len() as u32;
        let code = *self.index.entry(key).or_insert_with(|| {
            self.values.push(text());
            next
        });
        self.last = Some((key, code));
        self.codes.push(code);
    }

    fn into_py(self, py: Python<'_>) -> PyResult<Bound<'_, PyTuple>> {
        (self.codes.into_pyarray(py), self.values).into_pyobject(py)
    }
}

type GridKeyTuple = (u8, u32, u32, [u32; 4]);

/// A memoised conversion, with the last answer checked before the hash.
struct Memo<K, V> {
    map: FastMap<K, V>,
    last: Option<(K, V)>,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo {
            map: FastMap::default(),
            last: None,
        }
    }
}

impl<K: std::hash::Hash + Eq + Copy, V: Copy> Memo<K, V> {
    fn get(&mut self, key: K, compute: impl FnOnce() -> V) -> V {
        if let Some((k, v)) = self.last {
            if k == key {
                return v;
            }
        }
        let v = *self.map.entry(key).or_insert_with(compute);
        self.last = Some((key, v));
        v
    }
}

/// The raw integer keys, in the order of `Record.to_dict()`.
pub(crate) const INT_KEYS: [&str; 17] = [
    "ni",
    "nj",
    "nk",
    "dateo",
    "datev",
    "deet",
    "npas",
    "ip1",
    "ip2",
    "ip3",
    "ig1",
    "ig2",
    "ig3",
    "ig4",
    "datyp",
    "nbits",
    "file_index",
];

pub(crate) fn int_keys(m: &RecordMeta, dateo: i32) -> [i64; 17] {
    [
        m.ni.into(),
        m.nj.into(),
        m.nk.into(),
        dateo.into(),
        m.datev.into(),
        m.deet.into(),
        m.npas.into(),
        m.ip1.into(),
        m.ip2.into(),
        m.ip3.into(),
        m.ig1.into(),
        m.ig2.into(),
        m.ig3.into(),
        m.ig4.into(),
        m.datyp.0.into(),
        m.nbits.into(),
        m.file_index.into(),
    ]
}

/// ip2 or ip3 as `DecodeIp` reads it alone: an old-style value taken literally (ip2 in
/// hours, ip3 an arbitrary code), a new-style one decoded; (NaN, -1) when invalid.
fn decode_other_ip(ip: u32, old_kind: LevelKind) -> (f64, i8) {
    if ip <= 32_767 {
        return (f64::from(ip), kind_code(old_kind));
    }
    decode_ip(ip).map_or((f64::NAN, -1), |d| (f64::from(d.value), kind_code(d.kind)))
}

fn micros(stamp: i32) -> i64 {
    DateStamp(stamp)
        .to_datetime()
        .map_or(i64::MIN, |d| d.timestamp_micros())
}

/// Columns of the record table; see `File.columns`. Raw keys keep their stored width
/// (u32, i32 dates, u8 datyp/nbits) and kinds fit an i8: the table's cost is mostly first
/// touches of fresh memory, so a narrower column is a faster one.
pub(crate) struct Columns {
    key: Vec<u32>,
    nomvar: TextColumn<Nomvar>,
    typvar: TextColumn<Typvar>,
    etiket: TextColumn<Etiket>,
    grtyp: TextColumn<u8>,
    /// ni, nj, nk, deet, npas, ip1, ip2, ip3, ig1, ig2, ig3, ig4, `file_index`.
    words: [Vec<u32>; 13],
    dateo: Vec<i32>,
    datev: Vec<i32>,
    datyp: Vec<u8>,
    nbits: Vec<u8>,
    level: Vec<f64>,
    level_kind: Vec<i8>,
    level_unit: TextColumn<&'static str>,
    ip2_value: Vec<f64>,
    ip2_kind: Vec<i8>,
    ip3_value: Vec<f64>,
    ip3_kind: Vec<i8>,
    origin_time: Vec<i64>,
    valid_time: Vec<i64>,
    forecast_hour: Vec<f64>,
    grid_id: TextColumn<GridKeyTuple>,
    offset: Vec<u64>,
    nbytes: Vec<u64>,
}

/// The u32 keys in the order of `Columns::words`.
fn words(m: &RecordMeta) -> [u32; 13] {
    [
        m.ni,
        m.nj,
        m.nk,
        m.deet,
        m.npas,
        m.ip1,
        m.ip2,
        m.ip3,
        m.ig1,
        m.ig2,
        m.ig3,
        m.ig4,
        m.file_index,
    ]
}

/// A level kind's code (librmn's numbers are below 32), -1 for none.
fn kind_code(kind: LevelKind) -> i8 {
    i8::try_from(kind.code()).unwrap_or(-1)
}

impl Columns {
    /// Every column is sized once: growing 30 vectors by doubling cost more (copies and
    /// page faults) than filling them.
    // `n` is the count of records already listed in memory, not a size read from a file.
    #[allow(clippy::disallowed_methods)]
    fn with_capacity(n: usize) -> Self {
        Columns {
            key: Vec::with_capacity(n),
            nomvar: TextColumn::with_capacity(n),
            typvar: TextColumn::with_capacity(n),
            etiket: TextColumn::with_capacity(n),
            grtyp: TextColumn::with_capacity(n),
            words: std::array::from_fn(|_| Vec::with_capacity(n)),
            dateo: Vec::with_capacity(n),
            datev: Vec::with_capacity(n),
            datyp: Vec::with_capacity(n),
            nbits: Vec::with_capacity(n),
            level: Vec::with_capacity(n),
            level_kind: Vec::with_capacity(n),
            level_unit: TextColumn::with_capacity(n),
            ip2_value: Vec::with_capacity(n),
            ip2_kind: Vec::with_capacity(n),
            ip3_value: Vec::with_capacity(n),
            ip3_kind: Vec::with_capacity(n),
            origin_time: Vec::with_capacity(n),
            valid_time: Vec::with_capacity(n),
            forecast_hour: Vec::with_capacity(n),
            grid_id: TextColumn::with_capacity(n),
            offset: Vec::with_capacity(n),
            nbytes: Vec::with_capacity(n),
        }
    }

    pub(crate) fn build(records: &[RecordMeta]) -> Self {
        let mut c = Columns::with_capacity(records.len());
        // A file holds few distinct dates and levels: their conversions (librmn's date
        // arithmetic, calendar dates, ip decoding) are done once each.
        let mut dateo_of = Memo::default();
        let mut micros_of = Memo::default();
        let mut level_of = Memo::default();
        let mut ip2_of = Memo::default();
        let mut ip3_of = Memo::default();
        for m in records {
            let seconds = u64::from(m.deet) * u64::from(m.npas);
            let dateo = dateo_of.get((m.datev, seconds), || m.dateo());
            c.origin_time.push(micros_of.get(dateo, || micros(dateo)));
            c.valid_time
                .push(micros_of.get(m.datev, || micros(m.datev)));
            c.key.push(m.index.0);
            c.nomvar.push(m.nomvar, || m.nomvar.trimmed().to_string());
            c.typvar.push(m.typvar, || m.typvar.trimmed().to_string());
            c.etiket.push(m.etiket, || m.etiket.trimmed().to_string());
            c.grtyp.push(m.grtyp, || m.grtyp_char().to_string());
            for (col, v) in c.words.iter_mut().zip(words(m)) {
                col.push(v);
            }
            c.dateo.push(dateo);
            c.datev.push(m.datev);
            c.datyp.push(m.datyp.0);
            c.nbits.push(m.nbits);
            let (value, kind, unit) = level_of.get(m.ip1, || {
                decode_ip(m.ip1).map_or((f64::NAN, -1, ""), |d| {
                    (f64::from(d.value), kind_code(d.kind), d.kind.unit())
                })
            });
            c.level.push(value);
            c.level_kind.push(kind);
            c.level_unit.push(unit, || unit.to_string());
            let (v2, k2) = ip2_of.get(m.ip2, || decode_other_ip(m.ip2, LevelKind::Hours));
            c.ip2_value.push(v2);
            c.ip2_kind.push(k2);
            let (v3, k3) = ip3_of.get(m.ip3, || decode_other_ip(m.ip3, LevelKind::Arbitrary));
            c.ip3_value.push(v3);
            c.ip3_kind.push(k3);
            c.forecast_hour.push(forecast_hours(m.deet, m.npas));
            c.grid_id
                .push((m.grtyp, m.ni, m.nj, [m.ig1, m.ig2, m.ig3, m.ig4]), || {
                    grid_id(m)
                });
            c.offset.push(m.record_offset.0);
            c.nbytes.push(m.record_len);
        }
        c
    }

    /// The raw keys in the order of `Record.to_dict()`, then the decoded ones.
    pub(crate) fn into_dict(self, py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("key", self.key.into_pyarray(py))?;
        d.set_item("nomvar", self.nomvar.into_py(py)?)?;
        d.set_item("typvar", self.typvar.into_py(py)?)?;
        d.set_item("etiket", self.etiket.into_py(py)?)?;
        d.set_item("grtyp", self.grtyp.into_py(py)?)?;
        let [ni, nj, nk, deet, npas, ip1, ip2, ip3, ig1, ig2, ig3, ig4, file_index] = self.words;
        for (k, col) in [("ni", ni), ("nj", nj), ("nk", nk)] {
            d.set_item(k, col.into_pyarray(py))?;
        }
        d.set_item("dateo", self.dateo.into_pyarray(py))?;
        d.set_item("datev", self.datev.into_pyarray(py))?;
        let words = [
            ("deet", deet),
            ("npas", npas),
            ("ip1", ip1),
            ("ip2", ip2),
            ("ip3", ip3),
            ("ig1", ig1),
            ("ig2", ig2),
            ("ig3", ig3),
            ("ig4", ig4),
        ];
        for (k, col) in words {
            d.set_item(k, col.into_pyarray(py))?;
        }
        d.set_item("datyp", self.datyp.into_pyarray(py))?;
        d.set_item("nbits", self.nbits.into_pyarray(py))?;
        d.set_item("file_index", file_index.into_pyarray(py))?;
        d.set_item("level", self.level.into_pyarray(py))?;
        d.set_item("level_kind", self.level_kind.into_pyarray(py))?;
        d.set_item("level_unit", self.level_unit.into_py(py)?)?;
        d.set_item("ip2_value", self.ip2_value.into_pyarray(py))?;
        d.set_item("ip2_kind", self.ip2_kind.into_pyarray(py))?;
        d.set_item("ip3_value", self.ip3_value.into_pyarray(py))?;
        d.set_item("ip3_kind", self.ip3_kind.into_pyarray(py))?;
        d.set_item("origin_time", self.origin_time.into_pyarray(py))?;
        d.set_item("valid_time", self.valid_time.into_pyarray(py))?;
        d.set_item("forecast_hour", self.forecast_hour.into_pyarray(py))?;
        d.set_item("grid_id", self.grid_id.into_py(py)?)?;
        d.set_item("offset", self.offset.into_pyarray(py))?;
        d.set_item("nbytes", self.nbytes.into_pyarray(py))?;
        Ok(d)
    }
}
