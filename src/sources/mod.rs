//! Event sources of the live daemon, one module each. A source turns its input into
//! [`Event`]s and sends them to the engine task through a bounded channel; when the
//! channel is full the *source* waits, the engine never waits for a source.
//!
//! Now: [`simulator`] (the built-in demo) and [`push`] (HTTP POST and websocket ingest).
//! Later: file tail, bus.

pub mod push;
pub mod simulator;

use crate::model::{Event, Millis};
use crate::runtime::Shutdown;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Index of a source in the daemon's source list.
pub type SourceId = u16;

/// An event on its way to the engine, tagged with the source it came from.
#[derive(Debug)]
pub struct Ingest {
    /// Which source.
    pub source: SourceId,
    /// The event.
    pub event: Event,
}

/// What a source failed at (the daemon logs it and marks the source down).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The source's configuration cannot run.
    #[error("{source_name}: {message}")]
    Config {
        /// The source.
        source_name: String,
        /// What is wrong.
        message: String,
    },
    /// The engine is gone (the daemon is shutting down).
    #[error("the engine stopped")]
    EngineGone,
}

/// A source's health and counters, shared with readers (`/readyz`, later `/metrics`).
#[derive(Debug)]
pub struct SourceStatus {
    name: String,
    up: AtomicBool,
    events: AtomicU64,
    late: AtomicU64,
    last_event_ms: AtomicI64,
}

impl SourceStatus {
    fn new(name: String) -> Self {
        SourceStatus {
            name,
            up: AtomicBool::new(false),
            events: AtomicU64::new(0),
            late: AtomicU64::new(0),
            last_event_ms: AtomicI64::new(Millis::MIN),
        }
    }

    /// The source's name (a label in logs and metrics).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Connected / reading, as the source last reported.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Events sent to the engine.
    pub fn events(&self) -> u64 {
        self.events.load(Ordering::Relaxed)
    }

    /// Events the engine refused as late or duplicate.
    pub fn refused(&self) -> u64 {
        self.late.load(Ordering::Relaxed)
    }

    /// Event time of the newest event sent, if any.
    pub fn last_event_ms(&self) -> Option<Millis> {
        let t = self.last_event_ms.load(Ordering::Relaxed);
        (t != Millis::MIN).then_some(t)
    }

    /// Marks the source down (it failed or stopped).
    pub(crate) fn set_down(&self) {
        self.up.store(false, Ordering::Relaxed);
    }

    /// Counts an event the engine refused (called by the engine task).
    pub(crate) fn count_refused(&self) {
        self.late.fetch_add(1, Ordering::Relaxed);
    }
}

/// What a source holds: its sending end of the engine channel and its status.
#[derive(Debug, Clone)]
pub struct SourceHandle {
    id: SourceId,
    tx: mpsc::Sender<Ingest>,
    status: Arc<SourceStatus>,
}

impl SourceHandle {
    pub(crate) fn new(id: SourceId, name: String, tx: mpsc::Sender<Ingest>) -> Self {
        SourceHandle {
            id,
            tx,
            status: Arc::new(SourceStatus::new(name)),
        }
    }

    /// The shared status.
    pub fn status(&self) -> &Arc<SourceStatus> {
        &self.status
    }

    /// Reports the source up (connected, reading) or down.
    pub fn set_up(&self, up: bool) {
        self.status.up.store(up, Ordering::Relaxed);
    }

    /// Sends an event, waiting while the channel is full (backpressure on the source).
    pub async fn send(&self, event: Event) -> Result<(), SourceError> {
        let ts = event.ts;
        self.tx
            .send(Ingest {
                source: self.id,
                event,
            })
            .await
            .map_err(|_| SourceError::EngineGone)?;
        self.status.events.fetch_add(1, Ordering::Relaxed);
        self.status.last_event_ms.fetch_max(ts, Ordering::Relaxed);
        Ok(())
    }
}

/// A future a source runs as its task.
pub type SourceTask = Pin<Box<dyn Future<Output = Result<(), SourceError>> + Send>>;

/// A source of events: started once with its handle, it runs until its input ends or
/// `shutdown` fires.
pub trait Source: Send + 'static {
    /// Its name (logs, metrics, `/readyz`).
    fn name(&self) -> &str;
    /// The task that feeds the engine.
    fn run(self: Box<Self>, handle: SourceHandle, shutdown: Shutdown) -> SourceTask;
}
