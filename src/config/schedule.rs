//! `[schedule]`: the team schedule (CSV) and the graces of its exception alerts.

use super::{ConfigError, Duration};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// `[schedule]` (docs/kpis.md §Schedule and adherence).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleSection {
    /// The schedule CSV (`agent,start,end,activity[,team][,queues]`); unset: no file
    /// (a schedule can still be `PUT` to `/api/v1/schedule`).
    pub file: Option<PathBuf>,
    /// How often the file's modification time is checked (reloaded when it changes).
    pub poll_interval: Duration,
    /// A shift's agent not logged in this long after the shift start is a no-show.
    pub no_show_grace: Duration,
    /// Still in aux this long after a scheduled break or lunch ended: a break overrun;
    /// back later than this: a late return.
    pub break_grace: Duration,
    /// How long a late return stays in the schedule view (and its alert active).
    pub late_return_hold: Duration,
    /// Aux reasons that count as adherent for an activity (`break = ["Break", "Pause"]`);
    /// an activity not listed accepts any aux reason. Compared case-insensitively.
    pub aux_reasons: BTreeMap<String, Vec<String>>,
}

impl Default for ScheduleSection {
    fn default() -> Self {
        ScheduleSection {
            file: None,
            poll_interval: Duration::secs(5),
            no_show_grace: Duration::mins(5),
            break_grace: Duration::mins(2),
            late_return_hold: Duration::mins(10),
            aux_reasons: BTreeMap::new(),
        }
    }
}

impl ScheduleSection {
    /// Checks the section; `err` names the file.
    pub(super) fn check(
        &self,
        err: &dyn Fn(&str, String) -> ConfigError,
    ) -> Result<(), ConfigError> {
        if self.file.as_ref().is_some_and(|f| f.as_os_str().is_empty()) {
            return Err(err("schedule.file", "must name a file".into()));
        }
        if !(100..=3_600_000).contains(&self.poll_interval.ms()) {
            return Err(err(
                "schedule.poll_interval",
                format!("{} must be between 100ms and 1h", self.poll_interval),
            ));
        }
        for (key, d) in [
            ("schedule.no_show_grace", self.no_show_grace),
            ("schedule.break_grace", self.break_grace),
            ("schedule.late_return_hold", self.late_return_hold),
        ] {
            if d.ms() > 86_400_000 {
                return Err(err(key, format!("{d} is longer than a day")));
            }
        }
        if self.late_return_hold.ms() < 1000 {
            return Err(err(
                "schedule.late_return_hold",
                "must be at least 1s (a late return must be seen by an evaluation)".into(),
            ));
        }
        for (activity, reasons) in &self.aux_reasons {
            if crate::schedule::Activity::parse(activity).is_none() {
                return Err(err(
                    &format!("schedule.aux_reasons.{activity}"),
                    format!(
                        "unknown activity `{activity}` (one of {})",
                        crate::schedule::Activity::NAMES.join(", ")
                    ),
                ));
            }
            if reasons.iter().any(|r| r.trim().is_empty()) {
                return Err(err(
                    &format!("schedule.aux_reasons.{activity}"),
                    "reasons must not be empty".into(),
                ));
            }
        }
        Ok(())
    }
}
