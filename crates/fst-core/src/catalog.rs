//! Grouping records into **fields**: the records that share a variable (nomvar, typvar,
//! etiket) and a grid (grtyp, ni, nj, ig1..ig4). Inside a field each record is one slice
//! of a hypercube whose axes are the valid time, the level and k (for nk > 1).
//!
//! The GDAL driver (subdatasets and bands) and the tile server (layers and dimensions) are
//! both built on this one grouping, so that the two never disagree about what a field is.
//! Grid descriptor records (`>>`, `^^`, `^>`, `!!`, `##`, `HY`, `PROJ`, `MTRX`) describe
//! grids, not fields, and are left out.

use std::cmp::Ordering;
use std::collections::HashMap;

use crate::date::DateStamp;
use crate::ip::{decode_ip, Level, LevelKind};
use crate::names::{Etiket, Nomvar, Typvar};
use crate::record::{RecordIndex, RecordMeta};

/// The grid a record lies on, as its directory entry names it. Two records with the same
/// key share a grid (their positional records, if any, are found through ig1..ig3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GridKey {
    /// Grid type.
    pub grtyp: u8,
    /// Points along i.
    pub ni: u32,
    /// Points along j.
    pub nj: u32,
    /// Grid descriptors.
    pub ig: [u32; 4],
}

impl GridKey {
    /// The grid key of a record.
    #[must_use]
    pub fn of(rec: &RecordMeta) -> Self {
        Self {
            grtyp: rec.grtyp,
            ni: rec.ni,
            nj: rec.nj,
            ig: [rec.ig1, rec.ig2, rec.ig3, rec.ig4],
        }
    }
}

impl std::fmt::Display for GridKey {
    /// `grtyp-ni-nj-ig1-ig2-ig3-ig4`: no blanks, no quotes, usable in names and URLs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c, d] = self.ig;
        write!(
            f,
            "{}-{}x{}-{a}-{b}-{c}-{d}",
            char::from(self.grtyp),
            self.ni,
            self.nj
        )
    }
}

/// What makes records one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldKey {
    /// Variable name.
    pub nomvar: Nomvar,
    /// Field type.
    pub typvar: Typvar,
    /// Label.
    pub etiket: Etiket,
    /// Grid.
    pub grid: GridKey,
}

/// One record's place in its field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldSlice {
    /// The record.
    pub record: RecordIndex,
    /// Valid date stamp.
    pub datev: i32,
    /// Origin (analysis) date stamp.
    pub dateo: i32,
    /// Forecast length in seconds (`deet·npas`).
    pub forecast_seconds: u64,
    /// Encoded level.
    pub ip1: u32,
    /// Decoded level, when ip1 decodes.
    pub level: Option<Level>,
    /// Number of k slices in the record (bands contributed).
    pub nk: u32,
}

/// A field: its key and its records, ordered by valid time, then level, then file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// What the records share.
    pub key: FieldKey,
    /// The records, in band order.
    pub slices: Vec<FieldSlice>,
}

impl Field {
    /// The distinct valid times, in order.
    #[must_use]
    pub fn valid_times(&self) -> Vec<i32> {
        let mut v: Vec<i32> = self.slices.iter().map(|s| s.datev).collect();
        v.sort_by_key(|&s| time_key(s));
        v.dedup();
        v
    }

    /// The distinct origin (run) times, in order.
    #[must_use]
    pub fn origin_times(&self) -> Vec<i32> {
        let mut v: Vec<i32> = self.slices.iter().map(|s| s.dateo).collect();
        v.sort_by_key(|&s| time_key(s));
        v.dedup();
        v
    }

    /// The distinct levels (ip1 and its decoding), in order.
    #[must_use]
    pub fn levels(&self) -> Vec<(u32, Option<Level>)> {
        let mut v: Vec<(u32, Option<Level>)> =
            self.slices.iter().map(|s| (s.ip1, s.level)).collect();
        v.sort_by(level_order);
        v.dedup_by_key(|x| x.0);
        v
    }

