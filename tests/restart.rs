//! Restart without loss, as an operator would see it: the daemon tails a file, is killed
//! with SIGKILL mid-stream, more lines arrive, it is started again — and its numbers equal
//! `ccpulse replay` of the whole file: no event lost, none counted twice.

#[path = "common/daemon.rs"]
mod daemon;
#[path = "common/report_json.rs"]
mod report_json;
#[path = "common/restart_support.rs"]
mod restart_support;
use daemon::{http, DaemonChild};
use restart_support::{
    assert_queues_equal, get, morning, poll_until, sim_lines, start, wait_applied, wait_checkpoint,
    write_config,
};

use ccpulse::config::Config;
use ccpulse::decode::FormatChoice;
use ccpulse::replay::{replay, Input};
use std::io::{BufReader, Write};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The `[[sources]]` section tailing `log` (JSON lines) from its beginning.
fn file_source(log: &Path) -> String {
    format!(
        "[[sources]]\nkind = \"file\"\nname = \"adapter\"\npath = \"{}\"\nformat = \"jsonl\"\nstart_at = \"beginning\"\npoll_interval = \"50ms\"\n",
        log.display()
    )
}

/// A simulated morning (from [`morning`]).
fn lines() -> Vec<Vec<u8>> {
    sim_lines(5, 3)
}

/// A temporary data directory, the log a daemon will tail and its config (checkpoints
/// every 200 ms).
fn tailing_setup() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("events.jsonl");
    let cfg_path = dir.path().join("ccpulse.toml");
    write_config(
        &cfg_path,
        &dir.path().join("data"),
        "checkpoint_interval = \"200ms\"",
        &file_source(&log),
    );
    (dir, log, cfg_path)
}

/// `ccpulse replay` of the log under the daemon's settings (no allowed lateness).
fn replay_file(log: &Path) -> ccpulse::replay::Replayed {
    let mut cfg = Config::default();
    cfg.engine.allowed_lateness = ccpulse::config::Duration(0);
    let input = Input {
        label: "log".into(),
        reader: Box::new(BufReader::new(std::fs::File::open(log).expect("log"))),
    };
    replay(vec![input], &cfg, FormatChoice::Auto).expect("replay")
}

#[test]
fn sigkill_mid_stream_then_resume_equals_one_uninterrupted_replay() {
    let (dir, log, cfg_path) = tailing_setup();
    let all = lines();
    let cut = all.len() * 3 / 5;
    std::fs::write(&log, all[..cut].concat()).expect("first part");

    let (mut first, addr) = start(&cfg_path);
    wait_applied(&addr, cut as u64);
    wait_checkpoint(&dir.path().join("data/engine.json"), cut as u64);
    first.kill().expect("SIGKILL");
    let _ = first.wait();

    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .expect("append");
    f.write_all(&all[cut..].concat()).expect("second part");
    drop(f);

    let (mut second, addr) = start(&cfg_path);
    let snap = wait_applied(&addr, all.len() as u64);
    let _ = second.kill();
    let _ = second.wait();

    // The same file replayed in one go, under the same settings.
    let mut replayed = replay_file(&log);
    let report = replayed.report();
    assert_eq!(report.input().duplicates + report.input().late, 0);
    assert_queues_equal(&snap, &report);
}

/// The schedule view once it is at the engine's watermark `w`.
fn schedule_at(addr: &str, w: i64) -> serde_json::Value {
    poll_until(30, || {
        get(addr, "/api/v1/schedule")
            .filter(|v| v["watermark_ms"].as_i64() == Some(w))
            .ok_or_else(|| format!("no schedule view at {w}"))
    })
}

/// How the daemon is stopped between parts.
#[derive(Clone, Copy, PartialEq)]
enum Stop {
    /// SIGKILL once the periodic checkpoint covers the part.
    Kill,
    /// SIGTERM (a clean shutdown saves everything).
    Term,
}

