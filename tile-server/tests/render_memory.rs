//! The render-memory budget bounds the real process (issue 14, defect 7): eight concurrent
//! three-layer 1024² `GetMap`s under a 128 MiB budget render one at a time (each reserves
//! 1024² × (56 + 2 × 20) bytes = 96 MiB), so the server's peak RSS grows by about one render
//! (88 MiB measured), not eight. Without the budget the same load grew it by 352 MiB.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// test code: failing loudly is the point

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tile_server::config::bundled_sample;

fn get(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut c = TcpStream::connect(addr).ok()?;
    c.set_read_timeout(Some(Duration::from_secs(120))).ok()?;
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = Vec::new();
    let _ = c.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf)
        .strip_prefix("HTTP/1.1 ")?
        .get(..3)?
        .parse()
        .ok()
}

fn status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[test]
fn concurrent_large_maps_stay_within_the_budget() {
    let dir = std::env::temp_dir().join(format!("fst-tsec-mem-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    std::fs::write(
        dir.join("server.toml"),
        format!(
            "listen = \"{addr}\"\ndata = [\"{}\"]\n[watch]\nenabled = false\n[cache]\ntiles_mb = 0\n\
             [limits]\nmax_width = 1024\nmax_height = 1024\nrender_budget_mb = 128\n\
             max_concurrent_renders = 8\nrender_wait_ms = 120000\n",
            bundled_sample().display()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fst-tile-server"))
        .arg("--config")
        .arg(dir.join("server.toml"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while get(addr, "/healthz") != Some(200) {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let map = |k: u32, size: u32| {
        format!(
            "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=TT,PN,HU&STYLES=&CRS=EPSG:3857\
             &BBOX=-15000000,{},-6000000,10000000&WIDTH={size}&HEIGHT={size}&FORMAT=image/png",
            3_000_000 + 1000 * k
        )
    };
    // Warm: the fields decoded and cached, the runtime's threads started.
    assert_eq!(get(addr, &map(99, 64)), Some(200));
    let pid = child.id();
    let base = status_kib(pid, "VmRSS:");
    let clients: Vec<_> = (0..8)
        .map(|k| std::thread::spawn(move || get(addr, &map(k, 1024))))
        .collect();
    for c in clients {
        assert_eq!(c.join().unwrap(), Some(200));
    }
    let grown_mib = status_kib(pid, "VmHWM:").saturating_sub(base) / 1024;
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "render memory: peak grew by {grown_mib} MiB over {} MiB",
        base / 1024
    );
    // One render at a time (96 MiB reserved) plus allocator slack; eight at once would be
    // several hundred.
    assert!(grown_mib < 160, "peak RSS grew by {grown_mib} MiB");
}
