//! datyp 1, "R": the old linear quantization (`compact_float`, fst-format §4.2), and the
//! value reconstruction of its turbo variant 129 (§4.9).
//!
//! A 120-bit header gives a power-of-two scale and a minimum (a binary32 truncated from the
//! field's minimum); each `nbits` token `t` decodes to `min` when `t == 0`, else to
//! `(t·scale)·1.0000000000001 + min` computed in binary64 and rounded once to binary32.
//! The odd factor and the order of the operations are librmn's; keeping them is what makes
//! the values bit-identical.

use super::bits;
use super::encode::{vec_for, words_vec, EncodeError};
use super::CodecError;

/// Bit offset of the first token of a datyp-1 payload.
pub(crate) const TOKENS_BIT: u64 = 120;

/// librmn's fudge factor, applied after scaling and before adding the minimum.
const FUDGE: f64 = 1.000_000_000_000_1;

/// The decoded header of a `compact_float` stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PackedHeader {
    /// Token width, from the header (not the directory; librmn uses the header's).
    pub(crate) nbits: u32,
    /// `2^(E' - 4096)`.
    pub(crate) scale: f64,
    /// The field minimum, a binary32 widened to binary64.
    pub(crate) min: f64,
}

impl PackedHeader {
    /// Parse the header from its first four words (datyp 1: payload words 0..4; datyp 129:
    /// payload words 1..5). The markers accepted are 0x7FF/0x7EF (one-word count) and
    /// 0xFFF/0xFEF (count split over two words); the count itself is not used, the
    /// directory's `n` governs, as in librmn.
    pub(crate) fn parse(h: &[u32]) -> Result<Self, CodecError> {
        let [w0, w1, w2, w3, ..] = *h else {
            return Err(CodecError::Truncated {
                needed: 4,
                available: h.len() as u64,
            });
        };
        let marker = w0 >> 20;
        if !matches!(marker, 0x7FF | 0x7EF | 0xFFF | 0xFEF) {
            return Err(CodecError::BadHeader {
                field: "compact_float marker",
                found: u64::from(marker),
            });
        }
        let range_exp = (w1 >> 16) as i32 - 4096;
        let min_exp = (w1 >> 4) & 0xFFF;
        let min_sign = w1 & 1;
        let nbits = (w3 >> 8) & 0xFF;
        let min = if w2 == 0 || min_exp < 849 {
            0.0
        } else {
            let biased = (min_exp - 849) & 0xFF;
            let fraction = (w2 >> 8) & 0x7F_FFFF;
            f64::from(f32::from_bits((min_sign << 31) | (biased << 23) | fraction))
        };
        Ok(PackedHeader {
            nbits,
            scale: pow2(range_exp),
            min,
        })
    }

    /// The value of token `t`.
    #[inline(always)]
    #[allow(clippy::inline_always)] // per element in the hot loops
    pub(crate) fn value(self, t: u32) -> f32 {
        if t == 0 {
            self.min as f32
        } else {
            ((f64::from(t) * self.scale) * FUDGE + self.min) as f32
        }
    }
}

/// `2^e` as librmn computes it (Fortran `2.0d0**e`: repeated multiplication, so a negative
/// exponent beyond the normal range gives 1/∞ = 0 rather than a subnormal).
fn pow2(e: i32) -> f64 {
    if e >= 0 {
        if e > 1023 {
            f64::INFINITY
        } else {
            f64::from_bits(((e as u64) + 1023) << 52)
        }
    } else if e < -1023 {
        0.0
    } else {
        1.0 / f64::from_bits((u64::from(e.unsigned_abs()) + 1023) << 52)
    }
}

/// Parse and validate the header of a datyp-1 payload and check that it holds `n` tokens.
pub(crate) fn header(words: &[u32], n: u64) -> Result<PackedHeader, CodecError> {
    let h = PackedHeader::parse(words)?;
    if !(1..=32).contains(&h.nbits) {
        // librmn would keep only the top 32 bits of wider tokens: its own round trip fails,
        // so such records carry garbage. Refuse them clearly.
        return Err(CodecError::BadHeader {
            field: "compact_float token width",
            found: u64::from(h.nbits),
        });
    }
    bits::check_tokens(words, TOKENS_BIT, 0, n, h.nbits)?;
    Ok(h)
}

