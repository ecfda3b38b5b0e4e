//! `fst ioda info` and `fst ioda dump`, run as a user would, over the IODA fixtures of
//! `shared/fixtures/ioda`, against what `crates/ioda` reads from the same files.
// Tests fail loudly on purpose.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_cmp
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ioda::{ObsDataset, Values};
use serde_json::Value;

fn fst() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fst"))
}

fn fixtures() -> PathBuf {
    fst_testkit::fixtures::shared_fixtures("ioda")
}

fn fixture_files() -> Vec<PathBuf> {
    fst_testkit::fixtures::ioda_fixture_files()
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

fn run_ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn info_json(path: &Path) -> Value {
    let text = run_ok(fst().args(["ioda", "info", "--json"]).arg(path));
    serde_json::from_str(&text).unwrap()
}

/// Smallest and largest of the values not masked.
fn extent(values: &[f64], missing: &[bool]) -> Option<(f64, f64)> {
    values
        .iter()
        .zip(missing)
        .filter(|(_, m)| !**m)
        .map(|(v, _)| *v)
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

fn iso(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[test]
fn info_json_matches_the_library_on_every_fixture() {
    for path in fixture_files() {
        let name = path.display().to_string();
        let dataset = ObsDataset::open(&path).unwrap();
        let info = info_json(&path);
        assert_eq!(info["locations"], dataset.location_count(), "{name}");
        let listed: Vec<&str> = info["variables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        let expected: Vec<String> = dataset
            .variables()
            .iter()
            .map(|v| v.name.to_string())
            .collect();
        assert_eq!(listed, expected, "{name}");
        for (shown, v) in info["variables"]
            .as_array()
            .unwrap()
            .iter()
            .zip(dataset.variables())
        {
            assert_eq!(shown["type"], v.type_name, "{name} {}", v.name);
            assert_eq!(
                shown["shape"],
                serde_json::json!(v.shape),
                "{name} {}",
                v.name
            );
            assert_eq!(shown["units"].as_str(), v.units(), "{name} {}", v.name);
        }
        let group_total: u64 = info["groups"]
            .as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum();
        assert_eq!(group_total as usize, dataset.variables().len(), "{name}");

        // The time range is the earliest and latest observation time, when there are times.
        match dataset.date_times() {
            Ok(times) => {
                let Values::I64(seconds) = &times.values else {
                    panic!("{name}: times are not i64")
                };
                let as_f64: Vec<f64> = seconds.iter().map(|s| *s as f64).collect();
                let (lo, hi) = extent(&as_f64, &times.missing).unwrap();
                assert_eq!(
                    info["time_range"],
                    serde_json::json!([iso(lo as i64), iso(hi as i64)]),
                    "{name}"
                );
            }
            Err(_) => assert!(info["time_range"].is_null(), "{name}"),
        }
        // The bounding box covers every location, longitudes in [-180, 180).
        if let (Ok(lon), Ok(lat)) = (dataset.longitudes(), dataset.latitudes()) {
            let (west, east) = extent(&lon.to_f64(), &lon.missing).unwrap();
            let (south, north) = extent(&lat.to_f64(), &lat.missing).unwrap();
            // serde_json parses floats to within an ulp unless its `float_roundtrip` feature
            // is on, so the printed bounds are compared with that margin.
            let shown: Vec<f64> = info["bbox"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            for (got, want) in shown.iter().zip([west, south, east, north]) {
                assert!(
                    (got - want).abs() <= 4.0 * f64::EPSILON * want.abs().max(1.0),
                    "{name}: {shown:?}"
                );
            }
            assert_eq!(shown.len(), 4, "{name}");
            assert!((-180.0..180.0).contains(&west) && east < 180.0, "{name}");
        }
    }
}

#[test]
fn info_text_lists_groups_variables_time_and_bbox() {
    let path = fixtures().join("obs2ioda_write_goes_abi_ioda_v3.nc");
    let dataset = ObsDataset::open(&path).unwrap();
    let text = run_ok(fst().args(["ioda", "info"]).arg(&path));
    for v in dataset.variables() {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(v.name.to_string().as_str()))
            .unwrap_or_else(|| panic!("{} not listed:\n{text}", v.name));
        assert!(line.contains(v.type_name), "{line}");
        assert_eq!(line, line.trim_end(), "trailing blanks: {line:?}");
    }
    for group in dataset.groups().into_iter().filter(|g| !g.is_empty()) {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(group)),
            "{group}:\n{text}"
        );
    }
    assert!(text.contains(&format!("locations:  {}", dataset.location_count())));
    assert!(
        text.lines()
            .any(|l| l.starts_with("time:") && l.contains("..")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("bbox:") && l.contains("lat")),
        "{text}"
    );
}

/// Our CSV fields: empty when missing, else the library's text of the value.
fn expected_field(values: &Values, missing: &[bool], index: usize) -> String {
    if missing[index] {
        String::new()
    } else {
        values.get_text(index).unwrap()
    }
}

#[test]
fn dump_csv_gives_the_library_values_on_every_hdf5_fixture() {
    for path in fixture_files()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e != "odb"))
    {
        let name = path.display().to_string();
        let dataset = ObsDataset::open(&path).unwrap();
        // Every per-location variable of the file, one column each (more for channels).
        let chosen: Vec<&ioda::VariableInfo> = dataset
            .variables()
            .iter()
            .filter(|v| v.dims.first().is_some_and(|d| d == "Location"))
            .filter(|v| v.name.to_string() != "MetaData/dateTime")
            .collect();
        let vars: Vec<String> = chosen.iter().map(|v| v.name.to_string()).collect();
        let csv = run_ok(
            fst()
                .args(["ioda", "dump", "--vars", &vars.join(",")])
                .arg(&path),
        );
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.len() as u64, dataset.location_count(), "{name}");
        let mut column = 0;
        for info in chosen {
            let data = dataset.read(&info.name.to_string()).unwrap();
            let width = data.values.len() / rows.len().max(1);
            let channels = dataset.channel_numbers(width);
            for k in 0..width {
                let label = match data.dims.as_slice() {
                    [_] => info.name.to_string(),
                    // Columns of channels by channel number.
                    [_, c] if c == "Channel" => {
                        format!("{}[ch{}]", info.name, channels.get(k).unwrap())
                    }
                    _ => format!("{}[{k}]", info.name),
                };
                assert_eq!(header[column], label, "{name}");
                for (row, line) in rows.iter().enumerate() {
                    let field = split_csv(line)[column].clone();
                    assert_eq!(
                        field,
                        expected_field(&data.values, &data.missing, row * width + k),
                        "{name} {label} row {row}"
                    );
                }
                column += 1;
            }
        }
        assert_eq!(column, header.len(), "{name}");
    }
}

