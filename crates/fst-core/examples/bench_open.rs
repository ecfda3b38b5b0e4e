//! Time opening a file and listing the metadata of every record, the work librmn does in
//! `fstouv` + `fstinl` + `fstprm` (see `bench/metadata_vs_librmn.sh`).
//!
//! ```text
//! cargo run --release -p fst-core --example bench_open -- [--repeat N] [--json OUT] FILE...
//! ```
//!
//! Two timings per file, best of N:
//! * `open`: read and validate the directory (librmn's `fstouv`);
//! * `open+list`: the same, then visit every record's metadata, including the derived origin
//!   date and the decoded ip1 (what `fstprm` returns and a listing shows).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)] // bench code

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use fst_core::FstFile;

fn best_of(repeat: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut n = 0;
    for _ in 0..repeat {
        let t = Instant::now();
        n = black_box(f());
        best = best.min(t.elapsed());
    }
    (best, n)
}

fn main() {
    let mut repeat = 10;
    let mut json: Option<PathBuf> = None;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--repeat" => repeat = args.next().unwrap().parse().unwrap(),
            "--json" => json = Some(args.next().unwrap().into()),
            _ => files.push(PathBuf::from(a)),
        }
    }
    let mut results = Vec::new();
    for path in &files {
        let (open, n) = best_of(repeat, || FstFile::open(path).unwrap().records().len());
        let (list, _) = best_of(repeat, || {
            let file = FstFile::open(path).unwrap();
            let mut acc = 0u64;
            for r in file.records() {
                acc = acc
                    .wrapping_add(u64::from(r.ni) ^ u64::from(r.ip1) ^ u64::from(r.ig1))
                    .wrapping_add(r.dateo() as u64)
                    .wrapping_add(
                        fst_core::ip::decode_ip(r.ip1).map_or(0, |ip| ip.value.to_bits()) as u64,
                    )
                    .wrapping_add(u64::from(r.nomvar.as_bytes()[0]));
            }
            black_box(acc);
            file.records().len()
        });
        let per_ms = |d: Duration| n as f64 / (d.as_secs_f64() * 1e3);
        println!(
            "{}: {n} records; open {:.3} ms ({:.0} records/ms); open+list {:.3} ms ({:.0} records/ms)",
            path.display(),
            open.as_secs_f64() * 1e3,
            per_ms(open),
            list.as_secs_f64() * 1e3,
            per_ms(list)
        );
        results.push(serde_json::json!({
            "file": path.display().to_string(), "records": n,
            "open_s": open.as_secs_f64(), "open_list_s": list.as_secs_f64(),
        }));
    }
    if let Some(p) = json {
        std::fs::write(p, serde_json::to_string_pretty(&results).unwrap()).unwrap();
    }
}
