//! The JSON form of the report (schema v1), written by hand.
//!
//! A replay of days of 2,000 agents writes ~780,000 interval rows of 20–30 KPIs; going
//! through `serde` cost a third of a replay (every key escaped and written through a map
//! serializer, every row start formatted into a new `String`). Here keys are static
//! bytes, numbers go through `serde_json`'s own [`CompactFormatter`] (so the bytes are
//! exactly what `serde_json::to_writer(report)` gives: the `Serialize` impls stay the
//! reference, and the tests below compare both), and everything is written into one
//! reused buffer flushed in large blocks.

use super::{agent_intervals, agent_kpis, InputCounts, Report, ReportAgent, REPORT_VERSION};
use crate::kpi::{AgentKpis, Attainment, Percentiles, QueueKpis, ScheduleKpis};
use crate::model::{format_rfc3339_in, Millis};
use rustc_hash::FxHashMap;
use serde_json::ser::{CompactFormatter, Formatter};
use std::io::{self, Write};

/// Bytes buffered before they are handed to the output.
const FLUSH_AT: usize = 1 << 16;

/// Writes `r` as one JSON line.
pub(super) fn write(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut w = JsonOut::new(out);
    w.tz = r.tz().clone();
    w.buf.extend_from_slice(b"{\"version\":");
    w.u64(u64::from(REPORT_VERSION));
    w.key(b",\"interval_seconds\":");
    w.i64(r.interval_seconds());
    w.key(b",\"timezone\":");
    w.str(r.timezone())?;
    w.key(b",\"from\":");
    w.opt_time(r.from)?;
    w.key(b",\"to\":");
    w.opt_time(r.to)?;
    w.key(b",\"input\":");
    r.input.write_json(&mut w);
    w.key(b",\"queues\":[");
    for (i, q) in r.queues.iter().enumerate() {
        if i > 0 {
            w.buf.push(b',');
        }
        w.key(b"{\"queue\":");
        w.str(q.name.as_str())?;
        w.key(b",\"totals\":");
        q.totals_kpis().write_json(&mut w);
        w.key(b",\"intervals\":[");
        for (j, (start, (c, p))) in q.rows.iter().enumerate() {
            w.row_start(j, *start);
            QueueKpis::compute(c, q.params.preset, *p).write_fields(&mut w);
            w.buf.push(b'}');
            w.maybe_flush()?;
        }
        w.buf.extend_from_slice(b"]}");
    }
    let people: [(&[u8], &[u8], _); 2] = [
        (b"],\"agents\":[", b"{\"agent\":", &r.agents),
        (b"],\"teams\":[", b"{\"team\":", &r.teams),
    ];
    for (field, key, list) in people {
        w.key(field);
        for (i, a) in list.iter().enumerate() {
            write_agent(&mut w, r, i, key, a)?;
        }
    }
    w.buf.extend_from_slice(b"]}\n");
    w.flush()
}

/// One agent or team: its name under `key`, totals and rows.
fn write_agent(
    w: &mut JsonOut<'_>,
    r: &Report<'_>,
    i: usize,
    key: &[u8],
    a: &ReportAgent<'_>,
) -> io::Result<()> {
    let scheduled = r.scheduled;
    if i > 0 {
        w.buf.push(b',');
    }
    w.key(key);
    w.str(&a.name)?;
    w.key(b",\"totals\":");
    r.agent_totals_kpis(a).write_json(w);
    w.key(b",\"intervals\":[");
    for (j, (start, c, adh)) in agent_intervals(&a.rows, a.adh.as_deref(), scheduled).enumerate() {
        w.row_start(j, start);
        agent_kpis(&c, &a.targets, adh).write_fields(w);
        w.buf.push(b'}');
        w.maybe_flush()?;
    }
    w.buf.extend_from_slice(b"]}");
    Ok(())
}

/// The output buffer and the number formatting.
struct JsonOut<'a> {
    out: &'a mut dyn Write,
    buf: Vec<u8>,
    /// Interval starts already formatted: every queue and agent repeats the same ones.
    starts: FxHashMap<Millis, Box<str>>,
    /// The report's zone: times carry its offset.
    tz: jiff::tz::TimeZone,
}

