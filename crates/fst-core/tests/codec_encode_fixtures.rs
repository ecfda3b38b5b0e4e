//! The encoders against librmn 19.5: every record of the XDF fixtures whose original input
//! array is in the fixture's blob is encoded again from that input with the datyp/nbits
//! librmn was asked for; the stored datyp/nbits and the payload words must be librmn's.
//!
//! Turbo records (129, 130, 133, 134 and their +64 variants) go through the same path: the
//! first stage, the compressed stream, the framing and the length word must all be librmn's,
//! and so must the decision to give turbo up (then the record is the base datyp). Two
//! differences are kept, both where librmn writes bytes it never initialised or reads back:
//! * the low byte of the first word after a 129/130/134 stream: librmn copies the stream with
//!   one byte too many, from uninitialised memory; we write 0 there;
//! * the padding of a record where librmn gave turbo up: its buffer still holds the failed
//!   attempt's bits after the plain tokens (compared up to the last token bit only), and its
//!   130 fallback writes its tokens one word late (a leading zero word, which librmn reads back
//!   shifted).
//!
//! And two choices of the encoder where librmn writes records that lose data (counted as
//! deliberate differences; the missing mask must come back from ours):
//! * 129 below 16 bits, which librmn cannot read back: we write plain R (1 or 65);
//! * a turbo request with missing points that librmn gives up: librmn drops +64 with turbo,
//!   and its missing points read back as values; we keep +64 (same payload as our plain +64
//!   record).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::float_cmp,
    clippy::too_many_lines
)] // test code: loud failures, exact values

use std::path::{Path, PathBuf};

use fst_core::codec::{encode, EncodeRequest, SamplesRef};
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

/// What [`check_dir`] found: identical payloads per stored datyp, turbo requests that librmn
/// and we both wrote as the base datyp, and the differences.
#[derive(Default)]
struct Outcome {
    checked: std::collections::BTreeMap<u8, u32>,
    turbo_fallbacks: u32,
    deviations: u32,
    failures: Vec<String>,
}

/// The first `bits` bits of `ours` and `theirs` are equal.
fn same_bits(ours: &[u32], theirs: &[u32], bits: u64) -> bool {
    let whole = (bits / 32) as usize;
    let rest = (bits % 32) as u32;
    if ours.len() < whole || theirs.len() < whole || ours[..whole] != theirs[..whole] {
        return false;
    }
    rest == 0 || {
        let mask = !(u32::MAX >> rest);
        ours.get(whole).map(|w| w & mask) == theirs.get(whole).map(|w| w & mask)
    }
}

/// A turbo payload equals librmn's: exactly `L` words (word 0), all identical except at most
/// one word, in its low byte only, where ours holds 0: the byte after a 129/130/134 stream
/// that librmn copies from uninitialised memory (133 has no such byte, and then every word
/// must match).
fn same_turbo(ours: &[u32], theirs: &[u32]) -> bool {
    let Some(&l) = theirs.first() else {
        return false;
    };
    let Some(theirs) = theirs.get(..l as usize) else {
        return false;
    };
    if ours.len() != theirs.len() {
        return false;
    }
    let mut differ = ours.iter().zip(theirs).filter(|(a, b)| a != b);
    match (differ.next(), differ.next()) {
        (None, _) => true,
        (Some((a, b)), None) => (a ^ b) & !0xFF == 0 && a.trailing_zeros() >= 8,
        (Some(_), Some(_)) => false,
    }
}

/// The values not flagged missing are all equal and negative.
fn negative_constant(values: SamplesRef<'_>, mask: Option<&[bool]>) -> bool {
    fn check<T: Copy + PartialOrd + Default>(v: &[T], mask: Option<&[bool]>) -> bool {
        let mut kept = v
            .iter()
            .enumerate()
            .filter(|&(k, _)| !mask.is_some_and(|m| m[k]))
            .map(|(_, &x)| x);
        let Some(first) = kept.next() else {
            return false;
        };
        first < T::default() && kept.all(|x| x == first)
    }
    match values {
        SamplesRef::F32(v) => check(v, mask),
        SamplesRef::F64(v) => check(v, mask),
        _ => false,
    }
}

