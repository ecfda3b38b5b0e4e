//! Replays every committed fuzz input (`fuzz/corpus/<target>/` and the findings kept in
//! `fuzz/regressions/<target>/`) through the same function as its fuzz target, on stable Rust,
//! so that CI catches a regression on any of them without nightly or cargo-fuzz. Errors are
//! expected; a panic fails the test, naming the file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// Every file under `dir` (recursively) but READMEs, sorted; none when `dir` does not exist.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else if p.extension().is_none_or(|x| x != "md") {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn replay(target: &str, run: impl Fn(&[u8])) {
    let corpus = files_under(&fuzz_dir().join("corpus").join(target));
    assert!(
        !corpus.is_empty(),
        "fuzz/corpus/{target} is empty or missing: the replay would test nothing"
    );
    let inputs = corpus
        .into_iter()
        .chain(files_under(&fuzz_dir().join("regressions").join(target)));
    let mut failed = Vec::new();
    let mut count = 0;
    for path in inputs {
        let bytes = std::fs::read(&path).unwrap();
        count += 1;
        if catch_unwind(AssertUnwindSafe(|| run(&bytes))).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{target}: {} of {count} inputs panicked: {failed:#?}",
        failed.len()
    );
}

#[test]
fn open_decode_corpus() {
    replay("open_decode", |b| {
        let _ = fst_testkit::open_and_decode(b);
    });
}

#[test]
fn codecs_corpus() {
    replay("codecs", fst_testkit::codec_case);
}

#[test]
fn rsf_walk_corpus() {
    replay("rsf_walk", |b| {
        let _ = fst_testkit::rsf_walk(b);
    });
}
