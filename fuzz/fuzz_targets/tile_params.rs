//! WMS 1.3.0/1.1.1 (GetCapabilities, GetMap, GetFeatureInfo, GetLegendGraphic), XYZ tile and
//! TileJSON requests from arbitrary bytes, through the tile server's router in process (no
//! socket) over its bundled sample, plus the query-string parsers called directly. Every
//! request must get an answer (a 4xx is fine), never a panic or a hang.
//!
//! Layout: byte 0 picks the route; the rest is the query string (for XYZ tiles, the path
//! after `/tiles/` up to the first `?`, then the query). Bytes a URI cannot hold are
//! percent-encoded, so every input reaches the server's own percent-decoding.
//!
//! Images are capped at 64 × 64 pixels so that a request the fuzzer makes valid renders in
//! about a millisecond, and the caches at 24 MiB; the parsing in front of the renderer does not
//! depend on either.
#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use tile_server::config::{bundled_sample, Config};
use tile_server::params::{check_png, parse_bbox, parse_bgcolor, parse_crs, Params};
use tile_server::routes::wms::WmsVersion;
use tile_server::{router, AppState};
use tower::ServiceExt;

struct Server {
    runtime: tokio::runtime::Runtime,
    /// Built once, so that an execution costs the request and not the router's construction.
    router: axum::Router,
}

fn server() -> Option<&'static Server> {
    static SERVER: OnceLock<Option<Server>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let mut c = Config::with_data(vec![bundled_sample()]);
            c.watch.enabled = false;
            c.limits.max_width = 64;
            c.limits.max_height = 64;
            // Small caches: the defaults (640 MiB) plus the fuzzer's own memory under ASan
            // would reach the RSS limit without any bug.
            c.cache.fields_mb = 16;
            c.cache.tiles_mb = 8;
            let state = AppState::new(c).ok()?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            Some(Server {
                runtime,
                router: router(state),
            })
        })
        .as_ref()
}

/// Percent-encode what a URI cannot hold (and `?` in a path).
fn escape(bytes: &[u8], path: bool) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        let plain = (0x21..=0x7E).contains(&b)
            && !matches!(
                b,
                b'#' | b'"' | b'<' | b'>' | b'`' | b'{' | b'}' | b'|' | b'\\' | b'^'
            )
            && !(path && b == b'?');
        if plain {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

/// The parsers the routes call, on the query alone.
fn parse_directly(query: &str) {
    let Ok(p) = Params::parse(Some(query)) else {
        return;
    };
    let version = WmsVersion::of(&p);
    let v111 = version == WmsVersion::V111;
    let _ = p.overrides();
    let _ = p.size("WIDTH", 4096, None);
    let _ = p.size("HEIGHT", 4096, Some(256));
    let _ = p.req("LAYERS");
    let mut swap = false;
    for key in ["crs", "srs"] {
        if let Some(c) = p.get(key) {
            if let Ok((_, northing_first)) = parse_crs(c, v111) {
                swap = northing_first;
            }
        }
    }
    if let Some(b) = p.get("bbox") {
        let _ = parse_bbox(b, swap);
    }
    let _ = check_png(p.get("format"));
    let _ = parse_bgcolor(p.get("bgcolor"));
    for key in ["time", "elevation", "dim_reference_time"] {
        if let Some(t) = p.get(key) {
            let _ = tile_server::dims::parse_time(t);
        }
    }
    let _ = tile_server::dims::DimRequest::from_params(&p);
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&route, rest)) = data.split_first() else {
        return;
    };
    let uri = match route % 8 {
        0 | 1 => format!("/wms?{}", escape(rest, false)),
        2 => format!("/ows?{}", escape(rest, false)),
        3 => format!("/tiles/TT/tilejson.json?{}", escape(rest, false)),
        4 | 5 => {
            let (path, query) = match rest.iter().position(|&b| b == b'?') {
                Some(k) => (&rest[..k], &rest[k + 1..]),
                None => (rest, &[][..]),
            };
            format!("/tiles/{}?{}", escape(path, true), escape(query, false))
        }
        6 => format!(
            "/wms?SERVICE=WMS&REQUEST=GetLegendGraphic&{}",
            escape(rest, false)
        ),
        _ => format!("/api/layers?{}", escape(rest, false)),
    };
    if let Some(q) = uri.split_once('?').map(|(_, q)| q) {
        parse_directly(q);
    }
    let Some(server) = server() else {
        return;
    };
    let Ok(request) = Request::builder().uri(uri.as_str()).body(Body::empty()) else {
        return;
    };
    server.runtime.block_on(async {
        let Ok(response) = server.router.clone().oneshot(request).await;
        let _ = response.into_body().collect().await;
    });
});
