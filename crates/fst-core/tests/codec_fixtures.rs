//! Every record of every XDF fixture, decoded by the codecs alone and compared bit for bit
//! with what librmn 19.5's `fstluk` returned (the manifests' `data` blobs).
//!
//! The payload of each record is located from the manifest only (`swa`, `lng`), independently
//! of the container code: the record starts at byte `(swa − 1)·8`, its 72-byte key copy and
//! 8 bytes of aux keys come first, and `lng` counts 32-bit words. XDF words are big-endian.
//!
//! Both of librmn's missing-value modes are checked for +64 records: `data` was read with the
//! mode active (missing elements replaced by the flags listed in the manifest), and
//! `data_missing_mode_off` holds the plug values the codec returns.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test/bench code: failing loudly is the point

use fst_testkit::le_bytes;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use fst_core::codec::{self, CodecParams, MissingFlags, SampleType, Samples};
use fst_core::record::Datyp;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xdf")
}

fn manifests() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && p.file_name().is_some_and(|n| n != "datyp_nbits_map.json")
        })
        .collect();
    v.sort();
    assert!(v.len() >= 8, "fixture manifests missing: {v:?}");
    v
}

struct Fixture {
    name: String,
    manifest: Value,
    fst: Vec<u8>,
    blob: Option<Vec<u8>>,
}

fn load(path: &Path) -> Fixture {
    let manifest: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let fst = std::fs::read(path.with_extension("fst")).unwrap();
    let blob = std::fs::read(path.with_extension("bin")).ok();
    Fixture {
        name: path.file_stem().unwrap().to_string_lossy().into_owned(),
        manifest,
        fst,
        blob,
    }
}

fn u(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

/// The payload words of a record, from the manifest's `swa` and `lng` only.
fn payload_words(fst: &[u8], rec: &Value) -> Vec<u32> {
    let start = (u(rec, "swa") - 1) as usize * 8;
    let end = start + u(rec, "lng") as usize * 4;
    fst[start + 80..end]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes(c.try_into().unwrap()))
        .collect()
}

fn params(rec: &Value) -> CodecParams {
    CodecParams {
        datyp: Datyp(u(rec, "datyp") as u8),
        nbits: u(rec, "nbits") as u8,
        ni: u(rec, "ni") as u32,
        nj: u(rec, "nj") as u32,
        nk: u(rec, "nk") as u32,
    }
}

fn dtype(t: SampleType, datyp_base: u8) -> &'static str {
    match t {
        SampleType::F32 => "f32",
        SampleType::F64 => "f64",
        SampleType::U32 | SampleType::Raw32 => "u32",
        SampleType::I32 => "i32",
        SampleType::U8 if datyp_base == 3 => "u32",
        SampleType::U8 => "u8",
        SampleType::C64 => "c64",
        SampleType::C128 => "c128",
        other => panic!("no manifest dtype for {other:?}"),
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    let mut s = String::new();
    for b in Sha256::digest(bytes) {
        write!(s, "{b:02x}").unwrap();
    }
    s
}

/// Compare `got` with a manifest blob reference, through the blob file if present, else
/// through the sha256. Returns a description of the first difference.
fn compare(fx: &Fixture, blob_ref: &Value, got: &[u8]) -> Result<(), String> {
    let nbytes = u(blob_ref, "nbytes") as usize;
    if got.len() != nbytes {
        return Err(format!("{} bytes decoded, blob has {nbytes}", got.len()));
    }
    let Some(blob) = &fx.blob else {
        let want = blob_ref["sha256"].as_str().unwrap();
        let have = hex_sha256(got);
        if have != want {
            return Err(format!("sha256 {have} != librmn {want}"));
        }
        return Ok(());
    };
    let off = u(blob_ref, "offset") as usize;
    let want = &blob[off..off + nbytes];
    if let Some(i) = (0..nbytes).find(|&i| got[i] != want[i]) {
        return Err(format!(
            "first differing byte {i}: got {:#04x}, librmn {:#04x}",
            got[i], want[i]
        ));
    }
    Ok(())
}

