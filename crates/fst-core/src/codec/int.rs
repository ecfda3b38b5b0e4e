//! datyp 2 (unsigned) and 4 (signed) integers, `compact_integer` (fst-format §4.3), and
//! datyp 0 (transparent words, §4.1).
//!
//! Tokens of nbits (1..=32) bits, MSB-first from payload bit 0, no header. Signed values are
//! stored offset-binary: `value = token − 2^(nbits−1)`. With nbits 64 (written only in RSF from
//! 64-bit arrays) each value is two words, **low word first** — unlike IEEE binary64.

use super::bits;
use super::encode::{vec_for, words_vec, EncodeError, SamplesRef};
use super::CodecError;

/// Decode unsigned tokens `first .. first + out.len()`.
pub(crate) fn decode_u32_range(
    words: &[u32],
    nbits: u32,
    first: u64,
    out: &mut [u32],
) -> Result<(), CodecError> {
    bits::unpack(words, first * u64::from(nbits), nbits, out, |t| t)
}

/// Decode signed (offset-binary) tokens `first .. first + out.len()`.
pub(crate) fn decode_i32_range(
    words: &[u32],
    nbits: u32,
    first: u64,
    out: &mut [i32],
) -> Result<(), CodecError> {
    let bias = 1u32 << (nbits - 1).min(31);
    bits::unpack(words, first * u64::from(nbits), nbits, out, move |t| {
        t.wrapping_sub(bias) as i32
    })
}

/// Decode 64-bit unsigned values `first .. first + out.len()` (two words each, low word first).
pub(crate) fn decode_u64_range(
    words: &[u32],
    first: usize,
    out: &mut [u64],
) -> Result<(), CodecError> {
    let src = bits::words64(words, first, out.len())?;
    for (o, pair) in out.iter_mut().zip(src.chunks_exact(2)) {
        if let [lo, hi] = pair {
            *o = (u64::from(*hi) << 32) | u64::from(*lo);
        }
    }
    Ok(())
}

/// Decode 64-bit signed values `first .. first + out.len()`.
pub(crate) fn decode_i64_range(
    words: &[u32],
    first: usize,
    out: &mut [i64],
) -> Result<(), CodecError> {
    let src = bits::words64(words, first, out.len())?;
    for (o, pair) in out.iter_mut().zip(src.chunks_exact(2)) {
        if let [lo, hi] = pair {
            *o = ((u64::from(*hi) << 32) | u64::from(*lo)) as i64;
        }
    }
    Ok(())
}

/// Copy words `first .. first + out.len()` unchanged (datyp 0, and the words of datyp 3).
pub(crate) fn copy_words(words: &[u32], first: usize, out: &mut [u32]) -> Result<(), CodecError> {
    let src = words
        .get(first..)
        .and_then(|w| w.get(..out.len()))
        .ok_or(CodecError::Truncated {
            needed: (first + out.len()) as u64,
            available: words.len() as u64,
        })?;
    out.copy_from_slice(src);
    Ok(())
}

/// Encode integers as datyp 2 (unsigned, `base` 2) or 4 (signed offset-binary, `base` 4)
/// tokens of `nbits` bits (1..=32), or as raw 64-bit words low word first (nbits 64).
///
/// librmn keeps only the low `nbits` bits of a value that does not fit, which silently
/// changes it; such values are refused here.
pub(crate) fn encode(
    values: SamplesRef<'_>,
    base: u8,
    nbits: u32,
    datyp: u8,
) -> Result<Vec<u32>, EncodeError> {
    match values {
        SamplesRef::I8(v) => encode_ints(v, base, nbits, datyp),
        SamplesRef::I16(v) => encode_ints(v, base, nbits, datyp),
        SamplesRef::I32(v) => encode_ints(v, base, nbits, datyp),
        SamplesRef::I64(v) => encode_ints(v, base, nbits, datyp),
        SamplesRef::U8(v) => encode_ints(v, base, nbits, datyp),
        SamplesRef::U16(v) => encode_ints(v, base, nbits, datyp),
        SamplesRef::U32(v) => encode_ints(v, base, nbits, datyp),
        SamplesRef::U64(v) => encode_ints(v, base, nbits, datyp),
        other => Err(EncodeError::WrongSampleType {
            datyp,
            sample: other.type_name(),
            hint: "; integer data types take integer arrays",
        }),
    }
}

