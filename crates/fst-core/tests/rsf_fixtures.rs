//! RSF ("FST24") files through the public API: every record of every RSF sample against what
//! librmn (`dev_alpha`) read back when it wrote them (the manifests and `.npy` files beside the
//! samples), recovery of unfinished segments, corruption of RSF structures, and the XDF/RSF
//! equivalence of the two "basic" samples.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)] // test code: failing loudly is the point

use std::path::{Path, PathBuf};

use fst_core::codec::Samples;
use fst_core::{Container, DecodeError, FstFile, OpenError, OpenOptions, RecordMeta};
use fst_testkit::open_and_decode;
use serde_json::Value;

#[path = "support/rsf_writer.rs"]
mod rsf_writer;
use rsf_writer::{write, Rec, Seg};

const SAMPLES: [&str; 4] = [
    "rsf_basic",
    "rsf_multi_segment",
    "rsf_extended_meta",
    "rsf_parallel_sparse",
];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rsf")
}

fn manifest(stem: &str) -> Value {
    serde_json::from_slice(&std::fs::read(dir().join(format!("{stem}.manifest.json"))).unwrap())
        .unwrap()
}

fn bytes(stem: &str) -> Vec<u8> {
    std::fs::read(dir().join(format!("{stem}.fst"))).unwrap()
}

fn open_bytes(b: &[u8], recover: bool) -> Result<FstFile, OpenError> {
    FstFile::from_bytes(b.to_vec(), OpenOptions::new().recover(recover))
}

fn u(v: &Value, k: &str) -> u64 {
    v[k].as_u64()
        .unwrap_or_else(|| panic!("{k} missing in {v}"))
}

/// A `.npy` file: its dtype text and its raw little-endian data bytes (Fortran order).
struct Npy {
    descr: String,
    shape: Vec<u64>,
    data: Vec<u8>,
}

/// A minimal `.npy` reader (format 1.0/2.0): header dictionary, then the data.
fn read_npy(path: &Path) -> Npy {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[..6], b"\x93NUMPY", "{}", path.display());
    let (header_len, start) = match b[6] {
        1 => (u16::from_le_bytes([b[8], b[9]]) as usize, 10),
        _ => (
            u32::from_le_bytes(b[8..12].try_into().unwrap()) as usize,
            12,
        ),
    };
    let header = std::str::from_utf8(&b[start..start + header_len]).unwrap();
    assert!(header.contains("'fortran_order': True"), "{header}");
    let field = |key: &str| {
        let at = header.find(key).unwrap() + key.len();
        header[at..].trim_start_matches([':', ' ']).to_string()
    };
    let descr = field("'descr'");
    let descr = descr
        .trim_start_matches('\'')
        .split('\'')
        .next()
        .unwrap()
        .to_string();
    let shape = field("'shape'");
    let shape = shape.trim_start_matches('(').split(')').next().unwrap();
    let shape = shape
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().unwrap())
        .collect();
    Npy {
        descr,
        shape,
        data: b[start + header_len..].to_vec(),
    }
}

/// Decoded values as little-endian bytes, the way a `.npy` stores them.
fn le_bytes(samples: &Samples) -> (&'static str, Vec<u8>) {
    match samples {
        Samples::F32(v) => ("<f4", v.iter().flat_map(|x| x.to_le_bytes()).collect()),
        Samples::F64(v) => ("<f8", v.iter().flat_map(|x| x.to_le_bytes()).collect()),
        Samples::U32(v) => ("<u4", v.iter().flat_map(|x| x.to_le_bytes()).collect()),
        Samples::I32(v) => ("<i4", v.iter().flat_map(|x| x.to_le_bytes()).collect()),
        Samples::U8(v) => ("|u1", v.clone()),
        // datyp 0: the packed words as the library hands them over (host order).
        Samples::Raw32(v) => ("|u1", v.iter().flat_map(|x| x.to_le_bytes()).collect()),
        other => panic!("unexpected sample type {other:?}"),
    }
}

