//! Reading MSB-first bit streams over 32-bit words (fst-format §0).
//!
//! A packed stream is a sequence of u32 word *values*; it is read from bit 31 of the first
//! word down to bit 0, then on from bit 31 of the next word, and a token may straddle two
//! words. Two tools live here:
//!
//! * [`BitReader`], a cursor for variable-width reads (the turbo codecs), where every read is
//!   checked against the end of the stream;
//! * [`unpack`], the bulk path for fixed-width tokens (datyp 1, 2, 4, 5, plain 133 mantissas): the
//!   stream length is validated once, then the hot loop runs without per-token checks, with
//!   specialised loops for the widths that matter (8, 12, 16, 24, 32 and the divisors of 32).

use super::CodecError;

/// A cursor over an MSB-first bit stream.
///
/// A read of `n` bits at bit position `pos` takes the two words around `pos` as one 64-bit
/// value and shifts the wanted bits out of it: no refill branch, so reads of varying widths
/// (the turbo codecs) do not suffer branch mispredictions. Every checked read fails with
/// [`CodecError::Truncated`] rather than reading past the end of `words`.
#[derive(Debug, Clone)]
pub(crate) struct BitReader<'a> {
    words: &'a [u32],
    /// Position of the next bit to read, counted from bit 31 of `words[0]`.
    pos: u64,
    /// `words.len() * 32`.
    end: u64,
}

impl<'a> BitReader<'a> {
    /// A reader positioned at bit 31 of `words[0]`.
    pub(crate) fn new(words: &'a [u32]) -> Self {
        BitReader {
            words,
            pos: 0,
            end: words.len() as u64 * 32,
        }
    }

    /// Bits left before the end of the stream.
    pub(crate) fn bits_left(&self) -> u64 {
        self.end - self.pos
    }

    fn truncated(&self, bits: u64) -> CodecError {
        CodecError::Truncated {
            needed: (self.pos + bits).div_ceil(32),
            available: self.words.len() as u64,
        }
    }

    /// The 64 bits starting at word `pos / 32`, bit 31 (zero past the end), shifted so that
    /// bit `pos` is the most significant.
    #[inline(always)] // the hot loops of the turbo codecs; measured
    #[allow(clippy::inline_always)]
    fn window(&self) -> u64 {
        let k = (self.pos >> 5) as usize;
        let pair = match self.words.get(k..k + 2) {
            Some(&[hi, lo]) => (u64::from(hi) << 32) | u64::from(lo),
            _ => u64::from(self.words.get(k).copied().unwrap_or(0)) << 32,
        };
        pair << (self.pos & 31)
    }

    /// The next 64 bits of the stream (zero past the end), without moving: unlike
    /// [`BitReader::window`], all 64 are valid whatever the position inside a word.
    #[inline(always)] // the turbo tile loop; measured
    #[allow(clippy::inline_always)]
    pub(crate) fn peek64(&self) -> u64 {
        let k = (self.pos >> 5) as usize;
        let word = |i: usize| u64::from(self.words.get(k + i).copied().unwrap_or(0));
        let (hi, lo) = match self.words.get(k..k + 3) {
            Some(&[a, b, c]) => ((u64::from(a) << 32) | u64::from(b), u64::from(c)),
            _ => ((word(0) << 32) | word(1), word(2)),
        };
        let off = (self.pos & 31) as u32;
        // off = 0 shifts the third word out entirely (a shift by 32 of a 64-bit value).
        (hi << off) | (lo >> (32 - off))
    }

    /// Move past `n` bits when the caller has already checked that `bits_left() >= n`.
    #[inline(always)]
    #[allow(clippy::inline_always)] // hot loop
    pub(crate) fn advance_prechecked(&mut self, n: u32) {
        self.pos = (self.pos + u64::from(n)).min(self.end);
    }

    /// Read `n` bits (0..=32) as an unsigned value.
    #[inline]
    pub(crate) fn read(&mut self, n: u32) -> Result<u32, CodecError> {
        debug_assert!(n <= 32);
        if self.pos + u64::from(n) > self.end {
            return Err(self.truncated(u64::from(n)));
        }
        Ok(self.read_prechecked(n))
    }

