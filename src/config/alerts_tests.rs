use super::super::Config;
use super::*;
use std::io::Write;

fn write(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new()
        .suffix(".toml")
        .tempfile()
        .expect("tempfile");
    f.write_all(text.as_bytes()).expect("write");
    f
}

fn load_err(text: &str) -> ConfigError {
    let f = write(text);
    let e = Config::load(f.path()).expect_err("invalid");
    assert_eq!(
        e.file,
        f.path().display().to_string(),
        "names the file: {e}"
    );
    e
}

const FULL: &str = r#"
[[alerts.receivers]]
name = "ops-webhook"
kind = "webhook"
url = "http://127.0.0.1:9000/hook"
headers = { Authorization = "Bearer s3cret" }
group_by = ["alertname", "queue"]
group_wait = "5s"

[[alerts.receivers]]
name = "team-slack"
kind = "slack"
url = "https://hooks.slack.com/services/T/B/X"

[[alerts.rules]]
name = "ContactsWaitingHigh"
metric = "contacts_waiting"
queues = ["sales"]
op = "above"
threshold = 20
clear = 10
for = "1m"
repeat = "15m"
severity = "critical"
labels = { team = "blue" }
annotations = { summary = "{value} waiting in {scope}", description = "Call the backup team", runbook = "https://wiki/cw" }
quiet_hours = "18:00-08:00"
receivers = ["team-slack"]

[[alerts.rules]]
name = "SlSalesLow"
metric = "service_level_vs_target"
window = "30m"
op = "below"
threshold = -0.1
for = "5m"

[[alerts.rules]]
name = "VeryLongContact"
metric = "contact_seconds"
teams = ["A"]
op = "above"
threshold = 1800.5
severity = "info"

[teams.A]
agents = ["PJSIP/400"]
"#;

#[test]
fn config_rules_parse_replace_builtins_and_append() {
    let f = write(FULL);
    let cfg = Config::load(f.path()).expect("valid");
    assert_eq!(cfg.alerts.receivers.len(), 2);
    let hook = &cfg.alerts.receivers[0];
    assert_eq!(hook.kind, ReceiverKind::Webhook);
    assert_eq!(hook.group_by, ["alertname", "queue"]);
    assert_eq!(hook.group_wait, Duration::secs(5));
    assert_eq!(hook.headers["Authorization"], "Bearer s3cret");
    assert_eq!(cfg.alerts.receivers[1].group_by, ["alertname"], "default");
    let rules = cfg.alert_rules("x.toml").expect("rules");
    let builtins = default_rules();
    assert_eq!(rules.len(), builtins.len() + 2, "one replaced, two added");
    // Replaced in place, keeping the built-ins' order.
    let pos = builtins
        .iter()
        .position(|r| r.name == "ContactsWaitingHigh")
        .expect("built-in");
    let cw = &rules[pos];
    assert_eq!(cw.name, "ContactsWaitingHigh");
    assert_eq!(cw.metric, Metric::ContactsWaiting);
    assert_eq!(cw.cmp, Comparison::Above);
    assert_eq!((cw.threshold, cw.clear), (20.0, 10.0));
    assert_eq!((cw.for_ms, cw.repeat_ms), (60_000, 900_000));
    assert_eq!(cw.severity, Severity::Critical);
    assert_eq!(cw.only, ["sales"]);
    assert_eq!(cw.labels["team"], "blue");
    assert_eq!(cw.summary, "{value} waiting in {scope}");
    assert_eq!(cw.annotations["description"], "Call the backup team");
    assert_eq!(cw.annotations["runbook"], "https://wiki/cw");
    assert!(!cw.annotations.contains_key("summary"));
    assert_eq!(
        cw.quiet,
        Some(QuietHours {
            from_minute: 18 * 60,
            to_minute: 8 * 60
        })
    );
    assert_eq!(cw.receivers, ["team-slack"]);
    let sl = rules
        .iter()
        .find(|r| r.name == "SlSalesLow")
        .expect("added");
    assert_eq!(
        sl.metric,
        Metric::ServiceLevelVsTarget {
            window_seconds: 1800
        }
    );
    assert_eq!(
        (sl.threshold, sl.clear),
        (-0.1, -0.1),
        "clear defaults to threshold"
    );
    assert_eq!(sl.severity, Severity::Warning, "default severity");
    assert_eq!(sl.repeat_ms, 30 * 60_000, "default repeat");
    assert!(sl.summary.contains("SlSalesLow"), "generated summary");
    let lc = rules
        .iter()
        .find(|r| r.name == "VeryLongContact")
        .expect("added");
    assert_eq!(lc.teams, ["A"]);
    assert_eq!(lc.threshold, 1800.5);
    // The built-ins untouched by config are still there.
    assert!(rules.iter().any(|r| r.name == "LongestWaitHigh"));
}

