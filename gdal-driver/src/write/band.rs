//! One band's way to a record, apart from the copy's state: the plan decided in band order
//! ([`BandPlan`]), the encoding any thread can do ([`BandEncoder`]: missing values, row
//! order, conversion, fst-core's encoder), and the write ([`write_record`]).

use std::path::PathBuf;

use fst_core::codec::SamplesRef;
use fst_core::record::Datyp;
use fst_core::write::{EncodedRecord, FstWriter, RecordEncoder, RecordKeys};

use super::pipeline::Values;
use super::{BandValues, CreateError, Unwrap};

/// The missing points in record order into `missing` (its length made `ni·nj`): NaN, and
/// the nodata value (compared exactly: it is the value GDAL stored); with `f32s`, the values
/// in record order there too, as f32, 0 where missing. Whether any point is missing; None
/// when memory is short.
///
/// Whole rows into the kept slices with a non-short-circuit `|`, and `any` as a fold: these
/// loops vectorise. Built with `extend(… || …)` and `iter().any()` they did not, and with
/// the f32 values in a pass of their own the band was read twice: together they were half
/// of the encoding thread's own work in a netCDF → FST copy once reading got fast.
#[allow(clippy::float_cmp, clippy::needless_bitwise_bool)] // exact nodata; `|` vectorises
pub(super) fn missing_mask<T: AsF64>(
    values: &[T],
    ni: usize,
    nj: usize,
    flip: bool,
    nodata: Option<f64>,
    missing: &mut Vec<bool>,
    mut f32s: Option<&mut Vec<f32>>,
) -> Option<bool> {
    let n = ni.checked_mul(nj)?;
    sized(missing, n, false)?;
    if let Some(v) = f32s.as_deref_mut() {
        sized(v, n, 0.0)?;
    }
    if n == 0 {
        return Some(false);
    }
    // No nodata: NaN compares equal to nothing, so only `is_nan` counts.
    let nodata = nodata.unwrap_or(f64::NAN);
    let mut any = false;
    for (j, out) in missing.chunks_exact_mut(ni).enumerate() {
        let line = if flip { nj - 1 - j } else { j };
        let row = values.get(line * ni..(line + 1) * ni)?;
        match f32s.as_deref_mut() {
            Some(v) => {
                let to = v.get_mut(j * ni..(j + 1) * ni)?;
                for ((o, t), &x) in out.iter_mut().zip(to).zip(row) {
                    let x = x.as_f64();
                    let m = x.is_nan() | (x == nodata);
                    *o = m;
                    *t = if m { 0.0 } else { x as f32 };
                }
            }
            None => {
                for (o, &x) in out.iter_mut().zip(row) {
                    let x = x.as_f64();
                    *o = x.is_nan() | (x == nodata);
                }
            }
        }
        any |= out.iter().fold(false, |a, &m| a | m);
    }
    Some(any)
}

/// A band value as float64, for the nodata test: GDAL's nodata is a float64, and a 64-bit
/// integer band's nodata compares with its values so, as GDAL's own drivers do.
pub(super) trait AsF64: Copy {
    fn as_f64(self) -> f64;
}

impl AsF64 for f64 {
    fn as_f64(self) -> f64 {
        self
    }
}

impl AsF64 for f32 {
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
}

impl AsF64 for u64 {
    #[allow(clippy::cast_precision_loss)] // see the trait: as GDAL compares
    fn as_f64(self) -> f64 {
        self as f64
    }
}

impl AsF64 for i64 {
    #[allow(clippy::cast_precision_loss)] // see the trait: as GDAL compares
    fn as_f64(self) -> f64 {
        self as f64
    }
}

/// `v` made `n` long, its elements left as they are (they are all overwritten): a kept
/// buffer of the right length costs nothing. None when memory is short.
fn sized<T: Copy>(v: &mut Vec<T>, n: usize, fill: T) -> Option<()> {
    if v.len() != n {
        v.clear();
        v.try_reserve_exact(n).ok()?;
        v.resize(n, fill);
    }
    Some(())
}

/// Per-band arrays kept from band to band: allocating them afresh for every band had the
/// kernel zero ~2.4 MB of new pages per 800 × 600 band (a tenth of a netCDF copy's time).
#[derive(Debug, Default)]
pub(super) struct BandBuffers {
    pub(super) missing: Vec<bool>,
    pub(super) f32: Vec<f32>,
}

/// A band's record as decided in band order: keys and requested packing (+64 is added when
/// encoding finds missing values).
#[derive(Debug, Clone)]
pub(super) struct BandPlan {
    pub(super) number: usize,
    /// The record's place among the writer's calls (for fst-core's error messages).
    pub(super) sequence: u64,
    pub(super) keys: RecordKeys,
    pub(super) datyp: u8,
    pub(super) nbits: u8,
    pub(super) nodata: Option<f64>,
}

/// What encoding a band needs of the copy: the raster's shape and row order and the writer's
/// record encoder, without the writer, so that several threads encode bands at once.
#[derive(Debug, Clone)]
pub(super) struct BandEncoder {
    pub(super) path: PathBuf,
    /// The band's columns (the record may have one more: see `unwrap`).
    pub(super) ni: usize,
    pub(super) nj: usize,
    /// Whether the band's first line becomes the record's last row.
    pub(super) flip: bool,
    /// A global grid our reader rewrapped to −180..180 put back in its own column order.
    pub(super) unwrap: Unwrap,
    pub(super) records: RecordEncoder,
}

