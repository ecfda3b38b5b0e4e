//! Malformed RSF files: absurd sizes and counts in segment starts, directories and entries,
//! extended dimensions, long segment chains, and random mutations of a file holding every
//! RSF feature (several segments, deleted records, JSON, a crashed segment). Every case must
//! end in an error or a correct listing, never a panic, a hang or an unbounded allocation.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)] // test code: failing loudly is the point

use std::path::Path;

use fst_core::{DecodeError, FstFile, OpenError, OpenOptions};
use fst_testkit::{open_and_decode, TEST_LIMITS};

#[path = "support/rsf_writer.rs"]
mod rsf_writer;
use rsf_writer::{write, Rec, Seg, Written};

fn sample() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rsf/rsf_basic.fst"))
        .unwrap()
}

fn sample_records() -> Vec<Rec> {
    let b = sample();
    let file = FstFile::from_bytes(b.clone(), OpenOptions::new()).unwrap();
    file.records()
        .iter()
        .map(|r| Rec::copy_from(&b, r.record_offset.0 as usize))
        .collect()
}

/// A file with every feature: two closed segments (one with a deleted record and JSON), a
/// crashed one.
fn everything() -> Written {
    let mut recs = sample_records();
    let keys: [u32; 16] = recs[2].meta[3..19].try_into().unwrap();
    let tt = Rec::new(
        keys,
        Some(r#"{"unit":"celsius","size":[48,36,1]}"#),
        recs[2].payload.clone(),
    );
    recs[1].deleted = true;
    let mut first = recs.clone();
    first.push(tt);
    write(&[
        Seg::Closed(first),
        Seg::Closed(recs[..3].to_vec()),
        Seg::Open(recs[3..].to_vec()),
    ])
}

fn open(b: &[u8]) -> Result<FstFile, OpenError> {
    FstFile::from_bytes(
        b.to_vec(),
        OpenOptions::new().limits(TEST_LIMITS).recover(true),
    )
}

fn put_pair(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 4].copy_from_slice(&((v >> 32) as u32).to_le_bytes());
    b[at + 4..at + 8].copy_from_slice(&(v as u32).to_le_bytes());
}

