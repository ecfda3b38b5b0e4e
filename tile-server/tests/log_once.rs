//! Problems found while building the catalog are logged once per file version (issue 14,
//! defect 1), not at every rebuild. Its own test binary: `tracing`'s per-callsite interest
//! is global, so a scoped subscriber only sees every event when no other test runs beside it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// test code: failing loudly is the point

mod support;

use tile_server::config::{bundled_sample, Config};
use tile_server::AppState;

fn config(dir: &std::path::Path) -> Config {
    let mut c = Config::with_data(vec![dir.to_path_buf()]);
    c.watch.enabled = false;
    c
}

/// A log sink for one test: every line `tracing` writes.
#[derive(Clone, Default)]
struct Log(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn count(&self, needle: &str) -> usize {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .filter(|l| l.contains(needle))
            .count()
    }
}

#[test]
fn problems_are_logged_once_per_file_version() {
    let dir = support::fresh_dir("logonce");
    std::fs::copy(bundled_sample(), dir.join("good.fst")).unwrap();
    std::fs::write(dir.join("junk.fst"), b"not an fst file").unwrap();
    std::fs::write(dir.join("bad.fst"), support::huge_l_grid(46_000)).unwrap();
    let log = Log::default();
    let sink = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let s = AppState::new(config(&dir)).unwrap();
        // One line per problem: the junk file, and each record of the bad file that
        // claims the huge grid.
        let (junk, bad) = (log.count("junk.fst"), log.count("bad.fst"));
        assert_eq!(junk, 1);
        assert!(bad >= 1);
        assert_eq!(
            bad,
            s.snapshot()
                .skipped
                .iter()
                .filter(|k| k.path.ends_with("bad.fst"))
                .count()
        );
        // Rebuilds (the watcher's, the periodic rescan's) do not repeat them.
        for _ in 0..3 {
            s.reload();
        }
        assert_eq!(log.count("junk.fst"), junk);
        assert_eq!(log.count("bad.fst"), bad);
        // A new version of the file is new news.
        std::fs::write(dir.join("junk.fst"), b"still not an fst file").unwrap();
        s.reload();
        assert_eq!(log.count("junk.fst"), junk + 1);
        assert_eq!(log.count("bad.fst"), bad);
    });
    let _ = std::fs::remove_dir_all(&dir);
}
