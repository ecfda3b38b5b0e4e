//! datyp 6, "F": the newer quantization (`float_packer`, fst-format §4.6), and the value
//! reconstruction of its turbo variant 134.
//!
//! Header (3 words): `0xEFF | nbits-1 | MaxExp | shift`, the minimum (a signed mantissa
//! scaled to `MaxExp`), and the element count. Tokens are 16-bit slots, two per word, first in
//! bits 31..16, whatever nbits is. A token `t` gives the mantissa `m = (t << shift) + min`,
//! rebuilt into a binary32 with exponent `MaxExp`; if the implied leading 1 is not really
//! there, it is subtracted again in binary32 arithmetic (which makes denormalized mantissas
//! come out right).

use super::encode::{vec_for, words_vec, EncodeError};
use super::CodecError;

/// Words before the token stream.
pub(crate) const HEADER_WORDS: usize = 3;

/// The decoded header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FloatHeader {
    /// Biased binary32 exponent used for normalization; 0 means "every value is 0.0".
    pub(crate) max_exp: u32,
    /// Left shift applied to every token.
    pub(crate) shift: u32,
    /// Offset added to every shifted token.
    pub(crate) minimum: i32,
}

impl FloatHeader {
    /// Parse the 3-word header and check that it announces `n` values.
    pub(crate) fn parse(h: &[u32], n: u64) -> Result<Self, CodecError> {
        let [w0, w1, w2, ..] = *h else {
            return Err(CodecError::Truncated {
                needed: 3,
                available: h.len() as u64,
            });
        };
        if w0 >> 20 != 0xEFF {
            return Err(CodecError::BadHeader {
                field: "float_packer marker",
                found: u64::from(w0 >> 20),
            });
        }
        if u64::from(w2) != n {
            return Err(CodecError::BadHeader {
                field: "float_packer value count",
                found: u64::from(w2),
            });
        }
        Ok(FloatHeader {
            max_exp: (w0 >> 8) & 0xFF,
            shift: w0 & 0xFF,
            minimum: w1 as i32,
        })
    }

    /// The value of token `t` (16 bits).
    #[inline(always)]
    #[allow(clippy::inline_always)] // per element in the hot loops
    pub(crate) fn value(self, t: u32) -> f32 {
        // C semantics of the reference: 32-bit wrapping arithmetic, shift count taken mod 32
        // (what x86 does), negation of i32::MIN staying negative (so no clamp then).
        let m = (t as i32)
            .wrapping_shl(self.shift)
            .wrapping_add(self.minimum);
        let sign = (m as u32) >> 31;
        let mut m = if sign == 1 { m.wrapping_neg() } else { m };
        if m > 0xFF_FFFF {
            m = 0xFF_FFFF;
        }
        let m = m as u32;
        let exp = self.max_exp << 23;
        let f = f32::from_bits((m & 0x7F_FFFF) | exp | (sign << 31));
        if m & 0x80_0000 != 0 {
            f
        } else {
            f - f32::from_bits(exp | (sign << 31))
        }
    }
}

/// Words a datyp-6 payload needs for `n` values.
pub(crate) fn payload_words(n: u64) -> u64 {
    HEADER_WORDS as u64 + n.div_ceil(2)
}

/// Decode elements `first .. first + out.len()` of a datyp-6 payload with header `h`.
pub(crate) fn decode_range(
    words: &[u32],
    h: FloatHeader,
    first: usize,
    out: &mut [f32],
) -> Result<(), CodecError> {
    if h.max_exp == 0 {
        out.fill(0.0);
        return Ok(());
    }
    let stream = words.get(HEADER_WORDS..).unwrap_or(&[]);
    let end = first + out.len();
    if (end as u64).div_ceil(2) > stream.len() as u64 {
        return Err(CodecError::Truncated {
            needed: payload_words(end as u64),
            available: words.len() as u64,
        });
    }
    let mut word = first / 2;
    let out = if first % 2 == 1 {
        // Odd start: the first element is the low half of a word.
        let Some((o, rest)) = out.split_first_mut() else {
            return Ok(());
        };
        *o = h.value(stream.get(word).copied().unwrap_or(0) & 0xFFFF);
        word += 1;
        rest
    } else {
        out
    };
    let stream = stream.get(word..).unwrap_or(&[]);
    pairs_to_values(h, stream, out);
    let done = (out.len() / 2) * 2;
    if let (Some(o), Some(&w)) = (out.get_mut(done), stream.get(done / 2)) {
        *o = h.value(w >> 16);
    }
    Ok(())
}

