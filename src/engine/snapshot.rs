//! Immutable views of the engine for readers (API, feed, exporters, alerts).
//!
//! A snapshot is computed by the engine's owner at a tick and handed out behind an
//! `Arc`; readers never lock or touch the engine.

use super::agg::{AgentAgg, QueueAgg};
use super::{state_ix, ChannelTotals, Engine, EngineStats};
use crate::kpi::{AgentCounters, AgentKpis, QueueKpis, SlPreset};
use crate::model::{format_rfc3339, AgentStatus, Channel, Millis};
use serde::Serialize;
use std::collections::BTreeMap;

/// Schedule adherence today (adherent ÷ scheduled time since local midnight) per agent
/// and per team, as the schedule measured it: what the `adherence_min` target reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdherenceToday {
    /// By agent name.
    pub agents: rustc_hash::FxHashMap<String, f64>,
    /// By team name.
    pub teams: rustc_hash::FxHashMap<String, f64>,
}

/// Queue KPIs of one rolling window.
#[derive(Debug, Clone, Serialize)]
pub struct WindowKpis {
    /// Window length.
    pub window_seconds: i64,
    /// The KPIs.
    #[serde(flatten)]
    pub kpis: QueueKpis,
}

/// Team KPIs of one rolling window.
#[derive(Debug, Clone, Serialize)]
pub struct WindowTeamKpis {
    /// Window length.
    pub window_seconds: i64,
    /// The KPIs.
    #[serde(flatten)]
    pub kpis: AgentKpis,
}

/// One queue now.
#[derive(Debug, Clone, Serialize)]
pub struct QueueSnapshot {
    /// Queue name.
    pub queue: String,
    /// SL threshold T.
    pub sl_threshold_seconds: f64,
    /// SL target ratio.
    pub sl_target: f64,
    /// The preset the `service_level` fields use.
    pub sl_preset: SlPreset,
    /// Contacts waiting now.
    pub waiting: u64,
    /// Waiting by channel (only channels with contacts).
    pub waiting_by_channel: BTreeMap<&'static str, u64>,
    /// Queued time of the oldest waiting contact (screens tick its age locally).
    pub oldest_queued_at: Option<String>,
    /// The same as epoch milliseconds.
    pub oldest_queued_at_ms: Option<Millis>,
    /// Agents serving this queue, by state.
    pub agents: BTreeMap<&'static str, u64>,
    /// Today (since local midnight).
    pub today: QueueKpis,
    /// The current interval.
    pub interval: QueueKpis,
    /// Rolling windows, shortest first.
    pub rolling: Vec<WindowKpis>,
    /// Required agents (Erlang C on the measured load) against agents staffed now.
    pub staffing: Option<Staffing>,
    /// Lifetime counters and histogram buckets by channel, for `/metrics` (not in JSON).
    #[serde(skip)]
    pub lifetime: Vec<(Channel, ChannelTotals)>,
}

/// The live staffing gap of a queue (kpi-definitions §6).
#[derive(Debug, Clone, Serialize)]
pub struct Staffing {
    /// The trailing window the load was measured over.
    pub window_seconds: i64,
    /// Arrivals per hour in that window.
    pub arrivals_per_hour: f64,
    /// AHT used, and where it came from (`window`, `today` or `default`).
    pub aht_seconds: f64,
    /// Source of the AHT.
    pub aht_source: &'static str,
    /// Offered load in Erlangs.
    pub load_erlangs: f64,
    /// Agents needed for the queue's SL target (0 without load).
    pub required_agents: u32,
    /// Agents serving the queue who are not in aux or logged out.
    pub staffed_agents: u32,
    /// `required − staffed` (positive = short of agents).
    pub staffing_gap: i64,
}

/// One team now.
#[derive(Debug, Clone, Serialize)]
pub struct TeamSnapshot {
    /// Team name.
    pub team: String,
    /// Agents by state.
    pub agents: BTreeMap<&'static str, u64>,
    /// Agents in aux by reason.
    pub aux_by_reason: BTreeMap<String, u64>,
    /// Today, with open state time up to the watermark.
    pub today: AgentKpis,
    /// The current interval.
    pub interval: AgentKpis,
    /// Rolling windows.
    pub rolling: Vec<WindowTeamKpis>,
    /// Agent-state seconds since the engine started, open states up to the watermark
    /// (the `agent_state_seconds_total` counter), by state.
    pub state_seconds_total: BTreeMap<&'static str, f64>,
}

