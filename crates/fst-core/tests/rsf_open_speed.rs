//! Opening a large RSF file: 100 000 records, listed from their segment directories.
//!
//! The file is built with the test-kit writer from the small records of `rsf_basic.fst`
//! ('>>' and '^^', and every third one with a JSON profile), in 10 write sessions (segments).
//! The quick test checks the listing; the ignored one measures it (run it in release:
//! `cargo test --release -p fst-core --test rsf_open_speed -- --ignored --nocapture`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)] // test code: failing loudly is the point

use std::path::Path;
use std::time::{Duration, Instant};

use fst_core::{FstFile, OpenOptions};

#[path = "support/rsf_writer.rs"]
mod rsf_writer;
use rsf_writer::{write, Rec, Seg};

const RECORDS: usize = 100_000;
const SEGMENTS: usize = 10;

/// A 100 000-record RSF file; `json` puts a 300-byte profile on every third record.
fn big_file(json: bool) -> Vec<u8> {
    let sample = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rsf/rsf_basic.fst"),
    )
    .unwrap();
    let xx = Rec::copy_from(&sample, 212);
    let yy = Rec::copy_from(&sample, 524);
    let profile = r#"{"version":"0.1.0","standard_name":"air_temperature","rpn_name":"TT","unit":"celsius","vertical_level":{"value":[500.0],"vertical_reference":"PRESSURE"},"forecast_datetime":"2024-03-15T13:00:00Z","data":{"type":"FST_TYPE_REAL_IEEE","bits":32,"pack":32,"compression":"lorenzo"}}"#;
    let per_segment = RECORDS / SEGMENTS;
    let segments: Vec<Seg> = (0..SEGMENTS)
        .map(|s| {
            Seg::Closed(
                (0..per_segment)
                    .map(|i| {
                        let n = s * per_segment + i;
                        let base = if n % 2 == 0 { &xx } else { &yy };
                        let mut keys: [u32; 16] = base.meta[3..19].try_into().unwrap();
                        // ip2 = n, so every record differs.
                        keys[13] = ((n as u32 & 0x0FFF_FFFF) << 4) | (keys[13] & 0xF);
                        let text = (json && n % 3 == 0).then_some(profile);
                        Rec::new(keys, text, base.payload.clone())
                    })
                    .collect(),
            )
        })
        .collect();
    write(&segments).bytes
}

#[test]
fn large_rsf_file_lists_every_record() {
    let bytes = big_file(true);
    let file = FstFile::from_bytes(bytes, OpenOptions::new()).unwrap();
    assert_eq!(file.records().len(), RECORDS);
    assert!(file.diagnostics().is_empty());
    for (n, rec) in file.records().iter().enumerate().step_by(997) {
        assert_eq!(rec.ip2 as usize, n);
        assert_eq!(rec.file_index as usize, n);
        assert_eq!(rec.extended_metadata.is_some(), n % 3 == 0);
    }
}

/// The fastest of `runs` opens (the time to drop the file is not counted).
fn best_of(runs: usize, mut open: impl FnMut() -> FstFile) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            let file = open();
            let elapsed = t.elapsed();
            assert_eq!(file.records().len(), RECORDS);
            elapsed
        })
        .min()
        .unwrap()
}

#[test]
#[ignore = "timing; run in release with --ignored --nocapture"]
fn open_speed() {
    // RSF_OPEN_SPEED=plain or =json measures one kind only (for profiling).
    let only = std::env::var("RSF_OPEN_SPEED").ok();
    for json in [false, true] {
        if only.as_deref().is_some_and(|o| (o == "json") != json) {
            continue;
        }
        let bytes = big_file(json);
        let path =
            std::env::temp_dir().join(format!("fst-rsf-big-{}-{json}.fst", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        let shared: std::sync::Arc<[u8]> = bytes.into();
        let from_file = best_of(50, || FstFile::open(&path).unwrap());
        let from_memory = best_of(50, || {
            FstFile::from_bytes(shared.clone(), OpenOptions::new()).unwrap()
        });
        let per_ms = |d: Duration| RECORDS as f64 / (d.as_secs_f64() * 1e3);
        println!(
            "RSF open, {RECORDS} records in {SEGMENTS} segments, JSON on every third: {json}, {} MB: \
             file {:.2} ms ({:.0} records/ms), memory {:.2} ms ({:.0} records/ms)",
            shared.len() >> 20,
            from_file.as_secs_f64() * 1e3,
            per_ms(from_file),
            from_memory.as_secs_f64() * 1e3,
            per_ms(from_memory),
        );
        std::fs::remove_file(&path).unwrap();
    }
}