/// Two tokens per word, high half first, for the leading `2 · stream.len()` elements of `out`
/// at most (an odd last element is left to the caller).
#[multiversion::multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn pairs_to_values(h: FloatHeader, stream: &[u32], out: &mut [f32]) {
    for (pair, &w) in out.chunks_exact_mut(2).zip(stream) {
        pair.copy_from_slice(&[h.value(w >> 16), h.value(w & 0xFFFF)]);
    }
}

/// The 134 tail: turn 16-bit tokens (decompressed into `out`, as the bit patterns of the f32
/// slots) into values.
#[multiversion::multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
pub(crate) fn tokens_to_values(h: FloatHeader, out: &mut [f32]) {
    if h.max_exp == 0 {
        out.fill(0.0);
        return;
    }
    for o in out {
        *o = h.value(o.to_bits() & 0xFFFF);
    }
}

/// The `float_packer` quantisation of `v` (nbits 1..=16) as the turbo stage (134) takes it:
/// the 3-word header and the 16-bit token slots of the plain stream. A value that is not
/// finite is an error naming `datyp`.
pub(crate) fn encode_tokens(
    v: &[f32],
    nbits: u32,
    datyp: u8,
) -> Result<([u32; 3], Vec<u16>), EncodeError> {
    let q = FloatQuantiser::new(v, nbits, datyp)?;
    let mut tokens: Vec<u16> = vec_for(v.len() as u64)?;
    // Through a small buffer rather than into a zero-filled vector: filling 2·n bytes with
    // zeros first cost as much as the quantisation.
    let mut piece = [0u16; 256];
    for chunk in v.chunks(256) {
        let out = piece.get_mut(..chunk.len()).unwrap_or_default();
        pair_tokens(q, chunk, out);
        tokens.extend_from_slice(out);
    }
    Ok((q.header(nbits, v.len()), tokens))
}

/// The 16-bit token slots of `chunk` (an even length but for the last chunk) as [`encode`]'s
/// words hold them: the second token of a pair is its low 16 bits; the first is the high
/// half of `(first << 16) | second`, which a negative second token overwrites.
#[multiversion::multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn pair_tokens(q: FloatQuantiser, chunk: &[f32], out: &mut [u16]) {
    let mut pairs = chunk.chunks_exact(2);
    let mut outs = out.chunks_exact_mut(2);
    for (p, o) in (&mut pairs).zip(&mut outs) {
        if let ([a, b], [oa, ob]) = (p, o) {
            let word = (q.token(*a) << 16) | q.token(*b);
            (*oa, *ob) = ((word >> 16) as u16, word as u16);
        }
    }
    if let (Some(&x), Some(o)) = (pairs.remainder().first(), outs.into_remainder().first_mut()) {
        *o = q.token(x) as u16;
    }
}

/// A datyp-6 payload: the header, then the tokens two per word, the first in bits 31..16.
///
/// librmn shifts each token into a 32-bit accumulator with `(acc << 16) | token`, so a
/// negative intermediate token (possible only with subnormal inputs) sets the high half too;
/// this is reproduced. A value that is not finite is an error naming `datyp`.
pub(crate) fn encode(v: &[f32], nbits: u32, datyp: u8) -> Result<Vec<u32>, EncodeError> {
    let q = FloatQuantiser::new(v, nbits, datyp)?;
    let mut words = words_vec(payload_words(v.len() as u64))?;
    words.extend_from_slice(&q.header(nbits, v.len()));
    let mut pairs = [0u32; 128];
    for chunk in v.chunks(256) {
        let full = chunk.len() / 2;
        pack_pairs(q, chunk, &mut pairs);
        words.extend_from_slice(pairs.get(..full).unwrap_or(&[]));
        if let (true, Some(&x)) = (chunk.len() % 2 == 1, chunk.last()) {
            words.push(q.token(x) << 16);
        }
    }
    Ok(words)
}

