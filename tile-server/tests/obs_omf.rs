//! Observation minus model (`{set}.{variable}.OmF`) on a generator pair whose `HofX` is the
//! model field interpolated the way the server specifies, computed independently (numpy,
//! with librmn's own grid inverse): the server's O−F must equal `ObsValue − HofX` within
//! interpolation round-off, observation by observation and in the statistics.
//!
//! `tests/data/omf_model_tt.fst` was written by librmn through `bench/make_model_fst.py
//! /tmp/omf` (TT, UU, VV on 11 pressure levels, TT at 1.5 m and UU, VV at 10 m, on a rotated
//! 70×30 Z grid, valid at 21:00, 00:00 and 02:00 around 2024-06-16T00Z), and `tests/data/omf_sfc_sonde.nc4` by
//! `bench/make_ioda_obs.py /tmp/omf/obs --locations 4000 --bbox=-135,20,-55,60 --seed 11
//! --model /tmp/omf/model_tt.npz --oracle-python $(bench/oracle-env.sh)` (its `HofX` missing
//! where the model does not cover the observation: outside the grid, above 100 hPa, after
//! 02:00 UTC; winds with `HofX` from the same interpolation of UU and VV, turned east and north
//! by librmn's `gdwdfuv`).
//!
//! The other tests write their model files with fst-core's writer and compute the expected
//! values themselves: height levels, a global grid's wrap column, and station pressure
//! against P0 and ME, or GZ at the ground (`tests/data/obs_station_pressure.nc4`: `bench/make_ioda_obs.py
//! /tmp/sp --locations 3000 --bbox=-135,20,-55,60 --seed 21 --station-pressure`); and
//! single-flight of the computation under the render budget; and the same observations as
//! an io-pool set (`tests/data/obs_station_pressure_pool_000[0-3].nc4`, written by the same
//! command) against the one file.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::float_cmp,
    clippy::string_slice,
    clippy::needless_range_loop
)]
// test code: failing loudly is the point; the capabilities are cut at ASCII tags; the
// comparisons walk several per-observation arrays by index.

mod support;

use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use ioda::ObsDataset;
use serde_json::Value;
use support::obs::Truth;
use support::{fresh_dir, get_in as get};
use tile_server::config::Config;
use tile_server::AppState;

const LAYER: &str = "omf.airTemperature.OmF";

/// Interpolation round-off allowed, K: the file's `float` `HofX` (about 1.5e-5 K at 300 K)
/// and librmn's single-precision grid inverse (2.8e-5 K at most measured).
const TOLERANCE: f64 = 1e-4;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A data directory with the observations, and the model file if `with_model`.
fn data_dir(name: &str, with_model: bool) -> PathBuf {
    let dir = fresh_dir(name);
    std::fs::copy(data("omf_sfc_sonde.nc4"), dir.join("omf.nc4")).unwrap();
    if with_model {
        std::fs::copy(data("omf_model_tt.fst"), dir.join("model.fst")).unwrap();
    }
    dir
}

fn state_for(dir: &Path) -> AppState {
    let mut c = Config::with_data(vec![dir.to_path_buf()]);
    c.watch.enabled = false;
    AppState::new(c).expect("styles load")
}

/// What the generator wrote, read by the library.
fn truth() -> Truth {
    support::obs::truth(&data("omf_sfc_sonde.nc4"), "airTemperature")
}

async fn json(state: &AppState, uri: &str) -> Value {
    let r = get(state, uri).await;
    assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text());
    serde_json::from_slice(&r.body).unwrap()
}

/// Observed value, `HofX` and report type of a variable, read by the library.
fn companions(variable: &str) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let d = ObsDataset::open(data("omf_sfc_sonde.nc4")).unwrap();
    let read = |q: &str| d.read(q).unwrap().to_f64();
    (
        read(&format!("ObsValue/{variable}")),
        read(&format!("HofX/{variable}")),
        read("MetaData/prepbufrReportType"),
    )
}

