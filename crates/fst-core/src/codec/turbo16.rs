//! The `armn_compress` 16-bit token codec (fst-format §4.10), second stage of datyp 129, 130
//! and 134, plus the tiled PARALLELOGRAM predictor it shares with datyp 133 (§4.11).
//!
//! The codec turns an `ni × nj` plane of 16-bit tokens into a bit stream. Word 0 of the
//! stream is a header (predictor, tile step, token width); the bits follow from bit 31 of
//! word 1. Two predictors are decoded:
//!
//! * MINIMUM (3): per `step × step` tile, a 4-bit width `w`, the tile minimum, and `w`-bit
//!   offsets (`w = 0`: constant tile; `w = 15` or `16`: raw 16-bit values).
//! * PARALLELOGRAM (4): the first row and column verbatim, then per tile a `c`-bit width and
//!   signed residuals of the prediction `v[i-1,j] + v[i,j-1] − v[i-1,j-1]`.
//!
//! The legacy SAMPLE predictor (1, disabled in the encoder since 2006, bicubic prediction on a
//! coarse-grid pyramid) is reported as unsupported: there is no known sample file to check an
//! implementation against.
//!
//! The encoder, which reproduces librmn's streams, is in [`encode`].
//!
//! Decoding writes the tokens straight into the caller's output buffer (as `u32`), first the
//! residuals and then, in place, the reconstructed values, so it needs no scratch memory.

use super::bits::BitReader;
use super::CodecError;

pub(crate) mod encode;

/// Predictor codes of the codec header.
const SAMPLE: u32 = 1;
const MINIMUM: u32 = 3;
const PARALLELOGRAM: u32 = 4;
/// The 32-bit variant used by datyp 133.
pub(crate) const PARALLELOGRAM32: u32 = 5;

/// The codec header (word 0 of a compressed stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CodecHeader {
    /// Predictor: 1 SAMPLE, 3 MINIMUM, 4 PARALLELOGRAM, 5 PARALLELOGRAM32 (datyp 133).
    pub(crate) predictor: u32,
    /// Tile size.
    pub(crate) step: u32,
    /// Token width (datyp 133: mantissa bits kept).
    pub(crate) nbits: u32,
}

impl CodecHeader {
    /// Decode the bit fields of the header word.
    pub(crate) fn parse(w: u32) -> Self {
        CodecHeader {
            predictor: w & 0xF,
            step: (w >> 7) & 0x7,
            nbits: (w >> 10) & 0x1F,
        }
    }
}

/// An element of a decoded plane: 32-bit tokens and mantissas, or 8-bit exponents (datyp
/// 133), which keeps the exponent scratch plane at one byte per point. Values are computed in
/// wrapping 32-bit arithmetic and truncated when stored, which is exact because every plane
/// is defined modulo a power of two no larger than the slot.
pub(crate) trait Slot: Copy + Send + Sync {
    /// Store `v` (truncated to the slot width).
    fn from_u32(v: u32) -> Self;
    /// The stored value.
    fn get(self) -> u32;
}

impl Slot for u32 {
    #[inline]
    fn from_u32(v: u32) -> Self {
        v
    }
    #[inline]
    fn get(self) -> u32 {
        self
    }
}

impl Slot for u8 {
    #[inline]
    fn from_u32(v: u32) -> Self {
        v as u8
    }
    #[inline]
    fn get(self) -> u32 {
        u32::from(self)
    }
}

/// Where each `step × step` tile of a region lies: tile origins `start, start + step, …` along
/// both axes, tiles truncated at the grid edge.
#[derive(Debug, Clone, Copy)]
struct Tiling {
    ni: usize,
    nj: usize,
    start: usize,
    step: usize,
}

impl Tiling {
    fn count(&self) -> u64 {
        let along = |n: usize| n.saturating_sub(self.start).div_ceil(self.step) as u64;
        along(self.ni).saturating_mul(along(self.nj))
    }
}

