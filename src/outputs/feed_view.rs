//! What a feed frame carries per queue, team and agent. By default the *board* view: the
//! numbers a wallboard shows (about a fifth of the API snapshot's bytes, so 500 screens
//! of a 2,000-agent floor cost a fifth of the bandwidth and parsing), fractional values
//! to three decimals (see [`milli`]); `?detail=full` sends the whole API snapshot instead.

use crate::alerts::StateFilter;
use crate::engine::{AgentContact, AgentSnapshot, QueueSnapshot, Staffing, TeamSnapshot};
use crate::kpi::{AgentKpis, QueueKpis, SlCounts, SlPreset};
use crate::model::{AgentStatus, Millis};
use serde::Serialize;
use std::collections::BTreeMap;

/// Board numbers to three decimals: ratios to 0.1 % (what a screen shows), seconds to
/// the millisecond (the engine's resolution). On a real floor every logged-in agent's
/// occupancy moves at the 5th decimal each second; at full precision that creep was
/// ~90 % of each whole-floor delta, and of the cards a browser redraws every tick.
pub fn milli(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// [`milli`] as a serde `serialize_with`.
fn ser_milli<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(milli(*v))
}

/// [`milli`] of an optional value as a serde `serialize_with`.
fn ser_milli_opt<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_some(&milli(*v)),
        None => s.serialize_none(),
    }
}

/// How much a frame carries (`?detail=board|full`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Detail {
    /// The wallboard's numbers (default).
    #[default]
    Board,
    /// Everything `/api/v1/snapshot` has.
    Full,
}

impl Detail {
    /// Parses the query value; anything but `full` is the board view.
    pub fn parse(v: Option<&str>) -> Self {
        match v {
            Some("full") => Detail::Full,
            _ => Detail::Board,
        }
    }
}

/// The queue counters and KPIs a board shows, for one window.
#[derive(Debug, Serialize)]
pub struct BoardKpis {
    /// Contacts arrived.
    pub arrived: u64,
    /// Answered.
    pub answered: u64,
    /// Abandoned.
    pub abandoned: u64,
    /// Handled (ended after an answer).
    pub handled: u64,
    /// Service-level numerator of the queue's preset (`answered_within_sl` for
    /// `answered_only` and `genesys`, `sl_met + sl_abandoned_within` for `cisco_type3`).
    pub sl_met: u64,
    /// Service-level denominator of the queue's preset, so that a screen summing both
    /// over queues measures each under its own rule.
    pub sl_offered: u64,
    /// Service level (ratio).
    #[serde(serialize_with = "ser_milli_opt")]
    pub service_level: Option<f64>,
    /// Average speed of answer.
    #[serde(serialize_with = "ser_milli_opt")]
    pub asa_seconds: Option<f64>,
    /// Abandon rate (ratio).
    #[serde(serialize_with = "ser_milli_opt")]
    pub abandon_rate: Option<f64>,
    /// Average handle time.
    #[serde(serialize_with = "ser_milli_opt")]
    pub aht_seconds: Option<f64>,
    /// 90th percentile of the answer wait.
    #[serde(serialize_with = "ser_milli_opt")]
    pub wait_p90_seconds: Option<f64>,
}

impl BoardKpis {
    /// A window's numbers, its service-level fraction under the queue's `preset`.
    fn of(k: &QueueKpis, preset: SlPreset) -> Self {
        let (sl_met, sl_offered) = preset.fraction(&SlCounts::from(k));
        BoardKpis {
            arrived: k.arrived,
            answered: k.answered,
            abandoned: k.abandoned,
            handled: k.handled,
            sl_met,
            sl_offered,
            service_level: k.service_level,
            asa_seconds: k.asa_seconds,
            abandon_rate: k.abandon_rate,
            aht_seconds: k.aht_seconds,
            wait_p90_seconds: k.percentiles.wait_p90_seconds,
        }
    }
}

/// A rolling window of a board queue.
#[derive(Debug, Serialize)]
pub struct BoardWindow {
    /// The window's length.
    pub window_seconds: i64,
    /// Its numbers.
    #[serde(flatten)]
    pub kpis: BoardKpis,
}

