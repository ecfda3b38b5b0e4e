//! The driver's open path on files whose directory lies (issue 14, defects 3 and 8): a record
//! claiming nk = 1 048 575 took `gdalinfo` 43 s and 6.4 GB; it must fail fast, with a clear
//! error, in bounded memory, also when 8 threads open different corrupt files at once.
#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "../../crates/fst-core/tests/support/rsf_writer.rs"]
mod rsf_writer;

#[path = "../../crates/fst-core/tests/support/hostile.rs"]
mod hostile;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use fst_core::source::ByteSource;
use gdal_fst::model::{self, Dataset, ModelOptions};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/fst-core/tests/fixtures")
}

fn local(p: &str) -> Result<Arc<dyn ByteSource>, String> {
    let f = std::fs::File::open(p).map_err(|e| format!("{p}: {e}"))?;
    Ok(Arc::new(f))
}

/// A one-field file: record 5 of `rsf_basic.fst` (HU, 48x36, 32-bit IEEE: a payload of
/// about 7 KB) changed by `patch`.
fn write(dir: &Path, name: &str, patch: impl FnOnce(&mut hostile::Keys<'_>)) -> String {
    let p = dir.join(name);
    std::fs::write(&p, hostile::single_with(&fixtures(), 5, patch)).unwrap();
    p.to_str().unwrap().to_owned()
}

fn open(path: &str) -> Result<Dataset, String> {
    model::open(path, &local, ModelOptions::default()).map_err(|e| e.full_message())
}

/// The open must fail (before the fix, a lying nk opened as a million bands: tens of seconds
/// and gigabytes, which the memory checks below would see).
fn open_err(path: &str) -> String {
    match open(path) {
        Ok(ds) => panic!("{path}: opened with {} bands", ds.bands.len()),
        Err(e) => e,
    }
}

#[test]
fn a_million_levels_over_a_tiny_payload_fail_fast() {
    let dir = tempfile_dir("nk");
    let p = write(&dir, "nk.fst", |k| {
        k.shape(b'L', 1, 1).nk(1_048_575).igs([100, 100, 9000, 0]);
    });
    let e = open_err(&p);
    assert!(e.contains(&p), "{e}");
    assert!(
        e.contains("record #0 claims 1048575 level(s) of 1x1 points"),
        "{e}"
    );
    assert!(e.contains("but its payload of"), "{e}");
}

#[test]
fn band_count_is_bounded_even_when_the_payload_could_hold_the_values() {
    let dir = tempfile_dir("bands");
    // 40000 one-point levels: 40000 bits fit in 6912 bytes, but not in 32768 bands.
    let p = write(&dir, "bands.fst", |k| {
        k.shape(b'L', 1, 1).nk(40_000).igs([100, 100, 9000, 0]);
    });
    let e = open_err(&p);
    assert!(e.contains("40000 bands"), "{e}");
    assert!(e.contains("32768"), "{e}");
    // Under a lower bound of the host's choosing too.
    let small = write(&dir, "small.fst", |k| {
        k.shape(b'L', 1, 1).nk(40).igs([100, 100, 9000, 0]);
    });
    let opts = ModelOptions {
        max_bands: 39,
        ..ModelOptions::default()
    };
    assert!(model::open(&small, &local, opts).is_err());
    let ds = model::open(&small, &local, ModelOptions::default()).unwrap();
    assert_eq!(ds.bands.len(), 40);
}

#[test]
fn a_header_claiming_46000_squared_points_fails_fast() {
    let dir = tempfile_dir("huge");
    let p = write(&dir, "huge.fst", |k| {
        k.shape(b'A', 46_000, 46_000).igs([0; 4]);
    });
    let e = open_err(&p);
    assert!(e.contains("46000x46000"), "{e}");
    // Past fst-core's limit on values.
    let over = write(&dir, "over.fst", |k| {
        k.shape(b'A', 46_000, 46_000).nk(2).igs([0; 4]);
    });
    let e = open_err(&over);
    assert!(e.contains("max_values_per_record"), "{e}");
}

/// Issue 14, defect 8: gdalinfo showed an upper-left latitude of 23029.75.
#[test]
fn an_l_grid_past_the_pole_has_no_georeferencing() {
    let dir = tempfile_dir("pole");
    // 48 x 36 at 1° from 60°N: rows up to 95°N.
    let p = write(&dir, "pole.fst", |k| {
        k.shape(b'L', 48, 36).igs([100, 100, 15_000, 0]);
    });
    let ds = open(&p);
    let ds = ds.unwrap();
    assert!(ds.geotransform.is_none() && ds.wkt.is_none());
    let err = ds
        .metadata
        .iter()
        .find(|(k, _)| k == "FST_GEOREFERENCING_ERROR")
        .map(|(_, v)| v.clone())
        .unwrap();
    assert!(err.contains("reach latitude 95"), "{err}");
}

/// 8 threads, each opening its own corrupt file, again and again: every open fails quickly
/// and the process's peak memory grows by a bounded amount (before the fix, one such open
/// took 6.4 GB).
#[test]
fn eight_threads_opening_corrupt_files_stay_bounded() {
    let dir = tempfile_dir("threads");
    let files: Vec<String> = (0..8)
        .map(|t| {
            write(&dir, &format!("t{t}.fst"), |k| {
                k.shape(b'L', 1 + t, 1)
                    .nk(1_048_575 - t)
                    .igs([100, 100, 9000, 0]);
            })
        })
        .collect();
    let before = peak_rss_kib();
    std::thread::scope(|sc| {
        for f in &files {
            sc.spawn(move || {
                for _ in 0..20 {
                    assert!(open(f).is_err());
                }
            });
        }
    });
    if let (Some(a), Some(b)) = (before, peak_rss_kib()) {
        assert!(b - a < 256 * 1024, "peak RSS grew by {} KiB", b - a);
    }
}

/// The process's peak resident set (Linux `VmHWM`), in KiB.
fn peak_rss_kib() -> Option<i64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A directory of its own under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempfile_dir(name: &str) -> TempDir {
    let d = std::env::temp_dir().join(format!("gdal-fst-hostile-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    TempDir(d)
}
