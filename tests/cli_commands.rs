//! The binary's edges: exit codes, config errors naming file and key, report formats.

use std::process::Command;

fn ccpulse(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ccpulse"))
        .args(args)
        .output()
        .expect("run ccpulse")
}

#[test]
fn example_config_is_valid() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/example.toml");
    let out = ccpulse(&["check-config", path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Valid, with a note: its team's adherence target has no schedule file to read.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("note: teams.A.targets.adherence_min is measured against a schedule"),
        "{text}"
    );
}

#[test]
fn bad_config_exits_2_naming_file_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[queues.sales]\nshort_abandon = \"30s\"\n").expect("write");
    let out = ccpulse(&["check-config", path.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("queues.sales.short_abandon"),
        "{err}"
    );
}

/// `ccpulse ticket` mints, without a daemon, a read ticket the daemon with that config
/// accepts, and prints the board's URL with it.
#[test]
fn ticket_prints_a_board_url_with_a_ticket_of_the_configs_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kiosk.toml");
    std::fs::write(
        &path,
        "[auth]\ntoken = \"s3cret\"\n[alerts]\nexternal_url = \"https://floor.example:8443/\"\n",
    )
    .expect("write");
    let config = path.to_str().expect("utf8");
    let out = ccpulse(&[
        "ticket",
        "--config",
        config,
        "--expires-in",
        "30d",
        "--teams",
        "Team A",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(str::trim)
            .unwrap_or_default()
            .to_string()
    };
    let ticket = line("ticket:");
    let auth = ccpulse::auth::Auth::new(Some("s3cret"));
    let now = ccpulse::auth::wall_ms();
    assert!(auth.ticket_valid(&ticket, now + 29 * 86_400_000), "{text}");
    assert!(
        !auth.ticket_valid(&ticket, now + 31 * 86_400_000),
        "30 days: {text}"
    );
    assert!(!ccpulse::auth::Auth::new(Some("other")).ticket_valid(&ticket, now));
    assert_eq!(
        line("board:"),
        format!("https://floor.example:8443/?teams=Team+A&ticket={ticket}"),
        "{text}"
    );
    // Over 30 days, or a config without a token: a usage error naming what is wrong.
    let out = ccpulse(&["ticket", "--config", config, "--expires-in", "31d"]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::write(&path, "timezone = \"UTC\"\n").expect("write");
    let out = ccpulse(&["ticket", "--config", config]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("kiosk.toml") && err.contains("no [auth] token"),
        "{err}"
    );
}

#[test]
fn replay_usage_errors_exit_2() {
    let out = ccpulse(&["replay", "-", "--sl-preset", "cisco"]);
    assert_eq!(out.status.code(), Some(2));
    let out = ccpulse(&["replay", "-", "--interval", "7m"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = ccpulse(&["replay", "/nonexistent/queue_log"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn replay_report_formats() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("queue_log");
    std::fs::write(
        &path,
        "1675555753|1.0|Support|NONE|ENTERQUEUE||200|1\n\
         1675555761|1.0|Support|PJSIP/400|CONNECT|8|1.1|7\n\
         1675555766|1.0|Support|PJSIP/400|COMPLETEAGENT|8|5|1\n\
         garbage line\n",
    )
    .expect("write");
    let p = path.to_str().expect("utf8");
    let out = ccpulse(&["replay", p, "--output", "json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(v["version"], 1);
    assert_eq!(v["input"]["lines"], 4);
    assert_eq!(v["input"]["rejected"], 1);
    assert_eq!(v["queues"][0]["queue"], "Support");
    assert_eq!(v["queues"][0]["totals"]["service_level"], 1.0);
    assert_eq!(
        v["queues"][0]["intervals"][0]["start"],
        "2023-02-05T00:00:00Z"
    );
    assert_eq!(v["agents"][0]["totals"]["handled"], 1);

    let out = ccpulse(&["replay", p, "--output", "csv"]);
    let csv = String::from_utf8_lossy(&out.stdout);
    let mut lines = csv.lines();
    let header = lines.next().expect("header");
    assert!(header.starts_with("kind,name,start,arrived,"), "{header}");
    assert!(lines
        .clone()
        .any(|l| l.starts_with("queue,Support,2023-02-05T00:00:00Z,1,1,")));
    assert!(lines.any(|l| l.starts_with("agent,PJSIP/400,")));

    let out = ccpulse(&["replay", p, "--output", "table", "--tz", "Europe/Berlin"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("Support") && table.contains("100.0%"),
        "{table}"
    );
}

#[test]
fn environment_overrides_the_config_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        "[defaults]\nsl_threshold = \"20s\"\nshort_abandon = \"5s\"\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_ccpulse"))
        .args(["check-config", path.to_str().expect("utf8")])
        .env("CCPULSE__DEFAULTS__SHORT_ABANDON", "30s")
        .output()
        .expect("run");
    // S = 30 s from the environment exceeds T = 20 s from the file: the override applied.
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("defaults.short_abandon"));
}

/// Daily and weekly reports: `--interval 24h` gives one row per local day, the 25-hour
/// autumn day in Berlin included (its last hour is not a row of its own), each starting
/// at a local midnight written with that day's offset; the totals are the whole period.
/// `--interval 7d` gives one row per local week from Monday.
#[test]
fn daily_and_weekly_report_rows_are_local_days_and_weeks_across_dst() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("queue_log");
    // One answered call on each of three local days; the second at 23:30 CET on
    // 2026-10-25, the 25th hour of that day.
    let call = |t: i64, id: &str| {
        format!(
            "{t}|{id}|Support|NONE|ENTERQUEUE||200|1\n\
             {}|{id}|Support|PJSIP/400|CONNECT|4|{id}.1|3\n\
             {}|{id}|Support|PJSIP/400|COMPLETEAGENT|4|60|1\n",
            t + 4,
            t + 64
        )
    };
    let log = [
        call(1_792_828_800, "1.0"), // 2026-10-24 10:00 CEST
        call(1_792_967_400, "2.0"), // 2026-10-25 23:30 CET
        call(1_793_005_200, "3.0"), // 2026-10-26 10:00 CET
    ]
    .concat();
    std::fs::write(&path, log).expect("write");
    let p = path.to_str().expect("utf8");
    let replay = |interval: &str, format: &str| {
        let args = ["replay", p, "--interval", interval, "--tz", "Europe/Berlin"];
        let out = ccpulse(&[&args[..], &["--output", format]].concat());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let json = |interval: &str| -> serde_json::Value {
        serde_json::from_slice(&replay(interval, "json").stdout).expect("json report")
    };
    let v = json("24h");
    // Starts are local midnights, written with the zone's offset of that day.
    let days = [
        ("2026-10-24T00:00:00+02:00".to_string(), 1),
        ("2026-10-25T00:00:00+02:00".to_string(), 1),
        ("2026-10-26T00:00:00+01:00".to_string(), 1),
    ];
    assert_eq!(report_rows(&v, "queues", "arrived"), days);
    let out = replay("24h", "csv");
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(
        csv.lines()
            .any(|l| l.starts_with("queue,Support,2026-10-26T00:00:00+01:00,1,")),
        "{csv}"
    );
    assert_eq!(v["queues"][0]["totals"]["arrived"], 3);
    assert_eq!(v["agents"][0]["totals"]["handled"], 3);

    // Weekly: `--interval 7d` rows are local weeks from Monday 00:00; the week of the
    // autumn change (169 hours) holds the first two calls, the next week the third.
    let v = json("7d");
    assert_eq!(v["interval_seconds"], 604_800);
    let weeks = |a: u64, b: u64| {
        vec![
            ("2026-10-19T00:00:00+02:00".to_string(), a),
            ("2026-10-26T00:00:00+01:00".to_string(), b),
        ]
    };
    assert_eq!(report_rows(&v, "queues", "arrived"), weeks(2, 1));
    assert_eq!(report_rows(&v, "agents", "handled"), weeks(2, 1));
}

/// `(start, field)` of the first queue's or agent's (`kind`) interval rows in a JSON report.
fn report_rows(v: &serde_json::Value, kind: &str, field: &str) -> Vec<(String, u64)> {
    v[kind][0]["intervals"]
        .as_array()
        .expect("intervals")
        .iter()
        .map(|r| {
            (
                r["start"].as_str().expect("start").to_string(),
                r[field].as_u64().expect("count"),
            )
        })
        .collect()
}

/// `simulate --schedule` writes the simulated teams' plan; `replay --schedule` reads it:
/// every scheduled agent gets adherence (a no-show too), in all three formats.
#[test]
fn replay_with_the_simulated_schedule_reports_adherence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("day.qlog");
    let plan = dir.path().join("plan.csv");
    let (log_s, plan_s) = (log.to_str().expect("utf8"), plan.to_str().expect("utf8"));
    let out = ccpulse(&[
        "simulate",
        "--start",
        "2026-11-30",
        "--duration",
        "12h",
        "--seed",
        "3",
        "--format",
        "queue-log",
        "-o",
        log_s,
        "--schedule",
        plan_s,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(&plan).expect("plan");
    assert!(csv.starts_with("agent,start,end,activity,team\n"), "{csv}");

    let out = ccpulse(&["replay", log_s, "--schedule", plan_s, "--interval", "24h"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    let agents = v["agents"].as_array().expect("agents");
    // The demo's two teams of 12, all planned on the simulated Monday.
    assert_eq!(agents.len(), 24);
    let mut no_shows = 0;
    for a in agents {
        let t = &a["totals"];
        let scheduled = t["scheduled_seconds"].as_f64().expect("scheduled");
        let adherent = t["adherent_seconds"].as_f64().expect("adherent");
        let adherence = t["adherence"].as_f64().expect("adherence");
        assert!(
            scheduled > 0.0 && (0.0..=scheduled).contains(&adherent),
            "{a}"
        );
        assert!((adherence - adherent / scheduled).abs() < 1e-12, "{a}");
        // One daily row, which is the totals.
        assert_eq!(a["intervals"].as_array().map(Vec::len), Some(1), "{a}");
        assert_eq!(a["intervals"][0]["adherence"], t["adherence"]);
        if t["logged_in_seconds"] == 0.0 {
            no_shows += 1;
            assert_eq!(adherence, 0.0, "a no-show adheres to nothing: {a}");
        } else {
            assert!(adherence > 0.5, "{a}");
        }
    }
    assert!(no_shows >= 1, "the demo has no-shows");

    // queue_log names no teams and there is no config: the plan's teams are reported as
    // the sums of the agents it places in them, adherence included.
    let team_of: std::collections::HashMap<&str, &str> = csv
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Some((*f.first()?, *f.get(4)?))
        })
        .collect();
    let teams = v["teams"].as_array().expect("teams");
    let mut names: Vec<&str> = team_of.values().copied().collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(
        teams
            .iter()
            .map(|t| t["team"].as_str().unwrap_or(""))
            .collect::<Vec<_>>(),
        names
    );
    for t in teams {
        for field in [
            "handled",
            "logged_in_seconds",
            "on_contact_seconds",
            "scheduled_seconds",
            "adherent_seconds",
        ] {
            let sum: f64 = agents
                .iter()
                .filter(|a| {
                    team_of.get(a["agent"].as_str().unwrap_or("")) == t["team"].as_str().as_ref()
                })
                .map(|a| a["totals"][field].as_f64().unwrap_or(f64::NAN))
                .sum();
            assert_eq!(t["totals"][field].as_f64(), Some(sum), "{field} of {t}");
            assert_eq!(
                t["intervals"][0][field].as_f64(),
                Some(sum),
                "{field} of {t}"
            );
        }
    }

    let out = ccpulse(&["replay", log_s, "--schedule", plan_s, "--output", "csv"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let header = text.lines().next().expect("header");
    assert!(
        header.ends_with(",scheduled_seconds,adherent_seconds,adherence"),
        "{header}"
    );
    let out = ccpulse(&["replay", log_s, "--schedule", plan_s, "--output", "table"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("adherence"), "{text}");

    // Without a schedule the report has no adherence at all.
    let out = ccpulse(&["replay", log_s]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("adherence"));

    // A schedule that cannot be read is an error naming it.
    let out = ccpulse(&["replay", log_s, "--schedule", "/nonexistent/plan.csv"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/plan.csv"));
}

#[test]
fn replay_takes_the_genesys_switches_on_the_command_line() {
    // Three calls: answered after 3 s, abandoned after 10 s (not short), timed out
    // after 30 s (a flow-out).
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("queue_log");
    std::fs::write(
        &path,
        "1675555700|1.0|Support|NONE|ENTERQUEUE||200|1\n\
         1675555703|1.0|Support|PJSIP/400|CONNECT|3|1.1|2\n\
         1675555710|2.0|Support|NONE|ENTERQUEUE||201|1\n\
         1675555720|2.0|Support|NONE|ABANDON|1|1|10\n\
         1675555730|3.0|Support|NONE|ENTERQUEUE||202|1\n\
         1675555760|3.0|Support|NONE|EXITWITHTIMEOUT|1|1|30\n\
         1675555790|1.0|Support|PJSIP/400|COMPLETECALLER|3|87|1\n",
    )
    .expect("write");
    let p = path.to_str().expect("utf8");
    let sl = |extra: &[&str]| {
        let mut args = vec!["replay", p, "--sl-preset", "genesys"];
        args.extend_from_slice(extra);
        let out = ccpulse(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
        v["queues"][0]["totals"]["service_level"].as_f64()
    };
    assert_eq!(
        sl(&[]),
        Some(0.5),
        "1 answered within T / (1 answered + 1 abandon)"
    );
    assert_eq!(sl(&["--sl-include", "abandons,flowouts"]), Some(1.0 / 3.0));
    assert_eq!(sl(&["--sl-include", "none"]), Some(1.0));
    // Unknown names and switches under another preset are usage errors.
    let out = ccpulse(&[
        "replay",
        p,
        "--sl-preset",
        "genesys",
        "--sl-include",
        "callbacks",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = ccpulse(&["replay", p, "--sl-include", "flowouts"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("genesys"), "{err}");
}
