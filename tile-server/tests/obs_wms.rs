//! Observation layers through WMS, XYZ and `/collections/{layer}/stats` (in process, no
//! socket): capabilities, points drawn where a brute-force pass over what `crates/ioda`
//! reads says they are, QC and time windows, the radius bound, `GetFeatureInfo`, statistics,
//! stacks with fields, the render budget, and golden images.
//!
//! `tests/data/obs_sfc_sonde.nc4` was written by `bench/make_ioda_obs.py --locations 2000
//! --bbox=-130,25,-60,55 --seed 7` (`ObsValue`, `ObsError`, `HofX`, `PreQC` of `airTemperature`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::float_cmp,
    clippy::string_slice
)]
// test code: failing loudly is the point; values are compared as read, bit for bit; the
// capabilities are cut at ASCII tags.

mod support;

use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use serde_json::Value;
use support::obs::Truth;
use support::{fresh_dir, get_in as get};
use tile_server::config::{bundled_sample, Config};
use tile_server::styles::{ColorRange, StyleOverrides};
use tile_server::AppState;

fn obs_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/obs_sfc_sonde.nc4")
}

fn fixtures() -> PathBuf {
    fst_testkit::fixtures::shared_fixtures("ioda")
}

/// A data directory with the generated file (`obs.*`), the radiance file (`goes.*`,
/// channels) and the bundled FST sample (field layers).
fn data_dir(name: &str) -> PathBuf {
    let dir = fresh_dir(name);
    std::fs::copy(obs_file(), dir.join("obs.nc4")).unwrap();
    std::fs::copy(
        fixtures().join("obs2ioda_write_goes_abi_ioda_v3.nc"),
        dir.join("goes.nc"),
    )
    .unwrap();
    std::fs::copy(bundled_sample(), dir.join("model.fst")).unwrap();
    dir
}

fn state_with(dir: &Path, edit: impl FnOnce(&mut Config)) -> AppState {
    let mut c = Config::with_data(vec![dir.to_path_buf()]);
    c.watch.enabled = false;
    edit(&mut c);
    AppState::new(c).expect("styles load")
}

fn truth() -> Truth {
    support::obs::truth(&obs_file(), "airTemperature")
}

fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut r = png::Decoder::new(bytes).read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size()];
    let info = r.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

async fn png(state: &AppState, uri: &str) -> (u32, u32, Vec<u8>) {
    let r = get(state, uri).await;
    assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text());
    assert_eq!(r.ctype(), "image/png", "{uri}: {}", r.text());
    decode(&r.body)
}

const BBOX: [f64; 4] = [-135.0, 20.0, -55.0, 60.0];
const SIZE: u32 = 200;

fn getmap(layer: &str, extra: &str) -> String {
    format!(
        "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS={layer}&CRS=CRS:84&BBOX={},{},{},{}&WIDTH={SIZE}&HEIGHT={SIZE}&FORMAT=image/png{extra}",
        BBOX[0], BBOX[1], BBOX[2], BBOX[3]
    )
}

/// The pixel (column, row) of a CRS:84 image of `BBOX` holding (lon, lat).
fn pixel(lon: f64, lat: f64) -> Option<(usize, usize)> {
    let dx = (BBOX[2] - BBOX[0]) / f64::from(SIZE);
    let dy = (BBOX[3] - BBOX[1]) / f64::from(SIZE);
    let c = ((lon - BBOX[0]) / dx).floor();
    let r = ((BBOX[3] - lat) / dy).floor();
    (c >= 0.0 && r >= 0.0 && c < f64::from(SIZE) && r < f64::from(SIZE))
        .then_some((c as usize, r as usize))
}

/// The top observation of each pixel (highest index), by brute force.
fn winners(t: &Truth, keep: impl Fn(usize) -> bool) -> Vec<Option<usize>> {
    let mut top = vec![None; (SIZE * SIZE) as usize];
    for i in 0..t.lon.len() {
        if keep(i) {
            if let Some((c, r)) = pixel(t.lon[i], t.lat[i]) {
                top[r * SIZE as usize + c] = Some(i);
            }
        }
    }
    top
}

