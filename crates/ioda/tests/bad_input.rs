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

/// One little-endian ODB-2 frame of `columns` integer columns of the `constant` codec and
/// `rows` rows that each repeat the previous one: two bytes per row in the file, a whole row
/// of cells once decoded.
fn repeated_rows_odb(columns: usize, rows: usize) -> Vec<u8> {
    let names: Vec<String> = (0..columns).map(|c| format!("c{c}@hdr")).collect();
    let spec: Vec<(&str, i32, f64)> = names.iter().map(|n| (n.as_str(), 1, 5.0)).collect();
    constant_odb(&spec, rows)
}

/// One little-endian ODB-2 frame whose columns (name, type: 1 INTEGER, 2 REAL; value) hold
/// one value each through the `constant` codec, over `rows` rows that repeat the first.
fn constant_odb(columns: &[(&str, i32, f64)], rows: usize) -> Vec<u8> {
    fn string(out: &mut Vec<u8>, text: &str) {
        out.extend(i32::try_from(text.len()).unwrap().to_le_bytes());
        out.extend(text.as_bytes());
    }
    let mut header = Vec::new();
    header.extend((2 * rows as i64).to_le_bytes()); // data size
    header.extend(0i64.to_le_bytes()); // previous frame offset
    header.extend((rows as i64).to_le_bytes());
    header.extend(0i32.to_le_bytes()); // flags
    header.extend(0i32.to_le_bytes()); // properties
    header.extend(i32::try_from(columns.len()).unwrap().to_le_bytes());
    for (name, kind, value) in columns {
        string(&mut header, name);
        header.extend(kind.to_le_bytes());
        string(&mut header, "constant");
        header.extend(0i32.to_le_bytes()); // no missing values
        for v in [*value, *value, 0.0] {
            header.extend(v.to_le_bytes()); // min, max, missing value
        }
    }
    let mut frame = b"\xff\xffODA".to_vec();
    for v in [1i32, 0, 5] {
        frame.extend(v.to_le_bytes()); // byte order marker, version 0.5
    }
    string(&mut frame, ""); // md5
    frame.extend(i32::try_from(header.len()).unwrap().to_le_bytes());
    frame.extend(header);
    // First row: every column coded (by the constant codec, in no bytes); then repeats.
    frame.extend(0u16.to_be_bytes());
    for _ in 1..rows {
        frame.extend(u16::try_from(columns.len()).unwrap().to_be_bytes());
    }
    frame
}

#[test]
fn odb_rows_that_repeat_are_bounded_before_decoding() {
    let dir = scratch("odb-repeat");
    let path = dir.join("repeat.odb");
    // 1.2 MB on disk, 33 GB of cells: refused from the header, not after decoding it.
    std::fs::write(&path, repeated_rows_odb(4096, 500_000)).unwrap();
    let started = std::time::Instant::now();
    let error = ObsDataset::open(&path).unwrap_err();
    assert!(
        matches!(error, ioda::Error::Limit { found, .. } if found == 4096 * 500_000 * 16),
        "{error}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // Under the limit it decodes, every repeated row equal to the first.
    std::fs::write(&path, repeated_rows_odb(3, 1000)).unwrap();
    let small = Limits {
        max_odb_decoded_bytes: 3 * 1000 * 16,
        ..Limits::default()
    };
    let dataset = ObsDataset::open_with_limits(&path, small).unwrap();
    let data = dataset.read("hdr/c2").unwrap();
    assert_eq!(data.values, ioda::Values::I64(vec![5; 1000]));
    let smaller = Limits {
        max_odb_decoded_bytes: 3 * 1000 * 16 - 1,
        ..Limits::default()
    };
    assert!(matches!(
        ObsDataset::open_with_limits(&path, smaller),
        Err(ioda::Error::Limit { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn latitudes_beyond_the_poles_are_missing() {
    let dir = scratch("odb-lat");
    let path = dir.join("lat.odb");
    for (lat, located) in [(95.0, false), (-90.5, false), (90.0, true), (-45.25, true)] {
        std::fs::write(
            &path,
            constant_odb(&[("lat@hdr", 2, lat), ("lon@hdr", 2, 350.0)], 2),
        )
        .unwrap();
        let dataset = ObsDataset::open(&path).unwrap();
        let latitudes = dataset.latitudes().unwrap();
        assert_eq!(latitudes.missing, [!located, !located], "{lat}");
        if located {
            assert_eq!(latitudes.to_f64(), [lat, lat]);
        }
        // Stored values stay as they are; only the located view masks them.
        assert_eq!(
            dataset.read("MetaData/latitude").unwrap().missing,
            [false, false]
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