/// Decompress the first `ni × nj` plane of 16-bit tokens from `stream` (word 0 = codec header)
/// into `out` (`out.len() == ni·nj`), one token per element.
pub(crate) fn decompress(
    stream: &[u32],
    ni: usize,
    nj: usize,
    out: &mut [u32],
    threads: usize,
) -> Result<(), CodecError> {
    let h = check_header(stream, ni, nj)?;
    let body = stream.get(1..).unwrap_or(&[]);
    let mut r = BitReader::new(body);
    match h.predictor {
        MINIMUM => minimum(&mut r, ni, nj, h.step as usize, h.nbits, out),
        _ => parallelogram(
            &mut r,
            ni,
            nj,
            h.step as usize,
            h.nbits,
            Residuals::Turbo16,
            0xFFFF,
            out,
            threads,
        ),
    }
}

/// Validate the codec header of a 16-bit stream and, before anything is allocated by the
/// caller, that the stream is long enough for the minimum a valid encoding of `ni × nj` takes
/// (so that a tiny payload cannot announce a huge field).
pub(crate) fn check_header(
    stream: &[u32],
    ni: usize,
    nj: usize,
) -> Result<CodecHeader, CodecError> {
    let &w0 = stream.first().ok_or(CodecError::Truncated {
        needed: 1,
        available: 0,
    })?;
    let h = CodecHeader::parse(w0);
    match h.predictor {
        MINIMUM | PARALLELOGRAM => {}
        SAMPLE => {
            return Err(CodecError::UnsupportedCompression {
                what: "turbo SAMPLE predictor (legacy armn_compress, pre-2006)",
            })
        }
        other => {
            return Err(CodecError::BadHeader {
                field: "turbo predictor",
                found: u64::from(other),
            })
        }
    }
    if !(1..=7).contains(&h.step) {
        return Err(CodecError::BadHeader {
            field: "turbo tile step",
            found: u64::from(h.step),
        });
    }
    if !(1..=16).contains(&h.nbits) {
        return Err(CodecError::BadHeader {
            field: "turbo token width",
            found: u64::from(h.nbits),
        });
    }
    let body_bits = (stream.len() as u64 - 1) * 32;
    let nbits = u64::from(h.nbits);
    let step = h.step as usize;
    let min_bits = if h.predictor == MINIMUM {
        Tiling {
            ni,
            nj,
            start: 0,
            step,
        }
        .count()
        .saturating_mul(4 + nbits)
    } else {
        let c = stream.get(1).map_or(0, |w| w >> 29);
        let edges = (ni as u64 + nj as u64)
            .saturating_sub(1)
            .saturating_mul(nbits);
        let tiles = Tiling {
            ni,
            nj,
            start: 1,
            step,
        }
        .count()
        .saturating_mul(u64::from(c));
        edges.saturating_add(tiles).saturating_add(3)
    };
    if min_bits > body_bits {
        return Err(CodecError::Truncated {
            needed: 1 + min_bits.div_ceil(32),
            available: stream.len() as u64,
        });
    }
    Ok(h)
}

/// MINIMUM predictor.
fn minimum(
    r: &mut BitReader<'_>,
    ni: usize,
    nj: usize,
    step: usize,
    nbits: u32,
    out: &mut [u32],
) -> Result<(), CodecError> {
    for j0 in (0..nj).step_by(step) {
        let th = step.min(nj - j0);
        for i0 in (0..ni).step_by(step) {
            let tw = step.min(ni - i0);
            let w = r.read(4)?;
            let npts = (tw * th) as u64;
            let (width, base) = match w {
                0 => (0, r.read(nbits)?),
                15 | 16 => (16, 0),
                _ => (w, r.read(nbits)?),
            };
            r.require(npts * u64::from(width))?;
            for j in j0..j0 + th {
                let row = tile_row(out, ni, j, i0, tw)?;
                for o in row {
                    *o = r.read_prechecked(width).wrapping_add(base) & 0xFFFF;
                }
            }
        }
    }
    Ok(())
}