/// A queue on a board.
#[derive(Debug, Serialize)]
pub struct BoardQueue<'a> {
    /// Name.
    pub queue: &'a str,
    /// Service-level threshold T.
    #[serde(serialize_with = "ser_milli")]
    pub sl_threshold_seconds: f64,
    /// Service-level target.
    #[serde(serialize_with = "ser_milli")]
    pub sl_target: f64,
    /// Contacts waiting now.
    pub waiting: u64,
    /// Waiting now per channel.
    pub waiting_by_channel: &'a BTreeMap<&'static str, u64>,
    /// When the oldest waiting contact was queued.
    pub oldest_queued_at_ms: Option<Millis>,
    /// Agents of the queue by state.
    pub agents: &'a BTreeMap<&'static str, u64>,
    /// Today.
    pub today: BoardKpis,
    /// The current interval.
    pub interval: BoardKpis,
    /// Rolling windows.
    pub rolling: Vec<BoardWindow>,
    /// Required vs staffed agents.
    pub staffing: Option<BoardStaffing<'a>>,
}

/// A queue's staffing on a board: the API's fields, fractions to three decimals (the
/// load and AHT of a rolling window otherwise change at the 10th decimal every bucket).
#[derive(Debug, Serialize)]
pub struct BoardStaffing<'a> {
    /// The trailing window the load was measured over.
    pub window_seconds: i64,
    /// Arrivals per hour in that window.
    #[serde(serialize_with = "ser_milli")]
    pub arrivals_per_hour: f64,
    /// AHT used.
    #[serde(serialize_with = "ser_milli")]
    pub aht_seconds: f64,
    /// Source of the AHT (`window`, `today` or `default`).
    pub aht_source: &'a str,
    /// Offered load in Erlangs.
    #[serde(serialize_with = "ser_milli")]
    pub load_erlangs: f64,
    /// Agents needed for the queue's SL target.
    pub required_agents: u32,
    /// Agents serving the queue who are not in aux or logged out.
    pub staffed_agents: u32,
    /// `required − staffed`.
    pub staffing_gap: i64,
}

impl<'a> From<&'a Staffing> for BoardStaffing<'a> {
    fn from(s: &'a Staffing) -> Self {
        BoardStaffing {
            window_seconds: s.window_seconds,
            arrivals_per_hour: s.arrivals_per_hour,
            aht_seconds: s.aht_seconds,
            aht_source: s.aht_source,
            load_erlangs: s.load_erlangs,
            required_agents: s.required_agents,
            staffed_agents: s.staffed_agents,
            staffing_gap: s.staffing_gap,
        }
    }
}

impl<'a> From<&'a QueueSnapshot> for BoardQueue<'a> {
    fn from(q: &'a QueueSnapshot) -> Self {
        BoardQueue {
            queue: &q.queue,
            sl_threshold_seconds: q.sl_threshold_seconds,
            sl_target: q.sl_target,
            waiting: q.waiting,
            waiting_by_channel: &q.waiting_by_channel,
            oldest_queued_at_ms: q.oldest_queued_at_ms,
            agents: &q.agents,
            today: BoardKpis::of(&q.today, q.sl_preset),
            interval: BoardKpis::of(&q.interval, q.sl_preset),
            rolling: q
                .rolling
                .iter()
                .map(|w| BoardWindow {
                    window_seconds: w.window_seconds,
                    kpis: BoardKpis::of(&w.kpis, q.sl_preset),
                })
                .collect(),
            staffing: q.staffing.as_ref().map(BoardStaffing::from),
        }
    }
}

/// An agent's day on a board: handled, AHT, occupancy and the share of targets met.
#[derive(Debug, Serialize)]
pub struct BoardAgentDay {
    /// Contacts handled today.
    pub handled: u64,
    /// Average handle time today.
    #[serde(serialize_with = "ser_milli_opt")]
    pub aht_seconds: Option<f64>,
    /// Occupancy today.
    #[serde(serialize_with = "ser_milli_opt")]
    pub occupancy: Option<f64>,
    /// Share of the agent's targets met (when targets are configured).
    #[serde(serialize_with = "ser_milli_opt")]
    pub targets_met_share: Option<f64>,
    /// The targets missed, by name (`aht`, `occupancy_min`, …), when targets are
    /// configured: what a team leader acts on, where the share only says how many.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets_missed: Option<Vec<&'static str>>,
}

