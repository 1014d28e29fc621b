//! The daemon's schedule: the tracker behind a mutex (held by the alert task for one
//! update, or by `PUT /api/v1/schedule` for one swap, never across an await), the
//! latest view for readers (`ArcSwap`, lock-free), and the file, reloaded when its
//! modification time changes (polled: the project does not use `notify`).

use super::import::{parse_csv, ImportReport};
use super::ledger::AgentLedger;
use super::tracker::{SavedState, ScheduleSettings, Tracker};
use super::view::{ImportInfo, ScheduleView};
use crate::config::Config;
use crate::engine::{AdherenceToday, Calendar};
use crate::engine::{Snapshot, Transitions};
use crate::model::Millis;
use arc_swap::ArcSwapOption;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

/// The schedule service shared by the alert task, the API and `/metrics`.
pub type SharedSchedule = Arc<ScheduleService>;

/// What the file poller remembers.
#[derive(Debug, Default)]
struct FileState {
    /// Modification time (and length) of the version loaded or last tried.
    seen: Option<(SystemTime, u64)>,
    /// Last poll (wall clock: file polling is I/O, not alert logic).
    last_poll: Option<tokio::time::Instant>,
    /// A missing file was already logged.
    missing_logged: bool,
}

/// Agent → the team the schedule places it in.
pub type PlannedTeams = BTreeMap<String, String>;

/// See the module docs.
#[derive(Debug)]
pub struct ScheduleService {
    tracker: Mutex<Tracker>,
    latest: ArcSwapOption<ScheduleView>,
    /// `latest`'s adherence today per agent and team, for the engine's targets.
    adherence: ArcSwapOption<AdherenceToday>,
    /// The current schedule's team of each agent it names, for the engine.
    teams: ArcSwapOption<PlannedTeams>,
    /// Where the config places agents: a schedule naming another team is reported.
    config: Config,
    file: Option<PathBuf>,
    poll_every: std::time::Duration,
    file_state: Mutex<FileState>,
    tz: jiff::tz::TimeZone,
    /// Where the tracker's state is saved with each engine checkpoint, once enabled.
    state: Mutex<Option<StateFiles>>,
}

/// The tracker's saved state beside the engine checkpoint: the latest and the one
/// before (the engine may not have committed the latest's checkpoint when it stopped).
#[derive(Debug, Clone)]
struct StateFiles {
    latest: PathBuf,
    previous: PathBuf,
    /// The last schedule sent to `PUT /api/v1/schedule`.
    uploaded: PathBuf,
    /// The id of the last engine checkpoint saved for ([`crate::runtime::DaemonBuilder::checkpoint_acks`]).
    ack: Arc<AtomicU64>,
    /// Held while writing (a write may outlive the next marker when the disk is slow).
    writing: Arc<Mutex<()>>,
}

/// Version of the saved tracker state.
const STATE_VERSION: u64 = 1;

impl ScheduleService {
    /// A service for the `[schedule]` section; the file (if any) is loaded at the first
    /// [`ScheduleService::poll_file`].
    pub fn new(cfg: &Config, tz: jiff::tz::TimeZone) -> Self {
        ScheduleService {
            tracker: Mutex::new(Tracker::new(
                // As many days as the engine keeps day sums of: weekly reports too.
                ScheduleSettings::from_config(&cfg.schedule)
                    .keeping_days(crate::engine::day_sums_kept(cfg.daemon.report_days)),
                tz.clone(),
            )),
            latest: ArcSwapOption::empty(),
            adherence: ArcSwapOption::empty(),
            teams: ArcSwapOption::empty(),
            config: cfg.clone(),
            file: cfg.schedule.file.clone(),
            poll_every: std::time::Duration::from_millis(
                cfg.schedule.poll_interval.ms().max(100) as u64
            ),
            file_state: Mutex::new(FileState::default()),
            tz,
            state: Mutex::new(None),
        }
    }

