//! `/metrics` against the real Prometheus tools (Debian package `prometheus`):
//! `promtool check metrics` must report nothing, and a real Prometheus scraping the
//! in-process daemon must answer queries with the values of the scripted events.
//! `#[ignore]`d: `scripts/test.sh` (CI) installs the package and runs ignored tests.
//! Without the binaries the test fails and says so.

#[path = "common/prometheus.rs"]
mod prom;
#[path = "common/metrics_script.rs"]
mod script;

use ccpulse::config::Config;
use ccpulse::outputs::{http, metrics};
use ccpulse::runtime::{DaemonBuilder, ManualClock, RuntimeOptions};
use prom::{binary, get, Prometheus, DEADLINE};
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use tokio::net::TcpListener;

fn labels(m: &Value, want: &[(&str, &str)]) -> bool {
    want.iter().all(|(k, v)| m[*k].as_str() == Some(*v))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the Debian package `prometheus` (scripts/test.sh installs it)"]
async fn promtool_and_a_real_prometheus_read_the_exposition() {
    let promtool = binary("promtool");
    let prometheus = binary("prometheus");

    let mut cfg = Config::default();
    cfg.daemon.tick = ccpulse::config::Duration(100);
    cfg.metrics.per_agent = true;
    let clock = Arc::new(ManualClock::new(script::T0));
    let mut builder = DaemonBuilder::new(&cfg, RuntimeOptions::from_config(&cfg)).expect("daemon");
    let feed = builder.handle("script").expect("handle");
    let daemon = builder.start(clock.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = http::router_with(
        daemon.published().clone(),
        metrics::MetricsOptions::from_config(&cfg),
    );
    let mut stop = daemon.shutdown_signal();
    let server = tokio::spawn(http::serve_router(listener, router, async move {
        stop.wait().await
    }));
    feed.set_up(true);
    for e in script::events() {
        feed.send(e).await.expect("sent");
    }
    clock.set(script::END);
    let watermark = script::END - cfg.engine.allowed_lateness.ms();
    let mut seq = daemon.published().subscribe();
    tokio::time::timeout(DEADLINE, async {
        while daemon.published().latest().and_then(|s| s.watermark_ms) != Some(watermark) {
            seq.changed().await.expect("engine alive");
        }
    })
    .await
    .expect("snapshot at the end of the script");

    // promtool: nothing on stdout or stderr, exit 0.
    let (status, body) = get(addr, "/metrics").await.expect("GET /metrics");
    assert_eq!(status, 200, "{body}");
    let mut check = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    check
        .stdin
        .take()
        .expect("promtool stdin")
        .write_all(body.as_bytes())
        .expect("write to promtool");
    let out = check.wait_with_output().expect("promtool output");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool check metrics ({}): {said}",
        out.status
    );

    // A real Prometheus scrapes the daemon; its API gives the scripted values back.
    let mut prom = Prometheus::start(&prometheus, addr);
    let sales_voice = [("queue", "sales"), ("channel", "voice")];
    let arrived = prom
        .wait_value("ccpulse_contacts_arrived_total", |m| {
            labels(m, &sales_voice) && labels(m, &[("job", "ccpulse")])
        })
        .await;
    assert_eq!(arrived, 3.0);
    let chat = prom
        .wait_value("ccpulse_contacts_arrived_total", |m| {
            labels(m, &[("queue", "sales"), ("channel", "chat")])
        })
        .await;
    assert_eq!(chat, 1.0);
    let le10 = prom
        .wait_value(
            r#"ccpulse_answer_wait_seconds_bucket{queue="sales",channel="voice",le="10"}"#,
            |_| true,
        )
        .await;
    assert_eq!(le10, 1.0);
    let le20 = prom
        .wait_value(
            r#"ccpulse_abandon_wait_seconds_bucket{queue="sales",channel="chat",le="20"}"#,
            |_| true,
        )
        .await;
    assert_eq!(le20, 0.0);
    let aux = prom
        .wait_value("ccpulse_agent_state_seconds_total", |m| {
            labels(m, &[("team", "blue"), ("state", "aux")])
        })
        .await;
    assert_eq!(aux, (watermark - script::T0) as f64 / 1000.0);
    // PromQL over the histogram: the median answer wait lies in the (5, 10] bucket.
    let p50 = prom
        .wait_value(
            r#"histogram_quantile(0.5, ccpulse_answer_wait_seconds_bucket{queue="sales",channel="voice"})"#,
            |_| true,
        )
        .await;
    assert!(p50 > 5.0 && p50 <= 10.0, "{p50}");
    let up = prom.wait_value(r#"up{job="ccpulse"}"#, |_| true).await;
    assert_eq!(up, 1.0, "the scrape succeeded");
    drop(prom);

    daemon.shutdown().await.expect("clean shutdown");
    server.await.expect("server task").expect("server");
}
