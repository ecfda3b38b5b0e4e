//! Missing values, the +64 datyp flag (fst-format §4.12).
//!
//! A writer replaces every missing element by a "plug" larger than every real value, packs the
//! field normally and adds 64 to datyp. A reader decodes normally; then every element equal to
//! the decoded maximum is missing. librmn substitutes its sentinel values ("missing value
//! flags") for those elements only when its missing-value mode is active; otherwise it returns
//! the plugs. [`missing_mask`] gives the mask; [`MissingFlags::apply`] emulates librmn's active
//! mode.
//!
//! The maximum ignores NaN (librmn's running `>` comparison never picks a NaN after the first
//! element).

use super::encode::{vec_for, EncodeError, SamplesRef};
use super::{CodecParams, Samples};

/// The mask of missing elements of a decoded record: `Some` only for records flagged +64 whose
/// base type is 1, 2, 4, 5 or 6 (turbo variants included); `true` marks a missing element.
#[must_use]
pub fn missing_mask(samples: &Samples, p: &CodecParams) -> Option<Vec<bool>> {
    if !p.datyp.has_missing() || !matches!(p.datyp.base(), 1 | 2 | 4 | 5 | 6) {
        return None;
    }
    match samples {
        Samples::F32(v) => float_mask(v),
        Samples::F64(v) => float_mask(v),
        Samples::U32(v) => ord_mask(v),
        Samples::I32(v) => ord_mask(v),
        Samples::U64(v) => ord_mask(v),
        Samples::I64(v) => ord_mask(v),
        _ => None,
    }
}

fn mask_of<T: Copy>(v: &[T], is_max: impl Fn(T) -> bool) -> Option<Vec<bool>> {
    let mut mask = crate::alloc::try_vec_with_capacity(v.len()).ok()?;
    mask.extend(v.iter().map(|&x| is_max(x)));
    Some(mask)
}

fn float_mask<T: Copy + PartialOrd>(v: &[T]) -> Option<Vec<bool>> {
    // NaN is never > anything and nothing is > NaN unless NaN came first: skip NaNs entirely.
    #[allow(clippy::eq_op)]
    let max = v
        .iter()
        .copied()
        .filter(|x| x == x)
        .reduce(|a, b| if b > a { b } else { a })?;
    mask_of(v, |x| x == max)
}

fn ord_mask<T: Copy + Ord>(v: &[T]) -> Option<Vec<bool>> {
    let max = v.iter().copied().max()?;
    mask_of(v, |x| x == max)
}

/// The sentinel values librmn puts in place of missing elements when its missing-value mode
/// is active. [`MissingFlags::default`] gives librmn's defaults (which the environment variable
/// `MISSING_VALUE_FLAGS` overrides in librmn).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MissingFlags {
    /// For 32-bit floats (librmn: −1.0e38, bits `0xFE967699`).
    pub f32: f32,
    /// For 64-bit floats (−1.0e38).
    pub f64: f64,
    /// For signed 32-bit integers (−2³¹).
    pub i32: i32,
    /// For unsigned 32-bit integers (`0xFFFF_FFFF`).
    pub u32: u32,
    /// For signed 64-bit integers (−2⁶³; librmn has no 64-bit integer flag).
    pub i64: i64,
    /// For unsigned 64-bit integers (2⁶⁴ − 1; librmn has no 64-bit integer flag).
    pub u64: u64,
    /// For signed 16-bit integers, when a caller narrows (−32768).
    pub i16: i16,
    /// For unsigned 16-bit integers, when a caller narrows (0xFFFF).
    pub u16: u16,
    /// For signed bytes, when a caller narrows (−128).
    pub i8: i8,
    /// For unsigned bytes, when a caller narrows (`0xFF`).
    pub u8: u8,
}

impl Default for MissingFlags {
    fn default() -> Self {
        MissingFlags {
            f32: -1.0e38,
            f64: -1.0e38,
            i32: i32::MIN,
            u32: u32::MAX,
            i64: i64::MIN,
            u64: u64::MAX,
            i16: i16::MIN,
            u16: u16::MAX,
            i8: i8::MIN,
            u8: u8::MAX,
        }
    }
}

