//! Filling blocks and windows: decoding records (cached, pooled, read ahead) and copying
//! their rows in the band's type.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use fst_core::codec::{missing_mask, Samples};
use fst_core::{FstFile, RecordIndex, RecordMeta};

use super::dataset::{Content, DataType, Dataset};
use super::error::ModelError;

/// A decoded record, with missing points replaced by the band's nodata value.
#[derive(Debug)]
pub(super) struct Decoded {
    samples: Samples,
}

/// How many bands ahead of a band-by-band walk are decoded in advance. Two keep a two-core
/// machine busy while the caller copies or writes; more only hold more buffers.
const READ_AHEAD: usize = 2;

/// A record decoding ahead of its first read.
pub(super) struct Prefetch {
    record: RecordIndex,
    job: std::thread::JoinHandle<Result<Samples, ModelError>>,
}

impl Dataset {
    /// Fill block (`bx`, `by`) of band `band` (0-based) into `out`, in the band's type,
    /// native byte order. Rows past the raster's end are filled with nodata (or zero).
    pub fn read_block(
        &self,
        band: usize,
        bx: usize,
        by: usize,
        out: &mut [u8],
    ) -> Result<(), ModelError> {
        let b = self
            .bands
            .get(band)
            .ok_or_else(|| ModelError::Usage(format!("no band {}", band + 1)))?;
        let (bw, bh) = b.block;
        let px = b.data_type.size();
        if out.len() != bw * bh * px {
            return Err(ModelError::Usage(format!(
                "block buffer of {} bytes, expected {}",
                out.len(),
                bw * bh * px
            )));
        }
        if bx != 0 || by * bh >= self.ysize.max(1) {
            return Err(ModelError::Usage(format!(
                "block ({bx}, {by}) outside the raster"
            )));
        }
        let row_bytes = bw * px;
        let fill = b.nodata.unwrap_or(0.0);
        match &self.content {
            Content::Listing => Err(ModelError::Usage(
                "this dataset lists subdatasets and has no pixels".into(),
            )),
            Content::Array(v) => {
                for (r, dst) in out.chunks_exact_mut(row_bytes).enumerate() {
                    let line = by * bh + r;
                    match v.get(line * self.xsize..(line + 1) * self.xsize) {
                        Some(src) if line < self.ysize => write_f64(src, DataType::Float64, dst),
                        _ => fill_row(dst, DataType::Float64, fill),
                    }
                }
                Ok(())
            }
            Content::Records {
                flip,
                row_offset,
                roll,
            } => {
                let rec = self.record(b.record)?;
                let (ni, nj) = (rec.ni as usize, rec.nj as usize);
                let plane = b.k as usize * ni * nj;
                let copy = |samples: &Samples, out: &mut [u8]| -> Result<(), ModelError> {
                    for (r, dst) in out.chunks_exact_mut(row_bytes).enumerate() {
                        let line = by * bh + r;
                        if line >= self.ysize {
                            fill_row(dst, b.data_type, fill);
                            continue;
                        }
                        let j = row_offset + if *flip { self.ysize - 1 - line } else { line };
                        let at = (plane + j * ni, self.xsize, *roll);
                        copy_cols(samples, at, (0, self.xsize), b.data_type, dst)?;
                    }
                    Ok(())
                };
                if bh >= self.ysize && rec.nk == 1 {
                    // The block is the whole record: GDAL's block cache keeps it, so decode into
                    // a reused buffer and do not cache the values a second time.
                    let samples = self.decode_pooled(rec, b.nodata)?;
                    let result = copy(&samples, out);
                    self.recycle(samples);
                    result
                } else {
                    let dec = self.cached(rec, b.nodata)?;
                    copy(&dec.samples, out)
                }
            }
        }
    }
}

