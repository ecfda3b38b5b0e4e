//! In-process router tests (no socket): every endpoint and every error code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// test code: failing loudly is the point
// Opaque fractions of exactly 0 or 1, and values read back bit for bit, are what is checked.
#![allow(clippy::float_cmp)]

mod support;

use std::fmt::Write as _;
use std::path::PathBuf;

use axum::http::{header, StatusCode};
use support::{call, get_in as get, Resp};
use tile_server::config::{bundled_sample, Config};
use tile_server::render::range::data_range;
use tile_server::AppState;

fn state_for(data: Vec<PathBuf>) -> AppState {
    let mut c = Config::with_data(data);
    c.watch.enabled = false;
    c.limits.max_width = 2048;
    c.limits.max_height = 2048;
    AppState::new(c).expect("styles load")
}

fn state() -> AppState {
    state_for(vec![bundled_sample()])
}

/// Decode a PNG into (width, height, RGBA).
fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let dec = png::Decoder::new(bytes);
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size()];
    let info = r.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgba);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn opaque_fraction(rgba: &[u8]) -> f64 {
    let n = rgba.len() / 4;
    rgba.chunks_exact(4).filter(|p| p[3] > 0).count() as f64 / n as f64
}

const MAP: &str = "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=TT&STYLES=&CRS=EPSG:3857\
                   &BBOX=-15000000,3000000,-6000000,10000000&WIDTH=256&HEIGHT=200&FORMAT=image/png";

fn exception_code(r: &Resp) -> String {
    let t = r.text();
    assert!(
        t.contains("ServiceExceptionReport"),
        "not an exception report: {t}"
    );
    let (_, rest) = t.split_once("code=\"").unwrap();
    rest.split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn capabilities_1_3_0() {
    let s = state();
    let r = get(&s, "/wms?service=WMS&request=GetCapabilities&version=1.3.0").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.ctype(), "text/xml");
    let t = r.text();
    for needle in [
        "<WMS_Capabilities version=\"1.3.0\"",
        "<Name>TT</Name>",
        "<Name>UV</Name>",
        "<Dimension name=\"time\" units=\"ISO8601\"",
        // The default is what a map without ELEVATION draws: the latest run has 850 hPa only.
        "<Dimension name=\"elevation\" units=\"hPa\" default=\"850\">1000,850,500</Dimension>",
        "<Dimension name=\"reference_time\" units=\"ISO8601\" default=\"2026-11-21T00:00:00Z\">2026-11-20T12:00:00Z,2026-11-21T00:00:00Z</Dimension>",
        "<EX_GeographicBoundingBox>",
        "<BoundingBox CRS=\"EPSG:3857\"",
        "<Style><Name>temperature</Name>",
        "REQUEST=GetLegendGraphic",
        "<CRS>EPSG:3857</CRS>",
        "<CRS>CRS:84</CRS>",
        "<Format>application/json</Format>",
    ] {
        assert!(t.contains(needle), "missing {needle}");
    }
    // Human titles from the variable dictionary.
    assert!(t.contains("<Title>Air temperature (TT)</Title>"));
    assert!(t.contains("<Title>Wind speed (UV)</Title>"));
    // The layers filter (GeoMet's LAYERS=).
    let r = get(
        &s,
        "/wms?service=WMS&request=GetCapabilities&version=1.3.0&layers=PN",
    )
    .await;
    assert!(r.text().contains("<Name>PN</Name>") && !r.text().contains("<Name>TT</Name>"));
}

#[tokio::test]
async fn capabilities_1_1_1() {
    let s = state();
    let r = get(&s, "/wms?SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.1.1").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.ctype(), "application/vnd.ogc.wms_xml");
    let t = r.text();
    assert!(t.contains("<WMT_MS_Capabilities version=\"1.1.1\""));
    assert!(t.contains("<SRS>EPSG:4326</SRS>"));
    assert!(t.contains("<LatLonBoundingBox"));
    assert!(t.contains("<Extent name=\"time\""));
    assert!(t.contains("<Extent name=\"elevation\" default=\"850\">1000,850,500</Extent>"));
}