/// Check one record's metadata against its manifest entry.
fn check_meta(ctx: &str, rec: &RecordMeta, e: &Value) {
    assert_eq!(u64::from(rec.index.0), u(e, "index"), "{ctx}");
    assert_eq!(u64::from(rec.file_index), u(e, "file_index"), "{ctx}");
    assert_eq!(rec.container, Container::Rsf, "{ctx}");
    assert_eq!(
        rec.nomvar.padded(),
        e["raw_nomvar"].as_str().unwrap(),
        "{ctx}"
    );
    assert_eq!(
        rec.typvar.padded(),
        e["raw_typvar"].as_str().unwrap(),
        "{ctx}"
    );
    assert_eq!(
        rec.etiket.padded(),
        e["raw_etiket"].as_str().unwrap(),
        "{ctx}"
    );
    assert_eq!(rec.nomvar.trimmed(), e["nomvar"].as_str().unwrap(), "{ctx}");
    assert_eq!(rec.etiket.trimmed(), e["etiket"].as_str().unwrap(), "{ctx}");
    assert_eq!(
        rec.grtyp_char().to_string(),
        e["grtyp"].as_str().unwrap(),
        "{ctx}"
    );
    for (k, v) in [
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
        ("data_bits", u32::from(rec.dasiz)),
    ] {
        assert_eq!(u64::from(v), u(e, k), "{ctx}: {k}");
    }
    assert_eq!(
        i64::from(rec.datev),
        e["datev"].as_i64().unwrap(),
        "{ctx}: datev"
    );
    assert_eq!(
        i64::from(rec.dateo()),
        e["dateo"].as_i64().unwrap(),
        "{ctx}: dateo"
    );
    assert_eq!(
        rec.record_offset.0,
        u(e, "file_offset"),
        "{ctx}: file_offset"
    );
    assert_eq!(
        rec.record_len,
        u(e, "total_stored_bytes"),
        "{ctx}: total_stored_bytes"
    );
    let meta_bytes = rec.payload.offset.0 - rec.record_offset.0 - 16;
    assert_eq!(meta_bytes, u(e, "num_meta_bytes"), "{ctx}: num_meta_bytes");
    assert_eq!(
        meta_bytes / 4,
        19 + u(e, "extended_meta_size_32bit"),
        "{ctx}"
    );
    assert_eq!(u(e, "num_search_keys_32bit"), 19, "{ctx}");
    assert_eq!(
        rec.payload.len / 4,
        u(e, "stored_data_size_32bit"),
        "{ctx}: stored_data_size"
    );
    match e.get("extended_metadata").and_then(Value::as_str) {
        Some(text) => {
            assert_eq!(rec.extended_metadata.as_deref(), Some(text), "{ctx}");
            let ours = rec.extended_metadata_json().unwrap().unwrap();
            let theirs: Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{ctx}: parsed JSON");
        }
        None => assert!(rec.extended_metadata.is_none(), "{ctx}"),
    }
}

/// Check one record's values against its `.npy`, bit for bit.
fn check_values(ctx: &str, file: &FstFile, rec: &RecordMeta, e: &Value) {
    let npy = read_npy(&dir().join(e["data_file"].as_str().unwrap()));
    let field = file
        .decode(rec)
        .unwrap_or_else(|err| panic!("{ctx}: {err}"));
    let (descr, data) = le_bytes(&field.samples);
    assert_eq!(descr, npy.descr, "{ctx}: dtype");
    assert_eq!(npy.descr, e["data_dtype"].as_str().unwrap(), "{ctx}");
    if descr != "|u1" {
        assert_eq!(
            npy.shape.iter().product::<u64>(),
            rec.point_count(),
            "{ctx}: shape {:?}",
            npy.shape
        );
    }
    assert_eq!(data.len(), npy.data.len(), "{ctx}: byte count");
    assert!(data == npy.data, "{ctx}: values differ from librmn's");
}

#[test]
fn every_rsf_sample_matches_librmn() {
    let mut checked = 0;
    for stem in SAMPLES {
        let m = manifest(stem);
        let file = FstFile::open(dir().join(format!("{stem}.fst"))).unwrap();
        assert_eq!(file.container(), Container::Rsf);
        assert!(
            file.diagnostics().is_empty(),
            "{stem}: {:?}",
            file.diagnostics()
        );
        let expected = m["records"].as_array().unwrap();
        assert_eq!(file.records().len() as u64, u(&m, "num_records"), "{stem}");
        assert_eq!(file.entry_count(), u(&m, "num_records"), "{stem}");
        for (rec, e) in file.records().iter().zip(expected) {
            let ctx = format!("{stem} record {}", u(e, "index"));
            check_meta(&ctx, rec, e);
            check_values(&ctx, &file, rec, e);
            checked += 1;
        }
    }
    assert_eq!(checked, 22);
}

