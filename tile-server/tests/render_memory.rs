//! The render-memory budget bounds the real process (issue 14, defect 7): eight concurrent
//! three-layer 1024² `GetMap`s under a 128 MiB budget render one at a time (each reserves
//! 1024² × (56 + 2 × 20) bytes = 96 MiB), so the server's peak RSS grows by about one render
//! (88 MiB measured), not eight. Without the budget the same load grew it by 352 MiB.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// test code: failing loudly is the point

mod support;

use support::{fresh_dir, status as get, Server};
use tile_server::config::bundled_sample;

#[test]
fn concurrent_large_maps_stay_within_the_budget() {
    let toml = format!(
        "data = [\"{}\"]\n[watch]\nenabled = false\n[cache]\ntiles_mb = 0\n\
         [limits]\nmax_width = 1024\nmax_height = 1024\nrender_budget_mb = 128\n\
         max_concurrent_renders = 8\nrender_wait_ms = 120000",
        bundled_sample().display()
    );
    let srv = Server::start(&fresh_dir("mem"), &toml);
    let addr = srv.addr;
    let map = |k: u32, size: u32| {
        format!(
            "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=TT,PN,HU&STYLES=&CRS=EPSG:3857\
             &BBOX=-15000000,{},-6000000,10000000&WIDTH={size}&HEIGHT={size}&FORMAT=image/png",
            3_000_000 + 1000 * k
        )
    };
    // Warm: the fields decoded and cached, the runtime's threads started.
    assert_eq!(get(addr, &map(99, 64)), Some(200));
    let base = srv.status_kib("VmRSS:");
    let clients: Vec<_> = (0..8)
        .map(|k| std::thread::spawn(move || get(addr, &map(k, 1024))))
        .collect();
    for c in clients {
        assert_eq!(c.join().unwrap(), Some(200));
    }
    let grown_mib = srv.status_kib("VmHWM:").saturating_sub(base) / 1024;
    eprintln!(
        "render memory: peak grew by {grown_mib} MiB over {} MiB",
        base / 1024
    );
    // One render at a time (96 MiB reserved) plus allocator slack; eight at once would be
    // several hundred.
    assert!(grown_mib < 160, "peak RSS grew by {grown_mib} MiB");
}
