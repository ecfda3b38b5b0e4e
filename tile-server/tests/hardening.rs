//! In-process tests (no socket) of the hardening of issue 14: non-map CRSs, undecodable
//! records, and the render-memory budget.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// test code: failing loudly is the point

mod support;

use std::path::{Path, PathBuf};

use axum::http::{header, StatusCode};
use support::{get_in as get, Resp};
use tile_server::config::{bundled_sample, Config};
use tile_server::AppState;

fn config(data: Vec<PathBuf>) -> Config {
    let mut c = Config::with_data(data);
    c.watch.enabled = false;
    c
}

fn exception_code(r: &Resp) -> String {
    let t = r.text();
    let (_, rest) = t
        .split_once("code=\"")
        .unwrap_or_else(|| panic!("not an exception report: {t}"));
    rest.split('"').next().unwrap().to_string()
}

fn get_map(version: &str, layer: &str, crs: &str, bbox: &str) -> String {
    let key = if version == "1.1.1" { "SRS" } else { "CRS" };
    format!(
        "/wms?SERVICE=WMS&VERSION={version}&REQUEST=GetMap&LAYERS={layer}&STYLES=&{key}={crs}\
         &BBOX={bbox}&WIDTH=64&HEIGHT=64&FORMAT=image/png"
    )
}

#[tokio::test]
async fn non_map_crs_are_invalid_crs() {
    let s = AppState::new(config(vec![bundled_sample()])).unwrap();
    // Geocentric, vertical, compound, geographic 3-D: not a map's CRS.
    for code in [4978, 5714, 7415, 4979] {
        for version in ["1.3.0", "1.1.1"] {
            let uri = get_map(version, "TT", &format!("EPSG:{code}"), "-1,-1,1,1");
            let r = get(&s, &uri).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.text());
            assert_eq!(exception_code(&r), "InvalidCRS", "{uri}");
            assert!(r.text().contains(&format!("EPSG:{code}")), "{}", r.text());
        }
        let gfi = format!(
            "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=TT&QUERY_LAYERS=TT&CRS=EPSG:{code}\
             &BBOX=-1,-1,1,1&WIDTH=64&HEIGHT=64&I=3&J=3&INFO_FORMAT=application/json"
        );
        assert_eq!(exception_code(&get(&s, &gfi).await), "InvalidCRS");
    }
    // Projected and geographic 2-D CRSs still render (polar stereographic: "south along
    // 90°E" axes; UTM; Canada Atlas Lambert).
    for code in [3995, 32614, 3978, 4269] {
        let uri = get_map("1.1.1", "TT", &format!("EPSG:{code}"), "-1,-1,1,1");
        let r = get(&s, &uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text());
    }
}

/// A copy of the bundled sample in a fresh folder whose records of `nomvar` have their
/// payload overwritten with `fill`, and the copy's path.
fn corrupted_sample(dir: &Path, nomvar: &str, fill: u8) -> PathBuf {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let mut bytes = std::fs::read(bundled_sample()).unwrap();
    let f = fst_core::FstFile::open(bundled_sample()).unwrap();
    for r in f.records().iter().filter(|r| r.nomvar.trimmed() == nomvar) {
        let at = r.payload.offset.0 as usize;
        bytes[at..at + r.payload.len as usize].fill(fill);
    }
    let path = dir.join("corrupt.fst");
    std::fs::write(&path, &bytes).unwrap();
    path
}

