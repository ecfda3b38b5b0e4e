//! ip and date decoding checked against every record of the librmn-written fixtures.
//!
//! XDF manifests (librmn 19.5) carry convip decodings (`ip*_decoded`), `DecodeIp` triples
//! (`decodeip`), the packed date word (`dir_date_stamp`), ISO dates and the `dateo` that
//! `fstprm` derives from the stored `datev`. RSF manifests (librmn `dev_alpha`) carry ips,
//! `datev`, `dateo`, `deet` and `npas`.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use fst_core::date::{dateo_from_datev, DateStamp, INCDATR_ERROR};
use fst_core::ip::{decode_ip_triple_with, decode_ip_with, IpCompat, IpRange, IpStyle};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every (manifest name, record) of the XDF manifests that have per-record objects.
fn xdf_records() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(fixtures().join("xdf"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let manifest: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let Some(records) = manifest.get("records").and_then(Value::as_array) else {
            continue;
        };
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        out.extend(records.iter().map(|r| (name.clone(), r.clone())));
    }
    assert!(
        out.len() > 500,
        "expected the XDF fixture manifests, found {} records",
        out.len()
    );
    out
}

fn rsf_records() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(fixtures().join("rsf"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".manifest.json"))
        .collect();
    paths.sort();
    for path in paths {
        let manifest: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for r in manifest["records"].as_array().unwrap() {
            out.push((name.clone(), r.clone()));
        }
    }
    assert!(out.len() >= 20, "expected the RSF fixture manifests");
    out
}

fn int(r: &Value, key: &str) -> i64 {
    r[key]
        .as_i64()
        .unwrap_or_else(|| panic!("{key} missing in {r}"))
}

fn ip_field(r: &Value, key: &str) -> u32 {
    u32::try_from(int(r, key)).unwrap()
}

fn f32_of(v: &Value) -> f32 {
    // The manifests print f32 values as doubles; the conversion back is exact.
    v.as_f64().unwrap() as f32
}

#[test]
fn convip_decoding_matches_every_xdf_record() {
    let (mut checked, mut invalid) = (0, 0);
    for (file, r) in xdf_records() {
        for n in 1..=3 {
            let ip = ip_field(&r, &format!("ip{n}"));
            let expected = &r[format!("ip{n}_decoded")];
            let what = format!("{file}[{}]: ip{n} = {ip}", r["index"]);
            let decoded = decode_ip_with(ip, IpCompat::Librmn19_5);
            if int(expected, "kind") == -1 {
                // convip's "invalid" answer (grid descriptors use ip1/ip2 as tags).
                assert!(
                    decoded.is_err(),
                    "{what}: librmn says invalid, got {decoded:?}"
                );
                assert!(
                    decode_ip_with(ip, IpCompat::Current).is_err(),
                    "{what}: current rules"
                );
                invalid += 1;
                continue;
            }
            let got = decoded.unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(
                got.value.to_bits(),
                f32_of(&expected["value"]).to_bits(),
                "{what}: value {got:?}"
            );
            assert_eq!(
                i64::from(got.kind.code()),
                int(expected, "kind"),
                "{what}: kind"
            );
            let style = match got.style {
                IpStyle::Old => "old",
                IpStyle::New => "new",
            };
            assert_eq!(style, expected["style"].as_str().unwrap(), "{what}: style");
            let unit = expected["kind_str"].as_str().unwrap_or("");
            assert_eq!(got.kind.unit(), unit, "{what}: unit");
            // The current rules agree with 19.5 on every kind the fixtures use.
            assert_eq!(
                decode_ip_with(ip, IpCompat::Current),
                Ok(got),
                "{what}: current rules"
            );
            checked += 1;
        }
    }
    assert!(checked > 1500);
    assert!(invalid > 0, "the grid descriptors' tags are invalid ips");
}

