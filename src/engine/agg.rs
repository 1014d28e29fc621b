//! Observations (one counter increment at one instant) and the aggregates they fold into.

use super::hist::{Buckets, SlidingHist};
pub use super::samples::ValueBag;
use crate::kpi::{AgentCounters, Percentiles, QueueCounters};
use crate::model::AgentStatus;

/// A mergeable aggregate of observations over a span of event time.
pub trait Aggregate: Default + Clone + serde::Serialize + serde::de::DeserializeOwned {
    /// One observation.
    type Obs: Copy + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned;
    /// What is kept of a closed interval (counters and percentiles, no histograms).
    type Row: Clone + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned;
    /// What a closed local day keeps beside its row so that days sum into a week with
    /// its percentiles (a queue's histogram buckets; nothing for agents and teams).
    type DayValues: Clone
        + Default
        + std::fmt::Debug
        + serde::Serialize
        + serde::de::DeserializeOwned;
    /// Folds an observation in.
    fn apply(&mut self, o: &Self::Obs);
    /// Folds an observation's counters in but not its histogram values: the lifetime
    /// totals take histograms from each day when it closes.
    fn apply_counts(&mut self, o: &Self::Obs) {
        self.apply(o);
    }
    /// Folds an observation in keeping raw values instead of histograms (intervals).
    fn apply_sampled(&mut self, o: &Self::Obs) {
        self.apply(o);
    }
    /// Adds the histograms / samples of a closed span inside this one.
    fn absorb_histograms(&mut self, _inner: &Self) {}
    /// Readies a finished rolling bucket for windows: values it keeps one by one are
    /// grouped per histogram bucket, so adding it to (and later taking it out of) each
    /// window costs one record per histogram bucket, not one per contact.
    fn seal(&mut self) {}
    /// Orders a closed interval's kept values before they are read and merged (see
    /// [`ValueBag::sort`](super::samples::ValueBag::sort)).
    fn sort_samples(&mut self) {}
    /// Adds a rolling bucket (built with `apply_sampled`) to a window.
    fn merge_bucket(&mut self, bucket: &Self);
    /// Adds another span's counters only (not its values).
    fn add_counts(&mut self, other: &Self);
    /// Takes a rolling bucket out of a window again.
    fn unmerge_bucket(&mut self, bucket: &Self);
    /// The compact row kept for a closed interval.
    fn to_row(&mut self) -> Self::Row;
    /// True when the span saw anything worth a report row.
    fn has_activity(&self) -> bool;
    /// The values a day (a span summed with `merge_bucket`) keeps beside its row.
    fn day_values(&self) -> Self::DayValues;
    /// Adds a kept day: its row's counters and its `values` (into this span's
    /// histograms, as `absorb_histograms` adds an open day's).
    fn add_day(&mut self, row: &Self::Row, values: &Self::DayValues);
}

/// The service-level outcome of one contact (exactly one per non-short contact).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SlOutcome {
    /// Answered within T.
    Met,
    /// Abandoned (not short) or exited within T.
    AbandonedWithin,
    /// No outcome by queued + T.
    Missed,
}

/// One queue counter increment, at the instant kpi-definitions §2 gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum QueueObs {
    /// Contact queued.
    Arrived,
    /// Answered after `wait_ms`; `within` = wait ≤ T.
    Answered {
        /// The wait.
        wait_ms: u64,
        /// wait ≤ T.
        within: bool,
    },
    /// Abandoned after `wait_ms`.
    Abandoned {
        /// The wait.
        wait_ms: u64,
        /// wait < S.
        short: bool,
        /// S ≤ wait ≤ T.
        within: bool,
    },
    /// Exited.
    Exited,
    /// The SL outcome.
    Sl(SlOutcome),
    /// Handled (end of ACW).
    Handled {
        /// talk + hold + acw.
        handle_ms: u64,
        /// Talk.
        talk_ms: u64,
        /// Hold.
        hold_ms: u64,
        /// After-contact work.
        acw_ms: u64,
    },
    /// Transferred after being answered.
    Transferred,
    /// Closed as an orphan.
    Orphaned,
}