#[tokio::test]
async fn undecodable_record_is_the_datas_fault_not_a_retry() {
    let dir = support::fresh_dir("corrupt");
    // A fill that makes every TT record undecodable (checked with fst-core first, so that the
    // test cannot pass on a record that still decodes).
    let path = [0xFFu8, 0x00, 0x5A]
        .into_iter()
        .map(|fill| corrupted_sample(&dir, "TT", fill))
        .find(|p| {
            let f = fst_core::FstFile::open(p).unwrap();
            f.records()
                .iter()
                .filter(|r| r.nomvar.trimmed() == "TT")
                .all(|r| f.decode(r).is_err())
        })
        .expect("no fill makes the TT records undecodable");
    assert!(path.starts_with(&dir));
    let s = AppState::new(config(vec![dir.clone()])).unwrap();
    let bbox = "-15000000,3000000,-6000000,10000000";
    let dir_text = dir.display().to_string();
    for version in ["1.3.0", "1.1.1"] {
        let r = get(&s, &get_map(version, "TT", "EPSG:3857", bbox)).await;
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text());
        assert_eq!(exception_code(&r), "DataCorrupt");
        assert!(r.headers.get(header::RETRY_AFTER).is_none());
        let t = r.text();
        assert!(t.contains("layer `TT`") && t.contains("record "), "{t}");
        assert!(t.contains("corrupt.fst"), "{t}");
        assert!(!t.contains(&dir_text), "server path leaked: {t}");
    }
    // XYZ and GetFeatureInfo: the same status from the same table, JSON for XYZ.
    let r = get(&s, "/tiles/TT/3/1/2.png").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    let j: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(j["error"], "DataCorrupt");
    assert!(!j["message"].as_str().unwrap().contains(&dir_text));
    // The other layers of the same file are served.
    let r = get(&s, &get_map("1.3.0", "PN", "EPSG:3857", bbox)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // /healthz names files, never the server's folders.
    std::fs::write(dir.join("junk.fst"), b"not an fst file").unwrap();
    s.reload();
    let h = get(&s, "/healthz").await.text();
    assert!(h.contains("junk.fst") && !h.contains(&dir_text), "{h}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_truncated_rsf_file_serves_what_it_holds_and_healthz_says_it_is_cut() {
    let dir = support::fresh_dir("truncated");
    let rsf = fst_testkit::fixtures::shared_fixtures("rsf").join("rsf_multi_segment.fst");
    let bytes = std::fs::read(&rsf).unwrap();
    // The last segment's directory lost: its records are not listed (librmn neither).
    std::fs::write(dir.join("cut.fst"), &bytes[..bytes.len() - 200]).unwrap();
    let s = AppState::new(config(vec![dir.clone()])).unwrap();
    assert!(
        !s.snapshot().layers.is_empty(),
        "the readable records are layers"
    );
    let why: Vec<String> = s
        .snapshot()
        .skipped
        .iter()
        .filter(|k| k.path.ends_with("cut.fst"))
        .map(|k| k.reason.clone())
        .collect();
    assert!(
        why.iter().any(|w| w.starts_with("truncated at byte")),
        "{why:?}"
    );
    let h = get(&s, "/healthz").await.text();
    assert!(h.contains("cut.fst") && h.contains("truncated"), "{h}");
    // The intact file: nothing to say.
    std::fs::copy(&rsf, dir.join("cut.fst")).unwrap();
    s.reload();
    assert!(
        s.snapshot().skipped.is_empty(),
        "{:?}",
        s.snapshot().skipped
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_file_changed_under_a_read_is_a_retry() {
    let dir = support::fresh_dir("changed");
    let bytes = std::fs::read(bundled_sample()).unwrap();
    let path = dir.join("run.fst");
    std::fs::write(&path, &bytes).unwrap();
    let s = AppState::new(config(vec![dir.clone()])).unwrap();
    // Rewritten (new version) without a catalog rebuild: the served version is gone.
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let r = get(&s, "/tiles/TT/3/1/2.png").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    assert_eq!(r.headers.get(header::RETRY_AFTER).unwrap(), "1");
    let j: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(j["error"], "DataUnavailable");
    assert!(
        !r.text().contains(&dir.display().to_string()),
        "{}",
        r.text()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn renders_share_a_memory_budget() {
    let mut c = config(vec![bundled_sample()]);
    c.limits.render_budget_mb = 4;
    c.limits.render_wait_ms = 100;
    let s = AppState::new(c).unwrap();
    let map = |w: u32, h: u32| {
        format!(
            "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=TT&STYLES=&CRS=EPSG:3857\
             &BBOX=-15000000,3000000,-6000000,10000000&WIDTH={w}&HEIGHT={h}&FORMAT=image/png"
        )
    };
    // 512² × 56 bytes is more than the whole budget: never, whatever the load.
    let r = get(&s, &map(512, 512)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(exception_code(&r), "InvalidParameterValue");
    assert!(r.text().contains("render memory"), "{}", r.text());
    // Others hold 3.5 of the 4 MiB: a 128² map (≈ 0.9 MiB + the decode) waits, then 503.
    let held = std::sync::Arc::clone(&s.render_budget)
        .acquire_many_owned(3584)
        .await
        .unwrap();
    let r = get(&s, &map(128, 128)).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    assert_eq!(exception_code(&r), "ServerBusy");
    assert_eq!(r.headers.get(header::RETRY_AFTER).unwrap(), "1");
    // A small one fits beside them.
    assert_eq!(get(&s, &map(64, 32)).await.status, StatusCode::OK);
    // With the whole budget taken, GetFeatureInfo on a field never decoded waits, then 503;
    // on a field in the cache (TT, decoded by the map above) it needs no budget.
    let rest = std::sync::Arc::clone(&s.render_budget)
        .acquire_many_owned(512)
        .await
        .unwrap();
    let gfi = |layer: &str| {
        format!(
            "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS={layer}&QUERY_LAYERS={layer}\
             &CRS=CRS:84&BBOX=-140,30,-60,70&WIDTH=100&HEIGHT=100&I=50&J=50&INFO_FORMAT=application/json"
        )
    };
    let r = get(&s, &gfi("HU")).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    assert_eq!(get(&s, &gfi("TT")).await.status, StatusCode::OK);
    drop(rest);
    assert_eq!(get(&s, &gfi("HU")).await.status, StatusCode::OK);
    drop(held);
    assert_eq!(get(&s, &map(128, 128)).await.status, StatusCode::OK);
    // Every reservation was given back.
    assert_eq!(s.render_budget.available_permits(), 4 * 1024);
}
