//! Write `count` records of `ni × nj` f32 values, cycling through the arrays of a raw input
//! file (little-endian f32, `ni·nj` per array), on one thread: the fst-core side of
//! `bench/write_vs_librmn.sh`.
//!
//!     cargo run --release -p fst-core --example write_bench -- IN.f32 NI NJ COUNT DATYP NBITS xdf|rsf OUT.fst
//!
//! Prints `seconds=<wall time of create + writes + close>` and the stored datyp.

use std::time::Instant;

use fst_core::codec::SamplesRef;
use fst_core::record::Datyp;
use fst_core::write::{FstWriter, RecordKeys, WriteOptions};
use fst_core::Container;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, ni, nj, count, datyp, nbits, container, out] = args.as_slice() else {
        return Err("usage: write_bench IN.f32 NI NJ COUNT DATYP NBITS xdf|rsf OUT.fst".into());
    };
    let (ni, nj): (u32, u32) = (ni.parse()?, nj.parse()?);
    let (count, datyp, nbits): (u32, u8, u8) = (count.parse()?, datyp.parse()?, nbits.parse()?);
    let container = match container.as_str() {
        "xdf" => Container::Xdf,
        "rsf" => Container::Rsf,
        other => return Err(format!("unknown container {other}").into()),
    };
    let bytes = std::fs::read(input)?;
    let values: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let n = (ni * nj) as usize;
    let arrays: Vec<&[f32]> = values.chunks_exact(n).collect();
    if arrays.is_empty() {
        return Err("the input holds no whole array".into());
    }
    let _ = std::fs::remove_file(out);
    let start = Instant::now();
    let mut w = FstWriter::create(out, WriteOptions::new(container))?;
    let mut stored = None;
    for r in 0..count {
        let keys = RecordKeys {
            nomvar: "TT".into(),
            typvar: "P".into(),
            etiket: "BENCH".into(),
            ip1: r,
            ip2: r % 48,
            grtyp: b'X',
            ni,
            nj,
            ..RecordKeys::default()
        };
        let a = arrays[r as usize % arrays.len()];
        w.write(&keys, SamplesRef::F32(a), None, Datyp(datyp), nbits)?;
        stored.get_or_insert(r);
    }
    w.close()?;
    let secs = start.elapsed().as_secs_f64();
    let file = fst_core::FstFile::open(out)?;
    let first = file.records().first().map(|r| r.datyp.0);
    println!(
        "seconds={secs:.3} records={} stored_datyp={first:?} bytes={}",
        file.records().len(),
        std::fs::metadata(out)?.len()
    );
    Ok(())
}
