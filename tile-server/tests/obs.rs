//! Observation layers through the router (no socket): `/collections` and
//! `/collections/{layer}/items` over copies of the IODA fixtures, each answer checked
//! against a brute-force pass over what `crates/ioda` reads from the same files.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::float_cmp
)]
// test code: failing loudly is the point; coordinates are compared as read, bit for bit.

mod support;

use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use ioda::{ObsDataset, Values};
use serde_json::Value;
use support::{fresh_dir, get_in as get};
use tile_server::config::{bundled_sample, Config};
use tile_server::AppState;

/// Whether (lon, lat) is inside a bbox, written out for the brute-force pass.
type Inside = fn(f64, f64) -> bool;

fn fixtures() -> PathBuf {
    fst_testkit::fixtures::shared_fixtures("ioda")
}

/// A data directory with: a v2 file, an io-pool set of two v2 copies, the single-ob v3
/// file (`PreQC`), an FST file (not observations) and a corrupt `.nc4` (skipped).
fn data_dir(name: &str) -> PathBuf {
    let dir = fresh_dir(name);
    let f = fixtures();
    let v2 = f.join("synthetic/synth_v2_sfc.nc4");
    std::fs::copy(&v2, dir.join("sfc.nc4")).unwrap();
    std::fs::copy(&v2, dir.join("pool_0000.nc4")).unwrap();
    std::fs::copy(&v2, dir.join("pool_0001.nc4")).unwrap();
    std::fs::copy(
        f.join("rdasapp_msonet_singleob_airTemperature.nc4"),
        dir.join("msonet.nc4"),
    )
    .unwrap();
    std::fs::copy(bundled_sample(), dir.join("model.fst")).unwrap();
    let bytes = std::fs::read(&v2).unwrap();
    std::fs::write(dir.join("broken.nc4"), &bytes[..bytes.len() / 2]).unwrap();
    dir
}

fn state_for(dir: &Path) -> AppState {
    let mut c = Config::with_data(vec![dir.to_path_buf()]);
    c.watch.enabled = false;
    AppState::new(c).expect("styles load")
}

/// What the layer holds, read by the library: (lon, lat, time, value present, qc ok).
struct Expected {
    lon: Vec<f64>,
    lat: Vec<f64>,
    time: Vec<Option<i64>>,
    kept_by_qc: Vec<bool>,
}

fn expected(path: &Path, variable: &str) -> Expected {
    let d = ObsDataset::open(path).unwrap();
    let lon = d.longitudes().unwrap().to_f64();
    let lat = d.latitudes().unwrap().to_f64();
    let times = d.date_times().unwrap();
    let Values::I64(seconds) = &times.values else {
        panic!()
    };
    let time = seconds
        .iter()
        .zip(&times.missing)
        .map(|(s, m)| (!m).then_some(*s))
        .collect();
    let value = d.read(&format!("ObsValue/{variable}")).unwrap();
    let qc = d
        .variable(&format!("PreQC/{variable}"))
        .map(|_| d.read(&format!("PreQC/{variable}")).unwrap().to_f64());
    let kept_by_qc = (0..lon.len())
        .map(|i| !value.missing[i] && qc.as_ref().is_none_or(|q| q[i] == 0.0))
        .collect();
    Expected {
        lon,
        lat,
        time,
        kept_by_qc,
    }
}

async fn items(state: &AppState, query: &str) -> Value {
    let r = get(state, query).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text());
    assert_eq!(r.ctype(), "application/geo+json");
    serde_json::from_slice(&r.body).unwrap()
}

#[tokio::test]
async fn collections_list_one_layer_per_obsvalue_variable_of_each_set() {
    let dir = data_dir("obs-collections");
    let state = state_for(&dir);
    let r = get(&state, "/collections").await;
    assert_eq!(r.status, StatusCode::OK);
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    let mut ids: Vec<String> = body["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    let mut want = vec![
        "sfc.airTemperature".to_owned(),
        "pool.airTemperature".to_owned(),
    ];
    let msonet = ObsDataset::open(dir.join("msonet.nc4")).unwrap();
    want.extend(
        msonet
            .variables()
            .iter()
            .filter(|v| v.name.group == "ObsValue")
            .map(|v| format!("msonet.{}", v.name.name)),
    );
    // The sample's TT, HU and UU+VV pair make O−F layers of the variables that map to them
    // (`obs::model::TABLE`); it has no TD or P0.
    want.extend(
        [
            "sfc.airTemperature.OmF",
            "pool.airTemperature.OmF",
            "msonet.airTemperature.OmF",
            "msonet.specificHumidity.OmF",
            "msonet.windEastward.OmF",
            "msonet.windNorthward.OmF",
        ]
        .map(str::to_owned),
    );
    want.sort();
    assert_eq!(ids, want, "the FST file and the broken file are not layers");
    // The observation files are no problem of the field catalogue: it listed each of them in
    // /healthz (and the log) as "not an RPN standard file".
    let skipped: Vec<String> = state
        .snapshot()
        .skipped
        .iter()
        .map(|s| s.path.display().to_string())
        .collect();
    assert!(skipped.is_empty(), "{skipped:?}");
}