/// The contact an agent is on.
#[derive(Debug, Clone, Serialize)]
pub struct AgentContact {
    /// Contact id.
    pub contact: String,
    /// Its queue.
    pub queue: String,
    /// Answered at.
    pub since: String,
    /// The same as epoch milliseconds.
    pub since_ms: Millis,
}

/// One agent now.
#[derive(Debug, Clone, Serialize)]
pub struct AgentSnapshot {
    /// Agent id as the ACD names it.
    pub agent: String,
    /// Display name.
    pub name: Option<String>,
    /// Team.
    pub team: Option<String>,
    /// Queues served.
    pub queues: Vec<String>,
    /// Current state.
    pub state: AgentStatus,
    /// Aux / logout reason.
    pub reason: Option<String>,
    /// In this state since.
    pub since: String,
    /// The same as epoch milliseconds.
    pub since_ms: Millis,
    /// The contact the agent is on.
    pub contact: Option<AgentContact>,
    /// Today's KPIs with target attainment.
    pub today: AgentKpis,
    /// Lifetime counters, open state up to the watermark (per-agent metrics; not in JSON).
    #[serde(skip)]
    pub lifetime: AgentCounters,
}

/// Everything a reader needs, as of the watermark.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// Schema version.
    pub v: u32,
    /// Event time of this snapshot.
    pub watermark: Option<String>,
    /// The same as epoch milliseconds.
    pub watermark_ms: Option<Millis>,
    /// Start of the current interval.
    pub interval_start: Option<String>,
    /// Start of today (local midnight).
    pub day_start: Option<String>,
    /// The configured time zone (IANA name) that days and intervals are cut in, so a
    /// screen shows local clock times.
    pub time_zone: Option<String>,
    /// Queues, by name.
    pub queues: Vec<QueueSnapshot>,
    /// Teams, by name.
    pub teams: Vec<TeamSnapshot>,
    /// Agents, by id.
    pub agents: Vec<AgentSnapshot>,
    /// Refused / repaired input.
    pub engine: EngineStats,
    /// Positions in `agents` of each team's agents, parallel to `teams` (a team's screen
    /// reads its agents without walking the whole floor; not in JSON).
    #[serde(skip)]
    pub agents_by_team: Vec<Vec<u32>>,
}

impl Snapshot {
    /// The agents of team `team`, in `agents` order (none for an unknown team).
    pub fn team_agents(&self, team: &str) -> impl Iterator<Item = &AgentSnapshot> {
        let ix = self
            .teams
            .binary_search_by(|t| t.team.as_str().cmp(team))
            .ok()
            .and_then(|k| self.agents_by_team.get(k));
        ix.into_iter()
            .flatten()
            .filter_map(|i| self.agents.get(*i as usize))
    }
}

/// Positions in `agents` of each team's agents, parallel to `teams` (both sorted).
fn index_by_team(teams: &[TeamSnapshot], agents: &[AgentSnapshot]) -> Vec<Vec<u32>> {
    let mut by_team = vec![Vec::new(); teams.len()];
    for (i, a) in agents.iter().enumerate() {
        let k = a
            .team
            .as_deref()
            .and_then(|t| teams.binary_search_by(|x| x.team.as_str().cmp(t)).ok());
        if let Some(list) = k.and_then(|k| by_team.get_mut(k)) {
            list.push(i as u32);
        }
    }
    by_team
}

fn queue_kpis(agg: Option<&mut QueueAgg>, preset: SlPreset) -> QueueKpis {
    match agg {
        Some(a) => {
            let p = a.percentiles();
            QueueKpis::compute(&a.c, preset, p)
        }
        None => QueueKpis::compute(&Default::default(), preset, Default::default()),
    }
}

fn counters(agg: Option<&mut AgentAgg>) -> AgentCounters {
    agg.map(|a| a.c.clone()).unwrap_or_default()
}

/// `[a, b) ∩ [lo, hi)` in ms.
fn overlap(a: Millis, b: Millis, lo: Millis, hi: Millis) -> u64 {
    (b.min(hi) - a.max(lo)).max(0) as u64
}

