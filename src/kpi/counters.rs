//! Mergeable counters: the only inputs of KPI formulas. Sums are in milliseconds.

use crate::model::AgentStatus;

/// Counters of one queue over one span of event time (kpi-definitions §2).
///
/// Serialized (engine checkpoints only) as an array in field order, a fifth of the
/// named form: a checkpoint holds tens of thousands of these (rolling buckets, report
/// rows). The derived `Deserialize` reads both that array and the named form of older
/// checkpoints. New fields go at the end.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct QueueCounters {
    /// Contacts queued.
    pub arrived: u64,
    /// Queue outcome answered.
    pub answered: u64,
    /// Answered with wait ≤ T.
    pub answered_within_sl: u64,
    /// Abandoned with wait ≥ S.
    pub abandoned: u64,
    /// Abandoned with wait < S.
    pub short_abandoned: u64,
    /// Abandoned with S ≤ wait ≤ T.
    pub abandoned_within_sl: u64,
    /// Queue outcome exited (any reason).
    pub exited: u64,
    /// SL outcome: answered within T.
    pub sl_met: u64,
    /// SL outcome: abandoned (not short) or exited within T.
    pub sl_abandoned_within: u64,
    /// SL outcome: no outcome by queued + T.
    pub sl_missed: u64,
    /// Contacts handled (end of ACW).
    pub handled: u64,
    /// Handled contacts that were transferred.
    pub transferred: u64,
    /// Contacts closed without an outcome or end after the orphan timeout or an ACD restart.
    pub orphaned: u64,
    /// Sum of waits of answered contacts.
    pub answered_wait_ms: u64,
    /// Sum of waits of (non-short) abandoned contacts.
    pub abandoned_wait_ms: u64,
    /// Sum of handle times of handled contacts.
    pub handle_ms: u64,
    /// Sum of talk times of handled contacts.
    pub talk_ms: u64,
    /// Sum of hold times of handled contacts.
    pub hold_ms: u64,
    /// Sum of ACW times of handled contacts.
    pub acw_ms: u64,
}

impl serde::Serialize for QueueCounters {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let fields = [
            self.arrived,
            self.answered,
            self.answered_within_sl,
            self.abandoned,
            self.short_abandoned,
            self.abandoned_within_sl,
            self.exited,
            self.sl_met,
            self.sl_abandoned_within,
            self.sl_missed,
            self.handled,
            self.transferred,
            self.orphaned,
            self.answered_wait_ms,
            self.abandoned_wait_ms,
            self.handle_ms,
            self.talk_ms,
            self.hold_ms,
            self.acw_ms,
        ];
        let mut t = s.serialize_tuple(fields.len())?;
        for f in &fields {
            t.serialize_element(f)?;
        }
        t.end()
    }
}

impl QueueCounters {
    /// `sl_met + sl_abandoned_within + sl_missed`.
    pub fn sl_offered(&self) -> u64 {
        self.sl_met + self.sl_abandoned_within + self.sl_missed
    }

    /// Applies `f` to every field pair: the one place that lists the fields for merging.
    fn zip(&mut self, o: &Self, f: impl Fn(&mut u64, u64)) {
        f(&mut self.arrived, o.arrived);
        f(&mut self.answered, o.answered);
        f(&mut self.answered_within_sl, o.answered_within_sl);
        f(&mut self.abandoned, o.abandoned);
        f(&mut self.short_abandoned, o.short_abandoned);
        f(&mut self.abandoned_within_sl, o.abandoned_within_sl);
        f(&mut self.exited, o.exited);
        f(&mut self.sl_met, o.sl_met);
        f(&mut self.sl_abandoned_within, o.sl_abandoned_within);
        f(&mut self.sl_missed, o.sl_missed);
        f(&mut self.handled, o.handled);
        f(&mut self.transferred, o.transferred);
        f(&mut self.orphaned, o.orphaned);
        f(&mut self.answered_wait_ms, o.answered_wait_ms);
        f(&mut self.abandoned_wait_ms, o.abandoned_wait_ms);
        f(&mut self.handle_ms, o.handle_ms);
        f(&mut self.talk_ms, o.talk_ms);
        f(&mut self.hold_ms, o.hold_ms);
        f(&mut self.acw_ms, o.acw_ms);
    }

    /// Adds `o` (merging two spans).
    pub fn add(&mut self, o: &Self) {
        self.zip(o, |a, b| *a += b);
    }

    /// Subtracts `o` (a span leaving a rolling window).
    pub fn sub(&mut self, o: &Self) {
        self.zip(o, |a, b| *a = a.saturating_sub(b));
    }

    /// True when nothing was counted.
    pub fn is_empty(&self) -> bool {
        *self == QueueCounters::default()
    }
}

/// Counters of one agent (or a team, summed over its agents) over one span.
///
/// Serialized (engine checkpoints only) as an array in field order, `state_ms` nested:
/// a third of the named form, for the teams' rolling buckets. The derived `Deserialize`
/// reads both that array and the named form of older checkpoints. New fields go at the
/// end.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct AgentCounters {
    /// Contacts handled (end of ACW).
    pub handled: u64,
    /// Handled contacts that were transferred.
    pub transferred: u64,
    /// Offers the agent let ring out (queue_log RINGNOANSWER).
    pub ring_no_answer: u64,
    /// Sum of handle times.
    pub handle_ms: u64,
    /// Sum of talk times.
    pub talk_ms: u64,
    /// Sum of hold times.
    pub hold_ms: u64,
    /// Sum of ACW times.
    pub acw_ms: u64,
    /// Time in each state, indexed by `AgentStatus as usize`.
    pub state_ms: [u64; 6],
}