impl MissingFlags {
    /// Replace the elements flagged in `mask` by the flag of the samples' type. Element types
    /// without a flag (characters, complex, raw words) are left alone. Returns the number of
    /// elements replaced.
    pub fn replace(&self, samples: &mut Samples, mask: &[bool]) -> usize {
        fn fill<T: Copy>(v: &mut [T], mask: &[bool], flag: T) -> usize {
            let mut n = 0;
            for (x, &m) in v.iter_mut().zip(mask) {
                if m {
                    *x = flag;
                    n += 1;
                }
            }
            n
        }
        match samples {
            Samples::F32(v) => fill(v, mask, self.f32),
            Samples::F64(v) => fill(v, mask, self.f64),
            Samples::U32(v) => fill(v, mask, self.u32),
            Samples::I32(v) => fill(v, mask, self.i32),
            Samples::U64(v) => fill(v, mask, self.u64),
            Samples::I64(v) => fill(v, mask, self.i64),
            _ => 0,
        }
    }

    /// Emulate librmn's "missing value mode active": if the record has missing values
    /// ([`missing_mask`]), replace them by the flags. Returns the number of elements replaced.
    pub fn apply(&self, samples: &mut Samples, p: &CodecParams) -> usize {
        match missing_mask(samples, p) {
            Some(mask) => self.replace(samples, &mask),
            None => 0,
        }
    }
}

/// A copy of the caller's values with the missing elements replaced by the plug.
#[derive(Debug)]
pub(crate) enum Plugged {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
}

impl Plugged {
    pub(crate) fn as_ref(&self) -> SamplesRef<'_> {
        match self {
            Plugged::F32(v) => SamplesRef::F32(v),
            Plugged::F64(v) => SamplesRef::F64(v),
            Plugged::I8(v) => SamplesRef::I8(v),
            Plugged::I16(v) => SamplesRef::I16(v),
            Plugged::I32(v) => SamplesRef::I32(v),
            Plugged::I64(v) => SamplesRef::I64(v),
            Plugged::U8(v) => SamplesRef::U8(v),
            Plugged::U16(v) => SamplesRef::U16(v),
            Plugged::U32(v) => SamplesRef::U32(v),
            Plugged::U64(v) => SamplesRef::U64(v),
        }
    }
}

/// librmn's fractions of the range added to the maximum for nbits 1..=8 (index 0 unused).
const PLUG_FACTOR: [f32; 9] = [2.0, 1.1, 0.55, 0.28, 0.14, 0.07, 0.035, 0.017, 0.01];

/// The element types' arithmetic the float plug needs, in the precision librmn computes it.
trait PlugFloat: Copy + PartialOrd {
    const ZERO: Self;
    fn is_nan(self) -> bool;
    /// `max + (max − min)·0.01`, the 0.01 in binary64 (C promotes a float to double there).
    fn one_percent(max: Self, min: Self) -> Self;
    /// `max + (max − min)·factor` with a binary32 factor, in the type's own precision.
    fn with_factor(max: Self, min: Self, factor: f32) -> Self;
    fn one() -> Self;
    fn scaled(self, by: f32) -> Self;
}

impl PlugFloat for f32 {
    const ZERO: f32 = 0.0;
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    fn one_percent(max: f32, min: f32) -> f32 {
        (f64::from(max) + f64::from(max - min) * 0.01) as f32
    }
    fn with_factor(max: f32, min: f32, factor: f32) -> f32 {
        max + (max - min) * factor
    }
    fn one() -> f32 {
        1.0
    }
    fn scaled(self, by: f32) -> f32 {
        self * by
    }
}

impl PlugFloat for f64 {
    const ZERO: f64 = 0.0;
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    fn one_percent(max: f64, min: f64) -> f64 {
        max + (max - min) * 0.01
    }
    fn with_factor(max: f64, min: f64, factor: f32) -> f64 {
        max + (max - min) * f64::from(factor)
    }
    fn one() -> f64 {
        1.0
    }
    fn scaled(self, by: f32) -> f64 {
        self * f64::from(by)
    }
}