impl Dataset {
    /// Copy the window (`xoff`, `yoff`, `w`, `h`) of band `band` at full resolution into `out`,
    /// pixel `(i, l)` at byte `l·line_space + i·pixel_space`, in the band's type. This is the
    /// path of GDAL's `RasterIO` without resampling: no block cache in between.
    #[allow(clippy::too_many_arguments)]
    pub fn read_window(
        &self,
        band: usize,
        (xoff, yoff, w, h): (usize, usize, usize, usize),
        out: &mut [u8],
        pixel_space: usize,
        line_space: usize,
    ) -> Result<(), ModelError> {
        let b = self
            .bands
            .get(band)
            .ok_or_else(|| ModelError::Usage(format!("no band {}", band + 1)))?;
        let px = b.data_type.size();
        if w == 0 || h == 0 {
            return Ok(());
        }
        let outside = |a: usize, n: usize, size: usize| a.checked_add(n).is_none_or(|e| e > size);
        if outside(xoff, w, self.xsize) || outside(yoff, h, self.ysize) || pixel_space < px {
            return Err(ModelError::Usage(format!(
                "window {xoff},{yoff} {w}x{h} outside the {}x{} raster",
                self.xsize, self.ysize
            )));
        }
        let need = (h - 1)
            .checked_mul(line_space)
            .and_then(|a| a.checked_add((w - 1).checked_mul(pixel_space)?))
            .and_then(|a| a.checked_add(px))
            .unwrap_or(usize::MAX);
        if out.len() < need {
            return Err(ModelError::Usage(format!(
                "buffer of {} bytes for a window needing {need}",
                out.len()
            )));
        }
        let mut row = vec![0u8; w * px];
        let put = |l: usize, row: &[u8], out: &mut [u8]| {
            let base = l * line_space;
            if pixel_space == px {
                if let Some(d) = out.get_mut(base..base + w * px) {
                    d.copy_from_slice(row);
                }
            } else {
                for (i, v) in row.chunks_exact(px).enumerate() {
                    if let Some(d) =
                        out.get_mut(base + i * pixel_space..base + i * pixel_space + px)
                    {
                        d.copy_from_slice(v);
                    }
                }
            }
        };
        match &self.content {
            Content::Listing => Err(ModelError::Usage(
                "this dataset lists subdatasets and has no pixels".into(),
            )),
            Content::Array(v) => {
                for l in 0..h {
                    let line = yoff + l;
                    let src = v
                        .get(line * self.xsize + xoff..line * self.xsize + xoff + w)
                        .ok_or_else(|| ModelError::Corrupt("short coordinate array".into()))?;
                    write_f64(src, DataType::Float64, &mut row);
                    put(l, &row, out);
                }
                Ok(())
            }
            Content::Records {
                flip,
                row_offset,
                roll,
            } => {
                let rec = self.record(b.record)?;
                let (ni, nj) = (rec.ni as usize, rec.nj as usize);
                let plane = b.k as usize * ni * nj;
                let dec = self.cached(rec, b.nodata)?;
                self.prefetch_after(band, rec.index);
                self.last_read_reached_bottom
                    .store(yoff + h == self.ysize, Ordering::Relaxed);
                for l in 0..h {
                    let line = yoff + l;
                    let j = row_offset + if *flip { self.ysize - 1 - line } else { line };
                    let at = (plane + j * ni, self.xsize, *roll);
                    let read =
                        |dst: &mut [u8]| copy_cols(&dec.samples, at, (xoff, w), b.data_type, dst);
                    if pixel_space == px && line_space >= w * px {
                        let base = l * line_space;
                        let dst = out
                            .get_mut(base..base + w * px)
                            .ok_or_else(|| ModelError::Usage("short buffer".into()))?;
                        read(dst)?;
                    } else {
                        read(&mut row)?;
                        put(l, &row, out);
                    }
                }
                Ok(())
            }
        }
    }

