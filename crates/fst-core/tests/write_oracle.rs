//! Files written by fst-core, read back by the reference library in a fresh process: librmn
//! 19.5 (`bench/oracle_readback.py`, XDF) and the newest librmn (`rmn-read`, XDF and RSF).
//! Every record must be listed with equal keys, and decode to the values our own reader
//! gives, bit for bit.
//!
//! Runs when `FSTGIS_ORACLE_PY` (the oracle venv's python) and/or `FSTGIS_RMN_READ` (the
//! `rmn-read` binary) are set — `scripts/oracle-write.sh` sets both; otherwise each test says
//! it is skipped and passes. `FSTGIS_ORACLE_CRASH_DIR` adds the files that
//! `write_crash` left after killing its writers.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::too_many_lines
)]

use fst_testkit::le_bytes;
use std::path::{Path, PathBuf};
use std::process::Command;

use fst_core::codec::Samples;
use fst_core::date::DateStamp;
use fst_core::record::Datyp;
use fst_core::write::{FstWriter, Payload, RecordKeys, Rewrite, WriteOptions};
use fst_core::{Container, FstFile, RecordMeta};
use serde_json::Value;

fn out_dir(name: &str) -> PathBuf {
    let base = option_env!("CARGO_TARGET_TMPDIR")
        .map_or_else(std::env::temp_dir, PathBuf::from)
        .join("write-oracle")
        .join(name);
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    base
}

