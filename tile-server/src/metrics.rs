//! Prometheus metrics: requests by route and status, a latency histogram, cache hits.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Histogram bucket bounds, seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Counters of the server.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<std::collections::BTreeMap<(String, u16), u64>>,
    buckets: [AtomicU64; 12],
    count: AtomicU64,
    sum_us: AtomicU64,
    /// Renders done.
    pub renders: AtomicU64,
    /// Catalog reloads.
    pub reloads: AtomicU64,
}

impl Metrics {
    /// Record one request.
    pub fn observe(&self, route: &str, status: u16, seconds: f64) {
        {
            let mut g = self
                .requests
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *g.entry((route.to_string(), status)).or_default() += 1;
        }
        for (k, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                self.buckets[k].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// The exposition text. `extra` lines (cache gauges) are appended.
    #[must_use]
    pub fn render(&self, extra: &[(&str, &str, f64)]) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# HELP fst_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(s, "# TYPE fst_http_requests_total counter");
        for ((route, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                s,
                "fst_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            s,
            "# HELP fst_http_request_duration_seconds Request latency."
        );
        let _ = writeln!(s, "# TYPE fst_http_request_duration_seconds histogram");
        for (k, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                s,
                "fst_http_request_duration_seconds_bucket{{le=\"{b}\"}} {}",
                self.buckets[k].load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(
            s,
            "fst_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            s,
            "fst_http_request_duration_seconds_sum {}",
            self.sum_us.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(s, "fst_http_request_duration_seconds_count {count}");
        let _ = writeln!(
            s,
            "# TYPE fst_renders_total counter\nfst_renders_total {}",
            self.renders.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            s,
            "# TYPE fst_catalog_reloads_total counter\nfst_catalog_reloads_total {}",
            self.reloads.load(Ordering::Relaxed)
        );
        for (name, kind, v) in extra {
            let _ = writeln!(s, "# TYPE {name} {kind}\n{name} {v}");
        }
        s
    }
}
