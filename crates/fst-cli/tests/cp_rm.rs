//! `fst cp` and `fst rm`, run as a user would, on the librmn fixtures: copies keep keys and
//! values bit for bit across containers, repacking stays within the quantisation, positional
//! records come along, deletion removes only the selection, bad options fail clearly and leave
//! the destination as it was. With `FSTGIS_ORACLE_PY` / `FSTGIS_RMN_READ` set (as
//! `scripts/oracle-write.sh` sets them), librmn 19.5 and the newest librmn read the copies.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_cmp
)]

use fst_testkit::le_bytes;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fst_core::codec::Samples;
use fst_core::{Container, FstFile, RecordMeta};
use serde_json::Value;

fn fst() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fst"))
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fst-core/tests/fixtures")
        .join(rel)
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cp-rm")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut c = fst();
    for a in args {
        c.arg(a);
    }
    c.output().unwrap()
}

fn ok(args: &[&dyn AsRef<std::ffi::OsStr>]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "fst failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The progress bar stays hidden when stderr is not a terminal.
    assert!(!out.stderr.contains(&0x1b), "terminal codes on a pipe");
    String::from_utf8(out.stdout).unwrap()
}

/// The stderr of a command that must fail.
fn fails(args: &[&dyn AsRef<std::ffi::OsStr>]) -> String {
    let out = run(args);
    assert!(!out.status.success(), "fst succeeded but should not");
    String::from_utf8(out.stderr).unwrap()
}

fn floats(s: &Samples) -> Vec<f64> {
    match s {
        Samples::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
        Samples::F64(v) => v.clone(),
        other => panic!("unexpected {:?}", other.sample_type()),
    }
}

fn key_tuple(r: &RecordMeta) -> (String, String, String, [u32; 14], i32, u8, u8) {
    (
        r.nomvar.trimmed().to_string(),
        r.typvar.trimmed().to_string(),
        r.etiket.trimmed().to_string(),
        [
            r.ni,
            r.nj,
            r.nk,
            r.deet,
            r.npas,
            r.ip1,
            r.ip2,
            r.ip3,
            r.ig1,
            r.ig2,
            r.ig3,
            r.ig4,
            u32::from(r.grtyp),
            u32::from(r.dasiz),
        ],
        r.datev,
        r.datyp.0,
        r.nbits,
    )
}

/// Every record of `copy` equals the record of `src` at the same position in `expect`, keys
/// and decoded values bit for bit.
fn assert_same_records(src: &FstFile, expect: &[&RecordMeta], copy: &FstFile, ctx: &str) {
    assert_eq!(copy.records().len(), expect.len(), "{ctx}: record count");
    for (a, b) in expect.iter().zip(copy.records()) {
        assert_eq!(key_tuple(a), key_tuple(b), "{ctx}: keys of {}", a.nomvar);
        let (va, vb) = (src.decode(a).unwrap(), copy.decode(b).unwrap());
        assert_eq!(
            le_bytes(&va.samples),
            le_bytes(&vb.samples),
            "{ctx}: values of {}",
            a.nomvar
        );
        assert_eq!(va.missing, vb.missing, "{ctx}: missing of {}", a.nomvar);
    }
}

/// The nomvars of a file's records, in order.
fn names(path: &Path) -> Vec<String> {
    FstFile::open(path)
        .unwrap()
        .records()
        .iter()
        .map(|r| r.nomvar.trimmed().to_string())
        .collect()
}

fn other(c: Container) -> &'static str {
    match c {
        Container::Xdf => "rsf",
        Container::Rsf => "xdf",
    }
}

