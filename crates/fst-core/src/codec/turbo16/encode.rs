//! The `armn_compress` 16-bit token encoder (fst-format §4.10), producing the streams and the
//! turbo payloads (§4.9) that librmn 19.5's `fstecr` writes for datyp 129, 130 and 134, and
//! the PARALLELOGRAM tile coder that datyp 133's exponent and mantissa planes share.
//!
//! The output is word for word librmn's wherever librmn is deterministic. The one exception
//! is a single byte of padding: librmn copies its stream with the length `1 + 4·words` bytes,
//! so one byte past the stream comes from uninitialised memory. We write 0 there (what a fresh
//! allocation holds).
//!
//! Choices librmn makes and we reproduce:
//! * predictor: MINIMUM (tiles of 5, from (0,0)) when `ni < 16`, `nj < 16` or `nbits ≤ 4`,
//!   otherwise PARALLELOGRAM (tiles of 3, from (1,1));
//! * the stream ends with 32 zero bits and only the words completed are kept;
//! * no compression ("write the base datyp instead") when the stream has as many words as half
//!   the number of tokens, or when `ni` or `nj` is 1;
//! * the words after the stream up to the payload length hold the tokens that the stream
//!   replaced, two per word, low half first (librmn compresses its token buffer in place).

use super::{Residuals, MINIMUM, PARALLELOGRAM};
use crate::codec::CodecError;

/// Tile size librmn uses for the MINIMUM predictor.
const MINIMUM_STEP: usize = 5;
/// Tile size librmn uses for the PARALLELOGRAM predictors (16-bit and datyp 133).
pub(crate) const PARALLELOGRAM_STEP: usize = 3;

/// MSB-first bit writer over 32-bit words, the mirror of [`super::BitReader`].
///
/// Bits gather in a 64-bit accumulator and each completed word is pushed. librmn's writer
/// stores a word only when a later token overflows it, and never stores its last word; its
/// streams end with 32 zero bits to push the data out. [`BitWriter::librmn_len`] and
/// [`BitWriter::finish`] count words the way it does.
#[derive(Debug)]
pub(crate) struct BitWriter {
    /// Words written before the stream (a payload's first words), then the stream's.
    words: Vec<u32>,
    /// Words before the stream.
    base: usize,
    acc: Accumulator,
}

/// The bits not yet stored, shared by both writers ([`BitWriter`] and [`Bits`]), which
/// differ only in where a completed word goes.
#[derive(Debug, Clone, Copy, Default)]
struct Accumulator {
    /// The last `pending` bits of `bits` are not yet written (higher bits are stale).
    bits: u64,
    pending: u32,
}

impl Accumulator {
    /// Append the `n` low bits of `v` (`n ≤ 32`; the bits of `v` above `n` must be 0);
    /// the word this completes, if any.
    #[inline(always)] // the hot loop of every encoder here; one shift, one or, one branch
    #[allow(clippy::inline_always)]
    fn put(&mut self, v: u32, n: u32) -> Option<u32> {
        debug_assert!(
            n <= 32 && (n == 32 || v >> n == 0),
            "{v:#x} wider than {n} bits"
        );
        self.bits = (self.bits << n) | u64::from(v);
        self.pending += n;
        if self.pending >= 32 {
            self.pending -= 32;
            Some((self.bits >> self.pending) as u32)
        } else {
            None
        }
    }

    /// Words librmn's writer would have stored once `completed` words are: a word is stored
    /// when a token overflows it, so a word just filled to its last bit is not stored yet.
    #[inline]
    fn librmn_len(self, completed: usize) -> usize {
        match (self.pending, completed) {
            (0, n) if n > 0 => n - 1,
            (_, n) => n,
        }
    }
}

impl BitWriter {
    /// A writer with room for `capacity` words reserved.
    pub(crate) fn with_capacity(capacity: usize) -> Result<Self, CodecError> {
        Self::after(&[], capacity)
    }

    /// A writer whose stream follows the words `prefix` in the same vector, with room for
    /// `capacity` more words reserved.
    pub(crate) fn after(prefix: &[u32], capacity: usize) -> Result<Self, CodecError> {
        let mut words = Vec::new();
        words
            .try_reserve_exact(prefix.len() + capacity)
            .map_err(|_e| CodecError::OutOfMemory {
                bytes: (prefix.len() + capacity) as u64 * 4,
            })?;
        words.extend_from_slice(prefix);
        Self::continuing(words, 0)
    }