fn num(v: &Value, key: &str) -> i64 {
    v[key]
        .as_i64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

/// Which oracle reads a file, and how its manifest names things.
#[derive(Clone, Copy, Debug)]
enum Oracle {
    /// librmn 19.5 through rpnpy.
    Librmn195,
    /// The newest librmn's `rmn-read`.
    RmnRead,
}

/// Run an oracle on `file`. `unfinished`: the file may end with an RSF segment a killed writer
/// left open; librmn lists the records before it, and only its `fst24_is_valid` check objects
/// ("segment not closed properly"), as it does for files its own killed writers leave.
fn run_oracle(oracle: Oracle, file: &Path, out: &Path, unfinished: bool) -> Option<Value> {
    let status = match oracle {
        Oracle::Librmn195 => {
            let py = std::env::var_os("FSTGIS_ORACLE_PY")?;
            let script =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/oracle_readback.py");
            Command::new(py)
                .arg(script)
                .arg(file)
                .arg(out)
                .output()
                .unwrap()
        }
        Oracle::RmnRead => {
            let exe = std::env::var_os("FSTGIS_RMN_READ")?;
            Command::new(exe).arg(file).arg(out).output().unwrap()
        }
    };
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap_or_else(|e| {
        panic!(
            "{oracle:?} wrote no manifest for {} ({e}): {}",
            file.display(),
            String::from_utf8_lossy(&status.stderr)
        )
    });
    let manifest: Value = serde_json::from_str(&manifest).unwrap();
    let only_validity = manifest["fst24_is_valid"] == 0
        && manifest["errors"].as_array().is_some_and(|e| e.len() == 1);
    if unfinished && only_validity {
        println!(
            "{oracle:?}: {} has an unfinished segment (fst24_is_valid 0)",
            file.display()
        );
        return Some(manifest);
    }
    assert!(
        status.status.success() && manifest["ok"] == Value::Bool(true),
        "{oracle:?} failed on {}: {} {}",
        file.display(),
        manifest["error"],
        manifest["errors"]
    );
    Some(manifest)
}

/// Compare one oracle's reading of `file` with ours; returns the number of records checked,
/// or `None` when that oracle is not configured.
fn compare(oracle: Oracle, file: &Path, out: &Path, unfinished: bool) -> Option<usize> {
    let manifest = run_oracle(oracle, file, out, unfinished)?;
    let ours = FstFile::open(file).unwrap();
    let recs = manifest["records"].as_array().unwrap();
    assert_eq!(
        recs.len(),
        ours.records().len(),
        "{oracle:?}: {}",
        file.display()
    );
    for (theirs, mine) in recs.iter().zip(ours.records()) {
        check_keys(oracle, theirs, mine);
        let data_file = theirs["data_file"].as_str().unwrap();
        let want = std::fs::read(out.join(data_file)).unwrap();
        let got = le_bytes(&ours.decode(mine).unwrap().samples);
        let base = mine.datyp.base();
        if got.len() != want.len() {
            // librmn 19.5 returns characters (3) as whole words, binary (0) as the words it
            // read; compare what both give.
            assert!(
                matches!(base, 0 | 3 | 7),
                "{oracle:?} {} record {}: {} bytes, ours {}",
                file.display(),
                mine.index,
                want.len(),
                got.len()
            );
        }
        let n = got.len().min(want.len());
        assert!(
            got[..n] == want[..n],
            "{oracle:?} {} record {} ({} datyp {}): values differ",
            file.display(),
            mine.index,
            mine.nomvar,
            mine.datyp.0
        );
    }
    Some(recs.len())
}

fn check_keys(oracle: Oracle, t: &Value, m: &RecordMeta) {
    let ctx = format!("{oracle:?} record {} {}", m.index, m.nomvar);
    assert_eq!(t["nomvar"].as_str().unwrap(), m.nomvar.trimmed(), "{ctx}");
    assert_eq!(t["typvar"].as_str().unwrap(), m.typvar.trimmed(), "{ctx}");
    assert_eq!(t["etiket"].as_str().unwrap(), m.etiket.trimmed(), "{ctx}");
    assert_eq!(
        t["grtyp"].as_str().unwrap(),
        char::from(m.grtyp).to_string().trim_end(),
        "{ctx}"
    );
    let pairs: [(&str, i64); 13] = [
        ("ni", m.ni.into()),
        ("nj", m.nj.into()),
        ("nk", m.nk.into()),
        ("deet", m.deet.into()),
        ("npas", m.npas.into()),
        ("ip1", m.ip1.into()),
        ("ip2", m.ip2.into()),
        ("ip3", m.ip3.into()),
        ("ig1", m.ig1.into()),
        ("ig2", m.ig2.into()),
        ("ig3", m.ig3.into()),
        ("ig4", m.ig4.into()),
        ("dateo", m.dateo().into()),
    ];
    for (k, v) in pairs {
        assert_eq!(num(t, k), v, "{ctx}: {k}");
    }
    match oracle {
        Oracle::Librmn195 => {
            assert_eq!(num(t, "xtra1"), i64::from(m.datev), "{ctx}: datev");
            assert_eq!(num(t, "datyp"), i64::from(m.datyp.0), "{ctx}: datyp");
            assert_eq!(num(t, "nbits"), i64::from(m.nbits), "{ctx}: nbits");
            assert_eq!(
                num(t, "swa") as u64,
                m.record_offset.0 / 8 + 1,
                "{ctx}: address"
            );
        }
        Oracle::RmnRead => {
            assert_eq!(num(t, "datev"), i64::from(m.datev), "{ctx}: datev");
            assert_eq!(num(t, "data_type"), i64::from(m.datyp.0), "{ctx}: datyp");
            assert_eq!(num(t, "pack_bits"), i64::from(m.nbits), "{ctx}: nbits");
            assert_eq!(
                num(t, "file_offset") as u64,
                m.record_offset.0,
                "{ctx}: offset"
            );
            let theirs = t["extended_metadata"]
                .as_str()
                .map(|s| serde_json::from_str::<Value>(s).unwrap());
            let mine = m.extended_metadata_json().map(Result::unwrap);
            assert_eq!(theirs, mine, "{ctx}: extended metadata");
        }
    }
}

fn oracles_for(c: Container) -> &'static [Oracle] {
    match c {
        Container::Xdf => &[Oracle::Librmn195, Oracle::RmnRead],
        Container::Rsf => &[Oracle::RmnRead],
    }
}

