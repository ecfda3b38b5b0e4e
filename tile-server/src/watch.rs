//! Watching the data directories (`notify`): changes are debounced, then the catalog is
//! rebuilt. A slow periodic rescan backs up missed events (network file systems).

use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher};

use crate::state::AppState;

/// Start the watcher thread. The returned watcher must be kept alive.
pub fn spawn(state: AppState) -> notify::Result<notify::RecommendedWatcher> {
    let (tx, rx) = mpsc::channel::<()>();
    let mut w = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        if ev.is_ok_and(|e| !e.kind.is_access()) {
            let _ = tx.send(());
        }
    })?;
    for d in &state.config.data {
        if let Err(e) = w.watch(d, RecursiveMode::NonRecursive) {
            tracing::warn!("cannot watch {}: {e}", d.display());
        }
    }
    let debounce = Duration::from_millis(state.config.watch.debounce_ms);
    std::thread::Builder::new()
        .name("fst-watch".into())
        .spawn(move || {
            let mut last_scan = Instant::now();
            loop {
                match rx.recv_timeout(Duration::from_secs(60)) {
                    Ok(()) => {
                        // Debounce: wait until the writer has been quiet for a while.
                        while rx.recv_timeout(debounce).is_ok() {}
                        state.reload();
                        last_scan = Instant::now();
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if last_scan.elapsed() >= Duration::from_secs(60) {
                            state.reload();
                            last_scan = Instant::now();
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            }
        })
        .map_err(|e| notify::Error::generic(&e.to_string()))?;
    Ok(w)
}
