//! The view over every fixture: layouts, names and aliases, values, masks, times, longitudes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod common;

use ioda::{AttrValue, Layout, ObsDataset, Values};

fn open(relative: &str) -> ObsDataset {
    ObsDataset::open(common::fixtures().join(relative)).unwrap()
}

#[test]
fn every_fixture_reads_every_variable_and_its_times() {
    for path in common::all_fixture_files() {
        let dataset = ObsDataset::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(dataset.location_count() > 0, "{}", path.display());
        assert!(!dataset.variables().is_empty());
        for info in dataset.variables() {
            let data = dataset
                .read(&info.name.to_string())
                .unwrap_or_else(|e| panic!("{e}"));
            let count: u64 = data.shape.iter().product();
            assert_eq!(count as usize, data.values.len(), "{}", info.name);
            assert_eq!(data.missing.len(), data.values.len(), "{}", info.name);
        }
        let has_time = ["MetaData/dateTime", "MetaData/datetime", "MetaData/time"]
            .iter()
            .any(|n| dataset.variable(n).is_some());
        if has_time {
            let times = dataset.date_times().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(times.values.len() as u64 % dataset.location_count(), 0);
        } else {
            assert!(dataset
                .date_times()
                .unwrap_err()
                .to_string()
                .contains("no time variable"));
        }
        if dataset.variable("MetaData/longitude").is_none() {
            continue;
        }
        let lon = dataset.longitudes().unwrap_or_else(|e| panic!("{e}"));
        for (x, missing) in lon.to_f64().iter().zip(&lon.missing) {
            assert!(
                *missing || (-180.0..180.0).contains(x),
                "{}: longitude {x}",
                path.display()
            );
        }
    }
}

#[test]
fn bufr2ioda_v3_single_observation() {
    let d = open("rdasapp_msonet_singleob_airTemperature.nc4");
    assert_eq!(d.layout(), Layout::V3);
    assert_eq!(d.location_count(), 1);
    assert_eq!(d.groups(), ["", "MetaData", "ObsValue", "ObsType", "PreQC"]);
    assert_eq!(
        d.attributes()
            .iter()
            .find(|a| a.name == "_ioda_layout")
            .map(|a| &a.value),
        Some(&AttrValue::Text(vec!["ObsGroup".into()]))
    );
    let station = d.read("MetaData/stationIdentification").unwrap();
    assert_eq!(station.values, Values::Text(vec!["LEMNT".into()]));
    // v2 and v1 spellings resolve to the same variable.
    assert_eq!(d.read("MetaData/station_id").unwrap(), station);
    assert_eq!(d.read("station_id@MetaData").unwrap(), station);
    let t = d.read("ObsValue/airTemperature").unwrap();
    assert_eq!(t.values, Values::F32(vec![307.05]));
    assert_eq!(t.missing, [false]);
    assert_eq!(
        d.variable("ObsValue/airTemperature").unwrap().units(),
        Some("K")
    );
    // Filled with f32::MAX by bufr2ioda: masked.
    assert_eq!(
        d.read("ObsValue/dewpointTemperature").unwrap().missing,
        [true]
    );
    assert_eq!(
        d.read("PreQC/airTemperature").unwrap().values,
        Values::I32(vec![2])
    );
    assert_eq!(
        d.read("ObsType/airTemperature").unwrap().values,
        Values::I32(vec![188])
    );
    assert_eq!(
        d.date_times().unwrap().values,
        Values::I64(vec![1_653_590_772])
    );
    assert_eq!(
        ioda::time::format_utc(1_653_590_772).unwrap(),
        "2022-05-26T18:46:12Z"
    );
    let lon = d.longitudes().unwrap().to_f64()[0];
    assert!(
        (lon - (f64::from(278.61_f32) - 360.0)).abs() < 1e-9,
        "{lon}"
    );
    assert!((d.latitudes().unwrap().to_f64()[0] - 27.44).abs() < 1e-5);
}

#[test]
fn radiance_location_by_channel() {
    let d = open("obs2ioda_write_goes_abi_ioda_v3.nc");
    let bt = d.read("ObsValue/brightnessTemperature").unwrap();
    assert_eq!(bt.dims, ["Location", "Channel"]);
    assert_eq!(bt.shape, [2, 3]);
    assert_eq!(
        bt.values,
        Values::F32(vec![270.0, 273.0, 271.0, 274.0, 272.0, 275.0])
    );
    assert_eq!(
        d.read("Channel").unwrap().values,
        Values::I32(vec![7, 8, 9])
    );
    assert_eq!(
        d.read("MetaData/sensor_channel").unwrap().values,
        Values::I32(vec![7, 8, 9])
    );
    let error = d.read("ObsError/brightnessTemperature").unwrap();
    assert_eq!(error.shape, [2, 3]);
    assert_eq!(
        d.dimensions()
            .iter()
            .map(|x| (x.name.as_str(), x.size))
            .collect::<Vec<_>>(),
        [("Location", 2), ("Channel", 3)]
    );
}

#[test]
fn v1_flat_names_and_hour_offsets() {
    let d = open("synthetic/synth_v1_sfc.nc4");
    assert_eq!(d.layout(), Layout::V1);
    assert_eq!(d.location_count(), 1000);
    // v1's `air_temperature@ObsValue` is the v3 `ObsValue/airTemperature`.
    let info = d.variable("ObsValue/airTemperature").unwrap();
    assert_eq!(info.stored_as, "air_temperature@ObsValue");
    assert_eq!(info.dims, ["Location"]);
    let hours = d.read("MetaData/time").unwrap().to_f64();
    let times = d.date_times().unwrap();
    let start = ioda::time::parse_yyyymmddhh(2_018_041_500).unwrap();
    let Values::I64(seconds) = &times.values else {
        panic!("instants are i64")
    };
    for (h, t) in hours.iter().zip(seconds) {
        assert_eq!(*t, start + (h * 3600.0).round() as i64);
    }
}

