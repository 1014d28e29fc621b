//! What the simulated contact center looks like: queues, teams, shifts, arrival profile.

use crate::model::{Channel, Millis, Name};

const SEC: Millis = 1000;
const MIN: Millis = 60 * SEC;
const HOUR: Millis = 60 * MIN;
/// One day in milliseconds.
pub const DAY: Millis = 24 * HOUR;
/// Default start of the built-in centers: Monday 2026-01-05 08:00 UTC (opening time), so
/// a config used as is gives plausible timestamps and reproducible output.
pub const DEFAULT_START: Millis = 1_767_600_000_000;

/// A queue: its traffic and how its contacts behave.
#[derive(Debug, Clone, PartialEq)]
pub struct SimQueue {
    /// Queue name.
    pub name: Name,
    /// Media of its contacts.
    pub channel: Channel,
    /// Arrivals per hour when the profile is at its peak (1.0), before `rate_scale`.
    pub calls_per_hour: f64,
    /// Mean talk time (log-normal), ms.
    pub talk_mean_ms: f64,
    /// Log-normal sigma of talk time (0.5–0.8 is typical of voice).
    pub talk_sigma: f64,
    /// Mean after-contact work (exponential), ms; 0 = none.
    pub acw_mean_ms: f64,
    /// Mean customer patience (exponential), ms; `None` = never abandons (e-mail).
    pub patience_mean_ms: Option<f64>,
    /// Service-level threshold, ms (metadata for consumers; routing ignores it).
    pub sl_threshold_ms: Millis,
    /// Maximum wait before the ACD exits the contact with timeout, if any.
    pub max_wait_ms: Option<Millis>,
    /// Share of answered contacts that end in a blind transfer.
    pub transfer_prob: f64,
    /// Longest ring before the agent picks up, ms (uniform from 1 s); 0 = answered at
    /// once with no `ringing` state (chat, e-mail). The ring counts as wait, as in Asterisk.
    pub ring_max_ms: Millis,
}

/// A scheduled absence within a shift (break, lunch).
#[derive(Debug, Clone, PartialEq)]
pub struct SimBreak {
    /// When it is due, from the agent's login.
    pub offset_ms: Millis,
    /// Shortest length.
    pub length_ms: Millis,
    /// Longest length (drawn uniformly between the two).
    pub length_max_ms: Millis,
    /// Aux reason (`break`, `lunch`, ...).
    pub reason: Name,
}

/// A team of agents sharing queues and a shift.
#[derive(Debug, Clone, PartialEq)]
pub struct SimTeam {
    /// Team name.
    pub name: Name,
    /// Number of agents.
    pub agents: usize,
    /// Queues its agents serve (names of [`SimQueue`]s).
    pub queues: Vec<Name>,
    /// Shift start, local time of day, ms after midnight.
    pub shift_start_ms: Millis,
    /// Shift length, ms; ≥ 24 h means always logged in (load tests).
    pub shift_length_ms: Millis,
    /// Breaks of every shift.
    pub breaks: Vec<SimBreak>,
}

/// Intraday arrival intensity, one factor in `[0, 1]` per local minute of the day
/// (0 = closed); arrivals are thinned against it.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrivalProfile {
    /// 1440 factors, minute 0 = local midnight.
    pub per_minute: Vec<f64>,
}

impl ArrivalProfile {
    /// Open all day at full intensity (load tests).
    pub fn flat() -> Self {
        Self {
            per_minute: vec![1.0; 1440],
        }
    }

    /// Open `[open_min, close_min)` local minutes, with a morning peak (~10:30) and an
    /// early-afternoon peak (~14:00) over a base of 35 %.
    pub fn intraday(open_min: usize, close_min: usize) -> Self {
        let per_minute = (0..1440)
            .map(|m| {
                if m < open_min || m >= close_min {
                    return 0.0;
                }
                let x = m as f64;
                let g = |mu: f64, s: f64| (-((x - mu) / s).powi(2)).exp();
                (0.35 + 0.65 * g(630.0, 80.0) + 0.5 * g(840.0, 70.0)).min(1.0)
            })
            .collect();
        Self { per_minute }
    }
}