impl<'a> JsonOut<'a> {
    fn new(out: &'a mut dyn Write) -> Self {
        JsonOut {
            out,
            buf: Vec::with_capacity(FLUSH_AT + 4096),
            starts: FxHashMap::default(),
            tz: jiff::tz::TimeZone::UTC,
        }
    }

    fn maybe_flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= FLUSH_AT {
            self.flush_buf()?;
        }
        Ok(())
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_buf()?;
        self.out.flush()
    }

    /// Raw bytes: a key with its quotes, colon and any separator before it.
    fn key(&mut self, k: &[u8]) {
        self.buf.extend_from_slice(k);
    }

    fn u64(&mut self, v: u64) {
        // Writing into a `Vec` cannot fail.
        let _ = CompactFormatter.write_u64(&mut self.buf, v);
    }

    fn i64(&mut self, v: i64) {
        let _ = CompactFormatter.write_i64(&mut self.buf, v);
    }

    /// A float as `serde_json` writes it (non-finite values as `null`).
    fn f64(&mut self, v: f64) {
        // Most report values are whole seconds or counts (`900.0`, `0.0`): `serde_json`
        // writes a positive whole number below 1e15 as its digits and `.0`, so these
        // skip the shortest-representation search (the tests compare both ways).
        if v.is_sign_positive() && v < 1e15 && v.fract() == 0.0 {
            self.u64(v as u64);
            self.buf.extend_from_slice(b".0");
        } else if v.is_finite() {
            let _ = CompactFormatter.write_f64(&mut self.buf, v);
        } else {
            self.buf.extend_from_slice(b"null");
        }
    }

    fn opt_f64(&mut self, v: Option<f64>) {
        match v {
            Some(v) => self.f64(v),
            None => self.buf.extend_from_slice(b"null"),
        }
    }

    fn opt_bool(&mut self, v: Option<bool>) {
        self.buf.extend_from_slice(match v {
            Some(true) => b"true",
            Some(false) => b"false",
            None => b"null",
        });
    }

    /// A string, escaped as `serde_json` escapes it.
    fn str(&mut self, s: &str) -> io::Result<()> {
        serde_json::to_writer(&mut self.buf, s).map_err(io::Error::other)
    }

    fn opt_time(&mut self, t: Option<Millis>) -> io::Result<()> {
        match t {
            Some(t) => self.str(&format_rfc3339_in(t, &self.tz)),
            None => {
                self.buf.extend_from_slice(b"null");
                Ok(())
            }
        }
    }

    /// Opens interval row `j` (a comma before all but the first) with its `start`.
    fn row_start(&mut self, j: usize, start: Millis) {
        if j > 0 {
            self.buf.push(b',');
        }
        self.buf.extend_from_slice(b"{\"start\":\"");
        let s = self
            .starts
            .entry(start)
            .or_insert_with(|| format_rfc3339_in(start, &self.tz).into_boxed_str());
        // RFC 3339 (or a bare integer for an out-of-range time): nothing to escape.
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.extend_from_slice(b"\",");
    }
}

/// Writes the members `"field":value` of `$s`'s fields in order, each through the
/// writer method named after it (`u64`, `f64`, `opt_f64`), the first without a comma.
macro_rules! members {
    ($w:expr, $s:expr, $f0:ident: $m0:ident $(, $f:ident: $m:ident)* $(,)?) => {{
        $w.key(concat!("\"", stringify!($f0), "\":").as_bytes());
        $w.$m0($s.$f0);
        more_members!($w, $s $(, $f: $m)*);
    }};
}

/// [`members!`] after earlier members: every one with a comma before it.
macro_rules! more_members {
    ($w:expr, $s:expr $(, $f:ident: $m:ident)* $(,)?) => {{
        $(
            $w.key(concat!(",\"", stringify!($f), "\":").as_bytes());
            $w.$m($s.$f);
        )*
    }};
}