/// The `tw` elements of row `j` starting at column `i0`.
#[inline]
fn tile_row<T>(
    out: &mut [T],
    ni: usize,
    j: usize,
    i0: usize,
    tw: usize,
) -> Result<&mut [T], CodecError> {
    let start = j * ni + i0;
    out.get_mut(start..start + tw).ok_or(CodecError::Corrupt {
        reason: "tile outside the grid",
    })
}

/// How residual widths are coded in a PARALLELOGRAM stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Residuals {
    /// 16-bit codec: width `w + 1`, except that `w = 15` and `w = 16` mean 17 bits.
    Turbo16,
    /// datyp 133 streams: always `w + 1`.
    Plain,
}

/// PARALLELOGRAM predictor: decode `ni × nj` values of `first_bits` bits into `out`, modulo
/// `mask + 1` (`0xFFFF` for 16-bit tokens, `0xFF` for 133 exponents, `u32::MAX` for 133
/// mantissas).
///
/// With `threads > 1` the residual tiles are parsed by several threads: a quick first pass
/// reads only the per-tile widths to find where each band of tile rows starts in the stream
/// (a tile's size follows from its width), then each thread parses its bands and turns its
/// rows into column differences; the final accumulation down the columns is a vectorizable
/// pass.
#[allow(clippy::too_many_arguments)]
pub(crate) fn parallelogram<T: Slot>(
    r: &mut BitReader<'_>,
    ni: usize,
    nj: usize,
    step: usize,
    first_bits: u32,
    residuals: Residuals,
    mask: u32,
    out: &mut [T],
    threads: usize,
) -> Result<(), CodecError> {
    if out.len() != ni * nj || ni == 0 || nj == 0 || step == 0 {
        return Err(CodecError::Corrupt {
            reason: "turbo plane size mismatch",
        });
    }
    let c = r.read(3)?;
    if !(1..=5).contains(&c) {
        // Encoders write 4 or 5. c = 0 would make every tile free to store, letting a tiny
        // payload announce an arbitrarily large field; more than 5 cannot describe a width.
        return Err(CodecError::BadHeader {
            field: "turbo residual width field",
            found: u64::from(c),
        });
    }
    // First row, then first column.
    r.require((ni + nj - 1) as u64 * u64::from(first_bits))?;
    let (row0, rest) = out.split_at_mut(ni);
    for o in row0.iter_mut() {
        *o = T::from_u32(r.read_prechecked(first_bits) & mask);
    }
    for row in rest.chunks_exact_mut(ni) {
        if let Some(o) = row.first_mut() {
            *o = T::from_u32(r.read_prechecked(first_bits) & mask);
        }
    }
    let bands = (nj - 1).div_ceil(step);
    let tiling = Band {
        ni,
        step,
        c,
        residuals,
    };
    if threads <= 1 || bands < 2 * threads || ni < 2 {
        // (Reconstructing each band right after parsing it, while in cache, measured slower.)
        for rows in rest.chunks_mut(step * ni) {
            tiling.parse(r, rows)?;
        }
        reconstruct(row0, rest, ni, mask);
        return Ok(());
    }

    // Pass 1: where each band starts.
    let mut starts = crate::alloc::try_vec_with_capacity::<u64>(bands).map_err(|_e| {
        CodecError::OutOfMemory {
            bytes: bands as u64 * 8,
        }
    })?;
    let mut scan = r.clone();
    for rows in rest.chunks(step * ni) {
        starts.push(scan.position());
        tiling.skip(&mut scan, rows.len() / ni)?;
    }
    // The first column, needed by every band for its column differences.
    let mut col0 =
        crate::alloc::try_vec_with_capacity::<u32>(nj).map_err(|_e| CodecError::OutOfMemory {
            bytes: nj as u64 * 4,
        })?;
    col0.extend(
        out.chunks_exact(ni)
            .filter_map(|row| row.first().map(|v| v.get())),
    );

    // Pass 2: each thread parses its bands and turns residuals into column differences
    // D[i,j] = v[i,j] − v[i,j−1] = D[i−1,j] + r[i,j], with D[0,j] from the first column.
    let per_thread = bands.div_ceil(threads);
    let (_, rest) = out.split_at_mut(ni);
    let col0 = &col0;
    let starts = &starts;
    let reader = &*r;
    std::thread::scope(|s| {
        let handles: Vec<_> = rest
            .chunks_mut(per_thread * step * ni)
            .enumerate()
            .map(|(t, rows)| {
                s.spawn(move || {
                    tiling.parse_differences(reader, starts, col0, t * per_thread, rows)
                })
            })
            .collect();
        let mut result = Ok(());
        for h in handles {
            let r = h.join().unwrap_or(Err(CodecError::Corrupt {
                reason: "a decoding thread panicked",
            }));
            if result.is_ok() {
                result = r;
            }
        }
        result
    })?;
    // Pass 3: v[i,j] = v[i,j−1] + D[i,j], row after row (independent across i).
    accumulate_columns(out, ni, mask);
    Ok(())
}

