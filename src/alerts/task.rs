//! The alert task: evaluates the rules on every published snapshot, off the engine's
//! path, and hands each notification to the [`Dispatcher`] (which never waits).

use super::notify::Dispatcher;
use super::AlertEngine;
use crate::runtime::{Published, Shutdown};
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

/// The alert engine shared by the task and the API. A std `Mutex`: it is held only for
/// an evaluation or a read, never across an await, and the engine never waits on it.
pub type SharedAlerts = Arc<Mutex<AlertEngine>>;

/// Spawns the task with the log as the only notifier.
pub fn spawn(
    published: Arc<Published>,
    alerts: SharedAlerts,
    shutdown: Shutdown,
) -> JoinHandle<()> {
    let rules = alerts
        .lock()
        .map(|a| a.rules().to_vec())
        .unwrap_or_default();
    spawn_with(published, alerts, shutdown, Dispatcher::log_only(&rules))
}

/// Spawns the task: one evaluation per published snapshot until shutdown; the
/// dispatcher is dropped at the end, which lets the receivers flush and stop.
pub fn spawn_with(
    published: Arc<Published>,
    alerts: SharedAlerts,
    mut shutdown: Shutdown,
    dispatcher: Dispatcher,
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
            dispatcher.dispatch(&events);
        }
        drop(dispatcher);
    })
}
