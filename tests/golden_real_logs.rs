//! Golden tests: `ccpulse replay` on real Asterisk logs from `../shared/data/`, with every
//! expected number derived by hand from the lines (the derivation is written beside it).
//! Those files carry no licence: they are read at test time, never copied here.
//! Defaults: T = 20 s, S = 5 s, preset cisco_type2, queue_log grace 1 s.

use ccpulse::config::Config;
use ccpulse::decode::FormatChoice;
use ccpulse::kpi::SlPreset;
use ccpulse::kpi::{AgentKpis, QueueKpis};
use ccpulse::replay::{replay, Input};
use ccpulse::report::InputCounts;
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

fn shared(name: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(name);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: ../shared/data/{name} not present (CI always has it)");
        None
    }
}

/// The parts of a report these tests read.
struct Out {
    input: InputCounts,
    queues: Vec<(String, QueueKpis)>,
    agents: Vec<(String, AgentKpis)>,
}

impl Out {
    fn queue(&self, name: &str) -> QueueKpis {
        self.queues
            .iter()
            .find(|q| q.0 == name)
            .map(|q| q.1.clone())
            .expect("queue in report")
    }
    fn agent(&self, name: &str) -> AgentKpis {
        self.agents
            .iter()
            .find(|a| a.0 == name)
            .map(|a| a.1.clone())
            .expect("agent in report")
    }
}

