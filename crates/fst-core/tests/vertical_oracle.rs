//! Vertical grid descriptors (`!!` records) against ECCC's vgrid (libvgrid 6.4.2 in the
//! librmn 19.5 venv, `bench/vgrid_oracle.py`), both ways:
//!
//! - vgrid builds and writes one descriptor of every vcode it can build (1001, 1002, 2001,
//!   5001–5005, 5100, 21001 with and without SLEVE, 21002 with and without SLEVE); our reader
//!   and [`VerticalDescriptor::from_field`] give every field vgrid's getters give, the same
//!   pressures/heights as `vgd_levels` at three surface values, the same record keys, and
//!   re-encode the table bit for bit;
//! - we write those descriptors, and one of our own, with [`FstWriter::write_vertical`] and
//!   vgrid's `vgd_read` finds each one with the same getters and levels.
//!
//! Runs when `FSTGIS_ORACLE_PY` names the oracle venv's python (`scripts/oracle-write.sh`);
//! otherwise it says it is skipped. The round trip through our own reader, in both
//! containers, always runs.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::float_cmp,
    clippy::too_many_lines
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use fst_core::vertical::{Vcode, VerticalDescriptor, VerticalLevel};
use fst_core::write::{FstWriter, WriteOptions};
use fst_core::{Container, FstFile, Query};
use serde_json::Value;

fn out_dir(name: &str) -> PathBuf {
    let base = option_env!("CARGO_TARGET_TMPDIR")
        .map_or_else(std::env::temp_dir, PathBuf::from)
        .join("vertical-oracle")
        .join(name);
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    base
}