    /// Read `n` bits (0..=32) when the caller has already checked that `bits_left() >= n`.
    ///
    /// Past the end it yields zero bits instead of failing, so it can never read out of
    /// bounds; callers use it only inside a region whose length they validated.
    #[inline(always)]
    #[allow(clippy::inline_always)] // hot loop
    pub(crate) fn read_prechecked(&mut self, n: u32) -> u32 {
        let v = (self.window() >> 1 >> (63 - n)) as u32;
        self.pos += u64::from(n);
        v
    }

    /// Read `n` bits (1..=32) and sign-extend them from bit `n - 1` (after a check of the
    /// length, like [`BitReader::read_prechecked`]).
    #[inline(always)]
    #[allow(clippy::inline_always)] // hot loop
    pub(crate) fn read_signed_prechecked(&mut self, n: u32) -> i32 {
        let v = ((self.window() as i64) >> (64 - n)) as i32;
        self.pos += u64::from(n);
        v
    }

    /// Position of the next bit to read.
    pub(crate) fn position(&self) -> u64 {
        self.pos
    }

    /// Move to bit `pos` (a later read fails if it is past the end).
    pub(crate) fn seek(&mut self, pos: u64) {
        self.pos = pos.min(self.end);
    }

    /// Move past `bits` bits.
    pub(crate) fn skip(&mut self, bits: u64) -> Result<(), CodecError> {
        self.require(bits)?;
        self.pos += bits;
        Ok(())
    }

    /// Check that `bits` more bits are available.
    #[inline]
    pub(crate) fn require(&self, bits: u64) -> Result<(), CodecError> {
        if self.bits_left() < bits {
            return Err(self.truncated(bits));
        }
        Ok(())
    }
}

/// Sign-extend the low `n` bits (1..=32) of `v`.
#[cfg(test)]
fn sign_extend(v: u32, n: u32) -> i32 {
    let shift = 32 - n;
    ((v << shift) as i32) >> shift
}

/// Reverse the bytes of every word: native words to the big-endian memory order an XDF file
/// stores, and back (SSSE3/AVX2/AVX-512 byte shuffles where the CPU has them).
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl",
    "x86_64+avx2",
    "x86_64+ssse3"
))]
pub(crate) fn swap_bytes_in_place(words: &mut [u32]) {
    for w in words {
        *w = w.swap_bytes();
    }
}

/// Words needed to hold `bits` bits.
pub(crate) fn words_for_bits(bits: u64) -> u64 {
    bits.div_ceil(32)
}

/// Check that tokens `first .. first + count` of width `nbits`, the stream starting at bit
/// `start_bit`, lie inside `words`.
pub(crate) fn check_tokens(
    words: &[u32],
    start_bit: u64,
    first: u64,
    count: u64,
    nbits: u32,
) -> Result<(), CodecError> {
    let end_bit = first
        .checked_add(count)
        .and_then(|e| e.checked_mul(u64::from(nbits)))
        .and_then(|b| b.checked_add(start_bit))
        .ok_or(CodecError::Corrupt {
            reason: "bit offset overflows",
        })?;
    let needed = words_for_bits(end_bit);
    if needed > words.len() as u64 {
        return Err(CodecError::Truncated {
            needed,
            available: words.len() as u64,
        });
    }
    Ok(())
}

/// Unpack `out.len()` tokens of `nbits` bits (1..=32), the first one at bit `bit_offset` of
/// `words`, passing each token through `f`.
///
/// Fails with [`CodecError::Truncated`] if the tokens do not fit in `words`; otherwise every
/// element of `out` is written.
pub(crate) fn unpack<T, F>(
    words: &[u32],
    bit_offset: u64,
    nbits: u32,
    out: &mut [T],
    f: F,
) -> Result<(), CodecError>
where
    F: Fn(u32) -> T + Copy,
{
    if !(1..=32).contains(&nbits) {
        return Err(CodecError::BadHeader {
            field: "token width",
            found: u64::from(nbits),
        });
    }
    check_tokens(words, bit_offset, 0, out.len() as u64, nbits)?;
    if out.is_empty() {
        return Ok(());
    }
    // In bounds: check_tokens proved bit_offset < words.len() * 32.
    let first_word = (bit_offset / 32) as usize;
    let shift = (bit_offset % 32) as u32;
    let words = words.get(first_word..).unwrap_or(&[]);
    if shift == 0 {
        unpack_aligned(words.iter().copied(), nbits, out, f);
    } else {
        // Re-align the stream on word boundaries: aligned word k takes the low 32 - shift bits
        // of word k and the high `shift` bits of word k + 1 (zero past the end).
        let aligned = words
            .iter()
            .zip(words.iter().skip(1).chain(std::iter::once(&0)))
            .map(move |(&a, &b)| (a << shift) | (b >> (32 - shift)));
        unpack_aligned(aligned, nbits, out, f);
    }
    Ok(())
}