fn run(path: &PathBuf, cfg: &Config) -> Out {
    let f = File::open(path).expect("open shared data");
    let input = Input {
        label: path.display().to_string(),
        reader: Box::new(BufReader::new(f)),
    };
    let mut replayed = replay(vec![input], cfg, FormatChoice::Auto).expect("replay");
    let r = replayed.report();
    let queues = r
        .queue_names()
        .map(|q| (q.to_string(), r.queue_totals(q).expect("totals")))
        .collect();
    let agents = r
        .agent_names()
        .map(|a| (a.to_string(), r.agent_totals(a).expect("totals")))
        .collect();
    Out {
        input: r.input().clone(),
        queues,
        agents,
    }
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn malariapbx_2023() {
    let Some(path) = shared("malariapbx_2023_queue_log.pipe") else {
        return;
    };
    let r = run(&path, &Config::default());
    // 85 lines: 9 CONFIGRELOAD/QUEUESTART-only lines are ignored, as are RINGCANCELED (1);
    // `grep -cv 'CONFIGRELOAD\|QUEUESTART'` = 21 meaningful lines, plus 17 QUEUESTART
    // (each an ACD-restart event) → events = 38; no unknown verbs, nothing rejected.
    assert_eq!(
        (r.input.lines, r.input.rejected, r.input.unknown),
        (85, 0, 0)
    );
    let support = r.queue("Support");
    // 6 ENTERQUEUE in Support; CONNECT waits 8 and 5 (both ≤ 20) → answered 2, sl_met 2.
    // ABANDON waits 20, 11, 17, 20 (none < 5, all ≤ 20) → abandoned 4, all within SL.
    // EXITWITHTIMEOUT after 20 s → exited 1, within T → sl_abandoned_within.
    assert_eq!(support.arrived, 7, "ENTERQUEUE lines in Support");
    assert_eq!(
        (support.answered, support.answered_within_sl, support.sl_met),
        (2, 2, 2)
    );
    assert_eq!(
        (
            support.abandoned,
            support.short_abandoned,
            support.abandoned_within_sl
        ),
        (4, 0, 4)
    );
    assert_eq!(
        (
            support.exited,
            support.sl_abandoned_within,
            support.sl_missed
        ),
        (1, 5, 0)
    );
    assert!(
        close(support.service_level, 2.0 / 7.0),
        "type 2: 2 met / 7 offered"
    );
    assert!(close(support.asa_seconds, 6.5), "(8 + 5) / 2");
    assert!(close(support.abandon_rate, 4.0 / 7.0), "4 / (2 + 4 + 1)");
    // COMPLETEAGENT talk 5, COMPLETECALLER talk 104, no wrap-up configured.
    assert_eq!(support.handled, 2);
    assert!(close(support.aht_seconds, 54.5), "(5 + 104) / 2");
    let sales = r.queue("sales");
    // One call, abandoned after 9 s (5 ≤ 9 ≤ 20): SL 0 / 1, abandon rate 1.
    assert_eq!(
        (sales.arrived, sales.abandoned, sales.sl_abandoned_within),
        (1, 1, 1)
    );
    assert!(close(sales.service_level, 0.0));
    let agent = r.agent("PJSIP/400");
    // Two RINGNOANSWER lines; two calls handled.
    assert_eq!((agent.ring_no_answer, agent.handled), (2, 2));

    // The same file under the other presets: 2 met, 5 abandoned/exited within T, 0 missed.
    for (preset, expect) in [
        (SlPreset::CiscoType1, 1.0),   // 2 / (7 − 5)
        (SlPreset::CiscoType3, 1.0),   // (2 + 5) / 7
        (SlPreset::AnsweredOnly, 1.0), // 2 answered within / 2 answered
    ] {
        let mut cfg = Config::default();
        cfg.defaults.sl_preset = Some(preset);
        let r = run(&path, &cfg);
        assert!(close(r.queue("Support").service_level, expect), "{preset}");
    }
    // Genesys Cloud, by outcome: 2 answered (both within T), 4 abandons (none short),
    // 1 flow-out (the EXITWITHTIMEOUT).
    for (abandons, flowouts, expect) in [
        (true, false, 2.0 / 6.0),  // 2 / (2 + 4), the default switches
        (true, true, 2.0 / 7.0),   // 2 / (2 + 4 + 1)
        (false, true, 2.0 / 3.0),  // 2 / (2 + 1)
        (false, false, 2.0 / 2.0), // 2 / 2
    ] {
        let mut cfg = Config::default();
        cfg.defaults.sl_preset = Some("genesys".parse().expect("a preset"));
        cfg.defaults.sl_include_abandons = Some(abandons);
        cfg.defaults.sl_include_flowouts = Some(flowouts);
        let r = run(&path, &cfg);
        assert!(
            close(r.queue("Support").service_level, expect),
            "genesys abandons={abandons} flowouts={flowouts}"
        );
    }
}

#[test]
fn pbxware_2018() {
    let Some(path) = shared("pbxware_2018_queue_log.pipe") else {
        return;
    };
    let r = run(&path, &Config::default());
    // Unknown verbs: OUTDIAL 128, OUTANSWER 77, OUTCANCEL 24, OUTCHANUNAVAIL 18,
    // OUTCONGESTION 9, OUTTRANSFER 1 (`cut -d'|' -f5 | sort | uniq -c`) = 257.
    assert_eq!(
        (r.input.lines, r.input.unknown, r.input.rejected),
        (1000, 257, 0)
    );
    let it = &r.queue("IT");
    assert_eq!(it.arrived, 108, "ENTERQUEUE");
    assert_eq!(it.answered, 93, "CONNECT");
    // `awk -F'|' '$5=="CONNECT" && $6<=20'` → 39 answered within 20 s.
    assert_eq!((it.answered_within_sl, it.sl_met), (39, 39));
    // ABANDON waits 191 197 45 53 146 74 21 5 40 70 98 201: none short (5 is not < 5),
    // one within SL (5 s).
    assert_eq!(
        (it.abandoned, it.short_abandoned, it.abandoned_within_sl),
        (12, 0, 1)
    );
    assert_eq!(it.exited, 1, "EXITWITHTIMEOUT after 300 s");
    // Missed: 93 − 39 late answers + 11 late abandons + 1 exit + 1 of the 2 calls still
    // waiting at the end (queued 1543942788, 63 s before the last line; the other was
    // queued 9 s before it, not yet past T + grace).
    assert_eq!(
        (it.sl_abandoned_within, it.sl_missed, it.sl_offered),
        (1, 67, 107)
    );
    assert!(close(it.service_level, 39.0 / 107.0));
    // Sum of CONNECT waits = 3599 s over 93 answers.
    assert!(close(it.asa_seconds, 3599.0 / 93.0));
    assert!(close(it.abandon_rate, 12.0 / 106.0));
    // Handled: 51 COMPLETEAGENT + 38 COMPLETECALLER + 1 BLINDTRANSFER + 1 ATTENDEDTRANSFER
    // (2 answered calls were still talking at the end). Talk: COMPLETE* calltime sum 23845
    // + transfers 30 (ATTENDEDTRANSFER data4) + 38 (BLINDTRANSFER data4).
    assert_eq!((it.handled, it.transferred), (91, 2));
    assert!(close(it.aht_seconds, 23913.0 / 91.0));
    // 2 no-outcome + 2 no-end contacts are still open; nothing is unmatched.
    assert_eq!((r.input.unmatched, r.input.orphaned), (0, 0));
    // RINGNOANSWER lines by agent: `awk -F'|' '$5=="RINGNOANSWER"{print $4}' | sort | uniq -c`.
    let rna: u64 = r.agents.iter().map(|a| a.1.ring_no_answer).sum();
    assert_eq!(rna, 360);
}

#[test]
fn wazo_fixture_pauseall_is_not_double_counted() {
    // tests/fixtures/wazo_queue_log.pipe (GPLv3 / CC-BY-SA, see its README): PAUSEALL is
    // followed by one PAUSE per queue; the agent is in aux once, not once per line.
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wazo_queue_log.pipe");
    let r = run(&path, &Config::default());
    assert_eq!(r.input.rejected, 0);
    for (name, t) in &r.agents {
        let sum = t.available_seconds
            + t.ringing_seconds
            + t.on_contact_seconds
            + t.acw_seconds
            + t.aux_seconds;
        assert!(
            (sum - t.logged_in_seconds).abs() < 1e-6,
            "state time adds up for {name}"
        );
    }
}
