//! Crash safety, full disks and read-only folders, with real processes: this test binary
//! runs itself as the writer (`FSTGIS_WRITE_CHILD` says which job), the test kills it or
//! limits it, then reads what it left.
//!
//! `FSTGIS_KEEP_CRASH_FILES=DIR` keeps the files the killed writers left in DIR, for
//! `scripts/oracle-write.sh` to open them with librmn.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::too_many_lines
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use fst_core::codec::Samples;
use fst_core::date::DateStamp;
use fst_core::write::{FstWriter, Payload, RecordKeys, WriteOptions};
use fst_core::{Container, FstFile, WriteError};

const CHILD: &str = "FSTGIS_WRITE_CHILD";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fst-crash-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Record `n`: its number is in npas and in every value, so any record read back can be
/// checked on its own.
fn record(n: u32) -> (RecordKeys, Vec<u32>) {
    let ni = 50 + n % 300;
    let keys = RecordKeys {
        nomvar: "KILL".into(),
        etiket: format!("N{n}"),
        dateo: DateStamp(473_930_000),
        deet: 60,
        npas: n,
        ni,
        nj: 7,
        ..RecordKeys::default()
    };
    let words = (0..ni * 7)
        .map(|i| (n as f32 + i as f32 / 4096.0).to_bits())
        .collect();
    (keys, words)
}

/// Every listed record is one the writer wrote, whole; returns how many there are.
fn check_file(path: &Path, container: Container) -> usize {
    let file = FstFile::open(path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(file.container(), container);
    for (i, rec) in file.records().iter().enumerate() {
        let n = rec.npas;
        assert_eq!(n as usize, i, "records in order, none missing");
        let (keys, words) = record(n);
        assert_eq!(rec.etiket.trimmed(), keys.etiket);
        assert_eq!((rec.ni, rec.nj), (keys.ni, keys.nj));
        let Samples::F32(v) = file.decode(rec).unwrap().samples else {
            panic!("not f32")
        };
        let got: Vec<u32> = v.iter().map(|x| x.to_bits()).collect();
        assert_eq!(got, words, "record {n}");
    }
    file.records().len()
}

/// Child: append records from `start` forever (until killed), closing the RSF segment every
/// few records so that each session's records become visible.
fn child_append(path: &Path, start: u32) {
    let c = FstFile::open(path).unwrap().container();
    let mut w = FstWriter::append(path, WriteOptions::new(c).force(true)).unwrap();
    let mut n = start;
    loop {
        let (keys, words) = record(n);
        w.write_encoded(&keys, &Payload::ieee32(&words)).unwrap();
        n += 1;
        if n % 7 == 0 {
            w.flush().unwrap();
        }
    }
}

/// Child: append records until the file size limit stops one; that failure must leave the
/// file exactly as it was and the writer usable.
fn child_fill(path: &Path) {
    let c = FstFile::open(path).unwrap().container();
    let mut w = FstWriter::append(path, WriteOptions::new(c)).unwrap();
    let mut n = FstFile::open(path).unwrap().records().len() as u32;
    loop {
        w.flush().unwrap();
        let before = std::fs::read(path).unwrap();
        let (keys, words) = record(n);
        match w.write_encoded(&keys, &Payload::ieee32(&words)) {
            Ok(_) => n += 1,
            Err(e @ WriteError::RecordIo { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains(&path.display().to_string()), "{msg}");
                assert!(msg.contains("KILL"), "{msg}");
                assert_eq!(
                    std::fs::read(path).unwrap(),
                    before,
                    "unchanged after {msg}"
                );
                // Smaller records still fit after the failed one.
                println!("child: stopped at record {n}: {msg}");
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    drop(w);
}

fn run_child_job() -> bool {
    let Ok(job) = std::env::var(CHILD) else {
        return false;
    };
    let (kind, rest) = job.split_once(':').unwrap();
    match kind {
        "append" => {
            let (start, path) = rest.split_once(':').unwrap();
            child_append(Path::new(path), start.parse().unwrap());
        }
        "fill" => child_fill(Path::new(rest)),
        _ => panic!("unknown job {job}"),
    }
    true
}

fn this_test(name: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", name, "--nocapture", "--test-threads=1"]);
    cmd
}

/// A pause of 2 to 62 ms, drawn from the clock's nanoseconds (random enough to land
/// anywhere in the writer's loop).
fn random_pause() -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    Duration::from_micros(2_000 + u64::from(nanos) % 60_000)
}

#[test]
fn writers_killed_at_random_moments_leave_readable_files() {
    if run_child_job() {
        return;
    }
    let keep = std::env::var_os("FSTGIS_KEEP_CRASH_FILES").map(PathBuf::from);
    let dir = scratch("kill");
    let rounds: usize = std::env::var("FSTGIS_KILL_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    for c in [Container::Xdf, Container::Rsf] {
        let path = dir.join(format!("killed-{c}.fst"));
        FstWriter::create(&path, WriteOptions::new(c))
            .unwrap()
            .close()
            .unwrap();
        let mut count = 0;
        for round in 0..rounds {
            let mut child = this_test("writers_killed_at_random_moments_leave_readable_files")
                .env(CHILD, format!("append:{count}:{}", path.display()))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(random_pause());
            child.kill().unwrap(); // SIGKILL
            let status = child.wait().unwrap();
            assert!(!status.success(), "the writer ran until killed");
            let now = check_file(&path, c);
            assert!(now >= count, "round {round}: {now} records after {count}");
            count = now;
        }
        println!("{c}: {count} records survived {rounds} kills");
        assert!(count > 0, "some records got written");
        if let Some(keep) = &keep {
            std::fs::create_dir_all(keep).unwrap();
            std::fs::copy(&path, keep.join(path.file_name().unwrap())).unwrap();
        }
    }
}

#[cfg(unix)]
#[test]
fn a_full_disk_leaves_the_file_unchanged() {
    if run_child_job() {
        return;
    }
    let dir = scratch("full");
    for c in [Container::Xdf, Container::Rsf] {
        let path = dir.join(format!("full-{c}.fst"));
        let mut w = FstWriter::create(&path, WriteOptions::new(c)).unwrap();
        for n in 0..3 {
            let (keys, words) = record(n);
            w.write_encoded(&keys, &Payload::ieee32(&words)).unwrap();
        }
        w.close().unwrap();
        // The writer runs with a 96 KiB file size limit and SIGXFSZ ignored, so that a write
        // past the limit fails with EFBIG as on a full disk.
        let exe = std::env::current_exe().unwrap();
        let status = Command::new("bash")
            .arg("-c")
            .arg("trap '' XFSZ; ulimit -f 96; exec \"$0\" --exact a_full_disk_leaves_the_file_unchanged --nocapture --test-threads=1")
            .arg(exe)
            .env(CHILD, format!("fill:{}", path.display()))
            .status()
            .unwrap();
        assert!(status.success(), "{c}: the writer failed cleanly");
        let n = check_file(&path, c);
        assert!(n > 3, "{c}: {n} records");
        // And the file takes appends again.
        let mut w = FstWriter::append(&path, WriteOptions::new(c)).unwrap();
        let (keys, words) = record(n as u32);
        w.write_encoded(&keys, &Payload::ieee32(&words)).unwrap();
        w.close().unwrap();
        assert_eq!(check_file(&path, c), n + 1);
    }
}