#[test]
fn copies_between_containers_bit_for_bit_both_ways() {
    let dir = scratch("between");
    // datyps.fst holds every datyp librmn 19.5 writes; rsf_basic is RSF with a Z grid.
    for src_rel in [
        "xdf/datyps.fst",
        "xdf/grids.fst",
        "rsf/rsf_basic.fst",
        "rsf/rsf_extended_meta.fst",
    ] {
        let src_path = fixture(src_rel);
        let src = FstFile::open(&src_path).unwrap();
        let stem = src_rel.replace('/', "_");
        let there = dir.join(format!("{stem}.there"));
        let back = dir.join(format!("{stem}.back"));
        ok(&[&"cp", &src_path, &there, &"--to", &other(src.container())]);
        let copy = FstFile::open(&there).unwrap();
        assert_ne!(copy.container(), src.container(), "{src_rel}");
        let all: Vec<&RecordMeta> = src.records().iter().collect();
        assert_same_records(&src, &all, &copy, &format!("{src_rel} converted"));
        // And back.
        let to_src = other(copy.container());
        ok(&[&"cp", &there, &back, &"--to", &to_src]);
        let back_file = FstFile::open(&back).unwrap();
        assert_eq!(back_file.container(), src.container());
        assert_same_records(&src, &all, &back_file, &format!("{src_rel} back"));
        // Without --to, a new file takes the source's container.
        let same = dir.join(format!("{stem}.same"));
        let first = src.records()[0].nomvar.trimmed().to_string();
        ok(&[&"cp", &there, &same, &"--nomvar", &first]);
        assert_eq!(FstFile::open(&same).unwrap().container(), copy.container());
        check_with_oracles(&there);
        check_with_oracles(&back);
    }
}

#[test]
fn rsf_copies_keep_extended_metadata() {
    let dir = scratch("meta");
    let src_path = fixture("rsf/rsf_extended_meta.fst");
    let dest = dir.join("copy.fst");
    ok(&[&"cp", &src_path, &dest, &"--nomvar", &"TT"]);
    let src = FstFile::open(&src_path).unwrap();
    let copy = FstFile::open(&dest).unwrap();
    let theirs = src.records()[1].extended_metadata_json().unwrap().unwrap();
    let ours = copy.records()[0].extended_metadata_json().unwrap().unwrap();
    let (Value::Object(t), Value::Object(o)) = (theirs, ours) else {
        panic!("metadata is not an object");
    };
    assert!(t.len() > 2, "the fixture has metadata beyond data and size");
    for (k, v) in &t {
        if k != "data" {
            assert_eq!(o.get(k), Some(v), "key {k}");
        }
    }
}

#[test]
fn selection_copies_only_matching_records_and_their_grid_once() {
    let dir = scratch("select");
    let src_path = fixture("xdf/grids.fst");
    let src = FstFile::open(&src_path).unwrap();
    for to in ["xdf", "rsf"] {
        let dest = dir.join(format!("tt-z.{to}"));
        ok(&[
            &"cp",
            &src_path,
            &dest,
            &"--nomvar",
            &"TT",
            &"--grtyp",
            &"Z",
            &"--to",
            &to,
        ]);
        let copy = FstFile::open(&dest).unwrap();
        let names: Vec<&str> = copy.records().iter().map(|r| r.nomvar.trimmed()).collect();
        // Three TT share one grid: its `>>` and `^^` come along once.
        assert_eq!(names, ["TT", "TT", "TT", ">>", "^^"], "{to}");
        let expect: Vec<&RecordMeta> = src
            .records()
            .iter()
            .filter(|r| {
                (r.grtyp == b'Z' && r.nomvar.trimmed() == "TT")
                    || (r.ip1 == 77730 && r.ip2 == 94812)
            })
            .collect();
        assert_same_records(&src, &expect, &copy, to);
        // The copy's grid resolves from the copied positional records.
        ok(&[&"grid", &dest, &"--index", &"0"]);
        check_with_oracles(&dest);
    }
    // A U grid brings its `^>`; a grid selected with its positional records copies them once.
    let dest = dir.join("u.fst");
    ok(&[&"cp", &src_path, &dest, &"--grtyp", &"U"]);
    assert_eq!(names(&dest), ["TT", "^>"]);
    let dest = dir.join("mx-and-grid.fst");
    ok(&[&"cp", &src_path, &dest, &"--ip1", &"85930"]);
    ok(&[&"cp", &src_path, &dest, &"--append", &"--nomvar", &"MX"]);
    assert_eq!(
        names(&dest),
        [">>", "^^", "MX"],
        "append adds the field, not a second copy of the grid already there"
    );
    let dest2 = dir.join("mx-skip.fst");
    ok(&[&"cp", &src_path, &dest2, &"--ip1", &"85930"]);
    ok(&[
        &"cp",
        &src_path,
        &dest2,
        &"--append",
        &"--rewrite",
        &"skip",
        &"--nomvar",
        &"MX",
    ]);
    assert_eq!(
        names(&dest2),
        [">>", "^^", "MX"],
        "skip keeps the grid already there"
    );
}