/// The whole simulated center and run parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// RNG seed: same seed and config → the same events.
    pub seed: u64,
    /// First instant simulated (ms since the epoch).
    pub start: Millis,
    /// Length of the run; events after `start + duration_ms` are not produced.
    pub duration_ms: Millis,
    /// Queues.
    pub queues: Vec<SimQueue>,
    /// Teams.
    pub teams: Vec<SimTeam>,
    /// Multiplier on every queue's arrival rate.
    pub rate_scale: f64,
    /// Local time offset from UTC for the profile and shifts, ms.
    pub utc_offset_ms: Millis,
    /// Intraday arrival profile.
    pub profile: ArrivalProfile,
    /// Give every event a unique `id` (`e-<n>`).
    pub event_ids: bool,
    /// Probability an agent does not show up for a shift.
    pub no_show_prob: f64,
    /// Probability an agent logs in 5–40 min late.
    pub late_prob: f64,
    /// Logins are spread uniformly over ± this around the shift start.
    pub login_jitter_ms: Millis,
    /// Probability an agent has a 30–60 min meeting or training during a shift.
    pub meeting_prob: f64,
}

impl SimConfig {
    /// The teams' plan as a schedule CSV (`agent,start,end,activity,team`, docs/kpis.md):
    /// each agent's shift as `work` and its breaks at their nominal times (from the
    /// shift start), for `days` local days from the one before `start`, every instant
    /// moved by `offset_ms` (where the run is played, e.g. from now). The simulated
    /// agents log in with jitter, some late or not at all, and take their breaks from
    /// their own login: the demo's adherence is not perfect, as on a real floor.
    pub fn schedule_csv(&self, days: i64, offset_ms: Millis) -> String {
        let ts = |ms: Millis| {
            jiff::Timestamp::from_millisecond(ms + offset_ms)
                .map(|t| t.to_string())
                .unwrap_or_default()
        };
        let first_day = (self.start + self.utc_offset_ms).div_euclid(DAY) - 1;
        let mut out = String::from("agent,start,end,activity,team\n");
        let mut agent = 0;
        for team in &self.teams {
            let ids = agent..agent + team.agents;
            agent += team.agents;
            if team.shift_length_ms >= DAY {
                continue;
            }
            for day in first_day..first_day + days {
                let shift = day * DAY - self.utc_offset_ms + team.shift_start_ms;
                for id in ids.clone() {
                    let row = |from: Millis, to: Millis, activity: &str| {
                        format!(
                            "{},{},{},{activity},{}\n",
                            super::names::agent_id(id),
                            ts(from),
                            ts(to),
                            team.name
                        )
                    };
                    out += &row(shift, shift + team.shift_length_ms, "work");
                    for b in &team.breaks {
                        let activity = if b.reason == "lunch" {
                            "lunch"
                        } else {
                            "break"
                        };
                        let from = shift + b.offset_ms;
                        out += &row(from, from + b.length_ms, activity);
                    }
                }
            }
        }
        out
    }

    /// The demo center: 4 queues (voice sales/support, chat, e-mail), two teams of 12,
    /// open 08:00–18:00 UTC, breaks, lunch, meetings, no-shows and late logins.
    pub fn demo(seed: u64) -> Self {
        let q = |name: &str,
                 channel,
                 cph,
                 talk_s: f64,
                 sigma,
                 acw_s: f64,
                 patience_s: Option<f64>,
                 sl_s: Millis,
                 max_wait_s: Option<Millis>,
                 transfer_prob| SimQueue {
            name: name.into(),
            channel,
            calls_per_hour: cph,
            talk_mean_ms: talk_s * 1000.0,
            talk_sigma: sigma,
            acw_mean_ms: acw_s * 1000.0,
            patience_mean_ms: patience_s.map(|p| p * 1000.0),
            sl_threshold_ms: sl_s * SEC,
            max_wait_ms: max_wait_s.map(|m| m * SEC),
            transfer_prob,
            ring_max_ms: if channel == Channel::Voice {
                6 * SEC
            } else {
                0
            },
        };
        let queues = vec![
            q(
                "sales",
                Channel::Voice,
                80.0,
                240.0,
                0.6,
                30.0,
                Some(150.0),
                20,
                Some(600),
                0.03,
            ),
            q(
                "support",
                Channel::Voice,
                95.0,
                330.0,
                0.7,
                45.0,
                Some(240.0),
                30,
                Some(900),
                0.05,
            ),
            q(
                "chat",
                Channel::Chat,
                40.0,
                420.0,
                0.5,
                20.0,
                Some(300.0),
                60,
                None,
                0.0,
            ),
            q(
                "email",
                Channel::Email,
                20.0,
                300.0,
                0.6,
                60.0,
                None,
                4 * 3600,
                None,
                0.0,
            ),
        ];
        let breaks = vec![
            brk(2 * HOUR, 15 * MIN, 15 * MIN, "break"),
            brk(4 * HOUR, 30 * MIN, 45 * MIN, "lunch"),
            brk(6 * HOUR + 30 * MIN, 15 * MIN, 15 * MIN, "break"),
        ];
        let teams = vec![
            SimTeam {
                name: "team-a".into(),
                agents: 12,
                queues: vec!["sales".into(), "support".into(), "chat".into()],
                shift_start_ms: 8 * HOUR,
                shift_length_ms: 8 * HOUR + 30 * MIN,
                breaks: breaks.clone(),
            },
            SimTeam {
                name: "team-b".into(),
                agents: 12,
                queues: vec![
                    "support".into(),
                    "email".into(),
                    "chat".into(),
                    "sales".into(),
                ],
                shift_start_ms: 9 * HOUR + 30 * MIN,
                shift_length_ms: 8 * HOUR + 30 * MIN,
                breaks,
            },
        ];
        Self {
            seed,
            start: DEFAULT_START,
            duration_ms: 10 * HOUR,
            queues,
            teams,
            rate_scale: 1.0,
            utc_offset_ms: 0,
            profile: ArrivalProfile::intraday(8 * 60, 18 * 60),
            event_ids: false,
            no_show_prob: 0.03,
            late_prob: 0.08,
            login_jitter_ms: 5 * MIN,
            meeting_prob: 0.15,
        }
    }

