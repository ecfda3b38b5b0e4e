//! Truncated and bit-flipped copies of every fixture: an error or a value, never a panic,
//! never an allocation beyond the limits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod common;

use std::path::Path;

use ioda::{Limits, ObsDataset};

/// Opens and reads everything; the result is ignored, only a panic fails.
fn exercise(path: &Path) {
    let limits = Limits {
        max_variable_bytes: 64 << 20,
        max_chunk_bytes: 16 << 20,
        max_odb_file_bytes: 8 << 20,
        ..Limits::default()
    };
    let Ok(dataset) = ObsDataset::open_with_limits(path, limits) else {
        return;
    };
    for info in dataset.variables().to_vec() {
        let _ = dataset.read(&info.name.to_string());
    }
    let _ = dataset.date_times();
    let _ = dataset.longitudes();
    let _ = dataset.latitudes();
}

fn scratch(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ioda-bad-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn truncated_copies_never_panic() {
    let dir = scratch("cut");
    for source in common::all_fixture_files() {
        let bytes = std::fs::read(&source).unwrap();
        let copy = dir.join(source.file_name().unwrap());
        // About 150 cut points per file, and every one of the first 64 bytes.
        let step = (bytes.len() / 150).max(1);
        let cuts = (0..64.min(bytes.len())).chain((64..bytes.len()).step_by(step));
        for cut in cuts {
            std::fs::write(&copy, &bytes[..cut]).unwrap();
            exercise(&copy);
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bit_flipped_copies_never_panic() {
    let dir = scratch("flip");
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for source in common::all_fixture_files() {
        let bytes = std::fs::read(&source).unwrap();
        let copy = dir.join(source.file_name().unwrap());
        for _ in 0..200 {
            // xorshift: reproducible positions, no dependency.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut flipped = bytes.clone();
            let at = (state % bytes.len() as u64) as usize;
            flipped[at] ^= 1 << ((state >> 40) % 8);
            std::fs::write(&copy, &flipped).unwrap();
            exercise(&copy);
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