/// `v[i,j] = v[i,j−1] + D[i,j]` for i ≥ 1, row after row, where `out` holds the first row
/// and column as values and the other elements as column differences.
fn accumulate_columns<T: Slot>(out: &mut [T], ni: usize, mask: u32) {
    let mut rows = out.chunks_exact_mut(ni);
    if let Some(mut prev) = rows.next() {
        for cur in rows {
            for (o, &up) in cur.iter_mut().zip(prev.iter()).skip(1) {
                *o = T::from_u32(o.get().wrapping_add(up.get()) & mask);
            }
            prev = cur;
        }
    }
}

/// The residual tiles of one band of `step` rows (fewer for the last band), columns 1..ni.
#[derive(Debug, Clone, Copy)]
struct Band {
    ni: usize,
    step: usize,
    c: u32,
    residuals: Residuals,
}

impl Band {
    /// Residual width coded by tile width field `w`.
    #[inline]
    fn width(&self, w: u32) -> u32 {
        match (w, self.residuals) {
            (0, _) => 0,
            (15 | 16, Residuals::Turbo16) => 17,
            _ => w + 1,
        }
    }

    /// Parse the tiles of `rows` (whole rows of the grid, `rows.len() / ni` of them) and store
    /// the residuals in columns 1..ni.
    #[inline]
    fn parse<T: Slot>(&self, r: &mut BitReader<'_>, rows: &mut [T]) -> Result<(), CodecError> {
        // librmn's encoder writes 3 × 3 tiles (every record we have seen); other steps take
        // the general loop.
        let from = if self.step == 3 {
            parse_full_tiles::<3, T>(self, r, rows)
        } else {
            1
        };
        self.parse_from(r, rows, from)
    }

    /// Parse the tiles of `rows` whose first column is `from` or later, checking every read.
    fn parse_from<T: Slot>(
        &self,
        r: &mut BitReader<'_>,
        rows: &mut [T],
        from: usize,
    ) -> Result<(), CodecError> {
        let ni = self.ni;
        let th = rows.len() / ni;
        for i0 in (from..ni).step_by(self.step) {
            let tw = self.step.min(ni - i0);
            let width = self.width(r.read(self.c)?);
            if width == 0 {
                for j in 0..th {
                    tile_row(rows, ni, j, i0, tw)?.fill(T::from_u32(0));
                }
                continue;
            }
            r.require((tw * th) as u64 * u64::from(width))?;
            for j in 0..th {
                for o in tile_row(rows, ni, j, i0, tw)? {
                    *o = T::from_u32(r.read_signed_prechecked(width) as u32);
                }
            }
        }
        Ok(())
    }

