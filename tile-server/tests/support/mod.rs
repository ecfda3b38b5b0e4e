//! Shared by the tile server's tests: a fresh folder; in-process requests to the router (no
//! socket); and, for the tests that drive the real `fst-tile-server` process on loopback,
//! starting it on a free port, raw HTTP/1.1 requests (from a chosen loopback address) and
//! the process's memory.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Each test binary uses part of this; failing loudly is the point.

pub(crate) mod obs;

use std::io::{Read as _, Write as _};

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tile_server::{router, AppState};
use tower::ServiceExt;

/// A response of the router.
pub(crate) struct Resp {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Resp {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub(crate) fn ctype(&self) -> String {
        self.headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }
}

/// A request to the router, in process.
pub(crate) async fn call(
    state: &AppState,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
) -> Resp {
    let mut b = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let r = router(state.clone())
        .oneshot(b.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let body = r.into_body().collect().await.unwrap().to_bytes().to_vec();
    Resp {
        status,
        headers,
        body,
    }
}

/// A `GET` to the router, in process.
pub(crate) async fn get_in(state: &AppState, uri: &str) -> Resp {
    call(state, "GET", uri, &[]).await
}

/// An empty folder of this test process, `fst-tsec-<name>-<pid>` under the temp dir.
pub(crate) fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fst-tsec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The server process; killed (and its folder removed) on drop.
pub(crate) struct Server {
    /// The process.
    pub(crate) child: Child,
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// Its folder: `server.toml`, `stderr.log`, and whatever the test put there.
    pub(crate) dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Server {
    /// Start on a free loopback port with the configuration `toml` (everything but
    /// `listen`), in `dir`; wait until `/healthz` answers.
    pub(crate) fn start(dir: &Path, toml: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let config = dir.join("server.toml");
        std::fs::write(&config, format!("listen = \"{addr}\"\n{toml}\n")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_fst-tile-server"))
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap())
            .spawn()
            .unwrap();
        let s = Self {
            child,
            addr,
            dir: dir.to_path_buf(),
        };
        let t0 = Instant::now();
        while status(s.addr, "/healthz") != Some(200) {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "server did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        s
    }

    /// What the server wrote to stderr so far.
    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }

    /// A line of `/proc/<pid>/status` in KiB (`VmRSS:`, `VmHWM:`).
    pub(crate) fn status_kib(&self, key: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

/// A blocking connection from `local` (a loopback address other than 127.0.0.1 is another
/// client to the server).
pub(crate) fn connect_from(addr: SocketAddr, local: [u8; 4]) -> TcpStream {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.bind(SocketAddr::from((local, 0))).unwrap();
        let s = sock.connect(addr).await.unwrap().into_std().unwrap();
        s.set_nonblocking(false).unwrap();
        s
    })
}

/// (status, body) of a complete `GET` on `c`; `None` if the connection failed.
pub(crate) fn get_on(mut c: TcpStream, path: &str) -> Option<(u16, Vec<u8>)> {
    c.set_read_timeout(Some(Duration::from_secs(120))).ok()?;
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = Vec::new();
    c.read_to_end(&mut buf).ok()?;
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let status = head.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    Some((status, buf[split + 4..].to_vec()))
}

/// (status, body) of a `GET` on a fresh connection; `None` if the connection failed.
pub(crate) fn get(addr: SocketAddr, path: &str) -> Option<(u16, Vec<u8>)> {
    get_on(
        TcpStream::connect_timeout(&addr, Duration::from_secs(10)).ok()?,
        path,
    )
}

/// The status of a `GET` on a fresh connection.
pub(crate) fn status(addr: SocketAddr, path: &str) -> Option<u16> {
    get(addr, path).map(|r| r.0)
}

pub(crate) fn grids_fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/fst-core/tests/fixtures/xdf/grids.fst")
}

/// fst-core's grid fixture with its L-grid data record's header (directory entry and the
/// record's own key copy) claiming `n`×`n` points; the payload is unchanged (a 60×40 field).
pub(crate) fn huge_l_grid(n: u32) -> Vec<u8> {
    let f = fst_core::FstFile::open(grids_fixture()).unwrap();
    let rec = f
        .records()
        .iter()
        .find(|r| r.grtyp == b'L' && r.ni > 1 && r.nj > 1 && r.datyp.base() != 5)
        .expect("an L-grid data record in the fixture");
    let mut bytes = std::fs::read(grids_fixture()).unwrap();
    // The key words `ni << 8 | grtyp` and `nj << 8 | datyp`, big-endian, side by side.
    let word = |hi: u32, lo: u8| ((hi << 8) | u32::from(lo)).to_be_bytes();
    let mut old = word(rec.ni, rec.grtyp).to_vec();
    old.extend_from_slice(&word(rec.nj, rec.datyp.0));
    let mut new = word(n, rec.grtyp).to_vec();
    new.extend_from_slice(&word(n, rec.datyp.0));
    let mut patched = 0;
    for at in (0..bytes.len() - 8).step_by(4) {
        if bytes[at..at + 8] == old[..] {
            bytes[at..at + 8].copy_from_slice(&new);
            patched += 1;
        }
    }
    assert!(patched >= 1, "the L record's keys were not found");
    bytes
}
