//! Golden images: a few styles rendered through the router and compared with committed PNGs
//! (tests/golden/*.png) within a small tolerance. A missing golden file is written (blessed)
//! off CI and is an error on CI (`CI` set); `FSTGIS_BLESS=1` rewrites them all.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tile_server::config::{bundled_sample, Config};
use tile_server::{router, AppState};
use tower::ServiceExt;

fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut r = png::Decoder::new(bytes).read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size()];
    let info = r.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

const RUN1: &str = "time=2026-11-20T18:00:00Z&reference_time=2026-11-20T12:00:00Z";

#[tokio::test]
async fn golden_styles() {
    let mut c = Config::with_data(vec![bundled_sample()]);
    c.watch.enabled = false;
    let state = AppState::new(c).unwrap();
    let cases = [
        (
            "temperature",
            format!("/tiles/TT/3/1/2.png?{RUN1}&elevation=850&style=temperature"),
        ),
        (
            "viridis_range",
            format!(
                "/tiles/GZ/3/1/2.png?{RUN1}&style=viridis&colorscalerange=520,580&numcolorbands=10"
            ),
        ),
        ("precipitation", format!("/tiles/PR/3/1/2.png?{RUN1}")),
        (
            "isobars",
            format!("/tiles/PN/3/1/2.png?{RUN1}&style=isobars"),
        ),
        ("barbs", format!("/tiles/UV/3/1/2.png?{RUN1}&style=barbs")),
        (
            "legend_precipitation",
            "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=PR&FORMAT=image/png"
                .to_string(),
        ),
    ];
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let bless = std::env::var("FSTGIS_BLESS").is_ok_and(|v| v == "1");
    let ci = std::env::var("CI").is_ok();
    let mut failures = Vec::new();
    for (name, uri) in cases {
        let r = router(state.clone())
            .oneshot(Request::get(uri.as_str()).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{uri}");
        let got = r.into_body().collect().await.unwrap().to_bytes().to_vec();
        let path = dir.join(format!("{name}.png"));
        if bless || (!path.exists() && !ci) {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want =
            std::fs::read(&path).unwrap_or_else(|_| panic!("missing golden {}", path.display()));
        let (a, b) = (decode(&got), decode(&want));
        assert_eq!((a.0, a.1), (b.0, b.1), "{name}: size");
        let n = a.2.len() / 4;
        let off =
            a.2.chunks_exact(4)
                .zip(b.2.chunks_exact(4))
                .filter(|(p, q)| p.iter().zip(q.iter()).any(|(x, y)| x.abs_diff(*y) > 3))
                .count();
        if off * 200 > n {
            failures.push(format!("{name}: {off} of {n} pixels differ"));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}