/// The values of one interval or rolling bucket (bounded: see [`ValueBag`]): exact
/// percentiles for an ordinary interval, and the day's histogram takes them without
/// walking buckets.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Samples {
    /// Waits of answered contacts (ms).
    #[serde(default, skip_serializing_if = "ValueBag::is_empty")]
    pub wait: ValueBag,
    /// Waits of abandoned (not short) contacts (ms).
    #[serde(default, skip_serializing_if = "ValueBag::is_empty")]
    pub abandon_wait: ValueBag,
    /// Handle times (ms).
    #[serde(default, skip_serializing_if = "ValueBag::is_empty")]
    pub handle: ValueBag,
}

impl Samples {
    /// True when no span value is kept (checkpoints then leave the samples out).
    pub fn is_empty(&self) -> bool {
        self.wait.is_empty() && self.abandon_wait.is_empty() && self.handle.is_empty()
    }
}

/// Counters plus wait/handle distributions of a queue over a span: HdrHistograms for
/// days, totals and rolling windows; raw samples for intervals.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[repr(C)]
pub struct QueueAgg {
    /// The counters.
    pub c: QueueCounters,
    /// Raw values (interval spans only).
    #[serde(default, skip_serializing_if = "Samples::is_empty")]
    pub samples: Samples,
    /// Waits of answered contacts.
    #[serde(default, skip_serializing_if = "SlidingHist::is_clear")]
    pub wait: SlidingHist,
    /// Waits of abandoned (not short) contacts.
    #[serde(default, skip_serializing_if = "SlidingHist::is_clear")]
    pub abandon_wait: SlidingHist,
    /// Handle times.
    #[serde(default, skip_serializing_if = "SlidingHist::is_clear")]
    pub handle: SlidingHist,
}

const QS: [f64; 3] = [0.5, 0.9, 0.99];

impl QueueAgg {
    /// Percentiles of the span (applies pending rolling removals first).
    pub fn percentiles(&mut self) -> Percentiles {
        self.wait.current();
        self.handle.current();
        self.settled_percentiles()
    }

    /// Percentiles of a span with no pending removals: exact from samples when the
    /// span keeps them, else from the histograms (2 significant figures).
    pub fn settled_percentiles(&self) -> Percentiles {
        let (w, h) = if self.wait.added().is_empty() && self.handle.added().is_empty() {
            (
                self.samples.wait.quantiles_secs(QS),
                self.samples.handle.quantiles_secs(QS),
            )
        } else {
            (
                self.wait.added().quantiles_secs(QS),
                self.handle.added().quantiles_secs(QS),
            )
        };
        Percentiles {
            wait_p50_seconds: w[0],
            wait_p90_seconds: w[1],
            wait_p99_seconds: w[2],
            handle_p50_seconds: h[0],
            handle_p90_seconds: h[1],
            handle_p99_seconds: h[2],
        }
    }

    /// Hands every `(value, count)` of `s` to the matching histogram with `op` (add a
    /// closed span or bucket, or take a bucket out of a window).
    fn samples_into(&mut self, s: &Samples, op: fn(&mut SlidingHist, u64, u64)) {
        for (hist, bag) in [
            (&mut self.wait, &s.wait),
            (&mut self.abandon_wait, &s.abandon_wait),
            (&mut self.handle, &s.handle),
        ] {
            bag.iter().for_each(|(v, n)| op(hist, v, n));
        }
    }

    fn fold(&mut self, o: &QueueObs) {
        self.fold_counts(o);
        match *o {
            QueueObs::Answered { wait_ms, .. } => self.wait.record(wait_ms),
            QueueObs::Abandoned {
                wait_ms,
                short: false,
                ..
            } => self.abandon_wait.record(wait_ms),
            QueueObs::Handled { handle_ms, .. } => self.handle.record(handle_ms),
            _ => {}
        }
    }

