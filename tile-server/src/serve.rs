//! The accept loop: HTTP/1.1 connections served by hyper with a header-read timeout, and
//! bounds on open connections in total and per client address.
//!
//! `axum::serve` sets neither a timer (so hyper's header-read timeout never fires) nor any
//! connection bound: clients that send half a request header held their connections
//! forever, and enough of them exhausted the file descriptors until `/healthz` stopped
//! answering. Here every connection must deliver its request headers within
//! `connections.header_read_timeout_ms` (idle keep-alive connections included), one client
//! address may hold at most `connections.max_per_ip` connections (answered `429` beyond), and
//! the server at most `connections.max` (answered `503` beyond), capped below the process's
//! file-descriptor limit.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

use crate::config::ConnectionsConfig;

/// Counters of the accept loop, for `/metrics`.
#[derive(Debug, Default)]
pub struct ConnectionStats {
    /// Connections accepted and served.
    pub accepted: AtomicU64,
    /// Connections refused because their client address held `max_per_ip` already.
    pub refused_per_ip: AtomicU64,
    /// Connections refused because the server held `max` already.
    pub refused_total: AtomicU64,
    /// Connections open now.
    pub open: AtomicU64,
}

/// The bounds in force: the configuration, with the total capped by the descriptor limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Time a connection has to deliver a request's headers.
    pub header_read_timeout: Duration,
    /// Open connections in total.
    pub max: usize,
    /// Open connections per client address (`None`: unbounded).
    pub max_per_ip: Option<usize>,
}

impl ConnectionLimits {
    /// The limits of a configuration. The total is kept below the soft `RLIMIT_NOFILE`
    /// (read from `/proc/self/limits`), leaving room for data files and the runtime, so that
    /// accepting never fails for lack of descriptors.
    #[must_use]
    pub fn from_config(c: &ConnectionsConfig) -> Self {
        let mut max = c.max.max(1);
        if let Some(nofile) = soft_nofile_limit() {
            let headroom = (nofile / 8).max(64);
            let cap = nofile.saturating_sub(headroom).max(16);
            if cap < max {
                tracing::warn!(
                    "connections.max = {max} exceeds what the open-file limit ({nofile}) allows; using {cap}"
                );
                max = cap;
            }
        }
        Self {
            header_read_timeout: Duration::from_millis(c.header_read_timeout_ms.max(1)),
            max,
            max_per_ip: (c.max_per_ip > 0).then_some(c.max_per_ip),
        }
    }
}

/// The soft open-file limit of this process, if `/proc` tells it.
fn soft_nofile_limit() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Connections per client address. A slot is returned when its connection ends.
#[derive(Debug, Default)]
struct PerIp(Mutex<HashMap<IpAddr, usize>>);

/// One connection's place in [`PerIp`].
struct IpSlot {
    table: Arc<PerIp>,
    ip: IpAddr,
}

impl PerIp {
    fn acquire(table: &Arc<Self>, ip: IpAddr, max: usize) -> Option<IpSlot> {
        let mut m = table.0.lock().unwrap_or_else(PoisonError::into_inner);
        let n = m.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(IpSlot {
            table: Arc::clone(table),
            ip,
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut m = self.table.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = m.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

/// Refusals that may linger at once; beyond, a refusal is written and the socket dropped.
const LINGERING_REFUSALS: usize = 64;
/// How long a refused connection may linger while its response is delivered.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);
/// Bytes read and discarded from a refused client while it lingers.
const REFUSAL_DRAIN_BYTES: usize = 64 * 1024;

/// Refuse a connection with a minimal response that the client can read.
///
/// Closing a socket whose receive queue holds unread bytes (the client's request, sent before
/// the accept) makes the kernel answer with a reset, and a reset may reach the client before
/// it has read the response: it then sees "connection reset" instead of `429`/`503`. So the
/// response is written, the write side shut (the client reads the response and an orderly
/// end), and what the client sent is drained for at most [`REFUSAL_LINGER`] before the socket
/// is dropped. At most [`LINGERING_REFUSALS`] linger at once, so a flood of refused clients
/// holds a bounded number of descriptors; beyond that, the response is written best effort.
fn refuse(mut stream: TcpStream, status: &'static str, lingering: &Arc<Semaphore>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let text = format!(
        "HTTP/1.1 {status}\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"
    );
    let Ok(permit) = Arc::clone(lingering).try_acquire_owned() else {
        let _ = stream.try_write(text.as_bytes());
        return;
    };
    tokio::spawn(async move {
        let deliver = async {
            stream.write_all(text.as_bytes()).await?;
            stream.shutdown().await?;
            let mut sink = [0u8; 4096];
            let mut drained = 0;
            while drained < REFUSAL_DRAIN_BYTES {
                match stream.read(&mut sink).await? {
                    0 => break,
                    n => drained += n,
                }
            }
            Ok::<_, std::io::Error>(())
        };
        let _ = tokio::time::timeout(REFUSAL_LINGER, deliver).await;
        drop(permit);
    });
}

/// Serve `app` on `listener` until `shutdown` completes, then let open connections finish
/// their current request (for at most 10 s).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    stats: Arc<ConnectionStats>,
    shutdown: impl Future<Output = ()> + Send,
) {
    let total = Arc::new(Semaphore::new(limits.max));
    let per_ip = Arc::new(PerIp::default());
    let lingering = Arc::new(Semaphore::new(LINGERING_REFUSALS));
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    let mut accept_errors = 0u64;
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of descriptors or memory: back off instead of spinning; log the
                    // first error and then every thousandth.
                    if accept_errors % 1000 == 0 {
                        tracing::warn!("accept failed ({} so far): {e}", accept_errors + 1);
                    }
                    accept_errors += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = Arc::clone(&total).try_acquire_owned() else {
            stats.refused_total.fetch_add(1, Ordering::Relaxed);
            refuse(stream, "503 Service Unavailable", &lingering);
            continue;
        };
        let slot = limits
            .max_per_ip
            .map(|max| PerIp::acquire(&per_ip, peer.ip(), max));
        if let Some(None) = slot {
            stats.refused_per_ip.fetch_add(1, Ordering::Relaxed);
            refuse(stream, "429 Too Many Requests", &lingering);
            continue;
        }
        let _ = stream.set_nodelay(true);
        stats.accepted.fetch_add(1, Ordering::Relaxed);
        stats.open.fetch_add(1, Ordering::Relaxed);
        let (app, mut stop, stats) = (app.clone(), stop_rx.clone(), Arc::clone(&stats));
        tokio::spawn(async move {
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout);
            let conn =
                builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
            tokio::pin!(conn);
            let ended = tokio::select! {
                r = conn.as_mut() => r,
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = ended {
                tracing::debug!("connection from {peer}: {e}");
            }
            stats.open.fetch_sub(1, Ordering::Relaxed);
            drop((permit, slot));
        });
    }
    let _ = stop_tx.send(true);
    let all = u32::try_from(limits.max).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(Duration::from_secs(10), total.acquire_many(all)).await;
}
