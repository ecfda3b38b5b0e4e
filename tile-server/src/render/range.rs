//! Automatic colour ranges, as ncWMS's `COLORSCALERANGE=auto`: the robust extent of a whole
//! field (its 2nd and 98th percentiles, missing values ignored), so that every tile of a
//! field uses the same range and one outlier does not flatten the map.

use std::collections::HashMap;
use std::sync::Mutex;

use super::FieldValues;

/// Percentiles are taken over at most this many points, picked at a fixed stride: the
/// same field always gives the same range, and a 2-million-point field costs a fraction of
/// a tile's render.
const SAMPLE: usize = 1 << 16;

/// The extents of the fields rendered lately, by data identity (file version and record),
/// so that a field's percentiles are computed once and not for each of its tiles. Bounded:
/// emptied when it holds [`RangeCache::MAX`] entries.
#[derive(Debug, Default)]
pub struct RangeCache {
    map: Mutex<HashMap<String, Option<DataRange>>>,
}

impl RangeCache {
    /// Most entries kept (each a key and 40 bytes).
    pub const MAX: usize = 4096;

    /// The extent of the field `f` whose identity is `key`.
    pub fn get(&self, key: &str, f: &FieldValues) -> Option<DataRange> {
        let lock = || {
            self.map
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(r) = lock().get(key) {
            return *r;
        }
        let r = data_range(f);
        let mut m = lock();
        if m.len() >= Self::MAX {
            m.clear();
        }
        m.insert(key.to_string(), r);
        r
    }
}

/// The extent of a field's values, native unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DataRange {
    /// 2nd percentile.
    pub low: f64,
    /// 98th percentile.
    pub high: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl DataRange {
    /// The robust extent, or the full one where the robust extent is a single value (a
    /// field that is mostly one value, as precipitation is mostly zero).
    #[must_use]
    pub fn robust(&self) -> [f64; 2] {
        if self.high > self.low {
            [self.low, self.high]
        } else {
            [self.min, self.max]
        }
    }
}

/// The value at fraction `q` of `v` (which it reorders); `v` is not empty.
fn percentile(v: &mut [f32], q: f64) -> f64 {
    let k = ((v.len() - 1) as f64 * q).round() as usize;
    let (_, x, _) = v.select_nth_unstable_by(k.min(v.len() - 1), f32::total_cmp);
    f64::from(*x)
}

/// The extent of the finite values of `f`; `None` when it has none.
#[must_use]
pub fn data_range(f: &FieldValues) -> Option<DataRange> {
    let all = &f.values;
    let stride = all.len().div_ceil(SAMPLE).max(1);
    let mut v: Vec<f32> = all
        .iter()
        .step_by(stride)
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    if v.len() < SAMPLE / 64 && stride > 1 {
        // A mostly missing field: the stride may have missed its few values.
        v = all.iter().copied().filter(|x| x.is_finite()).collect();
    }
    if v.is_empty() {
        return None;
    }
    let (min, max) = v
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), x| {
            (a.min(*x), b.max(*x))
        });
    let low = percentile(&mut v, 0.02);
    let high = percentile(&mut v, 0.98);
    Some(DataRange {
        low,
        high,
        min: f64::from(min),
        max: f64::from(max),
    })
}

/// A colour range `[lo, hi]` with `lo < hi` around the (possibly equal) ends `a`, `b`: a
/// constant field gets a small range centred on its value.
#[must_use]
pub fn widen(a: f64, b: f64) -> [f64; 2] {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    if hi > lo {
        return [lo, hi];
    }
    let d = (lo.abs() * 1e-3).max(1e-9);
    [lo - d, hi + d]
}

/// Whether a style's range suits data whose robust extent (in the style's unit) is
/// `data`: at least half of the data's spread falls inside the range, and the data span at
/// least a tenth of it (else the map would be one or two colours).
#[must_use]
pub fn range_fits(style: [f64; 2], data: [f64; 2]) -> bool {
    let span = style[1] - style[0];
    if data[1] <= data[0] {
        return data[0] >= style[0] && data[0] <= style[1];
    }
    let overlap = (data[1].min(style[1]) - data[0].max(style[0])).max(0.0);
    overlap >= 0.5 * (data[1] - data[0]) && overlap >= 0.1 * span
}