fn alpha(rgba: &[u8], k: usize) -> u8 {
    rgba[k * 4 + 3]
}

#[tokio::test]
async fn capabilities_list_observation_layers_in_their_own_group_with_extent_and_time() {
    let dir = data_dir("obswms-caps");
    let state = state_with(&dir, |_| {});
    let t = truth();
    let finite: Vec<usize> = (0..t.lon.len())
        .filter(|i| t.lon[*i].is_finite() && t.lat[*i].is_finite())
        .collect();
    let west = finite
        .iter()
        .map(|i| t.lon[*i])
        .fold(f64::INFINITY, f64::min);
    let north = finite
        .iter()
        .map(|i| t.lat[*i])
        .fold(f64::NEG_INFINITY, f64::max);
    let iso = |s: i64| {
        chrono::DateTime::from_timestamp(s, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let (t0, t1) = (
        iso(*t.time.iter().min().unwrap()),
        iso(*t.time.iter().max().unwrap()),
    );

    let r = get(
        &state,
        "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let x = r.text();
    let group = x
        .find("<Title>Observations</Title>")
        .expect("an observation group");
    // Fields come first; every observation layer is inside the group.
    assert!(x.find("<Name>TT</Name>").unwrap() < group);
    for name in [
        "obs.airTemperature",
        "obs.airTemperature.ObsError",
        "obs.airTemperature.HofX",
        "obs.airTemperature.OmB",
        "goes.brightnessTemperature.ch7",
        "goes.brightnessTemperature.ch9.ObsError",
    ] {
        let at = x
            .find(&format!("<Name>{name}</Name>"))
            .unwrap_or_else(|| panic!("{name} missing"));
        assert!(at > group, "{name} outside the group");
    }
    // The radiance file has no HofX: no O−B layer for it.
    assert!(!x.contains("goes.brightnessTemperature.ch7.OmB"));
    let layer = &x[x.find("<Name>obs.airTemperature.OmB</Name>").unwrap()..];
    let layer = &layer[..layer.find("</Layer>").unwrap()];
    assert!(
        layer.contains(&format!("<westBoundLongitude>{west}</westBoundLongitude>")),
        "{layer}"
    );
    assert!(layer.contains(&format!("<northBoundLatitude>{north}</northBoundLatitude>")));
    assert!(
        layer.contains(&format!(
            "<Dimension name=\"time\" units=\"ISO8601\" default=\"{t0}/{t1}\">{t0}/{t1}/0</Dimension>"
        )),
        "{layer}"
    );
    assert!(layer.contains("<Style><Name>departure</Name>"), "{layer}");

    let r = get(
        &state,
        "/wms?SERVICE=WMS&VERSION=1.1.1&REQUEST=GetCapabilities",
    )
    .await;
    let x = r.text();
    let layer = &x[x.find("<Name>obs.airTemperature</Name>").unwrap()..];
    let layer = &layer[..layer.find("</Layer>").unwrap()];
    assert!(
        layer.contains(&format!("<LatLonBoundingBox minx=\"{west}\"")),
        "{layer}"
    );
    assert!(layer.contains(&format!(
        "<Extent name=\"time\" default=\"{t0}/{t1}\">{t0}/{t1}/0</Extent>"
    )));
    assert!(
        layer.contains("<Style><Name>temperature-kelvin</Name>"),
        "{layer}"
    );
}

#[tokio::test]
#[allow(clippy::too_many_lines)] // one data directory, one brute-force truth, several cases
async fn getmap_draws_each_kept_observation_in_its_pixel_with_the_style_colour() {
    let dir = data_dir("obswms-getmap");
    let state = state_with(&dir, |_| {});
    let t = truth();
    let range = [250.0, 310.0];
    let (w, h, rgba) = png(
        &state,
        &getmap(
            "obs.airTemperature",
            "&STYLES=viridis&RADIUS=0&COLORSCALERANGE=250,310",
        ),
    )
    .await;
    assert_eq!((w, h), (SIZE, SIZE));
    let top = winners(&t, |i| t.kept(i, false));
    let overrides = StyleOverrides {
        range: ColorRange::Fixed(range),
        ..StyleOverrides::default()
    };
    let cm = state
        .styles
        .get("viridis")
        .unwrap()
        .color_map_in(&overrides, range);
    let mut drawn = 0;
    for (k, winner) in top.iter().enumerate() {
        match winner {
            Some(i) => {
                drawn += 1;
                assert_eq!(
                    &rgba[k * 4..k * 4 + 4],
                    &cm.color(t.value[*i] as f32),
                    "pixel {k}: observation {i}"
                );
            }
            None => assert_eq!(alpha(&rgba, k), 0, "pixel {k} has no observation"),
        }
    }
    assert!(drawn > 100, "the test needs observations: {drawn}");

    // QC: `qc=all` draws the flagged ones too (never those without a value).
    let (_, _, all) = png(&state, &getmap("obs.airTemperature", "&RADIUS=0&QC=all")).await;
    let top_all = winners(&t, |i| t.kept(i, true));
    let flagged = (0..t.lon.len())
        .filter(|i| t.value[*i].is_finite() && t.qc[*i] != 0.0)
        .count();
    assert!(flagged > 0, "the file has QC-flagged observations");
    for (k, winner) in top_all.iter().enumerate() {
        assert_eq!(alpha(&all, k) > 0, winner.is_some(), "pixel {k}");
    }
    // A largest flag: the flags 0 and 1 of this file.
    let (_, _, upto1) = png(&state, &getmap("obs.airTemperature", "&RADIUS=0&QC=1")).await;
    let top_upto1 = winners(&t, |i| {
        t.value[i].is_finite() && (t.qc[i] == 0.0 || t.qc[i] == 1.0)
    });
    assert!(top_upto1.iter().flatten().any(|i| t.qc[*i] == 1.0));
    for (k, winner) in top_upto1.iter().enumerate() {
        assert_eq!(alpha(&upto1, k) > 0, winner.is_some(), "pixel {k}");
    }

    // A time window: an instant ± the default half-window (3 h), and an interval.
    let mut times: Vec<i64> = t.time.clone();
    times.sort_unstable();
    let (start, end) = (times[times.len() / 3], times[times.len() / 2]);
    let iso = |s: i64| {
        chrono::DateTime::from_timestamp(s, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let (_, _, windowed) = png(
        &state,
        &getmap(
            "obs.airTemperature",
            &format!("&RADIUS=0&TIME={}/{}", iso(start), iso(end)),
        ),
    )
    .await;
    let top_window = winners(&t, |i| {
        t.kept(i, false) && t.time[i] >= start && t.time[i] <= end
    });
    let mut inside = 0;
    for (k, winner) in top_window.iter().enumerate() {
        assert_eq!(alpha(&windowed, k) > 0, winner.is_some(), "pixel {k}");
        inside += usize::from(winner.is_some());
    }
    assert!(inside > 0 && inside < drawn, "{inside} of {drawn}");
    let centre = times[0] + 3600;
    let (_, _, instant) = png(
        &state,
        &getmap(
            "obs.airTemperature",
            &format!("&RADIUS=0&TIME={}", iso(centre)),
        ),
    )
    .await;
    let top_instant = winners(&t, |i| {
        t.kept(i, false) && t.time[i] >= centre - 3 * 3600 && t.time[i] <= centre + 3 * 3600
    });
    for (k, winner) in top_instant.iter().enumerate() {
        assert_eq!(alpha(&instant, k) > 0, winner.is_some(), "pixel {k}");
    }

    // A radius: a lone observation's circle (radius 2 covers 21 pixels).
    let (_, _, round) = png(&state, &getmap("obs.airTemperature", "&RADIUS=2")).await;
    let lone = top.iter().enumerate().find_map(|(k, w)| {
        let (c, r) = (k % SIZE as usize, k / SIZE as usize);
        let clear = |dc: i64, dr: i64| {
            let (cc, rr) = (c as i64 + dc, r as i64 + dr);
            cc < 0
                || rr < 0
                || cc >= i64::from(SIZE)
                || rr >= i64::from(SIZE)
                || top[(rr * i64::from(SIZE) + cc) as usize].is_none()
        };
        let alone = (-6..=6).all(|dr| (-6..=6).all(|dc| (dr == 0 && dc == 0) || clear(dc, dr)));
        (w.is_some() && alone && (8..192).contains(&c) && (8..192).contains(&r)).then_some((c, r))
    });
    let (c, r) = lone.expect("an isolated observation");
    let lit = (-4i64..=4)
        .flat_map(|dr| (-4i64..=4).map(move |dc| (dc, dr)))
        .filter(|(dc, dr)| {
            let k = ((r as i64 + dr) * i64::from(SIZE) + c as i64 + dc) as usize;
            alpha(&round, k) > 0
        })
        .count();
    assert_eq!(lit, 21);

    // The same through XYZ: a tile equals GetMap of its box in EPSG:3857.
    let r = get(&state, "/tiles/obs.airTemperature/3/1/2.png").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let tile = decode(&r.body);
    let b = tile_server::render::tile_bbox(3, 1, 2);
    let (_, _, wms) = png(
        &state,
        &format!(
            "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=obs.airTemperature&STYLES=&CRS=EPSG:3857&BBOX={},{},{},{}&WIDTH=256&HEIGHT=256&FORMAT=image/png",
            b[0], b[1], b[2], b[3]
        ),
    )
    .await;
    assert_eq!(tile.2, wms);
    // The legend of the layer's style.
    let r = get(
        &state,
        "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=obs.airTemperature.OmB&FORMAT=image/png",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(decode(&r.body).0, 110);
    assert!(
        tile.2.chunks_exact(4).any(|p| p[3] > 0),
        "the tile holds observations"
    );
}

#[tokio::test]
async fn bad_observation_requests_are_service_exceptions() {
    let dir = data_dir("obswms-errors");
    let state = state_with(&dir, |c| c.limits.render_budget_mb = 1);
    for extra in [
        "&RADIUS=99",
        "&RADIUS=-1",
        "&QC=some",
        "&QC=-3",
        "&TIME=yesterday",
        "&STYLES=isobars",
    ] {
        let r = get(&state, &getmap("obs.airTemperature", extra)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{extra}: {}", r.text());
        assert!(
            r.text().contains("ServiceException"),
            "{extra}: {}",
            r.text()
        );
    }
    // A 2048² image of points needs more than a 1 MiB budget.
    let r = get(
        &state,
        "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=obs.airTemperature&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=2048&HEIGHT=2048&FORMAT=image/png",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.text().contains("budget"), "{}", r.text());
    let r = get(&state, "/tiles/nope.airTemperature/3/1/2.png").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn getfeatureinfo_reports_the_nearest_observations_with_their_metadata() {
    let dir = data_dir("obswms-gfi");
    let state = state_with(&dir, |_| {});
    let t = truth();
    let top = winners(&t, |i| t.kept(i, false));
    // A pixel with few observations around (a radiosonde puts hundreds in a few pixels):
    // its top observation is among the 50 nearest.
    let crowd = |c: usize, r: usize| {
        (0..t.lon.len())
            .filter(|j| t.kept(*j, false))
            .filter_map(|j| pixel(t.lon[j], t.lat[j]))
            .filter(|(cc, rr)| cc.abs_diff(c) <= 7 && rr.abs_diff(r) <= 7)
            .count()
    };
    let (k, i) = top
        .iter()
        .enumerate()
        .filter_map(|(k, w)| w.map(|i| (k, i)))
        .find(|(k, _)| crowd(k % SIZE as usize, k / SIZE as usize) <= 40)
        .expect("an observation with few neighbours");
    let (c, r) = (k % SIZE as usize, k / SIZE as usize);
    let gfi = |fmt: &str, extra: &str| {
        format!(
            "{}&REQUEST=GetFeatureInfo&QUERY_LAYERS=obs.airTemperature.OmB&I={c}&J={r}&INFO_FORMAT={fmt}{extra}",
            getmap("obs.airTemperature.OmB", "").replace("&REQUEST=GetMap", "")
        )
    };
    let resp = get(&state, &gfi("application/json", "&FEATURE_COUNT=50")).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    let j: Value = serde_json::from_slice(&resp.body).unwrap();
    let obs = j["observations"].as_array().unwrap();
    assert!(!obs.is_empty());
    let mine = obs
        .iter()
        .find(|o| o["index"] == i)
        .unwrap_or_else(|| panic!("observation {i} in {j}"));
    // float32 values are given as the decimal they stand for: within half a float32 step of
    // the binary value (and the departure within a step of its operands).
    let step = |b: f64| f64::from(f32::EPSILON) * b.abs().max(1.0);
    let close = |a: &Value, b: f64, scale: f64| (a.as_f64().unwrap() - b).abs() <= step(scale);
    assert!(close(&mine["value"], t.value[i], t.value[i]));
    assert!(close(&mine["hofx"], t.hofx[i], t.hofx[i]));
    assert!(close(&mine["error"], t.error[i], t.error[i]));
    assert!(close(
        &mine["layer_value"],
        t.value[i] - t.hofx[i],
        t.value[i].abs().max(t.hofx[i].abs())
    ));
    // As written: no widened float32 digits (307.04998779296875 for 307.05).
    let text = serde_json::to_string(&mine["value"]).unwrap();
    assert!(text.len() <= 12, "{text}");
    assert_eq!(mine["qc"], 0);
    assert_eq!(mine["station"], t.station[i].as_str());
    assert_eq!(mine["units"], "K");
    // Nearest first, all within the tolerance (radius 3 + 2 pixels).
    let d: Vec<f64> = obs
        .iter()
        .map(|o| o["distance_px"].as_f64().unwrap())
        .collect();
    assert!(
        d.windows(2).all(|w| w[0] <= w[1]) && d.iter().all(|d| *d <= 5.0),
        "{d:?}"
    );

    let text = get(&state, &gfi("text/plain", "")).await;
    assert_eq!(text.ctype(), "text/plain");
    assert!(text.text().contains("station = "), "{}", text.text());
    let html = get(&state, &gfi("text/html", "")).await;
    assert!(html.ctype().starts_with("text/html"));
    assert!(
        html.text().contains("<table>") && html.text().contains("<td>"),
        "{}",
        html.text()
    );

    // Far from every observation: none.
    let far = format!(
        "{}&REQUEST=GetFeatureInfo&QUERY_LAYERS=obs.airTemperature&I=0&J=0&INFO_FORMAT=application/json",
        getmap("obs.airTemperature", "").replace("&REQUEST=GetMap", "")
    );
    let j: Value = serde_json::from_slice(&get(&state, &far).await.body).unwrap();
    assert_eq!(j["observations"].as_array().unwrap().len(), 0, "{j}");
}

#[tokio::test]
async fn stats_match_a_brute_force_pass() {
    let dir = data_dir("obswms-stats");
    let state = state_with(&dir, |_| {});
    let t = truth();
    let bbox = [-110.0, 30.0, -75.0, 50.0];
    let inside = |i: usize| {
        t.lon[i] >= bbox[0] && t.lon[i] <= bbox[2] && t.lat[i] >= bbox[1] && t.lat[i] <= bbox[3]
    };
    let omb = |i: usize| t.value[i] - t.hofx[i];
    let value = |i: usize| t.value[i];
    let cases: [(&str, &dyn Fn(usize) -> f64); 2] = [
        ("obs.airTemperature.OmB", &omb),
        ("obs.airTemperature", &value),
    ];
    for (layer, value) in cases {
        let r = get(
            &state,
            &format!("/collections/{layer}/stats?bbox=-110,30,-75,50"),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let j: Value = serde_json::from_slice(&r.body).unwrap();
        let v: Vec<f64> = (0..t.lon.len())
            .filter(|i| t.kept(*i, false) && inside(*i))
            .map(value)
            .filter(|v| v.is_finite())
            .collect();
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        let rms = (v.iter().map(|x| x * x).sum::<f64>() / n).sqrt();
        assert_eq!(j["count"], v.len(), "{j}");
        assert!(v.len() > 10);
        let close = |a: &Value, b: f64| (a.as_f64().unwrap() - b).abs() <= 1e-6 * b.abs().max(1.0);
        assert!(close(&j["mean"], mean), "{j} mean {mean}");
        assert!(close(&j["std"], std), "{j} std {std}");
        assert!(close(&j["rms"], rms), "{j} rms {rms}");
        assert_eq!(j["bias"].is_null(), !layer.ends_with("OmB"), "{j}");
    }
    let r = get(&state, "/collections/obs.airTemperature/stats?bbox=1,2,3").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn observations_stack_over_fields() {
    let dir = data_dir("obswms-stack");
    let state = state_with(&dir, |_| {});
    // Each layer at its default time (TIME is one parameter for the whole stack).
    let field = get(&state, &getmap("TT", "&ELEVATION=850")).await;
    assert_eq!(field.status, StatusCode::OK, "{}", field.text());
    let (_, _, below) = decode(&field.body);
    let (_, _, points) = png(&state, &getmap("obs.airTemperature", "&RADIUS=1")).await;
    let (_, _, both) = png(
        &state,
        &getmap("TT,obs.airTemperature", "&ELEVATION=850&RADIUS=1"),
    )
    .await;
    let mut over = 0;
    for k in 0..(SIZE * SIZE) as usize {
        let p = &both[k * 4..k * 4 + 4];
        if points[k * 4 + 3] == 255 {
            assert_eq!(
                p,
                &points[k * 4..k * 4 + 4],
                "pixel {k}: the point is on top"
            );
            over += 1;
        } else if points[k * 4 + 3] == 0 {
            assert_eq!(p, &below[k * 4..k * 4 + 4], "pixel {k}: the field shows");
        }
    }
    assert!(over > 0);
}

#[tokio::test]
async fn golden_observation_tiles() {
    let dir = data_dir("obswms-golden");
    let state = state_with(&dir, |_| {});
    let cases = [
        ("obs_value", "/tiles/obs.airTemperature/3/1/2.png"),
        (
            "obs_omb",
            "/tiles/obs.airTemperature.OmB/3/1/2.png?colorscalerange=-2,2&radius=4",
        ),
    ];
    let golden = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let bless = std::env::var("FSTGIS_BLESS").is_ok_and(|v| v == "1");
    let ci = std::env::var("CI").is_ok();
    for (name, uri) in cases {
        let r = get(&state, uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text());
        let path = golden.join(format!("{name}.png"));
        if bless || (!path.exists() && !ci) {
            std::fs::write(&path, &r.body).unwrap();
            continue;
        }
        let want =
            std::fs::read(&path).unwrap_or_else(|_| panic!("missing golden {}", path.display()));
        let (a, b) = (decode(&r.body), decode(&want));
        assert_eq!((a.0, a.1), (b.0, b.1), "{name}: size");
        let off =
            a.2.chunks_exact(4)
                .zip(b.2.chunks_exact(4))
                .filter(|(p, q)| p.iter().zip(q.iter()).any(|(x, y)| x.abs_diff(*y) > 3))
                .count();
        assert!(
            off * 200 <= a.2.len() / 4,
            "{name}: {off} pixels differ from {}",
            path.display()
        );
    }
}