fn oracle(mode: &str, file: &Path, json: &Path) -> Option<Value> {
    let Some(py) = std::env::var_os("FSTGIS_ORACLE_PY") else {
        println!("skipped: FSTGIS_ORACLE_PY not set (scripts/oracle-write.sh runs this test against vgrid 6.4.2)");
        return None;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/vgrid_oracle.py");
    let out = Command::new(py)
        .arg(&script)
        .arg(mode)
        .arg(file)
        .arg(json)
        .output()
        .unwrap();
    let man: Value = serde_json::from_slice(&std::fs::read(json).unwrap_or_default())
        .unwrap_or_else(|e| {
            panic!(
                "vgrid_oracle.py {mode}: no manifest ({e}); stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    assert!(
        man["ok"].as_bool() == Some(true) && out.status.success(),
        "vgrid_oracle.py {mode} {}: {}",
        file.display(),
        man["error"]
    );
    Some(man)
}

fn f64_bits(v: &Value) -> f64 {
    f64::from_bits(v.as_u64().unwrap_or_else(|| panic!("not float bits: {v}")))
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(f64_bits).collect()
}

fn ints(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| u32::try_from(x.as_u64().unwrap()).unwrap())
        .collect()
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Every getter vgrid answered for descriptor `d` (manifest entry `m`) agrees with our
/// decoded descriptor, and so do vgrid's levels. Returns how many values were compared.
fn check_against_vgrid(case: &str, ours: &VerticalDescriptor, m: &Value) -> usize {
    let get = &m["get"];
    let mut n = 0;
    let ctx = |what: &str| format!("{case}: {what}");
    assert_eq!(
        (ours.vcode.kind, ours.vcode.version),
        (
            get["KIND"].as_u64().unwrap() as u32,
            get["VERS"].as_u64().unwrap() as u32
        ),
        "{}",
        ctx("vcode")
    );
    let sets: [(&str, &[VerticalLevel]); 3] = [
        ("M", &ours.momentum),
        ("T", &ours.thermo),
        ("W", &ours.vertical_velocity),
    ];
    for (s, levels) in sets {
        let ip1: Vec<u32> = levels.iter().map(|l| l.ip1).collect();
        if let Some(v) = get.get(format!("VIP{s}")) {
            assert_eq!(ip1, ints(v), "{}", ctx(&format!("VIP{s}")));
            n += ip1.len();
        }
        for (key, term) in [("CA", 0), ("CB", 1), ("CC", 2)] {
            if let Some(v) = get.get(format!("{key}_{s}")) {
                let ours: Vec<f64> = levels.iter().map(|l| [l.a, l.b, l.c][term]).collect();
                assert_eq!(
                    bits(&ours),
                    bits(&floats(v)),
                    "{}",
                    ctx(&format!("{key}_{s}"))
                );
                n += ours.len();
            }
        }
        if let Some(v) = get.get(format!("DIP{s}")) {
            assert_eq!(
                levels.last().map(|l| l.ip1),
                Some(v.as_u64().unwrap() as u32),
                "{}",
                ctx(&format!("DIP{s}"))
            );
            n += 1;
        }
    }
    for (key, ours) in [("PTOP", ours.ptop), ("PREF", ours.pref)] {
        if let Some(v) = get.get(key) {
            assert_eq!(
                ours.map(f64::to_bits),
                Some(f64_bits(v).to_bits()),
                "{}",
                ctx(key)
            );
            n += 1;
        }
    }
    // vgrid gives PREF exactly for the coordinates that store it.
    assert_eq!(
        ours.pref.is_some(),
        get.get("PREF").is_some(),
        "{}",
        ctx("PREF presence")
    );
    for (i, r) in ours.rcoef.iter().enumerate() {
        if let Some(r) = r {
            let key = format!("RC_{}", i + 1);
            assert_eq!(
                f64::from(*r).to_bits(),
                f64_bits(&get[&key]).to_bits(),
                "{}",
                ctx(&key)
            );
            n += 1;
        }
    }
    assert_eq!(
        ours.reference.as_deref(),
        get.get("RFLD")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty()),
        "{}",
        ctx("RFLD")
    );
    assert_eq!(
        ours.reference_large_scale.as_deref(),
        get.get("RFLS")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty()),
        "{}",
        ctx("RFLS")
    );
    // vgrid's own table is the one we encode.
    let table = ours.to_table().unwrap();
    let vtbl = &get["VTBL"];
    let shape = ints(&vtbl["shape"]);
    assert_eq!(shape, vec![table.ni, table.nj, 1], "{}", ctx("VTBL shape"));
    assert_eq!(
        bits(&table.values),
        vtbl["bits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_u64().unwrap())
            .collect::<Vec<_>>(),
        "{}",
        ctx("VTBL")
    );
    n += table.values.len();

    // Levels: our formula at vgrid's surface values.
    let lv = &m["levels"];
    let (ps, ps_ls) = (floats(&lv["ps"]), floats(&lv["ps_ls"]));
    let mut worst = 0.0f64;
    for (s, levels) in sets {
        let Some(rows) = lv.get(format!("VIP{s}")) else {
            continue;
        };
        let rows = rows
            .as_array()
            .unwrap_or_else(|| panic!("{}", ctx(&format!("levels {s}: {rows}"))));
        for (p, row) in rows.iter().enumerate() {
            for (l, want) in levels.iter().zip(floats(row)) {
                let f = ours.formula(l.ip1).unwrap();
                let got = f.evaluate(ps[p], Some(ps_ls[p])).unwrap();
                let rel = ((got - want) / want.abs().max(1.0)).abs();
                worst = worst.max(rel);
                assert!(
                    rel <= 1e-13,
                    "{}: ip1 {} at {}: ours {got} ({f:?}), vgrid {want}",
                    ctx("levels"),
                    l.ip1,
                    ps[p]
                );
                n += 1;
            }
        }
    }
    println!("{case}: {n} values equal (levels within {worst:.1e} relative)");
    n
}

/// The `!!` records of `path`, by (ip1, ip2), decoded.
fn our_descriptors(
    path: &Path,
) -> BTreeMap<(u32, u32), (VerticalDescriptor, Vec<f64>, fst_core::RecordMeta)> {
    let file = FstFile::open(path).unwrap();
    file.find(&Query::new().nomvar("!!"))
        .map(|rec| {
            let field = file.decode(rec).unwrap();
            let d = VerticalDescriptor::from_field(&field)
                .unwrap_or_else(|e| panic!("{}: ip1 {}: {e}", path.display(), rec.ip1));
            let values = match field.samples {
                fst_core::codec::Samples::F64(v) => v,
                other => panic!("{other:?}"),
            };
            ((rec.ip1, rec.ip2), (d, values, rec.clone()))
        })
        .collect()
}

/// Descriptors vgrid 6.4.2 cannot build (1003, 5999), with made-up coefficients.
fn our_unbuildable() -> Vec<VerticalDescriptor> {
    use fst_core::ip::{encode_ip, IpStyle, LevelKind};
    let lev = |h: f32, kind: LevelKind, a: f64, b: f64| VerticalLevel {
        ip1: encode_ip(h, kind, IpStyle::New).unwrap(),
        a,
        b,
        c: 0.0,
    };
    let mut n1003 = VerticalDescriptor::new(Vcode::HYBRID_NORMALIZED);
    n1003.ptop = Some(1000.0);
    n1003.pref = Some(80000.0);
    n1003.rcoef[0] = Some(1.6);
    n1003.momentum = vec![
        lev(0.1, LevelKind::Sigma, 900.0, 0.05),
        lev(0.6, LevelKind::Sigma, 450.0, 0.55),
        lev(1.0, LevelKind::Sigma, 0.0, 1.0),
    ];
    let mut n5999 = VerticalDescriptor::new(Vcode::HYBRID_OTHER);
    n5999.momentum = vec![
        lev(0.2, LevelKind::Hybrid, 2000.0, 0.1),
        lev(0.7, LevelKind::Hybrid, 800.0, 0.69),
        lev(10.0, LevelKind::HeightAboveGround, 0.0, 1.0),
    ];
    vec![n1003.with_shared_levels(), n5999.with_shared_levels()]
}

/// Our own staggered hybrid (not built by vgrid): 5002 with made-up coefficients.
fn our_5002() -> VerticalDescriptor {
    let mut d = VerticalDescriptor::new(Vcode::HYBRID_STAGGERED);
    d.ptop = Some(1000.0);
    d.pref = Some(80000.0);
    d.rcoef = [Some(1.5), Some(12.0), None, None];
    let ip = |h: f32| {
        fst_core::ip::encode_ip(
            h,
            fst_core::ip::LevelKind::Hybrid,
            fst_core::ip::IpStyle::New,
        )
        .unwrap()
    };
    let lev = |h: f32, a: f64, b: f64| VerticalLevel {
        ip1: ip(h),
        a,
        b,
        c: 0.0,
    };
    d.momentum = vec![
        lev(0.1, 9.1, 0.01),
        lev(0.6, 10.9, 0.4),
        lev(1.0, 11.29, 1.0),
    ];
    d.thermo = vec![
        lev(0.05, 8.9, 0.0),
        lev(0.3, 10.2, 0.1),
        lev(0.8, 11.1, 0.7),
        lev(1.0, 11.29, 1.0),
    ];
    d.with_shared_levels()
}

#[test]
fn descriptors_round_trip_through_our_writer_and_reader() {
    let dir = out_dir("ours");
    let d = our_5002();
    let mut sigma = VerticalDescriptor::new(Vcode::SIGMA);
    sigma.momentum = vec![
        VerticalLevel {
            ip1: 7000,
            a: 0.0,
            b: 0.5,
            c: 0.0,
        },
        VerticalLevel {
            ip1: 12000,
            a: 0.0,
            b: 1.0,
            c: 0.0,
        },
    ];
    for c in [Container::Xdf, Container::Rsf] {
        let path = dir.join(format!("{c:?}.fst"));
        let mut w = FstWriter::create(&path, WriteOptions::new(c)).unwrap();
        w.write_vertical(&d, 0, 0).unwrap();
        w.write_vertical(&sigma, 1, 0).unwrap();
        // A descriptor vgrid could not write is refused, and names the record.
        let mut bad = d.clone();
        bad.pref = None;
        let e = w.write_vertical(&bad, 2, 0).unwrap_err();
        let source = std::error::Error::source(&e).map(ToString::to_string);
        assert!(
            e.to_string().contains("\"!!\"")
                && source.as_deref().is_some_and(|s| s.contains("pref")),
            "{e}: {source:?}"
        );
        w.close().unwrap();
        let read = our_descriptors(&path);
        assert_eq!(read.len(), 2);
        let (back, values, rec) = &read[&(0, 0)];
        assert_eq!(back, &d);
        assert_eq!(bits(values), bits(&d.to_table().unwrap().values));
        assert_eq!(
            (rec.typvar.trimmed(), rec.etiket.trimmed(), rec.grtyp),
            ("X", "STG_CP_GEMV4", b'X')
        );
        assert_eq!(
            [rec.ig1, rec.ig2, rec.ig3, rec.ig4],
            [5002, 10000, 150, 1200]
        );
        assert_eq!((rec.datyp.0, rec.nbits), (5, 64));
        assert_eq!(read[&(1, 0)].0, sigma.clone().with_shared_levels());
    }
}

#[test]
fn vgrid_descriptors_decode_and_reencode_bit_for_bit() {
    let dir = out_dir("from-vgrid");
    let (file, json) = (dir.join("vgrid.fst"), dir.join("vgrid.json"));
    let Some(man) = oracle("write", &file, &json) else {
        return;
    };
    let ours = our_descriptors(&file);
    let descs = man["descriptors"].as_array().unwrap();
    assert_eq!(
        ours.len(),
        descs.len(),
        "one `!!` record per descriptor vgrid wrote"
    );
    let mut codes = Vec::new();
    for m in descs {
        let case = m["case"].as_str().unwrap();
        let key = (
            m["ip1"].as_u64().unwrap() as u32,
            m["ip2"].as_u64().unwrap() as u32,
        );
        let (d, values, rec) = &ours[&key];
        check_against_vgrid(case, d, m);
        // Re-encoding gives vgrid's record back: values and keys.
        let table = d.to_table().unwrap();
        assert_eq!(bits(&table.values), bits(values), "{case}: table");
        assert_eq!(
            (table.ni, table.nj, 1),
            (rec.ni, rec.nj, rec.nk),
            "{case}: shape"
        );
        assert_eq!(d.etiket(), rec.etiket.trimmed(), "{case}: etiket");
        assert_eq!(
            d.igs().unwrap(),
            [rec.ig1, rec.ig2, rec.ig3, rec.ig4],
            "{case}: ig1..ig4"
        );
        assert_eq!(
            (
                rec.typvar.trimmed(),
                rec.grtyp,
                rec.ip3,
                rec.datyp.0,
                rec.nbits,
                rec.dateo()
            ),
            ("X", b'X', 0, 5, 64, 0),
            "{case}: keys"
        );
        codes.push(d.vcode.code());
    }
    for code in [
        1001, 1002, 2001, 5001, 5002, 5003, 5004, 5005, 5100, 21001, 21002,
    ] {
        assert!(codes.contains(&code), "vcode {code} not covered: {codes:?}");
    }
}

#[test]
fn vgrid_reads_the_descriptors_we_write() {
    let dir = out_dir("to-vgrid");
    let (src, src_json) = (dir.join("vgrid.fst"), dir.join("vgrid.json"));
    let Some(man) = oracle("write", &src, &src_json) else {
        return;
    };
    // Ours: every descriptor vgrid wrote, decoded and written again under new ip1/ip2, and
    // one vgrid never saw.
    let path = dir.join("ours.fst");
    let mut w = FstWriter::create(&path, WriteOptions::new(Container::Xdf)).unwrap();
    let mut expected = BTreeMap::new();
    for (i, ((ip1, ip2), (d, _, _))) in our_descriptors(&src).into_iter().enumerate() {
        let key = (100 + i as u32, 3);
        w.write_vertical(&d, key.0, key.1).unwrap();
        let m = man["descriptors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["ip1"] == ip1 && m["ip2"] == ip2)
            .unwrap()
            .clone();
        expected.insert(key, (d, Some(m)));
    }
    w.write_vertical(&our_5002(), 999, 4).unwrap();
    expected.insert((999, 4), (our_5002(), None));
    for (i, d) in our_unbuildable().into_iter().enumerate() {
        let key = (1000 + i as u32, 4);
        w.write_vertical(&d, key.0, key.1).unwrap();
        expected.insert(key, (d, None));
    }
    w.close().unwrap();

    let json = dir.join("read.json");
    let read = oracle("read", &path, &json).unwrap();
    let got = read["descriptors"].as_array().unwrap();
    assert_eq!(got.len(), expected.len());
    for r in got {
        let key = (
            r["ip1"].as_u64().unwrap() as u32,
            r["ip2"].as_u64().unwrap() as u32,
        );
        let (d, vgrid_own) = &expected[&key];
        let case = format!("ours ip1={} ({})", key.0, d.vcode);
        // vgrid reads back what we meant …
        check_against_vgrid(&case, d, r);
        // … and, for what vgrid itself built, exactly what it said of its own record.
        if let Some(m) = vgrid_own {
            for (k, v) in m["get"].as_object().unwrap() {
                if k == "IP_1" || k == "IP_2" {
                    continue;
                }
                assert_eq!(&r["get"][k], v, "{case}: vgd_get {k}");
            }
            assert_eq!(r["levels"], m["levels"], "{case}: vgd_levels");
        }
        assert_eq!(r["keys"]["etiket"], d.etiket(), "{case}");
    }
}