#[test]
fn defaults_false_drops_the_builtins() {
    let f = write(
        "[alerts]\ndefaults = false\n[[alerts.rules]]\nname = \"Waiting\"\nmetric = \"contacts_waiting\"\nop = \"above\"\nthreshold = 3\n",
    );
    let cfg = Config::load(f.path()).expect("valid");
    let rules = cfg.alert_rules("x").expect("rules");
    let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Waiting"]);
    assert_eq!(
        Config::default().alert_rules("x").expect("rules").len(),
        default_rules().len(),
        "no config: the built-ins"
    );
}

#[test]
fn longest_wait_thresholds_may_count_in_sl_thresholds() {
    let f = write(
        "[[alerts.rules]]\nname = \"LongestWaitHigh\"\nmetric = \"longest_wait_seconds\"\nop = \"above\"\nthreshold = 2\nclear = 1\nthreshold_unit = \"sl_threshold\"\n[[alerts.rules]]\nname = \"OldestOverFive\"\nmetric = \"longest_wait_seconds\"\nop = \"above\"\nthreshold = 300\n",
    );
    let cfg = Config::load(f.path()).expect("valid");
    let rules = cfg.alert_rules("x").expect("rules");
    let unit = |n: &str| rules.iter().find(|r| r.name == n).map(|r| r.threshold_unit);
    assert_eq!(unit("LongestWaitHigh"), Some(ThresholdUnit::SlThreshold));
    assert_eq!(
        unit("OldestOverFive"),
        Some(ThresholdUnit::Metric),
        "the default"
    );
    let e = load_err(&rule("threshold_unit = \"minutes\""));
    assert!(e.to_string().contains("minutes"), "{e}");
}

fn rule(extra: &str) -> String {
    format!(
        "[[alerts.rules]]\nname = \"Waiting\"\nmetric = \"contacts_waiting\"\nop = \"above\"\nthreshold = 3\n{extra}\n"
    )
}

#[test]
fn rule_errors_name_the_key() {
    let cases: &[(&str, &str, &str)] = &[
        ("", "name = \"lower_case\"", "alerts.rules[1].name"),
        ("window = \"15m\"", "", "alerts.rules[0].window"),
        ("agents = [\"a1\"]", "", "alerts.rules[0].agents"),
        ("clear = 5", "", "alerts.rules[0].clear"),
        ("quiet_hours = \"18-8\"", "", "alerts.rules[0].quiet_hours"),
        ("receivers = [\"nobody\"]", "", "alerts.rules[0].receivers"),
        (
            "labels = { queue = \"x\" }",
            "",
            "alerts.rules[0].labels.queue",
        ),
        (
            "labels = { \"bad-name\" = \"x\" }",
            "",
            "alerts.rules[0].labels",
        ),
        ("repeat = \"10s\"", "", "alerts.rules[0].repeat"),
        (
            "threshold_unit = \"sl_threshold\"",
            "",
            "alerts.rules[0].threshold_unit",
        ),
    ];
    for (extra, second, key) in cases {
        let mut text = rule(extra);
        if !second.is_empty() {
            text.push_str(&format!(
                "[[alerts.rules]]\n{second}\nmetric = \"contacts_waiting\"\nop = \"above\"\nthreshold = 3\n"
            ));
        }
        let e = load_err(&text);
        assert_eq!(&e.key, key, "{extra} {second}: {e}");
    }
    let e = load_err(&rule("").replace("\"contacts_waiting\"", "\"nope\""));
    assert_eq!(e.key, "alerts.rules[0].metric");
    assert!(e.message.contains("unknown metric `nope`"), "{e}");
    // A windowed metric with a window that is not a rolling window.
    let e = load_err(
        "[[alerts.rules]]\nname = \"Ab\"\nmetric = \"abandon_rate\"\nwindow = \"7m\"\nop = \"above\"\nthreshold = 0.1\n",
    );
    assert_eq!(e.key, "alerts.rules[0].window");
    // Two config rules with one name.
    let e = load_err(&format!("{}{}", rule(""), rule("")));
    assert_eq!(e.key, "alerts.rules[1].name");
    assert!(e.message.contains("alerts.rules[0]"), "{e}");
    // A missing required key, an unknown key: the config crate names them.
    let e =
        load_err("[[alerts.rules]]\nname = \"X\"\nmetric = \"contacts_waiting\"\nop = \"above\"\n");
    assert!(e.to_string().contains("threshold"), "{e}");
    let e = load_err(&rule("treshold = 4"));
    assert!(e.to_string().contains("treshold"), "{e}");
    let e = load_err(&rule("").replace("op = \"above\"", "op = \"sideways\""));
    assert!(e.to_string().contains("sideways"), "{e}");
}

