//! The RSF reader against librmn's fixtures, the test-kit writer and damaged files.

use super::*;
use crate::source::MemorySource;

use super::rsf_writer::{write, Rec, Seg};

const FIXTURES: [&str; 4] = [
    "rsf_basic",
    "rsf_multi_segment",
    "rsf_extended_meta",
    "rsf_parallel_sparse",
];

fn fixture(stem: &str) -> Vec<u8> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rsf/");
    std::fs::read(format!("{dir}{stem}.fst")).unwrap()
}

fn manifest(stem: &str) -> serde_json::Value {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rsf/");
    serde_json::from_slice(&std::fs::read(format!("{dir}{stem}.manifest.json")).unwrap()).unwrap()
}

fn open(bytes: &[u8], recover: bool) -> Result<Directory, OpenError> {
    let src = MemorySource::new(bytes.to_vec());
    let options = ReadOptions {
        recover,
        ..ReadOptions::default()
    };
    super::super::read_directory(&src, &SourceName::default(), &options)
}

fn frame(bytes: &[u8], rec: &RecordMeta) -> Result<(), FormatErrorKind> {
    let at = rec.record_offset.0 as usize;
    let end = at + rec.record_len as usize;
    let sor: [u8; 16] = bytes[at..at + 16].try_into().unwrap();
    let eor: [u8; 12] = bytes[end - 12..end].try_into().unwrap();
    check_record_frame(&sor, &eor, rec)
}

#[test]
fn fixtures_match_their_manifests() {
    for stem in FIXTURES {
        let bytes = fixture(stem);
        let m = manifest(stem);
        let dir = open(&bytes, false).unwrap();
        assert!(dir.diagnostics.is_empty(), "{stem}: {:?}", dir.diagnostics);
        let expected = m["records"].as_array().unwrap();
        assert_eq!(dir.records.len(), expected.len(), "{stem}");
        assert_eq!(dir.entry_count, expected.len() as u64, "{stem}");
        for (rec, e) in dir.records.iter().zip(expected) {
            let ctx = format!("{stem} record {}", e["index"]);
            let u = |k: &str| e[k].as_u64().unwrap_or_else(|| panic!("{ctx}: {k}"));
            assert_eq!(u64::from(rec.index.0), u("index"), "{ctx}");
            assert_eq!(u64::from(rec.file_index), u("file_index"), "{ctx}");
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
                assert_eq!(u64::from(v), u(k), "{ctx}: {k}");
            }
            assert_eq!(i64::from(rec.datev), e["datev"].as_i64().unwrap(), "{ctx}");
            assert_eq!(
                i64::from(rec.dateo()),
                e["dateo"].as_i64().unwrap(),
                "{ctx}"
            );
            assert_eq!(rec.record_offset.0, u("file_offset"), "{ctx}");
            assert_eq!(rec.record_len, u("total_stored_bytes"), "{ctx}");
            let meta_bytes = rec.payload.offset.0 - rec.record_offset.0 - 16;
            assert_eq!(meta_bytes, u("num_meta_bytes"), "{ctx}");
            assert_eq!(rec.payload.len / 4, u("stored_data_size_32bit"), "{ctx}");
            let json = e.get("extended_metadata").and_then(|j| j.as_str());
            assert_eq!(rec.extended_metadata.as_deref(), json, "{ctx}");
            assert_eq!(json.is_some(), u("extended_meta_size_32bit") > 0, "{ctx}");
            assert!(!rec.recovered);
            frame(&bytes, rec).unwrap();
        }
    }
}

#[test]
fn writer_reproduces_librmn_bytes() {
    // Copying the records of rsf_basic into the test writer gives back the file byte for
    // byte: the writer follows the layout librmn writes.
    let bytes = fixture("rsf_basic");
    let dir = open(&bytes, false).unwrap();
    let recs = dir
        .records
        .iter()
        .map(|r| Rec::copy_from(&bytes, r.record_offset.0 as usize))
        .collect();
    assert_eq!(write(&[Seg::Closed(recs)]).bytes, bytes);
}

fn basic_records() -> Vec<Rec> {
    let bytes = fixture("rsf_basic");
    let dir = open(&bytes, false).unwrap();
    dir.records
        .iter()
        .map(|r| Rec::copy_from(&bytes, r.record_offset.0 as usize))
        .collect()
}

