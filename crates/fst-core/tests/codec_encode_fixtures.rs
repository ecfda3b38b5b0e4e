//! The encoders against librmn 19.5: every record of the XDF fixtures whose original input
//! array is in the fixture's blob is encoded again from that input with the datyp/nbits
//! librmn was asked for; the stored datyp/nbits and the payload words must be librmn's.
//!
//! Records librmn wrote with the turbo stage are checked only when this build has a turbo
//! encoder (until then the encoder reports it unavailable, and the record is counted apart).

use std::path::{Path, PathBuf};

use fst_core::codec::{encode, EncodeError, EncodeRequest, SamplesRef};
use fst_core::record::Datyp;
use fst_core::{FstFile, Limits};
use serde_json::Value;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xdf")
}

/// Values as the blob stores them (little-endian).
enum Input {
    F32(Vec<f32>),
    F64(Vec<f64>),
    U32(Vec<u32>),
    I32(Vec<i32>),
    U8(Vec<u8>),
}

impl Input {
    fn read(blob: &[u8], d: &Value) -> Option<Input> {
        let off = d["offset"].as_u64()? as usize;
        let len = d["nbytes"].as_u64()? as usize;
        let b = &blob[off..off + len];
        let w4 = || b.chunks_exact(4).map(|c| <[u8; 4]>::try_from(c).unwrap());
        let w8 = || b.chunks_exact(8).map(|c| <[u8; 8]>::try_from(c).unwrap());
        Some(match d["dtype"].as_str()? {
            "f32" | "c64" => Input::F32(w4().map(f32::from_le_bytes).collect()),
            "f64" | "c128" => Input::F64(w8().map(f64::from_le_bytes).collect()),
            "u32" => Input::U32(w4().map(u32::from_le_bytes).collect()),
            "i32" => Input::I32(w4().map(i32::from_le_bytes).collect()),
            "u8" => Input::U8(b.to_vec()),
            _ => return None,
        })
    }

    /// The samples for `datyp` (complex types take interleaved floats) and the mask librmn
    /// derived from its sentinel values when +64 was requested.
    fn samples(&self, datyp: u8) -> (SamplesRef<'_>, Option<Vec<bool>>) {
        let flags = datyp & 64 != 0;
        let complex = datyp & 0x3F == 8;
        match self {
            Input::F32(v) if complex => (SamplesRef::C64(v), None),
            Input::F64(v) if complex => (SamplesRef::C128(v), None),
            Input::F32(v) => (
                SamplesRef::F32(v),
                flags.then(|| v.iter().map(|x| x.to_bits() == 0xFE96_7699).collect()),
            ),
            Input::F64(v) => (
                SamplesRef::F64(v),
                flags.then(|| v.iter().map(|&x| x == -1.0e38).collect()),
            ),
            Input::U32(v) => (
                SamplesRef::U32(v),
                flags.then(|| v.iter().map(|&x| x == u32::MAX).collect()),
            ),
            Input::I32(v) => (
                SamplesRef::I32(v),
                flags.then(|| v.iter().map(|&x| x == i32::MIN).collect()),
            ),
            Input::U8(v) => (SamplesRef::U8(v), None),
        }
    }
}

#[test]
fn payloads_match_librmn() {
    let mut checked = std::collections::BTreeMap::<u8, u32>::new();
    let mut turbo_pending = 0;
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(fixture_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let m: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let (Some(records), Some(blob)) = (m["records"].as_array(), m["blob"].as_str()) else {
            continue;
        };
        let Ok(blob) = std::fs::read(fixture_dir().join(blob)) else {
            continue;
        };
        let file = FstFile::open(fixture_dir().join(m["file"].as_str().unwrap())).unwrap();
        for (rec, e) in file.records().iter().zip(records) {
            let ctx = format!(
                "{} {} {}",
                path.file_name().unwrap().to_string_lossy(),
                e["index"],
                e["etiket"].as_str().unwrap_or("").trim()
            );
            let Some(want) = e.get("requested").filter(|r| r["datyp"].is_u64()) else {
                continue;
            };
            let Some(input) = e.get("input").and_then(|d| Input::read(&blob, d)) else {
                continue;
            };
            let datyp = want["datyp"].as_u64().unwrap() as u8;
            let nbits = want["nbits"].as_u64().unwrap() as u8;
            let (values, mask) = input.samples(datyp);
            let req = EncodeRequest {
                datyp: Datyp(datyp),
                nbits,
                ni: rec.ni,
                nj: rec.nj,
                nk: rec.nk,
            };
            let enc = match encode(values, mask.as_deref(), &req, &Limits::DEFAULT) {
                Ok(enc) => enc,
                Err(EncodeError::TurboUnavailable { .. }) => {
                    turbo_pending += 1;
                    continue;
                }
                Err(err) => {
                    failures.push(format!("{ctx}: {err}"));
                    continue;
                }
            };
            if (enc.datyp, enc.nbits) != (rec.datyp, rec.nbits) {
                failures.push(format!(
                    "{ctx}: stored as {}/{}, librmn {}/{}",
                    enc.datyp.0, enc.nbits, rec.datyp.0, rec.nbits
                ));
                continue;
            }
            let payload = file.read_payload_words(rec).unwrap();
            // librmn pads the record to 64 bits with zero words.
            let (head, tail) = payload.split_at(enc.words.len().min(payload.len()));
            if head != enc.words.as_slice() || tail.iter().any(|&w| w != 0) {
                let first = head.iter().zip(&enc.words).position(|(a, b)| a != b);
                failures.push(format!(
                    "{ctx}: payload differs (ours {} words, librmn {}; first difference at {first:?})",
                    enc.words.len(),
                    payload.len()
                ));
                continue;
            }
            *checked.entry(rec.datyp.0).or_default() += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let total: u32 = checked.values().sum();
    eprintln!("identical payloads per stored datyp: {checked:?}; turbo pending: {turbo_pending}");
    for datyp in [0u8, 1, 2, 3, 4, 5, 6, 7, 8, 65, 66, 68, 69, 70] {
        assert!(
            checked.contains_key(&datyp),
            "no record of datyp {datyp} checked"
        );
    }
    assert!(total > 80, "only {total} records checked");
}