impl serde::Serialize for AgentCounters {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut t = s.serialize_tuple(8)?;
        for f in &self.to_array()[..CONTACT_COUNTERS] {
            t.serialize_element(f)?;
        }
        t.serialize_element(&self.state_ms)?;
        t.end()
    }
}

/// The contact counters before the state times in [`AgentCounters::to_array`].
const CONTACT_COUNTERS: usize = 7;

impl AgentCounters {
    /// Time in one state.
    pub fn in_state(&self, s: AgentStatus) -> u64 {
        self.state_ms[s as usize]
    }

    /// Time logged in (every state but logged_out).
    pub fn logged_in_ms(&self) -> u64 {
        self.state_ms.iter().sum::<u64>() - self.in_state(AgentStatus::LoggedOut)
    }

    /// The counters in their one fixed order (a report row's, and the checkpoint's with
    /// the state times nested): the contact counters, then the time in each state.
    pub fn to_array(&self) -> [u64; 13] {
        let s = self.state_ms;
        [
            self.handled,
            self.transferred,
            self.ring_no_answer,
            self.handle_ms,
            self.talk_ms,
            self.hold_ms,
            self.acw_ms,
            s[0],
            s[1],
            s[2],
            s[3],
            s[4],
            s[5],
        ]
    }

    /// The counters from [`AgentCounters::to_array`]'s order.
    pub fn from_array(v: [u64; 13]) -> Self {
        AgentCounters {
            handled: v[0],
            transferred: v[1],
            ring_no_answer: v[2],
            handle_ms: v[3],
            talk_ms: v[4],
            hold_ms: v[5],
            acw_ms: v[6],
            state_ms: [v[7], v[8], v[9], v[10], v[11], v[12]],
        }
    }

    fn zip(&mut self, o: &Self, f: impl Fn(&mut u64, u64)) {
        let mut a = self.to_array();
        for (x, y) in a.iter_mut().zip(o.to_array()) {
            f(x, y);
        }
        *self = Self::from_array(a);
    }

    /// Adds `o`.
    pub fn add(&mut self, o: &Self) {
        self.zip(o, |a, b| *a += b);
    }

    /// Subtracts `o`.
    pub fn sub(&mut self, o: &Self) {
        self.zip(o, |a, b| *a = a.saturating_sub(b));
    }

    /// True when the agent did anything: a contact counter or logged-in time.
    pub fn has_activity(&self) -> bool {
        self.handled + self.transferred + self.ring_no_answer > 0 || self.logged_in_ms() > 0
    }
}

#[cfg(test)]
mod tests {
    use super::{AgentCounters, QueueCounters};

    /// Every field set to a distinct value (a struct literal without `..`: a new field
    /// does not compile here until it is added, and to the array form).
    fn distinct() -> QueueCounters {
        QueueCounters {
            arrived: 1,
            answered: 2,
            answered_within_sl: 3,
            abandoned: 4,
            short_abandoned: 5,
            abandoned_within_sl: 6,
            exited: 7,
            sl_met: 8,
            sl_abandoned_within: 9,
            sl_missed: 10,
            handled: 11,
            transferred: 12,
            orphaned: 13,
            answered_wait_ms: 14,
            abandoned_wait_ms: 15,
            handle_ms: 16,
            talk_ms: 17,
            hold_ms: 18,
            acw_ms: 19,
        }
    }

    #[test]
    fn agent_counters_save_as_an_array_and_read_both_forms() {
        let c = AgentCounters {
            handled: 1,
            transferred: 2,
            ring_no_answer: 3,
            handle_ms: 4,
            talk_ms: 5,
            hold_ms: 6,
            acw_ms: 7,
            state_ms: [8, 9, 10, 11, 12, 13],
        };
        let saved = serde_json::to_string(&c).expect("serialize");
        assert_eq!(saved, "[1,2,3,4,5,6,7,[8,9,10,11,12,13]]");
        let back: AgentCounters = serde_json::from_str(&saved).expect("array form");
        assert_eq!(back, c);
        // The named form older checkpoints hold.
        let named = r#"{"handled":1,"transferred":2,"ring_no_answer":3,"handle_ms":4,
            "talk_ms":5,"hold_ms":6,"acw_ms":7,"state_ms":[8,9,10,11,12,13]}"#;
        let old: AgentCounters = serde_json::from_str(named).expect("named form");
        assert_eq!(old, c);
    }

    #[test]
    fn queue_counters_save_as_an_array_and_read_both_forms() {
        let c = distinct();
        let saved = serde_json::to_string(&c).expect("serialize");
        assert_eq!(saved, "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19]");
        let back: QueueCounters = serde_json::from_str(&saved).expect("array form");
        assert_eq!(back, c);
        // The named form older checkpoints hold.
        let named = r#"{"arrived":1,"answered":2,"answered_within_sl":3,"abandoned":4,
            "short_abandoned":5,"abandoned_within_sl":6,"exited":7,"sl_met":8,
            "sl_abandoned_within":9,"sl_missed":10,"handled":11,"transferred":12,
            "orphaned":13,"answered_wait_ms":14,"abandoned_wait_ms":15,"handle_ms":16,
            "talk_ms":17,"hold_ms":18,"acw_ms":19}"#;
        let old: QueueCounters = serde_json::from_str(named).expect("named form");
        assert_eq!(old, c);
    }
}
