//! Soak (issue 14): the real server under 64 connections of mixed requests (XYZ tiles,
//! `GetMap`, `GetFeatureInfo`, capabilities) while a writer process rewrites the served file in
//! place (truncated, then completed), adds files by rename and removes them. Zero 5xx other
//! than the documented 503 answers (`ServerBusy`, `DataUnavailable`), and no stale or
//! half-written image: every image and value served equals the one served before the writer
//! started (the writer only ever completes the same content).
//!
//! `#[ignore]`d in `cargo test` (it runs for a while); `tests/run.sh` runs it for 30 s.
//! `FSTGIS_SOAK_SECONDS` sets the duration; `FSTGIS_HEAVY=1` makes it 600 s and also checks
//! that the server's RSS stays within ±10 % after warm-up (the median of the last tenth of
//! the run against the first tenth after warm-up; every tenth's median is printed).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// test code: failing loudly is the point

mod support;

use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{fresh_dir, get, Server};
use tile_server::config::bundled_sample;

/// The request mix: tiles at several zooms, `GetMap` in two CRSs, `GetFeatureInfo`,
/// capabilities.
fn requests() -> Vec<String> {
    let mut r = Vec::new();
    for (z, x, y) in [
        (2, 0, 1),
        (3, 1, 2),
        (3, 2, 2),
        (4, 3, 5),
        (4, 4, 5),
        (5, 7, 11),
    ] {
        r.push(format!("/tiles/TT/{z}/{x}/{y}.png"));
        r.push(format!("/tiles/PN/{z}/{x}/{y}.png?style=isobars"));
    }
    r.push(
        "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=TT&STYLES=&CRS=EPSG:3857\
            &BBOX=-15000000,3000000,-6000000,10000000&WIDTH=256&HEIGHT=200&FORMAT=image/png"
            .into(),
    );
    r.push(
        "/wms?SERVICE=WMS&VERSION=1.1.1&REQUEST=GetMap&LAYERS=UV&STYLES=barbs&SRS=EPSG:3978\
            &BBOX=-3000000,-1000000,3000000,4000000&WIDTH=300&HEIGHT=250&FORMAT=image/png"
            .into(),
    );
    r.push("/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=TT&QUERY_LAYERS=TT\
            &CRS=CRS:84&BBOX=-140,30,-60,70&WIDTH=100&HEIGHT=100&I=50&J=50&INFO_FORMAT=application/json"
        .into());
    r.push("/wms?SERVICE=WMS&REQUEST=GetCapabilities".into());
    r
}

/// Whether two answers to the same request are the same content. Capabilities carry the
/// catalog generation (`updateSequence`), which the writer advances.
fn same_content(path: &str, a: &[u8], b: &[u8]) -> bool {
    if path.contains("GetCapabilities") {
        let strip = |x: &[u8]| {
            let t = String::from_utf8_lossy(x).into_owned();
            match t.split_once("updateSequence=\"") {
                Some((head, rest)) => {
                    format!("{head}{}", rest.split_once('"').map_or("", |r| r.1))
                }
                None => t,
            }
        };
        strip(a) == strip(b)
    } else {
        a == b
    }
}

/// The writer: in-place rewrites (truncated, a pause, then completed), files added by
/// rename and removed, until `stop`.
fn writer(dir: &Path, bytes: &[u8], stop: &AtomicBool, writes: &AtomicU64) {
    let run = dir.join("run.fst");
    let mut k = 0u64;
    while !stop.load(Ordering::Relaxed) {
        match k % 3 {
            0 => {
                let mut f = std::fs::File::create(&run).unwrap();
                f.write_all(&bytes[..bytes.len() / 3]).unwrap();
                f.flush().unwrap();
                std::thread::sleep(Duration::from_millis(30));
                f.write_all(&bytes[bytes.len() / 3..]).unwrap();
            }
            1 => {
                let tmp = dir.join(format!("extra-{}.fst.part", k % 4));
                std::fs::write(&tmp, bytes).unwrap();
                std::fs::rename(&tmp, dir.join(format!("extra-{}.fst", k % 4))).unwrap();
            }
            _ => {
                let _ = std::fs::remove_file(dir.join(format!("extra-{}.fst", (k + 2) % 4)));
            }
        }
        writes.fetch_add(1, Ordering::Relaxed);
        k += 1;
        std::thread::sleep(Duration::from_millis(150));
    }
}

/// Start the server over `data` (watched; no field or tile cache, so that every request
/// decodes and renders the file as it is at that moment).
fn start(dir: &Path, data: &Path) -> Server {
    let toml = format!(
        "data = [\"{}\"]\n[watch]\ndebounce_ms = 50\n[cache]\ntiles_mb = 0\nfields_mb = 0",
        data.display()
    );
    Server::start(dir, &toml)
}

