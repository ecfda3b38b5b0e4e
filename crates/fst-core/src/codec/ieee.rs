//! datyp 5 (IEEE, `ieeepak`) and datyp 8 (complex IEEE), fst-format §4.5 and §4.8.
//!
//! * nbits 32: each word is a binary32.
//! * nbits 64: each value is two words, **high word first** (in both containers).
//! * nbits < 32 (datyp 5 only): each token holds the top `nbits` bits of a binary32 pattern.

use super::bits;
use super::encode::{words_vec, EncodeError};
use super::CodecError;

/// Decode binary32 values `first .. first + out.len()`.
pub(crate) fn decode_f32_range(
    words: &[u32],
    first: usize,
    out: &mut [f32],
) -> Result<(), CodecError> {
    let src = words
        .get(first..)
        .and_then(|w| w.get(..out.len()))
        .ok_or(CodecError::Truncated {
            needed: (first + out.len()) as u64,
            available: words.len() as u64,
        })?;
    for (o, &w) in out.iter_mut().zip(src) {
        *o = f32::from_bits(w);
    }
    Ok(())
}

/// Decode binary64 values `first .. first + out.len()` (two words each, high word first).
pub(crate) fn decode_f64_range(
    words: &[u32],
    first: usize,
    out: &mut [f64],
) -> Result<(), CodecError> {
    let src = bits::words64(words, first, out.len())?;
    for (o, pair) in out.iter_mut().zip(src.chunks_exact(2)) {
        if let [hi, lo] = pair {
            *o = f64::from_bits((u64::from(*hi) << 32) | u64::from(*lo));
        }
    }
    Ok(())
}

/// Decode truncated binary32 values (nbits 1..=31) `first .. first + out.len()`: the tokens
/// are the high bits of the patterns.
pub(crate) fn decode_truncated_range(
    words: &[u32],
    nbits: u32,
    first: u64,
    out: &mut [f32],
) -> Result<(), CodecError> {
    let shift = 32 - nbits;
    bits::unpack(words, first * u64::from(nbits), nbits, out, move |t| {
        f32::from_bits(t << shift)
    })
}

/// Encode binary32 values: the patterns themselves (nbits 32) or their top `nbits` bits
/// (1..=31, truncated as librmn's `ieeepak` does, not rounded).
pub(crate) fn encode_f32(v: &[f32], nbits: u32) -> Result<Vec<u32>, EncodeError> {
    let words = words_vec(bits::words_for_bits(v.len() as u64 * u64::from(nbits)))?;
    if nbits >= 32 {
        let mut words = words;
        words.extend(v.iter().map(|x| x.to_bits()));
        return Ok(words);
    }
    let shift = 32 - nbits;
    Ok(bits::pack_into(
        words,
        nbits,
        v.iter().map(|x| x.to_bits() >> shift),
    ))
}

/// Encode binary64 values, two words each, high word first.
pub(crate) fn encode_f64(v: impl ExactSizeIterator<Item = f64>) -> Result<Vec<u32>, EncodeError> {
    let mut words = words_vec(v.len() as u64 * 2)?;
    for x in v {
        let b = x.to_bits();
        words.extend([(b >> 32) as u32, b as u32]);
    }
    Ok(words)
}