#[test]
fn new_keys_apply_to_the_selection_not_to_positional_records() {
    let dir = scratch("keys");
    let src_path = fixture("xdf/grids.fst");
    let dest = dir.join("keys.fst");
    ok(&[
        &"cp",
        &src_path,
        &dest,
        &"--nomvar",
        &"MX",
        &"--set-nomvar",
        &"MY",
        &"--set-typvar",
        &"F",
        &"--set-etiket",
        &"RELABELLED",
        &"--set-ip1",
        &"12000",
        &"--set-ip2",
        &"6",
        &"--set-ip3",
        &"7",
        &"--set-dateo",
        &"2025-01-02T00:00:00Z",
        &"--set-deet",
        &"300",
        &"--set-npas",
        &"12",
    ]);
    let copy = FstFile::open(&dest).unwrap();
    let r = &copy.records()[0];
    assert_eq!(
        (
            r.nomvar.trimmed(),
            r.typvar.trimmed(),
            r.etiket.trimmed(),
            r.ip1,
            r.ip2,
            r.ip3,
            r.deet,
            r.npas
        ),
        ("MY", "F", "RELABELLED", 12000, 6, 7, 300, 12)
    );
    // One hour after the new origin.
    assert_eq!(
        fst_core::date::DateStamp(r.datev).to_iso8601().as_deref(),
        Some("2025-01-02T01:00:00Z")
    );
    assert_eq!(copy.records()[1].etiket.trimmed(), "POSREC");
    assert_eq!(copy.records()[1].ip1, 85930);
}

/// Without a selection every record is selected, the grid's `>>`/`^^` too: new keys and
/// repacking still leave them as they are (renamed or requantised, the fields would lose their
/// grid), unless `--nomvar` names them.
#[test]
fn whole_file_edits_leave_positional_records_alone() {
    let dir = scratch("whole-file");
    let src_path = fixture("rsf/rsf_basic.fst");
    let src = FstFile::open(&src_path).unwrap();
    let dest = dir.join("all.fst");
    ok(&[
        &"cp",
        &src_path,
        &dest,
        &"--set-nomvar",
        &"XX",
        &"--set-ip3",
        &"5",
        &"--datyp",
        &"134",
        &"--nbits",
        &"12",
    ]);
    let copy = FstFile::open(&dest).unwrap();
    let positional: Vec<&RecordMeta> = src.records()[..2].iter().collect();
    assert_same_records(
        &src,
        &positional,
        &FstFile::open(&{
            let only = dir.join("positional.fst");
            ok(&[&"cp", &dest, &only, &"--typvar", &"X"]);
            only
        })
        .unwrap(),
        "positional records",
    );
    for r in &copy.records()[2..] {
        assert_eq!((r.nomvar.trimmed(), r.ip3), ("XX", 5), "{}", r.index);
    }
    // The fields still find their grid.
    let grid = ok(&[&"grid", &dest, &"--index", &"2", &"--json"]);
    assert!(grid.contains("\"grtyp\":\"Z\""), "{grid}");
    // Named, they are edited.
    let named = dir.join("named.fst");
    ok(&[
        &"cp",
        &src_path,
        &named,
        &"--nomvar",
        &">>",
        &"--set-ip3",
        &"9",
    ]);
    assert_eq!(FstFile::open(&named).unwrap().records()[0].ip3, 9);
}

