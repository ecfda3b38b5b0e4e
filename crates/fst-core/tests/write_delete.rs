//! `FstWriter::delete`: only the asked records disappear, in both containers; the others read
//! back with their values; stale or foreign listings delete nothing.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::string_slice
)]

use std::path::PathBuf;

use fst_core::write::{FstWriter, Payload, RecordKeys, WriteOptions};
use fst_core::{Container, FstFile};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fst-delete-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_file(path: &PathBuf, container: Container, n: u32) {
    let mut w = FstWriter::create(path, WriteOptions::new(container)).unwrap();
    for i in 0..n {
        let keys = RecordKeys {
            nomvar: format!("V{i}"),
            ni: 2,
            ..RecordKeys::default()
        };
        let words = [(i as f32).to_bits(), (i as f32 + 0.5).to_bits()];
        w.write_encoded(&keys, &Payload::ieee32(&words)).unwrap();
    }
    w.close().unwrap();
}

fn names(file: &FstFile) -> Vec<String> {
    file.records()
        .iter()
        .map(|r| r.nomvar.trimmed().to_string())
        .collect()
}

#[test]
fn deletes_only_the_given_records_in_both_containers() {
    let dir = scratch("only");
    for container in [Container::Xdf, Container::Rsf] {
        let path = dir.join(format!("{container:?}.fst"));
        write_file(&path, container, 6);
        let before = FstFile::open(&path).unwrap();
        let mut w = FstWriter::append(&path, WriteOptions::new(container)).unwrap();
        for rec in before
            .records()
            .iter()
            .filter(|r| r.nomvar.trimmed() == "V1" || r.nomvar.trimmed() == "V4")
        {
            assert!(w.delete(rec).unwrap(), "{container:?}");
            // Twice: the second finds nothing live.
            assert!(!w.delete(rec).unwrap(), "{container:?}");
        }
        w.close().unwrap();
        let after = FstFile::open(&path).unwrap();
        assert_eq!(names(&after), ["V0", "V2", "V3", "V5"], "{container:?}");
        for rec in after.records() {
            let i: f32 = rec.nomvar.trimmed()[1..].parse().unwrap();
            let words = after.read_payload_words(rec).unwrap();
            assert_eq!(words, [i.to_bits(), (i + 0.5).to_bits()], "{container:?}");
        }
        // Deleting again after reopening: the stale listing still names deleted entries.
        let mut w = FstWriter::append(&path, WriteOptions::new(container)).unwrap();
        assert!(!w.delete(&before.records()[1]).unwrap());
        assert!(w.delete(&after.records()[0]).unwrap());
        w.close().unwrap();
        assert_eq!(names(&FstFile::open(&path).unwrap()), ["V2", "V3", "V5"]);
    }
}

#[test]
fn a_listing_of_another_file_deletes_nothing() {
    let dir = scratch("foreign");
    for container in [Container::Xdf, Container::Rsf] {
        let a = dir.join(format!("a-{container:?}.fst"));
        let b = dir.join(format!("b-{container:?}.fst"));
        write_file(&a, container, 3);
        // b's records have other lengths, so they start at other bytes.
        let mut w = FstWriter::create(&b, WriteOptions::new(container)).unwrap();
        for i in 0..3u32 {
            let keys = RecordKeys {
                nomvar: format!("W{i}"),
                ni: 40,
                ..RecordKeys::default()
            };
            w.write_encoded(&keys, &Payload::ieee32(&[0u32; 40]))
                .unwrap();
        }
        w.close().unwrap();
        let listing_b = FstFile::open(&b).unwrap();
        let mut w = FstWriter::append(&a, WriteOptions::new(container)).unwrap();
        let deleted: Vec<bool> = listing_b.records()[1..]
            .iter()
            .map(|r| w.delete(r).unwrap())
            .collect();
        w.close().unwrap();
        assert_eq!(deleted, [false, false], "{container:?}");
        assert_eq!(names(&FstFile::open(&a).unwrap()), ["V0", "V1", "V2"]);
    }
}
