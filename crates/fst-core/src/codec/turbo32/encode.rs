//! The `armn_compress32` encoder (fst-format §4.11): the datyp 133 payloads librmn 19.5's
//! `fstecr` writes, word for word (librmn is deterministic here: every byte it leaves
//! unwritten is in its zeroed record buffer).
//!
//! Each binary32 is split into its sign, its biased exponent and its mantissa truncated to
//! `K = nbits − 9` bits. Signs that differ go to a 1-bit run-length section, exponents that
//! differ to a PARALLELOGRAM section (offsets from the minimum exponent, `X` bits), and the
//! mantissas to a PARALLELOGRAM section of `K` bits. Each section is preceded by its byte
//! length, except that librmn writes the sign section's length before the mantissas too.
//!
//! librmn writes plain IEEE (datyp 5) instead, and [`encode_payload`] returns `None`, when
//! `ni` or `nj` is below 16, when the exponent section takes more bytes than there are points,
//! or when the mantissa section runs out of the room an uncompressed record would take.

use crate::codec::turbo16::encode::{
    bit_length, check_arguments, header_word, BitWriter, Budget, Outcome, Tiles, PARALLELOGRAM_STEP,
};
use crate::codec::turbo16::{Residuals, PARALLELOGRAM32};
use crate::codec::CodecError;

/// Section codes of the info word.
const SIGNS_ALL_NEGATIVE: u32 = 0x10;
const SIGNS_RUN_LENGTH: u32 = 0x20;
const EXPONENTS_PACKED: u32 = 0x08;

/// Width fields librmn uses: 4 bits for the exponent tiles, 5 for the mantissa tiles.
const EXPONENT_FIELD: u32 = 4;
const MANTISSA_FIELD: u32 = 5;

/// Encode the payload of a datyp 133 record as librmn 19.5 writes it: word 0 the payload
/// length `L` (even), then the `armn_compress32` stream of `values` (`ni × nj`, Fortran order)
/// keeping `nbits − 9` mantissa bits, then zeros up to `L`.
///
/// `Ok(None)`: librmn writes datyp 5 instead (see the module documentation).
///
/// Errors: `nbits` outside 10..=32 ([`CodecError::Unsupported`]; librmn's writers use
/// 16..=32), `values.len() != ni·nj` ([`CodecError::InvalidShape`]), no memory.
///
/// What is lossless: signs and exponents always; mantissas to their top `nbits − 9` bits
/// (all 23 with nbits 32, so that 133/32 gives back every float bit for bit, NaN payloads
/// included).
pub(crate) fn encode_payload(
    values: &[f32],
    ni: usize,
    nj: usize,
    nbits: u32,
) -> Result<Option<Vec<u32>>, CodecError> {
    check_arguments(values.len(), ni, nj, nbits, 10..=32, 133)?;
    let n = values.len();
    if ni < 16 || nj < 16 {
        return Ok(None);
    }
    let k = nbits - 9;
    let bits: &[u32] = bytemuck::cast_slice(values);
    let planes = Planes::scan(bits);

    // The payload length word (set at the end), the codec header, the info word, then the
    // sections (the mantissa section, the largest, is written in place by its bit writer).
    let mut body = vec![
        0,
        header_word(PARALLELOGRAM32, PARALLELOGRAM_STEP as u32, k),
        0,
    ];

    // Signs.
    let (sign_code, sign_len_bytes) = if planes.negative_any == planes.negative_all {
        (
            if planes.negative_all {
                SIGNS_ALL_NEGATIVE
            } else {
                0
            },
            0,
        )
    } else {
        let mut w = BitWriter::with_capacity(n / 28 + 4)?;
        sign_runs(bits, &mut w);
        let stream = w.finish();
        // librmn switches to a bit mask above n/4 bytes, a layout its own reader does not
        // read back; runs take at most 8 bits per 7 points, so with n ≥ 256 that never
        // happens.
        if 1 + 4 * stream.len() > n / 4 {
            return Ok(None);
        }
        let bytes = push_section(&mut body, Some(4 * (stream.len() + 1)), &stream);
        (SIGNS_RUN_LENGTH, bytes)
    };

    // Exponents.
    let exp_range = u32::from(planes.exp_max - planes.exp_min);
    let exp_bits = bit_length(exp_range);
    let exp_code = if exp_bits == 0 {
        0
    } else {
        let base = i32::from(planes.exp_min);
        let mut w = BitWriter::with_capacity(n / 4 + 4)?;
        let tiles = Tiles {
            ni,
            nj,
            c: EXPONENT_FIELD,
            first_bits: exp_bits,
            residuals: Residuals::Plain,
            budget: Budget::None,
        };
        tiles.encode(bits, |b| ((b >> 23) & 0xFF) as i32 - base, &mut w)?;
        let stream = w.finish();
        if 1 + 4 * stream.len() > n {
            return Ok(None);
        }
        push_section(&mut body, Some(4 * (stream.len() + 1)), &stream);
        EXPONENTS_PACKED
    };

    // Mantissas: the room left is counted from the words of an uncompressed record, minus
    // those written so far (after the length word) and the mantissa length word.
    let remaining = (n as i64 * i64::from(nbits)) / 32 - body.len() as i64;
    // librmn writes the sign section's length where the mantissa section's belongs.
    body.push(sign_len_bytes as u32);
    let tiles = Tiles {
        ni,
        nj,
        c: MANTISSA_FIELD,
        first_bits: k,
        residuals: Residuals::Plain,
        budget: Budget::Remaining { remaining, k },
    };
    // Room for the most the budget lets through: the uncompressed record's words and one
    // more band.
    let room = usize::try_from(remaining).unwrap_or(0) + 8 + tiles.band_bound();
    let mut w = BitWriter::continuing(body, room)?;
    let shift = 23 - k;
    if tiles.encode(bits, |b| ((b & 0x7F_FFFF) >> shift) as i32, &mut w)? != Outcome::Done {
        return Ok(None);
    }
    let mut payload = w.finish();
    // The zero word of the section's length rounding.
    payload.push(0);
    if let Some(info) = payload.get_mut(2) {
        *info = (u32::from(planes.exp_min) << 16) | (exp_bits << 8) | sign_code | exp_code;
    }
    // The length word counts librmn's compressed bytes (the words after it) plus 16, in
    // 64-bit units.
    let len = 2 * (16 + 4 * (payload.len() - 1)).div_ceil(8);
    payload.resize(len, 0);
    if let Some(l) = payload.first_mut() {
        *l = len as u32;
    }
    Ok(Some(payload))
}

