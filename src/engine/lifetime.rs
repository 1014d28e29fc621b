//! Lifetime counters per queue and channel, with Prometheus-style cumulative histogram
//! buckets: what `/metrics` exports so PromQL can compute any window and sum across
//! instances (interfaces.md §4).

use super::agg::{fold_queue_counters, QueueObs};
use crate::kpi::QueueCounters;
use crate::model::{ExitReason, Millis};

/// Bucket upper bounds (seconds) for wait histograms; each queue adds its SL threshold.
const WAIT_EDGES_S: [f64; 18] = [
    1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 240.0, 300.0, 600.0,
    900.0, 1800.0, 3600.0,
];
/// Bucket upper bounds (seconds) for handle-time histograms.
const HANDLE_EDGES_S: [f64; 13] = [
    30.0, 60.0, 120.0, 180.0, 240.0, 300.0, 420.0, 600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0,
];

/// A cumulative histogram with fixed bucket edges (`le` in seconds), plus sum and count.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PromHist {
    /// Upper bounds in seconds, ascending (the `+Inf` bucket is `count`).
    pub le: Vec<f64>,
    /// Observations ≤ each bound (non-cumulative per bucket; see [`PromHist::cumulative`]).
    counts: Vec<u64>,
    /// Sum of observations, in ms.
    pub sum_ms: u64,
    /// Number of observations.
    pub count: u64,
}

impl PromHist {
    fn new(edges: &[f64], extra: Option<f64>) -> Self {
        let mut le: Vec<f64> = edges.to_vec();
        if let Some(x) = extra.filter(|x| *x > 0.0) {
            le.push(x);
        }
        le.sort_by(|a, b| a.total_cmp(b));
        le.dedup();
        PromHist {
            counts: vec![0; le.len()],
            le,
            sum_ms: 0,
            count: 0,
        }
    }

    fn observe(&mut self, ms: u64) {
        let secs = ms as f64 / 1000.0;
        let i = self.le.partition_point(|b| *b < secs);
        if let Some(c) = self.counts.get_mut(i) {
            *c += 1;
        }
        self.sum_ms += ms;
        self.count += 1;
    }

    /// `(le, cumulative count)` per bucket, as Prometheus exposes them.
    pub fn cumulative(&self) -> Vec<(f64, u64)> {
        let mut acc = 0;
        self.le
            .iter()
            .zip(&self.counts)
            .map(|(le, c)| {
                acc += c;
                (*le, acc)
            })
            .collect()
    }
}

/// Everything counted for one queue and channel since the engine started.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChannelTotals {
    /// The counters.
    pub c: QueueCounters,
    /// Exits by reason (indexed by `ExitReason as usize`).
    pub exited_by_reason: [u64; 7],
    /// Waits of answered contacts.
    pub answer_wait: PromHist,
    /// Waits of abandoned (not short) contacts.
    pub abandon_wait: PromHist,
    /// Handle times.
    pub handle_time: PromHist,
}

impl ChannelTotals {
    /// Empty totals whose wait buckets include the queue's SL threshold `t_ms`.
    pub fn new(t_ms: Millis) -> Self {
        let t = Some(t_ms as f64 / 1000.0);
        ChannelTotals {
            c: QueueCounters::default(),
            exited_by_reason: [0; 7],
            answer_wait: PromHist::new(&WAIT_EDGES_S, t),
            abandon_wait: PromHist::new(&WAIT_EDGES_S, t),
            handle_time: PromHist::new(&HANDLE_EDGES_S, None),
        }
    }

    /// Counts an observation (and, for exits, its reason).
    pub fn apply(&mut self, o: &QueueObs, exit: Option<ExitReason>) {
        fold_queue_counters(&mut self.c, o);
        match *o {
            QueueObs::Answered { wait_ms, .. } => self.answer_wait.observe(wait_ms),
            QueueObs::Abandoned {
                wait_ms,
                short: false,
                ..
            } => self.abandon_wait.observe(wait_ms),
            QueueObs::Handled { handle_ms, .. } => self.handle_time.observe(handle_ms),
            QueueObs::Exited => {
                if let Some(r) = exit {
                    self.exited_by_reason[r as usize] += 1;
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_include_the_sl_threshold_and_are_cumulative() {
        let mut t = ChannelTotals::new(25_000);
        assert!(t.answer_wait.le.contains(&25.0));
        for w in [500, 20_000, 25_000, 26_000, 10_000_000] {
            t.apply(
                &QueueObs::Answered {
                    wait_ms: w,
                    within: w <= 25_000,
                },
                None,
            );
        }
        let cum = t.answer_wait.cumulative();
        let at = |le: f64| cum.iter().find(|(b, _)| *b == le).map(|(_, c)| *c);
        assert_eq!(at(1.0), Some(1));
        assert_eq!(at(20.0), Some(2));
        assert_eq!(at(25.0), Some(3), "le is inclusive");
        assert_eq!(at(3600.0), Some(4));
        assert_eq!(t.answer_wait.count, 5, "+Inf holds everything");
        assert_eq!(t.c.answered_within_sl, 3);
    }
}
