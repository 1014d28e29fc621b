//! The alert task: evaluates the rules on every published snapshot, off the engine's
//! path, and logs each notification (the `log` notifier; the others attach here).

use super::AlertEngine;
use crate::runtime::{Published, Shutdown};
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

/// The alert engine shared by the task and the API. A std `Mutex`: it is held only for
/// an evaluation or a read, never across an await, and the engine never waits on it.
pub type SharedAlerts = Arc<Mutex<AlertEngine>>;

/// Spawns the task: one evaluation per published snapshot until shutdown.
pub fn spawn(
    published: Arc<Published>,
    alerts: SharedAlerts,
    mut shutdown: Shutdown,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = published.subscribe();
        loop {
            tokio::select! {
                _ = shutdown.wait() => break,
                changed = ticks.changed() => if changed.is_err() { break },
            }
            let Some(snap) = published.latest() else {
                continue;
            };
            let events = match alerts.lock() {
                Ok(mut engine) => engine.evaluate(&snap),
                Err(_) => break,
            };
            for e in events {
                tracing::warn!(
                    alertname = %e.alertname,
                    severity = e.severity,
                    scope = %e.scope,
                    kind = ?e.kind,
                    value = e.value,
                    "alert: {}",
                    e.summary
                );
            }
        }
    })
}