    /// A writer whose stream follows `words`, with room for `capacity` more words reserved.
    pub(crate) fn continuing(mut words: Vec<u32>, capacity: usize) -> Result<Self, CodecError> {
        words
            .try_reserve(capacity)
            .map_err(|_e| CodecError::OutOfMemory {
                bytes: (words.len() + capacity) as u64 * 4,
            })?;
        Ok(BitWriter {
            base: words.len(),
            words,
            acc: Accumulator::default(),
        })
    }

    /// Append the `n` low bits of `v` (`n ≤ 32`; the bits of `v` above `n` must be 0).
    #[inline(always)] // as Accumulator::put
    #[allow(clippy::inline_always)]
    pub(crate) fn put(&mut self, v: u32, n: u32) {
        if let Some(word) = self.acc.put(v, n) {
            self.words.push(word);
        }
    }

    /// Words of the stream completed so far.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.words.len() - self.base
    }

    /// Words librmn's writer would have stored by now: a word is stored when a token
    /// overflows it, so a word just filled to its last bit is not stored yet.
    #[inline]
    pub(crate) fn librmn_len(&self) -> usize {
        self.acc.librmn_len(self.len())
    }

    /// Run `f` on [`Bits`] that continue this stream into the `bound` words made room for up
    /// front (`f` gets them and the number of words of the stream before them, must write no
    /// more, and gives the state back), then keep the words it wrote.
    ///
    /// The tile coder writes through this: with the state in locals and no capacity check
    /// per word, and the writer passed by value (a `&mut` one may alias the words it
    /// stores), the accumulator stays in registers; through `Vec::push` it went to memory
    /// on every write (measured).
    pub(crate) fn in_slice<R>(
        &mut self,
        bound: usize,
        f: impl FnOnce(&mut [u32], Bits, usize) -> (Bits, R),
    ) -> Result<R, CodecError> {
        let start = self.words.len();
        self.words
            .try_reserve(bound)
            .map_err(|_e| CodecError::OutOfMemory {
                bytes: (start + bound) as u64 * 4,
            })?;
        self.words.resize(start + bound, 0);
        let bits = Bits {
            at: 0,
            acc: self.acc,
        };
        let before = start - self.base;
        let out = self.words.get_mut(start..).unwrap_or_default();
        let (Bits { at, acc }, r) = f(out, bits, before);
        if at > bound {
            return Err(CodecError::Corrupt {
                reason: "turbo tile band longer than its bound",
            });
        }
        self.words.truncate(start + at);
        self.acc = acc;
        Ok(r)
    }

    /// Append librmn's 32 zero bits and return the prefix and the words of the stream librmn
    /// stores (every data bit, and the part of the trailer that shares their words or fills
    /// one before the last).
    pub(crate) fn finish(mut self) -> Vec<u32> {
        self.put(0, 16);
        self.put(0, 16);
        let stored = self.base + self.librmn_len();
        self.words.truncate(stored);
        self.words
    }
}

/// A [`BitWriter`] continued into a slice of words made ready beforehand
/// ([`BitWriter::in_slice`]). The words are not part of it: it is `Copy`, so that the tile
/// coder holds it in a local that nothing aliases and that stays in registers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bits {
    /// Words of the slice written.
    at: usize,
    acc: Accumulator,
}

impl Bits {
    /// [`BitWriter::put`] into `out`. A word past `out` is counted but not stored, and
    /// [`BitWriter::in_slice`] reports it.
    #[inline(always)] // as BitWriter::put
    #[allow(clippy::inline_always)]
    fn put(&mut self, out: &mut [u32], v: u32, n: u32) {
        if let Some(word) = self.acc.put(v, n) {
            if let Some(slot) = out.get_mut(self.at) {
                *slot = word;
            }
            self.at += 1;
        }
    }

    /// [`BitWriter::librmn_len`], `before` words preceding the slice.
    #[inline]
    fn librmn_len(&self, before: usize) -> usize {
        self.acc.librmn_len(before + self.at)
    }
}

/// Bits needed for `v` (0 for 0).
#[inline]
pub(crate) fn bit_length(v: u32) -> u32 {
    u32::BITS - v.leading_zeros()
}