impl BandEncoder {
    /// The values in the record's column order where they must be turned (see `unwrap`).
    fn unrolled(&self, values: BandValues<'_>) -> Option<Values> {
        let Unwrap { roll, repeat_first } = self.unwrap;
        (roll > 0 && roll < self.ni).then(|| Values::unrolled(values, self.ni, roll, repeat_first))
    }

    /// A band's values as the record `plan` describes: missing points found, rows put in
    /// record order, values converted and encoded. `buffers` are kept from band to band.
    pub(super) fn encode(
        &self,
        plan: &BandPlan,
        values: BandValues<'_>,
        buffers: &mut BandBuffers,
    ) -> Result<EncodedRecord, CreateError> {
        let band_err = |reason: String| CreateError::Band {
            path: self.path.clone(),
            band: plan.number,
            reason,
        };
        let (ni, nj, flip) = (self.ni, self.nj, self.flip);
        if values.len() != ni * nj {
            return Err(band_err(format!(
                "{} values for a {ni}x{nj} raster",
                values.len()
            )));
        }
        let unrolled = self.unrolled(values);
        let (values, ni) = match &unrolled {
            Some(v) => (v.as_band_values(), self.unwrap.record_columns(ni)),
            None => (values, ni),
        };
        let (base, nbits) = (plan.datyp & !64, plan.nbits);
        // Every packing but 0, 2, 4 and 5/64 takes f32 values: made with the mask, in one pass.
        let as_f32 = !matches!((base & 127, nbits), (0 | 2 | 4, _) | (5, 64));
        let f32_out = as_f32.then_some(&mut buffers.f32);
        let any_missing = match values {
            BandValues::F64(v) => {
                missing_mask(v, ni, nj, flip, plan.nodata, &mut buffers.missing, f32_out)
            }
            BandValues::F32(v) => {
                missing_mask(v, ni, nj, flip, plan.nodata, &mut buffers.missing, f32_out)
            }
            BandValues::U64(v) => {
                missing_mask(v, ni, nj, flip, plan.nodata, &mut buffers.missing, f32_out)
            }
            BandValues::I64(v) => {
                missing_mask(v, ni, nj, flip, plan.nodata, &mut buffers.missing, f32_out)
            }
        }
        .ok_or_else(|| band_err("out of memory for the band's values and mask".into()))?;
        let missing = &buffers.missing;
        if any_missing && !matches!(base & 127, 1 | 2 | 4 | 5 | 6) {
            return Err(band_err(format!(
                "datyp {base} cannot hold missing values (nodata or NaN)"
            )));
        }
        let datyp = if any_missing {
            Datyp(base | 64)
        } else {
            Datyp(base)
        };
        let mask = any_missing.then_some(missing.as_slice());
        let fill = |v: f64, m: bool| if m { 0.0 } else { v };
        let ordered = record_order(ni, nj, flip).map(|k| values.get(k));
        let encode = |samples: SamplesRef<'_>| {
            self.records
                .encode(plan.sequence, &plan.keys, samples, mask, datyp, nbits)
                .map_err(CreateError::from)
        };
        match base & 127 {
            0 => {
                // Raw: the band's integers are the record's elements, stored as they are
                // (fst-core copies an array whose element size is nbits verbatim).
                let bits: Vec<u64> = record_order(ni, nj, flip)
                    .map(|k| values.get_bits(k))
                    .collect();
                match nbits {
                    8 => encode(SamplesRef::U8(
                        &bits.iter().map(|&b| b as u8).collect::<Vec<_>>(),
                    )),
                    16 => encode(SamplesRef::U16(
                        &bits.iter().map(|&b| b as u16).collect::<Vec<_>>(),
                    )),
                    32 => encode(SamplesRef::U32(
                        &bits.iter().map(|&b| b as u32).collect::<Vec<_>>(),
                    )),
                    64 => encode(SamplesRef::U64(&bits)),
                    _ => Err(band_err(format!(
                        "datyp 0 (raw) of {nbits} bits: only 8, 16, 32 or 64 are written"
                    ))),
                }
            }
            2 => {
                let v: Vec<u32> = ordered
                    .zip(missing.iter())
                    .map(|(v, &m)| fill(v, m).round().clamp(0.0, u32::MAX as f64) as u32)
                    .collect();
                encode(SamplesRef::U32(&v))
            }
            4 => {
                let v: Vec<i32> = ordered
                    .zip(missing.iter())
                    .map(|(v, &m)| {
                        fill(v, m).round().clamp(i32::MIN as f64, i32::MAX as f64) as i32
                    })
                    .collect();
                encode(SamplesRef::I32(&v))
            }
            5 if nbits == 64 => {
                let v: Vec<f64> = ordered
                    .zip(missing.iter())
                    .map(|(v, &m)| fill(v, m))
                    .collect();
                encode(SamplesRef::F64(&v))
            }
            // Filled by missing_mask (as_f32).
            _ => encode(SamplesRef::F32(&buffers.f32)),
        }
    }
}

/// The band's value indices in record order: row j of the record is band line
/// `nj − 1 − j` when `flip`, else line j.
fn record_order(ni: usize, nj: usize, flip: bool) -> impl Iterator<Item = usize> {
    (0..nj).flat_map(move |j| {
        let line = if flip { nj - 1 - j } else { j };
        line * ni..(line + 1) * ni
    })
}

/// Write a band's encoded record.
pub(super) fn write_record(
    writer: &mut FstWriter,
    plan: &BandPlan,
    record: &EncodedRecord,
) -> Result<(), CreateError> {
    writer.write_record(&plan.keys, record)?;
    Ok(())
}