fn flags_of(manifest: &Value) -> MissingFlags {
    let f = &manifest["missing_value_flags"];
    let mut flags = MissingFlags::default();
    if let Some(h) = f["float32_hex"].as_str() {
        flags.f32 = f32::from_bits(u32::from_str_radix(h, 16).unwrap());
    }
    if let Some(x) = f["float64"].as_f64() {
        flags.f64 = x;
    }
    if let Some(x) = f["int32"].as_i64() {
        flags.i32 = x as i32;
    }
    if let Some(x) = f["uint32"].as_u64() {
        flags.u32 = x as u32;
    }
    flags
}

/// Check one record; returns a description of what differs.
fn check_record(fx: &Fixture, rec: &Value, flags: &MissingFlags) -> Result<(), String> {
    let p = params(rec);
    let words = payload_words(&fx.fst, rec);
    let data = &rec["data"];
    let samples = codec::decode(&words, &p).map_err(|e| format!("decode failed: {e}"))?;
    let st = codec::sample_type(&p).map_err(|e| e.to_string())?;
    if samples.sample_type() != st {
        return Err(format!(
            "decode gave {:?}, sample_type says {st:?}",
            samples.sample_type()
        ));
    }
    let count = codec::sample_count(&p).map_err(|e| e.to_string())?;
    if samples.len() as u64 != count {
        return Err(format!(
            "{} samples, sample_count says {count}",
            samples.len()
        ));
    }
    let base = p.datyp.base();
    if data["dtype"].as_str() != Some(dtype(st, base)) {
        return Err(format!("dtype {} vs ours {:?}", data["dtype"], st));
    }

    let mut raw = le_bytes(&samples);
    if base == 3 {
        // librmn returns whole words; the bytes after the n-th character are the padding of
        // the last word, which the codec does not return as characters.
        assert_eq!(u(data, "count"), count.div_ceil(4));
        let n = count as usize;
        let last = words.get(n / 4).map_or([0; 4], |w| w.to_le_bytes());
        if n % 4 != 0 {
            raw.extend_from_slice(&last[n % 4..]);
        }
    } else if u(data, "count")
        * if matches!(st, SampleType::C64 | SampleType::C128) {
            2
        } else {
            1
        }
        != count
    {
        return Err(format!(
            "manifest count {} vs sample_count {count}",
            u(data, "count")
        ));
    }

    let mask = codec::missing_mask(&samples, &p);
    if let Some(off) = rec.get("data_missing_mode_off") {
        compare(fx, off, &raw).map_err(|e| format!("missing mode off: {e}"))?;
        let mask = mask.ok_or("+64 record without a missing mask")?;
        let n_missing = mask.iter().filter(|&&m| m).count() as u64;
        if rec["n_missing"]
            .as_u64()
            .is_some_and(|want| want != n_missing)
        {
            return Err(format!("{n_missing} missing, librmn {}", rec["n_missing"]));
        }
        let mut active = samples.clone();
        flags.replace(&mut active, &mask);
        compare(fx, data, &le_bytes(&active)).map_err(|e| format!("missing mode active: {e}"))?;
    } else {
        if p.datyp.has_missing() {
            return Err("+64 record without data_missing_mode_off in the manifest".into());
        }
        if mask.is_some() {
            return Err("mask on a record without +64".into());
        }
        compare(fx, data, &raw)?;
    }

    // The caller-buffer and multi-threaded paths give the same bits.
    let mut again = samples.clone();
    for fill in &mut [0u8, 0xA5] {
        match &mut again {
            Samples::F32(v) | Samples::C64(v) => {
                v.fill(f32::from_bits(u32::from_ne_bytes([*fill; 4])));
            }
            Samples::U32(v) | Samples::Raw32(v) => v.fill(u32::from_ne_bytes([*fill; 4])),
            _ => {}
        }
        codec::decode_into_parallel(&words, &p, again.as_mut(), 3)
            .map_err(|e| format!("parallel: {e}"))?;
        if le_bytes(&again) != le_bytes(&samples) {
            return Err("decode_into_parallel differs from decode".into());
        }
    }
    Ok(())
}