    /// When the caller walks the bands in order (band `band` right after `band − 1`, as
    /// `gdal_translate` and `GDALDatasetCopyWholeRaster` do), start decoding the records of the
    /// next [`READ_AHEAD`] bands, each on a thread of its own, so that decoding overlaps with
    /// the caller's writing and uses idle cores. Random access never starts one.
    ///
    /// Such a walk also gives the previous band's record back to the buffer pool when its last
    /// read reached the bottom row (it was consumed top to bottom, as band-interleaved copies
    /// do): the walk then cycles through two or three buffers instead of faulting in fresh
    /// pages for every record until the cache is full. A pixel-interleaved copy, which reads
    /// every band strip by strip, keeps its records cached.
    fn prefetch_after(&self, band: usize, current: RecordIndex) {
        let prev = self.last_band.swap(band, Ordering::Relaxed);
        if prev == band || prev.wrapping_add(1) != band {
            return;
        }
        if self.last_read_reached_bottom.load(Ordering::Relaxed) {
            self.recycle_record_of(prev, current);
        }
        let mut wanted: Vec<(&RecordMeta, Option<f64>)> = Vec::new();
        for next in self.bands.iter().skip(band + 1).take(READ_AHEAD) {
            let Some(rec) = self.file.record(next.record) else {
                continue;
            };
            // Bands of one record (its nk levels) share one decode.
            if rec.index != current
                && !wanted.iter().any(|(r, _)| r.index == rec.index)
                && !self.cache.contains(rec.index)
            {
                wanted.push((rec, next.nodata));
            }
        }
        let mut slots = self.prefetch.lock().unwrap_or_else(PoisonError::into_inner);
        // Decodes this walk no longer needs are left to finish on their own.
        slots.retain(|p| wanted.iter().any(|(r, _)| r.index == p.record));
        for (rec, nodata) in wanted {
            if slots.iter().any(|p| p.record == rec.index) {
                continue;
            }
            let (file, rec, pooled) = (Arc::clone(&self.file), rec.clone(), self.take_pooled(rec));
            let record = rec.index;
            let job = std::thread::Builder::new()
                .name("fst-prefetch".into())
                .spawn(move || decode_samples(&file, &rec, nodata, pooled));
            // A thread that cannot be started only costs the overlap.
            if let Ok(job) = job {
                slots.push_back(Prefetch { record, job });
            }
        }
    }

    /// The decoded record, from the cache, from the record decoded ahead, or decoded into a
    /// pooled buffer; evicted records give their buffers back to the pool.
    fn cached(&self, rec: &RecordMeta, nodata: Option<f64>) -> Result<Arc<Decoded>, ModelError> {
        self.cache.get_or_try_evict(
            rec.index,
            || {
                let ahead = {
                    let mut slots = self.prefetch.lock().unwrap_or_else(PoisonError::into_inner);
                    let at = slots.iter().position(|p| p.record == rec.index);
                    at.and_then(|at| slots.remove(at))
                };
                // A failed or panicked decode ahead is redone here, so that its error is
                // reported by the read that needs it.
                let samples = match ahead.map(|p| p.job.join()) {
                    Some(Ok(Ok(samples))) => samples,
                    _ => self.decode_pooled(rec, nodata)?,
                };
                let bytes = (samples.len() as u64)
                    .saturating_mul(fst_core::sample_size(samples.sample_type()));
                Ok((Decoded { samples }, bytes))
            },
            |old| self.recycle_decoded(old),
        )
    }

    /// Take the record of band `band` out of the cache into the buffer pool, unless it is
    /// `keep` (several bands can share a record: its nk levels) or someone still holds it.
    fn recycle_record_of(&self, band: usize, keep: RecordIndex) {
        let Some(rec) = self
            .bands
            .get(band)
            .and_then(|b| self.file.record(b.record))
        else {
            return;
        };
        if rec.index == keep {
            return;
        }
        if let Some(old) = self.cache.remove(rec.index) {
            self.recycle_decoded(old);
        }
    }

    /// Give a record that left the cache back to the pool, unless a reader still holds it.
    fn recycle_decoded(&self, old: Arc<Decoded>) {
        if let Ok(d) = Arc::try_unwrap(old) {
            self.recycle(d.samples);
        }
    }

    fn recycle(&self, samples: Samples) {
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.len() < 4 {
            pool.push(samples);
        }
    }

    /// A pooled buffer of `rec`'s element type and length, if there is one.
    fn take_pooled(&self, rec: &RecordMeta) -> Option<Samples> {
        let (kind, count) = self.file.sample_layout(rec).ok()?;
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        let at = pool
            .iter()
            .position(|s| s.sample_type() == kind && s.len() as u64 == count)?;
        Some(pool.swap_remove(at))
    }

    /// The record of a band, which the dataset's file holds by construction.
    fn record(&self, index: RecordIndex) -> Result<&RecordMeta, ModelError> {
        self.file
            .record(index)
            .ok_or_else(|| ModelError::Corrupt(format!("record {index} vanished")))
    }

    /// Decode `rec` into a pooled buffer of the right type and length when there is one.
    fn decode_pooled(&self, rec: &RecordMeta, nodata: Option<f64>) -> Result<Samples, ModelError> {
        decode_samples(&self.file, rec, nodata, self.take_pooled(rec))
    }
}

