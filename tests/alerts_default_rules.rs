//! Every built-in queue/agent rule of `default_rules()` driven end to end: scripted
//! events through the real engine (`push`, `advance_to`, `snapshot`) and the real
//! `AlertEngine`, evaluated every 10 s of simulated event time (no sleeping).
//!
//! For each rule the scenario shows, with every expected instant derived from the rule
//! (`threshold`, `clear`, `for_ms`, `repeat_ms`) and from the values the rule itself
//! measured on each snapshot:
//! 1. it fires exactly once, at the first tick `for_ms` after the breach started;
//! 2. it repeats every `repeat_ms` while the value still breaches;
//! 3. it stays firing while the value sits between `threshold` and `clear` (hysteresis)
//!    and resolves at the first tick past `clear` (`StaffingGap`, `LongContact` and
//!    `LongAfterCallWork` ship with `clear == threshold`: the band is empty, which the
//!    test asserts);
//! 4. with quiet hours over the breach nothing is notified until they end, when the
//!    (already firing) alert is notified once, with its real start time.

use ccpulse::alerts::{
    default_rules, AlertEngine, AlertEvent, AlertKind, QuietHours, Rule, ThresholdUnit,
};
use ccpulse::config::{Config, Duration};
use ccpulse::engine::{Engine, EngineOptions};
use ccpulse::model::{AgentStateChange, AgentStatus, Channel, Event, EventBody, Millis};

const T0: Millis = 1_795_856_400_000; // 2026-11-28T09:00:00Z (UTC)
const DAY0: Millis = T0 - 9 * 3_600_000; // local (UTC) midnight
const TICK: Millis = 10_000;
const SEC: Millis = 1_000;
const MIN: Millis = 60_000;
/// How long after the (unquieted) firing instant the quiet hours end.
const QUIET_EXTRA_MIN: u32 = 3;

fn rule(name: &str) -> Rule {
    default_rules()
        .into_iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("{name} is a default rule"))
}

/// What `rule`'s thresholds are multiplied by for the queues of these scenarios: the
/// default SL threshold T (s) for a rule counted in multiples of T, else 1.
fn scale(rule: &Rule) -> f64 {
    match rule.threshold_unit {
        ThresholdUnit::Metric => 1.0,
        ThresholdUnit::SlThreshold => {
            let t = Config::default().defaults.sl_threshold.expect("T");
            t.ms() as f64 / 1000.0
        }
    }
}

fn secs(x: f64) -> Millis {
    (x * 1000.0).round() as Millis
}

/// A script of events, pushed in time order (ties in insertion order).
#[derive(Default)]
struct Script {
    events: Vec<Event>,
    n: u32,
}

impl Script {
    fn push(&mut self, ts: Millis, body: EventBody) {
        self.events.push(Event { ts, id: None, body });
    }
    fn queue(&mut self, t: Millis) -> String {
        self.n += 1;
        let c = format!("c{}", self.n);
        self.push(
            t,
            EventBody::ContactQueued {
                contact: c.as_str().into(),
                queue: "sales".into(),
                channel: Channel::Voice,
            },
        );
        c
    }
    fn answer(&mut self, t: Millis, c: &str, agent: &str) {
        self.push(
            t,
            EventBody::ContactAnswered {
                contact: c.into(),
                queue: "sales".into(),
                agent: agent.into(),
                wait_ms: None,
            },
        );
    }
    fn end(&mut self, t: Millis, c: &str) {
        self.push(
            t,
            EventBody::ContactEnded {
                contact: c.into(),
                queue: Some("sales".into()),
                talk_ms: None,
            },
        );
    }
    fn abandon(&mut self, t: Millis, c: &str) {
        self.push(
            t,
            EventBody::ContactAbandoned {
                contact: c.into(),
                queue: "sales".into(),
                wait_ms: None,
            },
        );
    }
    fn login(&mut self, t: Millis, agent: &str) {
        self.state(t, agent, AgentStatus::Available);
    }
    /// `agent` (explicit states, team A, serving sales) goes to `state` at `t`.
    fn state(&mut self, t: Millis, agent: &str, state: AgentStatus) {
        self.push(
            t,
            EventBody::AgentState(Box::new(AgentStateChange {
                agent: agent.into(),
                state,
                reason: None,
                team: Some("Team A".into()),
                queues: Some(vec!["sales".into()]),
                name: None,
                explicit: true,
            })),
        );
    }
    /// `answered` contacts answered at once (met) and ended 5 s later, and `abandoned`
    /// contacts abandoned after 30 s (past the 20 s SL threshold: missed, not short),
    /// all queued at `m`.
    fn minute_mix(&mut self, m: Millis, answered: u32, abandoned: u32) {
        for i in 0..answered {
            let c = self.queue(m);
            let agent = format!("ag{i}");
            self.answer(m, &c, &agent);
            self.end(m + 5 * SEC, &c);
        }
        for _ in 0..abandoned {
            let c = self.queue(m);
            self.abandon(m + 30 * SEC, &c);
        }
    }
    fn into_sorted(mut self) -> Vec<Event> {
        self.events.sort_by_key(|e| e.ts);
        self.events
    }
}