impl From<&AgentKpis> for BoardAgentDay {
    fn from(k: &AgentKpis) -> Self {
        BoardAgentDay {
            handled: k.handled,
            aht_seconds: k.aht_seconds,
            occupancy: k.occupancy,
            targets_met_share: k.targets.as_ref().and_then(|t| t.share_met),
            targets_missed: k.targets.as_ref().map(|t| {
                t.results
                    .iter()
                    .filter(|r| r.met == Some(false))
                    .map(|r| r.target)
                    .collect()
            }),
        }
    }
}

/// When a contact or a state counts as long on a screen: from the agent-scoped
/// `contact_seconds` alert rules (`LongContact`, 20 min, by default) and `state_seconds`
/// rules (`LongAfterCallWork`, 5 min of wrap-up), breach threshold plus `for`, so a card
/// turns red when such an alert fires for the agent. No such rule: never.
#[derive(Debug, Clone, Default)]
pub struct LongRules {
    contact: Vec<LongRule>,
    state: Vec<(LongRule, StateFilter)>,
}

#[derive(Debug, Clone)]
struct LongRule {
    after_ms: Millis,
    only: Vec<String>,
    teams: Vec<String>,
}

impl LongRule {
    fn new(r: &crate::alerts::Rule) -> Self {
        LongRule {
            after_ms: (r.threshold * 1000.0).round() as Millis + r.for_ms.max(0),
            only: r.only.clone(),
            teams: r.teams.clone(),
        }
    }

    fn selects(&self, agent: &str, team: Option<&str>) -> bool {
        (self.only.is_empty() || self.only.iter().any(|a| a == agent))
            && (self.teams.is_empty() || team.is_some_and(|t| self.teams.iter().any(|x| x == t)))
    }
}

impl LongRules {
    /// The `contact_seconds` and `state_seconds` rules of `rules` that breach above a
    /// threshold.
    pub fn from_rules(rules: &[crate::alerts::Rule]) -> Self {
        use crate::alerts::{Comparison, Metric};
        let mut out = LongRules::default();
        for r in rules.iter().filter(|r| r.cmp == Comparison::Above) {
            match &r.metric {
                Metric::ContactSeconds => out.contact.push(LongRule::new(r)),
                Metric::StateSeconds(f) => out.state.push((LongRule::new(r), (**f).clone())),
                _ => {}
            }
        }
        out
    }

    /// How long a contact of `agent` (in `team`) lasts before it is long: the earliest
    /// of the rules that select the agent.
    pub fn after_ms(&self, agent: &str, team: Option<&str>) -> Option<Millis> {
        self.contact
            .iter()
            .filter(|r| r.selects(agent, team))
            .map(|r| r.after_ms)
            .min()
    }

    /// How long `agent` (in `team`) stays in `state` (with `reason`) before it is long:
    /// the earliest of the rules that select the agent and time that state.
    pub fn state_after_ms(
        &self,
        agent: &str,
        team: Option<&str>,
        state: AgentStatus,
        reason: Option<&str>,
    ) -> Option<Millis> {
        self.state
            .iter()
            .filter(|(r, f)| r.selects(agent, team) && f.admits(state, reason))
            .map(|(r, _)| r.after_ms)
            .min()
    }
}

/// The contact an agent handles, on a board: without the RFC 3339 copy of `since_ms`
/// (a board ticks timers from the epoch milliseconds).
#[derive(Debug, Serialize)]
pub struct BoardContact<'a> {
    /// Contact id.
    pub contact: &'a str,
    /// Its queue.
    pub queue: &'a str,
    /// Answered at, epoch milliseconds.
    pub since_ms: Millis,
}

/// An agent on a board.
#[derive(Debug, Serialize)]
pub struct BoardAgent<'a> {
    /// Id.
    pub agent: &'a str,
    /// Display name.
    pub name: &'a Option<String>,
    /// Team.
    pub team: &'a Option<String>,
    /// Queues served.
    pub queues: &'a [String],
    /// State.
    pub state: AgentStatus,
    /// Aux reason.
    pub reason: &'a Option<String>,
    /// In this state since.
    pub since_ms: Millis,
    /// The contact being handled.
    pub contact: Option<BoardContact<'a>>,
    /// A contact longer than this is long ([`LongRules`]; `null`: no rule says). A
    /// setting like a queue's `sl_threshold_seconds`: it changes only with the rules
    /// or the agent's team, so deltas do not carry it with every contact.
    #[serde(serialize_with = "ser_milli_opt")]
    pub long_contact_seconds: Option<f64>,
    /// Time in the current state (`since_ms`) past which it is long ([`LongRules`]'s
    /// `state_seconds` rules for this state and reason; `null`: no rule times it). It
    /// changes with the state, which a delta carries anyway.
    #[serde(serialize_with = "ser_milli_opt")]
    pub long_state_seconds: Option<f64>,
    /// Today's numbers.
    pub today: BoardAgentDay,
}

