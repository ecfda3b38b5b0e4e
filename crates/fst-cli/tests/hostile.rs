//! `fst grid` and `fst coords` on records whose directory entry lies (issue 14, defects 2
//! and 8): a clean error naming the file, the record and the limit or the reason, a non-zero
//! exit, and never an abort ("memory allocation of 16928000000 bytes failed").
#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "../../fst-core/tests/support/rsf_writer.rs"]
mod rsf_writer;

#[path = "../../fst-core/tests/support/hostile.rs"]
mod hostile;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn fst(args: &[&str], file: &Path) -> (Output, Duration) {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_fst"))
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    (out, t.elapsed())
}

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fst-core/tests/fixtures")
}

fn failure(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("memory allocation"), "{err}");
    err
}

/// Record 5 of `rsf_basic.fst` (HU) made to claim 46000 x 46000 points of grid `grtyp`.
fn huge(dir: &Path, grtyp: u8, ig: [u32; 4]) -> std::path::PathBuf {
    let p = dir.join(format!("huge_{}.fst", char::from(grtyp)));
    let bytes = hostile::basic_with(&fixtures(), 5, |k| {
        k.shape(grtyp, 46_000, 46_000).igs(ig);
    });
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn coords_of_a_header_claiming_46000_squared_points_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    // A (global) grid: geometrically fine, too large for the limits.
    let file = huge(dir.path(), b'A', [0; 4]);
    let npz = dir.path().join("c.npz");
    let (out, took) = fst(
        &["coords", "--index", "5", "--out", npz.to_str().unwrap()],
        &file,
    );
    let err = failure(&out);
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(err.contains(file.to_str().unwrap()), "{err}");
    assert!(err.contains("record 5"), "{err}");
    assert!(err.contains("46000x46000"), "{err}");
    assert!(
        err.contains("max_decoded_bytes") || err.contains(".npz member"),
        "{err}"
    );
    assert!(!npz.exists());
    // Its CRS and transform need no per-point arrays.
    let (out, _) = fst(&["grid", "--json", "--index", "5"], &file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Issue 14, defect 8: an L grid past ±90° was published by `fst grid`.
#[test]
fn grid_and_coords_refuse_an_l_grid_past_the_pole() {
    let dir = tempfile::tempdir().unwrap();
    // dlat = dlon = 0.5°, from 90°S: 46000 rows reach 22909.5°N.
    let file = huge(dir.path(), b'L', [50, 50, 0, 0]);
    for args in [
        vec!["grid", "--index", "5"],
        vec!["coords", "--index", "5", "--out", "/dev/null"],
    ] {
        let (out, _) = fst(&args, &file);
        let err = failure(&out);
        assert!(err.contains("record 5"), "{err}");
        assert!(err.contains("latitudes lie in [-90, 90]"), "{err}");
    }
}

#[test]
fn coords_of_a_sane_grid_still_match_its_points() {
    let dir = tempfile::tempdir().unwrap();
    // 4 x 3 L grid at 10°N 20°E, 1° apart.
    let p = dir.path().join("small.fst");
    let bytes = hostile::basic_with(&fixtures(), 5, |k| {
        k.shape(b'L', 4, 3).igs([100, 100, 10_000, 2000]);
    });
    std::fs::write(&p, bytes).unwrap();
    let npz = dir.path().join("c.npz");
    let (out, _) = fst(
        &["coords", "--index", "5", "--out", npz.to_str().unwrap()],
        &p,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let z = std::fs::read(&npz).unwrap();
    // The lat member's data follows its npy header: rows 10, 11, 12 of 4 columns.
    let at = z
        .windows(8)
        .position(|w| w == b"\x93NUMPY\x01\x00")
        .unwrap();
    let hlen = u16::from_le_bytes([z[at + 8], z[at + 9]]) as usize;
    let data = &z[at + 10 + hlen..at + 10 + hlen + 96];
    let lat: Vec<f64> = data
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(
        lat,
        [10.0, 10.0, 10.0, 10.0, 11.0, 11.0, 11.0, 11.0, 12.0, 12.0, 12.0, 12.0]
    );
}