#[test]
fn receiver_errors_name_the_key() {
    let recv = |extra: &str| {
        format!("[[alerts.receivers]]\nname = \"r\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:1/\"\n{extra}\n")
    };
    let cases: &[(&str, &str)] = &[
        ("timeout = \"0s\"", "alerts.receivers[0].timeout"),
        ("group_by = [\"a-b\"]", "alerts.receivers[0].group_by"),
        ("retries = 99", "alerts.receivers[0].retries"),
        (
            "backoff_min = \"2s\"\nbackoff_max = \"1s\"",
            "alerts.receivers[0].backoff_max",
        ),
        ("queue_capacity = 0", "alerts.receivers[0].queue_capacity"),
        (
            "headers = { \"X-Key\" = \"a\\nb\" }",
            "alerts.receivers[0].headers.X-Key",
        ),
        ("group_wait = \"2h\"", "alerts.receivers[0].group_wait"),
    ];
    for (extra, key) in cases {
        let e = load_err(&recv(extra));
        assert_eq!(&e.key, key, "{extra}: {e}");
    }
    let e = load_err(&recv("").replace("http://127.0.0.1:1/", "ftp://x/"));
    assert_eq!(e.key, "alerts.receivers[0].url");
    let e = load_err("[[alerts.receivers]]\nname = \"r\"\nkind = \"slack\"\n");
    assert_eq!(e.key, "alerts.receivers[0].url", "slack needs a url");
    let e = load_err("[[alerts.receivers]]\nname = \"r\"\nkind = \"log\"\nurl = \"http://x/\"\n");
    assert_eq!(e.key, "alerts.receivers[0].url");
    let e = load_err(&format!("{}{}", recv(""), recv("")));
    assert_eq!(e.key, "alerts.receivers[1].name");
    let e = load_err("[[alerts.receivers]]\nname = \"r\"\nkind = \"pager\"\nurl = \"http://x/\"\n");
    assert!(e.to_string().contains("pager"), "{e}");
    let e = load_err("[alerts]\nexternal_url = \"not a url\"\n");
    assert_eq!(e.key, "alerts.external_url");
}

#[test]
fn quiet_hours_parse() {
    assert_eq!(
        parse_quiet_hours("08:30-17:00"),
        Ok(QuietHours {
            from_minute: 510,
            to_minute: 1020
        })
    );
    assert!(parse_quiet_hours("25:00-08:00").is_err());
    assert!(parse_quiet_hours("08:00-08:00").is_err());
    assert!(parse_quiet_hours("8h").is_err());
}

#[test]
fn example_config_is_valid_and_has_alerts() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config/example.toml");
    let cfg = Config::load(std::path::Path::new(example)).expect("example valid");
    cfg.alert_rules(example).expect("rules");
    let text = std::fs::read_to_string(example).expect("read");
    assert!(text.contains("[[alerts.rules]]") && text.contains("[[alerts.receivers]]"));
}

/// A rule of `metric` named `name` with `extra` keys.
fn metric_rule(name: &str, metric: &str, extra: &str) -> String {
    format!(
        "[[alerts.rules]]\nname = \"{name}\"\nmetric = \"{metric}\"\nop = \"above\"\nthreshold = 0\n{extra}\n"
    )
}