/// One client's loop until `deadline`: every answer is 200 with the reference bytes, or a
/// documented 503; anything else is recorded in `failures`.
fn client(
    addr: SocketAddr,
    first: usize,
    deadline: Instant,
    reference: &HashMap<String, Vec<u8>>,
    counts: &Mutex<HashMap<u16, u64>>,
    failures: &Mutex<Vec<String>>,
) {
    let reqs = requests();
    let mut k = first;
    while Instant::now() < deadline {
        let p = &reqs[k % reqs.len()];
        k += 7;
        let Some((st, body)) = get(addr, p) else {
            failures
                .lock()
                .unwrap()
                .push(format!("{p}: connection failed"));
            continue;
        };
        *counts.lock().unwrap().entry(st).or_default() += 1;
        let text = String::from_utf8_lossy(&body);
        let ok = match st {
            200 => same_content(p, &body, &reference[p]),
            503 => text.contains("ServerBusy") || text.contains("DataUnavailable"),
            _ => false,
        };
        if !ok {
            let head: String = text.chars().take(300).collect();
            failures.lock().unwrap().push(format!("{p}: {st} {head}"));
        }
    }
}

/// Every request of the mix, answered 200: the reference contents.
fn fetch_all(addr: SocketAddr) -> HashMap<String, Vec<u8>> {
    requests()
        .iter()
        .map(|p| {
            let (st, body) = get(addr, p).unwrap();
            assert_eq!(st, 200, "{p}: {}", String::from_utf8_lossy(&body));
            (p.clone(), body)
        })
        .collect()
}

/// Once the writer has stopped and the catalog settled, every request gets the reference
/// content: nothing stale.
fn assert_settled(addr: SocketAddr, reference: &HashMap<String, Vec<u8>>) {
    std::thread::sleep(Duration::from_millis(500));
    for (p, want) in reference {
        let (st, body) = get(addr, p).unwrap();
        assert_eq!(st, 200, "{p}");
        assert!(same_content(p, &body, want), "{p}: stale after settling");
    }
}

#[test]
#[ignore = "runs for 30 s or more; tests/run.sh runs it"]
fn soak_mixed_load_while_files_change() {
    let heavy = std::env::var("FSTGIS_HEAVY").is_ok_and(|v| v == "1");
    let seconds: u64 = std::env::var("FSTGIS_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if heavy { 600 } else { 30 });
    let dir = fresh_dir("soak");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let bytes = std::fs::read(bundled_sample()).unwrap();
    std::fs::write(data.join("run.fst"), &bytes).unwrap();
    let srv = start(&dir, &data);
    let addr = srv.addr;
    // The reference answers, before anything changes.
    let reference = fetch_all(addr);
    let reference = Arc::new(reference);

    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicU64::new(0));
    let w = {
        let (data, bytes, stop, writes) = (
            data.clone(),
            bytes.clone(),
            Arc::clone(&stop),
            Arc::clone(&writes),
        );
        std::thread::spawn(move || writer(&data, &bytes, &stop, &writes))
    };
    let counts: Arc<Mutex<HashMap<u16, u64>>> = Arc::default();
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let warm = Instant::now() + Duration::from_secs(seconds / 5);
    // The server's RSS every 500 ms after warm-up.
    let mut rss_samples: Vec<u64> = Vec::new();
    let clients: Vec<_> = (0..64)
        .map(|c| {
            let (reference, counts, failures) = (
                Arc::clone(&reference),
                Arc::clone(&counts),
                Arc::clone(&failures),
            );
            std::thread::spawn(move || client(addr, c, deadline, &reference, &counts, &failures))
        })
        .collect();
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
        if Instant::now() >= warm {
            rss_samples.push(srv.status_kib("VmRSS:"));
        }
    }
    for c in clients {
        c.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    w.join().unwrap();

    let counts = counts.lock().unwrap().clone();
    let failures = failures.lock().unwrap().clone();
    let total: u64 = counts.values().sum();
    let tenths = rss_tenths(&rss_samples);
    eprintln!(
        "soak: {seconds} s, {total} requests {counts:?}, {} writes; RSS after warm-up \
         (median of each tenth of the run, KiB): {tenths:?}, max {} KiB",
        writes.load(Ordering::Relaxed),
        rss_samples.iter().max().copied().unwrap_or(0)
    );
    assert!(
        failures.is_empty(),
        "{} bad answers, first: {:#?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(
        writes.load(Ordering::Relaxed) >= seconds * 2,
        "the writer stalled"
    );
    assert!(
        counts.get(&200).copied().unwrap_or(0) > total / 2,
        "{counts:?}"
    );
    if heavy {
        // Flat memory: the steady level at the end is within ±10 % of the one after
        // warm-up. Medians, because a sample lands on a burst of concurrent renders or
        // between them (bursts are bounded by the render budget: tests/render_memory.rs).
        let (first, last) = (tenths[0] as f64, tenths[tenths.len() - 1] as f64);
        assert!(
            (last - first).abs() <= first * 0.1,
            "RSS moved from {first} KiB to {last} KiB after warm-up: {tenths:?}"
        );
    }
    assert_settled(addr, &reference);
}

/// The median of each tenth of `samples` (fewer parts when there are fewer samples).
fn rss_tenths(samples: &[u64]) -> Vec<u64> {
    let parts = samples.len().clamp(1, 10);
    let per = samples.len().div_ceil(parts).max(1);
    let tenths: Vec<u64> = samples
        .chunks(per)
        .map(|c| {
            let mut c = c.to_vec();
            c.sort_unstable();
            c[c.len() / 2]
        })
        .collect();
    if tenths.is_empty() {
        vec![0]
    } else {
        tenths
    }
}