/// The file-level metadata record (nomvar META) is an ordinary record whose JSON follows the
/// "file profile".
#[test]
fn file_level_metadata_record() {
    let file = FstFile::open(dir().join("rsf_extended_meta.fst")).unwrap();
    let meta = &file.records()[0];
    assert_eq!(meta.nomvar.trimmed(), "META");
    assert_eq!(meta.etiket.trimmed(), "FILE_JSON");
    let json = meta.extended_metadata_json().unwrap().unwrap();
    assert_eq!(json["institution"], "CMC");
    assert_eq!(json["title"], "G100");
    let tt = file.records()[1].extended_metadata_json().unwrap().unwrap();
    assert_eq!(tt["standard_name"], "air_temperature");
    assert_eq!(tt["vertical_level"]["value"][0], 500.0);
    assert!(file.records()[2].extended_metadata_json().is_none());
}

/// Start of the last segment of a sample, from its segment chain.
fn segment_starts(b: &[u8]) -> Vec<usize> {
    let pair = |at: usize| {
        let w = |i: usize| u64::from(u32::from_le_bytes(b[i..i + 4].try_into().unwrap()));
        (w(at) << 32 | w(at + 4)) as usize
    };
    let mut out = vec![0];
    let mut off = 0;
    while off + pair(off + 36) < b.len() {
        off += pair(off + 36);
        out.push(off);
    }
    out
}

#[test]
fn truncated_last_segment_shows_visible_records_and_recovers_framed_ones() {
    for stem in ["rsf_basic", "rsf_multi_segment"] {
        let b = bytes(stem);
        let m = manifest(stem);
        let expected = m["records"].as_array().unwrap();
        let last = *segment_starts(&b).last().unwrap();
        let full = open_bytes(&b, false).unwrap();
        let in_last = full
            .records()
            .iter()
            .filter(|r| r.record_offset.0 as usize > last)
            .count();
        let before = full.records().len() - in_last;
        // Cut inside the directory of the last segment: its records are complete.
        let cut = &b[..b.len() - 200];
        let visible = open_bytes(cut, false).unwrap();
        assert_eq!(visible.records().len(), before, "{stem}");
        assert!(visible.records().iter().all(|r| !r.recovered));
        let note = &visible.diagnostics()[0];
        assert_eq!(note.offset, last as u64, "{stem}");
        assert!(note.truncated, "{stem}: a cut file says so");
        assert!(
            note.message
                .contains(&format!("{in_last} framed records are in no directory")),
            "{}",
            note.message
        );

        let recovered = open_bytes(cut, true).unwrap();
        assert_eq!(recovered.records().len(), full.records().len(), "{stem}");
        for ((rec, e), orig) in recovered.records().iter().zip(expected).zip(full.records()) {
            let ctx = format!("{stem} recovered record {}", u(e, "index"));
            assert_eq!(rec.recovered, rec.record_offset.0 as usize > last, "{ctx}");
            assert_eq!(
                RecordMeta {
                    recovered: false,
                    ..rec.clone()
                },
                *orig,
                "{ctx}"
            );
            check_meta(&ctx, rec, e);
            check_values(&ctx, &recovered, rec, e);
        }

        // Cut inside the last record: every complete record before it is recovered.
        let last_rec = full.records().last().unwrap();
        let cut = &b[..last_rec.record_offset.0 as usize + 100];
        let dir = open_bytes(cut, true).unwrap();
        assert_eq!(dir.records().len(), full.records().len() - 1, "{stem}");
        assert!(
            dir.diagnostics()[0].message.contains("truncated"),
            "{:?}",
            dir.diagnostics()
        );
    }
}

#[test]
fn crashed_writer_segment_is_detected_and_recovered() {
    // What a crash leaves: the write lock still set in the first segment start, the last
    // segment's start with sizes 0 (they are written only at close), and the file ending after
    // the last complete record, before any directory.
    let b = bytes("rsf_multi_segment");
    let m = manifest("rsf_multi_segment");
    let last = *segment_starts(&b).last().unwrap();
    let vdir = {
        let w = |i: usize| u64::from(u32::from_le_bytes(b[i..i + 4].try_into().unwrap()));
        (w(last + 44) << 32 | w(last + 48)) as usize
    };
    let mut crashed = b[..last + vdir].to_vec();
    crashed[last + 28..last + 60].fill(0);
    crashed[1..3].copy_from_slice(&[0xFF, 0xFF]);
    let file = open_bytes(&crashed, false).unwrap();
    assert_eq!(
        file.records().len(),
        5,
        "librmn shows the closed segments only"
    );
    assert_eq!(file.diagnostics().len(), 2, "{:?}", file.diagnostics());
    assert!(file.diagnostics()[0]
        .message
        .contains("write-lock flag is set"));
    let d = &file.diagnostics()[1];
    assert_eq!(d.offset, last as u64);
    // What a writer leaves is not a truncated file (tools list it without failing).
    assert!(file.diagnostics().iter().all(|d| !d.truncated));
    assert!(
        d.message.contains("unfinished compact segment"),
        "{}",
        d.message
    );
    assert!(
        d.message.contains("2 framed records are in no directory"),
        "{}",
        d.message
    );

    let file = open_bytes(&crashed, true).unwrap();
    assert_eq!(file.records().len(), 7);
    for (rec, e) in file.records().iter().zip(m["records"].as_array().unwrap()) {
        let ctx = format!("crashed record {}", u(e, "index"));
        assert_eq!(rec.recovered, rec.index.0 >= 5, "{ctx}");
        check_meta(&ctx, rec, e);
        check_values(&ctx, &file, rec, e);
    }
}

