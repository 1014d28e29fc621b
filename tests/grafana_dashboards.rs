//! The Grafana dashboards in `dashboards/grafana/`:
//! - every file is JSON with what Grafana needs to import it (title, unique uid, panels
//!   with id / type / gridPos / targets, schemaVersion, templating, the Prometheus data
//!   source as a variable) — always run;
//! - `#[ignore]`d (`scripts/test.sh` runs it; needs the Debian package `prometheus`): a
//!   real Prometheus scrapes the in-process daemon fed with scripted events, and every
//!   PromQL expression of every dashboard (panel targets and variable queries) is
//!   executed against it: each must parse and return data.

#[path = "common/prometheus.rs"]
mod prom;

use ccpulse::config::Config;
use ccpulse::model::{
    AgentStateChange, AgentStatus, Channel, Event, EventBody, ExitReason, Millis,
};
use ccpulse::outputs::{http, metrics};
use ccpulse::runtime::{DaemonBuilder, ManualClock, RuntimeOptions};
use prom::{binary, Prometheus, DEADLINE};
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Grafana variables every dashboard may use without defining them.
const BUILTINS: &[&str] = &["__range", "__rate_interval", "__interval"];

fn dashboards() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dashboards/grafana");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 4,
        "dashboards in {}: {files:?}",
        dir.display()
    );
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).expect("read dashboard");
            let v: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
            (name, v)
        })
        .collect()
}

/// Every panel, rows' nested panels included.
fn panels(dash: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for p in dash["panels"].as_array().into_iter().flatten() {
        out.push(p);
        out.extend(p["panels"].as_array().into_iter().flatten());
    }
    out
}

/// The name of the dashboard's `datasource` variable (type `datasource`, Prometheus).
fn datasource_var(dash: &Value) -> Option<&str> {
    dash["templating"]["list"]
        .as_array()?
        .iter()
        .find(|v| v["type"] == "datasource" && v["query"] == "prometheus")
        .and_then(|v| v["name"].as_str())
}