/// The codec header word (fst-format §4.10) for `predictor` with librmn's degree, levels and
/// version.
pub(crate) fn header_word(predictor: u32, step: u32, nbits: u32) -> u32 {
    let (degree, version) = match predictor {
        MINIMUM => (0, 0),
        PARALLELOGRAM => (1, 0),
        _ => (1, 2), // PARALLELOGRAM32 (datyp 133)
    };
    predictor | (degree << 4) | (step << 7) | (nbits << 10) | (1 << 15) | (version << 18)
}

/// Where a datyp-129/130/134 payload puts the codec stream, and the header words before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing<'a> {
    /// Datyp 129: words 1..=4 are the 4-word header of datyp 1's 16-bit-slot packing ("style
    /// 2", marker 0xFFF, fst-format §4.9), as the quantiser wrote it.
    Packed(&'a [u32; 4]),
    /// Datyp 130: the stream follows the length word.
    Unsigned,
    /// Datyp 134: words 1..=3 are `float_packer`'s header (fst-format §4.6).
    FloatPacker(&'a [u32; 3]),
}

impl Framing<'_> {
    /// The record's datyp (without the missing-value flag).
    fn datyp(&self) -> u8 {
        match self {
            Framing::Packed(_) => 129,
            Framing::Unsigned => 130,
            Framing::FloatPacker(_) => 134,
        }
    }

    /// The header words.
    fn header(&self) -> &[u32] {
        match self {
            Framing::Packed(h) => &h[..],
            Framing::Unsigned => &[],
            Framing::FloatPacker(h) => &h[..],
        }
    }

    /// librmn's byte count added to the stream's when it sets the payload length (`fstecr`:
    /// 16 for 129, 4 for 130, 16 + 12 for 134; not the bytes the words before the stream
    /// take, but what the length word must reproduce).
    fn extra_bytes(&self) -> usize {
        match self {
            Framing::Packed(_) => 16,
            Framing::Unsigned => 4,
            Framing::FloatPacker(_) => 28,
        }
    }
}

/// Encode the turbo payload of a datyp 129, 130 or 134 record (fst-format §4.9) as librmn
/// 19.5's `fstecr` writes it: word 0 the payload length `L` (even), then the header words of
/// `framing`, the `armn_compress` stream of `tokens`, and padding up to `L`.
///
/// `tokens` are the `ni × nj` quantised values (Fortran order) of the first stage (datyp 1's
/// 16-bit-slot tokens, the integers, or `float_packer`'s tokens), each `< 2^nbits`; bits above
/// `nbits` are dropped, as librmn's writer masks its 32-bit integers.
///
/// Returns `Ok(None)` where librmn gives up on turbo and writes the base datyp instead: `ni`
/// or `nj` is 1, or the compressed stream would not be smaller than the tokens. Turbo records
/// have `nk = 1` (librmn 19.5 writes unreadable data for `nk > 1`), so there is no `nk`.
///
/// Errors: `nbits` outside 1..=16 ([`CodecError::Unsupported`]), `tokens.len() != ni·nj` or
/// an empty shape ([`CodecError::InvalidShape`]), no memory for the output.
pub(crate) fn encode_payload(
    framing: Framing<'_>,
    tokens: &[u16],
    ni: usize,
    nj: usize,
    nbits: u32,
) -> Result<Option<Vec<u32>>, CodecError> {
    let header = framing.header();
    let at = 1 + header.len();
    let mut prefix = [0u32; 5];
    let prefix = prefix.get_mut(..at).unwrap_or_default();
    if let Some((_, h)) = prefix.split_first_mut() {
        h.copy_from_slice(header);
    }
    let Some(mut payload) = compress_after(prefix, tokens, ni, nj, nbits, framing.datyp())? else {
        return Ok(None);
    };
    let stream_len = payload.len() - at;
    // librmn's compressed length in bytes is 1 + 4·(stream words), and the payload length is
    // that plus `extra_bytes`, in 64-bit units, as 32-bit words.
    let len = 2 * (framing.extra_bytes() + 1 + 4 * stream_len).div_ceil(8);
    // What librmn's in-place compression leaves behind the stream: its token buffer, whose
    // 16-bit halves it had swapped into memory order (low half first) before compressing.
    let pairs = tokens.chunks(2).skip(stream_len).map(|pair| match *pair {
        [lo, hi] => u32::from(lo) | (u32::from(hi) << 16),
        [lo] => u32::from(lo),
        _ => 0,
    });
    payload.extend(
        pairs
            .chain(std::iter::repeat(0))
            .take(len - at - stream_len),
    );
    // The byte librmn copies from uninitialised memory (the low byte of the first word after
    // the stream).
    if let Some(first) = payload.get_mut(at + stream_len) {
        *first &= !0xFF;
    }
    if let Some(l) = payload.first_mut() {
        *l = len as u32;
    }
    Ok(Some(payload))
}

