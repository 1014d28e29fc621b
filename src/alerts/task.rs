//! The alert task: evaluates the rules on every published snapshot, off the engine's
//! path, and hands each notification to the [`Dispatcher`] (which never waits); the
//! engine also broadcasts it to live subscribers (the `/ws` feed,
//! [`AlertEngine::subscribe`]).
//!
//! Before each evaluation it brings the schedule to the snapshot's watermark (the
//! engine's agent state changes arrive on their own channel, sent before the snapshot
//! is published) and reads the sources' health, so the schedule and source rules see
//! the same instant as the queue rules.

use super::notify::Dispatcher;
use super::{AlertEngine, AlertInputs, SourceHealth};
use crate::engine::Transitions;
use crate::model::Millis;
use crate::runtime::{Published, Shutdown};
use crate::schedule::SharedSchedule;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The alert engine shared by the task and the API. A std `Mutex`: it is held only for
/// an evaluation or a read, never across an await, and the engine never waits on it.
pub type SharedAlerts = Arc<Mutex<AlertEngine>>;

/// What the task reads besides the snapshots.
#[derive(Debug, Default)]
pub struct AlertContext {
    /// The schedule to bring to each watermark (and whose file to poll).
    pub schedule: Option<SharedSchedule>,
    /// The engine's agent state changes (`DaemonBuilder::agent_transitions`).
    pub transitions: Option<mpsc::Receiver<Transitions>>,
    /// Sources that may stay idle (push endpoints): silent only once they delivered.
    pub idle_ok: Vec<String>,
    /// Where the alerts' states are saved across a restart (none: not saved).
    pub state_file: Option<super::persist::StateFile>,
}

/// Spawns the task with no schedule, every source expected live, and the log as the
/// only notifier.
pub fn spawn(
    published: Arc<Published>,
    alerts: SharedAlerts,
    shutdown: Shutdown,
) -> JoinHandle<()> {
    let rules = alerts
        .lock()
        .map(|a| a.rules().to_vec())
        .unwrap_or_default();
    spawn_with(
        published,
        alerts,
        AlertContext::default(),
        shutdown,
        Dispatcher::log_only(&rules),
    )
}

/// Adds a batch of agent state changes to `changes`; at a checkpoint marker, hands
/// everything so far to the schedule and saves its state for that engine checkpoint.
fn take(changes: &mut Transitions, t: Transitions, schedule: Option<&SharedSchedule>) {
    changes.items.extend(t.items);
    changes.dropped += t.dropped;
    if let (Some(id), Some(s)) = (t.checkpoint, schedule) {
        s.push(std::mem::take(changes));
        s.checkpoint(id);
    }
}

/// How long the task waits at shutdown for the engine's last changes and checkpoint.
const SHUTDOWN_DRAIN: Duration = Duration::from_secs(10);

/// At shutdown the engine sends its last changes and a final checkpoint marker, then
/// closes the channel: the schedule takes them and saves its state for that checkpoint.
async fn drain_at_shutdown(ctx: &mut AlertContext) {
    let (Some(rx), Some(s)) = (ctx.transitions.as_mut(), ctx.schedule.as_ref()) else {
        return;
    };
    let deadline = tokio::time::Instant::now() + SHUTDOWN_DRAIN;
    let mut changes = Transitions::default();
    while let Ok(Some(t)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        take(&mut changes, t, Some(s));
    }
    s.push(changes);
}

/// Spawns the task: one evaluation per published snapshot (with the schedule and
/// source inputs of `ctx`) until shutdown; each notification goes to `dispatcher`.
/// The dispatcher is dropped at the end, which lets the receivers flush and stop.
pub fn spawn_with(
    published: Arc<Published>,
    alerts: SharedAlerts,
    mut ctx: AlertContext,
    mut shutdown: Shutdown,
    dispatcher: Dispatcher,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = published.subscribe();
        // When each source was first seen without an event (silence is counted from it).
        let mut first_seen: HashMap<String, Millis> = HashMap::new();
        loop {
            tokio::select! {
                _ = shutdown.wait() => {
                    drain_at_shutdown(&mut ctx).await;
                    break;
                }
                changed = ticks.changed() => if changed.is_err() { break },
            }
            let Some(snap) = published.latest() else {
                continue;
            };
            let mut changes = Transitions::default();
            if let Some(rx) = ctx.transitions.as_mut() {
                while let Ok(t) = rx.try_recv() {
                    take(&mut changes, t, ctx.schedule.as_ref());
                }
            }
            let view = ctx.schedule.as_ref().map(|s| {
                s.poll_file();
                s.update(&snap, changes)
            });
            let now = snap.watermark_ms.unwrap_or(0);
            let sources: Vec<SourceHealth> = published
                .sources()
                .iter()
                .map(|s| {
                    let expected = s.events() > 0 || !ctx.idle_ok.iter().any(|n| n == s.name());
                    let since = s
                        .last_event_ms()
                        .unwrap_or_else(|| *first_seen.entry(s.name().to_string()).or_insert(now));
                    SourceHealth {
                        name: s.name().to_string(),
                        up: s.is_up(),
                        silent_since_ms: expected.then_some(since),
                    }
                })
                .collect();
            let inputs = AlertInputs {
                schedule: view.as_deref(),
                sources: &sources,
            };
            let events = match alerts.lock() {
                Ok(mut engine) => engine.evaluate_with(&snap, &inputs),
                Err(_) => break,
            };
            dispatcher.dispatch(&events);
            if let Some(f) = ctx.state_file.as_mut() {
                f.save_if_due(&alerts);
            }
        }
        if let Some(f) = ctx.state_file.as_ref() {
            f.save(&alerts);
        }
        drop(dispatcher);
    })
}