/// Decode elements `first .. first + out.len()` of a datyp-1 payload whose header is `h`.
pub(crate) fn decode_range(
    words: &[u32],
    h: PackedHeader,
    first: u64,
    out: &mut [f32],
) -> Result<(), CodecError> {
    let start = TOKENS_BIT + first * u64::from(h.nbits);
    if h.nbits == 16 {
        bits::check_tokens(words, start, 0, out.len() as u64, 16)?;
        let done = values16(words, start, h, out);
        let rest = out.get_mut(done..).unwrap_or(&mut []);
        return bits::unpack(words, start + done as u64 * 16, 16, rest, move |t| {
            h.value(t)
        });
    }
    bits::unpack(words, start, h.nbits, out, move |t| h.value(t))
}

/// The 16-bit case of [`decode_range`] (the usual `nbits`), in blocks of 16 tokens that the
/// compiler vectorises: eight words re-aligned on the stream position give sixteen tokens.
/// Returns how many leading elements of `out` it wrote (whole blocks whose nine source words
/// exist); the caller decodes the rest.
#[multiversion::multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn values16(words: &[u32], bit: u64, h: PackedHeader, out: &mut [f32]) -> usize {
    let words = words.get((bit / 32) as usize..).unwrap_or(&[]);
    let shift = (bit % 32) as u32;
    let mut done = 0;
    for (block, chunk) in out.chunks_exact_mut(16).enumerate() {
        let Some(w) = words
            .get(block * 8..block * 8 + 9)
            .and_then(|w| <&[u32; 9]>::try_from(w).ok())
        else {
            break;
        };
        let mut tokens = [0u32; 16];
        for ((pair, &hi), &lo) in tokens.chunks_exact_mut(2).zip(w).zip(&w[1..]) {
            let a = ((((u64::from(hi) << 32) | u64::from(lo)) << shift) >> 32) as u32;
            pair.copy_from_slice(&[a >> 16, a & 0xFFFF]);
        }
        for (o, &t) in chunk.iter_mut().zip(&tokens) {
            *o = h.value(t);
        }
        done += 16;
    }
    done
}

/// The 129 tail: turn 16-bit tokens (already decompressed into `out`, one per element, as the
/// bit patterns of the f32 slots) into values.
///
/// Every token is taken from its full 16-bit slot whatever the record's nbits: that is how the
/// writer stored them. librmn's reader instead extracts `nbits`-wide tokens from the 16-bit
/// stream when nbits < 16 and returns wrong values (fst-format §4.9); we return the correct
/// ones.
#[multiversion::multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
pub(crate) fn tokens_to_values(h: PackedHeader, out: &mut [f32]) {
    for o in out {
        *o = h.value(o.to_bits() & 0xFFFF);
    }
}

/// librmn refuses (exits) when a value of a datyp-1 field is beyond ±1e38.
const MAX_RANGE: f64 = 1.0e38;

/// How `compact_float` quantises a field: `token = trunc((x − min) · mul)`.
#[derive(Debug, Clone, Copy)]
struct Quantiser {
    /// Field minimum (a binary32 widened).
    min: f64,
    /// `2^nbits / 2^E`, E the unbiased exponent of `2·(max − min)` (0 for a constant field).
    mul: f64,
    /// The header words (style 1 or 2 decided by the caller; word 0's marker is filled in).
    header: [u32; 4],
}

/// Biased binary64 exponent of `x`.
fn biased_exp(x: f64) -> i32 {
    ((x.to_bits() >> 52) & 0x7FF) as i32
}