struct Tick {
    t: Millis,
    /// The rule's own measurement of the scope (None: not measured).
    value: Option<f64>,
    events: Vec<AlertEvent>,
}

/// Runs `script` through a fresh engine and an alert engine holding only `rule`,
/// evaluating every 10 s from `T0` to `until`.
fn run(rule: &Rule, script: &[Event], scope: &str, until: Millis) -> Vec<Tick> {
    let mut cfg = Config::default();
    cfg.engine.allowed_lateness = Duration(0);
    cfg.engine.orphan_timeout = Duration::mins(24 * 60);
    let mut engine = Engine::new(&cfg, EngineOptions::default()).expect("engine");
    let mut alerts = AlertEngine::new(vec![rule.clone()], jiff::tz::TimeZone::UTC);
    let mut script = script.iter().cloned().peekable();
    let mut ticks = Vec::new();
    let mut t = T0;
    while t <= until {
        while script.peek().is_some_and(|e| e.ts <= t) {
            if let Some(e) = script.next() {
                engine.push(e).expect("in order");
            }
        }
        engine.advance_to(t);
        let snap = engine.snapshot();
        let value = rule
            .metric
            .measure(&snap)
            .into_iter()
            .find(|(_, s, _)| s == scope)
            .map(|(_, _, v)| v);
        let events = alerts.evaluate(&snap);
        for e in &events {
            assert_eq!(
                (e.alertname.as_str(), e.scope.as_str()),
                (&*rule.name, scope)
            );
        }
        ticks.push(Tick { t, value, events });
        t += TICK;
    }
    ticks
}

/// What the run must show, derived from the rule and the measured values.
struct Expected {
    breach_start: Millis,
    fire: Millis,
    resolve: Millis,
    band_ticks: usize,
}

fn expected(rule: &Rule, ticks: &[Tick]) -> Expected {
    let breach_start = ticks
        .iter()
        .find(|k| k.value.is_some_and(|v| rule.breaches_at(v, scale(rule))))
        .map(|k| k.t)
        .unwrap_or_else(|| panic!("{}: the scenario never breaches", rule.name));
    let fire = ticks
        .iter()
        .find(|k| k.t >= breach_start + rule.for_ms)
        .map(|k| k.t)
        .expect("the run lasts past `for`");
    assert!(fire - breach_start >= rule.for_ms && fire - breach_start < rule.for_ms + TICK);
    // The breach holds without a break through `for` (else pending would restart).
    for k in ticks
        .iter()
        .filter(|k| (breach_start..=fire).contains(&k.t))
    {
        assert!(
            k.value.is_some_and(|v| rule.breaches_at(v, scale(rule))),
            "{}: breach broken at +{} s ({:?})",
            rule.name,
            (k.t - T0) / SEC,
            k.value
        );
    }
    let resolve = ticks
        .iter()
        .find(|k| k.t > fire && k.value.is_none_or(|v| rule.clears_at(v, scale(rule))))
        .map(|k| k.t)
        .unwrap_or_else(|| panic!("{}: the scenario never clears", rule.name));
    let band_ticks = ticks
        .iter()
        .filter(|k| k.t > fire && k.t < resolve)
        .filter(|k| {
            k.value.is_some_and(|v| {
                !rule.breaches_at(v, scale(rule)) && !rule.clears_at(v, scale(rule))
            })
        })
        .count();
    Expected {
        breach_start,
        fire,
        resolve,
        band_ticks,
    }
}

