//! The `fst` command, run as a user would, against the librmn fixtures.
// Tests fail loudly on purpose.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_cmp
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fst() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fst"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fst-core/tests/fixtures")
}

fn manifest(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(fixtures().join("xdf").join(name)).unwrap()).unwrap()
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn ls_json_matches_the_manifests() {
    for name in [
        "datyps",
        "levels_dates",
        "edits",
        "grids",
        "names",
        "shapes",
        "append",
    ] {
        let m = manifest(&format!("{name}.json"));
        let path = fixtures().join("xdf").join(format!("{name}.fst"));
        let stdout = run_ok(fst().arg("ls").arg("--json").arg(&path));
        let lines: Vec<Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let records = m["records"].as_array().unwrap();
        assert_eq!(lines.len(), records.len(), "{name}");
        for (ours, e) in lines.iter().zip(records) {
            let ctx = format!("{name} record {}", e["index"]);
            for key in ["nomvar", "typvar", "etiket", "grtyp"] {
                assert_eq!(
                    ours[key].as_str().unwrap(),
                    e[key].as_str().unwrap().trim_end(),
                    "{ctx}: {key}"
                );
            }
            for key in [
                "index", "ni", "nj", "nk", "deet", "npas", "ip1", "ip2", "ip3", "ig1", "ig2",
                "ig3", "ig4", "datyp", "nbits",
            ] {
                assert_eq!(ours[key], e[key], "{ctx}: {key}");
            }
            assert_eq!(ours["dateo"], e["dateo_iso"], "{ctx}: dateo");
            assert_eq!(ours["datev"], e["datev_iso"], "{ctx}: datev");
            let d = &e["ip1_decoded"];
            if d["kind"].as_i64().unwrap_or(-1) >= 0 && !d["value"].is_null() {
                let level = &ours["level"];
                let (ours_v, theirs_v) = (level["value"].as_f64(), d["value"].as_f64());
                assert_eq!(
                    ours_v.map(|v| v as f32),
                    theirs_v.map(|v| v as f32),
                    "{ctx}: level {level} vs {d}"
                );
                assert_eq!(level["kind"], d["kind"], "{ctx}: level kind");
                assert_eq!(
                    level["unit"].as_str().unwrap_or(""),
                    d["kind_str"].as_str().unwrap_or("").trim(),
                    "{ctx}: unit"
                );
            }
        }
    }
}

