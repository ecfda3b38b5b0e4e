//! Characters: datyp 3 ("R4A", fst-format §4.4) and datyp 7 (string, §4.7).
//!
//! Both decode to bytes, one per element (`n = ni·nj·nk`), but they put the bytes in the words
//! differently:
//!
//! * datyp 3 is a copy of the writer's memory taken as 32-bit words, so on the little-endian
//!   hosts that write every known file each word *value* holds 4 characters least significant
//!   byte first. Decoding emits each word as 4 little-endian bytes. (An XDF file therefore
//!   shows `ABCD` as `D C B A` on disk; RSF shows it in natural order.)
//! * datyp 7 packs 8-bit tokens MSB-first, like every other packer: the first character is in
//!   bits 31..24 of the first word. The stored nbits does not matter (librmn always packs 8
//!   bits per character, even when the record says 16).

use super::encode::{words_vec, EncodeError};
use super::CodecError;

/// Words needed for `n` characters (both types).
pub(crate) fn payload_words(n: u64) -> u64 {
    n.div_ceil(4)
}

fn source(words: &[u32], first: usize, len: usize) -> Result<&[u32], CodecError> {
    let end = (first + len).div_ceil(4);
    words.get(first / 4..end).ok_or(CodecError::Truncated {
        needed: end as u64,
        available: words.len() as u64,
    })
}

/// Decode characters `first .. first + out.len()` of a datyp-3 payload.
pub(crate) fn decode_r4a(words: &[u32], first: usize, out: &mut [u8]) -> Result<(), CodecError> {
    let src = source(words, first, out.len())?;
    let bytes = src.iter().flat_map(|w| w.to_le_bytes()).skip(first % 4);
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = b;
    }
    Ok(())
}

/// Decode characters `first .. first + out.len()` of a datyp-7 payload.
pub(crate) fn decode_string(words: &[u32], first: usize, out: &mut [u8]) -> Result<(), CodecError> {
    let src = source(words, first, out.len())?;
    let bytes = src.iter().flat_map(|w| w.to_be_bytes()).skip(first % 4);
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = b;
    }
    Ok(())
}

/// Encode characters as datyp 3: the bytes as little-endian host words (what librmn copies
/// from a little-endian writer's memory), the last word padded with zero bytes.
pub(crate) fn encode_r4a(v: &[u8]) -> Result<Vec<u32>, EncodeError> {
    encode_bytes(v, u32::from_le_bytes)
}

/// Encode characters as datyp 7: 8-bit tokens MSB-first, zero padded.
pub(crate) fn encode_string(v: &[u8]) -> Result<Vec<u32>, EncodeError> {
    encode_bytes(v, u32::from_be_bytes)
}

fn encode_bytes(v: &[u8], word: fn([u8; 4]) -> u32) -> Result<Vec<u32>, EncodeError> {
    let mut words = words_vec(payload_words(v.len() as u64))?;
    words.extend(v.chunks(4).map(|q| {
        let mut b = [0u8; 4];
        for (d, &s) in b.iter_mut().zip(q) {
            *d = s;
        }
        word(b)
    }));
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_orders() {
        // "ABCDE" as datyp 3 (host words of a little-endian writer) and as datyp 7.
        let r4a = [
            u32::from_le_bytes(*b"ABCD"),
            u32::from_le_bytes(*b"E\0\0\0"),
        ];
        let mut out = [0u8; 5];
        decode_r4a(&r4a, 0, &mut out).unwrap();
        assert_eq!(&out, b"ABCDE");
        let string = [
            u32::from_be_bytes(*b"ABCD"),
            u32::from_be_bytes(*b"E\0\0\0"),
        ];
        decode_string(&string, 0, &mut out).unwrap();
        assert_eq!(&out, b"ABCDE");
        let mut part = [0u8; 3];
        decode_string(&string, 2, &mut part).unwrap();
        assert_eq!(&part, b"CDE");
        assert!(decode_string(&string[..1], 0, &mut out).is_err());
    }
}
