//! Alerts across a restart of the daemon process: a firing alert stays firing, with its
//! start, and is not notified a second time (`alerts-state.json` in the data directory).

#[path = "common/daemon.rs"]
mod daemon;

use daemon::{http, spawn_daemon};
use serde_json::Value;
use std::time::{Duration, Instant};

fn alerts(addr: &str) -> Value {
    let (status, body) = http(addr, "GET", "/api/v1/alerts", "", "").expect("GET alerts");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("json")
}

/// Polls the alerts until `Waiting` fires; returns its `since_ms`.
fn wait_firing(addr: &str) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = alerts(addr);
        let hit = v["active"].as_array().and_then(|a| {
            a.iter()
                .find(|x| x["alertname"] == "Waiting" && x["state"] == "firing")
                .and_then(|x| x["since_ms"].as_i64())
        });
        if let Some(since) = hit {
            return since;
        }
        assert!(Instant::now() < deadline, "never fired: {v}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn firing_notifications(addr: &str) -> usize {
    alerts(addr)["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|e| e["alertname"] == "Waiting" && e["kind"] == "firing")
        .count()
}

fn stop(child: &mut daemon::DaemonChild) {
    let pid = child.id();
    assert!(daemon::terminate(pid, child, Duration::from_secs(30)).success());
}

#[test]
fn a_firing_alert_stays_firing_across_a_restart_without_a_second_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, qlog) = (dir.path().join("data"), dir.path().join("queue_log"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    // One caller waiting since 30 s ago, never answered.
    let t = now - 30;
    std::fs::write(&qlog, format!("{t}|{t}.1|sales|NONE|ENTERQUEUE||1001|1\n")).expect("log");
    let config = dir.path().join("ccpulse.toml");
    std::fs::write(
        &config,
        format!(
            "[daemon]\nlisten = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n\n\
             [[sources]]\nkind = \"file\"\nname = \"asterisk\"\npath = \"{}\"\n\
             format = \"queue_log\"\nstart_at = \"beginning\"\npoll_interval = \"50ms\"\n\n\
             [alerts]\ndefaults = false\n\n\
             [[alerts.rules]]\nname = \"Waiting\"\nmetric = \"contacts_waiting\"\n\
             op = \"above\"\nthreshold = 0\n",
            data.display(),
            qlog.display()
        ),
    )
    .expect("config");
    let config = config.display().to_string();
    let args = ["run", "--config", config.as_str()];

    let (mut first, addr) = spawn_daemon(&args, |_| {});
    let since = wait_firing(&addr);
    assert_eq!(firing_notifications(&addr), 1, "paged once");
    stop(&mut first);
    let saved = std::fs::read_to_string(data.join("alerts-state.json")).expect("state file");
    assert!(saved.contains("\"Waiting\""), "{saved}");

    let (mut second, addr) = spawn_daemon(&args, |_| {});
    assert_eq!(
        wait_firing(&addr),
        since,
        "the same alert, from the same start"
    );
    // Several evaluations later: still firing, never notified again.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(wait_firing(&addr), since);
    assert_eq!(
        firing_notifications(&addr),
        0,
        "no second page after the restart"
    );
    stop(&mut second);
}
