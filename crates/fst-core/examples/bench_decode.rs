//! Time the payload codecs on every record of FST files, the way `bench/bench_librmn.py`
//! times librmn's `c_fstluk`: one reused output buffer, best of N runs.
//!
//! ```text
//! cargo run --release -p fst-core --example bench_decode -- [--repeat N] [--threads T]
//!     [--inputs bench/out/decode_inputs.json] [--json OUT] FILE...
//! ```
//!
//! Per record it prints three timings:
//! * `decode`: the codec alone on payload words already in memory, one thread;
//! * `decode_mt`: the same with `decode_into_parallel` and T threads;
//! * `read+decode`: reading the payload from the file (with the byte swap) plus decoding,
//!   one thread — the work `c_fstluk` does.
//!
//! With `--inputs` (the manifest written by `bench/make_decode_inputs.py`), the decoded values
//! are first checked against librmn's (sha256 of the f32 bytes).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test/bench code: failing loudly is the point

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use fst_core::codec::{self, Samples};
use fst_core::FstFile;
use sha2::{Digest, Sha256};

struct Args {
    repeat: usize,
    threads: usize,
    inputs: Option<PathBuf>,
    json: Option<PathBuf>,
    files: Vec<PathBuf>,
}

fn parse_args() -> Args {
    let mut a = Args {
        repeat: 10,
        threads: std::thread::available_parallelism().map_or(2, usize::from),
        inputs: None,
        json: None,
        files: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--repeat" => a.repeat = it.next().and_then(|v| v.parse().ok()).expect("--repeat N"),
            "--threads" => a.threads = it.next().and_then(|v| v.parse().ok()).expect("--threads T"),
            "--inputs" => a.inputs = it.next().map(PathBuf::from),
            "--json" => a.json = it.next().map(PathBuf::from),
            "-h" | "--help" => {
                eprintln!("bench_decode [--repeat N] [--threads T] [--inputs decode_inputs.json] [--json OUT] FILE...");
                std::process::exit(0);
            }
            _ => a.files.push(PathBuf::from(arg)),
        }
    }
    a
}

fn best_of(repeat: usize, mut f: impl FnMut()) -> Duration {
    // One warm-up run (page faults of the output buffer, caches), then the best of `repeat`.
    f();
    (0..repeat.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn le_bytes(s: &Samples) -> Vec<u8> {
    match s {
        Samples::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        Samples::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        Samples::U32(v) | Samples::Raw32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        Samples::I32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        _ => Vec::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn main() {
    let args = parse_args();
    let expected: Option<serde_json::Value> = args.inputs.as_ref().map(|p| {
        serde_json::from_slice(&std::fs::read(p).expect("read --inputs")).expect("parse --inputs")
    });
    let mut rows = Vec::new();
    println!(
        "{:<18} {:>6} {:>5} {:>11} {:>11} {:>13} {:>13}",
        "file",
        "datyp",
        "nbits",
        "ni x nj",
        "decode 1t",
        format!("decode {}t", args.threads),
        "read+decode 1t"
    );
    for path in &args.files {
        let file = FstFile::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for rec in file.records() {
            let p = rec.codec_params();
            let words = file.read_payload_words(rec).expect("read payload");
            let mut out = codec::decode(&words, &p).expect("decode");
            if let Some(want) = expected.as_ref().and_then(|m| {
                m["files"]
                    .as_array()?
                    .iter()
                    .find(|f| f["file"].as_str() == Some(&name))?["sha256"]
                    .as_str()
                    .map(String::from)
            }) {
                let got = hex(&Sha256::digest(le_bytes(&out)));
                assert_eq!(got, want, "{name}: decoded values differ from librmn's");
            }
            let t1 = best_of(args.repeat, || {
                codec::decode_into(&words, &p, out.as_mut()).expect("decode");
            });
            let tn = best_of(args.repeat, || {
                codec::decode_into_parallel(&words, &p, out.as_mut(), args.threads)
                    .expect("decode");
            });
            let tr = best_of(args.repeat, || {
                let w = file.read_payload_words(rec).expect("read payload");
                codec::decode_into(&w, &p, out.as_mut()).expect("decode");
            });
            println!(
                "{:<18} {:>6} {:>5} {:>11} {:>9.3}ms {:>11.3}ms {:>11.3}ms",
                name,
                rec.datyp.0,
                rec.nbits,
                format!("{}x{}", rec.ni, rec.nj),
                t1.as_secs_f64() * 1e3,
                tn.as_secs_f64() * 1e3,
                tr.as_secs_f64() * 1e3
            );
            rows.push(serde_json::json!({
                "file": name, "datyp": rec.datyp.0, "nbits": rec.nbits, "ni": rec.ni, "nj": rec.nj, "nk": rec.nk,
                "decode_1t_s": t1.as_secs_f64(), "decode_mt_s": tn.as_secs_f64(), "threads": args.threads,
                "read_decode_1t_s": tr.as_secs_f64(),
            }));
        }
    }
    if let Some(p) = &args.json {
        std::fs::write(p, serde_json::to_string_pretty(&rows).expect("json"))
            .expect("write --json");
    }
}
