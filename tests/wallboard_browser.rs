//! The built-in wallboard in a real headless Chromium (Debian `chromium`), driven over
//! the DevTools protocol (`tests/common/cdp.rs`) against an in-process daemon fed with
//! scripted events under a `ManualClock`:
//! - the page loads with no console errors, connects to `/ws`, its tiles show the values
//!   of `/api/v1/snapshot`, and firing alerts appear in its alert strip; 1920×1080
//!   screenshots (dark and light) are saved in `target/wallboard-{dark,light}.png`;
//! - when the daemon stops, the page keeps the last good state under "stale since …";
//!   a daemon started again on the same port brings it back to live with the new state
//!   within the page's backoff bound;
//! - the "Scheduled in" tile counts the scheduled agents of the teams in view who are
//!   logged in, with no-shows and break overruns (whose cards say so); nothing is cut at
//!   720p, 900p and 1080p, nor on a 390×844 phone, whose page scrolls in one column;
//! - clock times read in the config's time zone;
//! - at 50 queues and 500 agents, applying one snapshot frame (script, style and
//!   layout) is measured (≤ 5 ms median is the target), frames edit the DOM in place,
//!   and a strip of many alerts does not scroll.
//!
//! Ignored by plain `cargo test`; `scripts/test.sh` installs Chromium and runs them.

#[path = "common/cdp.rs"]
mod cdp;
mod live_support;