impl<'a> BoardAgent<'a> {
    /// `a` on a board, with how long its contacts may last by `long`.
    pub fn new(a: &'a AgentSnapshot, long: &LongRules) -> Self {
        let contact = a.contact.as_ref().map(|c: &'a AgentContact| BoardContact {
            contact: &c.contact,
            queue: &c.queue,
            since_ms: c.since_ms,
        });
        BoardAgent {
            agent: &a.agent,
            name: &a.name,
            team: &a.team,
            queues: &a.queues,
            state: a.state,
            reason: &a.reason,
            since_ms: a.since_ms,
            contact,
            long_contact_seconds: long
                .after_ms(&a.agent, a.team.as_deref())
                .map(|ms| ms as f64 / 1000.0),
            long_state_seconds: long
                .state_after_ms(&a.agent, a.team.as_deref(), a.state, a.reason.as_deref())
                .map(|ms| ms as f64 / 1000.0),
            today: (&a.today).into(),
        }
    }
}

/// A team on a board.
#[derive(Debug, Serialize)]
pub struct BoardTeam<'a> {
    /// Name.
    pub team: &'a str,
    /// Agents by state.
    pub agents: &'a BTreeMap<&'static str, u64>,
    /// Agents in aux by reason.
    pub aux_by_reason: &'a BTreeMap<String, u64>,
    /// Team occupancy today.
    #[serde(serialize_with = "ser_milli_opt")]
    pub occupancy: Option<f64>,
    /// Contacts handled today.
    pub handled: u64,
}