/// Whether the intervals `[lo, hi)` of an interval style suit data whose robust extent is
/// `data`: at least half of the data's spread falls inside them, and the data meet at least
/// four of them (all of them when there are fewer), so that the map has several classes.
/// Interval thresholds carry meaning (precipitation classes), so they are kept whenever
/// they give a readable map.
#[must_use]
pub fn intervals_fit(intervals: &[(f64, f64)], data: [f64; 2]) -> bool {
    let (Some(first), Some(last)) = (intervals.first(), intervals.last()) else {
        return false;
    };
    let span = [first.0, last.1];
    if data[1] <= data[0] {
        return data[0] >= span[0] && data[0] < span[1];
    }
    let overlap = (data[1].min(span[1]) - data[0].max(span[0])).max(0.0);
    let met = intervals
        .iter()
        .filter(|iv| iv.0 <= data[1] && iv.1 > data[0])
        .count();
    overlap >= 0.5 * (data[1] - data[0]) && met >= intervals.len().min(4)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::float_cmp)]
    use super::*;

    fn field(values: Vec<f32>) -> FieldValues {
        FieldValues {
            ni: values.len(),
            nj: 1,
            values,
        }
    }

    #[test]
    fn robust_extent_ignores_missing_values_and_outliers() {
        let mut v: Vec<f32> = (0..1000).map(|k| 200.0 + k as f32 * 0.1).collect();
        v[3] = f32::NAN;
        v[10] = 1e30; // an outlier the 98th percentile leaves out
        let r = data_range(&field(v)).unwrap();
        assert_eq!(r.max, f64::from(1e30f32));
        assert_eq!(r.min, 200.0);
        assert!((r.low - 202.0).abs() < 0.2, "{r:?}");
        assert!((r.high - 298.0).abs() < 0.2, "{r:?}");
        assert_eq!(r.robust(), [r.low, r.high]);
        assert!(data_range(&field(vec![f32::NAN; 10])).is_none());
    }

    #[test]
    fn a_field_that_is_mostly_one_value_uses_its_full_extent() {
        let mut v = vec![0.0f32; 1000];
        v[500] = 0.004;
        let r = data_range(&field(v)).unwrap();
        assert_eq!(r.robust(), [0.0, f64::from(0.004f32)]);
    }

    #[test]
    fn a_mostly_missing_large_field_still_finds_its_values() {
        let mut v = vec![f32::NAN; 3_000_000];
        for k in (7..3_000_000).step_by(9973) {
            v[k] = k as f32;
        }
        let r = data_range(&field(v)).unwrap();
        assert_eq!(r.min, 7.0);
    }

    #[test]
    fn the_cache_gives_each_field_its_own_extent_and_stays_bounded() {
        let c = RangeCache::default();
        let a = field(vec![1.0, 2.0, 3.0]);
        let b = field(vec![10.0, 20.0]);
        assert_eq!(c.get("a", &a).unwrap().max, 3.0);
        assert_eq!(c.get("b", &b).unwrap().max, 20.0);
        // Known keys are answered from the cache (another field under the same key: the
        // data identity includes the file version, so this does not happen in the server).
        assert_eq!(c.get("a", &b).unwrap().max, 3.0);
        for k in 0..RangeCache::MAX + 10 {
            c.get(&k.to_string(), &a);
        }
        assert!(c.map.lock().unwrap().len() <= RangeCache::MAX);
    }

    #[test]
    fn style_ranges_that_do_not_fit() {
        // A °C ramp over a field in kelvin: no overlap.
        assert!(!range_fits([-40.0, 40.0], [203.0, 288.0]));
        // Viridis 0..1 over the same.
        assert!(!range_fits([0.0, 1.0], [203.0, 288.0]));
        // Specific humidity 0..20 g/kg over an upper level 0..0.5: one colour.
        assert!(!range_fits([0.0, 20.0], [0.0, 0.5]));
        // Conventional ranges that suit the data are kept.
        assert!(range_fits([-40.0, 40.0], [-60.0, 20.0]));
        assert!(range_fits([960.0, 1050.0], [985.0, 1030.0]));
        assert!(range_fits([0.0, 100.0], [0.0, 30.0]));
        assert!(range_fits([0.0, 1.0], [0.5, 0.5]));
        assert!(!range_fits([0.0, 1.0], [5.0, 5.0]));
        // Precipitation classes (mm): a 0–5 mm field meets four classes and keeps them; a
        // field of negative and huge values (not precipitation in mm) does not.
        let pr = [
            (0.0, 0.2),
            (0.2, 1.0),
            (1.0, 2.0),
            (2.0, 5.0),
            (5.0, 10.0),
            (10.0, 1000.0),
        ];
        assert!(intervals_fit(&pr, [0.0, 4.95]));
        assert!(!intervals_fit(&pr, [0.0, 0.9]));
        assert!(!intervals_fit(&pr, [-93_000.0, 94_000.0]));
        assert!(intervals_fit(&pr, [3.0, 3.0]));
        assert!(!intervals_fit(&[], [0.0, 1.0]));
        assert_eq!(widen(3.0, 3.0), [3.0 - 0.003, 3.0 + 0.003]);
        assert_eq!(widen(5.0, 1.0), [1.0, 5.0]);
    }
}
