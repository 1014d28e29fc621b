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

#[test]
fn defaults_are_valid() {
    Config::default()
        .validate("<defaults>")
        .expect("defaults valid");
}

#[test]
fn loads_queues_teams_and_targets() {
    let f = write(
        r#"
timezone = "Europe/Berlin"
interval = "30m"
[defaults]
sl_threshold = "30s"
[queues.sales]
sl_threshold = 15
sl_preset = "answered_only"
[teams.A]
agents = ["PJSIP/400"]
targets = { aht = "5m", occupancy_min = 0.7, occupancy_max = 0.9 }
"#,
    );
    let cfg = Config::load(f.path()).expect("valid");
    assert_eq!(cfg.interval, Duration::mins(30));
    assert_eq!(cfg.queues["sales"].sl_threshold, Some(Duration::secs(15)));
    assert_eq!(cfg.queues["sales"].sl_preset, Some(SlPreset::AnsweredOnly));
    assert_eq!(cfg.defaults.sl_threshold, Some(Duration::secs(30)));
    assert_eq!(cfg.teams["A"].targets.aht, Some(Duration::mins(5)));
}

#[test]
fn errors_name_file_and_key() {
    let f = write("[queues.sales]\nsl_threshold = \"10s\"\nshort_abandon = \"15s\"\n");
    let e = Config::load(f.path()).expect_err("S > T");
    assert_eq!(e.key, "queues.sales.short_abandon");
    assert!(e.to_string().contains(&f.path().display().to_string()));

    let f = write("interval = \"7m\"\n");
    let e = Config::load(f.path()).expect_err("7m does not divide a day");
    assert_eq!(e.key, "interval");
    // A week is the one interval longer than a day.
    let f = write("interval = \"8d\"\n");
    assert_eq!(Config::load(f.path()).expect_err("8d").key, "interval");
    let f = write("interval = \"1w\"\n");
    let weekly = Config::load(f.path()).expect("1w is a week");
    assert_eq!(weekly.interval, Duration::mins(7 * 24 * 60));

    let f = write("timezone = \"Mars/Olympus\"\n");
    assert_eq!(Config::load(f.path()).expect_err("tz").key, "timezone");

    let f = write("[defaults]\nsl_threshold = \"soon\"\n");
    let e = Config::load(f.path()).expect_err("bad duration");
    assert!(e.to_string().contains("sl_threshold"), "{e}");

    let f = write("[defaults]\nsl_treshold = \"20s\"\n");
    let e = Config::load(f.path()).expect_err("typo");
    assert!(e.to_string().contains("sl_treshold"), "{e}");

    let f = write("[auth]\ntoken = \"t\"\nlink_tickets = \"31d\"\n");
    assert_eq!(
        Config::load(f.path()).expect_err("31d").key,
        "auth.link_tickets"
    );
    let f = write("[auth]\ntoken = \"t\"\nlink_tickets = \"0s\"\n");
    assert_eq!(
        Config::load(f.path())
            .expect("no tickets")
            .auth
            .link_tickets
            .ms(),
        0
    );

    let f = write("[agents.\"PJSIP/400\"]\nteam = \"B\"\n");
    assert_eq!(
        Config::load(f.path()).expect_err("team").key,
        "agents.PJSIP/400.team"
    );
}

#[test]
fn missing_file_is_a_clear_error() {
    let e = Config::load(Path::new("/nonexistent/ccpulse.toml")).expect_err("missing");
    assert!(e.to_string().contains("file not found"));
}

#[test]
fn daemon_section_defaults_and_errors() {
    let f = write("[daemon]\ntick = \"500ms\"\nlisten = \"0.0.0.0:9000\"\ndemo = false\n");
    let cfg = Config::load(f.path()).expect("valid daemon section");
    assert_eq!(cfg.daemon.tick, Duration(500));
    assert_eq!(cfg.daemon.listen, "0.0.0.0:9000");
    assert_eq!(cfg.daemon.demo, Some(false));
    assert_eq!(Config::default().daemon.tick, Duration::secs(1));

    let f = write("[daemon]\ntick = \"10ms\"\n");
    assert_eq!(Config::load(f.path()).expect_err("tick").key, "daemon.tick");

    let f = write("[daemon]\nlisten = \"localhost\"\n");
    assert_eq!(
        Config::load(f.path()).expect_err("listen").key,
        "daemon.listen"
    );

    let f = write("[daemon]\nport = 80\n");
    let e = Config::load(f.path()).expect_err("unknown key");
    assert!(e.to_string().contains("port"), "{e}");
}

