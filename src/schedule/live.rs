//! The daemon's schedule: the tracker behind a mutex (held by the alert task for one
//! update, or by `PUT /api/v1/schedule` for one swap, never across an await), the
//! latest view for readers (`ArcSwap`, lock-free), and the file, reloaded when its
//! modification time changes (polled: the project does not use `notify`).

use super::import::{parse_csv, ImportReport};
use super::tracker::{ScheduleSettings, Tracker};
use super::view::{ImportInfo, ScheduleView};
use crate::config::Config;
use crate::engine::{Snapshot, Transitions};
use arc_swap::ArcSwapOption;
use std::path::PathBuf;
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

/// See the module docs.
#[derive(Debug)]
pub struct ScheduleService {
    tracker: Mutex<Tracker>,
    latest: ArcSwapOption<ScheduleView>,
    file: Option<PathBuf>,
    poll_every: std::time::Duration,
    file_state: Mutex<FileState>,
    tz: jiff::tz::TimeZone,
}

impl ScheduleService {
    /// A service for the `[schedule]` section; the file (if any) is loaded at the first
    /// [`ScheduleService::poll_file`].
    pub fn new(cfg: &Config, tz: jiff::tz::TimeZone) -> Self {
        ScheduleService {
            tracker: Mutex::new(Tracker::new(
                ScheduleSettings::from_config(&cfg.schedule),
                tz.clone(),
            )),
            latest: ArcSwapOption::empty(),
            file: cfg.schedule.file.clone(),
            poll_every: std::time::Duration::from_millis(
                cfg.schedule.poll_interval.ms().max(100) as u64
            ),
            file_state: Mutex::new(FileState::default()),
            tz,
        }
    }

    fn tracker(&self) -> MutexGuard<'_, Tracker> {
        self.tracker
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Parses `data` and, unless every row was rejected, makes it the schedule.
    pub fn replace(&self, data: &[u8], source: &str) -> ImportReport {
        let mut report = parse_csv(data, &self.tz);
        if report.accepted == 0 && report.rejected > 0 {
            return report;
        }
        let info = ImportInfo {
            source: source.to_string(),
            accepted: report.accepted,
            rejected: report.rejected,
            errors: report.errors.clone(),
        };
        let schedule = std::mem::take(&mut report.schedule);
        self.tracker().set_schedule(schedule, info);
        report
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
        let stamp = (
            meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            meta.len(),
        );
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
        if report.accepted == 0 && report.rejected > 0 {
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
        self.latest.store(Some(view.clone()));
        view
    }

    /// The latest view (`None` before the first snapshot). Lock-free.
    pub fn latest(&self) -> Option<Arc<ScheduleView>> {
        self.latest.load_full()
    }
}