/// Re-encode the input of every record of every manifest in `dir` and compare.
fn check_dir(dir: &Path) -> Outcome {
    let mut out = Outcome::default();
    let Outcome {
        checked,
        turbo_fallbacks,
        deviations,
        failures,
    } = &mut out;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let m: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let (Some(records), Some(blob)) = (m["records"].as_array(), m["blob"].as_str()) else {
            continue;
        };
        let Ok(blob) = std::fs::read(dir.join(blob)) else {
            continue;
        };
        let file = FstFile::open(dir.join(m["file"].as_str().unwrap())).unwrap();
        for (rec, e) in file.records().iter().zip(records) {
            let ctx = format!(
                "{} {} {} (requested {}/{}, stored {}/{}, {}x{}x{})",
                path.file_name().unwrap().to_string_lossy(),
                e["index"],
                e["etiket"].as_str().unwrap_or("").trim(),
                e["requested"]["datyp"],
                e["requested"]["nbits"],
                rec.datyp.0,
                rec.nbits,
                rec.ni,
                rec.nj,
                rec.nk
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
                Err(err) => {
                    failures.push(format!("{ctx}: {err}"));
                    continue;
                }
            };
            let mask_comes_back = || {
                let p = enc.params(rec.ni, rec.nj, rec.nk);
                let decoded = fst_core::codec::decode(&enc.words, &p).unwrap();
                fst_core::codec::missing_mask(&decoded, &p).as_deref() == mask.as_deref()
            };
            // Deliberate difference: librmn writes 129 below 16 bits (tokens quantised to nbits
            // in 16-bit slots) but reads it back wrongly (fst-format §4.9); we write plain R.
            if rec.datyp.0 & !64 == 129 && rec.nbits < 16 {
                if (enc.datyp.0, enc.nbits) != (rec.datyp.0 & !128, rec.nbits) {
                    failures.push(format!(
                        "{ctx}: stored as {}/{}, not plain R",
                        enc.datyp.0, enc.nbits
                    ));
                } else if rec.datyp.has_missing() && !mask_comes_back() {
                    failures.push(format!("{ctx}: the missing mask does not come back"));
                }
                *deviations += 1;
                continue;
            }
            // Deliberate difference: where librmn gives up turbo on a field with missing
            // points, it stores the base type without +64, so that the plugged points read
            // back as values; we keep +64 (the payload is librmn's).
            let missing_kept = datyp & 0xC0 == 0xC0
                && !rec.datyp.has_missing()
                && !rec.datyp.is_turbo()
                && (enc.datyp.0, enc.nbits) == (rec.datyp.0 | 64, rec.nbits);
            if missing_kept {
                // The record is the plain +64 one (whose mask handling is checked against
                // librmn on its own records).
                let plain = EncodeRequest {
                    datyp: Datyp(datyp & !128),
                    ..req
                };
                if encode(values, mask.as_deref(), &plain, &Limits::DEFAULT).ok()
                    != Some(enc.clone())
                {
                    failures.push(format!("{ctx}: not the plain +64 record"));
                }
                *deviations += 1;
            } else if (enc.datyp, enc.nbits) != (rec.datyp, rec.nbits) {
                failures.push(format!(
                    "{ctx}: stored as {}/{}, librmn {}/{}",
                    enc.datyp.0, enc.nbits, rec.datyp.0, rec.nbits
                ));
                continue;
            }
            let payload = file.read_payload_words(rec).unwrap();
            let n = u64::from(rec.ni) * u64::from(rec.nj) * u64::from(rec.nk);
            if mask.as_ref().is_some_and(|m| m.contains(&true))
                && negative_constant(values, mask.as_deref())
            {
                // Deliberate difference: librmn's plug (2·max) falls below a negative constant
                // field, so its record cannot mark the missing points; ours can (except in
                // truncated IEEE, whose few bits may not tell max/2 from max).
                let truncated = enc.datyp.base() == 5 && enc.nbits < 32;
                if !truncated && !mask_comes_back() {
                    failures.push(format!("{ctx}: the missing mask does not come back"));
                }
                *deviations += 1;
                continue;
            }
            let same = if rec.datyp.is_turbo() {
                same_turbo(&enc.words, &payload)
            } else if datyp & 128 != 0 {
                // librmn gave the turbo stage up after a first attempt in the same buffer: the
                // padding bits after the tokens keep that attempt's bits, and the 130 fallback
                // writes its tokens one word late (a leading zero word; librmn reads that
                // record back shifted).
                *turbo_fallbacks += 1;
                let theirs = match payload.split_first() {
                    Some((0, rest)) if rec.datyp.0 == 2 => rest,
                    _ => &payload[..],
                };
                let bits = match rec.datyp.base() {
                    1 => 120 + n * u64::from(rec.nbits),
                    6 => 32 * (3 + n.div_ceil(2)),
                    _ => n * u64::from(rec.nbits),
                };
                same_bits(&enc.words, theirs, bits)
            } else {
                // librmn pads the record to 64 bits with zero words.
                let (head, tail) = payload.split_at(enc.words.len().min(payload.len()));
                head == enc.words.as_slice() && tail.iter().all(|&w| w == 0)
            };
            if !same {
                let first = payload.iter().zip(&enc.words).position(|(a, b)| a != b);
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
    out
}

#[test]
fn payloads_match_librmn() {
    let Outcome {
        checked,
        turbo_fallbacks,
        deviations,
        failures,
    } = check_dir(&fixture_dir());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let total: u32 = checked.values().sum();
    eprintln!(
        "identical payloads per stored datyp: {checked:?}; turbo given up as librmn did: \
         {turbo_fallbacks}; deliberate differences (mask checked): {deviations}"
    );
    for datyp in [
        0u8, 1, 2, 3, 4, 5, 6, 7, 8, 65, 66, 68, 69, 70, 129, 130, 133, 134, 193, 198,
    ] {
        assert!(
            checked.contains_key(&datyp),
            "no record of datyp {datyp} checked"
        );
    }
    assert!(total > 80, "only {total} records checked");
}

/// The random draws of `bench/oracle_encode.py` (librmn 19.5 writing random arrays), when
/// `FSTGIS_ENCODE_ORACLE` names their directory (scripts/oracle-random.sh sets it).
#[test]
fn random_payloads_match_librmn() {
    let Some(dir) = std::env::var_os("FSTGIS_ENCODE_ORACLE") else {
        eprintln!("FSTGIS_ENCODE_ORACLE not set: skipped");
        return;
    };
    let Outcome {
        checked,
        turbo_fallbacks,
        deviations,
        failures,
    } = check_dir(Path::new(&dir));
    eprintln!(
        "identical payloads per stored datyp: {checked:?}; turbo given up as librmn did: \
         {turbo_fallbacks}; deliberate differences (mask checked): {deviations}"
    );
    assert!(
        failures.is_empty(),
        "{} of {} records differ:\n{}",
        failures.len(),
        failures.len() as u32 + checked.values().sum::<u32>(),
        failures.join("\n")
    );
    assert!(
        checked.values().sum::<u32>() > 0,
        "no record checked in {dir:?}"
    );
}