/// A value written as a JSON object by hand; [`WriteJson::write_fields`] writes the
/// members without braces (rows put `start` before them, as `#[serde(flatten)]` does).
trait WriteJson {
    fn write_fields(&self, w: &mut JsonOut<'_>);

    fn write_json(&self, w: &mut JsonOut<'_>) {
        w.buf.push(b'{');
        self.write_fields(w);
        w.buf.push(b'}');
    }
}

impl WriteJson for InputCounts {
    fn write_fields(&self, w: &mut JsonOut<'_>) {
        members!(
            w,
            self,
            lines: u64,
            events: u64,
            rejected: u64,
            unknown: u64,
            late: u64,
            duplicates: u64,
            unmatched: u64,
            orphaned: u64,
        );
    }
}

impl WriteJson for QueueKpis {
    fn write_fields(&self, w: &mut JsonOut<'_>) {
        members!(
            w,
            self,
            arrived: u64,
            answered: u64,
            answered_within_sl: u64,
            abandoned: u64,
            short_abandoned: u64,
            abandoned_within_sl: u64,
            exited: u64,
            sl_met: u64,
            sl_abandoned_within: u64,
            sl_missed: u64,
            sl_offered: u64,
            service_level: opt_f64,
            asa_seconds: opt_f64,
            abandon_rate: opt_f64,
            handled: u64,
            aht_seconds: opt_f64,
            avg_talk_seconds: opt_f64,
            avg_hold_seconds: opt_f64,
            avg_acw_seconds: opt_f64,
            transferred: u64,
            transfer_rate: opt_f64,
            avg_abandon_wait_seconds: opt_f64,
            orphaned: u64,
        );
        w.buf.push(b',');
        self.percentiles.write_fields(w);
    }
}

impl WriteJson for Percentiles {
    fn write_fields(&self, w: &mut JsonOut<'_>) {
        members!(
            w,
            self,
            wait_p50_seconds: opt_f64,
            wait_p90_seconds: opt_f64,
            wait_p99_seconds: opt_f64,
            handle_p50_seconds: opt_f64,
            handle_p90_seconds: opt_f64,
            handle_p99_seconds: opt_f64,
        );
    }
}

impl WriteJson for AgentKpis {
    fn write_fields(&self, w: &mut JsonOut<'_>) {
        members!(
            w,
            self,
            handled: u64,
            aht_seconds: opt_f64,
            avg_talk_seconds: opt_f64,
            avg_hold_seconds: opt_f64,
            avg_acw_seconds: opt_f64,
            transferred: u64,
            ring_no_answer: u64,
            logged_in_seconds: f64,
            available_seconds: f64,
            ringing_seconds: f64,
            on_contact_seconds: f64,
            acw_seconds: f64,
            aux_seconds: f64,
            occupancy: opt_f64,
            utilisation: opt_f64,
            handled_per_hour: opt_f64,
            aux_share: opt_f64,
        );
        if let Some(s) = &self.schedule {
            w.buf.push(b',');
            s.write_fields(w);
        }
        if let Some(t) = &self.targets {
            w.key(b",\"targets\":");
            t.write_json(w);
        }
    }
}

impl WriteJson for ScheduleKpis {
    fn write_fields(&self, w: &mut JsonOut<'_>) {
        members!(
            w,
            self,
            scheduled_seconds: f64,
            adherent_seconds: f64,
            adherence: opt_f64,
        );
    }
}

impl WriteJson for Attainment {
    fn write_fields(&self, w: &mut JsonOut<'_>) {
        w.key(b"\"results\":[");
        for (i, r) in self.results.iter().enumerate() {
            if i > 0 {
                w.buf.push(b',');
            }
            w.key(b"{\"target\":");
            // Static ASCII names (`aht`, `occupancy_min`, ...): escaping cannot fail.
            let _ = w.str(r.target);
            w.key(b",\"goal\":");
            w.f64(r.goal);
            w.key(b",\"actual\":");
            w.opt_f64(r.actual);
            w.key(b",\"met\":");
            w.opt_bool(r.met);
            w.buf.push(b'}');
        }
        w.key(b"],\"share_met\":");
        w.opt_f64(self.share_met);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kpi::TargetResult;

    /// The hand-written form of `v`, for comparison with `serde_json`.
    fn hand<T: WriteJson>(v: &T) -> String {
        let mut sink = Vec::new();
        let mut w = JsonOut::new(&mut sink);
        v.write_json(&mut w);
        let bytes = std::mem::take(&mut w.buf);
        String::from_utf8(bytes).expect("utf-8")
    }

    fn serde<T: serde::Serialize>(v: &T) -> String {
        serde_json::to_string(v).expect("serialize")
    }

    #[test]
    fn queue_kpis_match_serde() {
        let mut k = QueueKpis {
            arrived: 12,
            answered: u64::MAX,
            service_level: Some(0.1 + 0.2),
            asa_seconds: Some(f64::NAN),
            aht_seconds: Some(1e300),
            avg_hold_seconds: Some(-0.0),
            transfer_rate: Some(f64::INFINITY),
            ..QueueKpis::default()
        };
        k.percentiles.wait_p90_seconds = Some(5.008);
        k.percentiles.handle_p99_seconds = Some(1e-7);
        assert_eq!(hand(&k), serde(&k));
        assert_eq!(hand(&QueueKpis::default()), serde(&QueueKpis::default()));
    }

    #[test]
    fn agent_kpis_with_and_without_targets_match_serde() {
        let mut k = AgentKpis {
            handled: 3,
            aht_seconds: Some(300.5),
            logged_in_seconds: 5000.0,
            occupancy: Some(2.0 / 3.0),
            ..AgentKpis::default()
        };
        assert_eq!(hand(&k), serde(&k));
        k.targets = Some(Attainment {
            results: vec![
                TargetResult {
                    target: "aht",
                    goal: 300.0,
                    actual: Some(300.5),
                    met: Some(false),
                },
                TargetResult {
                    target: "occupancy_min",
                    goal: 0.7,
                    actual: None,
                    met: None,
                },
                TargetResult {
                    target: "max_aux_share",
                    goal: 0.1,
                    actual: Some(0.0),
                    met: Some(true),
                },
            ],
            share_met: Some(0.5),
        });
        assert_eq!(hand(&k), serde(&k));
    }

    #[test]
    fn whole_floats_match_serde() {
        let mut sink = Vec::new();
        let mut w = JsonOut::new(&mut sink);
        let mut values = vec![0.0, -0.0, 1.0, 900.0, 1e15 - 1.0, 1e15, 1e16, 123_456_789.0];
        values.extend((0..64).map(|e| (1u64 << e) as f64));
        values.extend((0..20).map(|e| 10f64.powi(e)));
        values.extend((0..20).map(|e| 10f64.powi(e) - 1.0));
        values.extend((0..2000).map(|i| f64::from(i) * 0.5));
        for v in values {
            w.buf.clear();
            w.f64(v);
            assert_eq!(
                std::str::from_utf8(&w.buf).expect("utf-8"),
                serde(&v),
                "{v:?}"
            );
        }
    }

    #[test]
    fn input_counts_match_serde() {
        let c = InputCounts {
            lines: 1,
            events: 2,
            rejected: 3,
            unknown: 4,
            late: 5,
            duplicates: 6,
            unmatched: 7,
            orphaned: 8,
        };
        assert_eq!(hand(&c), serde(&c));
    }

    /// A simulated replay (with team and agent targets) written both ways.
    #[test]
    fn whole_report_matches_serde() {
        use crate::config::{AgentConfig, Config, Duration, Targets, TeamConfig};
        use crate::decode::FormatChoice;
        use crate::replay::{replay_scheduled, Input};
        use crate::sim::{SimConfig, Simulator};

        let mut sim = SimConfig::scaled(4, 16, 3);
        sim.start = 1_795_852_800_000;
        sim.duration_ms = 6 * 3_600_000;
        let mut bytes = Vec::new();
        for e in Simulator::new(&sim).expect("valid config").take(20_000) {
            let _ = crate::encode::jsonl::write(&e, &mut bytes);
        }
        let run_with = |cfg: &Config, schedule: Option<&str>| {
            let input = Input {
                label: "sim".into(),
                reader: Box::new(std::io::Cursor::new(bytes.clone())),
            };
            let schedule = schedule.map(|csv| {
                crate::schedule::parse_csv(csv.as_bytes(), &jiff::tz::TimeZone::UTC).schedule
            });
            let mut r =
                replay_scheduled(vec![input], cfg, FormatChoice::Auto, schedule).expect("replay");
            let report = r.report();
            let mut by_hand = Vec::new();
            report
                .write(super::super::OutputFormat::Json, &mut by_hand)
                .expect("write");
            let mut by_serde = serde_json::to_vec(&report).expect("serialize");
            by_serde.push(b'\n');
            let agents: Vec<String> = report.agent_names().map(String::from).collect();
            (by_hand, by_serde, agents)
        };
        let run = |cfg: &Config| run_with(cfg, None);
        let (hand, serde, agents) = run(&Config::default());
        assert_eq!(
            String::from_utf8_lossy(&hand),
            String::from_utf8_lossy(&serde)
        );
        assert!(agents.len() > 4, "the simulation has agents");

        let mut cfg = Config::default();
        cfg.teams.insert(
            "t".into(),
            TeamConfig {
                agents: agents[..agents.len() / 2].to_vec(),
                targets: Targets {
                    aht: Some(Duration::secs(240)),
                    occupancy_min: Some(0.6),
                    max_aux_share: Some(0.2),
                    ..Targets::default()
                },
            },
        );
        cfg.agents.insert(
            agents[0].clone(),
            AgentConfig {
                targets: Targets {
                    handled_per_hour: Some(7.5),
                    ..Targets::default()
                },
                ..AgentConfig::default()
            },
        );
        let (hand, serde, _) = run(&cfg);
        assert_eq!(
            String::from_utf8_lossy(&hand),
            String::from_utf8_lossy(&serde)
        );
        let text = String::from_utf8_lossy(&hand);
        assert!(text.contains("\"share_met\""));
        // The team's targets (the config's team wins over the one the events name).
        assert!(
            text.contains("\"target\":\"occupancy_min\""),
            "team targets"
        );

        // In a zone other than UTC both write local times with the offset.
        cfg.timezone = "Europe/Berlin".into();
        let (hand, serde, _) = run(&cfg);
        assert_eq!(
            String::from_utf8_lossy(&hand),
            String::from_utf8_lossy(&serde)
        );
        let hand = String::from_utf8_lossy(&hand);
        assert!(
            hand.contains("\"start\":\"2026-11-28T09:00:00+01:00\""),
            "{}",
            &hand[..400]
        );

        // With a schedule (and an `adherence_min` target): adherence in every agent row,
        // a scheduled agent the input never names listed too.
        let csv = format!(
            "{a},2026-11-28T08:00:00Z,2026-11-28T12:00:00Z,work\n\
             {a},2026-11-28T10:00:00Z,2026-11-28T10:15:00Z,break\n\
             ghost,2026-11-28T09:00:00Z,2026-11-28T11:00:00Z,work\n",
            a = agents[1]
        );
        cfg.timezone = "UTC".into();
        if let Some(t) = cfg.teams.get_mut("t") {
            t.targets.adherence_min = Some(0.8);
        }
        let (hand, serde, listed) = run_with(&cfg, Some(&csv));
        assert_eq!(
            String::from_utf8_lossy(&hand),
            String::from_utf8_lossy(&serde)
        );
        let hand = String::from_utf8_lossy(&hand);
        assert!(hand.contains("\"adherence\":"), "{}", &hand[..400]);
        assert!(hand.contains("\"target\":\"adherence_min\""));
        assert!(listed.iter().any(|a| a == "ghost"), "{listed:?}");
    }

    #[test]
    fn strings_are_escaped_like_serde() {
        let mut sink = Vec::new();
        let mut w = JsonOut::new(&mut sink);
        w.str("a\"b\\c\n\u{1}é").expect("write");
        let s = String::from_utf8(std::mem::take(&mut w.buf)).expect("utf-8");
        assert_eq!(s, serde(&"a\"b\\c\n\u{1}é"));
    }
}