/// Dispatch on the token width to a loop specialised at compile time.
#[inline]
fn unpack_aligned<T, F, I>(words: I, nbits: u32, out: &mut [T], f: F)
where
    F: Fn(u32) -> T + Copy,
    I: Iterator<Item = u32>,
{
    match nbits {
        1 => unpack_divisor::<1, T, F, I>(words, out, f),
        2 => unpack_divisor::<2, T, F, I>(words, out, f),
        4 => unpack_divisor::<4, T, F, I>(words, out, f),
        8 => unpack_divisor::<8, T, F, I>(words, out, f),
        16 => unpack_divisor::<16, T, F, I>(words, out, f),
        32 => unpack_divisor::<32, T, F, I>(words, out, f),
        12 => unpack_block::<12, T, F, I>(words, out, f),
        24 => unpack_block::<24, T, F, I>(words, out, f),
        _ => unpack_generic(words, nbits, out, f),
    }
}

/// Widths dividing 32: every word holds exactly `32 / B` tokens, no straddling.
#[inline]
fn unpack_divisor<const B: u32, T, F, I>(mut words: I, out: &mut [T], f: F)
where
    F: Fn(u32) -> T + Copy,
    I: Iterator<Item = u32>,
{
    let per_word = (32 / B) as usize;
    let mask = (u64::from(u32::MAX) >> (32 - B)) as u32;
    let mut chunks = out.chunks_exact_mut(per_word);
    for chunk in chunks.by_ref() {
        // Never None: the caller validated that the stream holds every token.
        let w = words.next().unwrap_or(0);
        for (j, o) in chunk.iter_mut().enumerate() {
            let sh = 32 - B * (j as u32 + 1);
            *o = f((w >> sh) & mask);
        }
    }
    let rest = chunks.into_remainder();
    if !rest.is_empty() {
        let w = words.next().unwrap_or(0);
        for (j, o) in rest.iter_mut().enumerate() {
            let sh = 32 - B * (j as u32 + 1);
            *o = f((w >> sh) & mask);
        }
    }
}

/// Other compile-time widths: 32 tokens of B bits fill exactly B words, so the positions of
/// the tokens inside such a block are constants.
#[inline]
fn unpack_block<const B: u32, T, F, I>(mut words: I, out: &mut [T], f: F)
where
    F: Fn(u32) -> T + Copy,
    I: Iterator<Item = u32>,
{
    let mask = (1u64 << B) - 1;
    let mut block = [0u32; 33];
    let mut chunks = out.chunks_exact_mut(32);
    for chunk in chunks.by_ref() {
        for slot in block.iter_mut().take(B as usize) {
            *slot = words.next().unwrap_or(0);
        }
        extract_block::<B, T, F>(&block, chunk, mask, f);
    }
    let rest = chunks.into_remainder();
    if !rest.is_empty() {
        let needed = (rest.len() * B as usize).div_ceil(32);
        for (k, slot) in block.iter_mut().take(B as usize).enumerate() {
            *slot = if k < needed {
                words.next().unwrap_or(0)
            } else {
                0
            };
        }
        extract_block::<B, T, F>(&block, rest, mask, f);
    }
}