/// The grid's `>>`/`^^` go in once: from two sources that share them, and when appending
/// to a file that already holds them (the default add mode duplicated them every time).
#[test]
fn positional_records_are_not_duplicated_across_sources_or_appends() {
    let dir = scratch("no-duplicates");
    let (a, b) = (
        fixture("rsf/rsf_basic.fst"),
        fixture("rsf/rsf_multi_segment.fst"),
    );
    let dest = dir.join("two-sources.fst");
    let err = String::from_utf8(run(&[&"cp", &a, &b, &dest, &"--nomvar", &"TT"]).stderr).unwrap();
    assert!(err.contains("(2 already there)"), "{err}");
    assert_eq!(names(&dest), [">>", "^^", "TT", "TT", "TT"]);
    for to in ["xdf", "rsf"] {
        let dest = dir.join(format!("append-{to}.fst"));
        ok(&[&"cp", &a, &dest, &"--nomvar", &"TT", &"--to", &to]);
        ok(&[&"cp", &a, &dest, &"--append", &"--nomvar", &"GZ"]);
        ok(&[&"cp", &b, &dest, &"--append", &"--nomvar", &"HU"]);
        assert_eq!(names(&dest), [">>", "^^", "TT", "GZ", "HU"], "{to}");
    }
    // A different grid under the same tags is not hidden: it is copied (and DEST then holds
    // both, as the source files did).
    let other = dir.join("other-grid.fst");
    ok(&[
        &"cp",
        &a,
        &other,
        &"--nomvar",
        &"^^",
        &"--datyp",
        &"1",
        &"--nbits",
        &"8",
    ]);
    let dest = dir.join("append-xdf.fst");
    ok(&[&"cp", &other, &dest, &"--append"]);
    assert_eq!(names(&dest), [">>", "^^", "TT", "GZ", "HU", "^^"]);
}

#[test]
fn repacking_changes_datyp_and_nbits_within_quantisation() {
    let dir = scratch("repack");
    let src_path = fixture("xdf/grids.fst");
    let src = FstFile::open(&src_path).unwrap();
    let la = src
        .records()
        .iter()
        .find(|r| r.nomvar.trimmed() == "LA")
        .unwrap();
    let orig = floats(&src.decode(la).unwrap().samples);
    let (lo, hi) = orig
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    for (to, datyp, nbits) in [("xdf", "1", 16u32), ("rsf", "1", 12), ("rsf", "5", 32)] {
        let dest = dir.join(format!("la-{to}-{datyp}-{nbits}.fst"));
        ok(&[
            &"cp",
            &src_path,
            &dest,
            &"--nomvar",
            &"LA",
            &"--datyp",
            &datyp,
            &"--nbits",
            &nbits.to_string(),
            &"--to",
            &to,
        ]);
        let copy = FstFile::open(&dest).unwrap();
        let r = &copy.records()[0];
        assert_eq!(
            (r.datyp.0.to_string(), u32::from(r.nbits)),
            (datyp.to_string(), nbits)
        );
        let got = floats(&copy.decode(r).unwrap().samples);
        // Quantisation to nbits over the range: one step, rounded.
        let step = (hi - lo) / f64::from((1u32 << nbits.min(31)) - 1);
        let worst = orig
            .iter()
            .zip(&got)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            worst <= step,
            "{to} {datyp}/{nbits}: error {worst} > step {step}"
        );
        check_with_oracles(&dest);
    }
    // --nbits alone keeps the datyp.
    let dest = dir.join("nbits-only.fst");
    ok(&[
        &"cp",
        &src_path,
        &dest,
        &"--nomvar",
        &"ME",
        &"--nbits",
        &"8",
    ]);
    let r = FstFile::open(&dest).unwrap().records()[0].clone();
    assert_eq!((r.datyp.0, r.nbits), (1, 8));
}

