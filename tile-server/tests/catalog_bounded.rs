//! One bad file never stops the server from serving the others (issue 14, defect 1): a
//! record whose header claims a 46000×46000 L grid (its payload is tiny) beside a good file.
//! The server starts, serves the good layers and the bad file's other fields, and its memory
//! stays bounded; the same file dropped into a watched folder of a running server changes
//! nothing else. Its own test binary, so that the peak memory measured is this test's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// test code: failing loudly is the point

mod support;

use std::path::Path;

use axum::http::StatusCode;
use tile_server::config::{bundled_sample, Config};
use tile_server::AppState;

fn peak_rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

async fn status(state: &AppState, uri: &str) -> (StatusCode, String) {
    let r = support::get_in(state, uri).await;
    (r.status, r.text())
}

/// A layer whose slices all come from `file`.
fn layer_of(state: &AppState, file: &str) -> Option<String> {
    state
        .snapshot()
        .layers
        .values()
        .find(|l| {
            l.slices
                .iter()
                .all(|s| s.file.path.file_name().is_some_and(|n| n == file))
        })
        .map(|l| l.name.clone())
}

fn map_uri(layer: &str) -> String {
    format!(
        "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS={layer}&STYLES=viridis&CRS=CRS:84\
         &BBOX=-180,-90,180,90&WIDTH=128&HEIGHT=64&FORMAT=image/png&COLORSCALERANGE=-1000,1000"
    )
}

fn config(dir: &Path) -> Config {
    let mut c = Config::with_data(vec![dir.to_path_buf()]);
    c.watch.enabled = false;
    c
}

#[tokio::test]
async fn a_huge_header_only_grid_is_skipped_and_the_rest_served() {
    let bad = support::huge_l_grid(46_000);
    let dir = support::fresh_dir("huge");
    std::fs::copy(bundled_sample(), dir.join("good.fst")).unwrap();
    std::fs::write(dir.join("bad.fst"), &bad).unwrap();
    let before = peak_rss_kib();

    // At start-up.
    let s = AppState::new(config(&dir)).unwrap();
    let snap = s.snapshot();
    let why: Vec<&str> = snap
        .skipped
        .iter()
        .filter(|k| k.path.ends_with("bad.fst"))
        .map(|k| k.reason.as_str())
        .collect();
    assert!(
        why.iter().any(|w| w.contains("2116000000 points exceed")),
        "{why:?}"
    );
    let good = layer_of(&s, "good.fst").expect("a layer of the good file");
    assert_eq!(status(&s, &map_uri(&good)).await.0, StatusCode::OK);
    // The bad file's other fields are layers too (the bad record is skipped, not its file).
    let other = layer_of(&s, "bad.fst").expect("a layer of the bad file's good records");
    assert_eq!(status(&s, &map_uri(&other)).await.0, StatusCode::OK);
    let (st, health) = status(&s, "/healthz").await;
    assert_eq!(st, StatusCode::OK);
    assert!(health.contains("bad.fst"), "{health}");
    drop(snap);

    // Dropped into the folder of a running server (the watcher's rebuild).
    std::fs::remove_file(dir.join("bad.fst")).unwrap();
    s.reload();
    assert!(s.snapshot().skipped.is_empty());
    std::fs::write(dir.join("bad2.fst"), &bad).unwrap();
    s.reload();
    assert_eq!(status(&s, &map_uri(&good)).await.0, StatusCode::OK);
    assert!(s
        .snapshot()
        .skipped
        .iter()
        .any(|k| k.path.ends_with("bad2.fst")));

    // Bounded: 46000² points would be 17 GB per coordinate array; allow the fixtures and
    // the renders above a generous 300 MB.
    let grown_mib = peak_rss_kib().saturating_sub(before) / 1024;
    assert!(grown_mib < 300, "peak RSS grew by {grown_mib} MiB");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_grid_points_limit_is_configurable() {
    let dir = support::fresh_dir("limit");
    std::fs::copy(bundled_sample(), dir.join("good.fst")).unwrap();
    // The sample's grid is 160×100: below a 10 000-point limit nothing of it is served.
    let mut c = config(&dir);
    c.limits.max_grid_points = 10_000;
    let s = AppState::new(c).unwrap();
    assert!(s.snapshot().layers.is_empty());
    assert!(s.snapshot().skipped.iter().all(|k| k
        .reason
        .contains("16000 points exceed the server's limit of 10000")));
    assert!(!s.snapshot().skipped.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
