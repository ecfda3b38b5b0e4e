//! `armn_compress32`, the IEEE turbo codec of datyp 133 (fst-format §4.11).
//!
//! Each binary32 is split into its sign, its 8-bit exponent and its mantissa truncated to K
//! bits; the three planes are coded separately, after a codec header (predictor 5, K in the
//! nbits field) and an info word (exponent base B, exponent width X, section codes):
//!
//! 1. signs: all positive, all negative, or a 1-bit run-length stream;
//! 2. exponents: constant B, or a PARALLELOGRAM stream of X-bit values (plus B, mod 256);
//! 3. mantissas: a PARALLELOGRAM stream of K-bit values (mod 2³²) or plain K-bit tokens.
//!
//! Sections 1 and 2 start with their length in bytes; section 3's length word is written
//! wrongly by the encoder (it repeats the sign length), so it is skipped and not trusted.
//! The value is `sign << 31 | exponent << 23 | mantissa << (23 − K)`, the mantissa not masked
//! (as in librmn; a valid stream never has bits above K).
//!
//! The encoder, which reproduces librmn's payloads, is in [`encode`].

use super::bits::{self, BitReader};
use super::turbo16::{self, CodecHeader, Residuals};
use super::CodecError;

pub(crate) mod encode;

/// Tile size of both PARALLELOGRAM sections (fixed by the format, not read from the header).
const STEP: usize = 3;

/// Decode the `ni × nj` values of a 133 stream (`stream[0]` = codec header, i.e. payload word 1)
/// into `out` as binary32 bit patterns. With `threads > 1` the exponent and mantissa planes
/// are decoded concurrently.
pub(crate) fn decode(
    stream: &[u32],
    ni: usize,
    nj: usize,
    out: &mut [u32],
    threads: usize,
) -> Result<(), CodecError> {
    let npts = ni * nj;
    if out.len() != npts {
        return Err(CodecError::Corrupt {
            reason: "turbo plane size mismatch",
        });
    }
    let (k, info) = header(stream)?;
    let exp_base = (info >> 16) & 0xFF;
    let exp_bits = (info >> 8) & 0xFF;
    let sign_code = info & 0x30;
    let mantissa_code = info & 0x03;

    let Sections {
        sign: sign_stream,
        exponent: exp_stream,
        mantissa: mantissa_stream,
    } = Sections::locate(stream, info)?;
    if exp_stream.is_some() {
        if !(1..=32).contains(&exp_bits) {
            return Err(CodecError::BadHeader {
                field: "turbo32 exponent width",
                found: u64::from(exp_bits),
            });
        }
        check_parallelogram_len(exp_stream.unwrap_or(&[]), ni, nj, exp_bits)?;
    }
    if mantissa_code == 0 {
        check_parallelogram_len(mantissa_stream, ni, nj, k)?;
    }

    let exponents = |threads: usize| -> Result<Option<Vec<u8>>, CodecError> {
        let Some(s) = exp_stream else { return Ok(None) };
        let mut e = super::alloc_filled(npts, 0u8)?;
        let mut r = BitReader::new(s);
        turbo16::parallelogram(
            &mut r,
            ni,
            nj,
            STEP,
            exp_bits,
            Residuals::Plain,
            0xFF,
            &mut e,
            threads,
        )?;
        Ok(Some(e))
    };
    let mantissas = |out: &mut [u32], threads: usize| -> Result<(), CodecError> {
        if mantissa_code == 0 {
            let mut r = BitReader::new(mantissa_stream);
            turbo16::parallelogram(
                &mut r,
                ni,
                nj,
                STEP,
                k,
                Residuals::Plain,
                u32::MAX,
                out,
                threads,
            )
        } else {
            bits::unpack(mantissa_stream, 0, k, out, |t| t)
        }
    };
    let exponents = if threads >= 2 && exp_stream.is_some() {
        std::thread::scope(|s| {
            let e = s.spawn(|| exponents(1));
            let m = mantissas(out, threads - 1);
            let e = e.join().unwrap_or(Err(CodecError::Corrupt {
                reason: "a decoding thread panicked",
            }));
            m.and(e)
        })?
    } else {
        mantissas(out, threads)?;
        exponents(threads)?
    };

    assemble(out, exponents.as_deref(), exp_base, 23 - k, threads)?;

    // Signs.
    match (sign_code, sign_stream) {
        (0x10, _) => out.iter_mut().for_each(|o| *o |= 0x8000_0000),
        (_, Some(s)) => apply_sign_runs(s, out)?,
        _ => {}
    }
    Ok(())
}