#[test]
fn schedule_and_source_metrics_parse_with_their_scopes() {
    let text = [
        metric_rule("NoShowA", "no_show_seconds", "teams = [\"A\"]"),
        metric_rule(
            "BreakOverrunLong",
            "break_overrun_seconds",
            "agents = [\"PJSIP/400\"]\nlabels = { page = \"floor\" }\nannotations = { summary = \"{scope} of {team}: {value} s\" }",
        ),
        metric_rule("LateA", "late_return_seconds", "teams = [\"A\"]"),
        metric_rule("AcdSilent", "source_silent_seconds", "sources = [\"acd\"]"),
        metric_rule("AnySourceDown", "source_up", "")
            .replace("op = \"above\"\nthreshold = 0", "op = \"below\"\nthreshold = 1"),
    ]
    .concat();
    let f = write(&text);
    let cfg = Config::load(f.path()).expect("valid");
    let rules = cfg.alert_rules("x.toml").expect("rules");
    let get = |n: &str| rules.iter().find(|r| r.name == n).expect(n);
    let ns = get("NoShowA");
    assert_eq!(ns.metric, Metric::NoShowSeconds);
    assert_eq!(ns.teams, ["A"]);
    assert!(ns.only.is_empty());
    let bo = get("BreakOverrunLong");
    assert_eq!(bo.metric, Metric::BreakOverrunSeconds);
    assert_eq!(bo.only, ["PJSIP/400"], "agents scope the agent metric");
    assert_eq!(bo.labels["page"], "floor");
    assert_eq!(bo.summary, "{scope} of {team}: {value} s");
    assert_eq!(get("LateA").metric, Metric::LateReturnSeconds);
    let silent = get("AcdSilent");
    assert_eq!(silent.metric, Metric::SourceSilentSeconds);
    assert_eq!(silent.only, ["acd"], "sources scope the source metric");
    let down = get("AnySourceDown");
    assert_eq!(down.metric, Metric::SourceUp);
    assert_eq!(down.cmp, Comparison::Below);
    assert!(down.only.is_empty(), "no sources: every source");
    // A config rule with a built-in schedule rule's name replaces it in place.
    let f = write(
        &metric_rule("AgentNoShow", "no_show_seconds", "threshold = 300")
            .replace("threshold = 0\n", ""),
    );
    let rules = Config::load(f.path())
        .expect("valid")
        .alert_rules("x")
        .expect("rules");
    let builtins = default_rules();
    let pos = builtins
        .iter()
        .position(|r| r.name == "AgentNoShow")
        .expect("built-in");
    assert_eq!(rules.len(), builtins.len());
    assert_eq!(rules[pos].name, "AgentNoShow");
    assert_eq!(rules[pos].threshold, 300.0);
}

#[test]
fn schedule_and_source_scope_errors_name_the_key() {
    let cases: &[(&str, &str, &str)] = &[
        ("no_show_seconds", "queues = [\"sales\"]", "queues"),
        ("no_show_seconds", "sources = [\"acd\"]", "sources"),
        ("late_return_seconds", "queues = [\"sales\"]", "queues"),
        ("source_silent_seconds", "teams = [\"A\"]", "teams"),
        ("source_silent_seconds", "agents = [\"a1\"]", "agents"),
        ("source_up", "queues = [\"sales\"]", "queues"),
        ("contacts_waiting", "sources = [\"acd\"]", "sources"),
        ("contact_seconds", "sources = [\"acd\"]", "sources"),
        // Labels the metric carries itself cannot be set by config.
        (
            "break_overrun_seconds",
            "labels = { team = \"B\" }",
            "labels.team",
        ),
        ("source_up", "labels = { source = \"x\" }", "labels.source"),
        ("no_show_seconds", "window = \"15m\"", "window"),
    ];
    for (metric, extra, key) in cases {
        let e = load_err(&metric_rule("R", metric, extra));
        assert_eq!(
            e.key,
            format!("alerts.rules[0].{key}"),
            "{metric} {extra}: {e}"
        );
    }
    let e = load_err(&metric_rule(
        "R",
        "source_silent_seconds",
        "teams = [\"A\"]",
    ));
    assert!(e.message.contains("per source"), "{e}");
    // `team` stays a free label where the metric does not carry one (queue rules).
    let f = write(&metric_rule(
        "Q",
        "contacts_waiting",
        "labels = { team = \"blue\", source = \"pbx\" }",
    ));
    Config::load(f.path()).expect("team/source labels on a queue rule");
    // The unknown-metric message lists the new names.
    let e = load_err(&metric_rule("R", "no_show", ""));
    for name in [
        "no_show_seconds",
        "break_overrun_seconds",
        "late_return_seconds",
        "source_silent_seconds",
        "source_up",
    ] {
        assert!(e.message.contains(name), "{name}: {e}");
    }
}

