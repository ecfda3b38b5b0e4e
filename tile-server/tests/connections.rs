//! The real server process on loopback (issue 14, defects 4 and 5): connections that send
//! half a request header are closed after the header-read timeout, `/healthz` answers while
//! they are open, a client over its per-address bound is refused while other addresses are
//! served, the total bound holds, and PROJ writes nothing to stderr whatever CRS clients ask
//! for.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// test code: failing loudly is the point

mod support;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use support::{connect_from, fresh_dir, get_on, status as get, Server};
use tile_server::config::bundled_sample;

/// One server at a time: these tests count connections and wait on timeouts, and four servers
/// started at once on a loaded two-core machine made the counts race the accept loops.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A server over the bundled sample with `[connections]` set to `connections`.
fn start(name: &str, connections: &str) -> Server {
    let toml = format!(
        "data = [\"{}\"]\n[watch]\nenabled = false\n[connections]\n{connections}",
        bundled_sample().display()
    );
    Server::start(&fresh_dir(name), &toml)
}

/// Status code of a complete `GET` from the loopback address `local`.
fn get_from(addr: SocketAddr, local: [u8; 4], path: &str) -> Option<u16> {
    get_on(connect_from(addr, local), path).map(|r| r.0)
}

/// A connection from `local` that sends half a request header.
fn half_header(addr: SocketAddr, local: [u8; 4]) -> TcpStream {
    let mut s = connect_from(addr, local);
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        .unwrap();
    s
}

/// What the server did with a half-header connection by `deadline`: `Some(bytes)` once it
/// closed it (with whatever it answered), `None` if it is still open.
fn closed_by(mut s: TcpStream, deadline: Duration) -> Option<Vec<u8>> {
    s.set_read_timeout(Some(deadline)).unwrap();
    let mut buf = Vec::new();
    match s.read_to_end(&mut buf) {
        // The read timeout: still open.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            None
        }
        // An end, a reset, an abort: the server closed it.
        _ => Some(buf),
    }
}