/// One `--datyp` repacks records of any numeric type, as editfst users repack a whole file:
/// 64-bit floats and integers become what the float datyp packs, missing points stay missing
/// (+64 kept), complex records asked for a real datyp are copied as they are.
#[test]
fn repacking_converts_element_types_and_keeps_missing_values() {
    let dir = scratch("repack-types");
    let src_path = fixture("xdf/datyps.fst");
    let src = FstFile::open(&src_path).unwrap();
    // (etiket, datyp asked, datyp expected)
    for (etiket, datyp, want) in [
        ("E64", "134", 134u8),
        ("TURBO_E64", "1", 1),
        ("U16", "1", 1),
        ("I16", "134", 134),
        ("MISS_R16", "134", 198),
        ("MISS_U16", "1", 65),
        ("E32", "5", 5),
        ("C32", "134", 8),
    ] {
        let dest = dir.join(format!("{etiket}-{datyp}.fst"));
        let nbits = if etiket == "E32" { "64" } else { "16" };
        ok(&[
            &"cp",
            &src_path,
            &dest,
            &"--etiket",
            &etiket,
            &"--datyp",
            &datyp,
            &"--nbits",
            &nbits,
        ]);
        let copy = FstFile::open(&dest).unwrap();
        let query = fst_core::Query::new().etiket(etiket);
        let (a, b) = (src.find(&query).next().unwrap(), &copy.records()[0]);
        assert_eq!(b.datyp.0, want, "{etiket} as {datyp}");
        let (va, vb) = (src.decode(a).unwrap(), copy.decode(b).unwrap());
        assert_eq!(va.missing, vb.missing, "{etiket}: missing points");
        if want == 8 {
            assert_eq!(le_bytes(&va.samples), le_bytes(&vb.samples), "{etiket}");
            continue;
        }
        let as_f64 = |s: &Samples| -> Vec<f64> {
            match s {
                Samples::I32(v) => v.iter().map(|&x| f64::from(x)).collect(),
                Samples::U32(v) => v.iter().map(|&x| f64::from(x)).collect(),
                other => floats(other),
            }
        };
        let (orig, got) = (as_f64(&va.samples), as_f64(&vb.samples));
        let keep = |i: usize| va.missing.as_ref().is_none_or(|m| !m[i]);
        let kept: Vec<usize> = (0..orig.len()).filter(|&i| keep(i)).collect();
        let (lo, hi) = kept.iter().fold((f64::MAX, f64::MIN), |(l, h), &i| {
            (l.min(orig[i]), h.max(orig[i]))
        });
        let worst = kept
            .iter()
            .map(|&i| (orig[i] - got[i]).abs())
            .fold(0.0, f64::max);
        assert!(
            worst <= (hi - lo) / 65535.0 * 2.0 + 1e-6 * hi.abs(),
            "{etiket} as {datyp}: error {worst} over [{lo}, {hi}]"
        );
        check_with_oracles(&dest);
    }
    // Floats are not truncated into integers.
    let err = fails(&[
        &"cp",
        &src_path,
        &dir.join("e32-int.fst"),
        &"--etiket",
        &"E32",
        &"--datyp",
        &"2",
    ]);
    assert!(err.contains("cannot be repacked as integers"), "{err}");
}