/// Append a section: its length word, its stream and the zero word librmn's length rounding
/// (`1 + 4·words` bytes up to a multiple of 4) adds. Returns the section's byte length.
fn push_section(body: &mut Vec<u32>, length: Option<usize>, stream: &[u32]) -> usize {
    let bytes = 4 * (stream.len() + 1);
    body.push(length.unwrap_or(bytes) as u32);
    body.extend_from_slice(stream);
    body.push(0);
    bytes
}

/// What the sign and exponent sections depend on.
struct Planes {
    negative_any: bool,
    negative_all: bool,
    /// Smallest and largest biased exponent.
    exp_min: u8,
    exp_max: u8,
}

impl Planes {
    /// One pass over `bits` (binary32 patterns), which the compiler vectorises.
    fn scan(bits: &[u32]) -> Self {
        let (or, and, lo, hi) =
            bits.iter()
                .fold((0u32, u32::MAX, u32::MAX, 0u32), |(or, and, lo, hi), &b| {
                    let e = (b >> 23) & 0xFF;
                    (or | b, and & b, lo.min(e), hi.max(e))
                });
        Planes {
            negative_any: or >> 31 == 1,
            negative_all: and >> 31 == 1,
            exp_min: lo.min(255) as u8,
            exp_max: hi as u8,
        }
    }
}

/// The 1-bit run-length code of the signs (fst-format §4.11), with librmn's choices: a run of
/// fewer than 8 equal signs goes out as a literal of the next 7 signs (`0` + 7 bits, fewer at
/// the end); a longer run as counts of at most 62 (`1`, sign, 6-bit count), a count of 62
/// being followed, while more than 256 points of the run remain, by repeats of 255
/// (`1, 1, 63`); a run's last fewer than 8 points go out as a literal.
fn sign_runs(bits: &[u32], w: &mut BitWriter) {
    let n = bits.len();
    let negative = |b: &u32| b >> 31;
    let literal = |w: &mut BitWriter, pos: usize| {
        w.put(0, 1);
        for s in bits.get(pos..(pos + 7).min(n)).unwrap_or_default() {
            w.put(negative(s), 1);
        }
    };
    let mut pos = 0;
    while pos < n {
        let rest = bits.get(pos..).unwrap_or_default();
        let sign = rest.first().map_or(0, negative);
        let run = rest.iter().take_while(|s| negative(s) == sign).count();
        if run < 8 {
            literal(w, pos);
            pos += 7;
            continue;
        }
        let mut left = run;
        let mut repeated = false;
        while left > 0 {
            if left < 8 {
                literal(w, pos);
                pos += 7;
                break;
            }
            let chunk = left.min(62);
            if chunk == 62 && left > 256 && repeated {
                w.put(0xFF, 8);
                pos += 255;
                left -= 255;
            } else {
                w.put(1, 1);
                w.put(sign, 1);
                w.put(chunk as u32, 6);
                pos += chunk;
                left -= chunk;
                repeated |= chunk == 62;
            }
        }
    }
}

#[cfg(test)]
mod tests;
