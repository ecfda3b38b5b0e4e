//! Decoding 2000×1000 fields with the payload codecs, single- and multi-threaded; encoding
//! 800×600 and 2000×1000 fields through `codec::encode` (1/16, 5/32, 6/16, 129/16, 134/16,
//! 133/32).
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

/// A smooth field with a little noise in its low bits, as real fields have.
fn synthetic(ni: usize, nj: usize) -> Vec<f32> {
    let mut s = 0x2545_f491_4f6c_dd1d_u64;
    (0..ni * nj)
        .map(|k| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let (i, j) = ((k % ni) as f32, (k / ni) as f32);
            250.0 + 30.0 * (i / 97.0).sin() * (j / 61.0).cos() + (s % 64) as f32 * 1e-3
        })
        .collect()
}

/// (ni, nj, values, datyp/nbits requested) of the encode benchmark.
type EncodeCase<'a> = (u32, u32, &'a [f32], &'a [(u8, u8)]);

/// Encoding through the public `codec::encode`, as a writer calls it: on an 800×600 field
/// every float datyp a model writes (1/16, 5/32, 6/16 and the turbo 129/16, 134/16, 133/32),
/// on a 2000×1000 field the turbo ones. The field is shapes.fst record 33 (2000×1000, a real
/// 134/16 record, and its 800×600 corner) when found, else a synthetic one.
fn bench_encode(c: &mut Criterion) {
    let shapes = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xdf/shapes.fst");
    let big = FstFile::open(&shapes)
        .ok()
        .and_then(|f| {
            let rec = f.records().get(33)?.clone();
            match f.decode(&rec).ok()?.samples {
                Samples::F32(v) if v.len() == 2000 * 1000 => Some(v),
                _ => None,
            }
        })
        .unwrap_or_else(|| synthetic(2000, 1000));
    let corner: Vec<f32> = big
        .chunks_exact(2000)
        .take(600)
        .flat_map(|row| &row[..800])
        .copied()
        .collect();
    let mut group = c.benchmark_group("encode");
    group.sample_size(20);
    let cases: [EncodeCase<'_>; 2] = [
        (
            800,
            600,
            &corner,
            &[(1, 16), (5, 32), (6, 16), (129, 16), (134, 16), (133, 32)],
        ),
        (2000, 1000, &big, &[(134, 16), (133, 32)]),
    ];
    for (ni, nj, values, kinds) in cases {
        group.throughput(Throughput::Elements(values.len() as u64));
        for &(datyp, nbits) in kinds {
            let req = codec::EncodeRequest {
                datyp: fst_core::record::Datyp(datyp),
                nbits,
                ni,
                nj,
                nk: 1,
            };
            let run = || {
                codec::encode(
                    codec::SamplesRef::F32(values),
                    None,
                    &req,
                    &fst_core::Limits::DEFAULT,
                )
                .expect("encode")
            };
            // A turbo request that fell back to the plain type would time the wrong codec.
            assert_eq!(
                run().datyp.0,
                datyp,
                "{datyp}/{nbits} {ni}x{nj} stored otherwise"
            );
            group.bench_function(
                BenchmarkId::new(format!("{datyp}_{nbits}"), format!("{ni}x{nj}")),
                |b| b.iter(run),
            );
        }
    }
    group.finish();
}

criterion_group!(benches, bench_codecs, bench_encode);
criterion_main!(benches);