#[test]
fn ls_filters_like_fstinl() {
    let path = fixtures().join("xdf/datyps.fst");
    let m = manifest("datyps.json");
    let expected = m["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["nomvar"] == "HU  ")
        .count();
    let stdout = run_ok(fst().args(["ls", "--json", "--nomvar", "hu"]).arg(&path));
    assert_eq!(stdout.lines().count(), expected);
    assert!(expected > 0);
    let table = run_ok(fst().args(["ls", "--nomvar", "HU"]).arg(&path));
    assert_eq!(
        table.lines().count(),
        expected + 1,
        "header plus one row per record"
    );
}

/// A level given with its unit matches the records librmn decodes to that level, in either
/// encoding (`--ip1 500` found only the old-style code, `--ip1 500mb` was refused); -1 is
/// librmn's wildcard.
#[test]
fn ls_selects_levels_given_with_their_unit() {
    let path = fixtures().join("xdf/levels_dates.fst");
    let m = manifest("levels_dates.json");
    let indices = |args: &[&str]| -> Vec<u64> {
        run_ok(fst().arg("ls").arg("--json").args(args).arg(&path))
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["index"]
                    .as_u64()
                    .unwrap()
            })
            .collect()
    };
    for (arg, value, kind) in [
        ("500mb", 500.0, 2),
        ("500 hPa", 500.0, 2),
        ("0.995sg", 0.995, 1),
        ("1.5M", 1.5, 4),
        ("10m", 10.0, 0),
        ("0.1 hy", 0.1, 5),
    ] {
        let want: Vec<u64> = m["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                let d = &r["ip1_decoded"];
                d["kind"] == kind && (d["value"].as_f64().unwrap() - value).abs() < 1e-6
            })
            .map(|r| r["index"].as_u64().unwrap())
            .collect();
        let styles: std::collections::BTreeSet<&str> = want
            .iter()
            .map(|&i| {
                m["records"][i as usize]["ip1_decoded"]["style"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        assert!(!want.is_empty(), "{arg}");
        assert_eq!(indices(&["--ip1", arg]), want, "--ip1 {arg} ({styles:?})");
    }
    // 500 mb is stored in both styles in this file.
    assert!(indices(&["--ip1", "500mb"]).len() > indices(&["--ip1", "500"]).len());
    // ip2 in hours: the old-style 12 and the new-style 12 H (record 57, whose ip3 makes it
    // an accumulation range).
    assert_eq!(indices(&["--ip2", "12H"]), [49, 57]);
    assert_eq!(indices(&["--ip1", "-1"]).len(), 117);
    let out = fst()
        .args(["ls", "--ip1", "850 furlongs"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("850mb"));
}

#[test]
fn info_summarises_variables_grids_and_dates() {
    let path = fixtures().join("xdf/levels_dates.fst");
    let v: Value =
        serde_json::from_str(&run_ok(fst().args(["info", "--json"]).arg(&path))).unwrap();
    let m = manifest("levels_dates.json");
    assert_eq!(v["container"], "XDF");
    assert_eq!(v["records"], m["nrecords"]);
    let total: u64 = v["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["records"].as_u64().unwrap())
        .sum();
    assert_eq!(total, m["nrecords"].as_u64().unwrap());
    let text = run_ok(fst().arg("info").arg(&path));
    assert!(text.contains("container:   XDF"));
    assert!(text.contains("valid dates:"));
}

#[test]
fn info_summarises_many_files_past_an_unreadable_one() {
    // `fst info` took one file: `fst info *.fst` was refused.
    let (a, b) = (
        fixtures().join("xdf/levels_dates.fst"),
        fixtures().join("rsf/rsf_basic.fst"),
    );
    let text = run_ok(fst().arg("info").arg(&a).arg(&b));
    assert_eq!(text.matches("container:").count(), 2, "{text}");
    assert!(text.contains("levels_dates.fst") && text.contains("rsf_basic.fst"));
    let v: Value =
        serde_json::from_str(&run_ok(fst().args(["info", "--json"]).arg(&a).arg(&b))).unwrap();
    let list = v.as_array().expect("several files: a JSON array");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["container"], "XDF");
    assert_eq!(list[1]["container"], "RSF");
    // One unreadable among them: the others summarised, the failure said, status 1.
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.fst");
    std::fs::write(&junk, b"not a standard file").unwrap();
    let (text, err) = run_failing(fst().arg("info").arg(&a).arg(&junk).arg(&b));
    assert_eq!(text.matches("container:").count(), 2, "{text}");
    assert!(
        err.contains("junk.fst") && err.contains("1 of 3 files"),
        "{err}"
    );
}

fn read_npy(path: &Path) -> (String, Vec<u64>, Vec<u8>) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[..8], b"\x93NUMPY\x01\x00");
    let hlen = u16::from_le_bytes([b[8], b[9]]) as usize;
    let header = std::str::from_utf8(&b[10..10 + hlen]).unwrap().to_string();
    let shape_text = header
        .split("'shape': (")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    let shape = shape_text
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let descr = header
        .split("'descr': '")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_string();
    (descr, shape, b[10 + hlen..].to_vec())
}