/// Compress `ni × nj` tokens (each `< 2^nbits`, higher bits dropped) into an `armn_compress`
/// stream: word 0 the codec header, then the bit stream. `Ok(None)` when librmn would not
/// compress (`ni` or `nj` is 1, or the stream would not be smaller than the tokens).
///
/// Errors as [`encode_payload`] (`nbits` outside 1..=16 is reported as datyp 130).
#[allow(dead_code)] // the bare stream, for callers that frame it themselves, and the tests
pub(crate) fn compress(
    tokens: &[u16],
    ni: usize,
    nj: usize,
    nbits: u32,
) -> Result<Option<Vec<u32>>, CodecError> {
    compress_after(&[], tokens, ni, nj, nbits, 130)
}

/// [`compress`], the stream following the words `prefix` in the vector returned; errors
/// name `datyp`.
fn compress_after(
    prefix: &[u32],
    tokens: &[u16],
    ni: usize,
    nj: usize,
    nbits: u32,
    datyp: u8,
) -> Result<Option<Vec<u32>>, CodecError> {
    check_arguments(tokens.len(), ni, nj, nbits, 1..=16, datyp)?;
    if ni == 1 || nj == 1 {
        return Ok(None);
    }
    // librmn keeps the stream only if its byte length 1 + 4·words is below the tokens' 2·n.
    let limit = tokens.len().div_ceil(2);
    let mask = if nbits == 16 {
        0xFFFF
    } else {
        (1u16 << nbits) - 1
    };
    let masked;
    let tokens = if tokens.iter().fold(0, |a, &t| a | t) & !mask == 0 {
        tokens
    } else {
        masked = tokens.iter().map(|&t| t & mask).collect::<Vec<u16>>();
        &masked[..]
    };
    if ni < 16 || nj < 16 || nbits <= 4 {
        return minimum(prefix, tokens, ni, nj, nbits, limit);
    }
    // The width field takes 4 bits unless some residual needs 17 (possible only with 15- or
    // 16-bit tokens): encode with 4 and start again with 5 in that rare case, which gives the
    // stream librmn's prescan of every residual gives.
    for c in [4, 5] {
        let tiles = Tiles {
            ni,
            nj,
            c,
            first_bits: nbits,
            residuals: Residuals::Turbo16,
            budget: Budget::Words(limit),
        };
        // Room for the stream (which stops at the end of the band that reaches `limit`) and
        // the padding up to the payload length.
        let mut w = BitWriter::after(prefix, limit + 8 + tiles.band_bound())?;
        w.put(
            header_word(PARALLELOGRAM, PARALLELOGRAM_STEP as u32, nbits),
            32,
        );
        match tiles.encode(tokens, i32::from, &mut w)? {
            Outcome::Done => {
                let stream = w.finish();
                return Ok((stream.len() - prefix.len() < limit).then_some(stream));
            }
            Outcome::TooLarge => return Ok(None),
            Outcome::WideField => {}
        }
    }
    Err(CodecError::Corrupt {
        reason: "turbo residual width above the 5-bit field",
    })
}

/// The checks every encoder makes: `nbits` in `widths` (else [`CodecError::Unsupported`] for
/// `datyp`), `len` points on a non-empty `ni × nj` grid (else [`CodecError::InvalidShape`]).
pub(crate) fn check_arguments(
    len: usize,
    ni: usize,
    nj: usize,
    nbits: u32,
    widths: std::ops::RangeInclusive<u32>,
    datyp: u8,
) -> Result<(), CodecError> {
    if !widths.contains(&nbits) {
        return Err(CodecError::Unsupported {
            datyp,
            nbits: nbits as u8,
        });
    }
    if ni == 0 || nj == 0 || Some(len) != ni.checked_mul(nj) {
        return Err(CodecError::InvalidShape {
            ni: ni as u32,
            nj: nj as u32,
            nk: 1,
        });
    }
    Ok(())
}