    /// Total number of 2-D slices (bands): the sum of nk over the records.
    #[must_use]
    pub fn band_count(&self) -> u64 {
        self.slices.iter().map(|s| u64::from(s.nk)).sum()
    }
}

/// Sort key for date stamps: seconds since the epoch where the stamp converts, else the raw
/// stamp after every valid date.
fn time_key(stamp: i32) -> (bool, i64) {
    match DateStamp(stamp).to_datetime() {
        Some(t) => (false, t.timestamp()),
        None => (true, i64::from(stamp)),
    }
}

/// `f`, remembering its last argument and result: for functions called on runs of equal
/// arguments.
fn last_value_cache<A: Copy + PartialEq, R: Copy>(f: impl Fn(A) -> R) -> impl FnMut(A) -> R {
    let mut last: Option<(A, R)> = None;
    move |a| match last {
        Some((x, r)) if x == a => r,
        _ => {
            let r = f(a);
            last = Some((a, r));
            r
        }
    }
}

/// A sort key ordering levels as [`level_order`] does.
fn level_key(ip1: u32, level: Option<Level>) -> (bool, Option<LevelKind>, i32, u32) {
    match level {
        Some(l) => (false, Some(l.kind), total_order_bits(l.value), 0),
        None => (true, None, 0, ip1),
    }
}

/// An integer that orders like `f32::total_cmp` orders the value.
fn total_order_bits(v: f32) -> i32 {
    let bits = v.to_bits() as i32;
    // Negative values: flip the magnitude bits so that larger magnitudes sort lower.
    bits ^ ((((bits >> 31) as u32) >> 1) as i32)
}

fn level_order(a: &(u32, Option<Level>), b: &(u32, Option<Level>)) -> Ordering {
    match (a.1, b.1) {
        (Some(x), Some(y)) => x.kind.cmp(&y.kind).then(x.value.total_cmp(&y.value)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.0.cmp(&b.0),
    }
}

/// True for the records that describe grids rather than hold data.
#[must_use]
pub fn is_grid_descriptor(rec: &RecordMeta) -> bool {
    matches!(
        rec.nomvar.trimmed(),
        ">>" | "^^" | "^>" | "!!" | "##" | "HY" | "PROJ" | "MTRX" | "#>>#" | "#^^#" | "####"
    )
}

/// Up to this many fields, a record's field is found by comparing keys rather than hashing.
const SCANNED_FIELDS: usize = 16;

/// The fields of a set of records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    fields: Vec<Field>,
}

impl Catalog {
    /// Group `records` into fields. Fields come in the order of their first record.
    #[must_use]
    pub fn build(records: &[RecordMeta]) -> Self {
        let mut index: HashMap<FieldKey, usize> = HashMap::new();
        let mut fields: Vec<Field> = Vec::new();
        let mut last: Option<(FieldKey, usize)> = None;
        // Date arithmetic per record was a fifth of the catalog's time; consecutive
        // records mostly share their valid time and lead.
        let mut origin = last_value_cache(|(datev, seconds): (i32, u64)| {
            crate::date::dateo_from_datev(datev, seconds)
        });
        for rec in records.iter().filter(|r| !is_grid_descriptor(r)) {
            let key = FieldKey {
                nomvar: rec.nomvar,
                typvar: rec.typvar,
                etiket: rec.etiket,
                grid: GridKey::of(rec),
            };
            // Hashing the key was a third of the catalog's time. Files hold runs of records
            // of one field (a variable's levels one after the other), or cycle through a
            // few variables: the previous record's field is checked first, then a short
            // list of fields is scanned; the hash map serves files of many fields.
            let found = match last {
                Some((k, slot)) if k == key => Some(slot),
                _ if fields.len() <= SCANNED_FIELDS => fields.iter().position(|f| f.key == key),
                _ => index.get(&key).copied(),
            };
            let slot = found.unwrap_or_else(|| {
                fields.push(Field {
                    key,
                    slices: Vec::new(),
                });
                index.insert(key, fields.len() - 1);
                fields.len() - 1
            });
            last = Some((key, slot));
            let forecast_seconds = u64::from(rec.deet) * u64::from(rec.npas);
            if let Some(field) = fields.get_mut(slot) {
                field.slices.push(FieldSlice {
                    record: rec.index,
                    datev: rec.datev,
                    dateo: origin((rec.datev, forecast_seconds)),
                    forecast_seconds,
                    ip1: rec.ip1,
                    level: decode_ip(rec.ip1).ok().as_ref().map(crate::ip::Ip::level),
                    nk: rec.nk,
                });
            }
        }
        for field in &mut fields {
            // Stable sort: equal (time, level) keep file order. The keys are computed once
            // per slice (a date conversion each): comparing by `time_key` converted each
            // date at every comparison.
            let mut time = last_value_cache(time_key);
            field
                .slices
                .sort_by_cached_key(|s| (time(s.datev), level_key(s.ip1, s.level)));
        }
        Self { fields }
    }

