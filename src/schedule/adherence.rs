//! Which agent states match which scheduled activity (docs/kpis.md §Schedule):
//!
//! - `work` ↔ available, ringing, on a contact or in after-contact work;
//! - `break`, `lunch`, `meeting`, `training`, `coaching` ↔ aux, with a reason from
//!   `[schedule.aux_reasons]` for that activity when the list exists (any reason if not);
//! - `off` is not scheduled time and is never counted.
//!
//! Logged out is adherent to nothing scheduled.

use super::plan::AgentPlan;
use super::Activity;
use crate::model::{AgentStatus, Millis};
use std::collections::BTreeMap;

/// The aux reasons each activity accepts (lower-cased); absent: any reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuxReasons(BTreeMap<Activity, Vec<String>>);

impl AuxReasons {
    /// From `[schedule.aux_reasons]` (activity names already validated; unknown skipped).
    pub fn from_config(m: &BTreeMap<String, Vec<String>>) -> Self {
        AuxReasons(
            m.iter()
                .filter_map(|(a, rs)| {
                    Activity::parse(a).map(|a| (a, rs.iter().map(|r| r.to_lowercase()).collect()))
                })
                .collect(),
        )
    }

    fn accepts(&self, activity: Activity, reason: Option<&str>) -> bool {
        match self.0.get(&activity) {
            None => true,
            Some(list) => reason.is_some_and(|r| list.iter().any(|x| x.eq_ignore_ascii_case(r))),
        }
    }
}

/// True when an agent in `state` (with aux `reason`) adheres to `activity`.
pub fn is_adherent(
    activity: Activity,
    state: AgentStatus,
    reason: Option<&str>,
    aux: &AuxReasons,
) -> bool {
    match activity {
        Activity::Work => matches!(
            state,
            AgentStatus::Available
                | AgentStatus::Ringing
                | AgentStatus::OnContact
                | AgentStatus::AfterCallWork
        ),
        Activity::Off => false,
        other => state == AgentStatus::Aux && aux.accepts(other, reason),
    }
}

/// The scheduled pieces of `[from, to)` spent in one state: each plan span overlapping
/// it, clipped to it, with whether the state adheres to the span's activity. (A plan
/// holds no `off` spans: they are holes.)
pub fn span_pieces<'a>(
    plan: &'a AgentPlan,
    from: Millis,
    to: Millis,
    state: AgentStatus,
    reason: Option<&'a str>,
    aux: &'a AuxReasons,
) -> impl Iterator<Item = (Millis, Millis, bool)> + 'a {
    plan.overlapping(from, to)
        .iter()
        .map(move |s| {
            let adherent = is_adherent(s.activity, state, reason, aux);
            (s.start.max(from), s.end.min(to), adherent)
        })
        .filter(|(a, b, _)| a < b)
}

/// `(adherent ms, scheduled ms)` of `[from, to)` spent in one state, against `plan`.
pub fn span_adherence(
    plan: &AgentPlan,
    from: Millis,
    to: Millis,
    state: AgentStatus,
    reason: Option<&str>,
    aux: &AuxReasons,
) -> (u64, u64) {
    span_pieces(plan, from, to, state, reason, aux).fold((0, 0), |(adh, sch), (a, b, ok)| {
        let ms = (b - a) as u64;
        (adh + if ok { ms } else { 0 }, sch + ms)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_against_activities() {
        let any = AuxReasons::default();
        let mut m = BTreeMap::new();
        m.insert("lunch".to_string(), vec!["Lunch".to_string()]);
        let strict = AuxReasons::from_config(&m);
        assert!(is_adherent(
            Activity::Work,
            AgentStatus::OnContact,
            None,
            &any
        ));
        assert!(!is_adherent(Activity::Work, AgentStatus::Aux, None, &any));
        assert!(is_adherent(
            Activity::Break,
            AgentStatus::Aux,
            Some("x"),
            &any
        ));
        assert!(!is_adherent(
            Activity::Break,
            AgentStatus::LoggedOut,
            None,
            &any
        ));
        assert!(is_adherent(
            Activity::Lunch,
            AgentStatus::Aux,
            Some("LUNCH"),
            &strict
        ));
        assert!(!is_adherent(
            Activity::Lunch,
            AgentStatus::Aux,
            Some("break"),
            &strict
        ));
        assert!(!is_adherent(
            Activity::Lunch,
            AgentStatus::Aux,
            None,
            &strict
        ));
        assert!(is_adherent(
            Activity::Meeting,
            AgentStatus::Aux,
            None,
            &strict
        ));
    }
}