// In bounds: w + 1 <= (31 * B + B - 1) / 32 + 1 <= B <= 32 < 33 = block.len().
#[inline]
#[allow(clippy::indexing_slicing)]
fn extract_block<const B: u32, T, F>(block: &[u32; 33], out: &mut [T], mask: u64, f: F)
where
    F: Fn(u32) -> T + Copy,
{
    for (j, o) in out.iter_mut().enumerate() {
        let bit = j as u32 * B;
        let w = (bit / 32) as usize;
        let off = bit % 32;
        let pair = (u64::from(block[w]) << 32) | u64::from(block[w + 1]);
        *o = f(((pair >> (64 - off - B)) & mask) as u32);
    }
}

/// Any width 1..=32, with an accumulator.
#[inline]
fn unpack_generic<T, F, I>(mut words: I, nbits: u32, out: &mut [T], f: F)
where
    F: Fn(u32) -> T + Copy,
    I: Iterator<Item = u32>,
{
    let mask = (1u64 << nbits) - 1;
    let mut acc = 0u64;
    let mut avail = 0u32;
    for o in out {
        if avail < nbits {
            acc = (acc << 32) | u64::from(words.next().unwrap_or(0));
            avail += 32;
        }
        avail -= nbits;
        *o = f(((acc >> avail) & mask) as u32);
    }
}

/// The word pairs of 64-bit values `first .. first + len` (two u32 words per value, in the
/// order the caller's encoding defines), or `Truncated` if the payload is too short.
pub(crate) fn words64(words: &[u32], first: usize, len: usize) -> Result<&[u32], CodecError> {
    let needed = (first + len) * 2;
    words.get(first * 2..needed).ok_or(CodecError::Truncated {
        needed: needed as u64,
        available: words.len() as u64,
    })
}

/// An MSB-first bit stream being written (the inverse of [`unpack`]): tokens are appended
/// at the current bit position, straddling words where needed.
///
/// Bits go into a 64-bit accumulator and leave it a whole word at a time, so appending a
/// token costs a shift, an or and (every 32 bits) one push.
#[derive(Debug)]
pub(crate) struct BitWriter {
    words: Vec<u32>,
    /// Pending bits, left-aligned (the next bit to emit is bit 63).
    acc: u64,
    /// Pending bits in `acc` (0..32 between calls).
    pending: u32,
}

impl BitWriter {
    /// A writer appending to `words` (whose contents are kept): the first token goes to bit
    /// 31 of the next word pushed. `words` should have room for the whole stream.
    pub(crate) fn new(words: Vec<u32>) -> Self {
        BitWriter {
            words,
            acc: 0,
            pending: 0,
        }
    }

    /// Append the low `n` bits (0..=32) of `v`.
    #[inline(always)]
    #[allow(clippy::inline_always)] // per token in the packing loops
    pub(crate) fn put(&mut self, v: u32, n: u32) {
        if n == 0 {
            return;
        }
        let v = u64::from(v) & ((1u64 << n) - 1);
        self.acc |= v << (64 - n - self.pending);
        self.pending += n;
        if self.pending >= 32 {
            self.words.push((self.acc >> 32) as u32);
            self.acc <<= 32;
            self.pending -= 32;
        }
    }

    /// The stream, the last word padded with zero bits.
    pub(crate) fn finish(mut self) -> Vec<u32> {
        if self.pending > 0 {
            self.words.push((self.acc >> 32) as u32);
        }
        self.words
    }
}