/// Erlang C staffing from a rolling window's load; the AHT falls back to today's, then
/// to the configured default, when the window has handled too few contacts.
fn staffing_gap(
    w: &WindowKpis,
    today: &QueueKpis,
    cfg: &crate::config::StaffingSection,
    target: f64,
    threshold_ms: Millis,
    staffed: u32,
) -> Staffing {
    let window_s = w.window_seconds.max(1) as f64;
    let (aht, aht_source) = match (w.kpis.aht_seconds, today.aht_seconds) {
        (Some(a), _) if w.kpis.handled >= cfg.min_handled => (a, "window"),
        (_, Some(a)) => (a, "today"),
        _ => (cfg.default_aht.ms() as f64 / 1000.0, "default"),
    };
    let load = w.kpis.arrived as f64 / window_s * aht;
    let required = if load > 0.0 && aht > 0.0 {
        crate::staffing::required_agents(
            load,
            aht,
            target.min(0.999_999),
            threshold_ms as f64 / 1000.0,
            cfg.max_occupancy,
        )
        .unwrap_or(0)
    } else {
        0
    };
    Staffing {
        window_seconds: w.window_seconds,
        arrivals_per_hour: w.kpis.arrived as f64 * 3600.0 / window_s,
        aht_seconds: aht,
        aht_source,
        load_erlangs: load,
        required_agents: required,
        staffed_agents: staffed,
        staffing_gap: i64::from(required) - i64::from(staffed),
    }
}

