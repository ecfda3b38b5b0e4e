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
    // Read straight into the f32 array, so that the input is resident once.
    let mut values = vec![0f32; usize::try_from(std::fs::metadata(input)?.len() / 4)?];
    std::io::Read::read_exact(
        &mut std::fs::File::open(input)?,
        bytemuck::cast_slice_mut(&mut values),
    )?;
    let input_bytes = values.len() * 4;
    // What is resident before any encoding: the program and the input arrays.
    let baseline_kib = status_kib("VmRSS:");
    let n = (ni * nj) as usize;
    let arrays: Vec<&[f32]> = values.chunks_exact(n).collect();
    if arrays.is_empty() {
        return Err("the input holds no whole array".into());
    }
    // The encoding alone, for reference: what the writer adds is the rest.
    let t = Instant::now();
    let cpu = cpu_seconds();
    for r in 0..count {
        let req = fst_core::codec::EncodeRequest {
            datyp: Datyp(datyp),
            nbits,
            ni,
            nj,
            nk: 1,
        };
        let a = arrays[r as usize % arrays.len()];
        std::hint::black_box(fst_core::codec::encode(
            SamplesRef::F32(a),
            None,
            &req,
            &fst_core::Limits::DEFAULT,
        )?);
    }
    let encode_secs = t.elapsed().as_secs_f64();
    let encode_cpu = cpu_seconds() - cpu;
    let _ = std::fs::remove_file(out);
    let start = Instant::now();
    let cpu = cpu_seconds();
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
    let cpu = cpu_seconds() - cpu;
    // Peak resident memory, for the issue's bound ("peak RSS under 1.5× the largest record plus
    // the directory"): what the encoding and the writer added to the baseline at their peak.
    let peak_kib = status_kib("VmHWM:");
    let file = fst_core::FstFile::open(out)?;
    let first = file.records().first().map(|r| r.datyp.0);
    // The largest record, as the caller hands it over (its f32 values), and the directory of
    // the file written (XDF: its pages of 256 entries; RSF: its entries, 72 bytes as XDF's).
    let record_bytes = n as f64 * 4.0;
    let directory_bytes = match container {
        Container::Xdf => f64::from(count.div_ceil(256)) * 2308.0 * 8.0,
        Container::Rsf => f64::from(count) * 72.0,
    };
    let added_mib = peak_kib.saturating_sub(baseline_kib) as f64 / 1024.0;
    let bound_mib = (1.5 * record_bytes + directory_bytes) / f64::from(1u32 << 20);
    println!(
        "seconds={secs:.3} cpu_seconds={cpu:.3} encode_only_seconds={encode_secs:.3} encode_only_cpu_seconds={encode_cpu:.3} records={} stored_datyp={first:?} bytes={} peak_rss_mib={:.1} input_mib={:.1} baseline_rss_mib={:.1} added_rss_mib={added_mib:.2} bound_mib={bound_mib:.2}",
        file.records().len(),
        std::fs::metadata(out)?.len(),
        peak_kib as f64 / 1024.0,
        input_bytes as f64 / f64::from(1u32 << 20),
        baseline_kib as f64 / 1024.0,
    );
    Ok(())
}

/// A `/proc/self/status` field in KiB (0 where there is none).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// CPU time of this process so far (user and system, from `/proc/self/schedstat`, in
/// nanoseconds there): on a shared machine the wall time also counts the moments other
/// processes hold the cores.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(f64::NAN, |ns| ns as f64 * 1e-9)
}