/// Decode every record of the manifests at `paths` and compare with librmn's values: the
/// number of records checked and one line per difference.
fn check_manifests(paths: &[PathBuf]) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut checked = 0usize;
    let mut by_datyp = std::collections::BTreeMap::<(u64, u64), usize>::new();
    for path in paths {
        let fx = load(path);
        let flags = flags_of(&fx.manifest);
        let records = fx.manifest["records"].as_array().unwrap();
        assert_eq!(
            records.len() as u64,
            u(&fx.manifest, "nrecords"),
            "{}",
            fx.name
        );
        for rec in records {
            checked += 1;
            *by_datyp
                .entry((u(rec, "datyp"), u(rec, "nbits")))
                .or_default() += 1;
            if let Err(e) = check_record(&fx, rec, &flags) {
                failures.push(format!(
                    "{} #{} {} {}x{}x{} datyp {} nbits {}: {e}",
                    fx.name,
                    rec["index"],
                    rec["nomvar"],
                    rec["ni"],
                    rec["nj"],
                    rec["nk"],
                    rec["datyp"],
                    rec["nbits"]
                ));
            }
        }
    }
    eprintln!("checked {checked} records; (datyp, nbits) -> count: {by_datyp:?}");
    (checked, failures)
}

#[test]
fn every_fixture_record_matches_librmn_bit_for_bit() {
    let (checked, failures) = check_manifests(&manifests());
    assert!(
        failures.is_empty(),
        "{} of {checked} records differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 600, "only {checked} records checked");
}

/// Files written by `bench/make_fixtures.py --random SEED` (or any other manifest directory)
/// named by `FSTGIS_EXTRA_FIXTURES`: `scripts/oracle-random.sh` draws new ones from the
/// reference librmn on every test run. Without the variable there is nothing to check.
#[test]
fn extra_fixture_records_match_librmn_bit_for_bit() {
    let Some(dir) = std::env::var_os("FSTGIS_EXTRA_FIXTURES") else {
        eprintln!("FSTGIS_EXTRA_FIXTURES not set: no extra fixtures to check");
        return;
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no manifests in {}",
        PathBuf::from(dir).display()
    );
    let (checked, failures) = check_manifests(&paths);
    assert!(
        failures.is_empty(),
        "{} of {checked} records differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The comparison above can fail: a flipped payload bit changes the decoded values.
#[test]
fn a_corrupted_payload_is_detected() {
    let fx = load(&fixtures_dir().join("datyps.json"));
    let flags = flags_of(&fx.manifest);
    let records = fx.manifest["records"].as_array().unwrap();
    for idx in [6usize, 24, 49, 54] {
        let rec = &records[idx];
        assert!(check_record(&fx, rec, &flags).is_ok());
        let mut bad = Fixture {
            name: fx.name.clone(),
            manifest: Value::Null,
            fst: fx.fst.clone(),
            blob: fx.blob.clone(),
        };
        let start = (u(rec, "swa") - 1) as usize * 8;
        // A byte in the middle of the payload.
        let mid = start + 80 + (u(rec, "lng") as usize * 4 - 80) / 2;
        bad.fst[mid] ^= 0x10;
        assert!(
            check_record(&bad, rec, &flags).is_err(),
            "record {idx}: corruption not detected"
        );
    }
}

/// shapes.fst record 33 (134/16, 2000x1000) and 34 (1/16) decode through every thread count
/// to the librmn values (checked through the manifest's sha256: the blob is 40 MB).
#[test]
fn large_records_decode_with_threads() {
    let fx = load(&fixtures_dir().join("shapes.json"));
    let records = fx.manifest["records"].as_array().unwrap();
    for idx in [29usize, 30, 31, 32, 33, 34] {
        let rec = &records[idx];
        let p = params(rec);
        let words = payload_words(&fx.fst, rec);
        for threads in [1, 2, 3, 8] {
            let mut out = vec![0f32; codec::sample_count(&p).unwrap() as usize];
            codec::decode_into_parallel(&words, &p, codec::SamplesMut::F32(&mut out), threads)
                .unwrap();
            let bytes: Vec<u8> = out.iter().flat_map(|x| x.to_le_bytes()).collect();
            assert_eq!(
                hex_sha256(&bytes),
                rec["data"]["sha256"].as_str().unwrap(),
                "record {idx}, {threads} threads"
            );
        }
    }
}