impl Quantiser {
    fn new(v: &[f32], nbits: u32, marker: u32, datyp: u8) -> Result<Self, EncodeError> {
        let (min, max) = finite_min_max(v, datyp)?;
        let (min, max) = (f64::from(min), f64::from(max));
        if max > MAX_RANGE || min < -MAX_RANGE {
            return Err(EncodeError::RangeTooWide { min, max, datyp });
        }
        let range2 = (max - min) * 2.0;
        // The unbiased exponent of 2·(max − min): its mantissa is dropped.
        let expo = if range2 == 0.0 {
            0
        } else {
            biased_exp(range2) - 1023
        };
        let mut min_code = (biased_exp(min) - 1023 + 1024 - 48) as u32;
        if min == 0.0 {
            min_code &= 0x111; // librmn's mask (a hex typo for 0x7, kept: it is in every header)
        }
        let range_code = (expo - nbits as i32 + 4096) as u32;
        let sign = u32::from(min < 0.0);
        let n = v.len() as u32;
        let mantissa = if min == 0.0 {
            0
        } else {
            0x8000_0000 | ((((min.to_bits() >> 29) as u32) & 0x7F_FFFF) << 8)
        };
        let header = [
            (marker << 20) | (n & 0xF_FFFF),
            (range_code << 16) | ((min_code << 4) | sign),
            mantissa,
            (nbits << 8) | ((n << 4) >> 24),
        ];
        Ok(Quantiser {
            min,
            mul: pow2(nbits as i32) / pow2(expo),
            header,
        })
    }

    #[inline(always)]
    #[allow(clippy::inline_always)] // per element in the quantisation loops
    fn token(self, x: f32) -> u32 {
        // librmn truncates to a 64-bit integer. The product is in [0, 2^nbits) with nbits ≤ 30
        // (31 and 32 become E32), where truncation is `floor`, and adding 2^52 to that whole
        // number puts it, exactly, in the low mantissa bits: unlike Rust's saturating
        // float-to-int conversion, this vectorises.
        (((f64::from(x) - self.min) * self.mul).floor() + 4_503_599_627_370_496.0).to_bits() as u32
    }
}

/// Minimum and maximum of `v`, which must be finite: [`EncodeError::NotFinite`] for `datyp`
/// names the first element that is not.
///
/// librmn scans in order and replaces only by strictly smaller/larger values, so of equal zeros
/// it keeps the first one's sign. Neither codec depends on that sign (datyp 1 treats a zero
/// minimum alike whatever its sign; `float_packer` takes a zero's mantissa as 0), so the scan
/// runs on sixteen independent lanes, which vectorises; the finiteness test shares its pass
/// (one read of the array instead of two: a third of datyp 1's and 134's encoding time was
/// these two scans).
pub(crate) fn finite_min_max(v: &[f32], datyp: u8) -> Result<(f32, f32), EncodeError> {
    let (lo, hi, finite) = scan(v);
    if finite {
        Ok((lo, hi))
    } else {
        Err(not_finite(v, datyp))
    }
}

/// Minimum, maximum (NaN ignored) and whether every element is finite, in one pass.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl",
    "x86_64+avx2",
    "x86_64+sse4.1"
))]
#[allow(clippy::indexing_slicing)] // k < LANES on arrays of LANES: indexed lanes vectorise
fn scan(v: &[f32]) -> (f32, f32, bool) {
    const EXPONENT: u32 = 0x7F80_0000;
    const LANES: usize = 16;
    let first = v.first().copied().unwrap_or(0.0);
    let mut lo = [first; LANES];
    let mut hi = [first; LANES];
    // Per lane, 1 once an element with the exponent of infinities and NaN was seen.
    let mut special = [0u32; LANES];
    let blocks = v.chunks_exact(LANES);
    let rest = blocks.remainder();
    for block in blocks {
        if let Ok(block) = <&[f32; LANES]>::try_from(block) {
            for k in 0..LANES {
                let x = block[k];
                lo[k] = if x < lo[k] { x } else { lo[k] };
                hi[k] = if x > hi[k] { x } else { hi[k] };
                special[k] |= u32::from(x.to_bits() & EXPONENT == EXPONENT);
            }
        }
    }
    let lo = lo
        .iter()
        .chain(rest)
        .fold(first, |a, &b| if b < a { b } else { a });
    let hi = hi
        .iter()
        .chain(rest)
        .fold(first, |a, &b| if b > a { b } else { a });
    let special = special.iter().fold(0, |a, b| a | b)
        | rest
            .iter()
            .fold(0, |a, x| a | u32::from(x.to_bits() & EXPONENT == EXPONENT));
    (lo, hi, special == 0)
}

