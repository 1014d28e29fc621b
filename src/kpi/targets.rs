//! Per-agent target attainment: each configured target met or missed, and the share met.

use super::AgentKpis;
use crate::config::Targets;
use serde::Serialize;

/// One target's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetResult {
    /// Target name (`aht`, `avg_acw`, `occupancy_min`, `occupancy_max`, `handled_per_hour`,
    /// `max_aux_share`, `adherence_min`).
    pub target: &'static str,
    /// The configured value (seconds for times, ratios, per hour).
    pub goal: f64,
    /// The measured value, if any.
    pub actual: Option<f64>,
    /// Met, missed, or `None` when there is nothing to measure yet.
    pub met: Option<bool>,
}

/// Attainment of all configured targets over a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attainment {
    /// Each target.
    pub results: Vec<TargetResult>,
    /// Targets met / targets measurable (`None` when none is measurable).
    pub share_met: Option<f64>,
}

impl Attainment {
    /// Evaluates `t` against the KPIs `k`; `adherence` is the window's schedule adherence
    /// when a schedule measures it (the engine alone never does).
    pub fn evaluate(t: &Targets, k: &AgentKpis, adherence: Option<f64>) -> Self {
        let mut results = Vec::new();
        let mut push = |target, goal: Option<f64>, actual: Option<f64>, at_most: bool| {
            if let Some(goal) = goal {
                let met = actual.map(|a| if at_most { a <= goal } else { a >= goal });
                results.push(TargetResult {
                    target,
                    goal,
                    actual,
                    met,
                });
            }
        };
        let secs = |d: Option<crate::config::Duration>| d.map(|d| d.ms() as f64 / 1000.0);
        push("aht", secs(t.aht), k.aht_seconds, true);
        push("avg_acw", secs(t.avg_acw), k.avg_acw_seconds, true);
        push("occupancy_min", t.occupancy_min, k.occupancy, false);
        push("occupancy_max", t.occupancy_max, k.occupancy, true);
        push(
            "handled_per_hour",
            t.handled_per_hour,
            k.handled_per_hour,
            false,
        );
        push("max_aux_share", t.max_aux_share, k.aux_share, true);
        push("adherence_min", t.adherence_min, adherence, false);
        let measurable = results.iter().filter(|r| r.met.is_some()).count();
        let met = results.iter().filter(|r| r.met == Some(true)).count();
        Attainment {
            share_met: super::ratio(met as f64, measurable as f64),
            results,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Duration;

    #[test]
    fn met_missed_and_unmeasurable() {
        let t = Targets {
            aht: Some(Duration::secs(300)),
            occupancy_min: Some(0.7),
            occupancy_max: Some(0.9),
            avg_acw: Some(Duration::secs(30)),
            ..Targets::default()
        };
        let k = AgentKpis {
            aht_seconds: Some(280.0),
            occupancy: Some(0.95),
            avg_acw_seconds: None,
            ..AgentKpis::default()
        };
        let a = Attainment::evaluate(&t, &k, None);
        let by = |n: &str| a.results.iter().find(|r| r.target == n).map(|r| r.met);
        assert_eq!(by("aht"), Some(Some(true)));
        assert_eq!(by("occupancy_min"), Some(Some(true)));
        assert_eq!(by("occupancy_max"), Some(Some(false)));
        assert_eq!(by("avg_acw"), Some(None));
        assert_eq!(by("adherence_min"), None, "not a target here");
        assert_eq!(a.share_met, Some(2.0 / 3.0));
    }

    #[test]
    fn adherence_counts_when_a_schedule_measures_it() {
        let t = Targets {
            aht: Some(Duration::secs(300)),
            adherence_min: Some(0.9),
            ..Targets::default()
        };
        let k = AgentKpis {
            aht_seconds: Some(280.0),
            ..AgentKpis::default()
        };
        let result = |adh| {
            let a = Attainment::evaluate(&t, &k, adh);
            let r = a
                .results
                .iter()
                .find(|r| r.target == "adherence_min")
                .cloned();
            (r.map(|r| (r.goal, r.actual, r.met)), a.share_met)
        };
        assert_eq!(
            result(None),
            (Some((0.9, None, None)), Some(1.0)),
            "no schedule"
        );
        assert_eq!(
            result(Some(0.95)),
            (Some((0.9, Some(0.95), Some(true))), Some(1.0))
        );
        assert_eq!(
            result(Some(0.9)),
            (Some((0.9, Some(0.9), Some(true))), Some(1.0))
        );
        assert_eq!(
            result(Some(0.5)),
            (Some((0.9, Some(0.5), Some(false))), Some(0.5))
        );
    }
}