    /// Saves the tracker's state in `data_dir` at each engine checkpoint marker (see
    /// [`ScheduleService::checkpoint`]) and restores the one saved with engine
    /// checkpoint `restored` (the engine's restored checkpoint), so today's adherence,
    /// no-shows and late returns continue across a restart. Without a match (a
    /// checkpoint from before this was saved) the tracker starts from the engine's
    /// current agent states, as the first time.
    pub fn persist_state(&self, data_dir: &Path, restored: Option<u64>, ack: Arc<AtomicU64>) {
        let files = StateFiles {
            latest: data_dir.join("schedule-state.json"),
            previous: data_dir.join("schedule-state.prev.json"),
            uploaded: data_dir.join("schedule-uploaded.csv"),
            ack,
            writing: Arc::new(Mutex::new(())),
        };
        self.restore_upload(&files.uploaded);
        if let Some(id) = restored {
            self.restore_state(&files, id, data_dir);
        }
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = Some(files);
    }

    /// Restores the tracker from the state file saved for engine checkpoint `id` (the
    /// latest or the previous one), read once.
    fn restore_state(&self, files: &StateFiles, id: u64, data_dir: &Path) {
        /// The saved document; the state is restored from its text as it is.
        #[derive(serde::Deserialize)]
        struct Doc<'a> {
            v: u64,
            id: u64,
            #[serde(borrow)]
            state: &'a serde_json::value::RawValue,
        }
        for path in [&files.latest, &files.previous] {
            let Ok(bytes) = std::fs::read(path) else {
                continue;
            };
            let Ok(doc) = serde_json::from_slice::<Doc>(&bytes) else {
                continue;
            };
            if doc.v != STATE_VERSION || doc.id != id {
                continue;
            }
            match self.tracker().restore_state(doc.state.get().as_bytes()) {
                Ok(()) => {
                    tracing::info!(path = %path.display(), checkpoint = id, "schedule state restored")
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), "schedule state not restored ({e}); adherence restarts from the agents' current states")
                }
            }
            return;
        }
        tracing::warn!(
            dir = %data_dir.display(),
            checkpoint = id,
            "no schedule state saved with the engine checkpoint; adherence restarts from the agents' current states"
        );
    }

    /// Hands the engine's state changes to the tracker (applied at the next update).
    pub fn push(&self, transitions: Transitions) {
        self.tracker().push(transitions);
    }

    /// Engine checkpoint `id` was taken after the changes pushed so far: saves the
    /// tracker's state for it (on a blocking thread) and then acknowledges `id`, when
    /// persistence is on.
    pub fn checkpoint(&self, id: u64) {
        let Some(files) = self.state.lock().unwrap_or_else(|p| p.into_inner()).clone() else {
            return;
        };
        let state = self.tracker().saved_state();
        let write = move || {
            let _one = files.writing.lock().unwrap_or_else(|p| p.into_inner());
            match write_state(&files, id, &state) {
                Ok(()) => {
                    files.ack.fetch_max(id, Ordering::AcqRel);
                }
                Err(e) => {
                    tracing::error!(path = %files.latest.display(), "schedule state not saved: {e}")
                }
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(h) => drop(h.spawn_blocking(write)),
            Err(_) => write(),
        }
    }

    /// A kept day's adherence per agent and report interval for the daemon's day report
    /// ([`Tracker::day_ledger`]), with each planned agent's team from the schedule
    /// (for agents the engine has not seen). Holds the tracker while it computes.
    pub fn day_ledger(
        &self,
        cal: &Calendar,
        day: (Millis, Millis),
        until: Millis,
    ) -> Option<DayLedger> {
        let tracker = self.tracker();
        let agents = tracker.day_ledger(cal, day, until)?;
        let plan_teams = agents
            .keys()
            .filter_map(|a| {
                let team = tracker.schedule().plan(a)?.team.clone()?;
                Some((a.clone(), team))
            })
            .collect();
        Some(DayLedger { agents, plan_teams })
    }

    /// A week's adherence for the daemon's weekly report: each kept local day of `days`
    /// counted as [`SharedSchedule::day_ledger`] counts it (`cal` the engine's report
    /// intervals), summed per agent, one row per day. `None` when no day has adherence.
    pub fn week_ledger(
        &self,
        cal: &Calendar,
        days: &[(Millis, Millis)],
        until: Millis,
    ) -> Option<DayLedger> {
        let mut week: Option<DayLedger> = None;
        for &day in days {
            let Some(l) = self.day_ledger(cal, day, until) else {
                continue;
            };
            let w = week.get_or_insert_with(DayLedger::default);
            for (agent, a) in &l.agents {
                w.agents.entry(agent.clone()).or_default().add_day(day.0, a);
            }
            w.plan_teams.extend(l.plan_teams);
        }
        week
    }

    fn tracker(&self) -> MutexGuard<'_, Tracker> {
        self.tracker
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Parses `data` and, unless every row was rejected, makes it the schedule.
    pub fn replace(&self, data: &[u8], source: &str) -> ImportReport {
        let mut report = parse_csv(data, &self.tz);
        if !report.applies() {
            return report;
        }
        let info = ImportInfo {
            source: source.to_string(),
            accepted: report.accepted,
            rejected: report.rejected,
            errors: report.errors.clone(),
        };
        let schedule = std::mem::take(&mut report.schedule);
        let teams = schedule.teams();
        self.report_conflicts(&teams, source);
        self.teams.store(Some(Arc::new(teams)));
        self.tracker().set_schedule(schedule, info);
        report
    }

    /// Logs agents the schedule places in another team than the config does (the
    /// config's team wins for their KPIs; their adherence is grouped by the schedule's).
    fn report_conflicts(&self, teams: &PlannedTeams, source: &str) {
        let conflicts: Vec<String> = teams
            .iter()
            .filter_map(|(agent, team)| {
                let configured = crate::engine::config_team(&self.config, agent)?;
                (configured != *team).then(|| {
                    format!("{agent} ({team} in the schedule, {configured} in the config)")
                })
            })
            .collect();
        if !conflicts.is_empty() {
            tracing::warn!(
                schedule = source,
                agents = conflicts.len(),
                "the schedule and the config place agents in different teams; their KPIs count for the config's team: {}",
                conflicts.join(", ")
            );
        }
    }

    /// Each agent's team in the current schedule (the last row naming one), for the
    /// engine ([`crate::engine::Engine::set_planned_teams`]). Lock-free.
    pub fn planned_teams(&self) -> Option<Arc<PlannedTeams>> {
        self.teams.load_full()
    }

    /// A schedule sent to `PUT /api/v1/schedule`: replaces the current one like
    /// [`ScheduleService::replace`] and, with persistence on, is kept in
    /// `data_dir/schedule-uploaded.csv` so that a restart brings it back (unless the
    /// schedule file changed after it).
    pub fn upload(&self, data: &[u8]) -> ImportReport {
        let report = self.replace(data, "api");
        let files = self.state.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let (true, Some(files)) = (report.applies(), files) {
            if let Err(e) = crate::runtime::write_atomic(&files.uploaded, |w| w.write_all(data)) {
                tracing::error!(path = %files.uploaded.display(), "uploaded schedule not saved: {e}");
            }
        }
        report
    }

    /// At start: the uploaded schedule, if there is one and the schedule file (if any)
    /// did not change after it; the file is then reloaded only when it changes again.
    fn restore_upload(&self, path: &Path) {
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        let uploaded_at = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        let file_stamp = self
            .file
            .as_ref()
            .and_then(|f| std::fs::metadata(f).ok())
            .map(|m| stamp(&m));
        if file_stamp.is_some_and(|(modified, _)| modified > uploaded_at) {
            tracing::info!(path = %path.display(), "the schedule file changed after the last upload: using the file");
            return;
        }
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(path = %path.display(), "uploaded schedule unreadable ({e})");
                return;
            }
        };
        let report = self.replace(&data, "api");
        tracing::info!(path = %path.display(), accepted = report.accepted, rejected = report.rejected, "uploaded schedule restored");
        self.file_state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .seen = file_stamp;
    }

    /// Reloads the file if its modification time or length changed since the last load
    /// (checked at most every `poll_interval`); returns the import when it reloaded.
    pub fn poll_file(&self) -> Option<ImportReport> {
        let path = self.file.as_ref()?;
        let mut st = self
            .file_state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = tokio::time::Instant::now();
        if st.last_poll.is_some_and(|t| now - t < self.poll_every) {
            return None;
        }
        st.last_poll = Some(now);
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                if !std::mem::replace(&mut st.missing_logged, true) {
                    tracing::warn!(path = %path.display(), "schedule file unreadable ({e}); keeping the current schedule");
                }
                return None;
            }
        };
        st.missing_logged = false;
        let stamp = stamp(&meta);
        if st.seen == Some(stamp) {
            return None;
        }
        st.seen = Some(stamp);
        drop(st);
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(path = %path.display(), "schedule file unreadable ({e}); keeping the current schedule");
                return None;
            }
        };
        let report = self.replace(&data, &format!("file:{}", path.display()));
        for e in &report.errors {
            tracing::warn!(path = %path.display(), line = e.line, "schedule row rejected: {}", e.reason);
        }
        if !report.applies() {
            tracing::error!(path = %path.display(), rejected = report.rejected, "every schedule row was rejected; keeping the current schedule");
        } else {
            tracing::info!(path = %path.display(), accepted = report.accepted, rejected = report.rejected, "schedule loaded");
        }
        Some(report)
    }

    /// Applies the engine's state changes up to the snapshot's watermark and publishes
    /// the view there.
    pub fn update(&self, snap: &Snapshot, transitions: Transitions) -> Arc<ScheduleView> {
        let view = {
            let mut t = self.tracker();
            t.push(transitions);
            Arc::new(t.observe(snap))
        };
        self.adherence.store(Some(Arc::new(view.adherence_today())));
        self.latest.store(Some(view.clone()));
        view
    }

    /// Adherence today per agent and team as of the latest view, for the engine's
    /// `adherence_min` targets ([`crate::engine::Engine::set_adherence`]). Lock-free.
    pub fn adherence(&self) -> Option<Arc<AdherenceToday>> {
        self.adherence.load_full()
    }

    /// The latest view (`None` before the first snapshot). Lock-free.
    pub fn latest(&self) -> Option<Arc<ScheduleView>> {
        self.latest.load_full()
    }
}

/// A day's adherence per agent and report interval, for `GET /api/v1/report`.
#[derive(Debug, Clone, Default)]
pub struct DayLedger {
    /// By agent id: adherent and scheduled time per interval and over the day.
    pub agents: HashMap<String, AgentLedger>,
    /// The team the schedule names for an agent, where it names one.
    pub plan_teams: HashMap<String, String>,
}

/// What identifies a version of the schedule file: its modification time and length.
fn stamp(meta: &std::fs::Metadata) -> (SystemTime, u64) {
    (
        meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        meta.len(),
    )
}

/// Writes `{"v", "id", "state"}` to a temporary file, syncs it, keeps the latest as the
/// previous and renames the new one in.
fn write_state(files: &StateFiles, id: u64, state: &SavedState) -> std::io::Result<()> {
    let tmp = crate::runtime::tmp_path(&files.latest);
    crate::runtime::write_synced(&tmp, |w| {
        write!(w, "{{\"v\":{STATE_VERSION},\"id\":{id},\"state\":")?;
        state.write_json(&mut *w)?;
        w.write_all(b"}\n")
    })?;
    match std::fs::rename(&files.latest, &files.previous) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    std::fs::rename(&tmp, &files.latest)
}
