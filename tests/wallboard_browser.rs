//! The built-in wallboard in a real headless Chromium (Debian `chromium`): the page
//! loads, connects to `/ws`, and its tiles show the values of `/api/v1/snapshot`; no
//! console errors; 1920×1080 screenshots (dark and light) are saved as test artifacts in
//! `target/wallboard-{dark,light}.png`. Ignored by plain `cargo test`; `scripts/test.sh`
//! installs Chromium and runs it.

mod live_support;

use ccpulse::model::{AgentStateChange, AgentStatus, Channel, Event, EventBody};
use ccpulse::outputs::feed::FeedOptions;
use ccpulse::runtime::{Clock, ManualClock};
use live_support::{fast_config, get_json, start, wait_snapshot};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

const T0: i64 = 1_795_856_400_000; // 2026-11-28T09:00:00Z

fn chromium() -> PathBuf {
    let p = PathBuf::from("/usr/bin/chromium");
    assert!(
        p.exists(),
        "Chromium is missing: install the Debian package `chromium` (scripts/test.sh does)"
    );
    p
}

/// Runs headless Chromium on `url` with `extra` arguments; returns (stdout, stderr).
fn run_chromium(url: &str, extra: &[&str], profile: &Path) -> (String, String) {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--hide-scrollbars",
            "--window-size=1920,1080",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ev(ts: i64, body: EventBody) -> Event {
    Event { ts, id: None, body }
}

fn agent(ts: i64, name: &str, state: AgentStatus, reason: Option<&str>) -> Event {
    ev(
        ts,
        EventBody::AgentState(Box::new(AgentStateChange {
            agent: name.into(),
            state,
            reason: reason.map(Into::into),
            team: Some("A".into()),
            queues: Some(vec!["sales".into(), "support".into()]),
            name: None,
            explicit: true,
        })),
    )
}

/// The text inside the first element carrying `attr` (e.g. `data-kpi="waiting"`) after `from`.
fn text_after(dom: &str, from: &str, attr: &str) -> Option<String> {
    let start = dom.find(from)?;
    let rest = &dom[start..];
    let at = rest.find(attr)?;
    let after = &rest[at..];
    let open = after.find('>')? + 1;
    let close = after[open..].find('<')? + open;
    Some(after[open..close].to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium (scripts/test.sh installs it)"]
async fn wallboard_shows_the_snapshot_in_headless_chromium() {
    // The clock starts before the scripted events so none of them is late.
    let clock = Arc::new(ManualClock::new(T0 - 700_000));
    let live = start(
        &fast_config(),
        FeedOptions::default(),
        clock.clone() as Arc<dyn Clock>,
    )
    .await;
    let s = |x: i64| T0 - 600_000 + x * 1000;
    let mut events = vec![
        agent(s(0), "ana", AgentStatus::Available, None),
        agent(s(0), "ben", AgentStatus::Available, None),
        agent(s(0), "cleo", AgentStatus::Aux, Some("break")),
    ];
    for k in 0..6 {
        let q = if k % 2 == 0 { "sales" } else { "support" };
        events.push(ev(
            s(10 + k * 30),
            EventBody::ContactQueued {
                contact: format!("c{k}").into(),
                queue: q.into(),
                channel: Channel::Voice,
            },
        ));
        if k < 4 {
            let wait = 5 + k * 10;
            events.push(ev(
                s(10 + k * 30 + wait),
                EventBody::ContactAnswered {
                    contact: format!("c{k}").into(),
                    queue: q.into(),
                    agent: "ana".into(),
                    wait_ms: None,
                },
            ));
            events.push(ev(
                s(10 + k * 30 + wait + 20),
                EventBody::ContactEnded {
                    contact: format!("c{k}").into(),
                    queue: None,
                    talk_ms: None,
                },
            ));
        }
    }
    events.sort_by_key(|e| e.ts);
    let n = events.len() as u64;
    for e in events {
        live.script.send(e).await.expect("send");
    }
    clock.set(T0);
    let snap = wait_snapshot(live.daemon.published(), |s| s.engine.applied == n).await;
    let api = get_json(live.addr, "/api/v1/snapshot").await;
    assert_eq!(api["engine"]["applied"].as_u64(), Some(n));

    let profile = tempfile::tempdir().expect("profile dir");
    let url = format!("http://{}/", live.addr);
    let (dom, log) = tokio::task::spawn_blocking({
        let (url, p) = (url.clone(), profile.path().to_path_buf());
        move || run_chromium(&url, &["--virtual-time-budget=5000", "--dump-dom"], &p)
    })
    .await
    .expect("chromium task");
    assert!(dom.contains("ccpulse wallboard"), "the page loaded: {log}");
    assert!(!log.contains("Uncaught"), "console errors: {log}");

    // Headline: contacts waiting = the sum over queues in the snapshot.
    let waiting: u64 = snap.queues.iter().map(|q| q.waiting).sum();
    assert_eq!(
        text_after(&dom, "id=\"t-waiting\"", "data-kpi=\"waiting\"").as_deref(),
        Some(waiting.to_string().as_str()),
        "{dom}"
    );
    // Per queue: waiting and today's service level as the API reports them.
    for q in &snap.queues {
        let row = format!("data-queue=\"{}\"", q.queue);
        assert_eq!(
            text_after(&dom, &row, "data-kpi=\"waiting\"").as_deref(),
            Some(q.waiting.to_string().as_str()),
            "{}",
            q.queue
        );
        let sl = text_after(&dom, &row, "data-kpi=\"service_level\"").expect("SL cell");
        let want = q
            .today
            .service_level
            .map_or("–".to_string(), |v| format!("{:.1}%", v * 100.0));
        assert_eq!(sl, want, "{}", q.queue);
    }
    // Agents on screen with their states (not by colour alone: the state is written).
    assert!(
        dom.contains("data-agent=\"cleo\"") && dom.contains("aux · break"),
        "agent grid"
    );
    assert!(dom.contains("● live"), "connected marker");

    // Screenshots at 1920×1080, both themes, as artifacts.
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    for theme in ["dark", "light"] {
        let shot = target.join(format!("wallboard-{theme}.png"));
        let _ = std::fs::remove_file(&shot);
        let (url, p, arg) = (
            format!("{url}?theme={theme}"),
            profile.path().to_path_buf(),
            format!("--screenshot={}", shot.display()),
        );
        tokio::task::spawn_blocking(move || {
            run_chromium(&url, &["--virtual-time-budget=5000", &arg], &p)
        })
        .await
        .expect("chromium task");
        assert!(shot.exists(), "screenshot {theme}");
    }
    let page = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/wallboard.html"),
    )
    .expect("page");
    assert!(page.len() <= 100 * 1024, "page weight {} bytes", page.len());
    live.stop().await;
}
