//! A real Prometheus (Debian package `prometheus`) on a free loopback port, scraping
//! one target every second from a temporary directory; shared by the tests that run
//! PromQL against the daemon's `/metrics`.
#![allow(dead_code)] // each test crate uses a different part

use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bounds every wait; each wait polls for its condition.
pub const DEADLINE: Duration = Duration::from_secs(90);

/// The binary `name` in `PATH` (or `/usr/bin`), or a failure naming the package.
pub fn binary(name: &str) -> PathBuf {
    let dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    dirs.into_iter()
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` not found in PATH or /usr/bin: install the Debian package \
                 `prometheus` (scripts/test.sh does: apt-get install prometheus)"
            )
        })
}

/// A running Prometheus and its temporary directory; killed and removed on drop, also
/// when an assertion fails.
pub struct Prometheus {
    child: Child,
    /// Where its HTTP API listens.
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    pub fn start(bin: &PathBuf, target: SocketAddr) -> Prometheus {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
                 scrape_configs:\n  - job_name: ccpulse\n    static_configs:\n      \
                 - targets: ['{target}']\n"
            ),
        )
        .expect("write config");
        // A free loopback port: bind, read it, release it for Prometheus.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port");
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log file");
        let child = Command::new(bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus");
        Prometheus {
            child,
            addr,
            _dir: dir,
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// One instant query (`/api/v1/query`, evaluated now): Prometheus's JSON answer,
    /// `None` while it is not reachable. Fails if Prometheus exited.
    pub async fn query(&mut self, query: &str) -> Option<Value> {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("prometheus exited ({status}):\n{}", self.log());
        }
        let path = format!("/api/v1/query?query={}", urlencode(query));
        let (_, body) = get(self.addr, &path).await?;
        serde_json::from_str(&body).ok()
    }

    /// Polls an instant query until `pick` finds a value in its result.
    pub async fn wait_value(&mut self, query: &str, pick: impl Fn(&Value) -> bool) -> f64 {
        let path = format!("/api/v1/query?query={}", urlencode(query));
        let start = Instant::now();
        let mut last = String::new();
        while start.elapsed() < DEADLINE {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("prometheus exited ({status}):\n{}", self.log());
            }
            if let Some((200, body)) = get(self.addr, &path).await {
                let v: Value = serde_json::from_str(&body).expect("prometheus JSON");
                let found = v["data"]["result"]
                    .as_array()
                    .and_then(|r| r.iter().find(|s| pick(&s["metric"])))
                    .and_then(|s| s["value"][1].as_str())
                    .and_then(|x| x.parse::<f64>().ok());
                if let Some(x) = found {
                    return x;
                }
                last = body;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!(
            "no value for `{query}` within {DEADLINE:?}; last answer: {last}\n{}",
            self.log()
        );
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET path` over HTTP/1.0 (no chunked bodies): (status, body); `None` while the
/// server is not reachable.
pub async fn get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).await.ok()?;
    let req = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    s.write_all(req.as_bytes()).await.ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.ok()?;
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}
