//! `fst dump`: one record's decoded values as a `NumPy` `.npy` file.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use fst_core::codec::Samples;
use fst_core::{FstFile, RecordIndex};

use crate::npy;

#[derive(Args)]
pub(crate) struct DumpArgs {
    /// The file.
    file: PathBuf,
    /// The record's position in directory order (as `fst ls` shows it).
    #[arg(long)]
    index: u32,
    /// Where to write the values: shape (nk, nj, ni), i fastest, as librmn lays them out.
    /// Missing values become NaN in float arrays.
    #[arg(long)]
    out: PathBuf,
    /// Also write the missing-value mask (bool, same shape; true = missing).
    #[arg(long)]
    mask: Option<PathBuf>,
}

/// Little-endian bytes of a slice of plain numbers.
fn le_bytes<T: Copy, const N: usize>(values: &[T], to: impl Fn(T) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(|&v| to(v)).collect()
}

/// `flag` at the missing points of `values`.
fn flag_missing<T: Copy>(values: &mut [T], missing: Option<&[bool]>, flag: T) {
    if let Some(m) = missing {
        for (v, _) in values.iter_mut().zip(m).filter(|(_, &m)| m) {
            *v = flag;
        }
    }
}

/// The `NumPy` dtype and little-endian bytes of decoded values, with missing points as NaN in
/// float arrays and as librmn's missing flags in integer ones (its missing-value mode:
/// `0xFFFFFFFF` unsigned, `0x80000000` signed; the stored plug values look like data).
fn encode(
    samples: Samples,
    missing: Option<&[bool]>,
) -> anyhow::Result<(&'static str, Vec<u8>, u64)> {
    let nan_out = |v: &mut [f32]| {
        if let Some(m) = missing {
            v.iter_mut()
                .zip(m)
                .filter(|(_, &m)| m)
                .for_each(|(x, _)| *x = f32::NAN);
        }
    };
    Ok(match samples {
        Samples::F32(mut v) => {
            nan_out(&mut v);
            ("<f4", le_bytes(&v, f32::to_le_bytes), v.len() as u64)
        }
        Samples::F64(mut v) => {
            if let Some(m) = missing {
                v.iter_mut()
                    .zip(m)
                    .filter(|(_, &m)| m)
                    .for_each(|(x, _)| *x = f64::NAN);
            }
            ("<f8", le_bytes(&v, f64::to_le_bytes), v.len() as u64)
        }
        Samples::Raw32(v) => ("<u4", le_bytes(&v, u32::to_le_bytes), v.len() as u64),
        Samples::U32(mut v) => {
            flag_missing(&mut v, missing, u32::MAX);
            ("<u4", le_bytes(&v, u32::to_le_bytes), v.len() as u64)
        }
        Samples::I32(mut v) => {
            flag_missing(&mut v, missing, i32::MIN);
            ("<i4", le_bytes(&v, i32::to_le_bytes), v.len() as u64)
        }
        Samples::U64(mut v) => {
            flag_missing(&mut v, missing, u64::MAX);
            ("<u8", le_bytes(&v, u64::to_le_bytes), v.len() as u64)
        }
        Samples::I64(mut v) => {
            flag_missing(&mut v, missing, i64::MIN);
            ("<i8", le_bytes(&v, i64::to_le_bytes), v.len() as u64)
        }
        Samples::U8(v) => {
            let n = v.len() as u64;
            ("|u1", v, n)
        }
        Samples::C64(v) => ("<c8", le_bytes(&v, f32::to_le_bytes), v.len() as u64 / 2),
        Samples::C128(v) => ("<c16", le_bytes(&v, f64::to_le_bytes), v.len() as u64 / 2),
        other => bail!("no .npy type for {other:?}"),
    })
}

pub(crate) fn run(args: &DumpArgs) -> anyhow::Result<()> {
    let file = FstFile::open(&args.file)?;
    let Some(rec) = file.record(RecordIndex(args.index)) else {
        bail!(
            "{}: no record {} (the file has {})",
            args.file.display(),
            args.index,
            file.records().len()
        );
    };
    let field = file.decode(rec)?;
    // Datyp 0 of 8, 16 or 64 bits: the elements its writer stored, shaped like the record.
    let points = usize::try_from(rec.point_count()).unwrap_or(usize::MAX);
    let samples = field.samples.raw_as_elements(u32::from(rec.nbits), points);
    let (descr, bytes, count) = encode(samples, field.missing.as_deref())?;
    // Other transparent (datyp 0) records hold raw words whose count is not the grid's: keep
    // them flat rather than invent a shape.
    let shape: Vec<u64> = if count == rec.point_count() {
        vec![u64::from(rec.nk), u64::from(rec.nj), u64::from(rec.ni)]
    } else {
        vec![count]
    };
    write_npy(&args.out, descr, &shape, &bytes)?;
    if let Some(mask_path) = &args.mask {
        let mask: Vec<u8> = match &field.missing {
            Some(m) => m.iter().map(|&b| u8::from(b)).collect(),
            None => vec![0; usize::try_from(count).unwrap_or(0)],
        };
        write_npy(mask_path, "|b1", &shape, &mask)?;
    }
    Ok(())
}

fn write_npy(path: &PathBuf, descr: &str, shape: &[u64], bytes: &[u8]) -> anyhow::Result<()> {
    let f =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = BufWriter::new(f);
    npy::write_array(&mut w, descr, shape, bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    w.flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