    fn fold_counts(&mut self, o: &QueueObs) {
        fold_queue_counters(&mut self.c, o);
    }
}

/// Adds an observation's counters: the one place that maps observations
/// to queue counters, shared by windows and the lifetime totals.
pub(crate) fn fold_queue_counters(c: &mut QueueCounters, o: &QueueObs) {
    match *o {
        QueueObs::Arrived => c.arrived += 1,
        QueueObs::Answered { wait_ms, within } => {
            c.answered += 1;
            c.answered_within_sl += within as u64;
            c.answered_wait_ms += wait_ms;
        }
        QueueObs::Abandoned {
            wait_ms,
            short,
            within,
        } => {
            if short {
                c.short_abandoned += 1;
            } else {
                c.abandoned += 1;
                c.abandoned_within_sl += within as u64;
                c.abandoned_wait_ms += wait_ms;
            }
        }
        QueueObs::Exited => c.exited += 1,
        QueueObs::Sl(SlOutcome::Met) => c.sl_met += 1,
        QueueObs::Sl(SlOutcome::AbandonedWithin) => c.sl_abandoned_within += 1,
        QueueObs::Sl(SlOutcome::Missed) => c.sl_missed += 1,
        QueueObs::Handled {
            handle_ms,
            talk_ms,
            hold_ms,
            acw_ms,
        } => {
            c.handled += 1;
            c.handle_ms += handle_ms;
            c.talk_ms += talk_ms;
            c.hold_ms += hold_ms;
            c.acw_ms += acw_ms;
        }
        QueueObs::Transferred => c.transferred += 1,
        QueueObs::Orphaned => c.orphaned += 1,
    }
}

/// A closed day's waits and handle times, as histogram buckets (a few hundred pairs
/// where a histogram takes ~8 KB): weekly percentiles merge them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QueueDayValues {
    /// Waits of answered contacts.
    #[serde(default, skip_serializing_if = "Buckets::is_empty")]
    pub wait: Buckets,
    /// Handle times. (Abandoned contacts' waits have no percentile in reports.)
    #[serde(default, skip_serializing_if = "Buckets::is_empty")]
    pub handle: Buckets,
}

impl Aggregate for QueueAgg {
    type Obs = QueueObs;
    type Row = QueueRow;
    type DayValues = QueueDayValues;
    fn apply(&mut self, o: &QueueObs) {
        self.fold(o);
    }
    fn apply_counts(&mut self, o: &QueueObs) {
        self.fold_counts(o);
    }
    fn apply_sampled(&mut self, o: &QueueObs) {
        self.fold_counts(o);
        match *o {
            QueueObs::Answered { wait_ms, .. } => self.samples.wait.push(wait_ms),
            QueueObs::Abandoned {
                wait_ms,
                short: false,
                ..
            } => self.samples.abandon_wait.push(wait_ms),
            QueueObs::Handled { handle_ms, .. } => self.samples.handle.push(handle_ms),
            _ => {}
        }
    }
    fn absorb_histograms(&mut self, inner: &Self) {
        self.wait.merge(inner.wait.added());
        self.abandon_wait.merge(inner.abandon_wait.added());
        self.handle.merge(inner.handle.added());
        self.samples_into(&inner.samples, SlidingHist::record_n);
    }
    fn sort_samples(&mut self) {
        self.samples.wait.sort();
        self.samples.abandon_wait.sort();
        self.samples.handle.sort();
    }
    fn seal(&mut self) {
        self.samples.wait.bin();
        self.samples.abandon_wait.bin();
        self.samples.handle.bin();
    }
    fn merge_bucket(&mut self, b: &Self) {
        self.c.add(&b.c);
        self.samples_into(&b.samples, SlidingHist::record_n);
    }
    fn add_counts(&mut self, other: &Self) {
        self.c.add(&other.c);
    }
    fn unmerge_bucket(&mut self, b: &Self) {
        self.c.sub(&b.c);
        self.samples_into(&b.samples, SlidingHist::remove_n);
    }
    fn to_row(&mut self) -> Self::Row {
        let p = self.percentiles();
        (self.c.clone(), p)
    }
    fn has_activity(&self) -> bool {
        !self.c.is_empty()
    }
    fn day_values(&self) -> QueueDayValues {
        QueueDayValues {
            wait: self.wait.added().buckets(),
            handle: self.handle.added().buckets(),
        }
    }
    fn add_day(&mut self, row: &QueueRow, v: &QueueDayValues) {
        self.c.add(&row.0);
        for (hist, b) in [(&mut self.wait, &v.wait), (&mut self.handle, &v.handle)] {
            b.iter().for_each(|(ms, n)| hist.record_n(ms, n));
        }
    }
}