/// Runs the daemon on `log` (holding `parts` one after the other, stopped after each
/// but the last) and returns the schedule view at the end.
fn schedule_after(
    dir: &Path,
    schedule_csv: &str,
    parts: &[&[Vec<u8>]],
    stop: Stop,
) -> serde_json::Value {
    let log = dir.join("events.jsonl");
    let cfg_path = dir.join("ccpulse.toml");
    let csv = dir.join("schedule.csv");
    std::fs::write(&csv, schedule_csv).expect("schedule");
    // A clean stop must save everything itself: no periodic checkpoint to fall back on.
    let every = if stop == Stop::Term { "1h" } else { "200ms" };
    write_config(
        &cfg_path,
        &dir.join("data"),
        &format!("checkpoint_interval = \"{every}\""),
        &format!(
            "[schedule]\nfile = \"{}\"\n{}",
            csv.display(),
            file_source(&log)
        ),
    );
    let mut sent = 0;
    for (i, part) in parts.iter().enumerate() {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log");
        f.write_all(&part.concat()).expect("append");
        drop(f);
        sent += part.len() as u64;
        let (mut daemon, addr) = start(&cfg_path);
        let snap = wait_applied(&addr, sent);
        if i + 1 == parts.len() {
            let w = snap["watermark_ms"].as_i64().expect("watermark");
            let view = schedule_at(&addr, w);
            let _ = daemon.kill();
            let _ = daemon.wait();
            return view;
        }
        if stop == Stop::Term {
            terminate(daemon);
            continue;
        }
        wait_checkpoint(&dir.join("data/engine.json"), sent);
        daemon.kill().expect("SIGKILL");
        let _ = daemon.wait();
    }
    unreachable!("at least one part")
}

#[test]
fn sigkill_or_sigterm_mid_stream_keeps_todays_adherence() {
    let all = lines();
    // Every agent of the log: on shift 07:00–12:00, a break at 09:00 and lunch at
    // 10:00 (the simulated agents take theirs when they like: some adhere, some not).
    let mut agents: Vec<String> = all
        .iter()
        .filter_map(|l| serde_json::from_slice::<serde_json::Value>(l).ok())
        .filter_map(|v| v["agent"].as_str().map(String::from))
        .collect();
    agents.sort();
    agents.dedup();
    let day = morning() - 8 * 3_600_000;
    let at = |h: i64, m: i64| {
        jiff::Timestamp::from_millisecond(day + (h * 60 + m) * 60_000)
            .expect("time")
            .to_string()
    };
    let mut csv = String::from("agent,start,end,activity\n");
    for a in &agents {
        csv += &format!("{a},{},{},work\n", at(7, 0), at(12, 0));
        csv += &format!("{a},{},{},break\n", at(9, 0), at(9, 15));
        csv += &format!("{a},{},{},lunch\n", at(10, 0), at(10, 30));
    }
    let cut = all.len() * 3 / 5;
    let whole = tempfile::tempdir().expect("tempdir");
    let want = schedule_after(whole.path(), &csv, &[&all], Stop::Kill);
    for stop in [Stop::Kill, Stop::Term] {
        let dir = tempfile::tempdir().expect("tempdir");
        let got = schedule_after(dir.path(), &csv, &[&all[..cut], &all[cut..]], stop);
        same_adherence(&want, &got, agents.len());
    }
}

/// The two views agree on every agent's adherence and on the late returns.
fn same_adherence(want: &serde_json::Value, got: &serde_json::Value, agents: usize) {
    let by_agent = |v: &serde_json::Value| -> Vec<(String, serde_json::Value)> {
        v["agents"]
            .as_array()
            .expect("agents")
            .iter()
            .map(|a| (a["agent"].as_str().expect("id").to_string(), a.clone()))
            .collect()
    };
    let (want_agents, got_agents) = (by_agent(want), by_agent(got));
    assert_eq!(want_agents.len(), agents, "every agent is scheduled");
    assert_eq!(got_agents.len(), agents);
    // Not a trivial day: some time adherent, some not.
    let share: Vec<f64> = want_agents
        .iter()
        .filter_map(|(_, a)| a["adherence_today"].as_f64())
        .collect();
    assert!(share.iter().any(|&x| x > 0.0 && x < 1.0), "{share:?}");
    for ((name, w), (_, g)) in want_agents.iter().zip(&got_agents) {
        for k in [
            "adherent_seconds_today",
            "scheduled_seconds_today",
            "adherence_today",
            "tracked_since_ms",
            "state",
            "no_show_seconds",
            "break_overrun_seconds",
        ] {
            assert_eq!(g[k], w[k], "{name}.{k} after a stop and a restart");
        }
    }
    assert_eq!(got["late_returns"], want["late_returns"]);
}

/// `PUT /api/v1/schedule`: the daemon's answer status.
fn put_schedule(addr: &str, csv: &str) -> u16 {
    http(addr, "PUT", "/api/v1/schedule", "", csv)
        .expect("request")
        .0
}