/// Splits one CSV line (RFC 4180 quoting).
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

#[test]
fn dump_json_has_iso_times_nulls_for_missing_and_honours_limit() {
    // ODB-2 with string columns; v1 with hours since a global date; v3 with f32::MAX fills.
    for relative in [
        "odb/odc_docs_example.odb",
        "synthetic/synth_v1_sfc.nc4",
        "rdasapp_msonet_singleob_airTemperature.nc4",
    ] {
        let path = fixtures().join(relative);
        let dataset = ObsDataset::open(&path).unwrap();
        let value_var = dataset
            .variables()
            .iter()
            .find(|v| {
                v.dims.len() == 1
                    && v.dims[0] == "Location"
                    && !v.name.group.eq_ignore_ascii_case("MetaData")
            })
            .unwrap()
            .name
            .to_string();
        let limit = 5;
        let text = run_ok(
            fst()
                .args([
                    "ioda",
                    "dump",
                    "--format",
                    "json",
                    "--limit",
                    &limit.to_string(),
                ])
                .args(["--vars", &format!("latitude,dateTime,{value_var}")])
                .arg(&path),
        );
        let rows: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let expected_rows = limit.min(dataset.location_count() as usize);
        assert_eq!(rows.len(), expected_rows, "{relative}");
        let times = dataset.date_times().unwrap();
        let values = dataset.read(&value_var).unwrap();
        let Values::I64(seconds) = &times.values else {
            panic!()
        };
        for (i, row) in rows.iter().enumerate() {
            let time = &row["MetaData/dateTime"];
            if times.missing[i] {
                assert!(time.is_null());
            } else {
                assert_eq!(
                    time.as_str().unwrap(),
                    iso(seconds[i]),
                    "{relative} row {i}"
                );
            }
            let shown = &row[value_var.as_str()];
            if values.missing[i] {
                assert!(shown.is_null(), "{relative} row {i}: {shown}");
            } else if let Values::Text(strings) = &values.values {
                assert_eq!(shown.as_str().unwrap(), strings[i]);
            } else {
                // Numbers are printed in their storage type's shortest round-trip form (an f32
                // as 295.66653, not as its f64 widening); compared within an ulp because of
                // serde_json's default float parsing (see the bbox above).
                let want: f64 = values.values.get_text(i).unwrap().parse().unwrap();
                assert!(
                    (shown.as_f64().unwrap() - want).abs()
                        <= 4.0 * f64::EPSILON * want.abs().max(1.0)
                );
            }
        }
    }
}

