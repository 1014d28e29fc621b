//! The alerts' states across a restart: `alerts-state.json` in the data directory, saved
//! by the alert task after evaluations (at most every [`SAVE_EVERY`]) and at shutdown,
//! read back at start. A firing alert then stays firing instead of paging the team
//! leader a second time, its acknowledgement and repeat interval continue, and one
//! that cleared while the daemon was down resolves at the first evaluation.

use super::{SavedAlert, SharedAlerts};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Least wall time between two saves while running.
pub const SAVE_EVERY: Duration = Duration::from_secs(10);

/// The file's format version.
const VERSION: u32 = 1;

#[derive(serde::Serialize, serde::Deserialize)]
struct Doc {
    v: u32,
    alerts: Vec<SavedAlert>,
}

/// Where the states are saved, and when they were last.
#[derive(Debug)]
pub struct StateFile {
    path: PathBuf,
    last: Option<Instant>,
}

impl StateFile {
    /// The state file `alerts-state.json` in `data_dir`.
    pub fn in_dir(data_dir: &Path) -> Self {
        StateFile {
            path: data_dir.join("alerts-state.json"),
            last: None,
        }
    }

    /// Restores the saved states into `alerts`; returns how many (0 without a file; an
    /// unreadable one is logged and ignored: the alerts then start afresh).
    pub fn restore(&self, alerts: &SharedAlerts) -> usize {
        let Ok(bytes) = std::fs::read(&self.path) else {
            return 0;
        };
        let doc = match serde_json::from_slice::<Doc>(&bytes) {
            Ok(d) if d.v == VERSION => d,
            Ok(d) => {
                tracing::warn!(path = %self.path.display(), version = d.v, "alert states of another version ignored");
                return 0;
            }
            Err(e) => {
                tracing::warn!(path = %self.path.display(), "alert states not restored ({e})");
                return 0;
            }
        };
        match alerts.lock() {
            Ok(mut a) => a.restore(doc.alerts),
            Err(_) => 0,
        }
    }

    /// Saves when [`SAVE_EVERY`] has passed since the last save (on a blocking thread).
    pub fn save_if_due(&mut self, alerts: &SharedAlerts) {
        if self.last.is_some_and(|t| t.elapsed() < SAVE_EVERY) {
            return;
        }
        self.last = Some(Instant::now());
        let Some(saved) = snapshot(alerts) else {
            return;
        };
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || write(&path, saved));
    }

    /// Saves now (at shutdown).
    pub fn save(&self, alerts: &SharedAlerts) {
        if let Some(saved) = snapshot(alerts) {
            write(&self.path, saved);
        }
    }
}

fn snapshot(alerts: &SharedAlerts) -> Option<Vec<SavedAlert>> {
    alerts.lock().ok().map(|a| a.saved())
}

/// Writes the file whole or not at all ([`crate::runtime::write_atomic`]: synced, then
/// renamed over the old one).
fn write(path: &Path, alerts: Vec<SavedAlert>) {
    let doc = Doc { v: VERSION, alerts };
    let result = crate::runtime::write_atomic(path, |w| {
        serde_json::to_writer(w, &doc).map_err(std::io::Error::other)
    });
    if let Err(e) = result {
        tracing::error!(path = %path.display(), "alert states not saved: {e}");
    }
}