/// A queue's closed-interval row: its counters and its exact percentiles.
pub type QueueRow = (QueueCounters, Percentiles);

/// One agent (or team) counter increment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AgentObs {
    /// Handled a contact.
    Handled {
        /// talk + hold + acw.
        handle_ms: u64,
        /// Talk.
        talk_ms: u64,
        /// Hold.
        hold_ms: u64,
        /// After-contact work.
        acw_ms: u64,
    },
    /// Transferred a contact.
    Transferred,
    /// Let an offer ring out.
    RingNoAnswer,
    /// Spent `ms` in `state`.
    State {
        /// The state.
        state: AgentStatus,
        /// Time in it.
        ms: u64,
    },
}

/// Counters of an agent or team over a span.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct AgentAgg {
    /// The counters.
    pub c: AgentCounters,
}

impl AgentAgg {
    fn fold(&mut self, o: &AgentObs) {
        let c = &mut self.c;
        match *o {
            AgentObs::Handled {
                handle_ms,
                talk_ms,
                hold_ms,
                acw_ms,
            } => {
                c.handled += 1;
                c.handle_ms += handle_ms;
                c.talk_ms += talk_ms;
                c.hold_ms += hold_ms;
                c.acw_ms += acw_ms;
            }
            AgentObs::Transferred => c.transferred += 1,
            AgentObs::RingNoAnswer => c.ring_no_answer += 1,
            AgentObs::State { state, ms } => c.state_ms[state as usize] += ms,
        }
    }
}

/// An agent's or team's closed-interval counters as one flat array (104 bytes; the
/// checkpoint writes it as a JSON array). 64 bits each: a team's weekly row sums its
/// agents' times, and 32 bits of milliseconds hold only 49.7 days (a team of 30 agents
/// logged in 40 hours a week is 50 days of logged-in time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgentRow([u64; 13]);

impl From<&AgentCounters> for AgentRow {
    fn from(c: &AgentCounters) -> Self {
        AgentRow(c.to_array())
    }
}

impl From<&AgentRow> for AgentCounters {
    fn from(r: &AgentRow) -> Self {
        AgentCounters::from_array(r.0)
    }
}

impl Aggregate for AgentAgg {
    type Obs = AgentObs;
    type Row = AgentRow;
    type DayValues = ();
    fn apply(&mut self, o: &AgentObs) {
        self.fold(o);
    }
    fn merge_bucket(&mut self, b: &Self) {
        self.c.add(&b.c);
    }
    fn add_counts(&mut self, other: &Self) {
        self.c.add(&other.c);
    }
    fn unmerge_bucket(&mut self, b: &Self) {
        self.c.sub(&b.c);
    }
    fn to_row(&mut self) -> AgentRow {
        AgentRow::from(&self.c)
    }
    fn has_activity(&self) -> bool {
        self.c.has_activity()
    }
    fn day_values(&self) {}
    fn add_day(&mut self, row: &AgentRow, _: &()) {
        self.c.add(&AgentCounters::from(row));
    }
}