impl Engine {
    /// Computes a snapshot at the watermark.
    pub fn snapshot(&mut self) -> Snapshot {
        let now = self.now;
        let t = now.unwrap_or(0);
        let day = self.cal.day(t);
        let interval = self.cal.interval(t, day);

        let mut agents_by_queue: Vec<BTreeMap<&'static str, u64>> =
            vec![BTreeMap::new(); self.queues.len()];
        let mut agents_by_team: Vec<BTreeMap<&'static str, u64>> =
            vec![BTreeMap::new(); self.teams.len()];
        let mut aux_by_team: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); self.teams.len()];
        // Open state time per team: today, interval and per rolling window.
        let nwin = self.rolling_lengths.len();
        let mut open_team_life: Vec<[u64; 6]> = vec![[0; 6]; self.teams.len()];
        let mut open_team: Vec<(AgentCounters, AgentCounters, Vec<AgentCounters>)> = vec![
            (
                AgentCounters::default(),
                AgentCounters::default(),
                vec![AgentCounters::default(); nwin]
            );
            self.teams
                .len()
        ];

        let adherence = self.adherence.clone();
        let adherence = adherence.as_deref();
        let mut agents = Vec::with_capacity(self.agents.len());
        for i in 0..self.agents.len() {
            let targets = self.agent_targets(i as u32);
            let Some(rt) = self.agents.get_mut(i) else {
                continue;
            };
            let s = state_ix(rt.state);
            for q in &rt.queues {
                if let Some(m) = agents_by_queue.get_mut(*q as usize) {
                    *m.entry(rt.state.as_str()).or_default() += 1;
                }
            }
            let open = (rt.acc_from, t);
            let mut today = rt.timeline.with_today(t, counters);
            today.state_ms[s] += overlap(open.0, open.1, day.0, day.1);
            if let Some(team) = rt.team {
                if let Some(m) = agents_by_team.get_mut(team as usize) {
                    *m.entry(rt.state.as_str()).or_default() += 1;
                }
                if rt.state == AgentStatus::Aux {
                    let reason = rt
                        .reason
                        .and_then(|r| self.reasons.get(r as usize))
                        .map_or_else(|| "unspecified".to_string(), |n| n.to_string());
                    if let Some(m) = aux_by_team.get_mut(team as usize) {
                        *m.entry(reason).or_default() += 1;
                    }
                }
                if let Some(o) = open_team_life.get_mut(team as usize) {
                    o[s] += (open.1 - open.0).max(0) as u64;
                }
                if let Some(o) = open_team.get_mut(team as usize) {
                    o.0.state_ms[s] += overlap(open.0, open.1, day.0, day.1);
                    o.1.state_ms[s] += overlap(open.0, open.1, interval.0, interval.1);
                    if let Some(cu) = self
                        .teams
                        .get(team as usize)
                        .and_then(|x| x.timeline.rolling.as_ref())
                        .map(|r| r.closed_until())
                    {
                        for (w, len) in o.2.iter_mut().zip(&self.rolling_lengths) {
                            w.state_ms[s] += overlap(open.0, open.1, cu - len, cu);
                        }
                    }
                }
            }
            agents.push(AgentSnapshot {
                agent: rt.name.to_string(),
                name: rt.display.as_ref().map(|n| n.to_string()),
                team: rt
                    .team
                    .and_then(|x| self.teams.get(x as usize))
                    .map(|x| x.name.to_string()),
                queues: rt
                    .queues
                    .iter()
                    .filter_map(|q| self.queues.get(*q as usize))
                    .map(|q| q.name.to_string())
                    .collect(),
                state: rt.state,
                reason: rt
                    .reason
                    .and_then(|r| self.reasons.get(r as usize))
                    .map(|n| n.to_string()),
                since: format_rfc3339(rt.since),
                since_ms: rt.since,
                contact: rt.contact.as_ref().map(|(q, c, at)| AgentContact {
                    contact: c.to_string(),
                    queue: self
                        .queues
                        .get(*q as usize)
                        .map(|x| x.name.to_string())
                        .unwrap_or_default(),
                    since: format_rfc3339(*at),
                    since_ms: *at,
                }),
                today: AgentKpis::compute_with_adherence(
                    &today,
                    Some(&targets),
                    adherence.and_then(|a| a.agents.get(rt.name.as_str()).copied()),
                ),
                lifetime: {
                    let mut l = rt.timeline.totals_now().c.clone();
                    l.state_ms[s] += (open.1 - open.0).max(0) as u64;
                    l
                },
            });
        }

        let mut staffed = vec![0u32; self.queues.len()];
        for rt in &self.agents {
            if !matches!(rt.state, AgentStatus::LoggedOut | AgentStatus::Aux) {
                for q in &rt.queues {
                    if let Some(n) = staffed.get_mut(*q as usize) {
                        *n += 1;
                    }
                }
            }
        }
        let staffing_cfg = self.config.staffing.clone();
        let mut queues = Vec::with_capacity(self.queues.len());
        for (i, q) in self.queues.iter_mut().enumerate() {
            let preset = q.params.preset;
            let oldest = q.waiting.first().map(|(at, _)| *at);
            let rolling = match q.timeline.rolling.as_mut() {
                Some(r) => {
                    let lens = r.lengths().to_vec();
                    r.windows_mut()
                        .iter_mut()
                        .zip(lens)
                        .map(|(w, len)| WindowKpis {
                            window_seconds: len / 1000,
                            kpis: queue_kpis(Some(w), preset),
                        })
                        .collect()
                }
                None => Vec::new(),
            };
            // In place: a day has no pending removals, so reading its percentiles changes
            // nothing (a copy of its histograms was a third of the build).
            let today_kpis = q.timeline.with_today(t, |d| queue_kpis(d, preset));
            let staffing = rolling
                .iter()
                .find(|w: &&WindowKpis| w.window_seconds * 1000 == staffing_cfg.window.ms())
                .map(|w| {
                    staffing_gap(
                        w,
                        &today_kpis,
                        &staffing_cfg,
                        q.params.sl_target,
                        q.params.sl_threshold_ms,
                        staffed.get(i).copied().unwrap_or(0),
                    )
                });
            queues.push(QueueSnapshot {
                queue: q.name.to_string(),
                sl_threshold_seconds: q.params.sl_threshold_ms as f64 / 1000.0,
                sl_target: q.params.sl_target,
                sl_preset: preset,
                waiting: q.waiting.len() as u64,
                waiting_by_channel: Channel::ALL
                    .iter()
                    .filter(|c| q.waiting_by_channel[**c as usize] > 0)
                    .map(|c| (c.as_str(), u64::from(q.waiting_by_channel[*c as usize])))
                    .collect(),
                oldest_queued_at: oldest.map(format_rfc3339),
                oldest_queued_at_ms: oldest,
                agents: agents_by_queue.get(i).cloned().unwrap_or_default(),
                today: today_kpis,
                interval: queue_kpis(q.timeline.interval_at(t).map(|s| &mut s.agg), preset),
                rolling,
                staffing,
                lifetime: Channel::ALL
                    .iter()
                    .filter_map(|c| {
                        q.lifetime
                            .get(*c as usize)
                            .and_then(|x| x.as_deref())
                            .map(|t| (*c, t.clone()))
                    })
                    .collect(),
            });
        }

        let mut teams = Vec::with_capacity(self.teams.len());
        for (i, team) in self.teams.iter_mut().enumerate() {
            let (open_day, open_iv, open_win) = open_team.get(i).cloned().unwrap_or_default();
            let mut today = team.timeline.with_today(t, counters);
            today.add(&open_day);
            let mut iv = counters(team.timeline.interval_at(t).map(|s| &mut s.agg));
            iv.add(&open_iv);
            let rolling = match team.timeline.rolling.as_mut() {
                Some(r) => {
                    let lens = r.lengths().to_vec();
                    r.windows_mut()
                        .iter()
                        .zip(lens)
                        .enumerate()
                        .map(|(k, (w, len))| {
                            let mut c = w.c.clone();
                            if let Some(o) = open_win.get(k) {
                                c.add(o);
                            }
                            WindowTeamKpis {
                                window_seconds: len / 1000,
                                kpis: AgentKpis::compute(&c, Some(&team.targets)),
                            }
                        })
                        .collect()
                }
                None => Vec::new(),
            };
            let life = team.timeline.totals_now().c.state_ms;
            let open_life = open_team_life.get(i).copied().unwrap_or_default();
            let state_seconds_total = AgentStatus::ALL
                .iter()
                .map(|st| {
                    let k = *st as usize;
                    (st.as_str(), (life[k] + open_life[k]) as f64 / 1000.0)
                })
                .collect();
            teams.push(TeamSnapshot {
                team: team.name.to_string(),
                state_seconds_total,
                agents: agents_by_team.get(i).cloned().unwrap_or_default(),
                aux_by_reason: aux_by_team.get(i).cloned().unwrap_or_default(),
                today: AgentKpis::compute_with_adherence(
                    &today,
                    Some(&team.targets),
                    adherence.and_then(|a| a.teams.get(team.name.as_str()).copied()),
                ),
                interval: AgentKpis::compute(&iv, Some(&team.targets)),
                rolling,
            });
        }
        queues.sort_by(|a, b| a.queue.cmp(&b.queue));
        teams.sort_by(|a, b| a.team.cmp(&b.team));
        agents.sort_by(|a, b| a.agent.cmp(&b.agent));
        let agents_by_team = index_by_team(&teams, &agents);

        Snapshot {
            v: 1,
            watermark: now.map(format_rfc3339),
            watermark_ms: now,
            interval_start: now.map(|_| format_rfc3339(interval.0)),
            day_start: now.map(|_| format_rfc3339(day.0)),
            time_zone: self.cal.zone_name().map(str::to_string),
            queues,
            teams,
            agents,
            engine: self.stats.clone(),
            agents_by_team,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StaffingSection;

    fn window(arrived: u64, handled: u64, aht: Option<f64>) -> WindowKpis {
        WindowKpis {
            window_seconds: 1800,
            kpis: QueueKpis {
                arrived,
                handled,
                aht_seconds: aht,
                ..QueueKpis::default()
            },
        }
    }

    /// kpi-definitions §6: 100 calls per 30 min at AHT 180 s, 80/20 → 14 agents.
    #[test]
    fn reference_load_needs_14_agents() {
        let cfg = StaffingSection::default();
        let s = staffing_gap(
            &window(100, 50, Some(180.0)),
            &QueueKpis::default(),
            &cfg,
            0.8,
            20_000,
            11,
        );
        assert!((s.load_erlangs - 10.0).abs() < 1e-9);
        assert_eq!(
            (s.required_agents, s.staffed_agents, s.staffing_gap),
            (14, 11, 3)
        );
        assert_eq!(s.aht_source, "window");
        assert_eq!(s.arrivals_per_hour, 200.0);
    }

    #[test]
    fn aht_falls_back_to_today_then_default_and_no_load_needs_nobody() {
        let cfg = StaffingSection::default();
        let today = QueueKpis {
            aht_seconds: Some(240.0),
            ..QueueKpis::default()
        };
        let s = staffing_gap(&window(10, 2, Some(30.0)), &today, &cfg, 0.8, 20_000, 3);
        assert_eq!((s.aht_seconds, s.aht_source), (240.0, "today"));
        let s = staffing_gap(
            &window(10, 0, None),
            &QueueKpis::default(),
            &cfg,
            0.8,
            20_000,
            3,
        );
        assert_eq!((s.aht_seconds, s.aht_source), (180.0, "default"));
        let s = staffing_gap(
            &window(0, 0, None),
            &QueueKpis::default(),
            &cfg,
            0.8,
            20_000,
            3,
        );
        assert_eq!((s.required_agents, s.staffing_gap), (0, -3));
    }
}
