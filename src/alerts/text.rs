//! Alert annotation text: `{scope}`, `{value}`, `{value_text}` and the scope's labels
//! filled into a template. `{value_text}` is the value as a person reads it, in its
//! metric's unit ("3 min 47 s", "12.0%"), for the summary a team leader gets on the
//! wallboard and their phone; `{value}` stays the plain number for custom templates.

use super::Metric;
use std::collections::BTreeMap;

/// Between a number and its unit.
const NBSP: char = '\u{a0}';

/// What a metric's value is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Seconds (waits, contact time, lateness, silence).
    Seconds,
    /// A ratio (abandon rate).
    Ratio,
    /// A difference of two ratios (service level minus target).
    RatioDelta,
    /// A number of contacts, or a 0/1 flag.
    Count,
    /// A number of agents ("1 agent", "3 agents").
    Agents,
}

impl Metric {
    /// The unit of the metric's value.
    pub fn unit(&self) -> Unit {
        match self {
            Metric::LongestWaitSeconds
            | Metric::ContactSeconds
            | Metric::StateSeconds(_)
            | Metric::NoShowSeconds
            | Metric::BreakOverrunSeconds
            | Metric::LateReturnSeconds
            | Metric::OutOfAdherenceSeconds
            | Metric::SourceSilentSeconds => Unit::Seconds,
            Metric::AbandonRate { .. } => Unit::Ratio,
            Metric::ServiceLevelVsTarget { .. } => Unit::RatioDelta,
            Metric::ContactsWaiting | Metric::SourceUp => Unit::Count,
            Metric::StaffingGap | Metric::AgentsInState(_) => Unit::Agents,
        }
    }
}

impl Unit {
    /// `v` as a person reads it: `227` s → "3 min 47 s", `0.123` → "12.3%",
    /// `-0.052` (of a ratio) → "-5.2 points", a count as a whole number.
    pub fn text(self, v: f64) -> String {
        if !v.is_finite() {
            return number(v);
        }
        match self {
            Unit::Seconds => duration(v),
            Unit::Ratio => format!("{:.1}%", v * 100.0),
            Unit::RatioDelta => format!("{:+.1}{NBSP}points", v * 100.0),
            Unit::Count => number(v),
            Unit::Agents if v == 1.0 => format!("1{NBSP}agent"),
            Unit::Agents => format!("{}{NBSP}agents", number(v)),
        }
    }
}

/// A plain number: whole when it is, else two decimals (`{value}`).
fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// As people say it: seconds under ten minutes ("45 s", "3 min 47 s"), whole minutes
/// after that ("34 min", "1 h 5 min"); a no-break space ties each number to its unit,
/// so a wrapped summary never leaves a lone "s" on the next line.
fn duration(secs: f64) -> String {
    let sign = if secs < 0.0 { "-" } else { "" };
    let mut s = secs.abs().round() as u64;
    if s >= 600 {
        s = (s + 30) / 60 * 60;
    }
    let (h, m, r) = (s / 3600, s % 3600 / 60, s % 60);
    let body = match (h, m, r) {
        (0, 0, r) => format!("{r}{NBSP}s"),
        (0, m, 0) => format!("{m}{NBSP}min"),
        (0, m, r) => format!("{m}{NBSP}min {r}{NBSP}s"),
        (h, 0, _) => format!("{h}{NBSP}h"),
        (h, m, _) => format!("{h}{NBSP}h {m}{NBSP}min"),
    };
    format!("{sign}{body}")
}

/// Fills `{scope}`, `{value}` and `{value_text}` into an annotation template.
pub(crate) fn fill(template: &str, scope: &str, value: f64, unit: Unit) -> String {
    template
        .replace("{scope}", scope)
        .replace("{value_text}", &unit.text(value))
        .replace("{value}", &number(value))
}

/// [`fill`], then the scope's labels (`{team}`).
pub(crate) fn fill_labels(
    template: &str,
    scope: &str,
    value: f64,
    unit: Unit,
    labels: &BTreeMap<&'static str, String>,
) -> String {
    let mut s = fill(template, scope, value, unit);
    for (k, v) in labels {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_in_their_unit() {
        // Written with plain spaces here; the text has no-break spaces before units.
        let secs = |v| Unit::Seconds.text(v).replace(NBSP, " ");
        assert_eq!(secs(0.4), "0 s");
        assert_eq!(secs(45.0), "45 s");
        assert_eq!(secs(226.99), "3 min 47 s");
        assert_eq!(secs(2040.0), "34 min");
        assert_eq!(secs(2038.0), "34 min", "minutes only from ten minutes on");
        assert_eq!(secs(599.0), "9 min 59 s");
        assert_eq!(secs(3599.0), "1 h");
        assert_eq!(secs(3900.0), "1 h 5 min");
        assert_eq!(secs(7200.0), "2 h");
        assert_eq!(secs(-90.0), "-1 min 30 s");
        assert_eq!(Unit::Ratio.text(0.123), "12.3%");
        assert_eq!(Unit::RatioDelta.text(-0.052), "-5.2\u{a0}points");
        assert_eq!(Unit::RatioDelta.text(0.01), "+1.0\u{a0}points");
        assert_eq!(Unit::Seconds.text(226.99), "3\u{a0}min 47\u{a0}s");
        assert_eq!(Unit::Count.text(12.0), "12");
        assert_eq!(Unit::Count.text(2.5), "2.50");
        assert_eq!(Unit::Agents.text(1.0), "1\u{a0}agent");
        assert_eq!(Unit::Agents.text(3.0), "3\u{a0}agents");
        assert_eq!(Unit::Agents.text(-2.0), "-2\u{a0}agents");
        assert_eq!(Unit::Seconds.text(f64::NAN), "NaN");
    }

    #[test]
    fn templates_get_the_number_and_the_text() {
        let mut labels = BTreeMap::new();
        labels.insert("team", "A".to_string());
        let s = fill_labels(
            "{scope} (team {team}) waited {value_text} ({value} s)",
            "ann",
            226.99,
            Unit::Seconds,
            &labels,
        );
        assert_eq!(s, "ann (team A) waited 3\u{a0}min 47\u{a0}s (226.99 s)");
    }

    #[test]
    fn the_staffing_gap_says_agent_or_agents() {
        let rule = crate::alerts::default_rules()
            .into_iter()
            .find(|r| r.name == "StaffingGap")
            .expect("built-in");
        let text = |v| fill(&rule.summary, "email", v, rule.metric.unit());
        assert_eq!(text(1.0), "email is short of 1\u{a0}agent");
        assert_eq!(text(3.0), "email is short of 3\u{a0}agents");
    }
}
