//! Agent (and team) KPIs from a window's counters.

use super::{ratio, secs, AgentCounters, Attainment};
use crate::config::Targets;
use crate::model::AgentStatus;
use serde::Serialize;

/// Every agent KPI of one window (the replay report's agent row, interfaces.md §3).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AgentKpis {
    /// Contacts handled.
    pub handled: u64,
    /// Average handle time.
    pub aht_seconds: Option<f64>,
    /// Average talk time.
    pub avg_talk_seconds: Option<f64>,
    /// Average hold time.
    pub avg_hold_seconds: Option<f64>,
    /// Average after-contact work.
    pub avg_acw_seconds: Option<f64>,
    /// Handled contacts transferred.
    pub transferred: u64,
    /// Offers let ring out.
    pub ring_no_answer: u64,
    /// Time logged in.
    pub logged_in_seconds: f64,
    /// Time available.
    pub available_seconds: f64,
    /// Time ringing.
    pub ringing_seconds: f64,
    /// Time on contacts.
    pub on_contact_seconds: f64,
    /// Time in after-contact work.
    pub acw_seconds: f64,
    /// Time in aux (breaks, lunch, ...).
    pub aux_seconds: f64,
    /// (on_contact + acw) / (available + on_contact + acw).
    pub occupancy: Option<f64>,
    /// (on_contact + acw) / logged in.
    pub utilisation: Option<f64>,
    /// Handled per logged-in hour.
    pub handled_per_hour: Option<f64>,
    /// aux / logged in.
    pub aux_share: Option<f64>,
    /// Schedule adherence, in reports replayed with a schedule (`replay --schedule`).
    #[serde(flatten)]
    pub schedule: Option<ScheduleKpis>,
    /// Target attainment, when targets are configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets: Option<Attainment>,
}

/// An agent's adherence to the schedule over a report row (docs/kpis.md §Schedule and
/// adherence): written only when the replay has a schedule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ScheduleKpis {
    /// Scheduled time (`off` is not scheduled).
    pub scheduled_seconds: f64,
    /// Scheduled time spent in the scheduled activity.
    pub adherent_seconds: f64,
    /// adherent / scheduled (`null` when nothing was scheduled).
    pub adherence: Option<f64>,
}

impl ScheduleKpis {
    /// From adherent and scheduled milliseconds.
    pub fn from_ms(adherent_ms: u64, scheduled_ms: u64) -> Self {
        ScheduleKpis {
            scheduled_seconds: secs(scheduled_ms),
            adherent_seconds: secs(adherent_ms),
            adherence: ratio(adherent_ms as f64, scheduled_ms as f64),
        }
    }
}

impl AgentKpis {
    /// Computes the KPIs of a window, with attainment against `targets` when any is set.
    pub fn compute(c: &AgentCounters, targets: Option<&Targets>) -> Self {
        Self::compute_with_adherence(c, targets, None)
    }

    /// [`AgentKpis::compute`] with the `adherence_min` target measured by `adherence` (the
    /// schedule's, today's in the daemon; `None`: no schedule measures it).
    pub fn compute_with_adherence(
        c: &AgentCounters,
        targets: Option<&Targets>,
        adherence: Option<f64>,
    ) -> Self {
        let handled = c.handled as f64;
        let st = |s: AgentStatus| secs(c.in_state(s));
        let working = c.in_state(AgentStatus::OnContact) + c.in_state(AgentStatus::AfterCallWork);
        let ready = working + c.in_state(AgentStatus::Available);
        let logged_in = c.logged_in_ms();
        let mut k = AgentKpis {
            handled: c.handled,
            aht_seconds: ratio(secs(c.handle_ms), handled),
            avg_talk_seconds: ratio(secs(c.talk_ms), handled),
            avg_hold_seconds: ratio(secs(c.hold_ms), handled),
            avg_acw_seconds: ratio(secs(c.acw_ms), handled),
            transferred: c.transferred,
            ring_no_answer: c.ring_no_answer,
            logged_in_seconds: secs(logged_in),
            available_seconds: st(AgentStatus::Available),
            ringing_seconds: st(AgentStatus::Ringing),
            on_contact_seconds: st(AgentStatus::OnContact),
            acw_seconds: st(AgentStatus::AfterCallWork),
            aux_seconds: st(AgentStatus::Aux),
            occupancy: ratio(working as f64, ready as f64),
            utilisation: ratio(working as f64, logged_in as f64),
            handled_per_hour: ratio(handled * 3_600_000.0, logged_in as f64),
            aux_share: ratio(c.in_state(AgentStatus::Aux) as f64, logged_in as f64),
            schedule: None,
            targets: None,
        };
        if let Some(t) = targets.filter(|t| !t.is_empty()) {
            k.targets = Some(Attainment::evaluate(t, &k, adherence));
        }
        k
    }

    /// [`AgentKpis::compute`] for a report row replayed with a schedule: the row's
    /// adherence is written and measures its `adherence_min` target.
    pub fn compute_scheduled(
        c: &AgentCounters,
        targets: Option<&Targets>,
        schedule: ScheduleKpis,
    ) -> Self {
        let mut k = Self::compute_with_adherence(c, targets, schedule.adherence);
        k.schedule = Some(schedule);
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occupancy_and_utilisation_follow_the_definitions() {
        let mut c = AgentCounters {
            handled: 3,
            handle_ms: 900_000,
            ..AgentCounters::default()
        };
        c.state_ms[AgentStatus::Available as usize] = 1_000_000;
        c.state_ms[AgentStatus::OnContact as usize] = 2_000_000;
        c.state_ms[AgentStatus::AfterCallWork as usize] = 1_000_000;
        c.state_ms[AgentStatus::Aux as usize] = 1_000_000;
        c.state_ms[AgentStatus::LoggedOut as usize] = 9_000_000;
        let k = AgentKpis::compute(&c, None);
        assert_eq!(k.occupancy, Some(0.75));
        assert_eq!(k.utilisation, Some(0.6));
        assert_eq!(k.logged_in_seconds, 5000.0);
        assert_eq!(k.aux_share, Some(0.2));
        assert!((k.handled_per_hour.unwrap_or_default() - 3.0 * 3600.0 / 5000.0).abs() < 1e-12);
        assert_eq!(k.aht_seconds, Some(300.0));
    }

    #[test]
    fn no_logged_in_time_means_no_ratio() {
        let k = AgentKpis::compute(&AgentCounters::default(), None);
        assert_eq!(k.occupancy, None);
        assert_eq!(k.utilisation, None);
    }
}
