//! A small Chrome DevTools Protocol driver for the browser tests: starts headless
//! Chromium (Debian `chromium`) with a fresh profile and `--remote-debugging-port=0`,
//! reads the `DevTools listening on ws://…` line from its stderr, and talks CDP over
//! `tokio-tungstenite`: one task owns the websocket, matches answers to commands by
//! `id`, and keeps every event for the page that sent it (console errors).
//! Chromium (its whole process group) is killed when the [`Browser`] drops, even when
//! a test fails.
#![allow(dead_code)]

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

/// Bounds every wait of the driver (a broken run, not a timing assumption).
pub const CDP_TIMEOUT: Duration = Duration::from_secs(60);

type Reply = oneshot::Sender<Value>;

/// A running headless Chromium and its DevTools connection.
pub struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    out: mpsc::UnboundedSender<(Value, Reply)>,
    ids: AtomicU64,
    events: Arc<Mutex<Vec<Value>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    pump: tokio::task::JoinHandle<()>,
}

/// One tab (a CDP session on a page target).
pub struct Page<'b> {
    browser: &'b Browser,
    session: String,
}

/// The Chromium binary (Debian package `chromium`).
pub fn chromium() -> PathBuf {
    let p = PathBuf::from("/usr/bin/chromium");
    assert!(
        p.exists(),
        "Chromium is missing: install the Debian package `chromium` (scripts/test.sh does)"
    );
    p
}

impl Browser {
    /// Starts Chromium and connects to its DevTools websocket.
    pub async fn launch() -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let mut child = Command::new(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
                "--window-size=1920,1080",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            // Its own process group: Drop kills the renderers with it.
            .process_group(0)
            .spawn()
            .expect("start chromium");
        // Drain stderr for good (a full pipe would stall Chromium); hand over the URL.
        let stderr_pipe = child.stderr.take().expect("stderr pipe");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        {
            let stderr = stderr.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr_pipe).lines() {
                    let Ok(line) = line else { break };
                    if let Some(at) = line.find("ws://") {
                        let _ = url_tx.send(line[at..].trim().to_string());
                    }
                    stderr.lock().expect("stderr log").push(line);
                }
            });
        }
        let url = tokio::task::spawn_blocking(move || url_rx.recv_timeout(CDP_TIMEOUT))
            .await
            .expect("stderr reader");
        let url = match url {
            Ok(u) => u,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "chromium printed no DevTools URL: {:?}",
                    stderr.lock().expect("stderr log")
                );
            }
        };
        let (ws, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .expect("DevTools websocket");
        let (out, rx) = mpsc::unbounded_channel();
        let events = Arc::new(Mutex::new(Vec::new()));
        let pump = tokio::spawn(pump(ws, rx, events.clone()));
        Browser {
            child,
            _profile: profile,
            out,
            ids: AtomicU64::new(1),
            events,
            stderr,
            pump,
        }
    }

    /// Sends a command (to a session when given) and returns its `result`.
    pub async fn call(&self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.ids.fetch_add(1, Ordering::Relaxed);
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let (tx, rx) = oneshot::channel();
        self.out.send((msg, tx)).expect("CDP connection alive");
        let answer = tokio::time::timeout(CDP_TIMEOUT, rx)
            .await
            .unwrap_or_else(|_| panic!("no answer to {method}"))
            .unwrap_or_else(|_| panic!("CDP connection closed during {method}"));
        if let Some(err) = answer.get("error") {
            panic!("{method}: {err}");
        }
        answer["result"].clone()
    }

    /// A new tab at `about:blank`, 1920×1080, with the Page, Runtime and Log domains on.
    pub async fn new_page(&self) -> Page<'_> {
        let target = self
            .call(None, "Target.createTarget", json!({ "url": "about:blank" }))
            .await;
        let id = target["targetId"].as_str().expect("targetId");
        let attached = self
            .call(
                None,
                "Target.attachToTarget",
                json!({ "targetId": id, "flatten": true }),
            )
            .await;
        let session = attached["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_string();
        let page = Page {
            browser: self,
            session,
        };
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            page.call(domain, json!({})).await;
        }
        page.set_viewport(1920, 1080).await;
        page
    }

    /// What Chromium wrote on stderr so far (diagnostics).
    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().expect("stderr log").clone()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.pump.abort();
        // The whole process group (browser, zygote, renderers), by its id.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Owns the websocket: sends commands, routes answers by id, keeps events.
