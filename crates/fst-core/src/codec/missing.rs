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