#[test]
fn dump_writes_librmn_values_with_nan_for_missing() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest("datyps.json");
    let blob = std::fs::read(fixtures().join("xdf/datyps.bin")).unwrap();
    let mut checked = 0;
    for e in m["records"].as_array().unwrap() {
        if e["data"]["dtype"] != "f32" {
            continue;
        }
        let index = e["index"].as_u64().unwrap();
        let out = dir.path().join(format!("r{index}.npy"));
        let mask = dir.path().join(format!("m{index}.npy"));
        run_ok(
            fst()
                .arg("dump")
                .arg(fixtures().join("xdf/datyps.fst"))
                .args(["--index", &index.to_string()])
                .arg("--out")
                .arg(&out)
                .arg("--mask")
                .arg(&mask),
        );
        let (descr, shape, bytes) = read_npy(&out);
        assert_eq!(descr, "<f4");
        assert_eq!(
            shape,
            vec![
                e["nk"].as_u64().unwrap(),
                e["nj"].as_u64().unwrap(),
                e["ni"].as_u64().unwrap()
            ]
        );
        let (_, _, mask_bytes) = read_npy(&mask);
        let off = e["data"]["offset"].as_u64().unwrap() as usize;
        let n = e["data"]["nbytes"].as_u64().unwrap() as usize;
        let flag = m["missing_value_flags"]["float32"].as_f64().unwrap() as f32;
        for (k, (ours, theirs)) in bytes
            .chunks_exact(4)
            .zip(blob[off..off + n].chunks_exact(4))
            .enumerate()
        {
            let ours = f32::from_le_bytes(ours.try_into().unwrap());
            let theirs = f32::from_le_bytes(theirs.try_into().unwrap());
            let datyp = e["datyp"].as_u64().unwrap();
            if datyp & 64 != 0 && theirs == flag {
                assert!(
                    ours.is_nan(),
                    "record {index} point {k}: missing should be NaN"
                );
                assert_eq!(mask_bytes[k], 1);
            } else {
                assert_eq!(ours.to_bits(), theirs.to_bits(), "record {index} point {k}");
                assert_eq!(mask_bytes[k], 0);
            }
        }
        checked += 1;
    }
    assert!(checked > 40);
}

#[test]
fn dump_flags_missing_integers_and_gives_raw_records_their_elements() {
    // Integer records with missing values wrote their stored plug values (numbers that look
    // like data): now librmn's missing flags, as its missing-value mode returns them (the
    // manifest's values). Raw 8- and 64-bit records were flat arrays of words: now the
    // elements their writer stored, shaped like the record, whose bytes are those words.
    let dir = tempfile::tempdir().unwrap();
    let m = manifest("datyps.json");
    let blob = std::fs::read(fixtures().join("xdf/datyps.bin")).unwrap();
    let mut checked = 0;
    for e in m["records"].as_array().unwrap() {
        let datyp = e["datyp"].as_u64().unwrap();
        let dtype = e["data"]["dtype"].as_str().unwrap_or("");
        let flagged_int = datyp & 64 != 0 && matches!(dtype, "u32" | "i32");
        let raw = datyp % 64 == 0 && matches!(e["nbits"].as_u64(), Some(8 | 64));
        if !flagged_int && !raw {
            continue;
        }
        let index = e["index"].as_u64().unwrap();
        let out = dir.path().join(format!("r{index}.npy"));
        run_ok(
            fst()
                .arg("dump")
                .arg(fixtures().join("xdf/datyps.fst"))
                .args(["--index", &index.to_string(), "--out"])
                .arg(&out),
        );
        let (descr, shape, bytes) = read_npy(&out);
        let record_shape = vec![
            e["nk"].as_u64().unwrap(),
            e["nj"].as_u64().unwrap(),
            e["ni"].as_u64().unwrap(),
        ];
        assert_eq!(shape, record_shape, "record {index}");
        if raw {
            let want = if e["nbits"] == 8 { "|u1" } else { "<u8" };
            assert_eq!(descr, want, "record {index}");
        }
        let off = e["data"]["offset"].as_u64().unwrap() as usize;
        assert_eq!(
            bytes[..],
            blob[off..off + bytes.len()],
            "record {index} ({descr})"
        );
        checked += 1;
    }
    assert_eq!(checked, 7, "5 integer records with missing values, 2 raw");
}