/// The error for the first element of `v` that is NaN or infinite, for `datyp`.
fn not_finite(v: &[f32], datyp: u8) -> EncodeError {
    let index = v.iter().position(|x| !x.is_finite()).unwrap_or(0);
    EncodeError::NotFinite {
        index: index as u64,
        value: f64::from(v.get(index).copied().unwrap_or(f32::NAN)),
        datyp,
        hint: if v.get(index).is_some_and(|x| x.is_nan()) {
            "; flag it missing (+64) or use datyp 5"
        } else {
            "; use datyp 5"
        },
    }
}

/// Encode a datyp-1 payload (`compact_float`, "style 1" header, tokens from bit 120) the way
/// librmn does for a 32-bit float array. `v` is finite and non-empty.
pub(crate) fn encode(v: &[f32], nbits: u32, datyp: u8) -> Result<Vec<u32>, EncodeError> {
    encode_ordered(v, nbits, datyp, false)
}

/// [`encode`] with the words' bytes in big-endian order in memory (what an XDF file stores):
/// at 16 bits formed so directly from the token stream (see [`encode16`]), at other widths
/// swapped after the bit writer.
pub(crate) fn encode_big_endian(v: &[f32], nbits: u32, datyp: u8) -> Result<Vec<u32>, EncodeError> {
    encode_ordered(v, nbits, datyp, true)
}

fn encode_ordered(
    v: &[f32],
    nbits: u32,
    datyp: u8,
    big_endian_memory: bool,
) -> Result<Vec<u32>, EncodeError> {
    let q = Quantiser::new(v, nbits, 0x7FF, datyp)?;
    let total_words = bits::words_for_bits(TOKENS_BIT + v.len() as u64 * u64::from(nbits));
    if nbits == 16 {
        return encode16(q, v, total_words, big_endian_memory);
    }
    let mut words = encode_with_writer(q, v, nbits, total_words)?;
    if big_endian_memory && cfg!(target_endian = "little") {
        bits::swap_bytes_in_place(&mut words);
    }
    Ok(words)
}

/// [`encode`] through the bit writer: any nbits.
fn encode_with_writer(
    q: Quantiser,
    v: &[f32],
    nbits: u32,
    total_words: u64,
) -> Result<Vec<u32>, EncodeError> {
    let words = words_vec(total_words)?;
    let mut w = bits::BitWriter::new(words);
    let [h0, h1, h2, h3] = q.header;
    w.put(h0, 32);
    w.put(h1, 32);
    w.put(h2, 32);
    // Word 3's low byte holds the first token bits: librmn keeps only its top 24 bits.
    w.put(h3 >> 8, 24);
    let mut tokens = [0u32; 256];
    for chunk in v.chunks(256) {
        quantise(q, chunk, &mut tokens);
        let tokens = tokens.get(..chunk.len()).unwrap_or_default();
        if nbits <= 16 {
            // Two tokens (each below 2^nbits) per write: half the writer's work.
            let mut pairs = tokens.chunks_exact(2);
            for pair in &mut pairs {
                if let [a, b] = *pair {
                    w.put((a << nbits) | b, 2 * nbits);
                }
            }
            for &t in pairs.remainder() {
                w.put(t, nbits);
            }
        } else {
            for &t in tokens {
                w.put(t, nbits);
            }
        }
    }
    Ok(w.finish())
}