fn is_missing(mask: Option<&[bool]>, k: usize) -> bool {
    mask.and_then(|m| m.get(k)).copied().unwrap_or(false)
}

fn copy_vec<T: Copy>(v: &[T]) -> Result<Vec<T>, EncodeError> {
    let mut out = vec_for(v.len() as u64)?;
    out.extend_from_slice(v);
    Ok(out)
}

fn constant<T: Copy>(len: usize, value: T) -> Result<Vec<T>, EncodeError> {
    let mut out = vec_for(len as u64)?;
    out.resize(len, value);
    Ok(out)
}

/// Plug a float field: elements flagged in `mask` and NaN elements are missing.
fn plug_floats<T: PlugFloat>(
    v: &[T],
    mask: Option<&[bool]>,
    nbits: u8,
) -> Result<Option<Vec<T>>, EncodeError> {
    let mut range: Option<(T, T)> = None;
    let mut missing = 0u64;
    for (k, &x) in v.iter().enumerate() {
        if x.is_nan() || is_missing(mask, k) {
            missing += 1;
            continue;
        }
        range = Some(match range {
            None => (x, x),
            Some((lo, hi)) => (if x < lo { x } else { lo }, if x > hi { x } else { hi }),
        });
    }
    if missing == 0 {
        return Ok(None);
    }
    let Some((min, max)) = range else {
        // Every element is missing: a constant field, whose every element a reader then
        // finds equal to the maximum, i.e. missing. The newest librmn plugs its doubled flag
        // (−2.0e38), which the packed datyps cannot hold (librmn 19.5 exits on such a field);
        // zero packs under every datyp and nbits.
        return Ok(Some(constant(v.len(), T::ZERO)?));
    };
    let mut plug = if nbits > 8 {
        T::one_percent(max, min)
    } else {
        T::with_factor(
            max,
            min,
            PLUG_FACTOR.get(usize::from(nbits)).copied().unwrap_or(0.01),
        )
    };
    if plug == max {
        // A constant field. librmn doubles the maximum, which for a negative maximum gives a
        // plug *below* every value and a record whose missing elements cannot be found again;
        // halving it instead keeps the plug above.
        plug = if max == T::ZERO {
            T::one()
        } else if max > T::ZERO {
            max.scaled(2.0)
        } else {
            max.scaled(0.5)
        };
    }
    let mut out = copy_vec(v)?;
    for (k, o) in out.iter_mut().enumerate() {
        if o.is_nan() || is_missing(mask, k) {
            *o = plug;
        }
    }
    Ok(Some(out))
}

/// Plug an integer field: the maximum + 1, or the largest value `nbits` bits of the stored
/// type hold when that does not fit (librmn warns then; the missing elements then collide
/// with the real maximum).
fn plug_ints<T: Copy + Ord + Into<i128> + TryFrom<i128>>(
    v: &[T],
    mask: Option<&[bool]>,
    base: u8,
    nbits: u8,
) -> Result<Option<Vec<T>>, EncodeError> {
    let mut max: Option<T> = None;
    let mut missing = 0u64;
    for (k, &x) in v.iter().enumerate() {
        if is_missing(mask, k) {
            missing += 1;
        } else {
            max = Some(max.map_or(x, |m| m.max(x)));
        }
    }
    if missing == 0 {
        return Ok(None);
    }
    let Some(max) = max else {
        // Every element is missing: any constant reads back as all missing; zero fits every
        // element type and every nbits.
        let zero = T::try_from(0).map_err(|_never| EncodeError::MissingNotAllowed {
            datyp: base | 64,
            reason: "zero does not fit the element type",
        })?;
        return Ok(Some(constant(v.len(), zero)?));
    };
    let nbits = u32::from(nbits.min(64));
    let largest: i128 = if base == 2 {
        (1i128 << nbits) - 1
    } else {
        (1i128 << (nbits - 1)) - 1
    };
    let max: i128 = max.into();
    let plug = if largest > max { max + 1 } else { largest };
    // The plug fits nbits; when it does not fit the element type (max + 1 past the type's
    // largest value), librmn's per-type plug is the type's largest value, which is max.
    let Some(plug) = T::try_from(plug).ok().or_else(|| T::try_from(max).ok()) else {
        return Err(EncodeError::MissingNotAllowed {
            datyp: base | 64,
            reason: "no plug value fits the element type",
        });
    };
    let mut out = copy_vec(v)?;
    for (k, o) in out.iter_mut().enumerate() {
        if is_missing(mask, k) {
            *o = plug;
        }
    }
    Ok(Some(out))
}