#[test]
fn deleted_records_in_closed_and_crashed_segments() {
    let b = bytes("rsf_basic");
    let full = open_bytes(&b, false).unwrap();
    let recs: Vec<Rec> = full
        .records()
        .iter()
        .map(|r| Rec::copy_from(&b, r.record_offset.0 as usize))
        .collect();
    let mut closed = recs.clone();
    closed[0].deleted = true;
    let mut open = recs.clone();
    open[2].deleted = true;
    let w = write(&[Seg::Closed(closed), Seg::Open(open)]);
    let file = open_bytes(&w.bytes, false).unwrap();
    assert_eq!(file.records().len(), 6);
    assert_eq!(file.entry_count(), 7);
    assert_eq!(file.records()[0].file_index, 1);
    let note = &file.diagnostics()[0].message;
    assert!(
        note.contains("6 framed records are in no directory (and 1 deleted)"),
        "{note}"
    );
    let file = open_bytes(&w.bytes, true).unwrap();
    assert_eq!(file.records().len(), 12);
    assert_eq!(file.entry_count(), 13);
    let expected = [1, 2, 3, 4, 5, 6, 0, 1, 3, 4, 5, 6].map(|i| &full.records()[i]);
    for (rec, orig) in file.records().iter().zip(expected) {
        assert_eq!(rec.nomvar, orig.nomvar);
        let a = file.decode(rec).unwrap();
        let b = full.decode(orig).unwrap();
        assert_eq!(a.samples, b.samples, "{}", rec.nomvar);
    }
}

#[test]
fn corrupt_frames_give_errors_at_open_or_decode() {
    let b = bytes("rsf_basic");
    let full = open_bytes(&b, false).unwrap();
    // The segment starts, the directory and its end, and every record's SOR and EOR.
    let mut targets: Vec<usize> = (0..72).chain(140..212).chain(24204..b.len()).collect();
    for rec in full.records() {
        let at = rec.record_offset.0 as usize;
        let end = at + rec.record_len as usize;
        targets.extend(at..at + 14);
        targets.extend(end - 12..end);
    }
    let mut framing = 0;
    for at in targets {
        for bit in [0, 3, 7] {
            let mut m = b.clone();
            m[at] ^= 1 << bit;
            let _ = open_and_decode(&m);
            let Ok(file) = open_bytes(&m, false) else {
                continue;
            };
            for rec in file.records() {
                if let Err(DecodeError::Framing { kind, .. }) = file.decode(rec) {
                    assert!(!kind.to_string().is_empty());
                    framing += 1;
                }
            }
        }
    }
    assert!(framing > 100, "{framing} framing errors");
    // A flipped record type is reported as such, with the record's offset.
    let rec = &full.records()[3];
    let mut m = b.clone();
    m[rec.record_offset.0 as usize] = 0x80;
    let file = open_bytes(&m, false).unwrap();
    let err = file.decode(&file.records()[3]).unwrap_err();
    assert!(err.to_string().contains("deleted"), "{err}");
    assert!(
        err.to_string().contains(&rec.record_offset.0.to_string()),
        "{err}"
    );
}

#[test]
fn rsf_and_xdf_basic_hold_the_same_records() {
    let rsf = FstFile::open(dir().join("rsf_basic.fst")).unwrap();
    let xdf = FstFile::open(dir().join("xdf_basic.fst")).unwrap();
    assert_eq!(xdf.container(), Container::Xdf);
    assert_eq!(rsf.records().len(), xdf.records().len());
    for (r, x) in rsf.records().iter().zip(xdf.records()) {
        // Everything but where the record sits and which container it is in.
        let same_place = RecordMeta {
            container: x.container,
            record_offset: x.record_offset,
            record_len: x.record_len,
            payload: x.payload,
            ..r.clone()
        };
        assert_eq!(same_place, *x, "{}", r.nomvar);
        assert_eq!(
            rsf.decode(r).unwrap().samples,
            xdf.decode(x).unwrap().samples,
            "{}",
            r.nomvar
        );
    }
}