/// [`encode`] for 16 bits, the usual case. Tokens start at bit 120, a byte boundary, so the
/// payload is the header's 15 bytes followed by each token's two bytes, big-endian: word `j ≥ 4`
/// is bytes `4j − 15 … 4j − 12` of that token stream (the low byte of token `2j − 8`, token
/// `2j − 7`, the high byte of token `2j − 6`), formed without a bit writer.
///
/// With `big_endian_memory` the words come out with their bytes in big-endian order in
/// memory (what an XDF file stores): the token stream is then the payload's bytes as they
/// are, and a writer needs no swap.
fn encode16(
    q: Quantiser,
    v: &[f32],
    total_words: u64,
    big_endian_memory: bool,
) -> Result<Vec<u32>, EncodeError> {
    /// Payload words formed per piece; the tokens of a piece live on the stack, so that the
    /// encoding holds no array but the payload (a whole-array token vector took 4·n bytes,
    /// twice the payload, and broke the writer's memory bound).
    const PIECE_WORDS: usize = 1024;
    let tail_words = usize::try_from(total_words.saturating_sub(4)).unwrap_or(usize::MAX);
    let mut words = words_vec(total_words)?;
    let [h0, h1, h2, h3] = q.header;
    // Word 3's low byte holds the first token's high byte: librmn keeps only the top 24
    // bits of the header word.
    let first = v.first().map_or(0, |&x| q.token(x));
    let head = [h0, h1, h2, (h3 & !0xFF) | (first >> 8)];
    if big_endian_memory {
        words.extend(head.map(u32::to_be));
    } else {
        words.extend_from_slice(&head);
    }
    // Tail word k takes tokens 2k, 2k + 1 and 2k + 2 (bytes 4k + 1 … 4k + 4 of the piece's
    // big-endian token stream); tokens past the values are zeros. The tokens go to bytes
    // in the order the words want them, so that a word is one byte-swapped load: as u32
    // tokens gathered into words by shifts, this pass cost as much as the quantisation.
    let mut stream = [0u8; 2 * (2 * PIECE_WORDS + 1)];
    let mut out = [0u32; PIECE_WORDS];
    let mut done = 0;
    while done < tail_words {
        let count = PIECE_WORDS.min(tail_words - done);
        let from = 2 * done;
        let piece = stream.get_mut(..2 * (2 * count + 1)).unwrap_or_default();
        let values = v.get(from..).unwrap_or_default();
        let values = values.get(..piece.len() / 2).unwrap_or(values);
        let (filled, zeros) = piece.split_at_mut(2 * values.len());
        quantise_be16(q, values, filled);
        zeros.fill(0);
        let out = out.get_mut(..count).unwrap_or_default();
        if big_endian_memory {
            stream_to_memory16(piece, out);
        } else {
            stream_to_words16(piece, out);
        }
        words.extend_from_slice(out);
        done += count;
    }
    Ok(words)
}

/// `out[k]` = bytes `4k + 1 … 4k + 4` of `stream` as a big-endian word (`stream` holds at
/// least `4·out.len() + 1` bytes).
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl",
    "x86_64+avx2",
    "x86_64+sse4.1"
))]
fn stream_to_words16(stream: &[u8], out: &mut [u32]) {
    let bytes = stream.get(1..).unwrap_or_default().chunks_exact(4);
    for (o, b) in out.iter_mut().zip(bytes) {
        if let Ok(b) = <[u8; 4]>::try_from(b) {
            *o = u32::from_be_bytes(b);
        }
    }
}

/// `out[k]` holds bytes `4k + 1 … 4k + 4` of `stream` in memory order (the words of an XDF
/// payload as the file stores them).
fn stream_to_memory16(stream: &[u8], out: &mut [u32]) {
    let bytes = stream.get(1..).unwrap_or_default();
    let n = out.len().min(bytes.len() / 4);
    if let (Some(dst), Some(src)) = (out.get_mut(..n), bytes.get(..4 * n)) {
        bytemuck::cast_slice_mut::<u32, u8>(dst).copy_from_slice(src);
    }
}

/// The 16-bit tokens of `chunk`, big-endian, into the leading `2·chunk.len()` bytes of `out`.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl",
    "x86_64+avx2",
    "x86_64+sse4.1"
))]
fn quantise_be16(q: Quantiser, chunk: &[f32], out: &mut [u8]) {
    for (t, &x) in out.chunks_exact_mut(2).zip(chunk) {
        // Tokens are below 2^16 here (nbits 16).
        t.copy_from_slice(&(q.token(x) as u16).to_be_bytes());
    }
}

/// The tokens of `chunk` into the leading elements of `out`.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl",
    "x86_64+avx2",
    "x86_64+sse4.1"
))]
fn quantise(q: Quantiser, chunk: &[f32], out: &mut [u32]) {
    for (t, &x) in out.iter_mut().zip(chunk) {
        *t = q.token(x);
    }
}