    /// Parse bands `first_band..` (whole bands of rows, from `rows`, each starting at the
    /// stream position in `starts`) and turn their residuals into column differences
    /// `D[i,j] = v[i,j] − v[i,j−1] = D[i−1,j] + r[i,j]`, with `D[0,j]` from the first column
    /// `col0`.
    fn parse_differences<T: Slot>(
        &self,
        reader: &BitReader<'_>,
        starts: &[u64],
        col0: &[u32],
        first_band: usize,
        rows: &mut [T],
    ) -> Result<(), CodecError> {
        let ni = self.ni;
        let mut r = reader.clone();
        for (k, band_rows) in rows.chunks_mut(self.step * ni).enumerate() {
            r.seek(starts.get(first_band + k).copied().unwrap_or(u64::MAX));
            self.parse(&mut r, band_rows)?;
        }
        let first_row = 1 + first_band * self.step;
        for (k, row) in rows.chunks_exact_mut(ni).enumerate() {
            let j = first_row + k;
            let (Some(&here), Some(&above)) = (col0.get(j), col0.get(j - 1)) else {
                continue;
            };
            let mut d = here.wrapping_sub(above);
            for o in row.iter_mut().skip(1) {
                d = d.wrapping_add(o.get());
                *o = T::from_u32(d);
            }
        }
        Ok(())
    }

    /// Move past the tiles of a band of `th` rows, reading only their width fields.
    fn skip(&self, r: &mut BitReader<'_>, th: usize) -> Result<(), CodecError> {
        for i0 in (1..self.ni).step_by(self.step) {
            let tw = self.step.min(self.ni - i0);
            let width = self.width(r.read(self.c)?);
            r.skip((tw * th) as u64 * u64::from(width))?;
        }
        Ok(())
    }
}

/// The fast path of [`Band::parse`] for a band of exactly `S` rows: parse its whole
/// `S × S` tiles, with the tile shape known at compile time and one length check for the
/// band instead of one per tile. Returns the first column left to parse (1 when the
/// stream might end inside the band: the checked loop then reports where).
#[multiversion::multiversion(targets("x86_64+avx2+bmi1+bmi2+lzcnt"))]
fn parse_full_tiles<const S: usize, T: Slot>(
    band: &Band,
    r: &mut BitReader<'_>,
    rows: &mut [T],
) -> usize {
    let ni = band.ni;
    let tiles = (ni - 1) / S;
    // A tile takes its width field plus at most S·S residuals of 32 bits.
    let worst = tiles as u64 * (u64::from(band.c) + (S * S * 32) as u64);
    if rows.len() != S * ni || r.bits_left() < worst {
        return 1;
    }
    let mut lines = rows.chunks_exact_mut(ni);
    let mut lines: [&mut [T]; S] = std::array::from_fn(|_| lines.next().unwrap_or(&mut []));
    let c = band.c;
    for i0 in (0..tiles).map(|t| 1 + t * S) {
        // One 64-bit look-ahead holds the width field and, for the usual widths, the
        // whole first row of the tile; each further row takes one more.
        let mut bits = r.peek64();
        let width = band.width((bits >> (64 - c)) as u32);
        r.advance_prechecked(c);
        bits <<= c;
        let row_bits = S as u32 * width;
        for (k, line) in lines.iter_mut().enumerate() {
            let Some(cells) = line.get_mut(i0..i0 + S) else {
                continue;
            };
            if width == 0 {
                cells.fill(T::from_u32(0));
            } else if row_bits + c <= 64 {
                if k > 0 {
                    bits = r.peek64();
                }
                for o in cells {
                    *o = T::from_u32(((bits as i64) >> (64 - width)) as u32);
                    bits <<= width;
                }
                r.advance_prechecked(row_bits);
            } else {
                for o in cells {
                    *o = T::from_u32(r.read_signed_prechecked(width) as u32);
                }
            }
        }
    }
    1 + tiles * S
}