/// MINIMUM predictor: per 5 × 5 tile (truncated at the edges) a 4-bit width `w`, then the
/// tile minimum and `w`-bit offsets, or (`w = 15`, for ranges of 15 and 16 bits) the raw
/// 16-bit tokens.
fn minimum(
    prefix: &[u32],
    tokens: &[u16],
    ni: usize,
    nj: usize,
    nbits: u32,
    limit: usize,
) -> Result<Option<Vec<u32>>, CodecError> {
    let step = MINIMUM_STEP;
    let mut w = BitWriter::after(prefix, limit + 8)?;
    w.put(header_word(MINIMUM, step as u32, nbits), 32);
    let rows = |j0: usize, th: usize, i0: usize, tw: usize| {
        tokens
            .chunks_exact(ni)
            .skip(j0)
            .take(th)
            .flat_map(move |row| row.iter().skip(i0).take(tw))
            .map(|&t| u32::from(t))
    };
    for j0 in (0..nj).step_by(step) {
        let th = step.min(nj - j0);
        for i0 in (0..ni).step_by(step) {
            let tw = step.min(ni - i0);
            let (lo, hi) =
                rows(j0, th, i0, tw).fold((u32::MAX, 0), |(lo, hi), t| (lo.min(t), hi.max(t)));
            let width = bit_length(hi - lo).min(15);
            w.put(width, 4);
            match width {
                0 => w.put(lo, nbits),
                15 => rows(j0, th, i0, tw).for_each(|t| w.put(t, 16)),
                _ => {
                    w.put(lo, nbits);
                    rows(j0, th, i0, tw).for_each(|t| w.put(t - lo, width));
                }
            }
        }
        if w.len() >= limit {
            return Ok(None);
        }
    }
    let stream = w.finish();
    Ok((stream.len() - prefix.len() < limit).then_some(stream))
}

/// When a PARALLELOGRAM encoding stops early.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Budget {
    /// Give up once the writer holds this many words (16-bit codec: not smaller than the
    /// tokens).
    Words(usize),
    /// Datyp 133 mantissas: librmn's test after each tile that has residuals, "fewer than
    /// `cur + 1 + (width + 9·K) / 32` words left of `remaining`" (`remaining` being the words
    /// of the uncompressed record minus those written before the mantissa stream).
    Remaining {
        /// Words left, as librmn computes them (may be negative).
        remaining: i64,
        /// Mantissa width K.
        k: u32,
    },
    /// No limit.
    None,
}

/// Why [`Tiles::encode`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The whole plane is written.
    Done,
    /// The budget ran out: librmn writes the record uncompressed.
    TooLarge,
    /// A tile width does not fit the width field: start again with a wider one.
    WideField,
}

/// The PARALLELOGRAM coder: `c`, the first row and column in `first_bits` bits, then per
/// 3 × 3 tile from (1,1) a `c`-bit width code and the residuals
/// `r = v[i,j] − v[i−1,j] − v[i,j−1] + v[i−1,j−1]` in two's complement.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tiles {
    pub(crate) ni: usize,
    pub(crate) nj: usize,
    /// Width of the per-tile width field, written first in 3 bits.
    pub(crate) c: u32,
    pub(crate) first_bits: u32,
    pub(crate) residuals: Residuals,
    pub(crate) budget: Budget,
}