#[tokio::test]
async fn items_answer_bbox_datetime_and_limit_like_a_brute_force_pass() {
    let dir = data_dir("obs-items");
    let state = state_for(&dir);
    let e = expected(&dir.join("sfc.nc4"), "airTemperature");
    let n = e.lon.len();

    // No filter: every observation with a value (this file has no QC flags), first 100.
    let all = items(&state, "/collections/sfc.airTemperature/items").await;
    let kept = e.kept_by_qc.iter().filter(|k| **k).count();
    assert_eq!(all["numberMatched"], kept);
    assert_eq!(all["features"].as_array().unwrap().len(), 100.min(kept));
    let f = &all["features"][0];
    let i = f["id"].as_u64().unwrap() as usize;
    // Within an ulp: serde_json parses floats that closely without `float_roundtrip`.
    let close = |a: f64, b: f64| (a - b).abs() <= 4.0 * f64::EPSILON * b.abs().max(1.0);
    assert!(close(
        f["geometry"]["coordinates"][0].as_f64().unwrap(),
        e.lon[i]
    ));
    assert!(close(
        f["geometry"]["coordinates"][1].as_f64().unwrap(),
        e.lat[i]
    ));
    assert_eq!(f["properties"]["units"], "K");
    assert!(f["properties"]["station"].is_string());

    // A bbox, and one across the antimeridian (from 100°W east to 170°W: the file's points,
    // over North America, are in its eastern part).
    let cases: [(&str, Inside); 2] = [
        ("-110,30,-80,45", |x, y| {
            (-110.0..=-80.0).contains(&x) && (30.0..=45.0).contains(&y)
        }),
        ("-100,20,-170,60", |x, y| {
            (x >= -100.0 || x <= -170.0) && (20.0..=60.0).contains(&y)
        }),
    ];
    for (bbox, inside) in cases {
        let body = items(
            &state,
            &format!("/collections/sfc.airTemperature/items?bbox={bbox}&limit=10000"),
        )
        .await;
        let want: Vec<usize> = (0..n)
            .filter(|i| e.kept_by_qc[*i] && inside(e.lon[*i], e.lat[*i]))
            .collect();
        assert!(
            !want.is_empty(),
            "{bbox}: the test needs observations inside"
        );
        let got: Vec<usize> = body["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_u64().unwrap() as usize)
            .collect();
        assert_eq!(got, want, "{bbox}");
        assert_eq!(body["numberMatched"], want.len());
    }

    // A time window: the middle of the file's times.
    let mut times: Vec<i64> = e.time.iter().flatten().copied().collect();
    times.sort_unstable();
    let (start, end) = (times[times.len() / 4], times[times.len() / 2]);
    let iso = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let body = items(
        &state,
        &format!(
            "/collections/sfc.airTemperature/items?datetime={}/{}&limit=1",
            iso(start),
            iso(end)
        ),
    )
    .await;
    let want = (0..n)
        .filter(|i| e.kept_by_qc[*i] && e.time[*i].is_some_and(|t| t >= start && t <= end))
        .count();
    assert_eq!(body["numberMatched"], want);
    assert_eq!(body["numberReturned"], 1);
    let t = body["features"][0]["properties"]["time"].as_str().unwrap();
    let t = chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp();
    assert!(t >= start && t <= end);
}

#[tokio::test]
async fn an_io_pool_set_is_one_layer_and_qc_filters_by_flag_unless_qc_all() {
    let dir = data_dir("obs-pool-qc");
    let state = state_for(&dir);
    let single = items(&state, "/collections/sfc.airTemperature/items?limit=1").await;
    let set = items(&state, "/collections/pool.airTemperature/items?limit=1").await;
    assert_eq!(
        set["numberMatched"].as_u64().unwrap(),
        2 * single["numberMatched"].as_u64().unwrap()
    );

    let e = expected(&dir.join("msonet.nc4"), "airTemperature");
    let filtered = items(&state, "/collections/msonet.airTemperature/items").await;
    let unfiltered = items(&state, "/collections/msonet.airTemperature/items?qc=all").await;
    let kept = e.kept_by_qc.iter().filter(|k| **k).count();
    assert_eq!(filtered["numberMatched"], kept);
    assert_eq!(unfiltered["numberMatched"], e.lon.len());
    let props = &unfiltered["features"][0]["properties"];
    assert!(props["qc"].is_i64(), "{props}");
    // The largest flag kept (UFO's PreQC `maxvalue`): this NCEP report has quality mark 2,
    // which the default (flag 0) hides and `qc=3` (prepbufr's usable marks) keeps.
    assert_eq!(props["qc"], 2, "{props}");
    for (largest, want) in [("0", 0), ("1", 0), ("2", 1), ("3", 1), ("%203%20", 1)] {
        let q = items(
            &state,
            &format!("/collections/msonet.airTemperature/items?qc={largest}"),
        )
        .await;
        assert_eq!(q["numberMatched"], want, "qc={largest}");
    }
    assert!(
        props["hofx"].is_null(),
        "no HofX group in this file: {props}"
    );
}

#[tokio::test]
async fn bad_requests_are_errors_and_the_server_stays_up() {
    let dir = data_dir("obs-errors");
    let state = state_for(&dir);
    for (query, status) in [
        ("/collections/nope.airTemperature/items", StatusCode::NOT_FOUND),
        ("/collections/broken.airTemperature/items", StatusCode::NOT_FOUND),
        ("/collections/sfc.airTemperature/items?bbox=1,2,3", StatusCode::BAD_REQUEST),
        ("/collections/sfc.airTemperature/items?bbox=0,50,10,40", StatusCode::BAD_REQUEST),
        ("/collections/sfc.airTemperature/items?bbox=0,0,200,10", StatusCode::BAD_REQUEST),
        ("/collections/sfc.airTemperature/items?limit=0", StatusCode::BAD_REQUEST),
        ("/collections/sfc.airTemperature/items?limit=10001", StatusCode::BAD_REQUEST),
        ("/collections/sfc.airTemperature/items?datetime=yesterday", StatusCode::BAD_REQUEST),
        (
            "/collections/sfc.airTemperature/items?datetime=2020-01-02T00:00:00Z/2020-01-01T00:00:00Z",
            StatusCode::BAD_REQUEST,
        ),
        ("/collections/sfc.airTemperature/items?qc=some", StatusCode::BAD_REQUEST),
        ("/collections/sfc.airTemperature/items?qc=-1", StatusCode::BAD_REQUEST),
        ("/collections/sfc.airTemperature/items?qc=1.5", StatusCode::BAD_REQUEST),
        ("/collections/sfc.airTemperature/items?qc=99999999999999999999", StatusCode::BAD_REQUEST),
    ] {
        let r = get(&state, query).await;
        assert_eq!(r.status, status, "{query}: {}", r.text());
    }
    // A file rewritten with garbage after indexing: an error for that layer, not a crash,
    // and the other layers still answer.
    items(&state, "/collections/sfc.airTemperature/items?limit=1").await;
    std::fs::write(dir.join("pool_0001.nc4"), b"not hdf5 at all, and short").unwrap();
    let r = get(&state, "/collections/pool.airTemperature/items").await;
    assert!(
        r.status == StatusCode::NOT_FOUND || r.status == StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        r.text()
    );
    assert!(
        !r.text().contains(dir.to_str().unwrap()),
        "server paths leak: {}",
        r.text()
    );
    items(&state, "/collections/sfc.airTemperature/items?limit=1").await;
}

#[tokio::test]
async fn a_value_only_in_derived_obs_value_is_a_layer() {
    // Some converters put the observed value only in DerivedObsValue (docs/ioda.md 1.2):
    // such a variable had no layer. A variable in both groups stays the ObsValue one.
    let dir = fresh_dir("obs-derived");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    std::fs::copy(data.join("obs_derived_only.nc4"), dir.join("derived.nc4")).unwrap();
    let state = state_for(&dir);
    let wind = items(&state, "/collections/derived.windSpeed/items").await;
    let values: Vec<f64> = wind["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["value"].as_f64().unwrap())
        .collect();
    assert_eq!(values, [3.0, 4.5, 6.0, 7.5, 9.0]);
    let temperature = items(&state, "/collections/derived.airTemperature/items").await;
    assert_eq!(
        temperature["features"][0]["properties"]["value"].as_f64(),
        Some(280.0)
    );
}