/// Pack `tokens` as `nbits`-wide (1..=32) MSB-first tokens after the words already in `words`.
pub(crate) fn pack_into(
    words: Vec<u32>,
    nbits: u32,
    tokens: impl Iterator<Item = u32>,
) -> Vec<u32> {
    let mut w = BitWriter::new(words);
    for t in tokens {
        w.put(t, nbits);
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reference packer: MSB-first, tokens straddle words.
    fn pack(tokens: &[u32], nbits: u32, lead_bits: u32) -> Vec<u32> {
        let total = u64::from(lead_bits) + tokens.len() as u64 * u64::from(nbits);
        let mut words = vec![0u32; total.div_ceil(32) as usize + 1];
        let mut bit = u64::from(lead_bits);
        for &t in tokens {
            for k in (0..nbits).rev() {
                if (t >> k) & 1 == 1 {
                    words[(bit / 32) as usize] |= 1 << (31 - (bit % 32));
                }
                bit += 1;
            }
        }
        words
    }

    #[test]
    fn reader_reads_across_words() {
        let words = [0x1234_5678, 0x9ABC_DEF0];
        let mut r = BitReader::new(&words);
        assert_eq!(r.read(4).unwrap(), 0x1);
        assert_eq!(r.read(24).unwrap(), 0x23_4567);
        assert_eq!(r.read(8).unwrap(), 0x89);
        assert_eq!(r.read(0).unwrap(), 0);
        assert_eq!(r.read(28).unwrap(), 0xABC_DEF0);
        assert!(matches!(
            r.read(1),
            Err(CodecError::Truncated {
                needed: 3,
                available: 2
            })
        ));
    }

    #[test]
    fn reader_reads_full_words() {
        let words = [0xFFFF_FFFF, 0x0000_0001];
        let mut r = BitReader::new(&words);
        assert_eq!(r.read(32).unwrap(), 0xFFFF_FFFF);
        assert_eq!(r.read(32).unwrap(), 1);
        assert_eq!(r.bits_left(), 0);
    }

    #[test]
    fn sign_extension() {
        assert_eq!(sign_extend(0b1_1111, 5), -1);
        assert_eq!(sign_extend(0b0_1111, 5), 15);
        assert_eq!(sign_extend(0x1_0000, 17), -65536);
        assert_eq!(sign_extend(0x8000_0000, 32), i32::MIN);
    }

    #[test]
    fn unpack_rejects_short_streams() {
        let words = [0u32; 2];
        let mut out = [0u32; 5];
        assert!(matches!(
            unpack(&words, 0, 13, &mut out, |t| t),
            Err(CodecError::Truncated {
                needed: 3,
                available: 2
            })
        ));
        assert!(unpack(&words, 0, 12, &mut out, |t| t).is_ok());
        assert!(unpack(&words, 0, 0, &mut out, |t| t).is_err());
        assert!(unpack(&words, 0, 33, &mut out, |t| t).is_err());
    }

    proptest! {
        #[test]
        fn unpack_matches_reader(
            nbits in 1u32..=32,
            lead in 0u32..100,
            raw in proptest::collection::vec(any::<u32>(), 0..200),
        ) {
            let tokens: Vec<u32> =
                raw.iter().map(|&t| if nbits == 32 { t } else { t & ((1 << nbits) - 1) }).collect();
            let words = pack(&tokens, nbits, lead);
            let mut out = vec![0u32; tokens.len()];
            unpack(&words, u64::from(lead), nbits, &mut out, |t| t).unwrap();
            prop_assert_eq!(&out, &tokens);

            let mut r = BitReader::new(&words);
            let mut skip = lead;
            while skip > 0 {
                let k = skip.min(32);
                r.read(k).unwrap();
                skip -= k;
            }
            for &t in &tokens {
                prop_assert_eq!(r.read(nbits).unwrap(), t);
            }
        }

        #[test]
        fn peek64_is_the_next_64_bits(
            words in proptest::collection::vec(any::<u32>(), 0..6),
            pos in 0u64..200,
        ) {
            let mut r = BitReader::new(&words);
            r.seek(pos);
            let peeked = r.peek64();
            // Reference: bit by bit, zero past the end.
            let mut expected = 0u64;
            for k in 0..64 {
                let bit = r.position() + k;
                let w = words.get((bit / 32) as usize).copied().unwrap_or(0);
                expected = (expected << 1) | u64::from((w >> (31 - bit % 32)) & 1);
            }
            prop_assert_eq!(peeked, expected);
            r.advance_prechecked(40);
            prop_assert_eq!(r.position(), (pos.min(r.end) + 40).min(r.end));
        }

        #[test]
        fn reader_never_panics(words in proptest::collection::vec(any::<u32>(), 0..8),
                               widths in proptest::collection::vec(0u32..=32, 0..40)) {
            let mut r = BitReader::new(&words);
            let mut consumed = 0u64;
            for w in widths {
                if r.read(w).is_err() {
                    prop_assert!(consumed + u64::from(w) > words.len() as u64 * 32);
                    break;
                }
                consumed += u64::from(w);
                prop_assert_eq!(r.bits_left(), words.len() as u64 * 32 - consumed);
            }
        }
    }
}