/// Decode `rec` into `pooled` (a buffer of its element type and length) or a new buffer, with
/// missing values set to `nodata`.
fn decode_samples(
    file: &FstFile,
    rec: &RecordMeta,
    nodata: Option<f64>,
    pooled: Option<Samples>,
) -> Result<Samples, ModelError> {
    let Some(mut samples) = pooled else {
        return decode(file, rec, nodata).map(|(d, _)| d.samples);
    };
    file.decode_into(rec, samples.as_mut())?;
    let mut samples = raw_elements(samples, rec);
    let params = rec.codec_params();
    if let (Some(mask), Some(flag)) = (missing_mask(&samples, &params), nodata) {
        apply_missing(&mut samples, &mask, flag);
    }
    Ok(samples)
}

fn decode(
    file: &FstFile,
    rec: &RecordMeta,
    nodata: Option<f64>,
) -> Result<(Decoded, u64), ModelError> {
    let f = file.decode(rec)?;
    let mut samples = raw_elements(f.samples, rec);
    let need = rec.point_count() as usize;
    let have = samples.len()
        / if matches!(samples, Samples::C64(_) | Samples::C128(_)) {
            2
        } else {
            1
        };
    if have < need {
        return Err(ModelError::Corrupt(format!(
            "record {} decodes to {have} values for {need} points (datyp {})",
            rec.index, rec.datyp.0
        )));
    }
    if let (Some(mask), Some(flag)) = (f.missing.as_ref(), nodata) {
        apply_missing(&mut samples, mask, flag);
    }
    let bytes = (samples.len() * fst_core::sample_size(samples.sample_type()) as usize) as u64;
    Ok((Decoded { samples }, bytes))
}

/// The elements of a datyp-0 record whose nbits is 8, 16 or 64 (fst-core's
/// `Samples::raw_as_elements`): as words, an 8-bit record had a quarter of its points (the
/// read failed) and a 64-bit one showed its first half as if each word were a point.
fn raw_elements(samples: Samples, rec: &RecordMeta) -> Samples {
    samples.raw_as_elements(u32::from(rec.nbits), rec.point_count() as usize)
}

fn apply_missing(s: &mut Samples, mask: &[bool], flag: f64) {
    fn set<T: Copy>(v: &mut [T], mask: &[bool], x: T) {
        v.iter_mut()
            .zip(mask)
            .filter(|(_, &m)| m)
            .for_each(|(a, _)| *a = x);
    }
    match s {
        Samples::F32(v) => set(v, mask, flag as f32),
        Samples::F64(v) => set(v, mask, flag),
        Samples::U32(v) => set(v, mask, flag as u32),
        Samples::I32(v) => set(v, mask, flag as i32),
        Samples::U64(v) => set(v, mask, u64::MAX),
        Samples::I64(v) => set(v, mask, i64::MIN),
        _ => {}
    }
}

fn fill_row(dst: &mut [u8], dt: DataType, value: f64) {
    let v = vec![value; dst.len() / dt.size()];
    write_f64(&v, dt, dst);
}

/// Write f64 values as `dt`.
fn write_f64(src: &[f64], dt: DataType, dst: &mut [u8]) {
    macro_rules! put {
        ($t:ty) => {
            for (d, &x) in dst.chunks_exact_mut(std::mem::size_of::<$t>()).zip(src) {
                d.copy_from_slice(&(x as $t).to_ne_bytes());
            }
        };
    }
    match dt {
        DataType::Byte => put!(u8),
        DataType::UInt32 => put!(u32),
        DataType::Int32 => put!(i32),
        DataType::Float32 => put!(f32),
        DataType::Float64 => put!(f64),
        DataType::UInt64 => put!(u64),
        DataType::Int64 => put!(i64),
        DataType::CFloat32 => {
            for (d, &x) in dst.chunks_exact_mut(8).zip(src) {
                let (re, im) = d.split_at_mut(4);
                re.copy_from_slice(&(x as f32).to_ne_bytes());
                im.copy_from_slice(&0f32.to_ne_bytes());
            }
        }
        DataType::CFloat64 => {
            for (d, &x) in dst.chunks_exact_mut(16).zip(src) {
                let (re, im) = d.split_at_mut(8);
                re.copy_from_slice(&x.to_ne_bytes());
                im.copy_from_slice(&0f64.to_ne_bytes());
            }
        }
    }
}