/// Turn the residuals of `rows` (whole rows of the grid, below row `above`, which holds values)
/// into values: `v[i,j] = r[i,j] + v[i-1,j] + v[i,j-1] − v[i-1,j-1]`, row by row (the first
/// column holds values already).
///
/// The arithmetic is wrapping 32-bit, which is exact modulo every power of two, so the mask
/// (the value width) is applied once per element when it is stored, outside the serial
/// dependency on the left neighbour: the loop carries one addition per element.
///
/// Rows go two at a time: the second row's "above" values are the first row's, fresh in
/// registers, which saves two loads per element of the second row.
fn reconstruct<T: Slot>(above: &[T], rows: &mut [T], ni: usize, mask: u32) {
    if ni == 0 {
        return;
    }
    let mut prev = above;
    let mut pairs = rows.chunks_exact_mut(2 * ni);
    for pair in pairs.by_ref() {
        let (r0, r1) = pair.split_at_mut(ni);
        let (Some((first0, rest0)), Some((first1, rest1))) =
            (r0.split_first_mut(), r1.split_first_mut())
        else {
            continue;
        };
        let (mut left0, mut left1) = (first0.get(), first1.get());
        // Row 0's value one column back, as stored (masked).
        let mut back0 = left0;
        for ((o0, o1), up) in rest0.iter_mut().zip(rest1.iter_mut()).zip(prev.windows(2)) {
            if let [up_left, up] = *up {
                left0 = predicted(o0.get(), up.get(), up_left.get(), left0);
                let here0 = left0 & mask;
                *o0 = T::from_u32(here0);
                left1 = predicted(o1.get(), here0, back0, left1);
                *o1 = T::from_u32(left1 & mask);
                back0 = here0;
            }
        }
        prev = r1;
    }
    for cur in pairs.into_remainder().chunks_exact_mut(ni) {
        if let Some((first, cur_rest)) = cur.split_first_mut() {
            let mut left = first.get();
            for (o, up) in cur_rest.iter_mut().zip(prev.windows(2)) {
                if let [up_left, up] = *up {
                    // `up` and `up_left` are stored masked; `left` is carried unmasked.
                    left = predicted(o.get(), up.get(), up_left.get(), left);
                    *o = T::from_u32(left & mask);
                }
            }
        }
        prev = cur;
    }
}