impl Tiles {
    /// Write the plane `v` (`ni·nj` elements whose values `value` gives, each
    /// `< 2^first_bits` and `< 2^24`) to `w`. The plane is read through `value` so that datyp
    /// 133 codes its exponents and mantissas straight from the floats' bits, without planes in
    /// memory.
    pub(crate) fn encode<T: Copy>(
        &self,
        v: &[T],
        value: impl Fn(T) -> i32 + Copy,
        w: &mut BitWriter,
    ) -> Result<Outcome, CodecError> {
        const STEP: usize = PARALLELOGRAM_STEP;
        let (ni, nj) = (self.ni, self.nj);
        if ni < 2 || nj < 2 || v.len() != ni * nj {
            return Err(CodecError::InvalidShape {
                ni: ni as u32,
                nj: nj as u32,
                nk: 1,
            });
        }
        w.put(self.c, 3);
        let mut rows = v.chunks_exact(ni);
        for &x in rows.next().unwrap_or_default() {
            w.put(value(x) as u32, self.first_bits);
        }
        for row in rows {
            if let Some(&x) = row.first() {
                w.put(value(x) as u32, self.first_bits);
            }
        }
        let max_code = (1u32 << self.c) - 1;
        // Residuals of one band of tile rows, row after row (column 0 unused).
        let mut band = crate::alloc::try_vec_filled(STEP * ni, 0i32).map_err(|_e| {
            CodecError::OutOfMemory {
                bytes: (STEP * ni) as u64 * 4,
            }
        })?;
        // OR of the residual magnitudes of each column of a band.
        let mut columns =
            crate::alloc::try_vec_filled(ni, 0u32).map_err(|_e| CodecError::OutOfMemory {
                bytes: ni as u64 * 4,
            })?;
        for j0 in (1..nj).step_by(STEP) {
            let th = STEP.min(nj - j0);
            let pairs = v
                .chunks_exact(ni)
                .skip(j0 - 1)
                .zip(v.chunks_exact(ni).skip(j0));
            for (out, (up, cur)) in band.chunks_exact_mut(ni).zip(pairs).take(th) {
                residual_row(up, cur, out, value);
            }
            let rows = band.get(..th * ni).unwrap_or_default();
            let bound = self.band_bound();
            if let Some(stop) = w.in_slice(bound, |out, bits, before| {
                write_band(*self, out, bits, before, rows, &mut columns, max_code)
            })? {
                return Ok(stop);
            }
            if let Budget::Words(limit) = self.budget {
                if w.len() >= limit {
                    return Ok(Outcome::TooLarge);
                }
            }
        }
        Ok(Outcome::Done)
    }
}

impl Tiles {
    /// Words one band of tiles can take at most: every residual in 32 bits (no width code
    /// means more; the 16-bit codec's 5-bit field allows 18), a code per tile, and the
    /// accumulator's word. Writers reserve it beyond their budget, so that the last band
    /// does not reallocate the stream.
    pub(crate) fn band_bound(&self) -> usize {
        let ni = self.ni;
        PARALLELOGRAM_STEP * ni
            + (ni.div_ceil(PARALLELOGRAM_STEP) * self.c as usize).div_ceil(32)
            + 2
    }
}

/// Write the tiles of one band of `this` (`rows`: its residual rows, `ni` each, column 0
/// unused) to `out` through `bits` (`before`: words of the stream before `out`), and say why
/// the encoding stops if it does. `columns` is scratch of `ni` elements.
///
/// Compiled also with BMI2 (variable shifts in one µop, against three for `shl cl`) and lzcnt
/// for the width codes, where the CPU has them: the bit writer is scalar, and these are what
/// it spends its time on.
#[allow(clippy::too_many_arguments)]
#[multiversion::multiversion(targets("x86_64+avx2+bmi1+bmi2+lzcnt"))]
fn write_band(
    this: Tiles,
    out: &mut [u32],
    mut bits: Bits,
    before: usize,
    rows: &[i32],
    columns: &mut [u32],
    max_code: u32,
) -> (Bits, Option<Outcome>) {
    this.band_body(out, &mut bits, before, rows, columns, max_code)
        .map_or((bits, None), |stop| (bits, Some(stop)))
}