/// Words of two tokens for the pairs of `chunk` (an odd last value is left to the caller).
#[multiversion::multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn pack_pairs(q: FloatQuantiser, chunk: &[f32], out: &mut [u32]) {
    for (o, p) in out.iter_mut().zip(chunk.chunks_exact(2)) {
        if let [a, b] = *p {
            *o = (q.token(a) << 16) | q.token(b);
        }
    }
}

/// The quantiser of librmn's `float_packer_1`.
#[derive(Debug, Clone, Copy)]
struct FloatQuantiser {
    max_exp: i32,
    minimum: i32,
    shift2: u32,
    round: i32,
    mask: i32,
}

/// The mantissa of binary32 `bits` with its hidden 1, aligned on exponent `max_exp` and
/// signed.
#[inline(always)]
#[allow(clippy::inline_always)] // per element
fn aligned_mantissa(bits: u32, max_exp: i32) -> (i32, i32) {
    let exp = ((bits >> 23) & 0xFF) as i32;
    let shift = (max_exp - exp).min(31);
    // A negative shift (never for a real maximum exponent) would be UB in C; clamp to 0.
    let mantissa = ((1 << 23) | (bits & 0x7F_FFFF) as i32) >> shift.max(0);
    let mantissa = if (bits as i32) < 0 {
        mantissa.wrapping_neg()
    } else {
        mantissa
    };
    (mantissa, exp)
}

impl FloatQuantiser {
    fn new(v: &[f32], nbits: u32, datyp: u8) -> Result<Self, EncodeError> {
        let (fmin, fmax) = super::packed::finite_min_max(v, datyp)?;
        let (fmin, fmax) = (fmin.to_bits(), fmax.to_bits());
        let max_exp = (((fmax >> 23) & 0xFF) as i32).max(((fmin >> 23) & 0xFF) as i32);
        let (mut maximum, exp) = aligned_mantissa(fmax, max_exp);
        if exp < 1 {
            maximum = 0;
        }
        let (mut minimum, exp) = aligned_mantissa(fmin, max_exp);
        if exp < 1 {
            minimum = 0;
        }
        let mut maximum = maximum.wrapping_sub(minimum);
        let mask = !(-1i32 << nbits);
        let mut shift2 = 0;
        let mut round = 1i32;
        while maximum > mask {
            maximum >>= 1;
            round = round.wrapping_shl(1);
            shift2 += 1;
        }
        Ok(FloatQuantiser {
            max_exp,
            minimum,
            shift2,
            round: round >> 1,
            mask,
        })
    }

    fn header(&self, nbits: u32, n: usize) -> [u32; 3] {
        [
            (0xEFF << 20)
                | ((nbits - 1) << 16)
                | (((self.max_exp & 0xFF) as u32) << 8)
                | (self.shift2 & 0xFF),
            self.minimum as u32,
            n as u32,
        ]
    }