#[test]
fn rm_deletes_only_the_selection() {
    let dir = scratch("rm");
    let src_path = fixture("xdf/grids.fst");
    let src = FstFile::open(&src_path).unwrap();
    for to in ["xdf", "rsf"] {
        let path = dir.join(format!("all.{to}"));
        ok(&[&"cp", &src_path, &path, &"--to", &to]);
        let before = std::fs::read(&path).unwrap();
        let listed = ok(&[&"rm", &path, &"--nomvar", &"TT", &"--dry-run"]);
        let n_tt = src
            .records()
            .iter()
            .filter(|r| r.nomvar.trimmed() == "TT")
            .count();
        assert_eq!(
            listed.lines().count(),
            n_tt + 1,
            "{to}: header + one line per record"
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "{to}: --dry-run changed the file"
        );
        ok(&[&"rm", &path, &"--nomvar", &"TT"]);
        let after = FstFile::open(&path).unwrap();
        let expect: Vec<&RecordMeta> = src
            .records()
            .iter()
            .filter(|r| r.nomvar.trimmed() != "TT")
            .collect();
        assert_same_records(&src, &expect, &after, &format!("rm {to}"));
        check_with_oracles(&path);
        // Nothing left to match: nothing changes.
        let again = run(&[&"rm", &path, &"--nomvar", &"TT"]);
        assert!(again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("deleted 0 record"));
        // Deleting a grid's `>>` while its fields stay is allowed, with a note.
        let out = run(&[&"rm", &path, &"--nomvar", &">>", &"--ip1", &"85930"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && err.contains("describes the grid or levels of 1 record"),
            "{err}"
        );
        ok(&[&"rm", &path, &"--all"]);
        assert!(
            FstFile::open(&path).unwrap().records().is_empty(),
            "{to}: --all"
        );
        check_with_oracles(&path);
    }
}

#[test]
fn bad_options_fail_clearly_and_leave_dest_unchanged() {
    let dir = scratch("bad");
    let src_path = fixture("xdf/grids.fst");
    let dest = dir.join("dest.fst");
    // A new DEST that fails part-way is not created: the name is too long for nomvar.
    let err = fails(&[
        &"cp",
        &src_path,
        &dest,
        &"--nomvar",
        &"TT",
        &"--set-nomvar",
        &"TOOLONG",
    ]);
    assert!(
        err.contains("grids.fst") && err.contains("record") && err.contains("nomvar"),
        "{err}"
    );
    assert!(!dest.exists());
    assert!(
        std::fs::read_dir(&dir).unwrap().next().is_none(),
        "temporary files left"
    );
    ok(&[&"cp", &src_path, &dest, &"--nomvar", &"MX"]);
    let before = std::fs::read(&dest).unwrap();
    // Appending that fails on the fourth record leaves DEST as it was.
    let err = fails(&[
        &"cp",
        &src_path,
        &dest,
        &"--append",
        &"--grtyp",
        &"Z",
        &"--set-ip1",
        &"999999999",
    ]);
    assert!(
        err.contains("ip1") && err.contains("left as it was"),
        "{err}"
    );
    assert_eq!(std::fs::read(&dest).unwrap(), before);
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "temporary files left"
    );
    for (args, needle) in [
        (vec!["cp", "SRC", "DEST"], "already exists"),
        (vec!["cp", "SRC", "DEST", "--append", "--to", "rsf"], "--to"),
        (
            vec!["cp", "SRC", "DEST", "--append", "--nomvar", "NONE"],
            "no record matches",
        ),
        (
            vec!["cp", "SRC", "DEST", "--append", "--nbits", "0"],
            "--nbits",
        ),
        (
            vec!["cp", "SRC", "DEST", "--append", "--set-dateo", "yesterday"],
            "--set-dateo",
        ),
        (
            vec!["cp", "SRC", "DEST", "--append", "--to", "grib"],
            "grib",
        ),
        (vec!["cp", "DEST", "DEST", "--append"], "into itself"),
        (
            vec!["cp", "/nonexistent/x.fst", "DEST", "--append"],
            "/nonexistent/x.fst",
        ),
        (vec!["rm", "DEST"], "--all"),
        (
            vec!["rm", "/nonexistent/x.fst", "--all"],
            "/nonexistent/x.fst",
        ),
    ] {
        let args: Vec<std::ffi::OsString> = args
            .iter()
            .map(|a| match *a {
                "SRC" => src_path.clone().into_os_string(),
                "DEST" => dest.clone().into_os_string(),
                s => s.into(),
            })
            .collect();
        let refs: Vec<&dyn AsRef<std::ffi::OsStr>> = args.iter().map(|a| a as _).collect();
        let err = fails(&refs);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(
            std::fs::read(&dest).unwrap(),
            before,
            "{args:?} changed DEST"
        );
    }
}

// ---- librmn reads the copies (when configured) ----

