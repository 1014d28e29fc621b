//! The daemon (`ccpulse run`, the real binary) notifying a real Alertmanager (Debian
//! package `prometheus-alertmanager`) on loopback: a config rule fires on pushed events,
//! the alert shows in Alertmanager's `GET /api/v2/alerts` with its labels and
//! annotations, and once the rule clears it is resolved there (gone from the list).
//! `#[ignore]`d: `scripts/test.sh` (CI) installs the package and runs ignored tests.

#[path = "common/daemon.rs"]
mod daemon;

use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(60);

/// A child process killed (and reaped) on drop, also when an assertion fails.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn binary() -> PathBuf {
    let p = PathBuf::from("/usr/bin/prometheus-alertmanager");
    assert!(
        p.is_file(),
        "{} not found: install the Debian package `prometheus-alertmanager` \
         (scripts/test.sh does)",
        p.display()
    );
    p
}

fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
}

fn start_alertmanager(dir: &Path) -> (Guard, SocketAddr) {
    let config = dir.join("alertmanager.yml");
    std::fs::write(
        &config,
        "route:\n  receiver: blackhole\n  group_wait: 1s\nreceivers:\n  - name: blackhole\n",
    )
    .expect("write alertmanager config");
    let addr = free_port();
    let log = std::fs::File::create(dir.join("alertmanager.log")).expect("log");
    let child = Command::new(binary())
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.path={}", dir.join("am-data").display()))
        .arg(format!("--web.listen-address={addr}"))
        .arg("--cluster.listen-address=")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start alertmanager");
    (Guard(child), addr)
}

fn start_daemon(config: &Path) -> (daemon::DaemonChild, String) {
    daemon::spawn_daemon(&["run", "--config", config.to_str().expect("utf8")], |_| {})
}

fn line(ts_ms: i64, body: &str) -> String {
    let ts = jiff::Timestamp::from_millisecond(ts_ms).expect("ts");
    format!(r#"{{"v":1,"ts":"{ts}",{body}}}"#)
}

async fn alerts(client: &reqwest::Client, am: SocketAddr) -> Option<Vec<Value>> {
    let resp = client
        .get(format!("http://{am}/api/v2/alerts"))
        .send()
        .await
        .ok()?;
    resp.json::<Vec<Value>>().await.ok()
}

async fn wait_for<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the Debian package `prometheus-alertmanager` (scripts/test.sh installs it)"]
async fn daemon_alerts_reach_a_real_alertmanager_and_resolve() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("temp dir");
    let (_am, am_addr) = start_alertmanager(dir.path());
    let client = reqwest::Client::new();
    wait_for("alertmanager to answer", async || {
        let r = client
            .get(format!("http://{am_addr}/-/ready"))
            .send()
            .await
            .ok()?;
        r.status().is_success().then_some(())
    })
    .await;

    let config = dir.path().join("ccpulse.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[daemon]
listen = "127.0.0.1:0"
tick = "100ms"
demo = false
data_dir = "{data}"

[alerts]
defaults = false

[[alerts.rules]]
name = "ContactsWaitingHigh"
metric = "contacts_waiting"
op = "above"
threshold = 0
for = "0s"
severity = "critical"
labels = {{ team = "blue" }}
annotations = {{ summary = "{{value}} waiting in {{scope}}", description = "Open the overflow queue." }}

[[alerts.receivers]]
name = "am"
kind = "alertmanager"
url = "http://{am_addr}"
resend_interval = "1s"
retries = 2
backoff_min = "100ms"
"#,
            data = dir.path().join("data").display()
        ),
    )
    .expect("write ccpulse config");
    let (_daemon, addr) = start_daemon(&config);

    // One contact waits in `sales`: contacts_waiting 1 > 0 fires at once (`for = 0s`).
    let now = jiff::Timestamp::now().as_millisecond();
    let push = |body: String| {
        let client = client.clone();
        let addr = addr.clone();
        async move {
            let r = client
                .post(format!("http://{addr}/api/v1/events"))
                .body(body)
                .send()
                .await
                .expect("POST events");
            assert!(r.status().is_success(), "{}", r.status());
        }
    };
    push(line(
        now,
        r#""type":"contact_queued","contact":"c-1","queue":"sales","channel":"voice""#,
    ))
    .await;
    let alert = wait_for("the alert in alertmanager", async || {
        alerts(&client, am_addr).await?.into_iter().find(|a| {
            a["labels"]["alertname"] == "ContactsWaitingHigh" && a["labels"]["queue"] == "sales"
        })
    })
    .await;
    assert_eq!(alert["labels"]["severity"], "critical");
    assert_eq!(alert["labels"]["team"], "blue");
    assert_eq!(alert["annotations"]["summary"], "1 waiting in sales");
    assert_eq!(
        alert["annotations"]["description"],
        "Open the overflow queue."
    );
    assert_eq!(alert["status"]["state"], "active");
    assert_eq!(
        alert["generatorURL"],
        format!("http://{addr}/api/v1/alerts")
    );

    // It stays firing past the `endsAt` of one post (4 resend intervals): the resends
    // keep it alive.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let still = alerts(&client, am_addr).await.unwrap_or_default();
    assert!(
        still
            .iter()
            .any(|a| a["labels"]["alertname"] == "ContactsWaitingHigh"),
        "still firing: {still:?}"
    );

    // The caller hangs up: waiting 0, the rule clears, the alert resolves.
    let later = jiff::Timestamp::now().as_millisecond();
    push(line(
        later,
        r#""type":"contact_abandoned","contact":"c-1","queue":"sales""#,
    ))
    .await;
    wait_for("the alert to resolve in alertmanager", async || {
        let list = alerts(&client, am_addr).await?;
        (!list
            .iter()
            .any(|a| a["labels"]["alertname"] == "ContactsWaitingHigh"))
        .then_some(())
    })
    .await;
    // And it stays resolved: the resends do not bring it back.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let list = alerts(&client, am_addr).await.unwrap_or_default();
    assert!(list.is_empty(), "resolved for good: {list:?}");
    // The daemon counted its deliveries.
    let metrics = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    let success = metrics
        .lines()
        .find(|l| l.starts_with(r#"ccpulse_notifications_total{notifier="am",result="success"}"#))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<u64>().ok())
        .expect("success counter");
    assert!(success >= 2, "firing and resolved delivered: {success}");
}
