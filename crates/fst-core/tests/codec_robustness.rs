//! Malformed payloads through the codecs: every fixture payload truncated at many lengths,
//! with flipped bits and with garbage header words, plus random words under random record
//! parameters. Every case must end in `Ok` (with a buffer of the announced size) or a
//! `CodecError`, never a panic, a hang or an allocation beyond the announced output.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::path::Path;
use std::time::{Duration, Instant};

use fst_core::codec::{self, CodecParams};
use fst_core::record::Datyp;
use serde_json::Value;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// (params, payload words) of every fixture record with at most `max_points` values.
fn fixture_payloads(max_points: u64) -> Vec<(String, CodecParams, Vec<u32>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xdf");
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json") && !p.ends_with("datyp_nbits_map.json")
        })
        .collect();
    paths.sort();
    for path in paths {
        let m: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let fst = std::fs::read(path.with_extension("fst")).unwrap();
        for rec in m["records"].as_array().unwrap() {
            let g = |k: &str| rec[k].as_u64().unwrap();
            if g("ni") * g("nj") * g("nk") > max_points {
                continue;
            }
            let p = CodecParams {
                datyp: Datyp(g("datyp") as u8),
                nbits: g("nbits") as u8,
                ni: g("ni") as u32,
                nj: g("nj") as u32,
                nk: g("nk") as u32,
            };
            let start = (g("swa") - 1) as usize * 8;
            let words = fst[start + 80..start + g("lng") as usize * 4]
                .chunks_exact(4)
                .map(|c| u32::from_be_bytes(c.try_into().unwrap()))
                .collect();
            out.push((
                format!(
                    "{} #{}",
                    path.file_stem().unwrap().to_string_lossy(),
                    rec["index"]
                ),
                p,
                words,
            ));
        }
    }
    out
}

fn check(name: &str, p: &CodecParams, words: &[u32]) {
    let t = Instant::now();
    let r = codec::decode(words, p);
    if let Ok(s) = &r {
        assert_eq!(
            s.len() as u64,
            codec::sample_count(p).unwrap(),
            "{name}: wrong output size"
        );
    }
    // Large fixtures take a few ms; anything near a second means a runaway loop.
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "{name}: decoding took {:?}",
        t.elapsed()
    );
}

#[test]
fn truncated_fixture_payloads_fail_cleanly() {
    let payloads = fixture_payloads(200_000);
    assert!(payloads.len() > 500);
    let mut errors = 0usize;
    for (name, p, words) in &payloads {
        let len = words.len();
        let mut cuts: Vec<usize> = (0..len.min(12)).collect();
        cuts.extend((1..16).map(|k| len * k / 16));
        cuts.push(len.saturating_sub(1));
        for cut in cuts {
            check(&format!("{name} cut at {cut}"), p, &words[..cut]);
            errors += usize::from(codec::decode(&words[..cut], p).is_err());
        }
    }
    assert!(
        errors > payloads.len(),
        "truncation should fail often ({errors} errors)"
    );
}

#[test]
fn corrupted_fixture_payloads_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for (name, p, words) in fixture_payloads(200_000) {
        for round in 0..24 {
            let mut w = words.clone();
            if w.is_empty() {
                continue;
            }
            match round % 3 {
                // A few flipped bits anywhere.
                0 => {
                    for _ in 0..=rng.below(4) {
                        let i = rng.below(w.len() as u64) as usize;
                        w[i] ^= 1 << rng.below(32);
                    }
                }
                // A garbage word in the headers (first 8 words).
                1 => {
                    let i = rng.below(w.len().min(8) as u64) as usize;
                    w[i] = rng.next() as u32;
                }
                // Extreme values in a header word.
                _ => {
                    let i = rng.below(w.len().min(8) as u64) as usize;
                    w[i] = [0, u32::MAX, 0x8000_0000, 1, 0x7FFF_FFFF][rng.below(5) as usize];
                }
            }
            check(&format!("{name} round {round}"), &p, &w);
        }
    }
}

#[test]
fn random_words_under_random_parameters() {
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    let datyps = [
        0u8, 1, 2, 3, 4, 5, 6, 7, 8, 65, 66, 68, 69, 70, 129, 130, 133, 134, 193, 194, 197, 198,
        128, 131, 9, 63,
    ];
    for _ in 0..20_000 {
        let datyp = datyps[rng.below(datyps.len() as u64) as usize];
        let nbits = rng.below(70) as u8;
        let ni = 1 + rng.below(40) as u32;
        let nj = 1 + rng.below(40) as u32;
        let nk = if rng.below(8) == 0 {
            1 + rng.below(3) as u32
        } else {
            1
        };
        let len = rng.below(600) as usize;
        let mut words: Vec<u32> = (0..len).map(|_| rng.next() as u32).collect();
        // Make turbo framing and codec headers plausible half of the time, so the decoders'
        // inner loops are reached.
        if rng.below(2) == 0 && !words.is_empty() {
            words[0] = len as u32;
            for w in words.iter_mut().skip(1).take(5) {
                if rng.below(2) == 0 {
                    *w = (*w & !0x3FF)
                        | [3, 4, 5][rng.below(3) as usize]
                        | (rng.below(8) << 7) as u32;
                }
            }
        }
        let p = CodecParams {
            datyp: Datyp(datyp),
            nbits,
            ni,
            nj,
            nk,
        };
        check(&format!("{p:?}"), &p, &words);
        if let (Ok(t), Ok(n)) = (codec::sample_type(&p), codec::sample_count(&p)) {
            let _ = (t, n);
            let Ok(mut s) = codec::decode(&vec![0; n as usize * 2 + 16], &p) else {
                continue;
            };
            let _ = codec::decode_into_parallel(&words, &p, s.as_mut(), 3);
        }
    }
}