/// The first stage of datyp 129: the "style 2" header (4 words) and the tokens, quantised to
/// `nbits` (≤ 16) and each kept in a 16-bit slot, as librmn hands them to the turbo stage.
pub(crate) fn encode_tokens16(
    v: &[f32],
    nbits: u32,
    datyp: u8,
) -> Result<([u32; 4], Vec<u16>), EncodeError> {
    let q = Quantiser::new(v, nbits, 0xFFF, datyp)?;
    let mut tokens = vec_for(v.len() as u64)?;
    let mut chunk_tokens = [0u32; 256];
    for chunk in v.chunks(256) {
        quantise(q, chunk, &mut chunk_tokens);
        tokens.extend(chunk_tokens.iter().take(chunk.len()).map(|&t| t as u16));
    }
    Ok((q.header, tokens))
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values are the point
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A datyp-1 payload: four header words (not read by `decode_range`) and 16-bit tokens from
    /// bit 120, MSB first.
    fn payload16(tokens: &[u16]) -> Vec<u32> {
        let mut words = vec![0u32; (120 + 16 * tokens.len()).div_ceil(32)];
        for (k, &t) in tokens.iter().enumerate() {
            let bit = 120 + 16 * k;
            let (w, off) = (bit / 32, bit % 32);
            if off <= 16 {
                words[w] |= u32::from(t) << (16 - off);
            } else {
                words[w] |= u32::from(t) >> (off - 16);
                words[w + 1] |= u32::from(t) << (48 - off);
            }
        }
        words
    }

    proptest! {
        /// The byte-aligned 16-bit path writes what the bit writer writes.
        #[test]
        fn sixteen_bit_words_match_the_bit_writer(
            // Past 4100 values: more than two pieces of 1024 words.
            v in proptest::collection::vec(-1e6f32..1e6, 1..4500),
        ) {
            let q = Quantiser::new(&v, 16, 0x7FF, 1).unwrap();
            let total = bits::words_for_bits(TOKENS_BIT + v.len() as u64 * 16);
            prop_assert_eq!(
                encode16(q, &v, total, false).unwrap(),
                encode_with_writer(q, &v, 16, total).unwrap()
            );
        }

        /// The vectorised 16-bit path gives, for every element and every starting element,
        /// what the scalar formula gives for that token.
        #[test]
        fn sixteen_bit_kernel_matches_scalar(
            tokens in proptest::collection::vec(any::<u16>(), 0..300),
            first in 0usize..40,
            range_exp in -40i32..40,
            min in -1.0e6f32..1.0e6,
        ) {
            let words = payload16(&tokens);
            let h = PackedHeader { nbits: 16, scale: pow2(range_exp), min: f64::from(min) };
            let first = first.min(tokens.len());
            let mut out = vec![f32::NAN; tokens.len() - first];
            decode_range(&words, h, first as u64, &mut out).unwrap();
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
    fn pow2_matches_powi() {
        for e in -1023..=1023 {
            assert_eq!(pow2(e), 2f64.powi(e), "{e}");
        }
        assert_eq!(pow2(1024), f64::INFINITY);
        assert_eq!(pow2(-1024), 0.0);
        assert_eq!(pow2(-4096), 0.0);
    }

    #[test]
    fn header_fields() {
        // min = -1.5 (binary32 0xBFC00000): biased exponent 127 -> Mexp 976, sign 1,
        // fraction 0x400000; scale 2^-10; nbits 12.
        let w0 = 0x7FF << 20 | 3;
        let w1 = ((4096 - 10) << 16) | (976 << 4) | 1;
        let w2 = 0x8000_0000 | (0x40_0000 << 8);
        let w3 = 12 << 8;
        let h = PackedHeader::parse(&[w0, w1, w2, w3]).unwrap();
        assert_eq!(h.nbits, 12);
        assert_eq!(h.scale, 1.0 / 1024.0);
        assert_eq!(h.min, -1.5);
        assert_eq!(h.value(0), -1.5);
        assert_eq!(h.value(1024), ((1.0 * FUDGE) - 1.5) as f32);
        assert!(PackedHeader::parse(&[0x123 << 20, w1, w2, w3]).is_err());
        assert!(PackedHeader::parse(&[w0, w1]).is_err());
    }

    #[test]
    fn zero_min_when_mantissa_or_exponent_say_so() {
        let w1 = (4096 << 16) | (848 << 4);
        let h = PackedHeader::parse(&[0x7FF << 20, w1, 0x8000_0000, 8 << 8]).unwrap();
        assert_eq!(h.min, 0.0);
        let w1 = (4096 << 16) | (976 << 4);
        let h = PackedHeader::parse(&[0x7FF << 20, w1, 0, 8 << 8]).unwrap();
        assert_eq!(h.min, 0.0);
    }
}