/// A value from its residual and its neighbours above, above-left and left (wrapping).
#[inline(always)]
#[allow(clippy::inline_always)] // per element in reconstruct's loops
fn predicted(residual: u32, up: u32, up_left: u32, left: u32) -> u32 {
    residual
        .wrapping_add(up)
        .wrapping_sub(up_left)
        .wrapping_add(left)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal MSB-first bit writer for hand-made streams.
    #[derive(Default)]
    pub(crate) struct BitWriter {
        pub(crate) words: Vec<u32>,
        bits: u64,
    }

    impl BitWriter {
        pub(crate) fn put(&mut self, v: u32, n: u32) {
            for k in (0..n).rev() {
                if self.bits % 32 == 0 {
                    self.words.push(0);
                }
                if (v >> k) & 1 == 1 {
                    let last = self.words.last_mut().unwrap();
                    *last |= 1 << (31 - (self.bits % 32));
                }
                self.bits += 1;
            }
        }
    }

    fn header(predictor: u32, step: u32, nbits: u32) -> u32 {
        predictor | (step << 7) | (nbits << 10) | (1 << 15)
    }

    #[test]
    fn minimum_tiles() {
        // 3x2 grid, step 2: tiles (0..2,0..2) and (2..3,0..2).
        let mut w = BitWriter::default();
        w.put(2, 4); // width 2
        w.put(100, 8); // min
        for d in [0, 1, 2, 3] {
            w.put(d, 2);
        }
        w.put(0, 4); // constant tile
        w.put(7, 8);
        let mut stream = vec![header(MINIMUM, 2, 8)];
        stream.extend(&w.words);
        let mut out = [0u32; 6];
        decompress(&stream, 3, 2, &mut out, 1).unwrap();
        assert_eq!(out, [100, 101, 7, 102, 103, 7]);
    }

    #[test]
    fn parallelogram_plane() {
        // v[i,j] = 10 + i + 2j, exactly planar, so every residual is 0 except one.
        let (ni, nj) = (4usize, 3usize);
        let mut w = BitWriter::default();
        w.put(4, 3);
        for i in 0..ni {
            w.put(10 + i as u32, 8);
        }
        for j in 1..nj {
            w.put(10 + 2 * j as u32, 8);
        }
        // step 2: tiles at (1,1) 2x2, (3,1) 1x2.
        w.put(1, 4); // width 2
        for r in [0i32, 0, 0, -1] {
            w.put(r as u32 & 3, 2);
        }
        w.put(0, 4);
        let mut stream = vec![header(PARALLELOGRAM, 2, 8)];
        stream.extend(&w.words);
        let mut out = vec![0u32; ni * nj];
        decompress(&stream, ni, nj, &mut out, 1).unwrap();
        let mut expected: Vec<u32> = (0..nj)
            .flat_map(|j| (0..ni).map(move |i| (10 + i + 2 * j) as u32))
            .collect();
        // The -1 residual at (2,2) propagates to (3,2) through the prediction.
        expected[2 * ni + 2] -= 1;
        expected[2 * ni + 3] -= 1;
        assert_eq!(out, expected);
    }

    #[test]
    fn guards() {
        let mut out = [0u32; 4];
        for (hdr, what) in [
            (header(MINIMUM, 0, 8), "step 0"),
            (header(PARALLELOGRAM, 3, 0), "nbits 0"),
            (header(7, 3, 8), "predictor"),
        ] {
            assert!(
                matches!(
                    decompress(&[hdr, 0, 0], 2, 2, &mut out, 1),
                    Err(CodecError::BadHeader { .. })
                ),
                "{what}"
            );
        }
        assert!(matches!(
            decompress(&[header(SAMPLE, 3, 8), 0], 2, 2, &mut out, 1),
            Err(CodecError::UnsupportedCompression { .. })
        ));
        // c = 0 is refused.
        assert!(decompress(&[header(PARALLELOGRAM, 3, 8), 0, 0], 2, 2, &mut out, 1).is_err());
        // Truncated.
        assert!(matches!(
            decompress(&[header(MINIMUM, 1, 16)], 2, 2, &mut out, 1),
            Err(CodecError::Truncated { .. })
        ));
    }

    #[test]
    fn never_panics_on_noise() {
        let mut seed = 0x1234_5678u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for round in 0..2000 {
            let ni = 1 + (next() % 20) as usize;
            let nj = 1 + (next() % 20) as usize;
            let len = (next() % 40) as usize;
            let mut stream: Vec<u32> = (0..len).map(|_| next()).collect();
            if let Some(h) = stream.first_mut() {
                *h = (*h & !0xF)
                    | if round % 2 == 0 {
                        MINIMUM
                    } else {
                        PARALLELOGRAM
                    };
            }
            let mut out = vec![0u32; ni * nj];
            let one = decompress(&stream, ni, nj, &mut out, 1).map(|()| out.clone());
            let mut out2 = vec![0u32; ni * nj];
            let many = decompress(&stream, ni, nj, &mut out2, 3).map(|()| out2);
            if let (Ok(a), Ok(b)) = (&one, &many) {
                assert_eq!(a, b);
            }
            assert_eq!(one.is_ok(), many.is_ok());
        }
    }

    proptest::proptest! {
        /// The 3 × 3 fast path reads what the checked tile loop reads, and stops where it
        /// stops, for both residual codings and every width field size.
        #[test]
        fn fast_tiles_match_checked_loop(
            ni in 2usize..60,
            c in 1u32..=5,
            plain in proptest::bool::ANY,
            words in proptest::collection::vec(proptest::num::u32::ANY, 0..400),
            start in 0u64..32,
        ) {
            let band = Band {
                ni,
                step: 3,
                c,
                residuals: if plain { Residuals::Plain } else { Residuals::Turbo16 },
            };
            let mut fast_reader = BitReader::new(&words);
            fast_reader.seek(start);
            let mut checked_reader = fast_reader.clone();
            let mut fast = vec![0u32; 3 * ni];
            let mut checked = vec![0u32; 3 * ni];
            let fast_result = band.parse(&mut fast_reader, &mut fast);
            let checked_result = band.parse_from(&mut checked_reader, &mut checked, 1);
            proptest::prop_assert_eq!(fast_result.is_ok(), checked_result.is_ok());
            if checked_result.is_ok() {
                proptest::prop_assert_eq!(fast, checked);
                proptest::prop_assert_eq!(fast_reader.position(), checked_reader.position());
            }
        }
    }
}