async fn pump(
    mut ws: Ws,
    mut commands: mpsc::UnboundedReceiver<(Value, Reply)>,
    events: Arc<Mutex<Vec<Value>>>,
) {
    let mut waiting: HashMap<u64, Reply> = HashMap::new();
    loop {
        tokio::select! {
            cmd = commands.recv() => {
                let Some((msg, reply)) = cmd else { break };
                if let Some(id) = msg["id"].as_u64() {
                    waiting.insert(id, reply);
                }
                if ws.send(Message::Text(msg.to_string().into())).await.is_err() {
                    break;
                }
            }
            inbound = ws.next() => {
                let Some(Ok(m)) = inbound else { break };
                let Message::Text(text) = m else { continue };
                let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                match v["id"].as_u64() {
                    Some(id) => {
                        if let Some(reply) = waiting.remove(&id) {
                            let _ = reply.send(v);
                        }
                    }
                    None => events.lock().expect("event log").push(v),
                }
            }
        }
    }
}

impl Page<'_> {
    /// A command on this page's session.
    pub async fn call(&self, method: &str, params: Value) -> Value {
        self.browser.call(Some(&self.session), method, params).await
    }

    /// The viewport size (device scale 1).
    pub async fn set_viewport(&self, width: u32, height: u32) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        )
        .await;
    }

    /// Navigates and waits until the document has loaded (`url` as the browser
    /// normalises it, e.g. `http://host:port/`).
    pub async fn navigate(&self, url: &str) {
        let r = self.call("Page.navigate", json!({ "url": url })).await;
        assert!(r.get("errorText").is_none(), "navigate {url}: {r}");
        let url = serde_json::to_string(url).expect("url");
        self.wait_for(&format!(
            "document.readyState === 'complete' && location.href === {url}"
        ))
        .await;
    }

    /// Evaluates `expr` (promises awaited) and returns its value.
    pub async fn eval(&self, expr: &str) -> Value {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": expr, "returnByValue": true, "awaitPromise": true }),
            )
            .await;
        if let Some(ex) = r.get("exceptionDetails") {
            panic!("{expr}: {ex}");
        }
        r["result"]["value"].clone()
    }

    /// Polls `expr` until it is truthy (bounded by [`CDP_TIMEOUT`]); returns its value.
    pub async fn wait_for(&self, expr: &str) -> Value {
        self.wait_for_within(expr, CDP_TIMEOUT).await
    }

    /// Polls `expr` every 50 ms until it is truthy; panics after `limit`.
    pub async fn wait_for_within(&self, expr: &str, limit: Duration) -> Value {
        let found = tokio::time::timeout(limit, async {
            loop {
                let v = self.eval(expr).await;
                let truthy = match &v {
                    Value::Null => false,
                    Value::Bool(b) => *b,
                    Value::Number(n) => n.as_f64() != Some(0.0),
                    Value::String(s) => !s.is_empty(),
                    _ => true,
                };
                if truthy {
                    return v;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        found.unwrap_or_else(|_| panic!("not true within {limit:?}: {expr}"))
    }

    /// Console errors, uncaught exceptions and error log entries of this page so far.
    pub fn console_errors(&self) -> Vec<String> {
        let events = self.browser.events.lock().expect("event log");
        events
            .iter()
            .filter(|e| e["sessionId"] == self.session.as_str())
            .filter_map(|e| {
                let p = &e["params"];
                match e["method"].as_str()? {
                    "Runtime.exceptionThrown" => Some(p["exceptionDetails"].to_string()),
                    "Runtime.consoleAPICalled" if p["type"] == "error" => {
                        Some(p["args"].to_string())
                    }
                    "Log.entryAdded" if p["entry"]["level"] == "error" => {
                        Some(p["entry"].to_string())
                    }
                    _ => None,
                }
            })
            .collect()
    }

    /// A PNG of the viewport, written to `path`.
    pub async fn screenshot(&self, path: &Path) {
        let r = self
            .call("Page.captureScreenshot", json!({ "format": "png" }))
            .await;
        let png = base64_decode(r["data"].as_str().expect("screenshot data"));
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot directory");
        }
        std::fs::write(path, png).expect("write screenshot");
    }
}

/// Standard base64 (with padding), as CDP sends binary data.
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c) << (18 - 6 * i);
        }
        let take = chunk.len() - 1;
        out.extend_from_slice(&n.to_be_bytes()[1..1 + take]);
    }
    out
}

#[test]
fn decodes_base64() {
    assert_eq!(base64_decode("aGVsbG8="), b"hello");
    assert_eq!(base64_decode("aGk="), b"hi");
    assert_eq!(base64_decode("YWJj"), b"abc");
}