use ccpulse::model::{AgentStateChange, AgentStatus, Channel, Event, EventBody, Millis};
use ccpulse::outputs::feed::FeedOptions;
use ccpulse::runtime::{Clock, ManualClock};
use cdp::{Browser, Page};
use live_support::{
    fast_config, get_json, request, start, start_on, wait_alerts, wait_snapshot, Live,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const T0: i64 = 1_795_856_400_000; // 2026-11-28T09:00:00Z

fn ev(ts: i64, body: EventBody) -> Event {
    Event { ts, id: None, body }
}

fn agent_in(
    ts: i64,
    name: &str,
    team: &str,
    queues: &[&str],
    state: AgentStatus,
    reason: Option<&str>,
) -> Event {
    ev(
        ts,
        EventBody::AgentState(Box::new(AgentStateChange {
            agent: name.into(),
            state,
            reason: reason.map(Into::into),
            team: Some(team.into()),
            queues: Some(queues.iter().map(|q| (*q).into()).collect()),
            name: None,
            explicit: true,
        })),
    )
}

fn agent(ts: i64, name: &str, state: AgentStatus, reason: Option<&str>) -> Event {
    agent_in(ts, name, "A", &["sales", "support"], state, reason)
}

fn queued(ts: i64, contact: &str, queue: &str) -> Event {
    ev(
        ts,
        EventBody::ContactQueued {
            contact: contact.into(),
            queue: queue.into(),
            channel: Channel::Voice,
        },
    )
}

fn answered(ts: i64, contact: &str, queue: &str, agent: &str) -> Event {
    ev(
        ts,
        EventBody::ContactAnswered {
            contact: contact.into(),
            queue: queue.into(),
            agent: agent.into(),
            wait_ms: None,
        },
    )
}

fn ended(ts: i64, contact: &str) -> Event {
    ev(
        ts,
        EventBody::ContactEnded {
            contact: contact.into(),
            queue: None,
            talk_ms: None,
        },
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

/// The page's whole DOM as HTML.
async fn outer_html(page: &Page<'_>) -> String {
    page.eval("document.documentElement.outerHTML")
        .await
        .as_str()
        .expect("DOM")
        .to_string()
}

/// Each queue's row shows the snapshot's number of contacts waiting.
fn assert_waiting_cells(dom: &str, snap: &ccpulse::engine::Snapshot) {
    for q in &snap.queues {
        let row = format!("data-queue=\"{}\"", q.queue);
        assert_eq!(
            text_after(dom, &row, "data-kpi=\"waiting\"").as_deref(),
            Some(q.waiting.to_string().as_str()),
            "{}",
            q.queue
        );
    }
}

fn artifact(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(name)
}

async fn send_all(live: &Live, mut events: Vec<Event>) -> u64 {
    events.sort_by_key(|e| e.ts);
    let n = events.len() as u64;
    for e in events {
        live.script.send(e).await.expect("send");
    }
    n
}

/// One browser test at a time: they measure time and share two cores with the daemon.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `#conn` says live (a snapshot arrived on the current connection).
const LIVE: &str = "document.getElementById('conn').textContent === '● live'";

async fn text(page: &Page<'_>, selector: &str) -> String {
    property(page, selector, "textContent").await
}

/// The `class` of the element `selector` selects ("" when none).
async fn class_of(page: &Page<'_>, selector: &str) -> String {
    property(page, selector, "className").await
}

async fn property(page: &Page<'_>, selector: &str, name: &str) -> String {
    let expr = format!(
        "(document.querySelector({}) || {{}}).{name}",
        serde_json::to_string(selector).expect("selector")
    );
    page.eval(&expr)
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium (scripts/test.sh installs it)"]
async fn wallboard_shows_the_snapshot_and_alerts_in_headless_chromium() {
    let _one = SERIAL.lock().await;
    // The clock starts before the scripted events so none of them is late.
    let clock = Arc::new(ManualClock::new(T0 - 1_500_000));
    let live = start(
        &fast_config(),
        FeedOptions::default(),
        clock.clone() as Arc<dyn Clock>,
    )
    .await;
    let s = |x: i64| T0 - 600_000 + x * 1000;
    let mut events = vec![
        agent(s(0), "ana", AgentStatus::Available, None),
        agent(s(0), "cleo", AgentStatus::Aux, Some("break")),
        // ben is on one contact from 19:40 before T0: LongContact (20 min) fires after T0.
        agent(T0 - 1_190_000, "ben", AgentStatus::Available, None),
        queued(T0 - 1_185_000, "c-long", "support"),
        answered(T0 - 1_180_000, "c-long", "support", "ben"),
        // dan has been in wrap-up since 4 min 50 s before T0: LongAfterCallWork (5 min)
        // fires after T0.
        agent(T0 - 290_000, "dan", AgentStatus::AfterCallWork, None),
    ];
    for k in 0..6 {
        let q = if k % 2 == 0 { "sales" } else { "support" };
        let c = format!("c{k}");
        events.push(queued(s(10 + k * 30), &c, q));
        if k < 4 {
            let wait = 5 + k * 10;
            events.push(answered(s(10 + k * 30 + wait), &c, q, "ana"));
            events.push(ended(s(10 + k * 30 + wait + 20), &c));
        }
    }
    let n = send_all(&live, events).await;
    clock.set(T0);
    let snap = wait_snapshot(live.daemon.published(), |s| s.engine.applied == n).await;
    let api = get_json(live.addr, "/api/v1/snapshot").await;
    assert_eq!(api["engine"]["applied"].as_u64(), Some(n));
    // c4 (sales) and c5 (support) wait over 3 × T (60 s): LongestWaitHigh pending, not firing.
    wait_alerts(&live.alerts, |a| {
        a.iter()
            .filter(|x| x.alertname == "LongestWaitHigh")
            .count()
            == 2
    })
    .await;

    let browser = Browser::launch().await;
    let page = browser.new_page().await;
    let url = format!("http://{}/", live.addr);
    page.navigate(&url).await;
    page.wait_for(&format!(
        "{LIVE} && document.getElementById('applied').textContent === '{n} events'"
    ))
    .await;
    let dom = outer_html(&page).await;
    assert!(dom.contains("ccpulse wallboard"), "the page loaded");
    // Chromium offers permessage-deflate and the feed takes it: a first snapshot of 4 KiB
    // or more (this one) reaches the page deflated, and the page above was built from it.
    let probe = page
        .eval(
            "new Promise(r => { const w = new WebSocket(`ws://${location.host}/ws`); \
             w.onmessage = e => { r([w.extensions, e.data.length]); w.close(); }; \
             w.onerror = () => r(['error', 0]); })",
        )
        .await;
    assert_eq!(
        probe[0], "permessage-deflate; server_no_context_takeover",
        "{probe}"
    );
    assert!(
        probe[1].as_u64() >= Some(4096),
        "a deflated first snapshot: {probe}"
    );

    // Headline: contacts waiting = the sum over queues in the snapshot.
    let waiting: u64 = snap.queues.iter().map(|q| q.waiting).sum();
    assert_eq!(waiting, 2, "c4 and c5");
    assert_eq!(
        text_after(&dom, "id=\"t-waiting\"", "data-kpi=\"waiting\"").as_deref(),
        Some(waiting.to_string().as_str()),
        "{dom}"
    );
    // Per queue: waiting and today's service level as the API reports them.
    assert_waiting_cells(&dom, &snap);
    for q in &snap.queues {
        let row = format!("data-queue=\"{}\"", q.queue);
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
    // Ben's contact (19 min 40 s) is not yet long by the LongContact rule (20 min).
    let ben = "document.querySelector('[data-agent=\"ben\"]')";
    let ben_card = page
        .eval(&format!("[{ben}.className, {ben}.textContent]"))
        .await;
    assert!(
        !ben_card[0].as_str().unwrap_or("long").contains("long"),
        "{ben_card}"
    );
    // Nor is dan's wrap-up (4 min 50 s) by LongAfterCallWork (5 min).
    let dan = "document.querySelector('[data-agent=\"dan\"]')";
    let dan_card = page
        .eval(&format!("[{dan}.className, {dan}.textContent]"))
        .await;
    assert!(
        !dan_card[0].as_str().unwrap_or("long").contains("long")
            && dan_card[1]
                .as_str()
                .unwrap_or("")
                .contains("after call work"),
        "{dan_card}"
    );
    // Pending alerts are not shown. (The service level may already fire: the alert task
    // may have evaluated the queues at a watermark of the scripted morning, five minutes
    // and more before T0, as the events came in.)
    let api = get_json(live.addr, "/api/v1/alerts").await;
    let firing_now = api["active"]
        .as_array()
        .expect("active")
        .iter()
        .filter(|a| a["state"] == "firing")
        .count();
    assert!(
        firing_now
            <= api["active"]
                .as_array()
                .expect("active")
                .iter()
                .filter(|a| a["alertname"] == "ServiceLevelBelowTarget")
                .count(),
        "only the service level may fire yet: {api}"
    );
    let strip = text(&page, "#alerts").await;
    if firing_now == 0 {
        assert_eq!(strip, "✔ No active alerts", "pending alerts are not shown");
    }
    assert!(
        !strip.contains("A caller in"),
        "pending, not shown: {strip}"
    );

    // One minute later: both waits fire (warning), ben's long contact and dan's long
    // wrap-up (info); the service level of a queue may have been below target long
    // enough too.
    clock.set(T0 + 61_000);
    wait_alerts(&live.alerts, |a| {
        let firing = |name: &str| {
            a.iter()
                .filter(|x| x.alertname == name && x.state == "firing")
                .count()
        };
        firing("LongestWaitHigh") == 2
            && firing("LongContact") == 1
            && firing("LongAfterCallWork") == 1
    })
    .await;
    // Ben's card is long now, as the alert fires (the feed's `long_contact_seconds`).
    page.wait_for(&format!(
        "{ben}.classList.contains('long') && {ben}.textContent.includes('✖ long')"
    ))
    .await;
    // So is dan's, by the feed's `long_state_seconds`.
    page.wait_for(&format!(
        "{dan}.classList.contains('long') && {dan}.textContent.includes('✖ long')"
    ))
    .await;
    let api = get_json(live.addr, "/api/v1/alerts").await;
    let firing: Vec<&serde_json::Value> = api["active"]
        .as_array()
        .expect("active")
        .iter()
        .filter(|a| a["state"] == "firing")
        .collect();
    let shown_n = firing.len().min(3);
    page.wait_for(&format!(
        "document.querySelectorAll('#alerts .alert').length === {shown_n}"
    ))
    .await;
    let shown = page
        .eval("[...document.querySelectorAll('#alerts .alert')].map(e => [e.dataset.fingerprint, e.textContent])")
        .await;
    let shown: Vec<(String, String)> = serde_json::from_value(shown).expect("alerts");
    let rank = |sev: &str| {
        ["critical", "warning", "info"]
            .iter()
            .position(|s| *s == sev)
    };
    let mut last_rank = Some(0);
    for (fp, t) in &shown {
        let a = firing
            .iter()
            .find(|a| a["fingerprint"] == fp.as_str())
            .unwrap_or_else(|| panic!("{fp} is not firing: {t}"));
        let sev = a["severity"].as_str().expect("severity");
        assert!(rank(sev) >= last_rank, "most severe first: {shown:?}");
        last_rank = rank(sev);
        assert!(t.contains(a["summary"].as_str().expect("summary")), "{t}");
        let word = match sev {
            "critical" => "✖ CRITICAL",
            "warning" => "▲ WARNING",
            _ => "ℹ INFO",
        };
        assert!(t.starts_with(word), "severity in words too: {t}");
        // In the config's zone (UTC here), in the browser's locale (a 12- or 24-hour clock).
        let since = jiff::Timestamp::from_millisecond(a["since_ms"].as_i64().expect("since_ms"))
            .expect("since");
        let (h24, h12) = (since.strftime("since %H:%M"), since.strftime("since %I:%M"));
        assert!(
            t.contains(&h24.to_string()) || t.contains(&h12.to_string()),
            "{h24}: {t}"
        );
    }
    let more = text(&page, "#alerts .more").await;
    if firing.len() > 3 {
        assert_eq!(more, format!("+{} more", firing.len() - 3));
    } else {
        assert_eq!(more, "");
    }
    let errors = page.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:?}");

    // Screenshots at 1920×1080, both themes, as artifacts.
    for theme in ["dark", "light"] {
        let shot = artifact(&format!("wallboard-{theme}.png"));
        let _ = std::fs::remove_file(&shot);
        page.navigate(&format!("{url}?theme={theme}")).await;
        page.wait_for(&format!(
            "{LIVE} && document.documentElement.dataset.theme === '{theme}' \
             && document.querySelectorAll('#alerts .alert').length === {shown_n}"
        ))
        .await;
        let size = page.eval("[innerWidth, innerHeight]").await;
        assert_eq!(size, serde_json::json!([1920, 1080]));
        page.screenshot(&shot).await;
        assert!(shot.exists(), "screenshot {theme}");
    }

    // Changes arrive as `delta` frames, merged by the page: ana answers c4 (sales now
    // has nobody waiting), dora logs in, cleo leaves her break.
    let more = vec![
        answered(T0 + 62_000, "c4", "sales", "ana"),
        agent(T0 + 62_500, "dora", AgentStatus::Available, None),
        agent(T0 + 63_000, "cleo", AgentStatus::Available, None),
    ];
    let n = n + send_all(&live, more).await;
    clock.set(T0 + 66_000);
    let snap = wait_snapshot(live.daemon.published(), |s| s.engine.applied == n).await;
    page.wait_for(&format!(
        "document.getElementById('applied').textContent === '{n} events'"
    ))
    .await;
    let frames = page.eval("window.__ccpulseFrames").await;
    assert_eq!(frames["snapshot"], 1, "one snapshot on connect: {frames}");
    assert!(frames["delta"].as_u64() >= Some(1), "then deltas: {frames}");
    let dom = outer_html(&page).await;
    assert_waiting_cells(&dom, &snap);
    assert!(
        dom.contains("data-agent=\"dora\""),
        "a newcomer from a delta"
    );
    assert!(!dom.contains("aux · break"), "cleo is back from her break");
    let errors = page.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    let page_bytes = include_str!("../assets/wallboard.html").len();
    assert!(page_bytes <= 100 * 1024, "page weight {page_bytes} bytes");
    drop(browser);
    live.stop().await;
}

/// `?targets=1` (a team leader's own screen) adds each agent's target attainment today to
/// its card, naming the targets missed (the board's `targets_missed`); without it the
/// cards stay as they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium (scripts/test.sh installs it)"]
async fn wallboard_shows_target_attainment_when_asked() {
    let _one = SERIAL.lock().await;
    let mut cfg = fast_config();
    let aht = |secs| ccpulse::config::Targets {
        aht: Some(ccpulse::config::Duration::secs(secs)),
        ..Default::default()
    };
    // ana handles in 20 s (met), cleo in 30 s against 10 s and 1 contact in 5 min against
    // 100 an hour (both missed), ben handles nothing (no target measurable yet).
    for (name, secs) in [("ana", 60), ("cleo", 10), ("ben", 60)] {
        let mut targets = aht(secs);
        if name == "cleo" {
            targets.handled_per_hour = Some(100.0);
        }
        let a = ccpulse::config::AgentConfig {
            targets,
            ..Default::default()
        };
        cfg.agents.insert(name.into(), a);
    }
    let clock = Arc::new(ManualClock::new(T0 - 600_000));
    let live = start(
        &cfg,
        FeedOptions::default(),
        clock.clone() as Arc<dyn Clock>,
    )
    .await;
    let s = |x: i64| T0 - 300_000 + x * 1000;
    let events = vec![
        agent(s(0), "ana", AgentStatus::Available, None),
        agent(s(0), "cleo", AgentStatus::Available, None),
        agent(s(0), "ben", AgentStatus::Available, None),
        queued(s(10), "c1", "sales"),
        answered(s(12), "c1", "sales", "ana"),
        ended(s(32), "c1"),
        queued(s(40), "c2", "sales"),
        answered(s(42), "c2", "sales", "cleo"),
        ended(s(72), "c2"),
    ];
    let n = send_all(&live, events).await;
    clock.set(T0);
    let snap = wait_snapshot(live.daemon.published(), |s| s.engine.applied == n).await;
    let share = |name: &str| {
        snap.agents
            .iter()
            .find(|a| a.agent == name)
            .and_then(|a| a.today.targets.as_ref())
            .and_then(|t| t.share_met)
    };
    assert_eq!(
        (share("ana"), share("cleo"), share("ben")),
        (Some(1.0), Some(0.0), None)
    );

    let browser = Browser::launch().await;
    let page = browser.new_page().await;
    page.navigate(&format!("http://{}/?targets=1", live.addr))
        .await;
    page.wait_for(&format!(
        "{LIVE} && document.querySelectorAll('#agents .agent .k').length === 3"
    ))
    .await;
    let card = |name: &str| format!("#agents [data-agent={name}] .k");
    assert_eq!(text(&page, &card("ana")).await, "✔ targets met");
    assert_eq!(text(&page, &card("cleo")).await, "✖ 2: AHT · handled/h");
    assert_eq!(text(&page, &card("ben")).await, "targets –");
    assert_eq!(class_of(&page, &card("cleo")).await, "k bad");
    // Two common misses fit the card's line at 1080p (labels kept short).
    let fits = page
        .eval(
            "(() => { const k = document.querySelector('#agents [data-agent=cleo] .k'); \
             k.textContent = '✖ 2: AHT · high occ.'; \
             return k.scrollWidth <= k.clientWidth; })()",
        )
        .await;
    assert_eq!(fits, serde_json::json!(true));

    // The floor's TV (no parameter) shows no attainment.
    page.navigate(&format!("http://{}/", live.addr)).await;
    page.wait_for(&format!(
        "{LIVE} && document.querySelectorAll('#agents .agent').length === 3"
    ))
    .await;
    let lines = page
        .eval("document.querySelectorAll('#agents .k').length")
        .await;
    assert_eq!(lines, 0);
    // The longest-wait tile names its queue's threshold as people say it (an e-mail
    // queue's 14400 s is "4 h").
    let spans = page.eval("[span(20), span(300), span(14400)]").await;
    assert_eq!(spans, serde_json::json!(["20s", "5 min", "4 h"]));
    // Waits (ASA) read as a clock past a minute: an e-mail queue's 1304 s ASA was cut
    // to "13…" in its column.
    let waits = page
        .eval("[secs(25), secs(59.6), secs(1304), secs(4000), secs(null)]")
        .await;
    assert_eq!(
        waits,
        serde_json::json!(["25s", "1:00", "21:44", "1:06:40", "–"])
    );
    let errors = page.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    drop(browser);
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium (scripts/test.sh installs it)"]
async fn wallboard_shows_who_is_scheduled_and_who_is_missing() {
    let _one = SERIAL.lock().await;
    let at = |m: i64| T0 + m * 60_000; // minutes after 09:00
    let clock = Arc::new(ManualClock::new(at(-31)));
    let live = start(
        &fast_config(),
        FeedOptions::default(),
        clock.clone() as Arc<dyn Clock>,
    )
    .await;
    // Team A: ana works (but is out for coffee), cleo is still on the break that ended
    // at 09:00, dora never logged in. Team B: eve never logged in either.
    let csv = "agent,start,end,activity,team
ana,2026-11-28T08:30:00Z,2026-11-28T17:00:00Z,work,A
cleo,2026-11-28T08:30:00Z,2026-11-28T17:00:00Z,work,A
cleo,2026-11-28T08:45:00Z,2026-11-28T09:00:00Z,break,A
dora,2026-11-28T08:30:00Z,2026-11-28T17:00:00Z,work,A
eve,2026-11-28T08:30:00Z,2026-11-28T17:00:00Z,work,B
";
    let (status, body) = request(live.addr, "PUT", "/api/v1/schedule", &[], csv.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    // ana steps out for coffee at 08:52, in the middle of work: off plan.
    let events = vec![
        agent(at(-29), "ana", AgentStatus::Available, None),
        agent(at(-29), "cleo", AgentStatus::Available, None),
        agent(at(-14), "cleo", AgentStatus::Aux, Some("break")),
        agent(at(-8), "ana", AgentStatus::Aux, Some("coffee")),
    ];
    let n = send_all(&live, events).await;
    clock.set(at(4));
    wait_snapshot(live.daemon.published(), |s| {
        s.engine.applied == n && s.watermark_ms >= Some(at(4) - 2_000)
    })
    .await;

    let browser = Browser::launch().await;
    let page = browser.new_page().await;
    page.navigate(&format!("http://{}/?teams=A", live.addr))
        .await;
    page.wait_for(&format!(
        "{LIVE} && document.querySelector('#t-sched .value').textContent === '2/3'"
    ))
    .await;
    let sub = text(&page, "#t-sched .sub").await;
    assert!(
        sub.starts_with("1 no-show · 1 overrun · adherence "),
        "{sub}"
    );
    assert_eq!(text(&page, "#t-sched .state").await, "✖ Alert", "a no-show");
    let card = class_of(&page, "#agents [data-agent=cleo]").await;
    assert!(card.contains("overrun"), "{card}");
    let s = text(&page, "#agents [data-agent=cleo] .s").await;
    assert!(s.starts_with("✖ overrun · break "), "{s}");
    // The narrow card may cut "break", never the time on it (it used to read "break 17…").
    let time = page
        .eval(
            "(() => { const c = document.querySelector('#agents [data-agent=cleo]'), \
             d = c.querySelector('.s .d'); return [d.textContent, \
             d.getBoundingClientRect().right <= c.getBoundingClientRect().right \
             && d.scrollWidth <= d.clientWidth + 1]; })()",
        )
        .await;
    let (time, whole): (String, bool) = serde_json::from_value(time).expect("time");
    assert!(whole && time.contains(':'), "{time} whole: {whole}");
    let s = text(&page, "#agents [data-agent=ana] .s").await;
    assert!(!s.contains("overrun"), "{s}");
    // ana has been out of adherence for 12 minutes (over the page's 5): her card says
    // what the plan has her do instead.
    assert!(s.starts_with("✖ plan: work · aux · coffee "), "{s}");
    let card = class_of(&page, "#agents [data-agent=ana]").await;
    assert!(card.contains("offplan"), "{card}");

    // The whole floor: eve (team B) is scheduled and missing too.
    page.navigate(&format!("http://{}/", live.addr)).await;
    page.wait_for(&format!(
        "{LIVE} && document.querySelector('#t-sched .value').textContent === '2/4'"
    ))
    .await;
    let sub = text(&page, "#t-sched .sub").await;
    assert!(sub.starts_with("2 no-shows · 1 overrun"), "{sub}");
    let shot = artifact("wallboard-schedule.png");
    page.screenshot(&shot).await;
    assert!(shot.exists(), "screenshot");
    // Seven tiles on a 720p, 900p and 1080p screen: the widest numbers a tile shows
    // ("100.0%", a whole floor's "1850/2000") fit their tile, shrunk only as needed and
    // still large: at least 4 % of the screen's height (3 % for the nine characters).
    // And on a phone (390×844, the team leader opening an alert's link): the same checks,
    // numbers at least 24 px.
    for (w, h) in [(1280, 720), (1600, 900), (1920, 1080), (390, 844)] {
        let phone = w < 700;
        page.set_viewport(w, h).await;
        let fits = page
            .eval(
                "[...document.querySelectorAll('.tile:not([hidden])')].flatMap(t => \
                 ['100.0%', '1850/2000'].map(s => { setTile(t.id, s, 'ok', ''); \
                 const v = t.querySelector('.value'); \
                 return [t.id, s, v.scrollWidth <= v.clientWidth, \
                         parseFloat(getComputedStyle(v).fontSize) / innerHeight]; }))",
            )
            .await;
        let fits: Vec<(String, String, bool, f64)> = serde_json::from_value(fits).expect("fits");
        assert_eq!(fits.len(), 14, "seven tiles: {fits:?}");
        for (id, s, fit, size) in &fits {
            let least = match (phone, s.len() > 6) {
                (true, _) => 24.0 / f64::from(h),
                (false, true) => 0.03,
                (false, false) => 0.04,
            };
            assert!(*fit && *size >= least, "{w}x{h} {id} {s}: {fits:?}");
        }
        // Each label on one line, whole ("Abandon today" wrapped at seven tiles).
        let labels = page
            .eval(
                "[...document.querySelectorAll('.tile:not([hidden]) .label')]\
                 .filter(l => l.scrollWidth > l.clientWidth || \
                         l.scrollHeight > 1.8 * parseFloat(getComputedStyle(l).fontSize))\
                 .map(l => l.textContent)",
            )
            .await;
        assert_eq!(
            labels,
            serde_json::json!([]),
            "{w}x{h}: cut or wrapped labels"
        );
        // Each tile's line under the state, as long as a busy floor makes it, shown whole
        // (wrapped, three lines at most) inside its tile, next to the widest number. One
        // line with an ellipsis used to cut the agents tile to "available · 1 on …" at
        // 1080p.
        let cut = page
            .eval(
                "(() => { const subs = { 't-waiting': '200 queues', \
                   't-longest': 'support · target 20s', \
                   't-sl': 'target 80.0% · 12345 offered', 't-slr': '1234 offered', \
                   't-abn': 'ASA 123s · 1234 abandoned', \
                   't-agents': '1234 on contact · 123 ACW · 123 aux · short 12', \
                   't-sched': '12 no-shows · 12 overrun · adherence 100.0%' }; \
                 return [...document.querySelectorAll('.tile:not([hidden])')].filter(t => { \
                   setTile(t.id, '1850/2000', 'warn', subs[t.id]); \
                   const sub = t.querySelector('.sub'), tb = t.getBoundingClientRect(); \
                   return sub.textContent !== subs[t.id] || sub.scrollWidth > sub.clientWidth + 1 \
                     || sub.scrollHeight > sub.clientHeight + 1 \
                     || sub.getBoundingClientRect().bottom > tb.bottom - 2; \
                 }).map(t => t.id); })()",
            )
            .await;
        assert_eq!(cut, serde_json::json!([]), "{w}x{h}: cut sub-lines");
        // The three alerts' summaries ("dora (team A) not logged in, 34 min into the
        // shift", …) are read whole: they used to be cut to one line ("dora (team A) is
        // scheduled b…").
        let alerts = page
            .eval(
                "[...document.querySelectorAll('.alert .sum')].map(s => [s.textContent, \
                 s.scrollWidth <= s.clientWidth + 1 && s.scrollHeight <= s.clientHeight + 1 \
                 && s.getBoundingClientRect().bottom <= s.parentElement.getBoundingClientRect().bottom])",
            )
            .await;
        let alerts: Vec<(String, bool)> = serde_json::from_value(alerts).expect("alerts");
        assert_eq!(alerts.len(), 3, "{alerts:?}");
        assert!(
            alerts.iter().all(|a| a.1),
            "{w}x{h}: cut alert summaries {alerts:?}"
        );
        // The queue table's widest values and its headers fit their columns (an e-mail
        // queue's ASA, "21:44", was cut to "22…"; "Waiting" ran into "Longest" at 720p).
        let cut = page
            .eval(
                "(() => { const tr = document.querySelector('#queues tr:not(.more)'); \
                 const worst = ['188', '1:06:40', '79.9%', '79.9%', '100.0%', '1:06:40', '48/32']; \
                 const tds = [...tr.querySelectorAll('td')].slice(1); \
                 const keep = tds.map(td => [td.firstChild.textContent, td.lastChild.textContent]); \
                 tds.forEach((td, i) => { td.firstChild.textContent = worst[i]; \
                   if (i === 2 || i === 3) td.lastChild.textContent = ' ✖'; }); \
                 const ths = [...document.querySelectorAll('#queues th, table th')]; \
                 const cut = tds.concat(ths).filter(td => td.scrollWidth > td.clientWidth + 1) \
                   .map(td => td.textContent); \
                 tds.forEach((td, i) => { td.firstChild.textContent = keep[i][0]; \
                   td.lastChild.textContent = keep[i][1]; }); \
                 return cut; })()",
            )
            .await;
        assert_eq!(cut, serde_json::json!([]), "{w}x{h}: cut queue cells");
        // Every built-in rule's summary, filled with long but real values ("support",
        // "1 h 5 min", "-36.7 points"), fits an alert box as well, with a "+12 more"
        // beside the three (narrower boxes). One read "Service level of support below
        // target over 15 min (-36.7 points v…" on the demo.
        let filled: Vec<String> = ccpulse::alerts::default_rules()
            .iter()
            .map(|r| {
                let unit = r.metric.unit();
                let v = match unit {
                    ccpulse::alerts::Unit::Seconds => 3_899.0,
                    ccpulse::alerts::Unit::Ratio => 0.286,
                    ccpulse::alerts::Unit::RatioDelta => -0.367,
                    _ => 12.0,
                };
                r.summary
                    .replace("{scope}", "support")
                    .replace("{team}", "A")
                    .replace("{value_text}", &unit.text(v))
                    .replace("{value}", "12")
            })
            .collect();
        let expr = format!(
            "(() => {{ const s = document.querySelector('.alert .sum'), keep = s.textContent; \
             const more = document.createElement('span'); more.className = 'more'; \
             more.textContent = '+12 more'; s.closest('.alert').parentElement.appendChild(more); \
             const cut = {}.filter(t => {{ s.textContent = t; \
               return s.scrollWidth > s.clientWidth + 1 || s.scrollHeight > s.clientHeight + 1; }}); \
             s.textContent = keep; more.remove(); return cut; }})()",
            serde_json::to_string(&filled).expect("json")
        );
        let cut = page.eval(&expr).await;
        assert_eq!(
            cut,
            serde_json::json!([]),
            "{w}x{h}: built-in summaries cut"
        );
    }
    // The phone's page scrolls down, never sideways, and draws every queue and agent (a
    // TV's "+N more" is for what does not fit a screen that cannot scroll).
    let phone = page
        .eval(
            "[document.documentElement.scrollWidth <= innerWidth, \
              document.documentElement.scrollHeight > innerHeight, \
              document.querySelectorAll('#agents .agent.more, #queues tr.more').length, \
              getComputedStyle(document.querySelector('#queues td:nth-child(5)')).display]",
        )
        .await;
    assert_eq!(
        phone,
        serde_json::json!([true, true, 0, "none"]),
        "[no sideways scroll, scrolls down, '+N more' items, SL rolling column]"
    );
    page.screenshot(&artifact("wallboard-phone.png")).await;
    let errors = page.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium (scripts/test.sh installs it)"]
async fn wallboard_marks_stale_while_the_daemon_is_down_and_reconnects_on_restart() {
    let _one = SERIAL.lock().await;
    let clock = Arc::new(ManualClock::new(T0 - 100_000));
    // A center in Berlin: the page shows its clock times, whatever the screen's zone.
    let mut cfg = fast_config();
    cfg.timezone = "Europe/Berlin".into();
    let first = start(
        &cfg,
        FeedOptions::default(),
        clock.clone() as Arc<dyn Clock>,
    )
    .await;
    let addr = first.addr;
    let n = send_all(
        &first,
        vec![
            agent(T0 - 90_000, "ana", AgentStatus::Available, None),
            queued(T0 - 30_000, "c1", "sales"),
        ],
    )
    .await;
    clock.set(T0);
    wait_snapshot(first.daemon.published(), |s| s.engine.applied == n).await;

    let browser = Browser::launch().await;
    let page = browser.new_page().await;
    page.navigate(&format!("http://{addr}/")).await;
    page.wait_for(&format!(
        "{LIVE} && document.querySelector('#t-waiting .value').textContent === '1'"
    ))
    .await;
    // Event time 09:00Z (less the allowed lateness) is 10:00 in Berlin (UTC+1 in
    // November): the header clock and alert times read local, not UTC.
    let api = get_json(addr, "/api/v1/snapshot").await;
    assert_eq!(api["time_zone"], "Europe/Berlin");
    let shown = text(&page, "#clock").await;
    assert!(
        (shown.starts_with("09:59:") || shown.starts_with("10:00:")) && !shown.contains('Z'),
        "the header clock in Berlin time: {shown}"
    );
    let at = page.eval(&format!("hhmm({})", T0 + 5 * 60_000)).await;
    assert!(
        at.as_str().is_some_and(|t| t.starts_with("10:05")),
        "an alert's time in Berlin time: {at}"
    );

    // Down: the page says so and keeps the last good state on screen.
    first.stop().await;
    let marker = page
        .wait_for(
            "(t => t.startsWith('✖ stale since ') && t)(document.getElementById('conn').textContent)",
        )
        .await;
    assert!(
        marker
            .as_str()
            .is_some_and(|m| m.len() > "✖ stale since ".len()),
        "{marker}"
    );
    assert_eq!(text(&page, "#t-waiting .value").await, "1");
    assert_eq!(
        text(&page, "[data-queue=sales] [data-kpi=waiting]").await,
        "1"
    );
    assert_eq!(text(&page, "#agents [data-agent=ana] .n").await, "ana");
    // Stay down until a reconnect attempt has failed (the backoff doubled past 2 s).
    page.wait_for("backoff >= 4000").await;
    assert!(text(&page, "#conn").await.starts_with("✖ stale since "));

    // Up again on the same port, with another state.
    let second = start_on(
        &cfg,
        FeedOptions::default(),
        clock.clone() as Arc<dyn Clock>,
        addr,
    )
    .await;
    let up_at = Instant::now();
    let n2 = send_all(
        &second,
        vec![
            agent(T0 + 1_000, "ben", AgentStatus::Available, None),
            queued(T0 + 2_000, "d1", "sales"),
            queued(T0 + 3_000, "d2", "sales"),
            queued(T0 + 4_000, "d3", "support"),
        ],
    )
    .await;
    clock.set(T0 + 10_000);
    wait_snapshot(second.daemon.published(), |s| s.engine.applied == n2).await;
    // The page's next attempt is at most its current backoff (+ 0.5 s jitter) away.
    let backoff_ms = page.eval("backoff").await.as_u64().expect("backoff");
    let bound = Duration::from_millis(backoff_ms.min(30_000) + 500 + 2_000);
    page.wait_for_within(
        &format!("{LIVE} && document.querySelector('#t-waiting .value').textContent === '3'"),
        bound,
    )
    .await;
    let took = up_at.elapsed();
    println!("reconnected {took:?} after the restart (backoff then {backoff_ms} ms)");
    assert_eq!(
        text(&page, "[data-queue=support] [data-kpi=waiting]").await,
        "1"
    );
    assert_eq!(
        page.eval("!!document.querySelector('#agents [data-agent=ana]')")
            .await,
        false,
        "the old daemon's agents are gone"
    );
    assert_eq!(text(&page, "#agents [data-agent=ben] .n").await, "ben");
    assert_eq!(text(&page, "#applied").await, format!("{n2} events"));
    let errors: Vec<String> = page
        .console_errors()
        .into_iter()
        // Chromium logs each refused websocket connection while the daemon is down, and
        // the page's request asking why (a 401 or no daemon at all).
        .filter(|e| !e.contains("WebSocket connection to") && !e.contains("ERR_CONNECTION_REFUSED"))
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    drop(browser);
    second.stop().await;
}

/// A daemon on `clock` under `[auth] token = "s3cret"`, its days in `timezone`.
async fn start_guarded(clock: &Arc<ManualClock>, timezone: &str) -> Live {
    let mut cfg = fast_config();
    cfg.auth.token = Some("s3cret".into());
    cfg.timezone = timezone.into();
    start(
        &cfg,
        FeedOptions::default(),
        clock.clone() as Arc<dyn Clock>,
    )
    .await
}

/// Under `[auth] token`, a board link with a read ticket shows the floor; one whose
/// ticket has expired says so instead of "stale" forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium (scripts/test.sh installs it)"]
async fn wallboard_opens_with_a_ticket_and_says_when_it_has_expired() {
    let _one = SERIAL.lock().await;
    let clock = Arc::new(ManualClock::new(T0 - 100_000));
    let live = start_guarded(&clock, "UTC").await;
    let n = send_all(&live, vec![queued(T0 - 30_000, "c1", "sales")]).await;
    clock.set(T0);
    wait_snapshot(live.daemon.published(), |s| s.engine.applied == n).await;
    let auth = ccpulse::auth::Auth::new(Some("s3cret"));
    let now = ccpulse::auth::wall_ms();
    let browser = Browser::launch().await;
    let page = browser.new_page().await;

    let valid = auth.ticket(now + 3_600_000).expect("ticket");
    page.navigate(&format!("http://{}/?ticket={valid}", live.addr))
        .await;
    page.wait_for(&format!(
        "{LIVE} && document.querySelector('#t-waiting .value').textContent === '1'"
    ))
    .await;

    let expired = auth.ticket(now - 1_000).expect("ticket");
    page.navigate(&format!("http://{}/?ticket={expired}", live.addr))
        .await;
    let shown = page
        .wait_for("(t => t.startsWith('✖ link expired') && t)(document.getElementById('conn').textContent)")
        .await;
    assert_eq!(shown, "✖ link expired: ask for a new one");
    assert_eq!(text(&page, "#t-waiting .value").await, "–", "nothing shown");
    drop(browser);
    live.stop().await;
}

/// A chat alert's "acknowledge" link on a phone, under a token: the page shows the alert
/// (read with the link's ticket), acknowledges nothing until its button is pressed, then
/// says so; the alert is acknowledged in the daemon. An expired link says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium (scripts/test.sh installs it)"]
async fn ack_link_acknowledges_the_alert_when_asked() {
    let _one = SERIAL.lock().await;
    let clock = Arc::new(ManualClock::new(T0 - 1_300_000));
    let live = start_guarded(&clock, "Europe/Berlin").await;
    // ben has been on one contact for 21 minutes at T0: LongContact (20 min) fires.
    let n = send_all(
        &live,
        vec![
            agent(T0 - 1_270_000, "ben", AgentStatus::Available, None),
            queued(T0 - 1_265_000, "c-long", "support"),
            answered(T0 - 1_260_000, "c-long", "support", "ben"),
        ],
    )
    .await;
    clock.set(T0);
    wait_snapshot(live.daemon.published(), |s| s.engine.applied == n).await;
    let active = wait_alerts(&live.alerts, |a| {
        a.iter()
            .any(|x| x.alertname == "LongContact" && x.state == "firing")
    })
    .await;
    let alert = active
        .iter()
        .find(|x| x.alertname == "LongContact")
        .expect("LongContact");
    let fp = alert.fingerprint.clone();
    let auth = ccpulse::auth::Auth::new(Some("s3cret"));
    let (ticket, _) = auth.ack_ticket_lasting(&fp, 3_600_000).expect("ticket");

    let browser = Browser::launch().await;
    let page = browser.new_page().await;
    page.set_viewport(390, 844).await;
    page.navigate(&format!("http://{}/ack/{fp}?ticket={ticket}", live.addr))
        .await;
    page.wait_for("!document.getElementById('ack').hidden")
        .await;
    let shown = text(&page, "#alert").await;
    assert!(
        shown.contains(&alert.summary) && shown.contains("ℹ INFO · LongContact"),
        "{shown}"
    );
    // Since when, on the floor's (Berlin) clock, whatever zone the phone is in (UTC here),
    // in the browser's 12- or 24-hour style.
    let since = jiff::Timestamp::from_millisecond(alert.since_ms)
        .expect("since")
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Berlin").expect("zone"));
    let (h24, h12) = (since.strftime("since %H:%M"), since.strftime("since %I:%M"));
    assert!(
        shown.contains(&h24.to_string()) || shown.contains(&h12.to_string()),
        "{h24}: {shown}"
    );
    let acked = |alerts: &ccpulse::alerts::SharedAlerts| {
        alerts
            .lock()
            .expect("alerts")
            .active()
            .iter()
            .any(|x| x.fingerprint == fp && x.acknowledged)
    };
    assert!(
        !acked(&live.alerts),
        "loading the page acknowledges nothing"
    );
    page.eval("document.getElementById('ack').click()").await;
    let said = page
        .wait_for("(t => t.startsWith('✔ Acknowledged') && t)(document.getElementById('result').textContent)")
        .await;
    assert_eq!(
        said,
        "✔ Acknowledged: its repeats are silenced until it resolves."
    );
    assert!(acked(&live.alerts));
    page.screenshot(&artifact("ack-phone.png")).await;
    let errors = page.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:?}");

    // An expired link: said plainly, no button.
    let now = ccpulse::auth::wall_ms();
    let old = auth.ack_ticket_lasting(&fp, 1).expect("ticket").0;
    while ccpulse::auth::wall_ms() <= now + 1 {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    page.navigate(&format!("http://{}/ack/{fp}?ticket={old}", live.addr))
        .await;
    let said = page
        .wait_for("(t => t.startsWith('✖') && t)(document.getElementById('result').textContent)")
        .await;
    assert!(
        said.as_str().is_some_and(|t| t.contains("expired")),
        "{said}"
    );
    assert_eq!(
        page.eval("document.getElementById('ack').hidden").await,
        true
    );
    drop(browser);
    live.stop().await;
}

fn median_p95(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.95))
}

/// 50 queues, 500 agents, a steady flow of contacts and state changes: every step of
/// one second of event time gives the page one snapshot frame; the cost of applying it
/// (the page records script + style + layout around its render in
/// `window.__ccpulseRenderMs`) is collected over ≥ 20 frames after a warm-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium (scripts/test.sh installs it)"]
async fn wallboard_render_cost_at_50_queues_and_500_agents() {
    let _one = SERIAL.lock().await;
    const QUEUES: usize = 50;
    const AGENTS: usize = 500;
    const WARMUP: usize = 5;
    const MEASURED: usize = 30;
    let queues: Vec<String> = (0..QUEUES).map(|i| format!("q{i:02}")).collect();
    let start_ms: Millis = T0 - 60_000;
    let clock = Arc::new(ManualClock::new(start_ms - 1_000));
    // Ticks at 300 ms: the (debug-built) daemon's work per tick, which shares the two
    // cores with the browser, stays small next to what is measured.
    let mut cfg = fast_config();
    cfg.daemon.tick = ccpulse::config::Duration(300);
    let live = start(
        &cfg,
        FeedOptions::default(),
        clock.clone() as Arc<dyn Clock>,
    )
    .await;
    let mut events = Vec::new();
    for i in 0..AGENTS {
        let qs = [
            queues[i % QUEUES].as_str(),
            queues[(i + 1) % QUEUES].as_str(),
        ];
        let state = if i % 10 == 0 {
            AgentStatus::Aux
        } else {
            AgentStatus::Available
        };
        let reason = (state == AgentStatus::Aux).then_some("break");
        events.push(agent_in(
            start_ms,
            &format!("agent-{i:03}"),
            &format!("team-{}", i % 10),
            &qs,
            state,
            reason,
        ));
    }
    // One caller in each of the first ten queues who is never answered (alerts later).
    for (i, q) in queues.iter().enumerate().take(10) {
        events.push(queued(start_ms + 10 + i as i64, &format!("w{i}"), q));
    }
    let mut sent = send_all(&live, events).await;
    clock.set(start_ms + 3_000);
    wait_snapshot(live.daemon.published(), |s| s.engine.applied == sent).await;

    let browser = Browser::launch().await;
    let page = browser.new_page().await;
    page.navigate(&format!("http://{}/", live.addr)).await;
    page.wait_for(LIVE).await;
    // As many agent cards and queue rows as fit, then "+N more" (no scrolling).
    let grid = page
        .wait_for(
            "(() => { const cards = document.querySelectorAll('#agents .agent:not(.more)').length, \
             rows = document.querySelectorAll('#queues tr:not(.more)').length, \
             more = t => parseInt(((document.querySelector(t) || {}).textContent || '+0').slice(1)); \
             return cards + more('#agents .more .n') === 500 && rows + more('#queues .more td') === 50 \
               && [cards, rows]; })()",
        )
        .await;
    let (cards, rows): (usize, usize) = serde_json::from_value(grid).expect("counts");
    assert!((20..AGENTS).contains(&cards), "{cards} agent cards fit");
    assert!((10..QUEUES).contains(&rows), "{rows} queue rows fit");

    // Each step: one second of event time with 5 arrivals, 5 answers, 5 ends and 10
    // agent state changes, then the page gets the frame.
    let per = 5;
    let mut frames = 0u64;
    for k in 0..(WARMUP + MEASURED) as i64 {
        if k == WARMUP as i64 {
            // From here on, count what the page's updates do to the DOM: keyed updates
            // edit texts and classes in place, they do not rebuild rows and cards.
            page.eval(
                "(() => { window.__ccpulseDom = { elements: 0, records: 0 }; \
                 new MutationObserver(rs => { for (const r of rs) { \
                   window.__ccpulseDom.records++; \
                   for (const n of [...r.addedNodes, ...r.removedNodes]) \
                     if (n.nodeType === 1) window.__ccpulseDom.elements++; } }) \
                 .observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true }); \
                 return true; })()",
            )
            .await;
        }
        let base = start_ms + 2_000 + k * 1_000;
        let mut step = Vec::new();
        for j in 0..per {
            let n = k as usize * per + j;
            let q = &queues[n % QUEUES];
            step.push(queued(base + j as i64, &format!("c{n}"), q));
            if k >= 2 {
                let m = n - 2 * per;
                let who = format!("agent-{:03}", (m * 7) % AGENTS);
                step.push(answered(
                    base + 100 + j as i64,
                    &format!("c{m}"),
                    &queues[m % QUEUES],
                    &who,
                ));
            }
            if k >= 6 {
                step.push(ended(base + 200 + j as i64, &format!("c{}", n - 6 * per)));
            }
        }
        for j in 0..10 {
            let i = (k as usize * 37 + j * 53) % AGENTS;
            let state = if (k + j as i64) % 2 == 0 {
                AgentStatus::Aux
            } else {
                AgentStatus::Available
            };
            let reason = (state == AgentStatus::Aux).then_some("lunch");
            let qs = [
                queues[i % QUEUES].as_str(),
                queues[(i + 1) % QUEUES].as_str(),
            ];
            step.push(agent_in(
                base + 300 + j as i64,
                &format!("agent-{i:03}"),
                &format!("team-{}", i % 10),
                &qs,
                state,
                reason,
            ));
        }
        sent += send_all(&live, step).await;
        clock.set(base + 1_000 + 2_000);
        wait_snapshot(live.daemon.published(), |s| s.engine.applied == sent).await;
        page.wait_for(&format!("window.__ccpulseRenderMs.length > {frames}"))
            .await;
        // The last frame of this step is on screen before the next step starts.
        page.wait_for(&format!(
            "document.getElementById('applied').textContent === '{sent} events'"
        ))
        .await;
        frames = page
            .eval("window.__ccpulseRenderMs.length")
            .await
            .as_u64()
            .expect("frames");
    }
    let all: Vec<f64> =
        serde_json::from_value(page.eval("window.__ccpulseRenderMs").await).expect("numbers");
    let timer: Vec<f64> =
        serde_json::from_value(page.eval("window.__ccpulseTimerMs").await).expect("numbers");
    let mut parse: Vec<f64> =
        serde_json::from_value(page.eval("window.__ccpulseParseMs").await).expect("numbers");
    let (parse_median, parse_p95) = median_p95(&mut parse);
    let script: Vec<f64> =
        serde_json::from_value(page.eval("window.__ccpulseScriptMs").await).expect("numbers");
    let mut script = script[script.len().saturating_sub(MEASURED)..].to_vec();
    let (script_median, script_p95) = median_p95(&mut script);
    // Frames before the warm-up steps ended (first paint of 500 cards included) are left out.
    let skip = all.len().saturating_sub(MEASURED).max(WARMUP);
    let mut measured: Vec<f64> = all[skip..].to_vec();
    assert!(
        measured.len() >= 20,
        "{} frames measured of {}",
        measured.len(),
        all.len()
    );
    let (median, p95) = median_p95(&mut measured);
    let max = measured.last().copied().unwrap_or(0.0);
    let mut t = timer.clone();
    let (t_median, t_p95) = if t.is_empty() {
        (0.0, 0.0)
    } else {
        median_p95(&mut t)
    };
    let frame_bytes = get_json(live.addr, "/api/v1/snapshot")
        .await
        .to_string()
        .len();
    println!(
        "wallboard render, {QUEUES} queues × {AGENTS} agents: {} frames, median {median:.2} ms, \
         p95 {p95:.2} ms, max {max:.2} ms (first frame {:.1} ms; script alone: median {script_median:.2} ms, p95 {script_p95:.2} ms); local 1-s re-render: \
         {} samples, median {t_median:.2} ms, p95 {t_p95:.2} ms; JSON.parse of a frame: median \
         {parse_median:.2} ms, p95 {parse_p95:.2} ms (/api/v1/snapshot: {frame_bytes} bytes); \
         {cards} agent cards and {rows} queue rows on screen",
        measured.len(),
        all.first().copied().unwrap_or(0.0),
        timer.len(),
    );
    // The target (≤ 5 ms median) is a measurement (docs/benchmarks.md), not asserted:
    // wall time on a shared machine. What keeps it cheap is asserted: frames edit the
    // DOM in place, creating or removing no element once the board is drawn.
    let dom = page.eval("window.__ccpulseDom").await;
    println!("DOM changes over the {MEASURED} measured steps: {dom}");
    assert_eq!(dom["elements"], 0, "elements created or removed: {dom}");
    assert!(
        dom["records"].as_u64() > Some(0),
        "the observer saw the updates: {dom}"
    );

    // Many alerts: the ten unanswered callers pass 3 × T = 60 s (pending), then a minute more
    // (firing). The strip shows three and "+7 more", and nothing scrolls.
    // Those, and the callers of the last two steps (never answered), wait on.
    let snap = live.daemon.published().latest().expect("snapshot");
    let waiting_queues = snap.queues.iter().filter(|q| q.waiting > 0).count();
    assert!(waiting_queues >= 10, "{waiting_queues}");
    let now = start_ms + (WARMUP + MEASURED) as i64 * 1_000 + 4_000;
    clock.set(now + 125_000);
    wait_alerts(&live.alerts, |a| {
        a.iter()
            .filter(|x| x.alertname == "LongestWaitHigh")
            .count()
            == waiting_queues
    })
    .await;
    clock.set(now + 190_000);
    wait_alerts(&live.alerts, |a| {
        a.iter()
            .filter(|x| x.alertname == "LongestWaitHigh" && x.state == "firing")
            .count()
            == waiting_queues
    })
    .await;
    let firing = live
        .alerts
        .lock()
        .expect("alerts")
        .active()
        .iter()
        .filter(|a| a.state == "firing")
        .count();
    page.wait_for("document.querySelectorAll('#alerts .alert').length === 3")
        .await;
    let more = page
        .wait_for("(document.querySelector('#alerts .more') || {}).textContent")
        .await;
    assert_eq!(more, serde_json::json!(format!("+{} more", firing - 3)));
    let layout = page
        .eval(
            "(() => { const d = document.documentElement, s = document.getElementById('alerts').getBoundingClientRect(), \
             m = document.getElementById('main').getBoundingClientRect(); \
             return [d.scrollWidth, d.scrollHeight, innerWidth, innerHeight, s.bottom <= m.top, s.right <= innerWidth]; })()",
        )
        .await;
    assert_eq!(
        layout,
        serde_json::json!([1920, 1080, 1920, 1080, true, true]),
        "no scrolling at 1920×1080, the strip above the panels"
    );
    page.screenshot(&artifact("wallboard-50q-500a.png")).await;
    // On a phone the page scrolls: ten alerts, then "+N more".
    page.set_viewport(390, 844).await;
    page.wait_for(&format!(
        "document.querySelectorAll('#alerts .alert').length === {}",
        firing.min(10)
    ))
    .await;
    let more = page
        .eval("(document.querySelector('#alerts .more') || {}).textContent || ''")
        .await;
    let want = if firing > 10 {
        format!("+{} more", firing - 10)
    } else {
        String::new()
    };
    assert_eq!(more, serde_json::json!(want), "{firing} firing");
    let errors = page.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    drop(browser);
    live.stop().await;
}