fn assert_range(what: &str, got: &IpRange, expected: &Value) {
    assert_eq!(
        got.v1.to_bits(),
        f32_of(&expected["v1"]).to_bits(),
        "{what}: v1 in {got:?}"
    );
    assert_eq!(
        got.v2.to_bits(),
        f32_of(&expected["v2"]).to_bits(),
        "{what}: v2 in {got:?}"
    );
    assert_eq!(
        i64::from(got.kind_code()),
        int(expected, "kind"),
        "{what}: kind in {got:?}"
    );
    let unit = expected["kind_str"].as_str().unwrap_or("");
    assert_eq!(got.kind.map_or("", |k| k.unit()), unit, "{what}: unit");
}

#[test]
fn decode_ip_triples_match_every_xdf_record() {
    let (mut ranges, mut errors) = (0, 0);
    for (file, r) in xdf_records() {
        let (ip1, ip2, ip3) = (
            ip_field(&r, "ip1"),
            ip_field(&r, "ip2"),
            ip_field(&r, "ip3"),
        );
        let what = format!("{file}[{}]: DecodeIp({ip1}, {ip2}, {ip3})", r["index"]);
        let expected = &r["decodeip"];
        let decoded = decode_ip_triple_with(ip1, ip2, ip3, IpCompat::Librmn19_5);
        if decoded.is_err() {
            // librmn flags an error and leaves rp1..rp3 undefined (rpnpy shows zeros, kind 0);
            // it happens exactly when convip finds ip1 invalid.
            assert_eq!(
                int(&r["ip1_decoded"], "kind"),
                -1,
                "{what}: unexpected error {decoded:?}"
            );
            for rp in ["rp1", "rp2", "rp3"] {
                assert_eq!(expected[rp]["v1"].as_f64(), Some(0.0), "{what}: {rp}");
            }
            errors += 1;
            continue;
        }
        let got = decoded.unwrap();
        assert_range(&format!("{what} rp1"), &got.rp1, &expected["rp1"]);
        assert_range(&format!("{what} rp2"), &got.rp2, &expected["rp2"]);
        assert_range(&format!("{what} rp3"), &got.rp3, &expected["rp3"]);
        if got.rp3.kind.is_none() {
            ranges += 1;
        }
        // Current librmn differs only in rp3 for old-style ip3 <= 240 (kind 3 instead of 10).
        let current = fst_core::ip::decode_ip_triple(ip1, ip2, ip3).unwrap();
        assert_eq!(
            (current.rp1, current.rp2),
            (got.rp1, got.rp2),
            "{what}: current rules"
        );
        if ip3 <= 32_767 {
            assert_eq!(current.rp3.kind_code(), 3, "{what}: current rp3 kind");
        }
    }
    assert_eq!(
        ranges, 2,
        "the fixtures hold one time range and one pressure layer"
    );
    assert!(errors > 0, "grid descriptors have no valid DecodeIp triple");
}