fn notified(ticks: &[Tick]) -> Vec<(Millis, AlertKind)> {
    ticks
        .iter()
        .flat_map(|k| k.events.iter().map(move |e| (k.t, e.kind)))
        .collect()
}

fn rel(v: &[(Millis, AlertKind)]) -> Vec<(Millis, AlertKind)> {
    v.iter().map(|(t, k)| ((t - T0) / SEC, *k)).collect()
}

/// Firing at `first`, a repeat every `repeat_ms` after it while not clear, resolved.
fn lifecycle(rule: &Rule, first: Millis, resolve: Millis) -> Vec<(Millis, AlertKind)> {
    let mut v = vec![(first, AlertKind::Firing)];
    let mut t = first + rule.repeat_ms;
    while t < resolve {
        v.push((t, AlertKind::Repeat));
        t += rule.repeat_ms;
    }
    v.push((resolve, AlertKind::Resolved));
    v
}

/// Checks (1)–(4) for `rule` on `script` (the scope measured is `scope`).
fn check(rule: Rule, script: Script, scope: &str, until: Millis) {
    let script = script.into_sorted();
    let ticks = run(&rule, &script, scope, until);
    let x = expected(&rule, &ticks);
    let got = notified(&ticks);
    let want = lifecycle(&rule, x.fire, x.resolve);
    // (1) once, after `for`; (2) repeats at the interval; (3) resolves past `clear`.
    assert_eq!(
        rel(&got),
        rel(&want),
        "{}: breach from +{} s, for {} s, repeat {} s, clear at +{} s",
        rule.name,
        (x.breach_start - T0) / SEC,
        rule.for_ms / 1000,
        rule.repeat_ms / 1000,
        (x.resolve - T0) / SEC
    );
    assert_eq!(got.iter().filter(|e| e.1 == AlertKind::Firing).count(), 1);
    assert!(
        got.iter().any(|e| e.1 == AlertKind::Repeat),
        "{}: the scenario breaches long enough to repeat",
        rule.name
    );
    let resolved = ticks
        .iter()
        .find(|k| k.t == x.resolve)
        .and_then(|k| k.events.first())
        .expect("resolved event");
    assert_eq!(resolved.starts_at_ms, x.fire);
    assert_eq!(resolved.ends_at_ms, Some(x.resolve));
    // (3) hysteresis: values between threshold and clear never resolved it.
    if rule.clear == rule.threshold {
        assert_eq!(x.band_ticks, 0, "{}: no band without hysteresis", rule.name);
    } else {
        assert!(
            x.band_ticks >= 3,
            "{}: sat between threshold {} and clear {} for {} ticks only",
            rule.name,
            rule.threshold,
            rule.clear,
            x.band_ticks
        );
    }

    eprintln!(
        "{}: breach +{} s, firing +{} s, repeats {:?}, {} ticks between threshold {} and clear {}, resolved +{} s (value {:?})",
        rule.name,
        (x.breach_start - T0) / SEC,
        (x.fire - T0) / SEC,
        rel(&got).iter().filter(|e| e.1 == AlertKind::Repeat).map(|e| e.0).collect::<Vec<_>>(),
        x.band_ticks,
        rule.threshold,
        rule.clear,
        (x.resolve - T0) / SEC,
        resolved.value,
    );

    // (4) quiet hours over the breach: from the breach's minute until a few minutes
    // after it would have fired.
    let minute = |t: Millis| ((t - DAY0) / MIN) as u32;
    let quiet = QuietHours {
        from_minute: minute(x.breach_start),
        to_minute: minute(x.fire) + QUIET_EXTRA_MIN,
    };
    let quiet_end = DAY0 + Millis::from(quiet.to_minute) * MIN;
    assert!(quiet_end > x.fire && quiet_end < x.resolve);
    let mut quiet_rule = rule.clone();
    quiet_rule.quiet = Some(quiet);
    let ticks = run(&quiet_rule, &script, scope, until);
    let got = notified(&ticks);
    assert!(
        got.iter().all(|e| e.0 >= quiet_end),
        "{}: nothing during quiet hours: {:?}",
        rule.name,
        rel(&got)
    );
    assert_eq!(
        rel(&got),
        rel(&lifecycle(&rule, quiet_end, x.resolve)),
        "{}: notified when quiet hours end",
        rule.name
    );
    eprintln!(
        "{}: quiet {:?}: first notification +{} s",
        rule.name,
        quiet,
        (quiet_end - T0) / SEC
    );
    let first = ticks
        .iter()
        .find(|k| k.t == quiet_end)
        .and_then(|k| k.events.first())
        .expect("firing at the end of quiet hours");
    assert_eq!(
        first.starts_at_ms, x.fire,
        "{}: it was firing (tracked) during quiet hours",
        rule.name
    );
}

