//! Malformed input: truncation, bit flips, absurd sizes, directory cycles. Every case must end
//! in an error or a correct result, never a panic, a hang or an unbounded allocation.
// Tests fail loudly on purpose.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_cmp
)]

use std::path::{Path, PathBuf};

use fst_core::error::FormatErrorKind;
use fst_core::{DecodeError, FstFile, OpenError, OpenOptions};
use fst_testkit::{open_and_decode, TEST_LIMITS};

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for dir in ["xdf", "rsf"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "fst") {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(out.len() >= 13);
    out
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
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

fn cut_points(len: usize) -> Vec<usize> {
    let mut cuts: Vec<usize> = (0..len.min(4096)).step_by(61).collect();
    cuts.extend((0..48).map(|k| len * k / 48));
    cuts.extend([
        len.saturating_sub(1),
        len.saturating_sub(8),
        len.saturating_sub(12),
    ]);
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

#[test]
fn truncation_sweep() {
    for path in fixtures() {
        let bytes = std::fs::read(&path).unwrap();
        for cut in cut_points(bytes.len()) {
            let mut cut_bytes = bytes[..cut].to_vec();
            let _ = open_and_decode(&cut_bytes);
            // XDF refuses a file shorter than its header says; also pretend the header was
            // updated, so that the directory walk itself meets the missing bytes.
            if cut_bytes.len() >= 208 && &cut_bytes[8..16] == b"XDF0STDR" {
                let units = (cut as u32 / 8).to_be_bytes();
                cut_bytes[16..20].copy_from_slice(&units);
                cut_bytes.truncate(cut / 8 * 8);
                let _ = open_and_decode(&cut_bytes);
            }
        }
    }
}

#[test]
fn truncated_while_open_is_an_error_not_a_crash() {
    // Open a real file, then cut it under the reader's feet: reads fail cleanly.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xdf/datyps.fst");
    let dir = tempdir();
    let path = dir.join("cut.fst");
    std::fs::copy(&src, &path).unwrap();
    let file = FstFile::open(&path).unwrap();
    let last = file.records().last().unwrap().clone();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(last.payload.offset.0 + 4)
        .unwrap();
    match file.read_payload_words(&last) {
        Err(DecodeError::Io { .. }) => {}
        other => panic!("expected an I/O error, got {other:?}"),
    }
    std::fs::remove_dir_all(dir).unwrap();
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "fst-core-test-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn bit_flips_in_directory_and_records() {
    let mut rng = Rng(0x5EED_F57C_0DE5);
    for path in fixtures() {
        let bytes = std::fs::read(&path).unwrap();
        // Directory structures sit in the first pages (XDF) or are spread (RSF): flip bits
        // anywhere in the first 40 KiB and in the last 8 KiB, where headers and directories are.
        let head = bytes.len().min(40 << 10);
        for _ in 0..150 {
            let mut m = bytes.clone();
            let at = if rng.below(4) == 0 {
                bytes.len() - 1 - rng.below(bytes.len().min(8 << 10))
            } else {
                rng.below(head)
            };
            m[at] ^= 1 << rng.below(8);
            if rng.below(2) == 0 {
                let at2 = rng.below(head);
                m[at2] = rng.next() as u8;
            }
            let _ = open_and_decode(&m);
        }
    }
}

fn be_word(b: &[u8], word: usize) -> u32 {
    u32::from_be_bytes(b[word * 4..word * 4 + 4].try_into().unwrap())
}
fn set_be_word(b: &mut [u8], word: usize, v: u32) {
    b[word * 4..word * 4 + 4].copy_from_slice(&v.to_be_bytes());
}

/// Byte offset of entry `slot` of the first XDF directory page.
fn first_entry_word(slot: usize) -> usize {
    208 / 4 + 8 + slot * 18
}

#[test]
fn absurd_dimensions_are_refused_before_allocating() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xdf/edits.fst");
    let mut bytes = std::fs::read(path).unwrap();
    let w = first_entry_word(0);
    // ni = nj = 2^24 - 1, nk = 2^20 - 1: about 2^68 values.
    let (w3, w4) = (be_word(&bytes, w + 3), be_word(&bytes, w + 4));
    set_be_word(&mut bytes, w + 3, 0xFFFF_FF00 | (w3 & 0xFF));
    set_be_word(&mut bytes, w + 4, 0xFFFF_FF00 | (w4 & 0xFF));
    set_be_word(&mut bytes, w + 5, 0xFFFF_F000);
    let file = FstFile::from_bytes(bytes, OpenOptions::new()).unwrap();
    match file.decode(&file.records()[0]) {
        Err(DecodeError::Limits { .. } | DecodeError::Format { .. }) => {}
        other => panic!("expected a limit error, got {other:?}"),
    }
}

#[test]
fn directory_page_cycles_are_detected() {
    // append.fst has 2 directory pages; point the second page back at the first.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xdf/append.fst");
    let mut bytes = std::fs::read(path).unwrap();
    assert_eq!(be_word(&bytes, 7), 2, "append.fst should have 2 pages");
    let second = be_word(&bytes, 208 / 4 + 4) as usize;
    let second_word = (second - 1) * 2;
    set_be_word(&mut bytes, second_word + 4, 27);
    set_be_word(&mut bytes, 7, 3);
    match FstFile::from_bytes(bytes, OpenOptions::new().limits(TEST_LIMITS)) {
        Err(OpenError::Format {
            kind: FormatErrorKind::PageCycle { address: 27 },
            ..
        }) => {}
        other => panic!("expected a page cycle, got {other:?}"),
    }
}

#[test]
fn entries_pointing_outside_the_file_are_errors() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xdf/edits.fst");
    let mut bytes = std::fs::read(path).unwrap();
    set_be_word(&mut bytes, first_entry_word(0) + 1, 0x7FFF_FFFF);
    match FstFile::from_bytes(bytes, OpenOptions::new()) {
        Err(OpenError::Format {
            kind: FormatErrorKind::EntryOutOfBounds { .. },
            ..
        }) => {}
        other => panic!("expected an out-of-bounds entry, got {other:?}"),
    }
}

#[test]
fn huge_page_counts_are_refused_without_allocating() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xdf/empty.fst");
    let mut bytes = std::fs::read(path).unwrap();
    set_be_word(&mut bytes, 7, u32::MAX);
    assert!(FstFile::from_bytes(bytes, OpenOptions::new()).is_err());
}

#[test]
fn non_fst_files_are_refused_clearly() {
    for bytes in [&b""[..], b"hello", &[0u8; 4096]] {
        match FstFile::from_bytes(bytes.to_vec(), OpenOptions::new()) {
            Err(OpenError::NotFst { .. }) => {}
            other => panic!("expected NotFst, got {other:?}"),
        }
    }
}

#[test]
fn random_mutation_smoke() {
    // The in-process twin of the cargo-fuzz target: the same harness on mutated fixtures.
    let mut rng = Rng(42);
    let files: Vec<Vec<u8>> = fixtures()
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .filter(|b| b.len() < 200_000)
        .collect();
    for _ in 0..400 {
        let mut m = files[rng.below(files.len())].clone();
        for _ in 0..=rng.below(8) {
            let at = rng.below(m.len());
            m[at] = rng.next() as u8;
        }
        if rng.below(5) == 0 {
            m.truncate(rng.below(m.len()));
        }
        let _ = open_and_decode(&m);
    }
}