fn terminate(mut daemon: DaemonChild) {
    let status = Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    assert!(daemon.wait().expect("exit").success(), "clean exit");
}

/// The schedule's import as the daemon reports it, once one is loaded from `source` (a
/// prefix: `api`, `file:`, `""` for any).
fn schedule_import(addr: &str, source: &str) -> serde_json::Value {
    poll_until(30, || {
        get(addr, "/api/v1/schedule")
            .map(|v| v["import"].clone())
            .filter(|i| {
                i["source"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty() && s.starts_with(source))
            })
            .ok_or_else(|| format!("no schedule from {source}"))
    })
}

#[test]
fn an_uploaded_schedule_survives_a_restart_until_the_file_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg_path = dir.path().join("ccpulse.toml");
    let file = dir.path().join("schedule.csv");
    let from_file = "agent,start,end,activity\na1,2030-01-02T08:00:00Z,2030-01-02T16:00:00Z,work\n";
    std::fs::write(&file, from_file).expect("schedule file");
    write_config(
        &cfg_path,
        &dir.path().join("data"),
        "demo = false",
        &format!(
            "[schedule]\nfile = \"{}\"\npoll_interval = \"100ms\"\n",
            file.display()
        ),
    );
    let (daemon, addr) = start(&cfg_path);
    assert_eq!(schedule_import(&addr, "file:")["accepted"], 1, "the file");
    let uploaded = "agent,start,end,activity\na1,2030-01-02T08:00:00Z,2030-01-02T16:00:00Z,work\n\
                    a2,2030-01-02T08:00:00Z,2030-01-02T16:00:00Z,work\n";
    assert_eq!(put_schedule(&addr, uploaded), 200);
    assert_eq!(schedule_import(&addr, "api")["accepted"], 2);
    terminate(daemon);

    // Restarted: the upload is back, and the unchanged file does not replace it.
    let (daemon, addr) = start(&cfg_path);
    assert_eq!(
        schedule_import(&addr, "")["source"],
        "api",
        "the upload, first"
    );
    std::thread::sleep(Duration::from_millis(500));
    let import = schedule_import(&addr, "");
    assert_eq!(
        (&import["source"], &import["accepted"]),
        (&"api".into(), &2.into()),
        "the file did not change"
    );
    terminate(daemon);

    // The file changes while the daemon is down: it is newer than the upload, so it wins.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&file, format!("{from_file}# edited\n")).expect("edit");
    let (daemon, addr) = start(&cfg_path);
    assert_eq!(schedule_import(&addr, "")["accepted"], 1, "the file");
    terminate(daemon);
}

/// `GET path` as text with its status.
fn get_text(addr: &str, path: &str) -> (u16, String) {
    http(addr, "GET", path, "", "").expect("request")
}

/// Each entity's interval rows of a report, by name.
fn rows_by_entity(report: &serde_json::Value, kind: &str) -> Vec<(String, Vec<serde_json::Value>)> {
    report_json::per_entity(report, kind, |e| {
        e["intervals"].as_array().expect("rows").clone()
    })
}

