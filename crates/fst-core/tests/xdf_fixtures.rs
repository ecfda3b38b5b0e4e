//! Every directory field of every XDF fixture, compared with what librmn 19.5's `fstprm`
//! reported when the fixture was written (the manifests beside the files).
// Tests fail loudly on purpose.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_cmp
)]

use std::path::{Path, PathBuf};

use fst_core::{Container, FstFile, Query};
use serde_json::Value;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xdf")
}

fn manifests() -> Vec<(PathBuf, Value)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(fixture_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json")
            && path.file_stem().unwrap() != "datyp_nbits_map"
        {
            let m: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            out.push((fixture_dir().join(m["file"].as_str().unwrap()), m));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        out.len() >= 8,
        "expected the XDF fixture set, found {}",
        out.len()
    );
    out
}

fn u(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("not an unsigned integer: {v}"))
}

#[test]
fn every_directory_field_matches_fstprm() {
    let mut checked = 0;
    for (path, m) in manifests() {
        let file = FstFile::open(&path).unwrap();
        assert_eq!(file.container(), Container::Xdf);
        let records = m["records"].as_array().unwrap();
        assert_eq!(file.records().len(), records.len(), "{}", path.display());
        assert_eq!(
            file.entry_count(),
            u(&m["fstnbr"]),
            "{}: entries incl. deleted",
            path.display()
        );
        for (rec, e) in file.records().iter().zip(records) {
            let ctx = format!("{} record {}", path.display(), u(&e["index"]));
            assert_eq!(u64::from(rec.index.0), u(&e["index"]), "{ctx}");
            let handle = u(&e["handle"]);
            assert_eq!(
                u64::from(rec.file_index),
                (handle >> 19) * 256 + ((handle >> 10) & 0x1FF),
                "{ctx}: file index"
            );
            assert_eq!(rec.nomvar.padded(), e["nomvar"].as_str().unwrap(), "{ctx}");
            assert_eq!(rec.typvar.padded(), e["typvar"].as_str().unwrap(), "{ctx}");
            assert_eq!(rec.etiket.padded(), e["etiket"].as_str().unwrap(), "{ctx}");
            assert_eq!(
                rec.grtyp_char().to_string(),
                e["grtyp"].as_str().unwrap(),
                "{ctx}"
            );
            for (name, ours) in [
                ("ni", rec.ni),
                ("nj", rec.nj),
                ("nk", rec.nk),
                ("deet", rec.deet),
                ("npas", rec.npas),
                ("ip1", rec.ip1),
                ("ip2", rec.ip2),
                ("ip3", rec.ip3),
                ("ig1", rec.ig1),
                ("ig2", rec.ig2),
                ("ig3", rec.ig3),
                ("ig4", rec.ig4),
                ("datyp", u32::from(rec.datyp.0)),
                ("nbits", u32::from(rec.nbits)),
                ("ubc", 0),
                ("dltf", 0),
                ("dir_date_stamp", rec.date_word),
            ] {
                assert_eq!(u64::from(ours), u(&e[name]), "{ctx}: {name}");
            }
            assert_eq!(
                i64::from(rec.datev),
                e["xtra1"].as_i64().unwrap(),
                "{ctx}: datev"
            );
            assert_eq!(rec.record_offset.0, (u(&e["swa"]) - 1) * 8, "{ctx}: swa");
            assert_eq!(rec.record_len, u(&e["lng"]) * 4, "{ctx}: lng");
            assert_eq!(rec.payload.offset.0, rec.record_offset.0 + 80, "{ctx}");
            assert!(rec.extended_metadata.is_none());
            checked += 1;
        }
    }
    assert!(checked > 500, "only {checked} records checked");
}

#[test]
fn fst_edit_dir_changes_are_read_from_the_directory() {
    // edits.fst: record 2 was renamed VV/EDITED with ip3 7 by fst_edit_dir, which leaves the
    // key copy at the start of the record unchanged. The directory wins.
    let file = FstFile::open(fixture_dir().join("edits.fst")).unwrap();
    let rec = &file.records()[2];
    assert_eq!(rec.etiket.trimmed(), "EDITED");
    assert_eq!(rec.ip3, 7);
    // Deleted and rewritten entries: 11 entries, 8 live.
    assert_eq!(file.entry_count(), 11);
    assert_eq!(file.records().len(), 8);
}

#[test]
fn queries_follow_librmn_wildcards() {
    for (path, m) in manifests() {
        let file = FstFile::open(&path).unwrap();
        let records = m["records"].as_array().unwrap();
        for e in records.iter().take(40) {
            let nomvar = e["nomvar"].as_str().unwrap();
            let expected: Vec<u64> = records
                .iter()
                .filter(|o| {
                    o["nomvar"] == e["nomvar"]
                        && o["ip1"] == e["ip1"]
                        && (o["xtra1"].as_i64().unwrap() as u32 as u64 / 10)
                            == (e["xtra1"].as_i64().unwrap() as u32 as u64 / 10)
                })
                .map(|o| u(&o["index"]))
                .collect();
            let q = Query::new()
                .nomvar(&nomvar.to_lowercase())
                .ip1(e["ip1"].as_i64().unwrap())
                .datev(e["xtra1"].as_i64().unwrap() as i32);
            let found: Vec<u64> = file.find(&q).map(|r| u64::from(r.index.0)).collect();
            assert_eq!(found, expected, "{} {nomvar}", path.display());
        }
        assert_eq!(
            file.find(&Query::new().etiket("          XY")).count(),
            records.len(),
            "etiket wildcard"
        );
        assert_eq!(file.find(&Query::new()).count(), records.len());
    }
}

#[test]
fn one_file_serves_many_threads() {
    let file = FstFile::open(fixture_dir().join("append.fst")).unwrap();
    let n = file.records().len();
    std::thread::scope(|s| {
        for t in 0..4 {
            let file = &file;
            s.spawn(move || {
                for rec in file.records().iter().skip(t).step_by(4) {
                    let words = file.read_payload_words(rec).unwrap();
                    assert_eq!(words.len() as u64 * 4, rec.payload.len);
                }
            });
        }
    });
    assert!(n > 256);
}
