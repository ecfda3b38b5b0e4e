//! datyp 2 (unsigned) and 4 (signed) integers, `compact_integer` (fst-format §4.3), and
//! datyp 0 (transparent words, §4.1).
//!
//! Tokens of nbits (1..=32) bits, MSB-first from payload bit 0, no header. Signed values are
//! stored offset-binary: `value = token − 2^(nbits−1)`. With nbits 64 (written only in RSF from
//! 64-bit arrays) each value is two words, **low word first** — unlike IEEE binary64.

use super::bits;
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