#[test]
fn deleted_entries_are_skipped_and_never_followed() {
    let mut recs = basic_records();
    recs[1].deleted = true;
    recs[4].deleted = true;
    let w = write(&[Seg::Closed(recs.clone()), Seg::Closed(recs)]);
    let dir = open(&w.bytes, false).unwrap();
    assert_eq!(dir.entry_count, 14);
    let names: Vec<_> = dir
        .records
        .iter()
        .map(|r| r.nomvar.trimmed().to_string())
        .collect();
    assert_eq!(
        names,
        [">>", "TT", "GZ", "HU", "MASK", ">>", "TT", "GZ", "HU", "MASK"]
    );
    let fi: Vec<_> = dir.records.iter().map(|r| r.file_index).collect();
    assert_eq!(fi, [0, 2, 3, 5, 6, 7, 9, 10, 12, 13]);
    let idx: Vec<_> = dir.records.iter().map(|r| r.index.0).collect();
    assert_eq!(idx, (0..10).collect::<Vec<_>>());
    for rec in &dir.records {
        frame(&w.bytes, rec).unwrap();
    }
    // A deleted entry's address is garbage: make it point past the end of the file; the
    // file still opens.
    let mut bytes = w.bytes.clone();
    let vdir = w.vdirs[0] as usize;
    let second_entry = vdir + 20 + 32 + 4 * 19;
    bytes[second_entry..second_entry + 8].copy_from_slice(&[0xFF; 8]);
    assert_eq!(open(&bytes, false).unwrap().records.len(), 10);
}

#[test]
fn entries_of_other_types_are_skipped_with_one_note() {
    let mut recs = basic_records();
    for rec in &mut recs[2..5] {
        rec.meta[0] = (rec.meta[0] & !0xFF) | 2;
    }
    let dir = open(&write(&[Seg::Closed(recs)]).bytes, false).unwrap();
    assert_eq!(dir.records.len(), 4);
    assert_eq!(dir.entry_count, 7);
    assert_eq!(dir.diagnostics.len(), 1, "{:?}", dir.diagnostics);
    let note = &dir.diagnostics[0].message;
    assert!(
        note.starts_with("3 directory entries are not data records"),
        "{note}"
    );
    assert!(note.contains("entry 2, has record type 2"), "{note}");
}

#[test]
fn deleted_record_frame_is_refused() {
    let bytes = fixture("rsf_basic");
    let dir = open(&bytes, false).unwrap();
    let rec = &dir.records[2];
    let mut copy = bytes.clone();
    copy[rec.record_offset.0 as usize] = 0x80;
    let err = frame(&copy, rec).unwrap_err();
    assert!(err.to_string().contains("deleted"), "{err}");
}

#[test]
fn crashed_segment_is_reported_and_recovered() {
    let recs = basic_records();
    let w = write(&[
        Seg::Closed(recs[..3].to_vec()),
        Seg::Open(recs[3..].to_vec()),
    ]);
    let dir = open(&w.bytes, false).unwrap();
    assert_eq!(dir.records.len(), 3);
    assert_eq!(dir.diagnostics.len(), 1, "{:?}", dir.diagnostics);
    let d = &dir.diagnostics[0];
    assert_eq!(d.offset, w.segments[2]);
    assert!(
        d.message.contains("unfinished compact segment"),
        "{}",
        d.message
    );
    assert!(
        d.message.contains("4 framed records are in no directory"),
        "{}",
        d.message
    );

    let dir = open(&w.bytes, true).unwrap();
    assert_eq!(dir.records.len(), 7);
    assert_eq!(dir.entry_count, 7);
    let names: Vec<_> = dir
        .records
        .iter()
        .map(|r| r.nomvar.trimmed().to_string())
        .collect();
    assert_eq!(names, [">>", "^^", "TT", "GZ", "UU", "HU", "MASK"]);
    for (i, rec) in dir.records.iter().enumerate() {
        assert_eq!(rec.recovered, i >= 3);
        assert_eq!(rec.index.0 as usize, i);
        frame(&w.bytes, rec).unwrap();
    }
    assert_eq!(dir.records[3].record_offset.0, w.records[3]);

    // Cut inside the last record: the complete ones are still recovered.
    let cut = &w.bytes[..w.bytes.len() - 100];
    let dir = open(cut, true).unwrap();
    assert_eq!(dir.records.len(), 6);
    assert!(
        dir.diagnostics[0].message.contains("truncated"),
        "{:?}",
        dir.diagnostics
    );
}