/// Answered/abandoned per minute giving a value strictly between threshold and clear,
/// nearest the middle of the band.
fn band_mix(rule: &Rule, value: impl Fn(u32, u32) -> f64) -> (u32, u32) {
    let mid = (rule.threshold + rule.clear) / 2.0;
    (1..=100u32)
        .flat_map(|n| (1..=3u32).map(move |a| (n, a)))
        .filter(|&(n, a)| {
            let v = value(n, a);
            !rule.breaches(v) && !rule.clears(v)
        })
        .min_by(|x, y| {
            let d = |p: &(u32, u32)| (value(p.0, p.1) - mid).abs();
            d(x).total_cmp(&d(y))
        })
        .unwrap_or_else(|| panic!("{}: no mix inside the band", rule.name))
}

/// A rolling-window rule fed a fixed mix each minute: `breach` for `breach_min`
/// minutes, then `band` long enough to fill the window and sit in the band, then only
/// answered contacts.
fn window_scenario(rule: Rule, window_s: i64, value: impl Fn(u32, u32) -> f64) {
    let breach = (1, 1);
    assert!(rule.breaches(value(breach.0, breach.1)));
    let band = band_mix(&rule, &value);
    assert!(rule.clears(value(1, 0)));
    let breach_min = (rule.for_ms + rule.repeat_ms) / MIN + 10;
    let band_min = window_s / 60 + 5;
    let mut s = Script::default();
    let mut m = 0;
    while m < breach_min + band_min + window_s / 60 {
        let (n, a) = if m < breach_min {
            breach
        } else if m < breach_min + band_min {
            band
        } else {
            (1, 0)
        };
        s.minute_mix(T0 + m * MIN, n, a);
        m += 1;
    }
    check(rule, s, "sales", T0 + m * MIN);
}

#[test]
fn service_level_below_target() {
    let rule = rule("ServiceLevelBelowTarget");
    let ccpulse::alerts::Metric::ServiceLevelVsTarget { window_seconds } = rule.metric else {
        panic!("{:?}", rule.metric)
    };
    let target = Config::default().defaults.sl_target.expect("target");
    // Cisco type 2: met / offered; the answered are met, the abandoned missed.
    window_scenario(rule, window_seconds, move |n, a| {
        n as f64 / (n + a) as f64 - target
    });
}

#[test]
fn abandon_rate_high() {
    let rule = rule("AbandonRateHigh");
    let ccpulse::alerts::Metric::AbandonRate { window_seconds } = rule.metric else {
        panic!("{:?}", rule.metric)
    };
    window_scenario(rule, window_seconds, |n, a| a as f64 / (n + a) as f64);
}

#[test]
fn longest_wait_high() {
    let rule = rule("LongestWaitHigh");
    // Multiples of the queue's T (the default 20 s): above 60 s, clear at 30 s.
    let k = scale(&rule);
    let (thr, clr) = (secs(rule.threshold * k), secs(rule.clear * k));
    assert_eq!((thr, clr), (60 * SEC, 30 * SEC));
    assert!(clr >= 2 * TICK && thr - clr >= 3 * TICK);
    let mut s = Script::default();
    // One caller waits from T0: past the threshold, `for`, and a repeat interval.
    let c1 = s.queue(T0);
    let x = T0 + thr + rule.for_ms + rule.repeat_ms + 2 * MIN;
    // A second caller, queued so that it has waited just over `clear` when c1 leaves;
    // it leaves at the tick it would wait past the threshold (at the threshold it is
    // not above it, so the band spans `threshold - clear`).
    let c2 = s.queue(x - clr - TICK);
    s.answer(x, &c1, "a1");
    let leave = x + (thr - clr);
    s.abandon(leave, &c2);
    check(rule, s, "sales", leave + 5 * MIN);
}