    /// A large center for load tests: `queues` queues (voice/chat/e-mail in turn) and
    /// `agents` always-on agents in teams of ~10, each team serving two neighbouring
    /// queues; arrivals are flat and set for ~80 % offered occupancy.
    pub fn scaled(queues: usize, agents: usize, seed: u64) -> Self {
        let nq = queues.max(1);
        let agents = agents.max(1);
        let nteams = (agents / 10).clamp(1, nq);
        const TARGET_OCCUPANCY: f64 = 0.8;
        let capacity_per_queue = agents as f64 / nq as f64;
        let queues: Vec<SimQueue> = (0..nq)
            .map(|i| {
                let (channel, talk_s, acw_s, patience_s) = match i % 3 {
                    0 => (Channel::Voice, 240.0, 30.0, Some(180.0)),
                    1 => (Channel::Chat, 360.0, 20.0, Some(300.0)),
                    _ => (Channel::Email, 300.0, 60.0, None),
                };
                let aht_s = talk_s + acw_s;
                SimQueue {
                    name: format!("q-{i:03}").into(),
                    channel,
                    calls_per_hour: TARGET_OCCUPANCY * capacity_per_queue * 3600.0 / aht_s,
                    talk_mean_ms: talk_s * 1000.0,
                    talk_sigma: 0.6,
                    acw_mean_ms: acw_s * 1000.0,
                    patience_mean_ms: patience_s.map(|p: f64| p * 1000.0),
                    sl_threshold_ms: 20 * SEC,
                    max_wait_ms: Some(900 * SEC),
                    transfer_prob: 0.02,
                    ring_max_ms: if channel == Channel::Voice {
                        5 * SEC
                    } else {
                        0
                    },
                }
            })
            .collect();
        let teams = (0..nteams)
            .map(|t| {
                let size = agents / nteams + usize::from(t < agents % nteams);
                // Team t serves the queues q with q % nteams == t, and their right neighbours.
                let mut qs: Vec<Name> = Vec::new();
                for (qi, q) in queues.iter().enumerate() {
                    if qi % nteams == t || (qi + nq - 1) % nq % nteams == t {
                        qs.push(q.name.clone());
                    }
                }
                SimTeam {
                    name: format!("team-{t:03}").into(),
                    agents: size,
                    queues: qs,
                    shift_start_ms: 0,
                    shift_length_ms: DAY,
                    breaks: Vec::new(),
                }
            })
            .collect();
        Self {
            seed,
            start: DEFAULT_START,
            duration_ms: 8 * HOUR,
            queues,
            teams,
            rate_scale: 1.0,
            utc_offset_ms: 0,
            profile: ArrivalProfile::flat(),
            event_ids: false,
            no_show_prob: 0.0,
            late_prob: 0.0,
            login_jitter_ms: 0,
            meeting_prob: 0.0,
        }
    }
}

fn brk(offset_ms: Millis, length_ms: Millis, length_max_ms: Millis, reason: &str) -> SimBreak {
    SimBreak {
        offset_ms,
        length_ms,
        length_max_ms,
        reason: reason.into(),
    }
}