#[test]
fn truncated_last_segment_keeps_earlier_segments() {
    let bytes = fixture("rsf_multi_segment");
    let full = open(&bytes, false).unwrap();
    let last_seg = 14408;
    // Cut right before the last segment's directory: its records are framed but unlisted.
    let vdir_at = {
        let b: [u8; 72] = bytes[last_seg..last_seg + 72].try_into().unwrap();
        last_seg as u64 + Sos::parse(&b).vdir
    };
    let cut = &bytes[..vdir_at as usize];
    let dir = open(cut, false).unwrap();
    assert_eq!(dir.records.len(), 5);
    assert_eq!(dir.records[..], full.records[..5]);
    assert!(
        dir.diagnostics[0]
            .message
            .contains("2 framed records are in no directory"),
        "{:?}",
        dir.diagnostics
    );
    let dir = open(cut, true).unwrap();
    assert_eq!(dir.records.len(), 7);
    for (ours, theirs) in dir.records.iter().zip(&full.records) {
        assert_eq!(
            RecordMeta {
                recovered: false,
                ..ours.clone()
            },
            *theirs
        );
    }
    // The same cut after a crash: the segment start still has sizes 0.
    let mut crashed = cut.to_vec();
    crashed[last_seg + 28..last_seg + 60].fill(0);
    let dir = open(&crashed, true).unwrap();
    assert_eq!(dir.records.len(), 7);
    assert!(dir.diagnostics[0]
        .message
        .contains("unfinished compact segment"));
}

#[test]
fn write_lock_is_reported() {
    let mut bytes = fixture("rsf_basic");
    bytes[1] = 0xFF;
    bytes[2] = 0xFF;
    let dir = open(&bytes, false).unwrap();
    assert!(
        dir.diagnostics[0].message.contains("write-lock"),
        "{:?}",
        dir.diagnostics
    );
    bytes[1] = 2;
    bytes[2] = 0;
    let dir = open(&bytes, false).unwrap();
    assert!(
        dir.diagnostics[0].message.contains("2 parallel writers"),
        "{:?}",
        dir.diagnostics
    );
}

#[test]
fn open_sparse_segment_is_reported() {
    // Turn the filler segment of the parallel sample into an open writer's segment.
    let mut bytes = fixture("rsf_parallel_sparse");
    let filler = 11928;
    bytes[filler + 20..filler + 24].copy_from_slice(b"STDF");
    let dir = open(&bytes, false).unwrap();
    assert_eq!(dir.records.len(), 4);
    assert!(
        dir.diagnostics[0].message.contains("open sparse segment"),
        "{:?}",
        dir.diagnostics
    );
    assert!(
        dir.diagnostics[0].message.contains("0 framed records are"),
        "{:?}",
        dir.diagnostics
    );
}

#[test]
fn version_0_directory_without_json() {
    // RSF v0: reserved words swapped, the directory holds only the 19 search words and
    // the JSON stays in the record.
    let mut recs = basic_records();
    let json = r#"{"answer":42}"#;
    let mut rec = Rec::new(
        recs[0].keys_mut().try_into().unwrap(),
        Some(json),
        recs[0].payload.clone(),
    );
    let v1 = open(&write(&[Seg::Closed(vec![rec.clone()])]).bytes, false).unwrap();
    assert_eq!(v1.records[0].extended_metadata.as_deref(), Some(json));
    rec.meta[0] = 0x0000_0101;
    rec.meta.swap(1, 2);
    rec.dir_words = Some(19);
    let bytes = write(&[Seg::Closed(vec![rec])]).bytes;
    let dir = open(&bytes, false).unwrap();
    assert_eq!(dir.records[0].extended_metadata.as_deref(), Some(json));
    assert_eq!(dir.records[0].nomvar, v1.records[0].nomvar);
    frame(&bytes, &dir.records[0]).unwrap();
}