/// The mantissa width K (codec header, word 0) and the info word (word 1).
fn header(stream: &[u32]) -> Result<(u32, u32), CodecError> {
    let [w0, info, ..] = *stream else {
        return Err(CodecError::Truncated {
            needed: 3,
            available: stream.len() as u64 + 1,
        });
    };
    let h = CodecHeader::parse(w0);
    if h.predictor != turbo16::PARALLELOGRAM32 {
        return Err(CodecError::BadHeader {
            field: "turbo32 predictor",
            found: u64::from(h.predictor),
        });
    }
    if !(1..=23).contains(&h.nbits) {
        return Err(CodecError::BadHeader {
            field: "turbo32 mantissa width",
            found: u64::from(h.nbits),
        });
    }
    Ok((h.nbits, info))
}

/// Put exponent and mantissa together: `exponent << 23 | mantissa << shift` (the mantissa not
/// masked, as in librmn), exponents being `(plane + base) mod 256`, or `base` without a plane.
fn assemble(
    out: &mut [u32],
    exponents: Option<&[u8]>,
    exp_base: u32,
    shift: u32,
    threads: usize,
) -> Result<(), CodecError> {
    match exponents {
        Some(e) => super::par_chunks(out, threads, |first, chunk| {
            for (o, &e) in chunk.iter_mut().zip(e.get(first..).unwrap_or(&[])) {
                *o = ((u32::from(e).wrapping_add(exp_base) & 0xFF) << 23) | (*o << shift);
            }
            Ok(())
        }),
        None => super::par_chunks(out, threads, |_, chunk| {
            for o in chunk {
                *o = (exp_base << 23) | (*o << shift);
            }
            Ok(())
        }),
    }
}

/// The three sections of a 133 stream (each a slice running to the end of the payload).
struct Sections<'a> {
    /// The sign run-length stream, if the signs differ.
    sign: Option<&'a [u32]>,
    /// The exponent PARALLELOGRAM stream, if the exponents differ.
    exponent: Option<&'a [u32]>,
    /// The mantissa stream.
    mantissa: &'a [u32],
}

impl<'a> Sections<'a> {
    /// Find the sections after the codec header and the info word: `[sign length, sign RLE]`
    /// `[exponent length, exponent stream]` `[mantissa length (unreliable), mantissa stream]`.
    fn locate(stream: &'a [u32], info: u32) -> Result<Self, CodecError> {
        let section = |pos: usize| -> Result<&'a [u32], CodecError> {
            stream.get(pos..).ok_or(CodecError::Corrupt {
                reason: "turbo32 section starts past the payload end",
            })
        };
        // Position after a section whose byte length is at `pos`.
        let after = |pos: usize| -> Result<usize, CodecError> {
            let &len_bytes = section(pos)?.first().ok_or(CodecError::Truncated {
                needed: pos as u64 + 2,
                available: stream.len() as u64 + 1,
            })?;
            Ok(pos + 1 + (len_bytes / 4) as usize)
        };
        let mut pos = 2usize;
        let sign = if info & 0x20 != 0 {
            let s = section(pos + 1)?;
            pos = after(pos)?;
            Some(s)
        } else {
            None
        };
        let exponent = if info & 0x08 != 0 {
            let s = section(pos + 1)?;
            pos = after(pos)?;
            Some(s)
        } else {
            None
        };
        Ok(Sections {
            sign,
            exponent,
            mantissa: section(pos + 1)?,
        })
    }
}