/// Copy `n` points starting at point `start` of `s` into `dst` as `dt`.
/// Band columns `x .. x + n` of the record row starting at `row_start` into `dst`, band
/// column c being record column `(c + roll) % ni` (`ni`: the band's columns, the record's or
/// all but its last): one run, or two where the window crosses column `ni − 1`.
fn copy_cols(
    s: &Samples,
    (row_start, ni, roll): (usize, usize, usize),
    (x, n): (usize, usize),
    dt: DataType,
    dst: &mut [u8],
) -> Result<(), ModelError> {
    if roll == 0 || ni == 0 {
        return copy_row(s, row_start + x, n, dt, dst);
    }
    let first = (x + roll) % ni;
    let run = n.min(ni - first);
    let (head, tail) = dst.split_at_mut((run * dt.size()).min(dst.len()));
    copy_row(s, row_start + first, run, dt, head)?;
    if n > run {
        copy_row(s, row_start, n - run, dt, tail)?;
    }
    Ok(())
}

fn copy_row(
    s: &Samples,
    start: usize,
    n: usize,
    dt: DataType,
    dst: &mut [u8],
) -> Result<(), ModelError> {
    let short = || ModelError::Corrupt("record shorter than its shape".into());
    macro_rules! same {
        ($v:expr, $t:ty, $k:expr) => {{
            let src = $v.get(start * $k..(start + n) * $k).ok_or_else(short)?;
            for (d, x) in dst.chunks_exact_mut(std::mem::size_of::<$t>()).zip(src) {
                d.copy_from_slice(&x.to_ne_bytes());
            }
            return Ok(());
        }};
    }
    match (s, dt) {
        (Samples::F32(v), DataType::Float32) => same!(v, f32, 1),
        (Samples::F64(v), DataType::Float64) => same!(v, f64, 1),
        (Samples::U32(v) | Samples::Raw32(v), DataType::UInt32) => same!(v, u32, 1),
        (Samples::I32(v), DataType::Int32) => same!(v, i32, 1),
        (Samples::U64(v), DataType::UInt64) => same!(v, u64, 1),
        (Samples::I64(v), DataType::Int64) => same!(v, i64, 1),
        (Samples::U8(v), DataType::Byte) => same!(v, u8, 1),
        (Samples::C64(v), DataType::CFloat32) => same!(v, f32, 2),
        (Samples::C128(v), DataType::CFloat64) => same!(v, f64, 2),
        _ => {}
    }
    // Mixed types in one field: through f64 (real part of complex values).
    let conv: Vec<f64> = match s {
        Samples::F32(v) => v
            .get(start..start + n)
            .ok_or_else(short)?
            .iter()
            .map(|&x| f64::from(x))
            .collect(),
        Samples::F64(v) => v.get(start..start + n).ok_or_else(short)?.to_vec(),
        Samples::U32(v) | Samples::Raw32(v) => v
            .get(start..start + n)
            .ok_or_else(short)?
            .iter()
            .map(|&x| f64::from(x))
            .collect(),
        Samples::I32(v) => v
            .get(start..start + n)
            .ok_or_else(short)?
            .iter()
            .map(|&x| f64::from(x))
            .collect(),
        Samples::U64(v) => v
            .get(start..start + n)
            .ok_or_else(short)?
            .iter()
            .map(|&x| x as f64)
            .collect(),
        Samples::I64(v) => v
            .get(start..start + n)
            .ok_or_else(short)?
            .iter()
            .map(|&x| x as f64)
            .collect(),
        Samples::U8(v) => v
            .get(start..start + n)
            .ok_or_else(short)?
            .iter()
            .map(|&x| f64::from(x))
            .collect(),
        Samples::C64(v) => v
            .get(start * 2..(start + n) * 2)
            .ok_or_else(short)?
            .iter()
            .step_by(2)
            .map(|&x| f64::from(x))
            .collect(),
        Samples::C128(v) => v
            .get(start * 2..(start + n) * 2)
            .ok_or_else(short)?
            .iter()
            .step_by(2)
            .copied()
            .collect(),
        _ => return Err(ModelError::Corrupt("unsupported sample type".into())),
    };
    write_f64(&conv, dt, dst);
    Ok(())
}