#[test]
fn bad_json_is_refused_or_noted() {
    let recs = basic_records();
    let keys: [u32; 16] = recs[2].meta[3..19].try_into().unwrap();
    // Not JSON: the record is kept; parsing it reports the error.
    let w = write(&[Seg::Closed(vec![Rec::new(
        keys,
        Some("{oops"),
        recs[2].payload.clone(),
    )])]);
    let dir = open(&w.bytes, false).unwrap();
    assert_eq!(dir.records[0].extended_metadata.as_deref(), Some("{oops"));
    assert!(dir.records[0].extended_metadata_json().unwrap().is_err());
    assert!(dir.diagnostics.is_empty());
    // The text ends at its first NUL, whatever follows it; only NULs is no text.
    for (stored, text) in [
        ("{}\0xyz", Some("{}")),
        ("\0\0\0", None),
        ("{}", Some("{}")),
    ] {
        let w = write(&[Seg::Closed(vec![Rec::new(
            keys,
            Some(stored),
            recs[2].payload.clone(),
        )])]);
        let dir = open(&w.bytes, false).unwrap();
        assert_eq!(
            dir.records[0].extended_metadata.as_deref(),
            text,
            "{stored:?}"
        );
    }
    // Not UTF-8 or not NUL-terminated: a format error.
    let mut rec = Rec::new(keys, Some("{\"a\":1}"), recs[2].payload.clone());
    rec.meta[19] = 0xFFFF_FFFF;
    assert!(open(&write(&[Seg::Closed(vec![rec.clone()])]).bytes, false).is_err());
    rec.meta[19..].fill(0x4141_4141);
    let err = open(&write(&[Seg::Closed(vec![rec])]).bytes, false).unwrap_err();
    assert!(err.to_string().contains("NUL"), "{err}");
    // Over the limit.
    let w = write(&[Seg::Closed(vec![Rec::new(
        keys,
        Some("{\"a\":1}"),
        recs[2].payload.clone(),
    )])]);
    let src = MemorySource::new(w.bytes);
    let mut options = ReadOptions::default();
    options.limits.max_metadata_bytes = 4;
    let err = super::super::read_directory(&src, &SourceName::default(), &options).unwrap_err();
    assert!(
        matches!(
            err,
            OpenError::Limits {
                limit: LimitError::MetadataBytes { found: 8, limit: 4 },
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn record_limit_is_enforced() {
    let src = MemorySource::new(fixture("rsf_multi_segment"));
    let mut options = ReadOptions::default();
    options.limits.max_records = 6;
    let err = super::super::read_directory(&src, &SourceName::default(), &options).unwrap_err();
    assert!(
        matches!(
            err,
            OpenError::Limits {
                limit: LimitError::Records { .. },
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn every_truncation_opens_or_fails_cleanly() {
    for stem in ["rsf_basic", "rsf_multi_segment", "rsf_extended_meta"] {
        let bytes = fixture(stem);
        let all = open(&bytes, false).unwrap().records;
        let full = all.len();
        for len in 0..bytes.len() {
            for recover in [false, true] {
                if let Ok(dir) = open(&bytes[..len], recover) {
                    assert!(dir.records.len() <= full, "{stem} cut at {len}");
                    // What is listed is a prefix of the whole listing, framed correctly.
                    for (rec, whole) in dir.records.iter().zip(&all) {
                        assert!(rec.record_offset.0 + rec.record_len <= len as u64);
                        assert_eq!(
                            RecordMeta {
                                recovered: false,
                                ..rec.clone()
                            },
                            *whole
                        );
                        assert!(recover || !rec.recovered);
                        frame(&bytes[..len], rec).unwrap();
                    }
                    if len < bytes.len() && !dir.records.is_empty() && dir.records.len() < full {
                        assert!(
                            !dir.diagnostics.is_empty() || [140, 8244, 14408].contains(&len),
                            "{stem} cut at {len}"
                        );
                    }
                }
            }
        }
    }
}

/// Byte ranges of the structural parts of a fixture (segment starts and ends, the
/// directory's frame, count and entry words but the search keys, every record's frame),
/// and the bytes among them that no reader uses: the SOS/EOS/VDIR `rlmd`/`ubc`/`dul`
/// word, the copies of `rlm` in segment markers, the entry's `dul` word, meta0's class and
/// spare byte, the FST version byte and the record SOR's `ubc`/`dul` bytes.
fn structure(bytes: &[u8]) -> (Vec<std::ops::Range<usize>>, Vec<usize>) {
    let mut out = Vec::new();
    let mut unused = Vec::new();
    let mut off = 0;
    while off < bytes.len() {
        let sos = Sos::parse(bytes[off..off + 72].try_into().unwrap());
        out.push(off..off + 72);
        unused.extend([off + 12, off + 13, off + 14, off + 15, off + 69, off + 70]);
        if off > 0 {
            unused.extend([off + 1, off + 2]);
        }
        if sos.sseg == 0 {
            break;
        }
        let end = off + sos.sseg as usize;
        if sos.seg == 0 {
            // A sparse segment: the low part of its end after the start, the high part at
            // the top.
            out.push(off + 72..off + 92);
            out.push(end - 48..end);
            unused.extend([off + 73, off + 74, off + 84, off + 85, off + 86, off + 87]);
            unused.extend([end - 3, end - 2]);
            off = end;
            continue;
        }
        let eos = off + sos.seg as usize;
        out.push(eos..eos + 68);
        unused.extend([
            eos + 1,
            eos + 2,
            eos + 12,
            eos + 13,
            eos + 14,
            eos + 15,
            eos + 65,
            eos + 66,
        ]);
        if sos.vdir != 0 {
            let vdir = off + sos.vdir as usize;
            let vend = vdir + sos.vdirs as usize;
            out.push(vdir..vdir + 20);
            out.push(vend - 12..vend);
            unused.extend(vdir + 12..vdir + 16);
            let mut pos = vdir + 20;
            let n = u32::from_le_bytes(bytes[vdir + 16..vdir + 20].try_into().unwrap());
            for _ in 0..n {
                out.push(pos..pos + 44);
                unused.extend([
                    pos + 28,
                    pos + 29,
                    pos + 30,
                    pos + 31,
                    pos + 33,
                    pos + 35,
                    pos + 43,
                ]);
                let ml = u32::from_le_bytes(bytes[pos + 24..pos + 28].try_into().unwrap());
                pos += 32 + 4 * (ml >> 16) as usize;
            }
        }
        off = end;
    }
    let dir = open(bytes, false).unwrap();
    for rec in &dir.records {
        let at = rec.record_offset.0 as usize;
        let end = at + rec.record_len as usize;
        out.push(at..at + 16);
        out.push(end - 12..end);
        unused.extend([at + 14, at + 15]);
    }
    (out, unused)
}

/// `rsf_parallel_sparse.fst` with its 2 MiB filler segment shrunk to 300 bytes (sizes in
/// its start and both parts of its end adjusted), so that every bit can be flipped quickly.
fn small_sparse() -> Vec<u8> {
    let big = fixture("rsf_parallel_sparse");
    let filler = 11928;
    let sseg: u64 = 300;
    let mut b = big[..filler + 92].to_vec();
    let put = |b: &mut Vec<u8>, at: usize, v: u64| {
        b[at..at + 4].copy_from_slice(&((v >> 32) as u32).to_le_bytes());
        b[at + 4..at + 8].copy_from_slice(&(v as u32).to_le_bytes());
    };
    put(&mut b, filler + 36, sseg);
    put(&mut b, filler + 76, sseg - 72);
    b.resize(filler + sseg as usize - 48, 0);
    let mut hi = big[big.len() - 48..].to_vec();
    put(&mut hi, 12, sseg);
    put(&mut hi, 36, sseg - 72);
    b.extend_from_slice(&hi);
    b
}

#[test]
fn small_sparse_is_valid() {
    let dir = open(&small_sparse(), false).unwrap();
    assert_eq!(dir.records.len(), 4);
    assert!(dir.diagnostics.is_empty(), "{:?}", dir.diagnostics);
}

#[test]
fn bit_flips_in_control_structures_are_caught() {
    for stem in FIXTURES {
        let bytes = if stem == "rsf_parallel_sparse" {
            small_sparse()
        } else {
            fixture(stem)
        };
        let full = open(&bytes, false).unwrap();
        let (ranges, unused) = structure(&bytes);
        let mut flips = 0;
        for range in ranges {
            for byte in range {
                for bit in 0..8 {
                    let mut copy = bytes.clone();
                    copy[byte] ^= 1 << bit;
                    flips += 1;
                    let caught = match open(&copy, true) {
                        Err(_) => true,
                        Ok(dir) => {
                            !dir.diagnostics.is_empty()
                                || dir.records != full.records
                                || dir.records.iter().any(|r| frame(&copy, r).is_err())
                        }
                    };
                    assert!(
                        caught || unused.contains(&byte),
                        "{stem}: flip of bit {bit} at byte {byte} unnoticed"
                    );
                }
            }
        }
        assert!(flips > 4000, "{stem}: {flips}");
    }
}