/// Before allocating a plane, check that the stream can hold a PARALLELOGRAM encoding of it.
fn check_parallelogram_len(
    s: &[u32],
    ni: usize,
    nj: usize,
    first_bits: u32,
) -> Result<(), CodecError> {
    let along = |n: usize| n.saturating_sub(1).div_ceil(STEP) as u64;
    let tiles = along(ni).saturating_mul(along(nj));
    let edges = (ni as u64 + nj as u64)
        .saturating_sub(1)
        .saturating_mul(u64::from(first_bits));
    let min_bits = edges.saturating_add(tiles).saturating_add(3);
    if min_bits > s.len() as u64 * 32 {
        return Err(CodecError::Truncated {
            needed: min_bits.div_ceil(32),
            available: s.len() as u64,
        });
    }
    Ok(())
}

/// Decode the 1-bit run-length sign stream and set bit 31 of the negative values.
///
/// Codes: `0` + up to 7 literal sign bits; `1, v, n(6)`: n points of sign v; `1, v, 63`: 255
/// points of the previous run's sign (v ignored; before any run the previous sign counts as
/// negative, as in librmn). Every code consumes bits, so the loop ends at the latest when the
/// stream does; runs are clipped at the end of the field.
fn apply_sign_runs(s: &[u32], out: &mut [u32]) -> Result<(), CodecError> {
    let mut r = BitReader::new(s);
    let n = out.len();
    let mut i = 0usize;
    let mut last = 1u32;
    while i < n {
        if r.read(1)? == 0 {
            let k = 7.min(n - i);
            let signs = r.read(k as u32)?;
            if let Some(chunk) = out.get_mut(i..i + k) {
                for (b, o) in chunk.iter_mut().enumerate() {
                    *o |= ((signs >> (k - 1 - b)) & 1) << 31;
                }
            }
            i += k;
        } else {
            let val = r.read(1)?;
            let count = r.read(6)?;
            let (len, sign) = if count == 63 {
                (255, last)
            } else {
                last = val;
                (count as usize, val)
            };
            let end = (i + len).min(n);
            if sign == 1 {
                if let Some(run) = out.get_mut(i..end) {
                    for o in run {
                        *o |= 0x8000_0000;
                    }
                }
            }
            i = end;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_runs() {
        // literal 0b1010101 (7 points), run of 3 negatives, run of 0 (no progress, allowed),
        // repeat-last (255 points, clipped).
        let mut bits: Vec<(u32, u32)> = vec![
            (0, 1),
            (0b101_0101, 7),
            (1, 1),
            (1, 1),
            (3, 6),
            (1, 1),
            (0, 1),
            (0, 6),
        ];
        bits.extend([(1, 1), (0, 1), (63, 6)]);
        let mut words = vec![0u32; 2];
        let mut pos = 0u32;
        for (v, n) in bits {
            for k in (0..n).rev() {
                if (v >> k) & 1 == 1 {
                    words[(pos / 32) as usize] |= 1 << (31 - pos % 32);
                }
                pos += 1;
            }
        }
        let mut out = vec![0u32; 14];
        apply_sign_runs(&words, &mut out).unwrap();
        let signs: Vec<u32> = out.iter().map(|o| o >> 31).collect();
        // After the run of 0 with val 0, "last" is 0: the 255 repeat is positive.
        assert_eq!(signs, [1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn sign_stream_running_out_is_an_error() {
        let mut out = vec![0u32; 1000];
        assert!(matches!(
            apply_sign_runs(&[0xC000_0000], &mut out),
            Err(CodecError::Truncated { .. })
        ));
    }
}