#[test]
fn the_days_report_equals_the_replays_rows_and_survives_a_sigkill() {
    let (dir, log, cfg_path) = tailing_setup();
    let all = lines();
    std::fs::write(&log, all.concat()).expect("log");
    let date = jiff::Timestamp::from_millisecond(morning())
        .expect("time")
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
        .to_string();
    let path = format!("/api/v1/report?date={date}");

    let (mut first, addr) = start(&cfg_path);
    wait_applied(&addr, all.len() as u64);
    let (status, body) = get_text(&addr, &path);
    assert_eq!(status, 200, "{body}");
    let before: serde_json::Value = serde_json::from_str(&body).expect("report json");
    wait_checkpoint(&dir.path().join("data/engine.json"), all.len() as u64);
    first.kill().expect("SIGKILL");
    let _ = first.wait();

    let (mut second, addr) = start(&cfg_path);
    wait_applied(&addr, all.len() as u64);
    let (_, body) = get_text(&addr, &path);
    let after: serde_json::Value = serde_json::from_str(&body).expect("report json");
    let (csv_status, csv_head, csv) =
        daemon::http_with_head(&addr, "GET", &format!("{path}&output=csv"), "", "")
            .expect("request");
    let (week_status, week_head, week_csv) =
        daemon::http_with_head(&addr, "GET", "/api/v1/report?week=this&output=csv", "", "")
            .expect("request");
    let (_, team_a) = get_text(&addr, &format!("{path}&teams=team-a&queues=sales"));
    let bad = get_text(&addr, "/api/v1/report?date=tomorrow").0;
    let (_, yesterday) = get_text(&addr, "/api/v1/report?date=yesterday");
    let old = get_text(&addr, "/api/v1/report?date=2020-01-01");
    let _ = second.kill();
    let _ = second.wait();
    assert_eq!(
        after, before,
        "the day's report after a SIGKILL and a restart"
    );

    // The replay of the same file: every interval the daemon has closed (all but the
    // one its event time is still in) has the replay's row, field for field.
    let mut replayed = replay_file(&log);
    let want = serde_json::to_value(replayed.report()).expect("replay json");
    let to = ms(&after["to"]);
    let mut compared = 0;
    for kind in ["queues", "agents", "teams"] {
        let live = rows_by_entity(&after, kind);
        assert!(!live.is_empty(), "{kind} in the live report");
        for (name, rows) in rows_by_entity(&want, kind) {
            let closed: Vec<_> = rows
                .into_iter()
                .filter(|r| ms(&r["start"]) + 900_000 <= to)
                .collect();
            let got = live
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, r)| r.clone())
                .unwrap_or_default();
            assert_eq!(got, closed, "{kind} {name}: the closed intervals' rows");
            compared += closed.len();
        }
    }
    assert!(compared > 100, "only {compared} rows compared");

    // CSV: one line per row; a team's agents; errors that say what is wrong.
    assert_eq!(csv_status, 200);
    assert!(
        csv_head.contains(&format!("attachment; filename=\"ccpulse-day-{date}.csv\"")),
        "{csv_head}"
    );
    // This week's CSV: one row per entity and local day, named after its Monday.
    assert_eq!(week_status, 200, "{week_csv}");
    assert!(
        csv_head
            .lines()
            .any(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            && week_head.contains("filename=\"ccpulse-week-"),
        "{week_head}"
    );
    let week_rows: Vec<&str> = week_csv.lines().skip(1).collect();
    assert!(!week_rows.is_empty(), "{week_csv}");
    for row in &week_rows {
        let start = row.split(',').nth(2).unwrap_or_default();
        assert!(start.ends_with("T00:00:00Z"), "a day row: {row}");
    }
    let rows: usize = ["queues", "agents", "teams"]
        .iter()
        .flat_map(|k| rows_by_entity(&after, k))
        .map(|(_, r)| r.len())
        .sum();
    assert!(csv.starts_with("kind,name,start,"), "{csv}");
    assert_eq!(
        csv.lines().count(),
        rows + 1,
        "a header and one line per row"
    );
    let team_a: serde_json::Value = serde_json::from_str(&team_a).expect("json");
    let queues: Vec<_> = rows_by_entity(&team_a, "queues")
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(queues, ["sales"]);
    let teams: Vec<_> = rows_by_entity(&team_a, "teams")
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(teams, ["team-a"], "the team filter keeps that team's row");
    let agents = rows_by_entity(&team_a, "agents").len();
    assert!(
        agents > 0 && agents < rows_by_entity(&after, "agents").len(),
        "{agents} agents of team-a"
    );
    assert_eq!(bad, 400, "a date that is not one");
    let yesterday: serde_json::Value = serde_json::from_str(&yesterday).expect("json");
    assert_eq!(
        (
            yesterday["queues"].as_array().map(Vec::len),
            &yesterday["from"]
        ),
        (
            Some(0),
            &serde_json::Value::from(format!("{}T00:00:00Z", prev_day(&date)))
        ),
        "the day before the tailed morning: nothing happened"
    );
    assert_eq!(old.0, 404, "a day older than the kept ones");
    assert!(old.1.contains("report_days"), "{}", old.1);
}

/// Milliseconds of an RFC 3339 string value.
fn ms(v: &serde_json::Value) -> i64 {
    v.as_str()
        .expect("time")
        .parse::<jiff::Timestamp>()
        .expect("RFC 3339")
        .as_millisecond()
}

/// The calendar day before `date` (`YYYY-MM-DD`).
fn prev_day(date: &str) -> String {
    let d: jiff::civil::Date = date.parse().expect("date");
    d.yesterday().expect("a day before").to_string()
}