/// librmn 19.5 (XDF) and `rmn-read` (XDF and RSF) list every record of `file` with our keys
/// and decode our values; skipped when neither oracle is configured.
fn check_with_oracles(file: &Path) {
    let ours = FstFile::open(file).unwrap();
    let mut runs: Vec<(&str, Command)> = Vec::new();
    if let (Some(py), Container::Xdf) = (std::env::var_os("FSTGIS_ORACLE_PY"), ours.container()) {
        let mut c = Command::new(py);
        c.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/oracle_readback.py"));
        runs.push(("librmn 19.5", c));
    }
    if let Some(exe) = std::env::var_os("FSTGIS_RMN_READ") {
        runs.push(("rmn-read", Command::new(exe)));
    }
    for (name, mut cmd) in runs {
        let out = file.with_extension(format!("oracle-{}", name.replace(' ', "")));
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        let status = cmd.arg(file).arg(&out).output().unwrap();
        let manifest: Value = serde_json::from_slice(
            &std::fs::read(out.join("manifest.json")).unwrap_or_else(|e| {
                panic!(
                    "{name}: no manifest for {} ({e}): {}",
                    file.display(),
                    String::from_utf8_lossy(&status.stderr)
                )
            }),
        )
        .unwrap();
        assert!(
            status.status.success() && manifest["ok"] == Value::Bool(true),
            "{name} failed on {}: {manifest}",
            file.display()
        );
        let recs = manifest["records"].as_array().unwrap();
        assert_eq!(
            recs.len(),
            ours.records().len(),
            "{name}: {}",
            file.display()
        );
        for (t, m) in recs.iter().zip(ours.records()) {
            let ctx = format!("{name} {} record {} {}", file.display(), m.index, m.nomvar);
            assert_eq!(t["nomvar"].as_str().unwrap(), m.nomvar.trimmed(), "{ctx}");
            assert_eq!(t["etiket"].as_str().unwrap(), m.etiket.trimmed(), "{ctx}");
            for (k, v) in [
                ("ip1", m.ip1),
                ("ip2", m.ip2),
                ("ip3", m.ip3),
                ("ig1", m.ig1),
                ("ni", m.ni),
                ("nj", m.nj),
            ] {
                assert_eq!(t[k].as_i64(), Some(i64::from(v)), "{ctx}: {k}");
            }
            let want = std::fs::read(out.join(t["data_file"].as_str().unwrap())).unwrap();
            let got = le_bytes(&ours.decode(m).unwrap().samples);
            // librmn returns characters and binary records as whole words: compare the common part.
            let n = got.len().min(want.len());
            assert!(
                matches!(m.datyp.base(), 0 | 3 | 7) || got.len() == want.len(),
                "{ctx}: length"
            );
            assert!(got[..n] == want[..n], "{ctx}: values differ");
        }
        println!("{name}: {} — {} records equal", file.display(), recs.len());
    }
}

#[test]
fn model_levels_bring_their_vertical_descriptors() {
    let dir = scratch("vertical");
    let src = dir.join("model.fst");
    fst_testkit::write_model_levels_file(&src);
    // Hybrid levels: the `!!` and `HY` come along (vgrid finds their coordinate there).
    let dest = dir.join("tt.fst");
    ok(&[&"cp", &src, &dest, &"--nomvar", &"TT"]);
    assert_eq!(names(&dest), ["TT", "TT", "!!", "HY"]);
    // Sigma levels too, with the eta top (PT); a surface field on an L grid needs none.
    let dest = dir.join("uu.fst");
    ok(&[&"cp", &src, &dest, &"--nomvar", &"UU"]);
    assert_eq!(names(&dest), ["UU", "!!", "HY", "PT"]);
    let dest = dir.join("p0.fst");
    ok(&[&"cp", &src, &dest, &"--nomvar", &"P0"]);
    assert_eq!(names(&dest), ["P0"]);
    check_with_oracles(&dest);
    // Deleting the descriptor while model levels stay gets a note.
    let out = run(&[&"rm", &src, &"--nomvar", &"!!"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.contains("describes the grid or levels of 3 record"),
        "{err}"
    );
}