/// Replace the missing elements of `values` (flagged in `mask`, or NaN) by librmn's plug
/// value for stored type `base` and `nbits` (fst-format §4.12). `None` when nothing is missing
/// (the record is then written without +64, as librmn does).
pub(crate) fn plug(
    values: SamplesRef<'_>,
    mask: Option<&[bool]>,
    base: u8,
    nbits: u8,
) -> Result<Option<Plugged>, EncodeError> {
    Ok(match values {
        SamplesRef::F32(v) => plug_floats(v, mask, nbits)?.map(Plugged::F32),
        SamplesRef::F64(v) => plug_floats(v, mask, nbits)?.map(Plugged::F64),
        SamplesRef::I8(v) => plug_ints(v, mask, base, nbits)?.map(Plugged::I8),
        SamplesRef::I16(v) => plug_ints(v, mask, base, nbits)?.map(Plugged::I16),
        SamplesRef::I32(v) => plug_ints(v, mask, base, nbits)?.map(Plugged::I32),
        SamplesRef::I64(v) => plug_ints(v, mask, base, nbits)?.map(Plugged::I64),
        SamplesRef::U8(v) => plug_ints(v, mask, base, nbits)?.map(Plugged::U8),
        SamplesRef::U16(v) => plug_ints(v, mask, base, nbits)?.map(Plugged::U16),
        SamplesRef::U32(v) => plug_ints(v, mask, base, nbits)?.map(Plugged::U32),
        SamplesRef::U64(v) => plug_ints(v, mask, base, nbits)?.map(Plugged::U64),
        SamplesRef::C64(_) | SamplesRef::C128(_) | SamplesRef::Raw32(_) => {
            return Err(EncodeError::MissingNotAllowed {
                datyp: base | 64,
                reason: "complex and raw values cannot carry missing values",
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Datyp;

    fn params(datyp: u8) -> CodecParams {
        CodecParams {
            datyp: Datyp(datyp),
            nbits: 16,
            ni: 4,
            nj: 1,
            nk: 1,
        }
    }

    #[test]
    fn mask_only_with_the_flag_on_maskable_types() {
        let s = Samples::F32(vec![1.0, 5.0, 2.0, 5.0]);
        assert_eq!(
            missing_mask(&s, &params(65)),
            Some(vec![false, true, false, true])
        );
        assert_eq!(missing_mask(&s, &params(1)), None);
        assert_eq!(missing_mask(&s, &params(64 + 8)), None);
        assert_eq!(
            missing_mask(&s, &params(128 + 64 + 6)),
            Some(vec![false, true, false, true])
        );
    }

    #[test]
    fn nan_is_ignored() {
        let s = Samples::F32(vec![f32::NAN, 1.0, 3.0, f32::NAN]);
        assert_eq!(
            missing_mask(&s, &params(69)),
            Some(vec![false, false, true, false])
        );
        let s = Samples::F32(vec![f32::NAN; 2]);
        assert_eq!(missing_mask(&s, &params(69)), None);
    }

    #[test]
    fn flags() {
        let mut s = Samples::I32(vec![1, 9, 9, -3]);
        assert_eq!(MissingFlags::default().apply(&mut s, &params(68)), 2);
        assert_eq!(s, Samples::I32(vec![1, i32::MIN, i32::MIN, -3]));
        assert_eq!(MissingFlags::default().f32.to_bits(), 0xFE96_7699);
    }
}