#[test]
fn state_seconds_rules_parse_their_states_and_reasons() {
    let text = [
        metric_rule(
            "LongBreakA",
            "state_seconds",
            "states = [\"aux\"]\nreasons = [\"break\", \"coffee\"]\nteams = [\"A\"]\nthreshold = 900",
        )
        .replace("threshold = 0\n", ""),
        metric_rule(
            "StuckRinging",
            "state_seconds",
            "states = [\"ringing\", \"after_call_work\", \"ringing\"]",
        ),
    ]
    .concat();
    let f = write(&text);
    let rules = Config::load(f.path())
        .expect("valid")
        .alert_rules("x")
        .expect("rules");
    let get = |n: &str| rules.iter().find(|r| r.name == n).expect(n);
    let brk = get("LongBreakA");
    assert_eq!(
        brk.metric,
        Metric::StateSeconds(Box::new(StateFilter {
            states: vec![AgentStatus::Aux],
            reasons: vec!["break".into(), "coffee".into()],
        }))
    );
    assert_eq!(
        (brk.teams.as_slice(), brk.threshold),
        (&["A".to_string()][..], 900.0)
    );
    let Metric::StateSeconds(f) = &get("StuckRinging").metric else {
        panic!("state_seconds");
    };
    assert_eq!(
        f.states,
        [AgentStatus::Ringing, AgentStatus::AfterCallWork],
        "each state once"
    );
    assert!(f.reasons.is_empty());
    // The built-in LongAfterCallWork times wrap-up only.
    let builtin = default_rules()
        .into_iter()
        .find(|r| r.name == "LongAfterCallWork")
        .expect("built-in");
    assert_eq!(
        builtin.metric,
        Metric::StateSeconds(Box::new(StateFilter {
            states: vec![AgentStatus::AfterCallWork],
            reasons: Vec::new(),
        }))
    );
}

#[test]
fn state_seconds_errors_name_the_key() {
    let cases: &[(&str, &str, &str, &str)] = &[
        ("state_seconds", "", "states", "needs the states"),
        ("state_seconds", "states = []", "states", "needs the states"),
        (
            "state_seconds",
            "states = [\"lunch\"]",
            "states",
            "`lunch` is not one of the states",
        ),
        (
            "state_seconds",
            "states = [\"logged_out\"]",
            "states",
            "`logged_out`",
        ),
        (
            "state_seconds",
            "states = [\"after_call_work\"]\nreasons = [\"break\"]",
            "reasons",
            "must include \"aux\"",
        ),
        (
            "contact_seconds",
            "states = [\"aux\"]",
            "states",
            "applies to `state_seconds`",
        ),
        (
            "no_show_seconds",
            "reasons = [\"break\"]",
            "reasons",
            "applies to `state_seconds`",
        ),
        (
            "state_seconds",
            "states = [\"aux\"]\nqueues = [\"sales\"]",
            "queues",
            "per agent",
        ),
        (
            "state_seconds",
            "states = [\"aux\"]\nlabels = { reason = \"x\" }",
            "labels.reason",
            "set by ccpulse",
        ),
        (
            "state_seconds",
            "states = [\"aux\"]\nlabels = { state = \"x\" }",
            "labels.state",
            "set by ccpulse",
        ),
    ];
    for (metric, extra, key, says) in cases {
        let e = load_err(&metric_rule("R", metric, extra));
        assert_eq!(
            e.key,
            format!("alerts.rules[0].{key}"),
            "{metric} {extra}: {e}"
        );
        assert!(e.message.contains(says), "{metric} {extra}: {e}");
    }
}

#[test]
fn agents_in_state_rules_are_per_team() {
    let text = metric_rule(
        "TooManyOnBreakA",
        "agents_in_state",
        "states = [\"aux\"]\nreasons = [\"break\"]\nteams = [\"A\"]\nthreshold = 2",
    )
    .replace("threshold = 0\n", "");
    let f = write(&text);
    let rules = Config::load(f.path())
        .expect("valid")
        .alert_rules("x")
        .expect("rules");
    let r = rules
        .iter()
        .find(|r| r.name == "TooManyOnBreakA")
        .expect("rule");
    assert_eq!(
        r.metric,
        Metric::AgentsInState(Box::new(StateFilter {
            states: vec![AgentStatus::Aux],
            reasons: vec!["break".into()],
        }))
    );
    assert_eq!(r.metric.scope_label(), "team");
    assert_eq!(r.only, ["A"], "teams scope the team metric");
    assert!(r.teams.is_empty(), "not an agent filter");
    for (extra, key, says) in [
        ("", "states", "`agents_in_state` needs the states"),
        (
            "states = [\"aux\"]\nagents = [\"a1\"]",
            "agents",
            "per team",
        ),
        (
            "states = [\"aux\"]\nqueues = [\"sales\"]",
            "queues",
            "per team",
        ),
        (
            "states = [\"aux\"]\nlabels = { team = \"x\" }",
            "labels.team",
            "set by ccpulse",
        ),
    ] {
        let e = load_err(&metric_rule("R", "agents_in_state", extra));
        assert_eq!(e.key, format!("alerts.rules[0].{key}"), "{extra}: {e}");
        assert!(e.message.contains(says), "{extra}: {e}");
    }
}