    /// The token of `x`, all 32 bits (negative when the intermediate is, see [`encode`]).
    #[inline(always)]
    #[allow(clippy::inline_always)] // per element
    fn token(self, x: f32) -> u32 {
        let (m, _) = aligned_mantissa(x.to_bits(), self.max_exp);
        let m = m
            .wrapping_sub(self.minimum)
            .wrapping_add(self.round)
            .wrapping_shr(self.shift2);
        (if m > self.mask { self.mask } else { m }) as u32
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values are the point
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The token slots handed to the turbo stage are those of the plain payload's words,
        /// subnormal inputs (negative intermediate tokens) included.
        #[test]
        fn turbo_tokens_are_the_payload_slots(
            v in proptest::collection::vec(
                prop_oneof![-1e4f32..1e4, -1e-38f32..1e-38, Just(0.0f32)], 1..600),
            nbits in 1u32..=16,
        ) {
            let (header, tokens) = encode_tokens(&v, nbits, 134).unwrap();
            let words = encode(&v, nbits, 6).unwrap();
            let slots: Vec<u16> = words[HEADER_WORDS..]
                .iter()
                .flat_map(|&w| [(w >> 16) as u16, w as u16])
                .take(v.len())
                .collect();
            prop_assert_eq!(&header[..], &words[..HEADER_WORDS]);
            prop_assert_eq!(tokens, slots);
        }

        /// The vectorised loops give what the scalar formula gives for every token.
        #[test]
        fn kernels_match_scalar(
            tokens in proptest::collection::vec(any::<u16>(), 0..300),
            first in 0usize..5,
            max_exp in 1u32..255,
            shift in 0u32..16,
            minimum in any::<i32>(),
        ) {
            let h = FloatHeader { max_exp, shift, minimum };
            let n = tokens.len();
            let mut words = vec![0xEFF0_0000 | (max_exp << 8) | shift, minimum as u32, n as u32];
            words.extend(tokens.chunks(2).map(|p| {
                (u32::from(p[0]) << 16) | p.get(1).map_or(0, |&t| u32::from(t))
            }));
            let first = first.min(n);
            let mut out = vec![f32::NAN; n - first];
            decode_range(&words, h, first, &mut out).unwrap();
            crate::codec::kernel_checks::matches_scalar(
                &tokens,
                first,
                &out,
                |t| h.value(t),
                |slots| tokens_to_values(h, slots),
            )?;
        }
    }

    #[test]
    fn header_checks() {
        let h = [0xEFF0_7F00 | 0x0F << 16, 5, 10];
        assert!(FloatHeader::parse(&h, 10).is_ok());
        assert!(matches!(
            FloatHeader::parse(&h, 11),
            Err(CodecError::BadHeader { .. })
        ));
        assert!(matches!(
            FloatHeader::parse(&[0xEEF0_0000, 0, 10], 10),
            Err(CodecError::BadHeader { .. })
        ));
        assert!(FloatHeader::parse(&h[..2], 10).is_err());
    }

    #[test]
    fn values() {
        // MaxExp 127 (1.0), no shift, minimum = 0x800000 (1.0 with its hidden bit).
        let h = FloatHeader {
            max_exp: 127,
            shift: 0,
            minimum: 0x80_0000,
        };
        assert_eq!(h.value(0), 1.0);
        assert_eq!(h.value(0x4000), 1.0 + 0x4000 as f32 / 0x80_0000 as f32);
        // A mantissa without the hidden bit: 0x400000 -> 1.5 - 1.0 = 0.5.
        let h = FloatHeader {
            max_exp: 127,
            shift: 0,
            minimum: 0x40_0000,
        };
        assert_eq!(h.value(0), 0.5);
        // Negative mantissas.
        let h = FloatHeader {
            max_exp: 127,
            shift: 0,
            minimum: -0x80_0000,
        };
        assert_eq!(h.value(0), -1.0);
        // Clamp.
        let h = FloatHeader {
            max_exp: 127,
            shift: 8,
            minimum: 0x7F_0000,
        };
        assert_eq!(
            h.value(0xFFFF).to_bits(),
            f32::from_bits((127 << 23) | 0x7F_FFFF).to_bits()
        );
    }

    #[test]
    fn odd_ranges() {
        let h = FloatHeader {
            max_exp: 127,
            shift: 0,
            minimum: 0x80_0000,
        };
        let words = [
            0xEFF0_7F00,
            0x80_0000,
            5,
            0x0001_0002,
            0x0003_0004,
            0x0005_0000,
        ];
        let mut all = [0f32; 5];
        decode_range(&words, h, 0, &mut all).unwrap();
        for start in 0..5 {
            for end in start..=5 {
                let mut part = vec![0f32; end - start];
                decode_range(&words, h, start, &mut part).unwrap();
                assert_eq!(&part[..], &all[start..end]);
            }
        }
        let mut too_many = [0f32; 7];
        assert!(decode_range(&words, h, 0, &mut too_many).is_err());
    }
}