#[test]
fn an_io_pool_set_is_one_dataset_from_any_member() {
    let dir = tempfile::tempdir().unwrap();
    let source = fixtures().join("synthetic/synth_v2_sfc.nc4");
    for n in 0..3 {
        std::fs::copy(&source, dir.path().join(format!("sfc_out_{n:04}.nc4"))).unwrap();
    }
    let single = ObsDataset::open(&source).unwrap().location_count();
    let info = info_json(&dir.path().join("sfc_out_0002.nc4"));
    assert_eq!(info["members"].as_array().unwrap().len(), 3);
    assert_eq!(info["locations"], 3 * single);
    let csv = run_ok(
        fst()
            .args(["ioda", "dump", "--vars", "latitude"])
            .arg(dir.path().join("sfc_out_0001.nc4")),
    );
    assert_eq!(csv.lines().count() as u64, 1 + 3 * single);
}

#[test]
fn channel_columns_are_named_by_channel_number() {
    // ABI channels 7, 8 and 9 were columns [0], [1] and [2], while the tile server's layers
    // call them .ch7, .ch8 and .ch9.
    let path = fixtures().join("obs2ioda_write_goes_abi_ioda_v3.nc");
    let csv = run_ok(
        fst()
            .args(["ioda", "dump", "--vars", "brightnessTemperature@ObsValue"])
            .arg(&path),
    );
    assert_eq!(
        csv.lines().next().unwrap(),
        "ObsValue/brightnessTemperature[ch7],ObsValue/brightnessTemperature[ch8],\
         ObsValue/brightnessTemperature[ch9]"
    );
}

#[test]
fn two_names_of_one_variable_are_one_column() {
    // A JSON line held the same key twice (one value silently replacing the other).
    let path = fixtures().join("rdasapp_msonet_singleob_airTemperature.nc4");
    let vars = "airTemperature@ObsValue,ObsValue/airTemperature,latitude";
    let csv = run_ok(fst().args(["ioda", "dump", "--vars", vars]).arg(&path));
    assert_eq!(
        csv.lines().next().unwrap(),
        "ObsValue/airTemperature,MetaData/latitude"
    );
    let json = run_ok(
        fst()
            .args(["ioda", "dump", "--format", "json", "--vars", vars])
            .arg(&path),
    );
    let first: serde_json::Map<String, Value> =
        serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(first.len(), 2, "{json}");
}

#[test]
fn errors_name_the_file_and_the_variable() {
    let path = fixtures().join("obs2ioda_write_goes_abi_ioda_v3.nc");
    let out = run(fst()
        .args(["ioda", "dump", "--vars", "latitude,noSuchThing"])
        .arg(&path));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("noSuchThing") && stderr.contains("obs2ioda"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "partial output before the error");

    // A channel table has no Location axis: no row per location to print.
    let out = run(fst()
        .args(["ioda", "dump", "--vars", "sensorChannelNumber"])
        .arg(&path));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Location"));

    let dir = tempfile::tempdir().unwrap();
    let truncated = dir.path().join("cut.nc4");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    for sub in ["info", "dump"] {
        let mut cmd = fst();
        cmd.args(["ioda", sub]).arg(&truncated);
        if sub == "dump" {
            cmd.args(["--vars", "latitude"]);
        }
        let out = run(&mut cmd);
        assert!(!out.status.success(), "{sub}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("cut.nc4"), "{sub}: {stderr}");
        assert!(!stderr.contains("panicked"), "{sub}: {stderr}");
    }
}

#[test]
fn date_time_is_iso_in_every_spelling_and_time_form() {
    // v3 epoch, v2 ISO strings, v1 hours from the global date_time.
    for relative in [
        "rdasapp_msonet_singleob_airTemperature.nc4",
        "synthetic/synth_v2_sfc.nc4",
        "synthetic/synth_v1_sfc.nc4",
    ] {
        let path = fixtures().join(relative);
        let Values::I64(seconds) = ObsDataset::open(&path)
            .unwrap()
            .date_times()
            .unwrap()
            .values
        else {
            panic!("{relative}: times are not i64")
        };
        for spelling in [
            "dateTime",
            "MetaData/dateTime",
            "dateTime@MetaData",
            "/MetaData/dateTime",
            "metadata/dateTime",
        ] {
            let csv = run_ok(
                fst()
                    .args(["ioda", "dump", "--limit", "2", "--vars", spelling])
                    .arg(&path),
            );
            let lines: Vec<&str> = csv.lines().collect();
            assert_eq!(lines[0], "MetaData/dateTime", "{relative} {spelling}");
            assert_eq!(lines[1], iso(seconds[0]), "{relative} {spelling}");
        }
    }
}
