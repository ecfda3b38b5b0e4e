//! The encoder against librmn 19.5: every 129, 130 and 134 record of the XDF fixtures is
//! decompressed to its tokens and encoded again, and the payload must be librmn's, word for
//! word, except the low byte of the first word after the stream (uninitialised in librmn).

use super::*;
use crate::codec::turbo16;
use crate::FstFile;

/// (file, record index, datyp, payload words) of every 16-bit turbo record of the fixtures.
fn fixture_records() -> Vec<(String, usize, u8, u32, usize, usize, Vec<u32>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xdf");
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "fst"))
        .collect();
    paths.sort();
    for path in paths {
        let file = FstFile::open(&path).unwrap();
        for (k, rec) in file.records().iter().enumerate() {
            let base = rec.datyp.0 & !64;
            if matches!(base, 129 | 130 | 134) && rec.nk == 1 {
                let words = file.read_payload_words(rec).unwrap();
                out.push((
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    k,
                    base,
                    u32::from(rec.nbits),
                    rec.ni as usize,
                    rec.nj as usize,
                    words,
                ));
            }
        }
    }
    out
}

#[test]
fn payloads_are_librmns() {
    let records = fixture_records();
    assert!(records.len() >= 15, "only {} turbo records", records.len());
    let mut mismatches = Vec::new();
    for (name, k, datyp, nbits, ni, nj, words) in &records {
        let l = words[0] as usize;
        let at = match datyp {
            129 => 5,
            134 => 4,
            _ => 1,
        };
        let mut decoded = vec![0u32; ni * nj];
        turbo16::decompress(&words[at..l], *ni, *nj, &mut decoded, 1).unwrap();
        let tokens: Vec<u16> = decoded.iter().map(|&t| t as u16).collect();
        let framing = match datyp {
            129 => Framing::Packed(words[1..5].try_into().unwrap()),
            134 => Framing::FloatPacker(words[1..4].try_into().unwrap()),
            _ => Framing::Unsigned,
        };
        let ours = encode_payload(framing, &tokens, *ni, *nj, *nbits)
            .unwrap()
            .unwrap_or_else(|| panic!("{name}#{k}: not compressed"));
        let stream_end = at + compress(&tokens, *ni, *nj, *nbits).unwrap().unwrap().len();
        let theirs = &words[..l];
        let differs: Vec<usize> = (0..l.max(ours.len()))
            .filter(|&p| {
                let mask = if p == stream_end { !0xFF } else { !0 };
                ours.get(p).map(|w| w & mask) != theirs.get(p).map(|w| w & mask)
            })
            .collect();
        if !differs.is_empty() {
            mismatches.push(format!(
                "{name}#{k} datyp {datyp} nbits {nbits} {ni}x{nj}: L {} vs {}, stream ends at {stream_end}, words differ at {:?} (first: ours {:#010x?} librmn {:#010x?})",
                ours.len(),
                l,
                &differs[..differs.len().min(8)],
                ours.get(differs[0]),
                theirs.get(differs[0]),
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