#[test]
fn date_words_iso_and_dateo_match_every_xdf_record() {
    let mut sentinels = Vec::new();
    let mut writer_checked = 0;
    for (file, r) in xdf_records() {
        let what = format!("{file}[{}]", r["index"]);
        let datev = i32::try_from(int(&r, "datev")).unwrap();
        let dateo = i32::try_from(int(&r, "dateo")).unwrap();
        let word = u32::try_from(int(&r, "dir_date_stamp")).unwrap();
        assert_eq!(
            DateStamp(datev).date_word(),
            word,
            "{what}: packed date word"
        );
        assert_eq!(
            DateStamp::from_date_word(word),
            DateStamp(datev),
            "{what}: unpacked date word"
        );
        for (stamp, key) in [(datev, "datev_iso"), (dateo, "dateo_iso")] {
            let expected = r[key].as_str();
            assert_eq!(
                DateStamp(stamp).to_iso8601().as_deref(),
                expected,
                "{what}: {key} of {stamp}"
            );
        }
        let seconds = u64::try_from(int(&r, "deet") * int(&r, "npas")).unwrap();
        assert_eq!(
            dateo_from_datev(datev, seconds),
            dateo,
            "{what}: dateo from datev {datev} - {seconds} s"
        );
        if dateo == INCDATR_ERROR {
            sentinels.push(what.clone());
        }
        // What the writer stored, from what it was asked.
        let (deet, npas) = (int(&r, "deet") as u32, int(&r, "npas") as u32);
        if let Some(requested) = r["requested"].get("dateo").and_then(Value::as_i64) {
            let requested = DateStamp(i32::try_from(requested).unwrap());
            assert_eq!(
                requested.valid_from_origin(deet, npas),
                DateStamp(datev),
                "{what}: datev from dateo"
            );
            writer_checked += 1;
        }
        // rpnpy's own incdatr(dateo, deet*npas/3600); -1 when it reported librmn's error stamp.
        let rpnpy = int(&r, "datev_rpnpy");
        let expected = if rpnpy == -1 {
            INCDATR_ERROR
        } else {
            i32::try_from(rpnpy).unwrap()
        };
        assert_eq!(
            DateStamp(dateo).valid_from_origin(deet, npas),
            DateStamp(expected),
            "{what}: rpnpy datev"
        );
    }
    // levels_dates record 70: librmn reports its error stamp as the origin date.
    assert_eq!(sentinels, ["levels_dates.json[70]"]);
    assert!(writer_checked > 100);
}

#[test]
fn rsf_records_decode_and_dateo_matches() {
    for (file, r) in rsf_records() {
        let what = format!("{file}[{}]", r["index"]);
        for n in 1..=3 {
            let ip = ip_field(&r, &format!("ip{n}"));
            decode_ip_with(ip, IpCompat::Current).unwrap_or_else(|e| panic!("{what}: ip{n}: {e}"));
        }
        let datev = i32::try_from(int(&r, "datev")).unwrap();
        let seconds = u64::try_from(int(&r, "deet") * int(&r, "npas")).unwrap();
        assert_eq!(
            dateo_from_datev(datev, seconds),
            int(&r, "dateo") as i32,
            "{what}: dateo"
        );
        let (deet, npas) = (int(&r, "deet") as u32, int(&r, "npas") as u32);
        let dateo = DateStamp(int(&r, "dateo") as i32);
        assert_eq!(
            dateo.valid_from_origin(deet, npas),
            DateStamp(datev),
            "{what}: datev"
        );
    }
}

/// The two librmn bug cases of `levels_dates`, spelled out.
#[test]
fn levels_dates_librmn_bug_records() {
    let records = xdf_records();
    let find = |i: i64| {
        records
            .iter()
            .find(|(f, r)| f == "levels_dates.json" && r["index"].as_i64() == Some(i))
            .map(|(_, r)| r.clone())
            .unwrap()
    };
    // Record 70: 1979-12-31T23 + 7 x 900 s. The writer rounds the pre-1980 origin's offset to
    // whole hours (+2 h, stored 1980-01-01T01); the reader subtracts 1.75 h from a post-1980
    // stamp, lands on 1979-12-31T23:15, which librmn cannot represent before 1980, and
    // reports its error stamp 101010101.
    let r70 = find(70);
    assert_eq!(int(&r70, "datev"), 10_180_010);
    assert_eq!(dateo_from_datev(10_180_010, 6300), 101_010_101);
    assert_eq!(int(&r70, "dateo"), 101_010_101);
    // Record 104: origin 0 with 300 s x 12. The writer's incdatr fails on stamp 0 and stores
    // 101010101; the reader shifts that (a valid 1910 stamp, run digit 1) back by one hour.
    let r104 = find(104);
    assert_eq!(
        DateStamp(0).valid_from_origin(300, 12).0,
        int(&r104, "datev") as i32
    );
    assert_eq!(
        dateo_from_datev(101_010_101, 3600),
        int(&r104, "dateo") as i32
    );
    assert_eq!(int(&r104, "dateo"), 101_010_091);
}