#[test]
fn errors_name_the_file_and_exit_non_zero() {
    let out = fst()
        .args(["ls", "/nonexistent/model.fst"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/model.fst"), "{err}");
    // (It said "cannot read at byte 0".)
    assert!(
        err.contains("cannot open") && err.contains("No such file"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.fst");
    std::fs::write(&junk, b"this is not a standard file at all, just text").unwrap();
    let out = fst().arg("info").arg(&junk).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("junk.fst") && err.contains("not an RPN standard file"),
        "{err}"
    );

    let out = fst()
        .arg("dump")
        .arg(fixtures().join("xdf/edits.fst"))
        .args(["--index", "99", "--out"])
        .arg(dir.path().join("x.npy"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no record 99"));
}

/// `fst ls *.fst` with one bad file among them lists every other file, names the bad one,
/// and fails at the end (it stopped at the first bad file, the rest unlisted).
#[test]
fn ls_of_many_files_lists_past_an_unreadable_one() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.fst");
    std::fs::write(&junk, b"not a standard file").unwrap();
    let (a, b) = (
        fixtures().join("xdf/edits.fst"),
        fixtures().join("rsf/rsf_basic.fst"),
    );
    for json in [false, true] {
        let mut cmd = fst();
        cmd.arg("ls").args(["--nomvar", "TT"]).arg(&a).arg(&junk);
        cmd.arg(dir.path().join("missing.fst")).arg(&b);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().unwrap();
        assert!(!out.status.success());
        let (stdout, stderr) = (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        );
        assert!(stdout.contains("rsf_basic.fst"), "{stdout}");
        assert_eq!(stdout.matches("R1_V710_N").count(), 1, "{stdout}");
        assert_eq!(stdout.matches("EDITS").count(), 2, "{stdout}");
        assert!(
            stderr.contains("junk.fst")
                && stderr.contains("missing.fst")
                && stderr.contains("2 of 4 files could not be read"),
            "{stderr}"
        );
    }
}

#[test]
fn rsf_and_xdf_copies_list_identically() {
    let rsf = run_ok(
        fst()
            .args(["ls", "--json"])
            .arg(fixtures().join("rsf/rsf_basic.fst")),
    );
    let xdf = run_ok(
        fst()
            .args(["ls", "--json"])
            .arg(fixtures().join("rsf/xdf_basic.fst")),
    );
    assert_eq!(rsf.lines().count(), 7);
    // Neither record carries extended metadata, the only container-specific field.
    assert_eq!(rsf, xdf);
}

/// stdout and stderr of a command that must exit with status 1 (what it could list is still
/// printed).
fn run_failing(cmd: &mut Command) -> (String, String) {
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{cmd:?}: {err}");
    (String::from_utf8(out.stdout).unwrap(), err)
}

#[test]
fn a_truncated_rsf_file_is_listed_reported_failed_and_recoverable() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixtures().join("rsf/rsf_multi_segment.fst")).unwrap();
    let cut = dir.path().join("crashed.fst");
    // Lose the end of the last segment's directory: its records are complete but unlisted.
    // The records that are listed are printed, the loss is said, and the exit status says
    // the listing is incomplete (it was 0: a script took the file for a whole one).
    std::fs::write(&cut, &bytes[..bytes.len() - 200]).unwrap();
    let (info, err) = run_failing(fst().arg("info").arg(&cut));
    assert!(info.contains("in no directory"), "{info}");
    assert!(err.contains("is truncated at byte"), "{err}");
    let (listed, err) = run_failing(fst().args(["ls", "--json"]).arg(&cut));
    assert!(err.contains("crashed.fst is truncated"), "{err}");
    assert!(err.contains("--recover"), "{err}");
    let visible = listed.lines().count();
    assert!(visible > 0);
    // Among other files: the others are listed, and the status still fails.
    let whole = fixtures().join("rsf/rsf_basic.fst");
    let (_, err) = run_failing(fst().arg("ls").arg(&cut).arg(&whole));
    assert!(err.contains("1 of 2 files is truncated"), "{err}");
    // A file a writer left unfinished is not truncated: notes, status 0 (the fixture's
    // unfinished segment is tested in fst-core); an intact file: no note.
    let intact = run_ok(fst().arg("info").arg(&whole));
    assert!(!intact.contains("note:"), "{intact}");
    let recovered = run_ok(fst().args(["ls", "--json", "--recover"]).arg(&cut));
    let all = run_ok(
        fst()
            .args(["ls", "--json"])
            .arg(fixtures().join("rsf/rsf_multi_segment.fst")),
    )
    .lines()
    .count();
    assert!(visible < all);
    assert_eq!(recovered.lines().count(), all);
    assert_eq!(
        recovered
            .lines()
            .filter(|l| l.contains("\"recovered\":true"))
            .count(),
        all - visible
    );
}

#[test]
fn grid_and_coords_describe_a_record_geography() {
    let path = fixtures().join("rsf/rsf_basic.fst");
    let v: Value = serde_json::from_str(&run_ok(
        fst().args(["grid", "--json", "--index", "2"]).arg(&path),
    ))
    .unwrap();
    assert_eq!(v["grtyp"], "Z");
    assert_eq!((v["ni"].as_u64(), v["nj"].as_u64()), (Some(48), Some(36)));
    assert!(v["proj"].as_str().unwrap().contains("+proj=longlat"));
    assert!(v["wkt"].as_str().unwrap().starts_with("GEOGCRS"));
    assert_eq!(v["ref_grtyp"], "L");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.npz");
    run_ok(
        fst()
            .args(["coords", "--index", "2"])
            .arg(&path)
            .arg("--out")
            .arg(&out),
    );
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[..2], b"PK");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("lat.npy") && text.contains("lon.npy"));
    assert!(bytes.len() > 2 * 8 * 48 * 36, "two float64 arrays of 48x36");
}