/// Names of `$name` / `${name}` references in a string.
fn var_refs(s: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            let mut j = i + 1;
            let braced = b.get(j) == Some(&b'{');
            if braced {
                j += 1;
            }
            let start = j;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            if j > start {
                out.insert(s[start..j].to_string());
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// Every PromQL expression of a dashboard: (where, expr). Variable queries
/// `label_values(selector, label)` become `count by (label) (selector)`.
fn expressions(dash: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in panels(dash) {
        for t in p["targets"].as_array().into_iter().flatten() {
            if let Some(e) = t["expr"].as_str() {
                let at = format!("panel {:?} target {}", p["title"], t["refId"]);
                out.push((at, e.to_string()));
            }
        }
    }
    for v in dash["templating"]["list"].as_array().into_iter().flatten() {
        if v["type"] != "query" {
            continue;
        }
        let q = v["query"]["query"]
            .as_str()
            .or(v["query"].as_str())
            .unwrap();
        let inner = q
            .strip_prefix("label_values(")
            .and_then(|r| r.strip_suffix(')'))
            .unwrap_or_else(|| panic!("variable {}: only label_values(…) is used: {q}", v["name"]));
        let (selector, label) = inner
            .rsplit_once(',')
            .expect("label_values(selector, label)");
        out.push((
            format!("variable {}", v["name"]),
            format!("count by ({}) ({selector})", label.trim()),
        ));
    }
    out
}

/// The expression as Grafana would send it with every query variable at "All" (`.*`)
/// and the range/interval variables at fixed values.
fn substitute(dash: &Value, expr: &str) -> String {
    let mut e = expr
        .replace("$__rate_interval", "1m")
        .replace("$__range", "1h")
        .replace("$__interval", "15s");
    for v in dash["templating"]["list"].as_array().into_iter().flatten() {
        if v["type"] == "query" || v["type"] == "custom" {
            let name = v["name"].as_str().unwrap();
            e = e
                .replace(&format!("${{{name}}}"), ".*")
                .replace(&format!("${name}"), ".*");
        }
    }
    assert!(!e.contains('$'), "unsubstituted variable in {e}");
    e
}

#[test]
fn dashboards_have_what_grafana_needs_to_import_them() {
    let mut uids = HashSet::new();
    for (name, d) in dashboards() {
        let title = d["title"].as_str().unwrap_or_default();
        assert!(!title.is_empty(), "{name}: title");
        let uid = d["uid"].as_str().unwrap_or_default();
        assert!(!uid.is_empty() && uid.len() <= 40, "{name}: uid {uid:?}");
        assert!(
            uids.insert(uid.to_string()),
            "{name}: uid {uid} is not unique"
        );
        let schema = d["schemaVersion"].as_u64().unwrap_or(0);
        assert!(schema >= 36, "{name}: schemaVersion {schema}");
        let vars = d["templating"]["list"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: templating.list"));

        // The data source is a variable: `__inputs` makes the import ask for it, and the
        // `datasource` variable lets the viewer switch it.
        let input = d["__inputs"]
            .as_array()
            .and_then(|i| i.iter().find(|i| i["name"] == "DS_PROMETHEUS"))
            .unwrap_or_else(|| panic!("{name}: __inputs DS_PROMETHEUS"));
        assert_eq!(input["type"], "datasource", "{name}");
        assert_eq!(input["pluginId"], "prometheus", "{name}");
        let ds = datasource_var(&d).unwrap_or_else(|| panic!("{name}: no datasource variable"));
        let ds_ref = format!("${{{ds}}}");
        let defined: HashSet<&str> = vars.iter().filter_map(|v| v["name"].as_str()).collect();
        for v in vars {
            assert!(v["name"].is_string(), "{name}: variable without name: {v}");
            if v["type"] == "query" {
                assert_eq!(
                    v["datasource"]["uid"],
                    ds_ref.as_str(),
                    "{name}: {}",
                    v["name"]
                );
                assert_eq!(
                    v["datasource"]["type"], "prometheus",
                    "{name}: {}",
                    v["name"]
                );
            }
        }

        let all = panels(&d);
        assert!(!all.is_empty(), "{name}: panels");
        let mut ids = HashSet::new();
        for p in all {
            let ptitle = &p["title"];
            let id = p["id"]
                .as_u64()
                .unwrap_or_else(|| panic!("{name}: panel {ptitle} without id"));
            assert!(ids.insert(id), "{name}: panel id {id} twice");
            let ty = p["type"].as_str().unwrap_or_default();
            assert!(!ty.is_empty(), "{name}: panel {ptitle} type");
            let g = &p["gridPos"];
            for k in ["h", "w", "x", "y"] {
                assert!(g[k].is_u64(), "{name}: panel {ptitle} gridPos.{k}: {g}");
            }
            assert!(
                g["x"].as_u64().unwrap() + g["w"].as_u64().unwrap() <= 24,
                "{name}: panel {ptitle} wider than the grid: {g}"
            );
            if ty == "row" || ty == "text" {
                continue;
            }
            assert_eq!(p["datasource"]["uid"], ds_ref.as_str(), "{name}: {ptitle}");
            let targets = p["targets"]
                .as_array()
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| panic!("{name}: panel {ptitle} without targets"));
            let mut refs = HashSet::new();
            for t in targets {
                let r = t["refId"].as_str().unwrap_or_default();
                assert!(
                    !r.is_empty() && refs.insert(r),
                    "{name}: {ptitle} refId {r:?}"
                );
                assert!(
                    t["expr"].as_str().is_some_and(|e| !e.trim().is_empty()),
                    "{name}: {ptitle} target {r} without expr"
                );
                assert_eq!(t["datasource"]["uid"], ds_ref.as_str(), "{name}: {ptitle}");
            }
            if ty == "stat" {
                // Readable on a wall TV: coloured background, value and name.
                assert_eq!(p["options"]["colorMode"], "background", "{name}: {ptitle}");
                assert_eq!(
                    p["options"]["textMode"], "value_and_name",
                    "{name}: {ptitle}"
                );
            }
        }

        // No two panels share a grid cell (Grafana would shuffle them on load).
        let cells: Vec<(u64, u64, u64, u64, &Value)> = d["panels"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                let g = &p["gridPos"];
                let n = |k: &str| g[k].as_u64().unwrap();
                (n("x"), n("y"), n("w"), n("h"), &p["title"])
            })
            .collect();
        for (i, a) in cells.iter().enumerate() {
            for b in &cells[i + 1..] {
                let apart =
                    a.0 + a.2 <= b.0 || b.0 + b.2 <= a.0 || a.1 + a.3 <= b.1 || b.1 + b.3 <= a.1;
                assert!(apart, "{name}: panels {} and {} overlap", a.4, b.4);
            }
        }

        // Every variable an expression uses is defined (or a Grafana built-in).
        for (at, e) in expressions(&d) {
            for v in var_refs(&e) {
                assert!(
                    defined.contains(v.as_str()) || BUILTINS.contains(&v.as_str()),
                    "{name}: {at} uses undefined ${v}: {e}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------- real Prometheus

const T0: Millis = ccpulse::sim::DEFAULT_START;
/// Each phase of the script spans this much event time.
const PHASE: Millis = 120_000;
/// Contacts arriving per phase.
const ARRIVALS_PER_PHASE: usize = 6;

fn ev(ts: Millis, body: EventBody) -> Event {
    Event { ts, id: None, body }
}

fn agent(ts: Millis, name: &str, team: &str, queues: &[&str], state: AgentStatus) -> Event {
    let reason = (state == AgentStatus::Aux).then(|| "break".into());
    ev(
        ts,
        EventBody::AgentState(Box::new(AgentStateChange {
            agent: name.into(),
            state,
            reason,
            team: Some(team.into()),
            queues: Some(queues.iter().map(|q| (*q).into()).collect()),
            name: None,
            explicit: true,
        })),
    )
}

fn queued(ts: Millis, contact: &str, queue: &str, channel: Channel) -> Event {
    ev(
        ts,
        EventBody::ContactQueued {
            contact: contact.into(),
            queue: queue.into(),
            channel,
        },
    )
}

/// One phase of activity from `base` (event time), contact ids suffixed with `k`: in
/// `sales` (team `blue`: `a1` available, `a2` in aux) a voice contact answered after
/// 10 s with hold, ended after 60 s; a short abandon; a chat abandoned after 30 s; a
/// voice timeout exit; a voice contact still waiting; in `support` (team `red`, `a3`)
/// an email answered and transferred.
fn phase(k: usize, base: Millis) -> Vec<Event> {
    let c = |n: u32| format!("c{k}-{n}");
    let s = |secs: i64| base + secs * 1000;
    vec![
        agent(base, "a1", "blue", &["sales"], AgentStatus::Available),
        agent(base, "a2", "blue", &["sales"], AgentStatus::Aux),
        agent(base, "a3", "red", &["support"], AgentStatus::Available),
        queued(s(1), &c(1), "sales", Channel::Voice),
        queued(s(2), &c(2), "sales", Channel::Voice),
        queued(s(3), &c(3), "sales", Channel::Chat),
        ev(
            s(4),
            EventBody::ContactAbandoned {
                contact: c(2).into(),
                queue: "sales".into(),
                wait_ms: None,
            },
        ),
        queued(s(5), &c(5), "sales", Channel::Voice),
        queued(s(6), &c(6), "support", Channel::Email),
        ev(
            s(8),
            EventBody::ContactAnswered {
                contact: c(6).into(),
                queue: "support".into(),
                agent: "a3".into(),
                wait_ms: None,
            },
        ),
        ev(
            s(11),
            EventBody::ContactAnswered {
                contact: c(1).into(),
                queue: "sales".into(),
                agent: "a1".into(),
                wait_ms: None,
            },
        ),
        ev(
            s(20),
            EventBody::ContactHold {
                contact: c(1).into(),
                queue: None,
            },
        ),
        ev(
            s(25),
            EventBody::ContactUnhold {
                contact: c(1).into(),
                queue: None,
            },
        ),
        ev(
            s(30),
            EventBody::ContactTransferred {
                contact: c(6).into(),
                queue: None,
                to: None,
                talk_ms: None,
            },
        ),
        ev(
            s(33),
            EventBody::ContactAbandoned {
                contact: c(3).into(),
                queue: "sales".into(),
                wait_ms: None,
            },
        ),
        queued(s(40), &c(4), "sales", Channel::Voice),
        ev(
            s(50),
            EventBody::ContactExited {
                contact: c(5).into(),
                queue: "sales".into(),
                reason: ExitReason::Timeout,
                wait_ms: None,
            },
        ),
        ev(
            s(71),
            EventBody::ContactEnded {
                contact: c(1).into(),
                queue: None,
                talk_ms: None,
            },
        ),
    ]
}

/// Whether an instant-query answer holds at least one value that is a number (not NaN).
fn has_number(answer: &Value) -> bool {
    answer["data"]["result"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["value"][1].as_str())
        .any(|x| x.parse::<f64>().is_ok_and(|x| !x.is_nan()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the Debian package `prometheus` (scripts/test.sh installs it)"]
async fn every_dashboard_expression_runs_on_a_real_prometheus() {
    let prometheus = binary("prometheus");

    let mut cfg = Config::default();
    cfg.daemon.tick = ccpulse::config::Duration(100);
    // The per-agent panels need the per-agent series.
    cfg.metrics.per_agent = true;
    // The target panels need targets: team blue meets AHT and misses aux share (a2).
    cfg.teams.entry("blue".into()).or_default().targets = ccpulse::config::Targets {
        aht: Some(ccpulse::config::Duration::mins(10)),
        max_aux_share: Some(0.2),
        ..Default::default()
    };
    let clock = Arc::new(ManualClock::new(T0));
    let mut builder = DaemonBuilder::new(&cfg, RuntimeOptions::from_config(&cfg)).expect("daemon");
    let feed = builder.handle("script").expect("handle");
    // The schedule panels: all three agents scheduled to work through the run, so a2
    // (in aux) is out of adherence and the teams' adherence is measured.
    let transitions = builder.agent_transitions();
    let schedule = Arc::new(ccpulse::schedule::ScheduleService::new(
        &cfg,
        jiff::tz::TimeZone::UTC,
    ));
    let iso = |ms: Millis| {
        jiff::Timestamp::from_millisecond(ms)
            .map(|t| t.to_string())
            .expect("timestamp")
    };
    let (from, to) = (iso(T0 - 3_600_000), iso(T0 + 8 * 3_600_000));
    let csv: String = [("a1", "blue"), ("a2", "blue"), ("a3", "red")]
        .iter()
        .map(|(a, team)| format!("{a},{from},{to},work,{team}\n"))
        .collect();
    assert_eq!(schedule.replace(csv.as_bytes(), "test").accepted, 3);
    let daemon = builder.start(clock.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    // The built-in alert rules, for `ccpulse_alerts_firing`: the caller of each phase
    // who is never answered makes `LongestWaitHigh` fire in `sales` during phase 2.
    let alerts: ccpulse::alerts::SharedAlerts =
        Arc::new(std::sync::Mutex::new(ccpulse::alerts::AlertEngine::new(
            ccpulse::alerts::default_rules(),
            jiff::tz::TimeZone::UTC,
        )));
    let _alert_task = ccpulse::alerts::spawn_with(
        daemon.published().clone(),
        alerts.clone(),
        ccpulse::alerts::AlertContext {
            schedule: Some(schedule.clone()),
            transitions: Some(transitions),
            ..Default::default()
        },
        daemon.shutdown_signal(),
        ccpulse::alerts::notify::Dispatcher::log_only(&ccpulse::alerts::default_rules()),
    );
    let firing = alerts.clone();
    let router = http::router_with(
        daemon.published().clone(),
        metrics::MetricsOptions::from_config(&cfg)
            .with_alerts(Arc::new(move || {
                firing.lock().map(|a| a.firing_counts()).unwrap_or_default()
            }))
            .with_schedule(Arc::new(move || schedule.latest())),
    );
    let mut stop = daemon.shutdown_signal();
    let server = tokio::spawn(http::serve_router(listener, router, async move {
        stop.wait().await
    }));
    feed.set_up(true);
    let mut prom = Prometheus::start(&prometheus, addr);
    prom.wait_value(r#"up{job="ccpulse"} == 1"#, |_| true).await;

    // Three phases, each scraped before the next: the counters increase between
    // scrapes, so rates and ratios over the windows have data.
    for k in 0..3 {
        let base = T0 + k as Millis * PHASE;
        for e in phase(k, base) {
            feed.send(e).await.expect("sent");
        }
        clock.set(base + PHASE - 10_000);
        let arrived = ((k + 1) * ARRIVALS_PER_PHASE) as f64;
        prom.wait_value(
            &format!("sum(ccpulse_contacts_arrived_total) == {arrived}"),
            |_| true,
        )
        .await;
    }
    prom.wait_value(
        r#"sum(ccpulse_alerts_firing{alertname="LongestWaitHigh"}) >= 1"#,
        |_| true,
    )
    .await;
    // The schedule reached Prometheus: a2 (blue, in aux through work) is off plan.
    prom.wait_value(
        r#"ccpulse_agents_out_of_adherence{team="blue"} == 1"#,
        |_| true,
    )
    .await;
    // A few more scrapes so that every `[1m]` window holds several samples.
    prom.wait_value(r#"count_over_time(up{job="ccpulse"}[1m]) >= 5"#, |_| true)
        .await;

    let mut failures = Vec::new();
    let mut ran = 0;
    for (name, d) in dashboards() {
        for (at, expr) in expressions(&d) {
            let q = substitute(&d, &expr);
            ran += 1;
            let answer = tokio::time::timeout(DEADLINE, async {
                loop {
                    if let Some(a) = prom.query(&q).await {
                        return a;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
            .await
            .unwrap_or_else(|_| panic!("prometheus did not answer {q}"));
            if answer["status"] != "success" {
                failures.push(format!("{name}: {at}: does not run: {answer}\n  {q}"));
            } else if answer["data"]["result"]
                .as_array()
                .is_none_or(|r| r.is_empty())
            {
                failures.push(format!("{name}: {at}: no data\n  {q}"));
            } else if !has_number(&answer) {
                // 0/0 (a window with no counts) would show NaN on the panel.
                failures.push(format!("{name}: {at}: only NaN: {answer}\n  {q}"));
            }
        }
    }
    assert!(ran > 50, "only {ran} expressions");
    assert!(
        failures.is_empty(),
        "{} of {ran} expressions failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    drop(prom);

    daemon.shutdown().await.expect("clean shutdown");
    server.await.expect("server task").expect("server");
}