/// The server's connection counters (`fst_connections_*` of `/metrics`), asked from an
/// address no test connection uses, so that asking takes no slot the test counts on.
fn connection_metrics(addr: SocketAddr) -> String {
    let body = get_on(connect_from(addr, [127, 0, 9, 9]), "/metrics").map(|r| r.1);
    let text = String::from_utf8_lossy(&body.unwrap_or_default()).into_owned();
    text.lines()
        .filter(|l| l.starts_with("fst_connections_"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The value of one `fst_connections_*` counter.
fn connection_metric(addr: SocketAddr, name: &str) -> u64 {
    connection_metrics(addr)
        .split("; ")
        .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

/// Wait until the server holds at least `n` connections besides the request asking (the
/// counters are asked on a connection of their own, which is open while it is answered), so
/// that a bound is tested against connections the server holds, not against ones still in
/// the listen queue of a loaded machine.
fn wait_until_open(addr: SocketAddr, n: u64) {
    let t0 = Instant::now();
    while connection_metric(addr, "fst_connections_open") < n + 1 {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the server holds too few connections: {}",
            connection_metrics(addr)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn half_headers_time_out_and_per_client_bounds_hold() {
    let _serial = one_at_a_time();
    let srv = start(
        "conns",
        "header_read_timeout_ms = 30000\nmax = 200\nmax_per_ip = 30",
    );
    // 30 slow clients from 127.0.0.5 (an address no other request comes from, so that no
    // slot of an earlier request, released after its answer, is counted): its whole bound.
    let slow: Vec<_> = (0..30)
        .map(|_| half_header(srv.addr, [127, 0, 0, 5]))
        .collect();
    let t0 = Instant::now();
    wait_until_open(srv.addr, 30);
    // /healthz from another address still answers while they hang.
    assert_eq!(get_from(srv.addr, [127, 0, 0, 3], "/healthz"), Some(200));
    // Over the bound: refused with 429 and closed, long before the header timeout.
    let answers: Vec<_> = (0..10)
        .map(|_| half_header(srv.addr, [127, 0, 0, 5]))
        .map(|c| closed_by(c, Duration::from_secs(10)))
        .collect();
    let refused = answers
        .iter()
        .filter(|a| a.as_ref().is_some_and(|b| b.starts_with(b"HTTP/1.1 429")))
        .count();
    assert_eq!(
        refused,
        10,
        "over-bound connections not refused: {:?}; server counters: {}",
        answers
            .iter()
            .map(|a| a.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()))
            .collect::<Vec<_>>(),
        connection_metrics(srv.addr)
    );
    assert!(
        t0.elapsed() < Duration::from_secs(25),
        "checked too late: the slow connections may have timed out already"
    );
    // Another client address is not affected by the first one's bound.
    let other = half_header(srv.addr, [127, 0, 0, 2]);
    // After the header-read timeout every slow connection has been closed by the server.
    for c in slow {
        let left = Duration::from_secs(90).saturating_sub(t0.elapsed());
        assert!(
            closed_by(c, left.max(Duration::from_millis(100))).is_some(),
            "a half-header connection is still open {:?} after it started",
            t0.elapsed()
        );
    }
    assert!(closed_by(other, Duration::from_secs(60)).is_some());
    // The slots are free again.
    assert_eq!(get(srv.addr, "/healthz"), Some(200));
    assert!(
        connection_metric(srv.addr, "fst_connections_refused_per_ip_total") >= 10,
        "{}",
        connection_metrics(srv.addr)
    );
}

#[test]
fn the_total_bound_refuses_with_503() {
    let _serial = one_at_a_time();
    let srv = start(
        "total",
        "header_read_timeout_ms = 60000\nmax = 12\nmax_per_ip = 0",
    );
    // 12 held, spread over several addresses (no per-address bound applies).
    let mut held: Vec<_> = (0..12u8)
        .map(|k| half_header(srv.addr, [127, 0, 1, k % 4 + 1]))
        .collect();
    // The slot of a request already answered (the counters asked above) is given back when
    // its connection task ends, a moment after the client has read the answer; so a new
    // connection may still find it free. Each one the server takes is held too: after at
    // most a few, every slot is held and the next connection is refused with 503.
    let mut answers = Vec::new();
    let refused = (0..6u8).any(|k| {
        let c = half_header(srv.addr, [127, 0, 2, k + 1]);
        let keep = c.try_clone().unwrap();
        let answer = closed_by(c, Duration::from_secs(5));
        let is_503 = answer
            .as_ref()
            .is_some_and(|b| b.starts_with(b"HTTP/1.1 503"));
        if answer.is_none() {
            held.push(keep);
        }
        answers.push(answer.map(|b| String::from_utf8_lossy(&b).into_owned()));
        is_503
    });
    assert!(
        refused && held.len() <= 14,
        "not refused with 503 once the bound was held: {answers:?}; {} held; server counters: {}",
        held.len(),
        connection_metrics(srv.addr)
    );
    drop(held);
    // Once the held connections are gone, the server answers again.
    let t0 = Instant::now();
    while get(srv.addr, "/healthz") != Some(200) {
        assert!(t0.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn proj_logs_nothing_whatever_crs_clients_ask_for() {
    let _serial = one_at_a_time();
    let srv = start("proj", "");
    for round in 0..3 {
        for code in [4978, 5714, 7415, 4979, 99_999_999, 3995, 32614, 3413] {
            let uri = format!(
                "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=TT&STYLES=&CRS=EPSG:{code}\
                 &BBOX=-1,-1,{},1&WIDTH=32&HEIGHT=32&FORMAT=image/png",
                round + 1
            );
            let st = get(srv.addr, &uri).unwrap();
            let want = if [3995, 32614, 3413].contains(&code) {
                200
            } else {
                400
            };
            assert_eq!(st, want, "EPSG:{code}");
        }
    }
    let err = srv.stderr();
    assert!(
        !err.lines()
            .any(|l| l.starts_with("proj_") || l.contains("PROJ")),
        "PROJ wrote to stderr:\n{err}"
    );
}

#[test]
fn idle_keep_alive_connections_are_closed_after_the_timeout() {
    let _serial = one_at_a_time();
    let srv = start("idle", "header_read_timeout_ms = 1000");
    let mut c = TcpStream::connect(srv.addr).unwrap();
    // One complete request on a keep-alive connection, answered; then nothing.
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let t0 = Instant::now();
    let mut buf = Vec::new();
    let closed = c.read_to_end(&mut buf).is_ok();
    assert!(buf.starts_with(b"HTTP/1.1 200"), "{buf:?}");
    assert!(
        closed,
        "an idle keep-alive connection is still open after {:?}",
        t0.elapsed()
    );
}