    /// The fields.
    #[must_use]
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FstFile;

    fn fixture(name: &str) -> FstFile {
        FstFile::open(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(name),
        )
        .unwrap()
    }

    #[test]
    fn groups_by_variable_and_grid_and_skips_descriptors() {
        let file = fixture("rsf/rsf_basic.fst");
        let cat = Catalog::build(file.records());
        let names: Vec<String> = cat
            .fields()
            .iter()
            .map(|f| f.key.nomvar.trimmed().to_string())
            .collect();
        assert!(!names.iter().any(|n| n == ">>" || n == "^^"), "{names:?}");
        let total: usize = cat.fields().iter().map(|f| f.slices.len()).sum();
        assert_eq!(
            total,
            file.records()
                .iter()
                .filter(|r| !is_grid_descriptor(r))
                .count()
        );
        for f in cat.fields() {
            for s in &f.slices {
                let r = file.record(s.record).unwrap();
                assert_eq!(
                    (r.nomvar, r.typvar, r.etiket, GridKey::of(r)),
                    (f.key.nomvar, f.key.typvar, f.key.etiket, f.key.grid)
                );
            }
        }
    }

    #[test]
    fn slices_are_ordered_by_time_then_level() {
        let file = fixture("xdf/append.fst");
        let cat = Catalog::build(file.records());
        assert!(!cat.fields().is_empty());
        for f in cat.fields() {
            for w in f.slices.windows(2) {
                let (a, b) = (&w[0], &w[1]);
                let ta = time_key(a.datev);
                let tb = time_key(b.datev);
                assert!(
                    ta < tb
                        || (ta == tb
                            && level_order(&(a.ip1, a.level), &(b.ip1, b.level))
                                != Ordering::Greater)
                );
            }
            assert_eq!(
                f.band_count(),
                f.slices.iter().map(|s| u64::from(s.nk)).sum::<u64>()
            );
            assert!(!f.valid_times().is_empty() && !f.levels().is_empty());
        }
    }

    #[test]
    fn grid_key_text_is_url_safe() {
        let k = GridKey {
            grtyp: b'Z',
            ni: 48,
            nj: 36,
            ig: [1234, 5678, 0, 0],
        };
        assert_eq!(k.to_string(), "Z-48x36-1234-5678-0-0");
    }

    proptest::proptest! {
        /// The cached sort key orders levels exactly as the comparison does, zeros, NaNs and
        /// infinities included.
        #[test]
        fn level_key_orders_like_level_order(
            a in (proptest::num::f32::ANY, 0u32..4, proptest::bool::ANY, 0u32..1000),
            b in (proptest::num::f32::ANY, 0u32..4, proptest::bool::ANY, 0u32..1000),
        ) {
            let kinds = [LevelKind::Pressure, LevelKind::Sigma, LevelKind::Height, LevelKind::Hybrid];
            let level = |(v, k, some, ip1): (f32, u32, bool, u32)| {
                (ip1, some.then(|| Level { value: v, kind: kinds[k as usize] }))
            };
            let (x, y) = (level(a), level(b));
            proptest::prop_assert_eq!(
                level_key(x.0, x.1).cmp(&level_key(y.0, y.1)),
                level_order(&x, &y)
            );
        }
    }
}