#[test]
fn sources_parse_and_errors_name_the_key() {
    let f = write(
        r#"
[daemon]
data_dir = "/var/lib/ccpulse"
[[sources]]
kind = "file"
name = "asterisk"
path = "/var/log/asterisk/queue_log"
format = "queue_log"
start_at = "today"
poll_interval = "250ms"
timezone = "Europe/Berlin"
[[sources]]
kind = "file"
name = "adapter"
path = "/var/log/ccpulse/events.jsonl"
"#,
    );
    let cfg = Config::load(f.path()).expect("valid sources");
    assert_eq!(cfg.daemon.data_dir, PathBuf::from("/var/lib/ccpulse"));
    assert_eq!(cfg.sources.len(), 2);
    assert_eq!(cfg.sources[0].format, SourceFormat::QueueLog);
    assert_eq!(cfg.sources[0].start_at, StartAt::Today);
    assert_eq!(cfg.sources[0].poll_interval, Duration(250));
    assert_eq!(cfg.sources[1].format, SourceFormat::Auto);
    assert_eq!(cfg.sources[1].start_at, StartAt::End);
    assert_eq!(
        Config::default().daemon.data_dir,
        PathBuf::from("./ccpulse-data")
    );

    let base = "[[sources]]\nkind = \"file\"\nname = \"a\"\npath = \"/x\"\n";
    let f = write(&format!("{base}poll_interval = \"1ms\"\n"));
    assert_eq!(
        Config::load(f.path()).expect_err("poll").key,
        "sources[0].poll_interval"
    );
    let f = write(&format!("{base}timezone = \"Mars/Olympus\"\n"));
    assert_eq!(
        Config::load(f.path()).expect_err("tz").key,
        "sources[0].timezone"
    );
    let f = write(&format!("{base}{base}"));
    assert_eq!(
        Config::load(f.path()).expect_err("duplicate").key,
        "sources[1].name"
    );
    let f = write("[[sources]]\nkind = \"file\"\nname = \"../etc\"\npath = \"/x\"\n");
    assert_eq!(
        Config::load(f.path()).expect_err("name").key,
        "sources[0].name"
    );
    let f = write(&format!("{base}colour = \"blue\"\n"));
    let e = Config::load(f.path()).expect_err("unknown key");
    assert!(e.to_string().contains("colour"), "{e}");
    let f = write("[[sources]]\nkind = \"kafka\"\nname = \"a\"\npath = \"/x\"\n");
    assert!(Config::load(f.path()).is_err(), "unknown kind");
}