impl<'a> From<&'a TeamSnapshot> for BoardTeam<'a> {
    fn from(t: &'a TeamSnapshot) -> Self {
        BoardTeam {
            team: &t.team,
            agents: &t.agents,
            aux_by_reason: &t.aux_by_reason,
            occupancy: t.today.occupancy,
            handled: t.today.handled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::default_rules;

    #[test]
    fn board_fractions_have_three_decimals() {
        let k = AgentKpis {
            handled: 167,
            aht_seconds: Some(0.045976047904191616),
            occupancy: Some(0.7871645750433629),
            ..AgentKpis::default()
        };
        let day = serde_json::to_string(&BoardAgentDay::from(&k)).expect("json");
        assert_eq!(
            day,
            r#"{"handled":167,"aht_seconds":0.046,"occupancy":0.787,"targets_met_share":null}"#
        );
        // One more second on a contact after two hours logged in: the same board value.
        let (a, b) = (3600.0 / 7200.0, 3601.0 / 7201.0);
        assert_ne!(a, b);
        assert_eq!(milli(a), milli(b));
        assert_eq!(milli(0.9996), 1.0);
        assert_eq!(milli(412.3456), 412.346);
        // A queue's staffing: the same fields as the API's, fractions rounded.
        let st = Staffing {
            window_seconds: 900,
            arrivals_per_hour: 123.45678,
            aht_seconds: 0.04152259118127382,
            aht_source: "window",
            load_erlangs: 1.423_888_888_888_889,
            required_agents: 4,
            staffed_agents: 3,
            staffing_gap: 1,
        };
        let board = serde_json::to_value(BoardStaffing::from(&st)).expect("json");
        let mut api = serde_json::to_value(&st).expect("json");
        api["arrivals_per_hour"] = 123.457.into();
        api["aht_seconds"] = 0.042.into();
        api["load_erlangs"] = 1.424.into();
        assert_eq!(board, api);
    }

    #[test]
    fn board_names_the_targets_missed() {
        let t = crate::config::Targets {
            aht: Some(crate::config::Duration::secs(300)),
            occupancy_min: Some(0.7),
            max_aux_share: Some(0.1),
            ..Default::default()
        };
        let k = AgentKpis {
            aht_seconds: Some(400.0),
            occupancy: Some(0.8),
            ..AgentKpis::default()
        };
        let k = AgentKpis {
            targets: Some(crate::kpi::Attainment::evaluate(&t, &k, None)),
            ..k
        };
        let day = BoardAgentDay::from(&k);
        assert_eq!(
            day.targets_missed,
            Some(vec!["aht"]),
            "aux share unmeasured"
        );
        assert_eq!(day.targets_met_share, Some(0.5));
        let none = BoardAgentDay::from(&AgentKpis::default());
        assert_eq!(none.targets_missed, None, "no targets: no member");
    }

    fn builtin_rule(name: &str) -> crate::alerts::Rule {
        default_rules()
            .into_iter()
            .find(|r| r.name == name)
            .expect("built-in")
    }

    #[test]
    fn long_contacts_follow_the_contact_seconds_rules() {
        // The built-in LongContact: above 1,200 s, no `for`.
        let builtin = LongRules::from_rules(&default_rules());
        assert_eq!(builtin.after_ms("ann", Some("A")), Some(1_200_000));
        assert_eq!(builtin.after_ms("ann", None), Some(1_200_000));
        assert_eq!(LongRules::default().after_ms("ann", None), None);

        // A stricter rule for team B with a `for`, and one for a single agent.
        let mut rules = default_rules();
        let mut team_b = builtin_rule("LongContact");
        team_b.name = "LongContactTeamB".into();
        team_b.threshold = 600.0;
        team_b.for_ms = 60_000;
        team_b.teams = vec!["B".into()];
        let mut cleo = team_b.clone();
        cleo.name = "LongContactCleo".into();
        cleo.threshold = 300.0;
        cleo.for_ms = 0;
        cleo.teams.clear();
        cleo.only = vec!["cleo".into()];
        rules.extend([team_b, cleo]);
        let long = LongRules::from_rules(&rules);
        assert_eq!(long.after_ms("ann", Some("A")), Some(1_200_000));
        assert_eq!(long.after_ms("ben", Some("B")), Some(660_000));
        assert_eq!(long.after_ms("cleo", Some("A")), Some(300_000));
        assert_eq!(long.after_ms("ben", None), Some(1_200_000));
    }

    #[test]
    fn long_states_follow_the_state_seconds_rules() {
        use crate::alerts::Metric;
        let (acw, aux) = (AgentStatus::AfterCallWork, AgentStatus::Aux);
        // The built-in LongAfterCallWork: wrap-up above 300 s, no `for`; nothing else.
        let builtin = LongRules::from_rules(&default_rules());
        assert_eq!(
            builtin.state_after_ms("ann", Some("A"), acw, None),
            Some(300_000)
        );
        assert_eq!(
            builtin.state_after_ms("ann", Some("A"), aux, Some("break")),
            None
        );
        assert_eq!(
            builtin.state_after_ms("ann", None, AgentStatus::OnContact, None),
            None
        );
        // Team A's breaks (not lunch) after 15 min plus a 1-min `for`; a stricter
        // wrap-up rule for cleo.
        let mut rules = default_rules();
        let base = builtin_rule("LongAfterCallWork");
        let mut breaks = base.clone();
        breaks.name = "LongBreakA".into();
        breaks.metric = Metric::StateSeconds(Box::new(StateFilter {
            states: vec![aux],
            reasons: vec!["break".into()],
        }));
        breaks.threshold = 900.0;
        breaks.for_ms = 60_000;
        breaks.teams = vec!["A".into()];
        let mut cleo = base.clone();
        cleo.name = "LongAcwCleo".into();
        cleo.threshold = 120.0;
        cleo.only = vec!["cleo".into()];
        rules.extend([breaks, cleo]);
        let long = LongRules::from_rules(&rules);
        assert_eq!(
            long.state_after_ms("ann", Some("A"), aux, Some("break")),
            Some(960_000)
        );
        assert_eq!(
            long.state_after_ms("ann", Some("A"), aux, Some("lunch")),
            None
        );
        assert_eq!(
            long.state_after_ms("ben", Some("B"), aux, Some("break")),
            None
        );
        assert_eq!(
            long.state_after_ms("cleo", Some("B"), acw, None),
            Some(120_000)
        );
        assert_eq!(
            long.state_after_ms("ann", Some("A"), acw, None),
            Some(300_000)
        );
        // Contact rules are apart: the state rules do not make contacts long.
        assert_eq!(long.after_ms("cleo", Some("B")), Some(1_200_000));
    }
}