/// Every observation's O−F against the generator's `ObsValue − HofX`: equal within
/// `tolerance` where the generator's model covers the observation, absent elsewhere.
async fn compare(state: &AppState, variable: &str, tolerance: f64) {
    let (value, hofx, report) = companions(variable);
    let j = json(
        state,
        &format!("/collections/omf.{variable}.OmF/items?qc=all&limit=10000"),
    )
    .await;
    let features = j["features"].as_array().unwrap();
    assert_eq!(features.len(), value.len(), "every located observation");
    let (mut surface, mut upper, mut dropped) = (0, 0, 0);
    for f in features {
        let i = f["id"].as_u64().unwrap() as usize;
        let p = &f["properties"];
        let expected = value[i] - hofx[i];
        if let Some(omf) = p["layer_value"].as_f64() {
            assert!(
                (omf - expected).abs() <= tolerance,
                "{variable} observation {i}: O−F {omf}, ObsValue − HofX {expected}"
            );
            let model = p["model"].as_f64().unwrap();
            assert!((model - hofx[i]).abs() <= tolerance, "{p}");
            if report[i] == 181.0 {
                surface += 1;
            } else {
                upper += 1;
            }
        } else {
            // No departure exactly where the generator's model has no value (or the
            // observation none).
            assert!(!expected.is_finite(), "{variable} observation {i}: {p}");
            if value[i].is_finite() {
                dropped += 1;
            }
        }
    }
    // Surface reports (screen level) and radiosonde levels (ln p) both, and observations
    // outside the model.
    assert!(
        surface > 500 && upper > 500,
        "{variable}: {surface} surface, {upper} upper-air"
    );
    assert!(dropped > 1000, "{variable}: {dropped} dropped");
}

#[tokio::test]
async fn departures_equal_obs_minus_the_generators_model_interpolation() {
    let dir = data_dir("omf-items", true);
    let state = state_for(&dir);
    compare(&state, "airTemperature", TOLERANCE).await;
}

/// Winds, m/s: the model's UU and VV are along the rotated grid's axes; the server turns
/// them with its own grid geometry, the generator with librmn's `gdwdfuv`.
const WIND_TOLERANCE: f64 = 1e-4;

#[tokio::test]
async fn wind_departures_turn_grid_relative_components_east_and_north() {
    let dir = data_dir("omf-wind", true);
    let state = state_for(&dir);
    compare(&state, "windEastward", WIND_TOLERANCE).await;
    compare(&state, "windNorthward", WIND_TOLERANCE).await;
}

#[tokio::test]
async fn stats_agree_with_obs_minus_hofx_over_a_box_and_window() {
    let dir = data_dir("omf-stats", true);
    let state = state_for(&dir);
    let t = truth();
    let bbox = [-120.0, 25.0, -70.0, 55.0];
    let (start, end) = (1_718_488_800_i64, 1_718_503_200_i64); // 22:00 .. 02:00
    let selected = |i: usize| {
        t.lon[i] >= bbox[0]
            && t.lon[i] <= bbox[2]
            && t.lat[i] >= bbox[1]
            && t.lat[i] <= bbox[3]
            && t.time[i] >= start
            && t.time[i] <= end
            && t.value[i].is_finite()
            && t.qc[i] == 0.0
    };
    let d: Vec<f64> = (0..t.lon.len())
        .filter(|i| selected(*i))
        .map(|i| t.value[i] - t.hofx[i])
        .filter(|v| v.is_finite())
        .collect();
    let outside = (0..t.lon.len())
        .filter(|i| selected(*i) && !t.hofx[*i].is_finite())
        .count();
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let std = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    let rms = (d.iter().map(|x| x * x).sum::<f64>() / n).sqrt();
    let j = json(
        &state,
        &format!(
            "/collections/{LAYER}/stats?bbox=-120,25,-70,55&datetime=2024-06-15T22:00:00Z/2024-06-16T02:00:00Z"
        ),
    )
    .await;
    assert!(d.len() > 500, "{}", d.len());
    assert_eq!(j["count"], d.len(), "{j}");
    assert_eq!(j["outside_model"], outside, "{j}");
    assert!(
        outside > 0,
        "the window reaches past the model's last valid time"
    );
    for (key, want) in [("bias", mean), ("mean", mean), ("std", std), ("rms", rms)] {
        let got = j[key].as_f64().unwrap();
        assert!(
            (got - want).abs() <= TOLERANCE,
            "{key}: {got} vs {want}: {j}"
        );
    }
    assert_eq!(j["model"]["field"], "TT", "{j}");
    let dropped = &j["model"]["dropped"];
    for reason in ["outside_grid", "outside_times", "outside_levels"] {
        assert!(dropped[reason].as_u64().unwrap() > 0, "{reason}: {j}");
    }
    assert_eq!(dropped["missing_field"], 0, "{j}");
}