#[tokio::test]
async fn get_map_png_transparent_outside() {
    let s = state();
    let r = get(&s, MAP).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.ctype(), "image/png");
    assert!(r.headers.get(header::ETAG).is_some());
    assert!(r
        .headers
        .get(header::CACHE_CONTROL)
        .unwrap()
        .to_str()
        .unwrap()
        .contains("max-age"));
    let (w, h, px) = decode_png(&r.body);
    assert_eq!((w, h), (256, 200));
    let f = opaque_fraction(&px);
    assert!(f > 0.3 && f < 1.0, "opaque fraction {f}");
    // Far outside the grid: fully transparent.
    let r = get(
        &s,
        &MAP.replace(
            "-15000000,3000000,-6000000,10000000",
            "1000000,-9000000,3000000,-7000000",
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(opaque_fraction(&decode_png(&r.body).2), 0.0);
}

#[tokio::test]
async fn get_map_crs_variants_agree() {
    let s = state();
    // The same small box around 50N 100W in CRS:84, EPSG:4326 (lat,lon in 1.3.0), 1.1.1 SRS, and PROJ (EPSG:4269).
    let q = |crs: &str, bbox: &str, v: &str| {
        format!("/wms?SERVICE=WMS&VERSION={v}&REQUEST=GetMap&LAYERS=TT&STYLES=temperature&{}={crs}&BBOX={bbox}&WIDTH=64&HEIGHT=64&FORMAT=image/png&ELEVATION=850",
            if v == "1.1.1" { "SRS" } else { "CRS" })
    };
    let a = decode_png(&get(&s, &q("CRS:84", "-110,45,-90,55", "1.3.0")).await.body).2;
    let b = decode_png(
        &get(&s, &q("EPSG:4326", "45,-110,55,-90", "1.3.0"))
            .await
            .body,
    )
    .2;
    let c = decode_png(
        &get(&s, &q("EPSG:4326", "-110,45,-90,55", "1.1.1"))
            .await
            .body,
    )
    .2;
    let r = get(&s, &q("EPSG:4269", "-110,45,-90,55", "1.1.1")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let d = decode_png(&r.body).2;
    // WMS 1.3.0 takes EPSG:4269 (like every EPSG geographic CRS) latitude first.
    let r = get(&s, &q("EPSG:4269", "45,-110,55,-90", "1.3.0")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(decode_png(&r.body).2, d);
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(opaque_fraction(&a), 1.0);
    // NAD83 vs WGS84: same pixels within a colour step.
    let diff = a
        .iter()
        .zip(&d)
        .filter(|(x, y)| x.abs_diff(**y) > 8)
        .count();
    assert!(diff < a.len() / 50, "{diff}");
    // Polar stereographic through PROJ.
    let r = get(&s, "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=PN&STYLES=&CRS=EPSG:3995&BBOX=-6000000,-6000000,6000000,6000000&WIDTH=128&HEIGHT=128&FORMAT=image/png").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(opaque_fraction(&decode_png(&r.body).2) > 0.05);
}

#[tokio::test]
async fn every_wms_error_code() {
    let s = state();
    let cases: &[(&str, &str, &str)] = &[
        ("LAYERS=TT", "LAYERS=NOPE", "LayerNotDefined"),
        ("STYLES=", "STYLES=nosuchstyle", "StyleNotDefined"),
        ("STYLES=", "STYLES=barbs", "StyleNotDefined"),
        ("CRS=EPSG:3857", "CRS=EPSG:999999", "InvalidCRS"),
        ("CRS=EPSG:3857", "CRS=FOO:1", "InvalidCRS"),
        ("FORMAT=image/png", "FORMAT=image/gif", "InvalidFormat"),
        ("WIDTH=256", "WIDTH=100000", "InvalidParameterValue"),
        ("WIDTH=256", "WIDTH=-3", "InvalidParameterValue"),
        (
            "BBOX=-15000000,3000000,-6000000,10000000",
            "BBOX=1,2,3",
            "InvalidParameterValue",
        ),
        (
            "BBOX=-15000000,3000000,-6000000,10000000",
            "BBOX=",
            "MissingParameterValue",
        ),
        (
            "REQUEST=GetMap",
            "REQUEST=GetCoffee",
            "OperationNotSupported",
        ),
        (
            "FORMAT=image/png",
            "FORMAT=image/png&TIME=1999-01-01T00:00:00Z",
            "InvalidDimensionValue",
        ),
        (
            "FORMAT=image/png",
            "FORMAT=image/png&TIME=",
            "MissingDimensionValue",
        ),
        (
            "FORMAT=image/png",
            "FORMAT=image/png&ELEVATION=123",
            "InvalidDimensionValue",
        ),
        (
            "FORMAT=image/png",
            "FORMAT=image/png&DIM_REFERENCE_TIME=2001-01-01T00:00Z",
            "InvalidDimensionValue",
        ),
        (
            "FORMAT=image/png",
            "FORMAT=image/png&COLORSCALERANGE=5,1",
            "InvalidParameterValue",
        ),
        (
            "FORMAT=image/png",
            "FORMAT=image/png&NUMCOLORBANDS=1000",
            "InvalidParameterValue",
        ),
        (
            "FORMAT=image/png",
            "FORMAT=image/png&ABOVEMAXCOLOR=blurple",
            "InvalidParameterValue",
        ),
    ];
    for (from, to, code) in cases {
        let uri = MAP.replace(from, to);
        let r = get(&s, &uri).await;
        assert!(r.status.is_client_error(), "{uri}: {}", r.status);
        assert_eq!(r.ctype(), "text/xml", "{uri}");
        assert_eq!(exception_code(&r), *code, "{uri}");
    }
    // One number is not a reversed range: the message says what is missing.
    let r = get(
        &s,
        &MAP.replace("FORMAT=image/png", "FORMAT=image/png&COLORSCALERANGE=5"),
    )
    .await;
    assert!(r.text().contains("two numbers"), "{}", r.text());
    // 1.1.1 exceptions use their own MIME type.
    let r = get(&s, "/wms?SERVICE=WMS&VERSION=1.1.1&REQUEST=GetMap&LAYERS=NOPE&SRS=EPSG:4326&BBOX=0,0,1,1&WIDTH=1&HEIGHT=1&FORMAT=image/png").await;
    assert_eq!(r.ctype(), "application/vnd.ogc.se_xml");
    assert_eq!(exception_code(&r), "LayerNotDefined");
    // Missing REQUEST.
    let r = get(&s, "/wms?SERVICE=WMS").await;
    assert_eq!(exception_code(&r), "MissingParameterValue");
}

fn gfi(layer: &str, fmt: &str, i: u32, j: u32) -> String {
    format!(
        "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS={layer}&QUERY_LAYERS={layer}&STYLES=&CRS=CRS:84\
         &BBOX=-130,30,-70,70&WIDTH=60&HEIGHT=40&I={i}&J={j}&INFO_FORMAT={fmt}&ELEVATION=500\
         &TIME=2026-11-20T18:00:00Z&DIM_REFERENCE_TIME=2026-11-20T12:00:00Z"
    )
}

#[tokio::test]
async fn feature_info_matches_fst_core() {
    let s = state();
    let r = get(&s, &gfi("TT", "application/json", 30, 20)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.ctype(), "application/json");
    let j: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(j["units"], "°C");
    assert_eq!(j["level"], "500");
    assert_eq!(j["level_units"], "hPa");
    assert_eq!(j["time"], "2026-11-20T18:00:00Z");
    assert_eq!(j["reference_time"], "2026-11-20T12:00:00Z");
    let (lon, lat) = (j["lon"].as_f64().unwrap(), j["lat"].as_f64().unwrap());
    assert!(
        (lon + 99.5).abs() < 1e-9 && (lat - 49.5).abs() < 1e-9,
        "{lon} {lat}"
    );
    // The same value straight from fst-core + grids.
    let f = fst_core::FstFile::open(bundled_sample()).unwrap();
    let rec = f
        .records()
        .iter()
        .find(|r| {
            r.nomvar.trimmed() == "TT"
                && fst_core::date::DateStamp(r.datev).to_iso8601().as_deref()
                    == Some("2026-11-20T18:00:00Z")
                && r.dateo()
                    == f.records()
                        .iter()
                        .find(|x| x.nomvar.trimmed() == "TT")
                        .unwrap()
                        .dateo()
                && fst_core::ip::decode_ip(r.ip1).unwrap().level().value == 500.0
        })
        .unwrap();
    let d = tile_server::source::descriptor_of(&f, rec).unwrap();
    let g = grids::Grid::new(&d, grids::GridOptions::default()).unwrap();
    let (i, jj) = g.index_of(lat, lon).unwrap();
    let vals = tile_server::source::decode_values(
        &tile_server::source::OpenFile {
            path: bundled_sample(),
            version: tile_server::source::FileVersion::of(&bundled_sample()).unwrap(),
            fst: fst_core::FstFile::open(bundled_sample()).unwrap(),
        },
        rec,
    )
    .unwrap();
    let want = vals[(i + 0.5).floor() as usize + (jj + 0.5).floor() as usize * rec.ni as usize];
    assert_eq!(j["value"].as_f64().unwrap() as f32, want);

    let r = get(&s, &gfi("TT", "text/plain", 30, 20)).await;
    assert_eq!(r.ctype(), "text/plain");
    assert!(
        r.text().contains(&format!("value = {want}")),
        "{}",
        r.text()
    );
    let r = get(&s, &gfi("TT", "text/xml", 30, 20)).await;
    assert_eq!(r.ctype(), "text/xml");
    assert!(r.text().contains(&format!("<value>{want}</value>")));
    // Errors.
    assert_eq!(
        exception_code(&get(&s, &gfi("TT", "text/plain", 60, 20)).await),
        "InvalidPoint"
    );
    assert_eq!(
        exception_code(&get(&s, &gfi("TT", "text/plain", 3, 400)).await),
        "InvalidPoint"
    );
    assert_eq!(
        exception_code(&get(&s, &gfi("TT", "image/jpeg", 3, 4)).await),
        "InvalidFormat"
    );
    let r = get(&s, &gfi("TT", "text/plain", 3, 4).replace("&I=3", "&I=abc")).await;
    assert_eq!(exception_code(&r), "InvalidPoint");
    // Outside the grid: value null.
    let r = get(
        &s,
        &gfi("TT", "application/json", 0, 39).replace("-130,30,-70,70", "0,-60,10,-50"),
    )
    .await;
    let j: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert!(j["value"].is_null());
}

#[tokio::test]
async fn legend_matches_tile_colours() {
    let s = state();
    let r = get(&s, "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=TT&STYLE=temperature&FORMAT=image/png&WIDTH=100&HEIGHT=300").await;
    assert_eq!(r.status, StatusCode::OK);
    let (w, h, px) = decode_png(&r.body);
    assert_eq!((w, h), (100, 300));
    // Every bar colour is a colour of the style's lookup table.
    let style = s.styles.get("temperature").unwrap();
    let cm = style.color_map(&tile_server::styles::StyleOverrides::default());
    let x = 10usize;
    for y in (30..280).step_by(25) {
        let k = (y * w as usize + x) * 4;
        let c = [px[k], px[k + 1], px[k + 2], 255];
        assert!(
            cm.lut.contains(&c),
            "legend pixel {c:?} at y={y} is not a LUT colour"
        );
    }
    for (q, code) in [
        ("LAYER=NOPE", "LayerNotDefined"),
        ("LAYER=TT&STYLE=nope", "StyleNotDefined"),
    ] {
        let r = get(
            &s,
            &format!(
                "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&{q}&FORMAT=image/png"
            ),
        )
        .await;
        assert_eq!(exception_code(&r), code);
    }
    for st in ["precipitation", "isobars", "pressure"] {
        let r = get(&s, &format!("/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=PN&STYLE={st}&FORMAT=image/png")).await;
        if st == "precipitation" {
            assert_eq!(r.status, StatusCode::OK); // any scalar style may be asked for by name
        } else {
            assert_eq!(r.status, StatusCode::OK);
        }
    }
}

#[tokio::test]
async fn xyz_tiles_tilejson_etag_head() {
    let s = state();
    let r = get(&s, "/tiles/TT/3/1/2.png").await;
    assert_eq!(r.status, StatusCode::OK);
    let (w, h, px) = decode_png(&r.body);
    assert_eq!((w, h), (256, 256));
    assert!(opaque_fraction(&px) > 0.5);
    let tag = r
        .headers
        .get(header::ETAG)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let r2 = call(&s, "GET", "/tiles/TT/3/1/2.png", &[("if-none-match", &tag)]).await;
    assert_eq!(r2.status, StatusCode::NOT_MODIFIED);
    assert!(r2.body.is_empty());
    let h = call(&s, "HEAD", "/tiles/TT/3/1/2.png", &[]).await;
    assert_eq!(h.status, StatusCode::OK);
    assert!(h.body.is_empty());
    assert_eq!(h.headers.get(header::ETAG).unwrap().to_str().unwrap(), tag);
    // Dimensions and styles in the query.
    let r = get(&s, "/tiles/TT/3/1/2.png?time=2026-11-20T18:00:00Z&reference_time=2026-11-20T12:00:00Z&elevation=500&style=viridis&colorscalerange=-60,0").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_ne!(r.headers.get(header::ETAG).unwrap().to_str().unwrap(), tag);
    // Errors are JSON with the same codes.
    for (uri, status) in [
        ("/tiles/TT/3/8/2.png", StatusCode::NOT_FOUND),
        ("/tiles/TT/30/1/2.png", StatusCode::NOT_FOUND),
        ("/tiles/TT/3/1/2.jpg", StatusCode::BAD_REQUEST),
        ("/tiles/NOPE/3/1/2.png", StatusCode::NOT_FOUND),
        ("/tiles/TT/3/1/2.png?time=bogus", StatusCode::BAD_REQUEST),
        ("/tiles/TT/3/1/2.png?style=bogus", StatusCode::BAD_REQUEST),
        ("/tiles/TT/a/b/c.png", StatusCode::NOT_FOUND),
    ] {
        let r = get(&s, uri).await;
        assert_eq!(r.status, status, "{uri}");
        assert_eq!(r.ctype(), "application/json", "{uri}");
    }
    let r = get(&s, "/tiles/TT/tilejson.json?time=2026-11-20T18:00:00Z").await;
    assert_eq!(r.status, StatusCode::OK);
    let j: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(j["tilejson"], "3.0.0");
    assert!(j["tiles"][0]
        .as_str()
        .unwrap()
        .ends_with("/tiles/TT/{z}/{x}/{y}.png?time=2026-11-20T18:00:00Z"));
    assert_eq!(j["bounds"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn wind_and_contours_render() {
    let s = state();
    for q in [
        "UV/3/1/2.png?style=barbs",
        "UV/3/1/2.png?style=arrows",
        "PN/3/1/2.png?style=isobars",
        "PR/3/1/2.png",
    ] {
        let r = get(&s, &format!("/tiles/{q}")).await;
        assert_eq!(r.status, StatusCode::OK, "{q}");
        let px = decode_png(&r.body).2;
        let f = opaque_fraction(&px);
        assert!(f > 0.0, "{q}: blank");
        if q.contains("isobars") {
            assert!(f < 0.2, "isolines only: {f}");
        }
    }
}

#[tokio::test]
async fn catalog_health_metrics_viewer() {
    let s = state();
    let r = get(&s, "/api/layers").await;
    let j: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let names: Vec<&str> = j["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["GZ", "HU", "PN", "PR", "TT", "UU", "UV", "VV"]);
    let r = get(&s, "/healthz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("\"status\":\"ok\""));
    let _ = get(&s, "/tiles/TT/3/1/2.png").await;
    let _ = get(&s, "/tiles/TT/3/1/2.png").await;
    let m = get(&s, "/metrics").await.text();
    assert!(
        m.contains(
            "fst_http_requests_total{route=\"/tiles/{layer}/{z}/{x}/{y}\",status=\"200\"} 2"
        ),
        "{m}"
    );
    assert!(m.contains("fst_http_request_duration_seconds_bucket{le=\"+Inf\"}"));
    assert!(m.contains("fst_tile_cache_hits_total 1"), "{m}");
    let r = get(&s, "/").await;
    assert!(r.ctype().starts_with("text/html") && r.text().contains("leaflet.js"));
    assert_eq!(
        get(&s, "/static/leaflet/leaflet.js").await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&s, "/static/../Cargo.toml").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(get(&s, "/nothing").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn hostile_queries_are_client_errors() {
    let s = state();
    let hostile = [
        "/wms?SERVICE=WMS&REQUEST=GetMap&LAYERS=../../etc/passwd&CRS=EPSG:3857&BBOX=0,0,1,1&WIDTH=1&HEIGHT=1&FORMAT=image/png",
        "/wms?SERVICE=WMS&REQUEST=GetMap&LAYERS=%00%ff&CRS=EPSG:3857&BBOX=0,0,1,1&WIDTH=1&HEIGHT=1&FORMAT=image/png",
        "/wms?SERVICE=WMS&REQUEST=GetMap&LAYERS=TT&CRS=EPSG:3857&BBOX=0,0,1e308,1e308&WIDTH=99999999999999999999&HEIGHT=1&FORMAT=image/png",
        "/wms?SERVICE=WMS&REQUEST=GetMap&LAYERS=TT&CRS=EPSG:3857&BBOX=inf,0,1,1&WIDTH=1&HEIGHT=1&FORMAT=image/png",
        "/wms?SERVICE=WMS&REQUEST=GetMap&LAYERS=TT&CRS=EPSG:-1&BBOX=0,0,1,1&WIDTH=1&HEIGHT=1&FORMAT=image/png",
        "/wms?SERVICE=WMS&REQUEST=GetMap&LAYERS=TT&CRS=EPSG:3857&BBOX=0,0,1,1&WIDTH=1&HEIGHT=1&FORMAT=image/png&TIME=9999-99-99",
        "/wms?SERVICE=WMS&REQUEST=GetMap&LAYERS=TT&CRS=EPSG:3857&BBOX=0,0,1,1&WIDTH=1&HEIGHT=1&FORMAT=image/png&ELEVATION=NaN",
        "/wms?SERVICE=WMS&REQUEST=GetMap&LAYERS=TT&CRS=EPSG:3857&BBOX=0,0,1,1&WIDTH=1&HEIGHT=1&FORMAT=image/png&OPACITY=1e9",
        "/wms?SERVICE=XYZ&REQUEST=GetMap",
        "/wms?%%%%=%%%&&&=",
        "/tiles/..%2F..%2Fetc%2Fpasswd/1/0/0.png",
        "/tiles/TT/255/0/0.png",
        "/tiles/TT/3/99999999999999999999/0.png",
    ];
    for uri in hostile {
        let r = get(&s, uri).await;
        assert!(r.status.is_client_error(), "{uri}: {}", r.status);
    }
    let long = format!(
        "/wms?SERVICE=WMS&REQUEST=GetMap&LAYERS={}",
        "A".repeat(10_000)
    );
    assert!(get(&s, &long).await.status.is_client_error());
    // A deterministic fuzz over parameter values.
    let keys = [
        "LAYERS",
        "CRS",
        "BBOX",
        "WIDTH",
        "HEIGHT",
        "FORMAT",
        "TIME",
        "ELEVATION",
        "STYLES",
        "I",
        "J",
        "INFO_FORMAT",
        "COLORSCALERANGE",
        "NUMCOLORBANDS",
        "LOGSCALE",
    ];
    let vals = [
        "",
        "TT",
        "-1",
        "0",
        "1e400",
        "NaN",
        ",,,",
        "EPSG:4326",
        "%41",
        "9999999",
        "image/png",
        "a/b/c",
        "2026-11-20T18:00:00Z",
        "\u{00e9}",
        "1,2,3,4",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for n in 0..300 {
        let mut q = String::from("/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=");
        q.push_str(
            [
                "GetMap",
                "GetFeatureInfo",
                "GetLegendGraphic",
                "GetCapabilities",
            ][n % 4],
        );
        for k in keys {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            if seed % 3 == 0 {
                continue;
            }
            let _ = write!(q, "&{k}={}", vals[(seed >> 8) as usize % vals.len()]);
        }
        let r = get(&s, &q).await;
        assert!(r.status.as_u16() < 500, "{q}: {}", r.status);
    }
    assert_eq!(get(&s, "/healthz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn reload_picks_up_new_and_rewritten_files_and_survives_truncation() {
    let dir = std::env::temp_dir().join(format!("fst-tiles-reload-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let s = state_for(vec![dir.clone()]);
    assert_eq!(s.snapshot().layers.len(), 0);
    let caps = "/wms?SERVICE=WMS&REQUEST=GetCapabilities";
    assert!(!get(&s, caps).await.text().contains("<Name>TT</Name>"));
    let bytes = std::fs::read(bundled_sample()).unwrap();
    std::fs::write(dir.join("run.fst"), &bytes).unwrap();
    s.reload();
    assert!(s.snapshot().layers.contains_key("TT"));
    // The cached capabilities document follows the new catalog.
    assert!(get(&s, caps).await.text().contains("<Name>TT</Name>"));
    let r = get(&s, "/tiles/TT/3/1/2.png").await;
    assert_eq!(r.status, StatusCode::OK);
    // Truncated in place while served: never a 500 and never a half-written field.
    std::fs::write(dir.join("run.fst"), &bytes[..bytes.len() / 2]).unwrap();
    let r = get(&s, "/tiles/TT/3/1/2.png?style=viridis").await;
    assert!(
        r.status == StatusCode::OK || r.status == StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        r.status
    );
    s.reload();
    for _ in 0..3 {
        let r = get(&s, "/tiles/TT/4/3/5.png").await;
        assert!(r.status.as_u16() != 500, "{}", r.text());
    }
    // Rewritten completely: served again.
    std::fs::write(dir.join("run.fst"), &bytes).unwrap();
    s.reload();
    let r = get(&s, "/tiles/TT/4/3/5.png").await;
    assert_eq!(r.status, StatusCode::OK);
    // Garbage files are skipped, not fatal.
    std::fs::write(dir.join("junk.fst"), b"not an fst file").unwrap();
    s.reload();
    assert_eq!(s.snapshot().skipped.len(), 1);
    assert_eq!(get(&s, "/healthz").await.status, StatusCode::OK);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn sidecars_are_ignored_quietly() {
    let dir = std::env::temp_dir().join(format!("fst-tiles-sidecars-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(bundled_sample(), dir.join("run.fst")).unwrap();
    // What GDAL and QGIS write beside a dataset, and editor temporaries.
    for side in [
        "run.fst.aux.xml",
        "run.fst.ovr",
        "run.fst.msk",
        "run.fst.lock",
        "#run.fst#",
        "run.fst.swp",
    ] {
        std::fs::write(dir.join(side), b"<PAMDataset/>").unwrap();
    }
    std::fs::write(dir.join("notes.txt"), b"not an fst file").unwrap();
    let s = state_for(vec![dir.clone()]);
    let skipped: Vec<PathBuf> = s
        .snapshot()
        .skipped
        .iter()
        .map(|k| k.path.clone())
        .collect();
    assert_eq!(skipped, vec![dir.join("notes.txt")]);
    assert!(s.snapshot().layers.contains_key("TT"));
    let health = get(&s, "/healthz").await.text();
    assert!(!health.contains("aux.xml"), "{health}");
    assert!(health.contains("notes.txt"), "{health}");
    // That a skip is logged once per file version, not per rebuild: tests/log_once.rs.
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn every_grid_type_renders() {
    // fst-core's grid fixture (A, B, E, G, L, N, S, Y, Z, #, U written by librmn).
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/fst-core/tests/fixtures/xdf/grids.fst");
    let s = state_for(vec![path]);
    let layers: Vec<String> = s.snapshot().layers.keys().cloned().collect();
    assert!(layers.len() >= 20, "{layers:?}");
    for name in &layers {
        for (crs, bbox) in [
            ("CRS:84", "-180,-90,180,90"),
            ("EPSG:3995", "-9000000,-9000000,9000000,9000000"),
        ] {
            let uri = format!("/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS={name}&STYLES=viridis&CRS={crs}&BBOX={bbox}&WIDTH=128&HEIGHT=64&FORMAT=image/png&COLORSCALERANGE=-1000,1000");
            let r = get(&s, &uri).await;
            assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text());
            let f = opaque_fraction(&decode_png(&r.body).2);
            if crs == "CRS:84" {
                assert!(f > 0.0, "{name}: blank");
            }
            if crs == "CRS:84"
                && (name.contains("GRID_U")
                    || name.ends_with("GRID_A00")
                    || name.ends_with("GRID_E"))
            {
                // Global grids (Yin-Yang: both subgrids) cover the whole map, poles and antimeridian included.
                assert_eq!(f, 1.0, "{name}");
            }
        }
    }
}

#[tokio::test]
async fn render_slots_bound_concurrency() {
    let mut c = Config::with_data(vec![bundled_sample()]);
    c.watch.enabled = false;
    c.limits.max_concurrent_renders = 1;
    c.limits.render_wait_ms = 50;
    let s = AppState::new(c).unwrap();
    // Hold the only slot: a tile that needs rendering waits 50 ms, then 503.
    let permit = std::sync::Arc::clone(&s.renders)
        .acquire_owned()
        .await
        .unwrap();
    let r = get(&s, "/tiles/TT/3/1/2.png").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.text().contains("ServerBusy"));
    let r = get(&s, MAP).await;
    assert_eq!(exception_code(&r), "ServerBusy");
    drop(permit);
    assert_eq!(get(&s, "/tiles/TT/3/1/2.png").await.status, StatusCode::OK);
    // A cached tile needs no slot.
    let _p = std::sync::Arc::clone(&s.renders)
        .acquire_owned()
        .await
        .unwrap();
    assert_eq!(get(&s, "/tiles/TT/3/1/2.png").await.status, StatusCode::OK);
}

#[tokio::test]
async fn watcher_updates_the_catalog_without_a_restart() {
    let dir = std::env::temp_dir().join(format!("fst-tiles-watch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut c = Config::with_data(vec![dir.clone()]);
    c.watch.debounce_ms = 50;
    let s = AppState::new(c).unwrap();
    let _w = tile_server::watch::spawn(s.clone()).unwrap();
    assert!(s.snapshot().layers.is_empty());
    // Writers write under a temporary name and rename into place.
    std::fs::copy(bundled_sample(), dir.join("run.fst.tmp")).unwrap();
    std::fs::rename(dir.join("run.fst.tmp"), dir.join("run.fst")).unwrap();
    let mut ok = false;
    for _ in 0..100 {
        if s.snapshot().layers.contains_key("TT") {
            ok = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(ok, "catalog not updated");
    assert_eq!(get(&s, "/tiles/TT/3/1/2.png").await.status, StatusCode::OK);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn antimeridian_renders_on_both_sides() {
    // The sample grid's western edge crosses 180°: the same picture whichever longitude range
    // the client uses, with data on both sides of the antimeridian.
    let s = state();
    let q = |b: &str| {
        format!("/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=TT&STYLES=&CRS=CRS:84&BBOX={b}&WIDTH=200&HEIGHT=250&FORMAT=image/png&TIME=2026-11-20T18:00:00Z&DIM_REFERENCE_TIME=2026-11-20T12:00:00Z")
    };
    let a = decode_png(&get(&s, &q("170,30,190,80")).await.body).2;
    let b = decode_png(&get(&s, &q("-190,30,-170,80")).await.body).2;
    assert_eq!(a, b);
    let west = (0..250)
        .flat_map(|r| (0..100).map(move |c| (r, c)))
        .filter(|&(r, c)| a[(r * 200 + c) * 4 + 3] > 0)
        .count();
    let east = (0..250)
        .flat_map(|r| (100..200).map(move |c| (r, c)))
        .filter(|&(r, c)| a[(r * 200 + c) * 4 + 3] > 0)
        .count();
    assert!(west > 100 && east > 1000, "{west} {east}");
}

#[tokio::test]
async fn stacked_layers_composite_in_order() {
    let s = state();
    let one = |layers: &str, styles: &str| {
        format!(
            "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS={layers}&STYLES={styles}&CRS=EPSG:3857\
             &BBOX=-15000000,3000000,-6000000,10000000&WIDTH=128&HEIGHT=100&FORMAT=image/png"
        )
    };
    let base = decode_png(&get(&s, &one("TT", "temperature")).await.body).2;
    let top = decode_png(&get(&s, &one("PN", "isobars")).await.body).2;
    let r = get(&s, &one("TT,PN", "temperature,isobars")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let both = decode_png(&r.body).2;
    let mut want = base.clone();
    tile_server::render::composite_over(&mut want, &top);
    assert_eq!(both, want);
    // The isolines are opaque and drawn over the ramp: some pixels differ from TT alone.
    assert!(both != base && top.chunks_exact(4).any(|p| p[3] == 255));
    // Empty style entries and STYLES= take every layer's default.
    let a = decode_png(&get(&s, &one("TT,PN", ",")).await.body).2;
    let b = decode_png(&get(&s, &one("TT,PN", "")).await.body).2;
    assert_eq!(a, b);
    // One style per layer, or none; LayerLimit is advertised and enforced.
    assert_eq!(
        exception_code(&get(&s, &one("TT,PN", "temperature")).await),
        "StyleNotDefined"
    );
    assert_eq!(
        exception_code(&get(&s, &one("TT,NOPE", "")).await),
        "LayerNotDefined"
    );
    let many = ["TT"; 9].join(",");
    assert_eq!(
        exception_code(&get(&s, &one(&many, "")).await),
        "InvalidParameterValue"
    );
    let caps = get(&s, "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities")
        .await
        .text();
    assert!(caps.contains("<LayerLimit>8</LayerLimit>"));
}

#[tokio::test]
async fn feature_info_of_several_layers_and_of_wind() {
    let s = state();
    // UV exists at 850 hPa only.
    let gfi850 = |l: &str, f: &str| gfi(l, f, 30, 20).replace("ELEVATION=500", "ELEVATION=850");
    let q = gfi850("TT,UV", "application/json");
    let r = get(&s, &q).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let j: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let f = j["features"].as_array().unwrap();
    assert_eq!(f.len(), 2);
    assert_eq!(f[0]["layer"], "TT");
    let tt = get(&s, &gfi850("TT", "application/json")).await;
    let tt: serde_json::Value = serde_json::from_slice(&tt.body).unwrap();
    assert_eq!(f[0], tt);
    // Wind: the speed is the norm of the east/north components, which are the grid-relative
    // UU/VV rotated to true north (same norm), and the direction is where it blows from.
    let w = &f[1];
    assert_eq!(w["layer"], "UV");
    let (u, v, speed) = (
        w["u_east"].as_f64().unwrap(),
        w["v_north"].as_f64().unwrap(),
        w["value"].as_f64().unwrap(),
    );
    assert!((u.hypot(v) - speed).abs() < 1e-3 * speed.max(1.0), "{w}");
    let from = w["direction_deg"].as_f64().unwrap();
    assert!((0.0..360.0).contains(&from));
    let (fu, fv) = (
        -from.to_radians().sin() * speed,
        -from.to_radians().cos() * speed,
    );
    assert!(
        (fu - u).abs() < 1e-3 * speed.max(1.0) && (fv - v).abs() < 1e-3 * speed.max(1.0),
        "{w}"
    );
    // UU and VV at the same point have the same norm as the rotated wind.
    let uu: serde_json::Value =
        serde_json::from_slice(&get(&s, &gfi850("UU", "application/json")).await.body).unwrap();
    let vv: serde_json::Value =
        serde_json::from_slice(&get(&s, &gfi850("VV", "application/json")).await.body).unwrap();
    let norm = uu["value"]
        .as_f64()
        .unwrap()
        .hypot(vv["value"].as_f64().unwrap());
    assert!(
        (norm - speed).abs() < 1e-3 * speed.max(1.0),
        "{norm} vs {speed}"
    );
    // Text and XML list both layers.
    let t = get(&s, &gfi850("TT,UV", "text/plain")).await.text();
    assert!(
        t.contains("layer = TT") && t.contains("layer = UV") && t.contains("direction_deg = "),
        "{t}"
    );
    let x = get(&s, &gfi850("TT,UV", "text/xml")).await.text();
    assert_eq!(x.matches("<FeatureInfo>").count(), 2, "{x}");
}

/// The "image misses the grid" pre-check never drops data: wherever it says so, the exact
/// inverse of every pixel is outside the grid too (every grid type, every z3 tile, both fast
/// CRSes), and it does skip most tiles far from a regional grid.
#[test]
fn skipping_images_outside_the_grid_loses_nothing() {
    use tile_server::render::{locate, tile_bbox, OutputCrs};
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/fst-core/tests/fixtures/xdf/grids.fst");
    let mut sources = vec![path, bundled_sample()];
    let mut skipped = 0;
    let mut checked = 0;
    for p in sources.drain(..) {
        let s = state_for(vec![p]);
        for layer in s.snapshot().layers.values() {
            for x in 0..8u32 {
                for y in 0..8u32 {
                    let b = tile_bbox(3, x, y);
                    let geo = [
                        -180.0 + 45.0 * f64::from(x),
                        90.0 - 22.5 * f64::from(y + 1),
                        -135.0 + 45.0 * f64::from(x),
                        90.0 - 22.5 * f64::from(y),
                    ];
                    for (crs, bbox) in [(OutputCrs::WebMercator, b), (OutputCrs::LonLat, geo)] {
                        if tile_server::maps::misses_layer(layer, crs, bbox) {
                            skipped += 1;
                            let px = locate(&layer.grid, crs, bbox, 64, 64).unwrap();
                            let hit = (0..px.i.len()).find(|&k| !px.i[k].is_nan()).map(|k| {
                                (px.lon[k], px.lat[k], px.i[k], px.j[k], layer.grid.shape())
                            });
                            assert!(
                                hit.is_none(),
                                "{} {crs:?} {bbox:?} layer bbox {:?}: {hit:?}",
                                layer.name,
                                layer.bbox
                            );
                        }
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(skipped > checked / 4, "{skipped} of {checked}");
}

/// Distinct colours among the opaque pixels of an RGBA image.
fn distinct_colours(rgba: &[u8]) -> usize {
    let mut set: Vec<[u8; 4]> = rgba
        .chunks_exact(4)
        .filter(|p| p[3] > 0)
        .map(|p| [p[0], p[1], p[2], p[3]])
        .collect();
    set.sort_unstable();
    set.dedup();
    set.len()
}

#[tokio::test]
async fn the_default_map_of_every_fixture_layer_is_not_flat() {
    // Every layer of the librmn fixtures and of the bundled sample, asked for with no style,
    // no range and no dimension (the first map a user sees), shows many colours: the default
    // level is the surface and a style range that does not suit the data gives way to the
    // data's own. A field with fewer distinct values than that cannot, and is held to them.
    let fx = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/fst-core/tests/fixtures");
    let s = state_for(vec![fx.join("xdf"), fx.join("rsf"), bundled_sample()]);
    let layers: Vec<_> = s.snapshot().layers.values().cloned().collect();
    assert!(layers.len() > 100, "{}", layers.len());
    let mut flat = Vec::new();
    let mut checked = 0;
    for layer in &layers {
        // A record that does not decode has no map to look at (fields without a valid date
        // and records that hold no numbers are not layers at all).
        let Ok(slice) = tile_server::dims::select(layer, &tile_server::dims::DimRequest::default())
        else {
            continue;
        };
        let Ok(f) = tile_server::maps::field(&s, &layer.name, slice) else {
            continue;
        };
        checked += 1;
        let b = layer.bbox;
        let uri = format!(
            "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS={}&STYLES=&CRS=CRS:84&BBOX={},{},{},{}&WIDTH=256&HEIGHT=256&FORMAT=image/png",
            layer.name, b[0], b[1], b[2], b[3]
        );
        let r = get(&s, &uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text());
        let colours = distinct_colours(&decode_png(&r.body).2);
        let mut values: Vec<u32> = f
            .values
            .iter()
            .filter(|v| v.is_finite())
            .map(|v| v.to_bits())
            .collect();
        values.sort_unstable();
        values.dedup();
        // An interval style drawn with its own classes shows at most the classes the data
        // meet (the transparent "none" class not counted).
        let style = tile_server::routes::wms::find_style(&s, layer, None).unwrap();
        let o = tile_server::styles::StyleOverrides::default();
        let range = style.range_in_use(&o, data_range(&f).as_ref());
        let cm = style.color_map_in(&o, range);
        let classes = if cm.intervals.is_empty() {
            usize::MAX
        } else {
            let mut met: Vec<[u8; 4]> = f
                .values
                .iter()
                .map(|v| cm.color(*v))
                .filter(|c| c[3] > 0)
                .collect();
            met.sort_unstable();
            met.dedup();
            met.len()
        };
        let want = values.len().min(8).min(classes);
        eprintln!(
            "{}: {colours} colours, {} values {:?}",
            layer.name,
            values.len(),
            data_range(&f)
        );
        if colours < want {
            flat.push(format!(
                "{}: {colours} colours for {} distinct values",
                layer.name,
                values.len()
            ));
        }
    }
    assert!(checked > 100, "{checked}");
    assert!(
        flat.is_empty(),
        "{} flat maps:\n{}",
        flat.len(),
        flat.join("\n")
    );
}

/// The automatic range of viridis over the sample's TT at its default slice, computed by the
/// library from fst-core's decoded field.
fn tt_auto_range(s: &AppState) -> [f64; 2] {
    let layer = s.snapshot().layers.get("TT").cloned().unwrap();
    let slice = tile_server::dims::select(&layer, &tile_server::dims::DimRequest::default())
        .unwrap()
        .clone();
    let f = tile_server::maps::field(s, &layer.name, &slice).unwrap();
    let auto = tile_server::styles::StyleOverrides {
        range: tile_server::styles::ColorRange::Auto,
        ..Default::default()
    };
    s.styles
        .get("viridis")
        .unwrap()
        .range_in_use(&auto, data_range(&f).as_ref())
}

fn png_of(r: &Resp) -> Vec<u8> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    decode_png(&r.body).2
}

#[tokio::test]
async fn colorscalerange_auto_default_and_fixed_on_getmap_and_xyz() {
    let s = state();
    // Viridis spans 0..1: it does not suit temperatures in °C, so its default range there is
    // the field's robust extent, the same as `auto`.
    let style = s.styles.get("viridis").unwrap();
    let [lo, hi] = tt_auto_range(&s);
    assert!(
        lo < hi && lo > -60.0 && hi < 60.0 && hi - lo > 5.0,
        "{lo}..{hi}"
    );
    let fixed = format!("{lo},{hi}");
    let map = |range: &str| {
        format!("{MAP}&STYLES=viridis&COLORSCALERANGE={range}").replace("&STYLES=&", "&")
    };
    let body = |r: Resp| png_of(&r);
    let by_default = body(get(&s, &map("")).await);
    let by_keyword = body(get(&s, &map("default")).await);
    let by_auto = body(get(&s, &map("auto")).await);
    let by_numbers = body(get(&s, &map(&fixed)).await);
    let by_style = body(get(&s, &map("0,1")).await);
    assert!(by_default == by_auto && by_keyword == by_auto && by_numbers == by_auto);
    assert!(by_style != by_auto);
    assert!(
        distinct_colours(&by_auto) > 50,
        "{}",
        distinct_colours(&by_auto)
    );
    // Over 0..1 nearly every pixel takes one of the two end colours.
    let cm = style.color_map(&tile_server::styles::StyleOverrides::default());
    let ends = [cm.lut[0], cm.lut[cm.lut.len() - 1]];
    let opaque: Vec<&[u8]> = by_style.chunks_exact(4).filter(|p| p[3] > 0).collect();
    let at_ends = opaque
        .iter()
        .filter(|p| ends.iter().any(|e| e[..] == p[..]))
        .count();
    assert!(
        at_ends * 10 > opaque.len() * 8,
        "{at_ends} of {}",
        opaque.len()
    );
    // XYZ: the same keywords, the same range for every tile of the field.
    let tile = |range: &str| format!("/tiles/TT/3/1/2.png?style=viridis&colorscalerange={range}");
    let t_auto = body(get(&s, &tile("auto")).await);
    assert_eq!(t_auto, body(get(&s, &tile(&fixed)).await));
    assert_eq!(
        t_auto,
        body(get(&s, "/tiles/TT/3/1/2.png?style=viridis").await)
    );
    // A bad range is an InvalidParameterValue, in every form.
    for bad in ["1,0", "x,y", "1", "automatic"] {
        let r = get(&s, &map(bad)).await;
        assert_eq!(exception_code(&r), "InvalidParameterValue", "{bad}");
    }
}

#[tokio::test]
async fn the_legend_and_tilejson_show_the_colour_range_in_use() {
    let s = state();
    let [lo, hi] = tt_auto_range(&s);
    let fixed = format!("{lo},{hi}");
    let body = |r: Resp| png_of(&r);
    // The legend shows the range in use.
    let legend = |q: &str| {
        format!("/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=TT&STYLE=viridis&FORMAT=image/png{q}")
    };
    let l_default = body(get(&s, &legend("")).await);
    assert_eq!(
        l_default,
        body(get(&s, &legend("&COLORSCALERANGE=auto")).await)
    );
    assert_eq!(
        l_default,
        body(get(&s, &legend(&format!("&COLORSCALERANGE={fixed}"))).await)
    );
    assert_ne!(
        l_default,
        body(get(&s, &legend("&COLORSCALERANGE=0,1")).await)
    );
    // TileJSON's legend URL keeps the style, the range and the dimensions of its tiles.
    let r = get(
        &s,
        "/tiles/TT/tilejson.json?style=viridis&colorscalerange=auto&elevation=500&reference_time=2026-11-20T12:00:00Z&time=2026-11-20T18:00:00Z",
    )
    .await;
    let j: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let url = j["legend"].as_str().unwrap();
    for part in [
        "LAYER=TT",
        "STYLE=viridis",
        "COLORSCALERANGE=auto",
        "ELEVATION=500",
        "TIME=2026-11-20T18:00:00Z",
        "DIM_REFERENCE_TIME=2026-11-20T12:00:00Z",
    ] {
        assert!(url.contains(part), "{url}");
    }
    let path = url.split_once("127.0.0.1:8080").map_or(url, |p| p.1);
    let l_500 = body(get(&s, path).await);
    assert_ne!(l_500, l_default, "the 500 hPa field has another extent");
    // With no style given, the legend names the layer's default style.
    let r = get(&s, "/tiles/TT/tilejson.json").await;
    let j: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert!(
        j["legend"].as_str().unwrap().contains("STYLE=temperature"),
        "{j}"
    );
}

#[tokio::test]
async fn the_default_elevation_is_the_level_nearest_the_surface() {
    // fst-core's level fixture (librmn): hybrid levels 0.0125..0.1 (nearest 1: 0.1), heights
    // above ground 0, 1.5 and 10 m, pressure 1000/850/500 in the sample.
    let fx = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/fst-core/tests/fixtures/xdf/levels_dates.fst");
    let s = state_for(vec![fx, bundled_sample()]);
    let caps = get(&s, "/wms?SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.3.0")
        .await
        .text();
    for (layer, want) in [
        (
            "TT.P.VGRID",
            "units=\"hybrid\" default=\"0.1\">0.1,0.05,0.02,0.0125<",
        ),
        (
            "UU.P.LEVELS",
            "units=\"m above ground\" default=\"0\">0,1.5,10<",
        ),
        // The sample's latest run has TT at 850 hPa only: that is what a map without
        // ELEVATION draws (`capabilities_defaults_are_what_is_drawn`).
        ("TT.P.SAMPLE", "units=\"hPa\" default=\"850\">1000,850,500<"),
    ] {
        let (_, after) = caps.split_once(&format!("<Name>{layer}</Name>")).unwrap();
        let (_, dim) = after.split_once("<Dimension name=\"elevation\" ").unwrap();
        let dim: String = dim.chars().take(120).collect();
        assert!(dim.starts_with(want), "{layer}: {dim}");
    }
    // GetMap without ELEVATION draws that level.
    let map = |layer: &str, extra: &str| {
        format!("/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS={layer}&STYLES=viridis&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=90&HEIGHT=45&FORMAT=image/png&COLORSCALERANGE=-50,50{extra}")
    };
    let default = get(&s, &map("TT.P.VGRID", "")).await.body;
    assert_eq!(
        default,
        get(&s, &map("TT.P.VGRID", "&ELEVATION=0.1")).await.body
    );
    assert_ne!(
        default,
        get(&s, &map("TT.P.VGRID", "&ELEVATION=0.0125")).await.body
    );
}

/// The `default` attribute of a layer's dimension in capabilities 1.3.0.
fn dim_default(caps: &str, layer: &str, dim: &str) -> String {
    let (_, after) = caps
        .split_once(&format!("<Name>{layer}</Name>"))
        .unwrap_or_else(|| panic!("{layer} not listed"));
    let (_, d) = after
        .split_once(&format!("<Dimension name=\"{dim}\" "))
        .unwrap();
    let (_, d) = d.split_once("default=\"").unwrap();
    d.split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn capabilities_defaults_are_what_is_drawn_and_every_listed_value_draws() {
    // The sample has two runs: 2026-11-20 12 UTC (TT at 1000, 850 and 500 hPa, 12 to 00 UTC)
    // and 2026-11-21 00 UTC (TT at 850 hPa only, 00 and 06 UTC). The capabilities list the
    // times and levels of both, but without DIM_REFERENCE_TIME every request went to the
    // latest run: TIME=2026-11-20T12:00:00Z and ELEVATION=1000 (the advertised default!)
    // answered InvalidDimensionValue, and the map drawn without ELEVATION was 850 hPa.
    let s = state();
    let caps = get(&s, "/wms?SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.3.0")
        .await
        .text();
    let snap = s.snapshot();
    for layer in snap.layers.values() {
        let name = &layer.name;
        let b = layer.bbox;
        let map = |extra: &str| {
            format!("/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS={name}&STYLES=&CRS=CRS:84&BBOX={},{},{},{}&WIDTH=40&HEIGHT=30&FORMAT=image/png&COLORSCALERANGE=-60,1100{extra}", b[0], b[1], b[2], b[3])
        };
        let default = get(&s, &map("")).await;
        assert_eq!(default.status, StatusCode::OK, "{name}: {}", default.text());
        let explicit = format!(
            "&TIME={}&ELEVATION={}&DIM_REFERENCE_TIME={}",
            dim_default(&caps, name, "time"),
            dim_default(&caps, name, "elevation"),
            dim_default(&caps, name, "reference_time")
        );
        let r = get(&s, &map(&explicit)).await;
        assert_eq!(r.status, StatusCode::OK, "{name}{explicit}: {}", r.text());
        assert_eq!(
            r.body, default.body,
            "{name}: the defaults {explicit} are not what is drawn"
        );
        for t in &layer.times {
            let q = format!("&TIME={}", tile_server::dims::iso(*t));
            let r = get(&s, &map(&q)).await;
            assert_eq!(r.status, StatusCode::OK, "{name}{q}: {}", r.text());
        }
        for l in &layer.levels {
            let q = format!("&ELEVATION={}", tile_server::dims::level_text(l));
            let r = get(&s, &map(&q)).await;
            assert_eq!(r.status, StatusCode::OK, "{name}{q}: {}", r.text());
        }
    }
    // TIME alone takes the latest run that has it: 2026-11-21T00 is in both runs, and 500 hPa
    // only in the first.
    let r = get(
        &s,
        "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=TT&QUERY_LAYERS=TT&STYLES=&CRS=CRS:84&BBOX=-130,30,-70,70&WIDTH=60&HEIGHT=40&I=30&J=20&INFO_FORMAT=application/json&TIME=2026-11-21T00:00:00Z",
    )
    .await;
    assert!(
        r.text()
            .contains("\"reference_time\":\"2026-11-21T00:00:00Z\""),
        "{}",
        r.text()
    );
    let r = get(
        &s,
        "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=TT&QUERY_LAYERS=TT&STYLES=&CRS=CRS:84&BBOX=-130,30,-70,70&WIDTH=60&HEIGHT=40&I=30&J=20&INFO_FORMAT=application/json&TIME=2026-11-21T00:00:00Z&ELEVATION=500",
    )
    .await;
    assert!(
        r.text()
            .contains("\"reference_time\":\"2026-11-20T12:00:00Z\""),
        "{}",
        r.text()
    );
    // A value no run has is still refused, and a named run is not left.
    for q in [
        "&TIME=2026-11-22T00:00:00Z",
        "&ELEVATION=700",
        "&TIME=2026-11-20T12:00:00Z&DIM_REFERENCE_TIME=2026-11-21T00:00:00Z",
    ] {
        let r = get(&s, &format!("{MAP}{q}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
        assert_eq!(exception_code(&r), "InvalidDimensionValue", "{q}");
    }
}

#[tokio::test]
async fn every_listed_layer_answers_getmap_and_getfeatureinfo() {
    // A layer in the capabilities must draw. Records that hold no numbers (characters, the raw
    // words of datyp 0, complex values) and fields whose records carry no valid date (the
    // `META` record of rsf_extended_meta.fst has both) were listed, and every GetMap and
    // GetFeatureInfo of them answered 500.
    let fx = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/fst-core/tests/fixtures");
    let dir = support::fresh_dir("undated");
    write_undated_field(&dir.join("undated.fst"));
    let s = state_for(vec![fx.join("xdf"), fx.join("rsf"), dir.clone()]);
    let snap = s.snapshot();
    for gone in [
        "BYTE",
        "TT.P.BIN32",
        "TT.P.BIN64",
        "UV.P.C32",
        "UV.P.C64",
        "META",
        "ZZ",
    ] {
        assert!(!snap.layers.contains_key(gone), "{gone} is listed");
    }
    // The undated field is reported, not dropped silently.
    assert!(
        snap.skipped
            .iter()
            .any(|k| k.reason.contains("ZZ") && k.reason.contains("valid date")),
        "{:?}",
        snap.skipped
    );
    assert!(snap.layers.len() > 100, "{}", snap.layers.len());
    for layer in snap.layers.values() {
        let b = layer.bbox;
        let q = format!(
            "SERVICE=WMS&VERSION=1.3.0&LAYERS={0}&QUERY_LAYERS={0}&STYLES=&CRS=CRS:84&BBOX={1},{2},{3},{4}&WIDTH=64&HEIGHT=64",
            layer.name, b[0], b[1], b[2], b[3]
        );
        let map = get(&s, &format!("/wms?REQUEST=GetMap&FORMAT=image/png&{q}")).await;
        assert_eq!(map.status, StatusCode::OK, "{}: {}", layer.name, map.text());
        let info = get(
            &s,
            &format!("/wms?REQUEST=GetFeatureInfo&INFO_FORMAT=application/json&I=32&J=32&{q}"),
        )
        .await;
        assert_eq!(
            info.status,
            StatusCode::OK,
            "{}: {}",
            layer.name,
            info.text()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A numeric field on an L grid whose records have date stamp 0 (no date).
fn write_undated_field(path: &std::path::Path) {
    use fst_core::write::{Payload, RecordKeys};
    let options = fst_core::WriteOptions::new(fst_core::Container::Rsf);
    let mut w = fst_core::FstWriter::create(path, options).unwrap();
    let keys = RecordKeys {
        dateo: fst_core::date::DateStamp(0),
        datev: Some(fst_core::date::DateStamp(0)),
        ..l_grid_keys("ZZ")
    };
    let words: Vec<u32> = (0..48u16).map(|v| f32::from(v).to_bits()).collect();
    w.write_encoded(&keys, &Payload::ieee32(&words)).unwrap();
    w.close().unwrap();
}

#[tokio::test]
async fn a_field_mixing_level_kinds_is_one_layer_per_kind() {
    // GEM writes TT on its hybrid levels and at 1.5 m above ground under one nomvar. In one
    // layer, ELEVATION listed 1.5 (m) and the hybrid levels under the first one's unit; sigma
    // 1 and hybrid 1 were one number listed twice, and ELEVATION=1 reached only the first.
    // The same pressure level written old style at one time and new style at another was
    // listed twice, each value reaching only its own times.
    let dir = support::fresh_dir("mixed_kinds");
    let path = dir.join("mixed.fst");
    write_mixed_kinds(&path);
    let s = state_for(vec![path]);
    let caps = get(&s, "/wms?SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.3.0")
        .await
        .text();
    let dim = |layer: &str| {
        let (_, after) = caps
            .split_once(&format!("<Name>{layer}</Name>"))
            .unwrap_or_else(|| panic!("{layer} not listed"));
        let (_, dim) = after.split_once("<Dimension name=\"elevation\" ").unwrap();
        dim.split("</Dimension>").next().unwrap().to_string()
    };
    assert_eq!(dim("TT"), "units=\"hybrid\" default=\"1\">1,0.9,0.5");
    assert_eq!(
        dim("TT_height_agl"),
        "units=\"m above ground\" default=\"1.5\">1.5"
    );
    assert_eq!(dim("TT_sigma"), "units=\"sigma\" default=\"1\">1");
    assert_eq!(dim("GZ"), "units=\"hPa\" default=\"500\">500");
    assert!(caps.contains("<Title>Air temperature (TT), height above ground</Title>"));
    let b = s.snapshot().layers["TT"].bbox;
    let map = |layer: &str, extra: &str| {
        format!("/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS={layer}&STYLES=viridis&CRS=CRS:84&BBOX={},{},{},{}&WIDTH=40&HEIGHT=20&FORMAT=image/png&COLORSCALERANGE=0,400{extra}", b[0], b[1], b[2], b[3])
    };
    // Each kind's level 1 is its own map (values 100 + k: hybrid 1 → 100, sigma 1 → 300).
    let hybrid = get(&s, &map("TT", "&ELEVATION=1")).await;
    let sigma = get(&s, &map("TT_sigma", "&ELEVATION=1")).await;
    assert_eq!(hybrid.status, StatusCode::OK, "{}", hybrid.text());
    assert_eq!(sigma.status, StatusCode::OK, "{}", sigma.text());
    assert_ne!(hybrid.body, sigma.body);
    let agl = get(&s, &map("TT_height_agl", "&ELEVATION=1.5")).await;
    assert_eq!(agl.status, StatusCode::OK, "{}", agl.text());
    // 500 hPa at both times, whichever ip1 style each time's record used.
    for time in ["2024-01-01T00:00:00Z", "2024-01-01T06:00:00Z"] {
        let r = get(&s, &map("GZ", &format!("&ELEVATION=500&TIME={time}"))).await;
        assert_eq!(r.status, StatusCode::OK, "{time}: {}", r.text());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// TT on hybrid levels 1, 0.9, 0.5, at 1.5 m above ground and at sigma 1 (value 100 + 100·k
/// for the k-th kind), and GZ at 500 hPa as an old-style ip1 at 00 UTC and a new-style one at
/// 06 UTC, on one L grid.
fn write_mixed_kinds(path: &std::path::Path) {
    use fst_core::ip::{encode_ip, IpStyle, LevelKind};
    use fst_core::write::{Payload, RecordKeys};
    let mut w =
        fst_core::FstWriter::create(path, fst_core::WriteOptions::new(fst_core::Container::Rsf))
            .unwrap();
    let t0 = fst_core::date::DateStamp::from_datetime(
        &"2024-01-01T00:00:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap(),
    )
    .unwrap();
    let keys = |nomvar: &str, ip1: u32, npas: u32| RecordKeys {
        dateo: t0,
        deet: 3600,
        npas,
        ip1,
        ..l_grid_keys(nomvar)
    };
    let levels = [
        (1.0, LevelKind::Hybrid, 0.0),
        (0.9, LevelKind::Hybrid, 0.0),
        (0.5, LevelKind::Hybrid, 0.0),
        (1.5, LevelKind::HeightAboveGround, 100.0),
        (1.0, LevelKind::Sigma, 200.0),
    ];
    for (value, kind, offset) in levels {
        let ip1 = encode_ip(value, kind, IpStyle::New).unwrap();
        let words: Vec<u32> = (0..48u16)
            .map(|v| (100.0 + offset + f32::from(v) * 0.1).to_bits())
            .collect();
        w.write_encoded(&keys("TT", ip1, 0), &Payload::ieee32(&words))
            .unwrap();
    }
    for (style, npas) in [(IpStyle::Old, 0), (IpStyle::New, 6)] {
        let ip1 = encode_ip(500.0, LevelKind::Pressure, style).unwrap();
        let words: Vec<u32> = (0..48u16).map(|v| f32::from(v).to_bits()).collect();
        w.write_encoded(&keys("GZ", ip1, npas), &Payload::ieee32(&words))
            .unwrap();
    }
    w.close().unwrap();
}

/// The keys of an 8 × 6 field `nomvar` (typvar P) on one L grid.
fn l_grid_keys(nomvar: &str) -> fst_core::write::RecordKeys {
    fst_core::write::RecordKeys {
        nomvar: nomvar.into(),
        typvar: "P".into(),
        grtyp: b'L',
        ig1: 100,
        ig2: 100,
        ig3: 12000,
        ig4: 25000,
        ni: 8,
        nj: 6,
        ..fst_core::write::RecordKeys::default()
    }
}