#[test]
fn grid_publishes_rotated_grids_inside_their_frame() {
    // grids.fst record 17: a global E grid (90 columns, first and last on one meridian). Its
    // rotated longitudes run over -180..180, so no CRS inverse loses the half past 180.
    let path = fixtures().join("xdf/grids.fst");
    let v: Value = serde_json::from_str(&run_ok(
        fst().args(["grid", "--json", "--index", "17"]).arg(&path),
    ))
    .unwrap();
    assert_eq!(v["grtyp"], "E");
    assert!(v["proj"].as_str().unwrap().contains("+proj=ob_tran"));
    let gt: Vec<f64> = v["geotransform"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let (first, last) = (gt[0] + gt[1] / 2.0, gt[0] + gt[1] * 89.5);
    assert!(
        (first + 180.0).abs() < 1e-9 && (last - 180.0).abs() < 1e-9,
        "{gt:?}"
    );
}

#[test]
fn info_describes_the_vertical_coordinates() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("info-vertical");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.fst");
    fst_testkit::write_model_levels_file(&path);
    let out = fst().args(["info"]).arg(&path).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("vertical:    1\n  !! #4 (ip1 0, ip2 0): vcode 5001 (hybrid, unstaggered (GEM 3)), ptop 1000 Pa, pref 80000 Pa, rcoef 1.6, reference P0, 2 levels"),
        "{text}"
    );
    let out = fst().args(["info", "--json"]).arg(&path).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &v["vertical"][0];
    assert_eq!(
        (c["vcode"].as_u64(), c["rcoef"][0].as_f64()),
        (Some(5001), Some(1.6))
    );
    assert_eq!(c["momentum_ip1"].as_array().map(Vec::len), Some(2));
}