#[tokio::test]
async fn departure_layers_exist_only_beside_a_matching_field() {
    let without = state_for(&data_dir("omf-none", false));
    let j = json(&without, "/collections").await;
    let ids: Vec<&str> = j["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"omf.airTemperature.OmB"), "{ids:?}");
    assert!(!ids.iter().any(|i| i.ends_with(".OmF")), "{ids:?}");
    let r = get(&without, &format!("/collections/{LAYER}/stats")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let r = get(
        &without,
        "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities",
    )
    .await;
    assert!(!r.text().contains(".OmF<"));

    let with = state_for(&data_dir("omf-caps", true));
    let r = get(
        &with,
        "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let x = r.text();
    let at = x
        .find(&format!("<Name>{LAYER}</Name>"))
        .expect("the O−F layer listed");
    let layer = &x[at..];
    let layer = &layer[..layer.find("</Layer>").unwrap()];
    // The time extent ends at the model's last valid time (observations run later).
    assert!(
        layer.contains("/2024-06-16T02:00:00Z/0</Dimension>"),
        "{layer}"
    );
    assert!(layer.contains("<Style><Name>departure</Name>"), "{layer}");
    assert!(layer.contains("field TT"), "{layer}");

    // The field goes: so does the layer.
    std::fs::remove_file(dir_of(&with).join("model.fst")).unwrap();
    with.reload();
    let r = get(&with, &format!("/collections/{LAYER}/stats")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
}

fn dir_of(state: &AppState) -> PathBuf {
    state.config.data[0].clone()
}

#[tokio::test]
async fn departure_maps_tiles_and_feature_info() {
    let dir = data_dir("omf-maps", true);
    let state = state_for(&dir);
    let t = truth();
    let getmap = format!(
        "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS={LAYER}&STYLES=&CRS=CRS:84&BBOX=-135,20,-55,60&WIDTH=200&HEIGHT=100&FORMAT=image/png&RADIUS=0&QC=all"
    );
    let r = get(&state, &getmap).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.ctype(), "image/png");
    let mut dec = png::Decoder::new(r.body.as_slice()).read_info().unwrap();
    let mut buf = vec![0; dec.output_buffer_size()];
    dec.next_frame(&mut buf).unwrap();
    // One drawn pixel per pixel holding an observation with a departure, none elsewhere.
    let mut expected = vec![false; 200 * 100];
    for i in 0..t.lon.len() {
        if (t.value[i] - t.hofx[i]).is_finite() {
            let c = ((t.lon[i] + 135.0) / 0.4).floor();
            let r = ((60.0 - t.lat[i]) / 0.4).floor();
            if (0.0..200.0).contains(&c) && (0.0..100.0).contains(&r) {
                expected[r as usize * 200 + c as usize] = true;
            }
        }
    }
    let drawn: Vec<bool> = buf.chunks(4).map(|p| p[3] > 0).collect();
    assert_eq!(drawn, expected);

    let r = get(&state, &format!("/tiles/{LAYER}/3/1/2.png")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // GetFeatureInfo at the pixel of a covered observation.
    let k = (0..t.lon.len())
        .find(|i| (t.value[*i] - t.hofx[*i]).is_finite())
        .unwrap();
    let (c, row) = (
        ((t.lon[k] + 135.0) / 0.4).floor(),
        ((60.0 - t.lat[k]) / 0.4).floor(),
    );
    let j = json(
        &state,
        &format!(
            "{}&REQUEST=GetFeatureInfo&QUERY_LAYERS={LAYER}&I={c}&J={row}&INFO_FORMAT=application/json&FEATURE_COUNT=50",
            getmap.replace("&REQUEST=GetMap", "")
        ),
    )
    .await;
    let obs = j["observations"].as_array().unwrap();
    let hit = obs
        .iter()
        .find(|o| o["index"] == k)
        .unwrap_or_else(|| panic!("observation {k} in {j}"));
    assert!(
        (hit["model"].as_f64().unwrap() - t.hofx[k]).abs() <= TOLERANCE,
        "{hit}"
    );
    assert!(
        (hit["layer_value"].as_f64().unwrap() - (t.value[k] - t.hofx[k])).abs() <= TOLERANCE,
        "{hit}"
    );
    let text = get(
        &state,
        &format!(
            "{}&REQUEST=GetFeatureInfo&QUERY_LAYERS={LAYER}&I={c}&J={row}&INFO_FORMAT=text/plain",
            getmap.replace("&REQUEST=GetMap", "")
        ),
    )
    .await
    .text();
    let model: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("model = "))
        .unwrap_or_else(|| panic!("{text}"))
        .parse()
        .unwrap();
    assert!(model.is_finite(), "{text}");
}

#[tokio::test]
async fn a_field_file_cut_under_the_server_is_an_error_not_a_crash() {
    let dir = data_dir("omf-cut", true);
    let state = state_for(&dir);
    let model = dir.join("model.fst");
    let bytes = std::fs::read(&model).unwrap();
    // Rewritten in place, shorter, after the catalog was built: the records the
    // interpolation needs are gone.
    std::fs::write(&model, &bytes[..bytes.len() / 3]).unwrap();
    let r = get(&state, &format!("/collections/{LAYER}/stats")).await;
    // The file changed under the read: 503, retry later (the next catalog has its version).
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    // The observations themselves are still served.
    let r = get(&state, "/collections/omf.airTemperature.OmB/stats").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

/// A copy of the model file with only the records valid at `hour` (forecast hour, ip2).
fn single_time_model(dir: &Path, hour: u32) {
    let path = dir.join("model.fst");
    std::fs::copy(data("omf_model_tt.fst"), &path).unwrap();
    let records: Vec<fst_core::RecordMeta> =
        fst_core::FstFile::open(&path).unwrap().records().to_vec();
    let options = fst_core::WriteOptions::new(records[0].container);
    let mut w = fst_core::FstWriter::append(&path, options).unwrap();
    for r in &records {
        if r.nomvar.trimmed() == "TT" && r.ip2 != hour {
            assert!(w.delete(r).unwrap());
        }
    }
    w.close().unwrap();
}

/// Property `property` (`layer_value`, the O−F; `model`) of each observation of `layer`
/// by index (`None` where absent), and the stats' drop reasons.
async fn per_observation(
    state: &AppState,
    layer: &str,
    property: &str,
) -> (Vec<Option<f64>>, Value) {
    let j = json(
        state,
        &format!("/collections/{layer}/items?qc=all&limit=10000"),
    )
    .await;
    let features = j["features"].as_array().unwrap();
    let mut out = vec![None; features.len()];
    for f in features {
        out[f["id"].as_u64().unwrap() as usize] = f["properties"][property].as_f64();
    }
    let stats = json(state, &format!("/collections/{layer}/stats?qc=all")).await;
    (out, stats["model"]["dropped"].clone())
}

/// O−F values of the temperature layer by observation index, and the drop reasons.
async fn departures(state: &AppState) -> (Vec<Option<f64>>, Value) {
    per_observation(state, LAYER, "layer_value").await
}

#[tokio::test]
async fn an_analysis_serves_its_window_and_times_combine_linearly() {
    let t = truth();
    let (centre, later) = (1_718_496_000_i64, 1_718_503_200_i64); // 00:00 and 02:00
    let all = state_for(&data_dir("omf-time-all", true));
    let (both, _) = departures(&all).await;
    let at = |hour: u32, name: &str| {
        let dir = data_dir(name, false);
        single_time_model(&dir, hour);
        state_for(&dir)
    };
    let (at_00, _) = departures(&at(6, "omf-time-00")).await;
    let (at_02, dropped_02) = departures(&at(8, "omf-time-02")).await;
    let (mut checked, mut beyond, mut within) = (0, 0, 0);
    for i in 0..t.lon.len() {
        if (t.time[i] - later).abs() > 3 * 3600 {
            // Outside the 02:00 analysis's window (± obs.half_window_minutes, 3 h).
            assert!(at_02[i].is_none(), "observation {i}");
            beyond += 1;
        } else if t.time[i] > later && at_02[i].is_some() {
            // After the three-time field's last valid time, inside the analysis's window.
            assert!(both[i].is_none(), "observation {i}");
            within += 1;
        }
        // Between 00:00 and 02:00 the three-time field is the linear blend of the two.
        if (centre..=later).contains(&t.time[i]) {
            if let (Some(b), Some(a0), Some(a2)) = (both[i], at_00[i], at_02[i]) {
                let w = (t.time[i] - centre) as f64 / (later - centre) as f64;
                // O−F = value − model, so the departures blend like the model values.
                let blend = (1.0 - w) * a0 + w * a2;
                assert!((b - blend).abs() <= 1e-9, "observation {i}: {b} vs {blend}");
                checked += 1;
            }
        }
    }
    assert!(
        beyond > 100 && within > 100,
        "{beyond} beyond, {within} within"
    );
    assert!(dropped_02["outside_times"].as_u64().unwrap() > 0);
    assert!(checked > 300, "{checked} blended");
}

/// Records of `nomvar` written by our writer (datyp 5, exact f32) to a new file: on `grid`
/// (grtyp `L`, its ig1..ig4, ni, nj), at `levels` (ip1), valid at 2024-06-15T18Z + each of
/// `hours`, with `value(i, j, level, time)` at each point.
fn write_model(
    path: &Path,
    nomvar: &str,
    grid: ([u32; 4], u32, u32),
    levels: &[u32],
    hours: &[u32],
    value: impl Fn(usize, usize, usize, usize) -> f32,
) {
    use fst_core::date::DateStamp;
    use fst_core::write::{Payload, RecordKeys};
    let (ig, ni, nj) = grid;
    let dateo = DateStamp::from_datetime(&"2024-06-15T18:00:00Z".parse().unwrap()).unwrap();
    let options = fst_core::WriteOptions::new(fst_core::Container::Rsf);
    let mut w = if path.exists() {
        fst_core::FstWriter::append(path, options)
    } else {
        fst_core::FstWriter::create(path, options)
    }
    .unwrap();
    for (t, hour) in hours.iter().enumerate() {
        for (k, ip1) in levels.iter().enumerate() {
            let keys = RecordKeys {
                nomvar: nomvar.into(),
                typvar: "P".into(),
                etiket: "HEIGHTS".into(),
                dateo,
                deet: 3600,
                npas: *hour,
                ip2: *hour,
                grtyp: b'L',
                ig1: ig[0],
                ig2: ig[1],
                ig3: ig[2],
                ig4: ig[3],
                ip1: *ip1,
                ni,
                nj,
                ..RecordKeys::default()
            };
            let words: Vec<u32> = (0..nj as usize)
                .flat_map(|j| (0..ni as usize).map(move |i| (i, j)))
                .map(|(i, j)| value(i, j, k, t).to_bits())
                .collect();
            w.write_encoded(&keys, &Payload::ieee32(&words)).unwrap();
        }
    }
    w.close().unwrap();
}

/// ip1 of a level, new style.
fn ip1(value: f32, kind: fst_core::ip::LevelKind) -> u32 {
    fst_core::ip::encode_ip(value, kind, fst_core::ip::IpStyle::New).unwrap()
}

/// ig1..ig4 of an L grid.
fn l_grid(lat0: f64, lon0: f64, dlat: f64, dlon: f64) -> [u32; 4] {
    grids::params::LatLonParams {
        lat0,
        lon0,
        dlat,
        dlon,
    }
    .encode()
    .unwrap()
}

/// Heights of the levels (m above sea level) and the field's profile there (°C): the
/// profile bends at every level, so that only the right pair of levels reproduces it.
const HEIGHTS: [f32; 7] = [100.0, 400.0, 1000.0, 2500.0, 5000.0, 9000.0, 14000.0];
const PROFILE: [f32; 7] = [20.0, 18.5, 14.0, 5.0, -12.0, -40.0, -58.0];

#[tokio::test]
async fn departures_on_height_levels_are_linear_in_height() {
    use fst_core::ip::LevelKind;
    // 0.5° L grid over the observations (-145..-45.5, 15..64.5), valid at 21Z and 03Z; TT
    // linear in longitude, latitude and time (bilinear and time interpolation are exact on
    // it), piecewise linear in height.
    let (lon0, lat0, d) = (-145.0, 15.0, 0.5);
    let dir = data_dir("omf-heights", false);
    let model_levels: Vec<u32> = HEIGHTS.iter().map(|h| ip1(*h, LevelKind::Height)).collect();
    let horizontal = |lon: f64, lat: f64| 0.05 * lon - 0.3 * lat;
    write_model(
        &dir.join("model.fst"),
        "TT",
        (l_grid(lat0, lon0 + 360.0, d, d), 200, 100),
        &model_levels,
        &[3, 9],
        |i, j, k, t| {
            let (lon, lat) = (lon0 + d * i as f64, lat0 + d * j as f64);
            (horizontal(lon, lat) + f64::from(PROFILE[k]) + 2.0 * t as f64) as f32
        },
    );
    let state = state_for(&dir);
    let t = truth();
    let d = ObsDataset::open(data("omf_sfc_sonde.nc4")).unwrap();
    let height = d.read("MetaData/height").unwrap().to_f64();
    let report = d.read("MetaData/prepbufrReportType").unwrap().to_f64();
    let (got, _) = per_observation(&state, LAYER, "model").await;
    let (t21, t03) = (1_718_485_200_i64, 1_718_506_800_i64);
    let levels: Vec<f64> = HEIGHTS.iter().map(|h| f64::from(*h)).collect();
    let (mut surface, mut upper, mut below, mut above) = (0, 0, 0, 0);
    for i in 0..t.lon.len() {
        let h = height[i];
        let inside = t.lon[i] >= lon0
            && t.lon[i] <= lon0 + 199.0 * 0.5
            && t.lat[i] >= lat0
            && t.lat[i] <= lat0 + 99.0 * 0.5
            && (t21..=t03).contains(&t.time[i]);
        let Some(b) = levels.windows(2).position(|w| w[0] <= h && h <= w[1]) else {
            assert!(got[i].is_none(), "observation {i} at {h} m: {:?}", got[i]);
            if inside && h < levels[0] {
                below += 1;
            } else if inside {
                above += 1;
            }
            continue;
        };
        if !inside {
            continue;
        }
        let w = (h - levels[b]) / (levels[b + 1] - levels[b]);
        let profile =
            f64::from(PROFILE[b]) + w * (f64::from(PROFILE[b + 1]) - f64::from(PROFILE[b]));
        let wt = (t.time[i] - t21) as f64 / (t03 - t21) as f64;
        let want = horizontal(t.lon[i], t.lat[i]) + profile + 2.0 * wt + 273.15;
        let model = got[i].unwrap_or_else(|| panic!("observation {i} at {h} m dropped"));
        assert!(
            (model - want).abs() <= 1e-3,
            "observation {i} at {h} m: model {model}, expected {want}"
        );
        if report[i] == 181.0 {
            surface += 1;
        } else {
            upper += 1;
        }
    }
    // Surface reports at their station heights and radiosonde levels, and observations
    // below the lowest level and above the highest, dropped.
    assert!(
        surface > 300 && upper > 300 && below > 10 && above > 100,
        "{surface} surface, {upper} upper-air, {below} below, {above} above"
    );
}

#[tokio::test]
async fn a_global_grid_interpolates_across_its_wrap_column() {
    use fst_core::ip::LevelKind;
    // A global 2° L grid whose first column is at 101°W: the last (103°W) is followed by the
    // first, across the observations' area. One valid time (00Z, an analysis), one level.
    let (lon0, lat0, ni, nj) = (259.0, 10.0, 180usize, 60usize);
    let dir = data_dir("omf-wrap", false);
    let value = |i: usize, j: usize| 0.1 * i as f64 + 0.01 * j as f64 + 0.001 * (i * j) as f64;
    write_model(
        &dir.join("model.fst"),
        "TT",
        (l_grid(lat0, lon0, 1.0, 2.0), ni as u32, nj as u32),
        &[ip1(1.5, LevelKind::HeightAboveGround)],
        &[6],
        |i, j, _, _| value(i, j) as f32,
    );
    let state = state_for(&dir);
    let t = truth();
    let (got, _) = per_observation(&state, LAYER, "model").await;
    let (mut across, mut elsewhere) = (0, 0);
    for i in 0..t.lon.len() {
        if !t.lon[i].is_finite() || (t.time[i] - 1_718_496_000).abs() > 3 * 3600 {
            continue;
        }
        // Fractional column from the first, round the globe; row from the first.
        let x = (t.lon[i] - lon0).rem_euclid(360.0) / 2.0;
        let y = t.lat[i] - lat0;
        let (i0, j0) = (x.floor() as usize, (y.floor() as usize).min(nj - 2));
        let (i1, a, b) = ((i0 + 1) % ni, x - x.floor(), y - j0 as f64);
        let top = value(i0, j0) + a * (value(i1, j0) - value(i0, j0));
        let bottom = value(i0, j0 + 1) + a * (value(i1, j0 + 1) - value(i0, j0 + 1));
        let want = top + b * (bottom - top) + 273.15;
        let model = got[i]
            .unwrap_or_else(|| panic!("observation {i} ({}, {}) dropped", t.lon[i], t.lat[i]));
        assert!(
            (model - want).abs() <= 1e-3,
            "observation {i} at ({}, {}): model {model}, expected {want}",
            t.lon[i],
            t.lat[i]
        );
        if i0 == ni - 1 {
            across += 1;
        } else {
            elsewhere += 1;
        }
    }
    assert!(
        across > 20 && elsewhere > 1000,
        "{across} across the wrap, {elsewhere} elsewhere"
    );
}

/// A state whose O−F computations may wait `wait_ms` for the render budget.
fn state_waiting(dir: &Path, wait_ms: u64) -> AppState {
    let mut c = Config::with_data(vec![dir.to_path_buf()]);
    c.watch.enabled = false;
    c.limits.render_wait_ms = wait_ms;
    AppState::new(c).expect("styles load")
}

/// Take the whole render budget, as renders in progress would.
async fn hold_budget(state: &AppState) -> tokio::sync::OwnedSemaphorePermit {
    let all = u32::try_from(state.config.limits.render_budget_mb * 1024).unwrap();
    std::sync::Arc::clone(&state.render_budget)
        .acquire_many_owned(all)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_requests_compute_once_within_the_render_budget() {
    let dir = data_dir("omf-flight", true);
    let state = state_waiting(&dir, 60_000);
    // The budget is taken: every request gets as far as the computation and waits there.
    let held = hold_budget(&state).await;
    let uri = format!("/collections/{LAYER}/stats?qc=all");
    let requests: Vec<_> = (0..8)
        .map(|_| {
            let (s, u) = (state.clone(), uri.clone());
            tokio::spawn(async move { get(&s, &u).await })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(
        state.obs.departures_computed(),
        0,
        "no budget, no computation"
    );
    assert!(requests.iter().all(|r| !r.is_finished()));
    drop(held);
    let mut bodies = Vec::new();
    for r in requests {
        let r = r.await.unwrap();
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        bodies.push(r.body);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(
        state.obs.departures_computed(),
        1,
        "one computation for 8 requests"
    );
    // Then from the cache.
    assert_eq!(get(&state, &uri).await.status, StatusCode::OK);
    assert_eq!(state.obs.departures_computed(), 1);
}

#[tokio::test]
async fn a_computation_that_finds_no_render_budget_is_busy() {
    let dir = data_dir("omf-busy", true);
    let state = state_waiting(&dir, 300);
    let held = hold_budget(&state).await;
    let uri = format!("/collections/{LAYER}/stats");
    let r = get(&state, &uri).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    assert_eq!(state.obs.departures_computed(), 0);
    drop(held);
    let r = get(&state, &uri).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(state.obs.departures_computed(), 1);
}

/// The generator's station pressures (`bench/make_ioda_obs.py --station-pressure`).
const STATION_PRESSURE: &str = "sp.stationPressure.OmF";

/// The orography a station-pressure test's model has.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Orography {
    None,
    /// `ME`, metres.
    Me,
    /// `GZ` in decametres at the ground (hybrid 1.0), beside a `GZ` at 500 hPa that must not
    /// be taken for it.
    GzAtGround,
}

/// A data directory with the station-pressure observations and a model of P0 (hPa) and its
/// `orography`, on one 0.5° L grid over them, valid at 00Z (an analysis): both linear in
/// longitude and latitude, so that bilinear interpolation is exact.
fn station_pressure_dir(name: &str, orography_field: Orography) -> PathBuf {
    let dir = fresh_dir(name);
    std::fs::copy(data("obs_station_pressure.nc4"), dir.join("sp.nc4")).unwrap();
    let (lon0, lat0, d) = (-145.0, 15.0, 0.5);
    let grid = (l_grid(lat0, lon0 + 360.0, d, d), 200, 100);
    let at = |i: usize, j: usize| (lon0 + d * i as f64, lat0 + d * j as f64);
    let model = dir.join("model.fst");
    write_model(&model, "P0", grid, &[0], &[6], |i, j, _, _| {
        let (lon, lat) = at(i, j);
        p0(lon, lat) as f32
    });
    match orography_field {
        Orography::None => {}
        Orography::Me => write_model(&model, "ME", grid, &[0], &[6], |i, j, _, _| {
            let (lon, lat) = at(i, j);
            orography(lon, lat) as f32
        }),
        Orography::GzAtGround => {
            use fst_core::ip::LevelKind;
            let levels = [ip1(500.0, LevelKind::Pressure), ip1(1.0, LevelKind::Hybrid)];
            write_model(&model, "GZ", grid, &levels, &[6], |i, j, k, _| {
                let (lon, lat) = at(i, j);
                if k == 0 {
                    560.0 // 500 hPa, not the ground
                } else {
                    (orography(lon, lat) / 10.0) as f32
                }
            });
        }
    }
    dir
}

fn p0(lon: f64, lat: f64) -> f64 {
    1000.0 + 0.1 * lon + 0.2 * lat
}

fn orography(lon: f64, lat: f64) -> f64 {
    200.0 + 4.0 * (lon + 145.0) + 6.0 * (lat - 15.0)
}

#[tokio::test]
async fn station_pressure_is_p0_carried_from_the_orography_to_the_station() {
    check_station_pressure(&state_for(&station_pressure_dir("omf-p0", Orography::Me))).await;
}

#[tokio::test]
async fn without_me_the_orography_is_gz_at_the_ground_in_decametres() {
    let dir = station_pressure_dir("omf-p0-gz", Orography::GzAtGround);
    check_station_pressure(&state_for(&dir)).await;
}

/// Every station pressure with an elevation is P0 carried from [`orography`] to the
/// station through the standard atmosphere; the others are dropped as `no_elevation`.
async fn check_station_pressure(state: &AppState) {
    let d = ObsDataset::open(data("obs_station_pressure.nc4")).unwrap();
    let read = |q: &str| d.read(q).unwrap().to_f64();
    let (lon, lat) = (
        d.longitudes().unwrap().to_f64(),
        d.latitudes().unwrap().to_f64(),
    );
    let elevation = read("MetaData/stationElevation");
    let value = read("ObsValue/stationPressure");
    let (got, dropped) = per_observation(state, STATION_PRESSURE, "model").await;
    // ICAO standard atmosphere, written out again: T0, lapse rate, g / (R·L).
    let exponent = 9.806_65 / (287.053 * 0.0065);
    let (mut checked, mut no_elevation, mut departures) = (0, 0, Vec::new());
    for i in 0..lon.len() {
        if !elevation[i].is_finite() {
            assert!(
                got[i].is_none(),
                "observation {i} without elevation: {:?}",
                got[i]
            );
            no_elevation += 1;
            continue;
        }
        let (x, y) = (lon[i], lat[i]);
        let ratio = (288.15 - 0.0065 * elevation[i]) / (288.15 - 0.0065 * orography(x, y));
        let want = p0(x, y) * ratio.powf(exponent) * 100.0;
        let model = got[i].unwrap_or_else(|| panic!("observation {i} dropped"));
        assert!(
            (model - want).abs() <= 0.02,
            "observation {i}: model {model} Pa, expected {want} Pa"
        );
        if value[i].is_finite() {
            departures.push(value[i] - model);
        }
        checked += 1;
    }
    assert_eq!(dropped["no_elevation"], no_elevation, "{dropped}");
    assert_eq!(dropped["no_orography"], 0, "{dropped}");
    assert!(
        checked > 500 && no_elevation > 20,
        "{checked} checked, {no_elevation} without elevation"
    );
    // The generator's pressures are the same standard atmosphere over a sea-level pressure
    // near P0's: the departures are the noise (50 Pa) plus that difference, not the
    // hundreds of hPa between the model's surface and the stations'.
    let rms = (departures.iter().map(|d| d * d).sum::<f64>() / departures.len() as f64).sqrt();
    assert!(rms < 5000.0, "rms {rms} Pa over {}", departures.len());
}

#[tokio::test]
async fn station_pressure_without_orography_is_dropped_with_its_reason() {
    let state = state_for(&station_pressure_dir("omf-p0-bare", Orography::None));
    let (got, dropped) = per_observation(&state, STATION_PRESSURE, "model").await;
    assert!(
        got.iter().all(Option::is_none),
        "no value without an orography"
    );
    let d = ObsDataset::open(data("obs_station_pressure.nc4")).unwrap();
    let located = d.longitudes().unwrap().to_f64().len() as u64;
    let reasons: u64 = [
        "no_location",
        "outside_grid",
        "no_time",
        "outside_times",
        "no_orography",
    ]
    .iter()
    .map(|r| dropped[r].as_u64().unwrap())
    .sum();
    assert_eq!(reasons, located, "{dropped}");
    assert!(dropped["no_orography"].as_u64().unwrap() > 500, "{dropped}");
}

#[tokio::test]
async fn an_io_pool_set_has_the_departures_of_the_one_file() {
    // The generator's io-pool split of the same observations (four members, consecutive
    // blocks of locations), beside the same model: observation by observation, the set's
    // model values are the single file's.
    let single = state_for(&station_pressure_dir("omf-pool-one", Orography::Me));
    let dir = station_pressure_dir("omf-pool-set", Orography::Me);
    std::fs::remove_file(dir.join("sp.nc4")).unwrap();
    for k in 0..4 {
        std::fs::copy(
            data(&format!("obs_station_pressure_pool_000{k}.nc4")),
            dir.join(format!("sp_000{k}.nc4")),
        )
        .unwrap();
    }
    let set = state_for(&dir);
    let (one, dropped_one) = per_observation(&single, STATION_PRESSURE, "model").await;
    let (pool, dropped_pool) = per_observation(&set, STATION_PRESSURE, "model").await;
    assert_eq!(pool.len(), one.len());
    assert!(one.iter().filter(|v| v.is_some()).count() > 500);
    assert_eq!(pool, one);
    assert_eq!(dropped_pool, dropped_one);
}