#[test]
fn v2_snake_case_and_iso_strings() {
    let d = open("synthetic/synth_v2_sfc.nc4");
    assert_eq!(d.layout(), Layout::V2);
    assert_eq!(d.location_count(), 5000);
    assert!(d.variable("MetaData/stationIdentification").is_some());
    assert_eq!(
        d.variable("ObsValue/air_temperature").unwrap().name.name,
        "airTemperature"
    );
    let strings = d.read("MetaData/datetime").unwrap();
    let times = d.date_times().unwrap();
    let (Values::Text(s), Values::I64(t)) = (&strings.values, &times.values) else {
        panic!("types")
    };
    for (s, t) in s.iter().zip(t) {
        assert_eq!(ioda::time::format_utc(*t).as_deref(), Some(s.as_str()));
    }
}

#[test]
fn io_pool_set_is_one_dataset_in_member_order() {
    let dir = std::env::temp_dir().join(format!("ioda-pool-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = common::fixtures();
    std::fs::copy(
        source.join("synthetic/synth_v2_sfc.nc4"),
        dir.join("sfc_out_0000.nc4"),
    )
    .unwrap();
    std::fs::copy(
        source.join("synthetic/synth_v2_sfc.nc4"),
        dir.join("sfc_out_0001.nc4"),
    )
    .unwrap();
    std::fs::copy(
        source.join("rdasapp_msonet_singleob_airTemperature.nc4"),
        dir.join("sfc_out_prep_file_info.nc4"),
    )
    .unwrap();
    let single = open("synthetic/synth_v2_sfc.nc4");
    // Any member's name, or the set's name without a suffix, opens the whole set.
    for name in ["sfc_out_0001.nc4", "sfc_out.nc4"] {
        let set = ObsDataset::open(dir.join(name)).unwrap();
        assert_eq!(set.paths().len(), 2);
        assert_eq!(set.location_count(), 10_000);
        let one = single.read("ObsValue/airTemperature").unwrap();
        let both = set.read("ObsValue/airTemperature").unwrap();
        assert_eq!(both.shape, [10_000]);
        let (Values::F32(a), Values::F32(b)) = (&one.values, &both.values) else {
            panic!("f32")
        };
        assert_eq!(&b[..5000], a.as_slice());
        assert_eq!(&b[5000..], a.as_slice());
        assert_eq!(set.date_times().unwrap().values.len(), 10_000);
    }
    // A member with another layout is refused, naming that member.
    std::fs::copy(
        source.join("rdasapp_msonet_singleob_airTemperature.nc4"),
        dir.join("sfc_out_0002.nc4"),
    )
    .unwrap();
    let error = ObsDataset::open(dir.join("sfc_out_0000.nc4"))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("sfc_out_0002.nc4") && error.contains("layout"),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn odb_columns_bitfields_and_metadata_aliases() {
    let d = open("odb/ioda_diag_t_obs_01_wprofiles.odb");
    assert_eq!(d.layout(), Layout::Odb);
    assert_eq!(d.location_count(), 915);
    let varno = d.read("odb/varno").unwrap();
    assert!(matches!(&varno.values, Values::I64(v) if v.iter().all(|x| *x == 2)));
    let lat = d.latitudes().unwrap();
    assert_eq!(d.read("lat@odb").unwrap().values, lat.values);
    let times = d.date_times().unwrap();
    assert_eq!(times.missing_count(), 0);

    let d = open("odb/odc_docs_example.odb");
    assert_eq!(d.location_count(), 4096);
    assert!(d.variable("MetaData/stationIdentification").is_some());
    // Each named bit group of a bitfield column is a variable of its own.
    let bitfield_vars: Vec<_> = d
        .variables()
        .iter()
        .filter(|v| v.name.name.contains('.'))
        .collect();
    assert!(!bitfield_vars.is_empty());
    for v in bitfield_vars {
        let data = d.read(&v.name.to_string()).unwrap();
        assert!(matches!(&data.values, Values::I64(_)));
    }
}

#[test]
fn errors_name_the_file_and_variable() {
    let path = common::fixtures().join("rdasapp_msonet_singleob_airTemperature.nc4");
    let d = ObsDataset::open(&path).unwrap();
    let error = d.read("ObsValue/noSuchThing").unwrap_err().to_string();
    assert!(
        error.contains("rdasapp_msonet") && error.contains("ObsValue/noSuchThing"),
        "{error}"
    );
    let limits = ioda::Limits {
        max_variable_bytes: 2,
        ..ioda::Limits::default()
    };
    let d = ObsDataset::open_with_limits(&path, limits).unwrap();
    let error = d.read("MetaData/latitude").unwrap_err().to_string();
    assert!(
        error.contains("MetaData/latitude") && error.contains("limit"),
        "{error}"
    );
    let error = ObsDataset::open(common::fixtures().join("README.md"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("README.md"), "{error}");
}

#[test]
fn v2_dimension_scale_is_location() {
    let d = open("synthetic/synth_v2_sfc.nc4");
    let info = d.variable("Location").unwrap();
    assert_eq!(info.stored_as, "nlocs");
    assert_eq!(info.name.to_string(), "Location");
    assert_eq!(d.variable("nlocs"), Some(info));
    assert_eq!(d.read("Location").unwrap().values.len(), 5000);
}