impl Tiles {
    /// The work of [`write_band`]: `Some` when the encoding stops.
    #[inline(always)] // into each of write_band's versions
    #[allow(clippy::inline_always)]
    fn band_body(
        &self,
        out: &mut [u32],
        bits: &mut Bits,
        before: usize,
        rows: &[i32],
        columns: &mut [u32],
        max_code: u32,
    ) -> Option<Outcome> {
        const STEP: usize = PARALLELOGRAM_STEP;
        let ni = self.ni;
        let mut from = 1;
        // Whole 3 × 3 tiles (all but the last band and column of tiles) take the direct
        // path: the magnitudes of each column ORed in one vectorisable pass, then three
        // row slices per tile.
        if let [r0, r1, r2] = rows.chunks_exact(ni).collect::<ArrayVec3<'_>>().rows() {
            for (((o, a), b), c) in columns.iter_mut().zip(*r0).zip(*r1).zip(*r2) {
                *o = a.unsigned_abs() | b.unsigned_abs() | c.unsigned_abs();
            }
            let whole = (ni - 1) / STEP;
            for i0 in (0..whole).map(|t| 1 + t * STEP) {
                let cols = i0..i0 + STEP;
                let (Some(m), Some(a), Some(b), Some(c)) = (
                    columns.get(cols.clone()),
                    r0.get(cols.clone()),
                    r1.get(cols.clone()),
                    r2.get(cols),
                ) else {
                    break;
                };
                let any = m.iter().fold(0, |x, &y| x | y);
                if let Some(stop) = self.tile(out, bits, before, &[a, b, c], any, max_code) {
                    return Some(stop);
                }
            }
            from = 1 + whole * STEP;
        }
        for i0 in (from..ni).step_by(STEP) {
            let tw = STEP.min(ni - i0);
            let tile: ArrayVec3<'_> = rows
                .chunks_exact(ni)
                .map(|row| row.get(i0..i0 + tw).unwrap_or_default())
                .collect();
            let any = tile
                .rows()
                .iter()
                .flat_map(|row| row.iter())
                .fold(0, |x, r| x | r.unsigned_abs());
            if let Some(stop) = self.tile(out, bits, before, tile.rows(), any, max_code) {
                return Some(stop);
            }
        }
        None
    }

    /// Write one tile, given as its rows and the OR of its residuals' magnitudes, or say why
    /// the encoding stops.
    #[inline(always)] // called once per tile from two loops; measured
    #[allow(clippy::inline_always)]
    fn tile(
        &self,
        out: &mut [u32],
        w: &mut Bits,
        before: usize,
        rows: &[&[i32]],
        any: u32,
        max_code: u32,
    ) -> Option<Outcome> {
        let needed = bit_length(any);
        let (code, width) = match (self.residuals, needed) {
            (_, 0) => (0, 0),
            (Residuals::Turbo16, 15 | 16) => (15, 17),
            (_, n) => (n, n + 1),
        };
        if code > max_code {
            return Some(Outcome::WideField);
        }
        w.put(out, code, self.c);
        if width == 0 {
            return None;
        }
        let mask = u32::MAX >> (32 - width);
        for row in rows {
            match **row {
                // A tile row in one write, or two.
                [a, b, c] if width <= 10 => w.put(
                    out,
                    ((a as u32 & mask) << (2 * width))
                        | ((b as u32 & mask) << width)
                        | (c as u32 & mask),
                    3 * width,
                ),
                [a, b, c] if width <= 16 => {
                    w.put(
                        out,
                        ((a as u32 & mask) << width) | (b as u32 & mask),
                        2 * width,
                    );
                    w.put(out, c as u32 & mask, width);
                }
                _ => {
                    for &r in *row {
                        w.put(out, r as u32 & mask, width);
                    }
                }
            }
        }
        if let Budget::Remaining { remaining, k } = self.budget {
            let wanted = w.librmn_len(before) as i64 + 1 + i64::from((needed + 9 * k) >> 5);
            if remaining < wanted {
                return Some(Outcome::TooLarge);
            }
        }
        None
    }
}

/// Up to three row slices of a band, collected without allocating.
#[derive(Default)]
struct ArrayVec3<'a> {
    rows: [&'a [i32]; 3],
    len: usize,
}

impl<'a> FromIterator<&'a [i32]> for ArrayVec3<'a> {
    fn from_iter<I: IntoIterator<Item = &'a [i32]>>(iter: I) -> Self {
        let mut v = ArrayVec3::default();
        for (slot, row) in v.rows.iter_mut().zip(iter) {
            *slot = row;
            v.len += 1;
        }
        v
    }
}

impl<'a> ArrayVec3<'a> {
    fn rows(&self) -> &[&'a [i32]] {
        self.rows.get(..self.len).unwrap_or_default()
    }
}

/// Residuals of row `cur` below row `up`, columns 1.. (column 0 of `out` is left alone).
#[inline]
fn residual_row<T: Copy>(up: &[T], cur: &[T], out: &mut [i32], value: impl Fn(T) -> i32) {
    for (((o, &u), &c), (&ul, &l)) in out
        .iter_mut()
        .zip(up)
        .zip(cur)
        .skip(1)
        .zip(up.iter().zip(cur))
    {
        *o = value(c)
            .wrapping_sub(value(u))
            .wrapping_sub(value(l))
            .wrapping_add(value(ul));
    }
}

#[cfg(test)]
pub(crate) mod tests;