fn put_word(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn the_feature_file_lists_as_written() {
    let w = everything();
    let file = open(&w.bytes).unwrap();
    // 7 + 1 records in the first segment, one deleted; 3 in the second, one deleted; 4 recovered.
    assert_eq!(file.records().len(), 7 + 2 + 4);
    assert_eq!(file.entry_count(), 11 + 4);
    assert_eq!(file.records().iter().filter(|r| r.recovered).count(), 4);
    assert_eq!(
        file.records()
            .iter()
            .filter(|r| r.extended_metadata.is_some())
            .count(),
        1
    );
    for rec in file.records() {
        file.decode(rec).unwrap();
    }
}

#[test]
fn absurd_segment_sizes_are_errors() {
    let w = everything();
    let seg = w.segments[1] as usize;
    for (at, v) in [
        (36, u64::MAX),
        (36, u64::MAX - 100),
        (28, u64::MAX - 68),
        (44, u64::MAX - 10),
        (52, u64::MAX),
        (36, 1),
        (36, 71),
    ] {
        let mut b = w.bytes.clone();
        put_pair(&mut b, seg + at, v);
        let _ = open_and_decode(&b);
        match open(&b) {
            Err(OpenError::Format { .. }) => {}
            Ok(f) => assert!(
                !f.diagnostics().is_empty(),
                "SOS +{at} = {v}: silently accepted"
            ),
            Err(e) => panic!("SOS +{at} = {v}: unexpected {e}"),
        }
    }
    // Sizes that are consistent with each other but reach far past the end of the file: a
    // truncated file, reported, with the earlier segments listed.
    let mut b = w.bytes.clone();
    put_pair(&mut b, seg + 28, 1 << 40);
    put_pair(&mut b, seg + 36, (1 << 40) + 68);
    put_pair(&mut b, seg + 44, 0);
    put_pair(&mut b, seg + 52, 0);
    let file = open(&b).unwrap();
    assert!(
        file.diagnostics()[0].message.contains("cut short") && file.diagnostics()[0].truncated,
        "{:?}",
        file.diagnostics()
    );
}

#[test]
fn absurd_directory_counts_and_entries_are_errors() {
    type Corrupt = Box<dyn Fn(&mut [u8])>;
    let w = everything();
    let vdir = w.vdirs[0] as usize;
    let entry = vdir + 20;
    let cases: Vec<(usize, Corrupt)> = vec![
        (0, Box::new(move |b| put_word(b, vdir + 16, u32::MAX))),
        (1, Box::new(move |b| put_word(b, vdir + 16, 0))),
        (2, Box::new(move |b| put_pair(b, entry, u64::MAX - 8))),
        (3, Box::new(move |b| put_pair(b, entry + 8, u64::MAX))),
        (4, Box::new(move |b| put_pair(b, entry + 8, 8))),
        (5, Box::new(move |b| put_word(b, entry + 24, u32::MAX))),
        (6, Box::new(move |b| put_word(b, entry + 24, 0))),
        (7, Box::new(move |b| put_word(b, entry + 24, 0x0012_0012))),
        (
            8,
            Box::new(move |b| put_word(b, entry + 32 + 8, 0x0113_FFFF)),
        ),
        (
            9,
            Box::new(move |b| put_word(b, entry + 32 + 8, 0x0213_0000)),
        ),
        (10, Box::new(move |b| put_word(b, entry + 32, 0x0002_0101))),
        (11, Box::new(move |b| put_word(b, entry + 32 + 4, 7))),
        (12, Box::new(move |b| put_pair(b, entry + 16, 12345))),
    ];
    for (case, corrupt) in cases {
        let mut b = w.bytes.clone();
        corrupt(&mut b);
        let _ = open_and_decode(&b);
        match open(&b) {
            Err(OpenError::Format { .. } | OpenError::Limits { .. }) => {}
            Ok(f) => panic!("case {case}: accepted, {} records", f.records().len()),
            Err(e) => panic!("case {case}: unexpected {e}"),
        }
    }
    // Every message names the offset of the faulty structure.
    let mut b = w.bytes.clone();
    put_word(&mut b, entry + 32 + 8, 0x0214_0000);
    let err = open(&b).unwrap_err().to_string();
    assert!(
        err.contains(&entry.to_string()) && err.contains("FST metadata version 2"),
        "{err}"
    );
}

#[test]
fn huge_extended_dimensions_are_refused_before_allocating() {
    let mut recs = sample_records();
    // ni and nj at 2^31 − 1 through their RSF high bits.
    let k = recs[2].keys_mut();
    k[1] = 0xFFFF_FF00 | (k[1] & 0xFF);
    k[10] |= 0x7F;
    k[2] = 0xFFFF_FF00 | (k[2] & 0xFF);
    k[13] |= 0xF;
    k[14] |= 0x7;
    let w = write(&[Seg::Closed(recs)]);
    let file = open(&w.bytes).unwrap();
    let rec = &file.records()[2];
    assert_eq!((rec.ni, rec.nj), ((1 << 31) - 1, (1 << 31) - 1));
    match file.decode(rec) {
        Err(DecodeError::Limits { .. } | DecodeError::Format { .. }) => {}
        other => panic!("expected a limit error, got {other:?}"),
    }
}

#[test]
fn long_segment_chains_and_empty_segments() {
    // 20 000 one-record write sessions.
    let recs = sample_records();
    let segs: Vec<Seg> = (0..20_000)
        .map(|i| Seg::Closed(vec![recs[i % 2].clone()]))
        .collect();
    let w = write(&segs);
    let file = open(&w.bytes).unwrap();
    assert_eq!(file.records().len(), 20_000);
    // A chain of empty segments (segment 0 repeated): nothing to list, no error.
    let empty: Vec<u8> = sample()[..140].repeat(5000);
    let file = open(&empty).unwrap();
    assert!(file.records().is_empty());
    assert!(file.diagnostics().is_empty());
}

#[test]
fn record_limit_counts_deleted_and_recovered_entries() {
    let w = everything();
    let mut limits = TEST_LIMITS;
    limits.max_records = 11;
    let opts = OpenOptions::new().limits(limits);
    assert_eq!(
        FstFile::from_bytes(w.bytes.clone(), opts)
            .unwrap()
            .records()
            .len(),
        9
    );
    match FstFile::from_bytes(w.bytes.clone(), opts.recover(true)) {
        Err(OpenError::Limits { .. }) => {}
        other => panic!("expected a limit error, got {other:?}"),
    }
    limits.max_records = 10;
    match FstFile::from_bytes(w.bytes, OpenOptions::new().limits(limits)) {
        Err(OpenError::Limits { .. }) => {}
        other => panic!("expected a limit error, got {other:?}"),
    }
}

/// xorshift64*, so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_mutations_of_every_structure() {
    let w = everything();
    let mut rng = Rng(0x005E_ED00_0052_5346);
    // Offsets of the structures: segment starts, directories, record frames.
    let mut hot: Vec<usize> = Vec::new();
    for &s in &w.segments {
        hot.extend(s as usize..s as usize + 72);
    }
    for &v in &w.vdirs {
        hot.extend(v as usize..v as usize + 300);
    }
    for &r in &w.records {
        hot.extend(r as usize..r as usize + 92);
    }
    hot.retain(|&at| at < w.bytes.len());
    for _ in 0..3000 {
        let mut b = w.bytes.clone();
        for _ in 0..=rng.below(3) {
            let at = hot[rng.below(hot.len())];
            match rng.below(3) {
                0 => b[at] ^= 1 << rng.below(8),
                1 => b[at] = rng.next() as u8,
                _ => {
                    let at = at & !3;
                    if at + 4 <= b.len() {
                        let v = [0, u32::MAX, 0x7FFF_FFFF, 1, rng.next() as u32][rng.below(5)];
                        put_word(&mut b, at, v);
                    }
                }
            }
        }
        if rng.below(8) == 0 {
            b.truncate(rng.below(b.len()));
        }
        let _ = open_and_decode(&b);
    }
}

/// RSF dimensions are 32-bit each: a corrupt entry announcing 2^32−1 points along i, j and k
/// has a point count beyond u64, which saturates (it overflowed, found by the `driver_open`
/// fuzz target; the input is `fuzz/regressions/driver_open/overflow-1`).
#[test]
fn point_count_saturates() {
    let file = FstFile::from_bytes(sample(), OpenOptions::new()).unwrap();
    let mut rec = file.records()[0].clone();
    (rec.ni, rec.nj, rec.nk) = (u32::MAX, u32::MAX, u32::MAX);
    assert_eq!(rec.point_count(), u64::MAX);
    (rec.ni, rec.nj, rec.nk) = (3, 5, 7);
    assert_eq!(rec.point_count(), 105);
    let mut huge = rec.clone();
    (huge.ni, huge.nj, huge.nk) = (u32::MAX, u32::MAX, 2);
    assert!(matches!(
        file.sample_layout(&huge),
        Err(DecodeError::Limits { .. } | DecodeError::Format { .. })
    ));
}