#[test]
fn websocket_sources_parse_and_errors_name_the_key() {
    let file = "[[sources]]\nkind = \"file\"\nname = \"asterisk\"\npath = \"/x\"\n";
    let ws =
        "[[sources]]\nkind = \"websocket\"\nname = \"acd\"\nurl = \"ws://acd.local:9000/feed\"\n";
    let f = write(&format!(
        "{file}{ws}headers = {{ \"X-Api-Key\" = \"k3y\" }}\ntoken = \"t0ken\"\n\
         subscribe = '{{\"subscribe\":[\"sales\"]}}'\nping_interval = \"5s\"\n\
         backoff_min = \"100ms\"\nbackoff_max = \"10s\"\nmax_frame_bytes = 65536\n"
    ));
    let cfg = Config::load(f.path()).expect("valid websocket source");
    let s = &cfg.sources[1];
    assert_eq!(s.kind, SourceKind::Websocket);
    assert_eq!(s.url, "ws://acd.local:9000/feed");
    // Header names are case-insensitive; the config layer may fold them.
    let (name, value) = s.headers.iter().next().expect("one header");
    assert_eq!(
        (name.to_ascii_lowercase().as_str(), value.as_str()),
        ("x-api-key", "k3y")
    );
    assert_eq!(s.token.as_deref(), Some("t0ken"));
    assert_eq!(s.subscribe.as_deref(), Some(r#"{"subscribe":["sales"]}"#));
    assert_eq!(s.ping_interval, Duration::secs(5));
    assert_eq!(
        (s.backoff_min, s.backoff_max),
        (Duration(100), Duration::secs(10))
    );
    assert_eq!(s.max_frame_bytes, 65536);
    // Defaults.
    let f = write(ws);
    let cfg = Config::load(f.path()).expect("defaults");
    let s = &cfg.sources[0];
    assert_eq!(s.ping_interval, Duration::secs(15));
    assert_eq!(
        (s.backoff_min, s.backoff_max),
        (Duration(500), Duration::secs(30))
    );
    assert_eq!(s.max_frame_bytes, 1 << 20);
    assert!(s.headers.is_empty() && s.token.is_none() && s.subscribe.is_none());

    let key = |text: String| Config::load(write(&text).path()).expect_err(&text).key;
    let ws_at = |url: &str| {
        format!("{file}[[sources]]\nkind = \"websocket\"\nname = \"acd\"\nurl = \"{url}\"\n")
    };
    assert_eq!(key(ws_at("http://acd/feed")), "sources[1].url");
    assert_eq!(key(ws_at("https://acd/feed")), "sources[1].url");
    assert_eq!(key(ws_at("")), "sources[1].url");
    assert_eq!(key(ws_at("ws:///feed")), "sources[1].url");
    let ok = ws_at("ws://acd/feed");
    assert_eq!(
        key(format!("{ok}ping_interval = \"1ms\"\n")),
        "sources[1].ping_interval"
    );
    assert_eq!(
        key(format!("{ok}backoff_min = \"0s\"\n")),
        "sources[1].backoff_min"
    );
    assert_eq!(
        key(format!("{ok}backoff_min = \"2s\"\nbackoff_max = \"1s\"\n")),
        "sources[1].backoff_max"
    );
    assert_eq!(
        key(format!("{ok}max_frame_bytes = 10\n")),
        "sources[1].max_frame_bytes"
    );
    assert_eq!(key(format!("{ok}token = \"\"\n")), "sources[1].token");
    assert_eq!(key(format!("{ok}path = \"/x\"\n")), "sources[1].path");
    assert_eq!(
        key(format!("{ok}format = \"queue_log\"\n")),
        "sources[1].format"
    );
    assert_eq!(
        key(format!("{ok}headers = {{ \"bad header\" = \"v\" }}\n")),
        "sources[1].headers"
    );
    // websocket keys on a file source, and a file source without its path.
    assert_eq!(
        key(format!("{file}url = \"ws://acd/\"\n")),
        "sources[0].url"
    );
    assert_eq!(key(format!("{file}token = \"t\"\n")), "sources[0].token");
    assert_eq!(
        key("[[sources]]\nkind = \"file\"\nname = \"a\"\n".to_string()),
        "sources[0].path"
    );
}

#[test]
fn nats_sources_parse_and_errors_name_the_key() {
    let nats = "[[sources]]\nkind = \"nats\"\nname = \"bus\"\nurl = \"nats://bus.local:4222\"\n";
    let f = write(&format!(
        "{nats}stream = \"ACD\"\nsubject = \"acd.*.events\"\ntoken = \"t0ken\"\n\
         format = \"queue_log\"\nstart_at = \"beginning\"\nbackoff_max = \"5s\"\n"
    ));
    let cfg = Config::load(f.path()).expect("valid nats source");
    let s = &cfg.sources[0];
    assert_eq!(s.kind, SourceKind::Nats);
    assert_eq!(
        (
            s.stream.as_deref(),
            s.subject.as_deref(),
            s.token.as_deref()
        ),
        (Some("ACD"), Some("acd.*.events"), Some("t0ken"))
    );
    assert_eq!(s.start_at, StartAt::Beginning);
    let key = |text: String| Config::load(write(&text).path()).expect_err(&text).key;
    assert_eq!(
        key(nats.to_string()),
        "sources[0].stream",
        "a stream is required"
    );
    let ok = format!("{nats}stream = \"ACD\"\n");
    for bad in ["ws://bus:4222", "nats://", "bus:4222", ""] {
        let text = ok.replace("nats://bus.local:4222", bad);
        assert_eq!(key(text), "sources[0].url", "{bad}");
    }
    for bad in ["A.B", "A B", "", "acd>"] {
        let text = format!("{nats}stream = \"{bad}\"\n");
        assert_eq!(key(text), "sources[0].stream", "{bad}");
    }
    for bad in ["acd..x", "acd x", "", ".acd"] {
        assert_eq!(
            key(format!("{ok}subject = \"{bad}\"\n")),
            "sources[0].subject",
            "{bad}"
        );
    }
    assert_eq!(key(format!("{ok}path = \"/x\"\n")), "sources[0].path");
    assert_eq!(
        key(format!("{ok}subscribe = \"x\"\n")),
        "sources[0].subscribe"
    );
    assert_eq!(key(format!("{ok}token = \"\"\n")), "sources[0].token");
    assert_eq!(
        key(format!("{ok}max_frame_bytes = 10\n")),
        "sources[0].max_frame_bytes"
    );
    // Bus keys on other kinds.
    let file = "[[sources]]\nkind = \"file\"\nname = \"a\"\npath = \"/x\"\n";
    assert_eq!(
        key(format!("{file}stream = \"ACD\"\n")),
        "sources[0].stream"
    );
    let ws = "[[sources]]\nkind = \"websocket\"\nname = \"w\"\nurl = \"ws://a/\"\n";
    assert_eq!(
        key(format!("{ws}subject = \"a.b\"\n")),
        "sources[0].subject"
    );
}

#[test]
fn metrics_section_defaults_off_and_rejects_unknown_keys() {
    assert!(!Config::default().metrics.per_agent);
    let f = write("[metrics]\nper_agent = true\n");
    let cfg = Config::load(f.path()).expect("valid");
    assert!(cfg.metrics.per_agent);
    let f = write("[metrics]\nper_agnet = true\n");
    let e = Config::load(f.path()).expect_err("unknown key");
    assert!(e.message.contains("per_agnet"), "{e}");
}

#[test]
fn schedule_section_loads_and_its_errors_name_file_and_key() {
    let f = write(
        r#"
[schedule]
file = "schedule.csv"
no_show_grace = "10m"
aux_reasons = { lunch = ["Lunch"] }
"#,
    );
    let cfg = Config::load(f.path()).expect("valid");
    assert_eq!(cfg.schedule.no_show_grace, Duration::mins(10));
    assert_eq!(cfg.schedule.break_grace, Duration::mins(2));
    assert_eq!(cfg.schedule.aux_reasons["lunch"], vec!["Lunch".to_string()]);
    for (text, key) in [
        (
            "[schedule]\naux_reasons = { nap = [\"x\"] }\n",
            "schedule.aux_reasons.nap",
        ),
        (
            "[schedule]\nlate_return_hold = \"0s\"\n",
            "schedule.late_return_hold",
        ),
        ("[schedule]\nbreak_grace = \"2d\"\n", "schedule.break_grace"),
        (
            "[schedule]\npoll_interval = \"10ms\"\n",
            "schedule.poll_interval",
        ),
        ("[schedule]\nno_show = \"5m\"\n", "schedule"),
    ] {
        let f = write(text);
        let e = Config::load(f.path()).expect_err(text);
        assert_eq!(e.key, key, "{e}");
        assert_eq!(e.file, f.path().display().to_string());
    }
}

#[test]
fn genesys_switches_come_from_the_queue_and_only_with_its_preset() {
    let f = write(
        r#"
[defaults]
sl_preset = "genesys"
sl_include_short_abandons = false
[queues.sales]
sl_include_flowouts = true
[queues.chat]
sl_include_abandons = false
"#,
    );
    let cfg = Config::load(f.path()).expect("valid");
    let preset = |q: &str| {
        cfg.queues[q]
            .or(&cfg.defaults)
            .or(&QueueSettings::builtin())
            .preset()
    };
    let g = |abandons, short_abandons, flowouts| {
        SlPreset::Genesys(GenesysSwitches {
            abandons,
            short_abandons,
            flowouts,
        })
    };
    assert_eq!(preset("sales"), g(true, false, true));
    assert_eq!(preset("chat"), g(false, false, false));
    // A switch under another preset measures nothing: refused, naming the key.
    let f = write("[queues.sales]\nsl_preset = \"cisco_type1\"\nsl_include_flowouts = true\n");
    let e = Config::load(f.path()).expect_err("not genesys");
    assert_eq!(e.key, "queues.sales.sl_include_flowouts");
    assert!(e.message.contains("genesys"), "{e}");
    // Switches in [defaults] for the genesys queues; a queue under another preset
    // ignores them rather than being refused for what it inherits.
    let f = write(
        "[defaults]\nsl_preset = \"genesys\"\nsl_include_flowouts = true\n\
         [queues.sales]\nsl_preset = \"cisco_type2\"\n",
    );
    let cfg = Config::load(f.path()).expect("valid");
    let sales = cfg.queues["sales"]
        .or(&cfg.defaults)
        .or(&QueueSettings::builtin());
    assert_eq!(sales.preset(), SlPreset::CiscoType2);
    let f = write("[defaults]\nsl_include_flowouts = true\n");
    let e = Config::load(f.path()).expect_err("defaults not genesys");
    assert_eq!(e.key, "defaults.sl_include_flowouts");
}