/// The representable range of datyp `base` with `nbits` bits.
fn int_range(base: u8, nbits: u32) -> (i128, i128) {
    if base == 2 {
        (0, (1i128 << nbits) - 1)
    } else {
        (-(1i128 << (nbits - 1)), (1i128 << (nbits - 1)) - 1)
    }
}

/// Check that every value of `v` fits datyp `base` with `nbits` bits.
fn check_range<T: Copy + Into<i128>>(
    v: &[T],
    base: u8,
    nbits: u32,
    datyp: u8,
) -> Result<(), EncodeError> {
    let (lo, hi) = int_range(base, nbits);
    let outside = |x: T| {
        let x: i128 = x.into();
        x < lo || x > hi
    };
    if !v.iter().any(|&x| outside(x)) {
        return Ok(());
    }
    let index = v.iter().position(|&x| outside(x)).unwrap_or(0);
    Err(EncodeError::IntegerOutOfRange {
        index: index as u64,
        value: v.get(index).map_or(0, |&x| x.into()),
        datyp,
        nbits: nbits as u8,
        range: format!("{lo}..={hi}"),
    })
}

fn encode_ints<T: Copy + Into<i128>>(
    v: &[T],
    base: u8,
    nbits: u32,
    datyp: u8,
) -> Result<Vec<u32>, EncodeError> {
    check_range(v, base, nbits, datyp)?;
    if nbits == 64 {
        let mut words = words_vec(v.len() as u64 * 2)?;
        for &x in v {
            let x: i128 = x.into();
            let x = x as u64;
            words.extend([x as u32, (x >> 32) as u32]);
        }
        return Ok(words);
    }
    let bias: i128 = if base == 4 { 1 << (nbits - 1) } else { 0 };
    let words = words_vec(bits::words_for_bits(v.len() as u64 * u64::from(nbits)))?;
    Ok(bits::pack_into(
        words,
        nbits,
        v.iter().map(|&x| (x.into() + bias) as u32),
    ))
}

/// The values of an integer array (already checked to fit 16 unsigned bits) as the 16-bit
/// tokens of the turbo stage (datyp 130).
pub(crate) fn tokens16(values: SamplesRef<'_>) -> Result<Vec<u16>, EncodeError> {
    fn collect<T: Copy + Into<i128>>(v: &[T]) -> Result<Vec<u16>, EncodeError> {
        let mut t = vec_for(v.len() as u64)?;
        t.extend(v.iter().map(|&x| x.into() as u16));
        Ok(t)
    }
    match values {
        SamplesRef::I8(v) => collect(v),
        SamplesRef::I16(v) => collect(v),
        SamplesRef::I32(v) => collect(v),
        SamplesRef::I64(v) => collect(v),
        SamplesRef::U8(v) => collect(v),
        SamplesRef::U16(v) => collect(v),
        SamplesRef::U32(v) => collect(v),
        SamplesRef::U64(v) => collect(v),
        other => Err(EncodeError::WrongSampleType {
            datyp: 130,
            sample: other.type_name(),
            hint: "; integer data types take integer arrays",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_offset_binary() {
        // nbits 4: tokens 0, 7, 8, 15 -> -8, -1, 0, 7.
        let words = [0x078F_0000];
        let mut out = [0i32; 4];
        decode_i32_range(&words, 4, 0, &mut out).unwrap();
        assert_eq!(out, [-8, -1, 0, 7]);
        let words = [0, 0xFFFF_FFFF, 0x8000_0000];
        let mut out = [0i32; 3];
        decode_i32_range(&words, 32, 0, &mut out).unwrap();
        assert_eq!(out, [i32::MIN, i32::MAX, 0]);
    }

    #[test]
    fn sixty_four_bit_words_low_first() {
        let words = [0x0000_0002, 0x0000_0001, 0xFFFF_FFFF, 0xFFFF_FFFF];
        let mut u = [0u64; 2];
        decode_u64_range(&words, 0, &mut u).unwrap();
        assert_eq!(u, [0x1_0000_0002, u64::MAX]);
        let mut i = [0i64; 1];
        decode_i64_range(&words, 1, &mut i).unwrap();
        assert_eq!(i, [-1]);
        assert!(decode_i64_range(&words, 1, &mut [0i64; 2]).is_err());
    }
}
