//! Decoding 2000×1000 fields with the payload codecs, single- and multi-threaded.
//!
//! Inputs: shapes.fst records 33 (134/16) and 34 (1/16) from the fixtures, and, when present,
//! the files written by librmn with `bench/make_decode_inputs.py` into `bench/out/` (1/16,
//! 6/16, 134/16, 133/32, 5/32). `bench/decode_vs_librmn.sh` creates them and compares with
//! librmn's `c_fstluk`.
//!
//! `cargo bench -p fst-core --bench codecs`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)] // test/bench code: failing loudly is the point

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use fst_core::codec::{self, CodecParams, Samples};
use fst_core::FstFile;

struct Case {
    name: String,
    words: Vec<u32>,
    params: CodecParams,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |label: &str, path: &Path, index: Option<usize>| {
        let Ok(file) = FstFile::open(path) else {
            eprintln!(
                "skipping {}: not found (run bench/decode_vs_librmn.sh)",
                path.display()
            );
            return;
        };
        for (k, rec) in file.records().iter().enumerate() {
            if index.is_some_and(|i| i != k) {
                continue;
            }
            let params = rec.codec_params();
            let words = file.read_payload_words(rec).expect("payload");
            cases.push(Case {
                name: format!("{label}_{}_{}", rec.datyp.0, rec.nbits),
                words,
                params,
            });
        }
    };
    let shapes = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xdf/shapes.fst");
    add("shapes33", &shapes, Some(33));
    add("shapes34", &shapes, Some(34));
    let out = repo_root().join("bench/out");
    for name in ["r16", "f16", "t134", "t133", "e32"] {
        add(name, &out.join(format!("decode_{name}.fst")), None);
    }
    cases
}

fn bench_codecs(c: &mut Criterion) {
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let mut group = c.benchmark_group("decode_2000x1000");
    group.sample_size(20);
    for case in cases() {
        let mut out: Samples = codec::decode(&case.words, &case.params).expect("decode");
        group.throughput(Throughput::Elements(out.len() as u64));
        group.bench_function(BenchmarkId::new(&case.name, "1 thread"), |b| {
            b.iter(|| codec::decode_into(&case.words, &case.params, out.as_mut()).expect("decode"));
        });
        group.bench_function(
            BenchmarkId::new(&case.name, format!("{threads} threads")),
            |b| {
                b.iter(|| {
                    codec::decode_into_parallel(&case.words, &case.params, out.as_mut(), threads)
                        .expect("decode");
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench_codecs);
criterion_main!(benches);