/// Run every configured oracle on `file`; false when none is configured.
fn check_with_oracles(file: &Path, out: &Path) -> bool {
    check_with_oracles_as(file, out, false)
}

fn check_with_oracles_as(file: &Path, out: &Path, unfinished: bool) -> bool {
    let c = FstFile::open(file).unwrap().container();
    let mut any = false;
    for (i, &o) in oracles_for(c).iter().enumerate() {
        let dir = out.join(format!(
            "{}-{i}",
            file.file_stem().unwrap().to_string_lossy()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        if let Some(n) = compare(o, file, &dir, unfinished) {
            println!("{o:?}: {} — {n} records equal", file.display());
            any = true;
        }
    }
    any
}

fn configured() -> bool {
    let yes = std::env::var_os("FSTGIS_ORACLE_PY").is_some()
        || std::env::var_os("FSTGIS_RMN_READ").is_some();
    if !yes {
        println!("skipped: set FSTGIS_ORACLE_PY / FSTGIS_RMN_READ (scripts/oracle-write.sh)");
    }
    yes
}

/// Keys of record `n`, varied over every field and over the date styles.
fn keys(n: u32) -> RecordKeys {
    let dates = [473_930_000, 0, 10_101_011, 473_930_003, -1_270_466_836];
    RecordKeys {
        nomvar: ["TT", "UU", "gz", "P0", "^^", ">>"][n as usize % 6].into(),
        typvar: ["P", "A", "X@", ""][n as usize % 4].into(),
        etiket: ["", "R1_V710_N", "ANAL_12CHARS", "[]{}"][n as usize % 4].into(),
        dateo: DateStamp(dates[n as usize % dates.len()]),
        deet: [0, 300, 3600, 0xFF_FFFF][n as usize % 4],
        npas: n * 7 % 97,
        ip1: [0, 41_394_464, 12_000, 0xFFF_FFFF][n as usize % 4],
        ip2: n % 48,
        ip3: [0, 5, 0xFFF_FFFF][n as usize % 3],
        grtyp: b"ZLNEGXY#"[n as usize % 8],
        ig1: n * 1234 % 0xFF_FFFF,
        ig2: 0xFF_FFFF - n,
        ig3: n,
        ig4: 0xAB_CDEF,
        ni: 1 + n % 17,
        nj: 1 + n % 5,
        nk: 1 + n % 3,
        ..RecordKeys::default()
    }
}

fn values(n: u32, len: u32) -> Vec<u32> {
    (0..len)
        .map(|i| (n as f32 * 0.5 - i as f32 * 1.25e-3).to_bits())
        .collect()
}

#[test]
fn written_files_read_back_in_librmn() {
    if !configured() {
        return;
    }
    let out = out_dir("written");
    for c in [Container::Xdf, Container::Rsf] {
        let path = out.join(format!("ours-{c}.fst"));
        // Session 1: 300 records (two XDF pages).
        let mut w = FstWriter::create(&path, WriteOptions::new(c)).unwrap();
        for n in 0..300 {
            let k = keys(n);
            w.write_encoded(&k, &Payload::ieee32(&values(n, k.ni * k.nj * k.nk)))
                .unwrap();
        }
        w.close().unwrap();
        assert!(check_with_oracles(&path, &out));
        // Session 2: an append with fst24 replacements, session 3 with fst98 rewrites (in
        // place in XDF when the length allows).
        for (rule, range) in [(Rewrite::Replace, 290..310), (Rewrite::Fst98, 0..6)] {
            let mut w = FstWriter::append(&path, WriteOptions::new(c).rewrite(rule)).unwrap();
            for n in range {
                let k = keys(n);
                let len = k.ni * k.nj * k.nk;
                w.write_encoded(&k, &Payload::ieee32(&values(n + 1000, len)))
                    .unwrap();
            }
            w.close().unwrap();
            check_with_oracles(&path, &out);
        }
        let file = FstFile::open(&path).unwrap();
        assert_eq!(file.records().len(), 310);
    }
}

#[test]
fn extended_metadata_and_file_metadata_read_back_in_rmn_read() {
    if std::env::var_os("FSTGIS_RMN_READ").is_none() {
        println!("skipped: FSTGIS_RMN_READ not set");
        return;
    }
    let out = out_dir("meta");
    let path = out.join("meta.fst");
    let mut w = FstWriter::create(&path, WriteOptions::new(Container::Rsf)).unwrap();
    let file_meta = serde_json::json!({"version": "0.1.0", "institution": "fstgis tests",
        "title": "writer oracle", "description": "file-level metadata"});
    w.write_file_metadata(file_meta.as_object().unwrap().clone())
        .unwrap();
    for n in 0..4 {
        let mut k = keys(n);
        if n % 2 == 0 {
            let mut m = serde_json::Map::new();
            m.insert("comment".into(), format!("record {n}: ünïcödé").into());
            m.insert("answer".into(), Value::from(n));
            k.metadata = Some(m);
        }
        let v = values(n, k.ni * k.nj * k.nk);
        let mut p = Payload::ieee32(&v);
        let f: Vec<f32> = v.iter().map(|b| f32::from_bits(*b)).collect();
        p.bounds = Some((
            f.iter().copied().fold(f32::INFINITY, f32::min).into(),
            f.iter().copied().fold(f32::NEG_INFINITY, f32::max).into(),
        ));
        w.write_encoded(&k, &p).unwrap();
    }
    w.close().unwrap();
    assert!(check_with_oracles(&path, &out));
}

/// Every record of librmn's own fixtures, copied payload and all into both containers (what
/// `fst cp` does): librmn reads the copies like the originals. This covers every datyp librmn
/// wrote there (0–8, +64, +128) without re-encoding.
#[test]
fn copies_of_librmn_records_read_back_in_librmn() {
    if !configured() {
        return;
    }
    let out = out_dir("copies");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut sources: Vec<PathBuf> = ["xdf", "rsf"]
        .iter()
        .filter_map(|d| std::fs::read_dir(fixtures.join(d)).ok())
        .flat_map(|rd| rd.map(|e| e.unwrap().path()))
        .filter(|p| p.extension().is_some_and(|e| e == "fst"))
        .collect();
    sources.sort();
    assert!(!sources.is_empty());
    for src in &sources {
        let Ok(orig) = FstFile::open(src) else {
            continue;
        };
        for c in [Container::Xdf, Container::Rsf] {
            let name = format!("{}-{c}.fst", src.file_stem().unwrap().to_string_lossy());
            let path = out.join(&name);
            let mut w = FstWriter::create(&path, WriteOptions::new(c)).unwrap();
            for rec in orig.records() {
                let words = orig.read_payload_words(rec).unwrap();
                let payload = Payload {
                    words: &words,
                    datyp: Datyp(rec.datyp.0),
                    nbits: rec.nbits,
                    dasiz: rec.dasiz,
                    bounds: None,
                };
                w.write_encoded(&RecordKeys::from_meta(rec), &payload)
                    .unwrap();
            }
            w.close().unwrap();
            // Our reader: the copy decodes like the original.
            let copy = FstFile::open(&path).unwrap();
            assert_eq!(copy.records().len(), orig.records().len());
            for (a, b) in orig.records().iter().zip(copy.records()) {
                assert_eq!(
                    le_bytes(&orig.decode(a).unwrap().samples),
                    le_bytes(&copy.decode(b).unwrap().samples),
                    "{name} record {}",
                    a.index
                );
                assert_eq!((a.datev, a.ip1, a.ig2), (b.datev, b.ip1, b.ig2));
            }
            check_with_oracles(&path, &out);
        }
    }
}

/// The files `write_crash` left after killing its writers open in librmn.
#[test]
fn files_left_by_killed_writers_read_back_in_librmn() {
    let Some(dir) = std::env::var_os("FSTGIS_ORACLE_CRASH_DIR") else {
        println!("skipped: FSTGIS_ORACLE_CRASH_DIR not set");
        return;
    };
    if !configured() {
        return;
    }
    let out = out_dir("crash");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let unfinished = FstFile::open(&path)
            .unwrap()
            .diagnostics()
            .iter()
            .any(|d| d.message.contains("open"));
        assert!(check_with_oracles_as(&path, &out, unfinished));
        n += 1;
    }
    assert!(n > 0);
}

/// librmn 19.5 appends to a file fst-core wrote (one page and a half of records), and we
/// append again after it: both writers take over the other's header, pages and sizes.
#[test]
fn librmn_appends_to_our_files_and_we_to_its() {
    let Some(py) = std::env::var_os("FSTGIS_ORACLE_PY") else {
        println!("skipped: FSTGIS_ORACLE_PY not set");
        return;
    };
    let out = out_dir("append");
    let path = out.join("mixed.fst");
    let mut w = FstWriter::create(&path, WriteOptions::new(Container::Xdf)).unwrap();
    for n in 0..300 {
        let k = keys(n);
        w.write_encoded(&k, &Payload::ieee32(&values(n, k.ni * k.nj * k.nk)))
            .unwrap();
    }
    w.close().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/oracle_append.py");
    let run = |nomvar: &str| {
        let o = Command::new(&py)
            .arg(&script)
            .arg(&path)
            .arg(nomvar)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run("LIB1");
    let mut w = FstWriter::append(&path, WriteOptions::new(Container::Xdf)).unwrap();
    let k = keys(7);
    w.write_encoded(&k, &Payload::ieee32(&values(7, k.ni * k.nj * k.nk)))
        .unwrap();
    w.close().unwrap();
    run("LIB2");
    let file = FstFile::open(&path).unwrap();
    assert!(file.diagnostics().is_empty(), "{:?}", file.diagnostics());
    let names: Vec<_> = file.records()[300..]
        .iter()
        .map(|r| r.nomvar.trimmed().to_string())
        .collect();
    assert_eq!(names, ["LIB1", "UU", "LIB2"]); // keys(7) is UU
    let lib = file.records().last().unwrap();
    let Samples::F32(v) = file.decode(lib).unwrap().samples else {
        panic!()
    };
    assert_eq!(v[8].to_bits(), 11f32.to_bits()); // i = 1, j = 1: 1 + 10
    check_with_oracles(&path, &out);
}

/// We append to every file librmn wrote (deleted and edited records, several segments, a
/// parallel writer's sparse filler segment): the old records stay as librmn listed them and
/// the reference library reads the result.
#[test]
fn appends_to_librmn_files_read_back_in_librmn() {
    if !configured() {
        return;
    }
    let out = out_dir("append-librmn");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for name in [
        "xdf/edits.fst",
        "xdf/append.fst",
        "xdf/empty.fst",
        "rsf/rsf_multi_segment.fst",
        "rsf/rsf_parallel_sparse.fst",
        "rsf/rsf_extended_meta.fst",
        "rsf/xdf_basic.fst",
    ] {
        let path = out.join(name.replace('/', "-"));
        std::fs::copy(fixtures.join(name), &path).unwrap();
        let before: Vec<RecordMeta> = FstFile::open(&path).unwrap().records().to_vec();
        let c = FstFile::open(&path).unwrap().container();
        let mut w = FstWriter::append(&path, WriteOptions::new(c)).unwrap();
        for n in 0..3 {
            let k = keys(n);
            w.write_encoded(&k, &Payload::ieee32(&values(n, k.ni * k.nj * k.nk)))
                .unwrap();
        }
        w.close().unwrap();
        let after = FstFile::open(&path).unwrap();
        assert_eq!(after.records().len(), before.len() + 3, "{name}");
        for (a, b) in before.iter().zip(after.records()) {
            assert_eq!(
                (a.nomvar, a.ip1, a.datev, a.record_offset),
                (b.nomvar, b.ip1, b.datev, b.record_offset),
                "{name}"
            );
        }
        assert!(check_with_oracles(&path, &out), "{name}");
    }
}