#[test]
fn contacts_waiting_high() {
    let rule = rule("ContactsWaitingHigh");
    let over = rule.threshold.floor() as usize + 1;
    let band = rule.threshold.floor() as usize;
    let clear = rule.clear.floor() as usize;
    assert!(rule.breaches(over as f64) && !rule.breaches(band as f64));
    assert!(!rule.clears(band as f64) && rule.clears(clear as f64));
    let mut s = Script::default();
    let ids: Vec<String> = (0..over).map(|_| s.queue(T0)).collect();
    let x = T0 + rule.for_ms + rule.repeat_ms + 3 * MIN;
    for c in &ids[band..] {
        s.abandon(x, c);
    }
    for c in &ids[clear..band] {
        s.abandon(x + 3 * MIN, c);
    }
    check(rule, s, "sales", x + 8 * MIN);
}

#[test]
fn staffing_gap() {
    let rule = rule("StaffingGap");
    // No hysteresis in the shipped rule: the band is empty.
    assert_eq!(rule.clear, rule.threshold);
    let cfg = Config::default();
    let window = cfg.staffing.window.ms();
    let mut s = Script::default();
    s.login(T0, "s0");
    // Ten arrivals a minute (abandoned after 30 s: nothing handled, so the default
    // AHT): Erlang C needs far more than the one agent staffed.
    let x = T0 + rule.for_ms + rule.repeat_ms + 5 * MIN;
    let end = x + window;
    let mut m = T0;
    while m < end {
        for _ in 0..10 {
            let c = s.queue(m);
            s.abandon(m + 30 * SEC, &c);
        }
        m += MIN;
    }
    // Then one more agent logs in every 10 s: the gap closes step by step and the
    // alert resolves at the first tick it is no longer above the clear threshold.
    let mut t = x;
    let mut k = 1;
    while t < end {
        s.login(t, &format!("s{k}"));
        k += 1;
        t += TICK;
    }
    check(rule, s, "sales", end);
}

#[test]
fn long_contact() {
    let rule = rule("LongContact");
    assert_eq!(rule.clear, rule.threshold);
    let mut s = Script::default();
    s.login(T0, "a1");
    let c1 = s.queue(T0);
    s.answer(T0, &c1, "a1");
    // On it past the threshold, `for` and a repeat interval; then the agent ends it
    // and takes the next contact (0 s on it: past the clear threshold).
    let x = T0 + secs(rule.threshold) + rule.for_ms + rule.repeat_ms + 2 * MIN;
    s.end(x, &c1);
    let c2 = s.queue(x);
    s.answer(x, &c2, "a1");
    check(rule, s, "a1", x + 5 * MIN);
}

#[test]
fn long_after_call_work() {
    let rule = rule("LongAfterCallWork");
    assert_eq!(rule.clear, rule.threshold);
    let mut s = Script::default();
    s.login(T0, "a1");
    let c1 = s.queue(T0);
    s.answer(T0, &c1, "a1");
    s.end(T0 + MIN, &c1);
    // In wrap-up past the threshold, `for` and a repeat interval; then ready again (no
    // longer in a timed state: the alert resolves), and a short wrap-up after the next
    // contact (under the threshold: nothing).
    s.state(T0 + MIN, "a1", AgentStatus::AfterCallWork);
    let x = T0 + MIN + secs(rule.threshold) + rule.for_ms + rule.repeat_ms + 2 * MIN;
    s.state(x, "a1", AgentStatus::Available);
    let c2 = s.queue(x + MIN);
    s.answer(x + MIN, &c2, "a1");
    s.end(x + 2 * MIN, &c2);
    s.state(x + 2 * MIN, "a1", AgentStatus::AfterCallWork);
    s.state(x + 3 * MIN, "a1", AgentStatus::Available);
    check(rule, s, "a1", x + 5 * MIN);
}
