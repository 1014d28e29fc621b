//! Event sources of the live daemon, one module each. A source turns its input into
//! [`Event`]s and sends them to the engine task through a bounded channel; when the
//! channel is full the *source* waits, the engine never waits for a source.
//!
//! Now: [`simulator`] (the built-in demo), [`file_tail`] (a log file, with
//! [`checkpoint`] offsets), [`push`] (HTTP POST and websocket ingest) and [`websocket`]
//! (a client of an ACD/adapter websocket feed) and [`nats`] (the durable bus: a NATS
//! JetStream stream, resumed at its saved sequence).

mod backoff;
pub mod channel;
pub mod checkpoint;
pub mod file_tail;
pub mod nats;
pub mod push;
pub mod simulator;
pub mod websocket;

use crate::decode::{DecodeStats, Decoded};
use crate::engine::Refused;
use crate::model::{Event, Millis};
use crate::runtime::Shutdown;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Index of a source in the daemon's source list.
pub type SourceId = u16;

/// Where a source resumes after an event. Every event carries one, so it is cheap to
/// make (no allocation); it becomes JSON only when the engine takes a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// A file source: which file, and the offset and line count past the event's line
    /// (saved as the file's [`checkpoint::Checkpoint`]).
    File {
        /// The path tailed, shared.
        path: std::sync::Arc<std::path::Path>,
        /// Which file.
        fingerprint: checkpoint::Fingerprint,
        /// Byte offset past the line.
        offset: u64,
        /// Lines consumed up to `offset`.
        line: u64,
    },
    /// The bus: a message and how many of its events were sent.
    Bus(nats::BusPosition),
}

impl Position {
    /// The position as saved in the engine checkpoint.
    pub fn to_json(&self) -> serde_json::Value {
        let json = match self {
            Position::File { .. } => serde_json::to_value(self.file_checkpoint()),
            Position::Bus(b) => serde_json::to_value(b),
        };
        json.unwrap_or(serde_json::Value::Null)
    }

    /// A file position as the file source's checkpoint (`None` for the bus).
    pub fn file_checkpoint(&self) -> Option<checkpoint::Checkpoint> {
        match self {
            Position::File {
                path,
                fingerprint,
                offset,
                line,
            } => Some(checkpoint::Checkpoint {
                v: 1,
                path: path.to_path_buf(),
                fingerprint: *fingerprint,
                offset: *offset,
                line: *line,
            }),
            Position::Bus(_) => None,
        }
    }
}

/// Events on their way to the engine, tagged with the source they came from.
#[derive(Debug)]
pub struct Ingest {
    /// Which source.
    pub source: SourceId,
    /// The events, in the source's order.
    pub events: Events,
    /// Where the source will resume after the last of them (a file offset): saved with
    /// the engine checkpoint so a restart neither loses nor repeats an event.
    pub position: Option<Position>,
    /// Room taken in the channel (see [`channel`]).
    pub(crate) permits: u32,
}

/// One event, or a batch (a chunk of a file): one channel message either way.
#[derive(Debug)]
pub enum Events {
    /// A single event (no allocation).
    One(Event),
    /// Several, oldest first.
    Batch(Vec<Event>),
}

impl Events {
    /// How many.
    pub fn len(&self) -> usize {
        match self {
            Events::One(_) => 1,
            Events::Batch(v) => v.len(),
        }
    }

    /// True for an empty batch.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl IntoIterator for Events {
    type Item = Event;
    type IntoIter = std::iter::Chain<std::option::IntoIter<Event>, std::vec::IntoIter<Event>>;
    fn into_iter(self) -> Self::IntoIter {
        match self {
            Events::One(e) => Some(e).into_iter().chain(Vec::new()),
            Events::Batch(v) => None.into_iter().chain(v),
        }
    }
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
    duplicates: AtomicU64,
    last_event_ms: AtomicI64,
    /// Reading a backlog: while any source is, the engine does not move event time with
    /// the clock (the backlog's old events would all be late).
    catching_up: AtomicBool,
    /// Per-line decode counts of sources that decode lines (files); a std mutex because
    /// it is held for a counter update only, never across an await.
    decode: Mutex<DecodeStats>,
}

impl SourceStatus {
    fn new(name: String) -> Self {
        SourceStatus {
            up: AtomicBool::new(false),
            events: AtomicU64::new(0),
            late: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            last_event_ms: AtomicI64::new(Millis::MIN),
            catching_up: AtomicBool::new(false),
            decode: Mutex::new(DecodeStats::new(name.clone())),
            name,
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
        self.late() + self.duplicates.load(Ordering::Relaxed)
    }

    /// Events the engine refused as later than the allowed lateness.
    pub fn late(&self) -> u64 {
        self.late.load(Ordering::Relaxed)
    }

    /// Event time of the newest event sent, if any.
    pub fn last_event_ms(&self) -> Option<Millis> {
        let t = self.last_event_ms.load(Ordering::Relaxed);
        (t != Millis::MIN).then_some(t)
    }

    /// True while the source reads a backlog (the engine holds event time meanwhile).
    pub fn is_catching_up(&self) -> bool {
        self.catching_up.load(Ordering::Acquire)
    }

    /// The source's decode counts so far (lines, events, unknown and rejected by reason;
    /// all zero for sources that do not decode lines).
    pub fn decode_stats(&self) -> DecodeStats {
        self.decode
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Marks the source down (it failed or stopped).
    pub(crate) fn set_down(&self) {
        self.up.store(false, Ordering::Relaxed);
    }

    /// Counts an event the engine refused (called by the engine task).
    pub(crate) fn count_refused(&self, why: Refused) {
        match why {
            Refused::Late => &self.late,
            Refused::Duplicate => &self.duplicates,
        }
        .fetch_add(1, Ordering::Relaxed);
    }
}

/// What a source holds: its sending end of the engine channel and its status.
#[derive(Debug, Clone)]
pub struct SourceHandle {
    id: SourceId,
    tx: channel::EngineTx,
    status: Arc<SourceStatus>,
}

impl SourceHandle {
    pub(crate) fn new(id: SourceId, name: String, tx: channel::EngineTx) -> Self {
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

    /// Reports that the source is reading a backlog (`true`) or has caught up. Set it
    /// *after* the backlog's last event was sent: the engine then finds that event in
    /// the channel before it moves event time to the clock.
    pub fn set_catching_up(&self, catching_up: bool) {
        self.status
            .catching_up
            .store(catching_up, Ordering::Release);
    }

    /// Counts one decoded line (1-based `line_no`) in the source's [`DecodeStats`].
    pub fn record_decoded(&self, line_no: u64, decoded: &Decoded) {
        self.status
            .decode
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .record(line_no, decoded);
    }

    /// Sends an event, waiting while the channel is full (backpressure on the source).
    /// Sources with positions send batches ([`SourceHandle::send_batch`]).
    pub async fn send(&self, event: Event) -> Result<(), SourceError> {
        self.send_events(Events::One(event), None).await
    }

    /// Sends events (oldest first) with the position to resume from after the last one:
    /// a file source's chunk in one message. An empty batch with a position moves the
    /// position alone (past lines that held no event, so a restart does not read and
    /// count them again); one without sends nothing.
    pub async fn send_batch(
        &self,
        events: Vec<Event>,
        position: Option<Position>,
    ) -> Result<(), SourceError> {
        if events.is_empty() && position.is_none() {
            return Ok(());
        }
        self.send_events(Events::Batch(events), position).await
    }

    async fn send_events(
        &self,
        events: Events,
        position: Option<Position>,
    ) -> Result<(), SourceError> {
        let (n, newest) = match &events {
            Events::One(e) => (1, e.ts),
            Events::Batch(v) => (v.len(), v.iter().map(|e| e.ts).max().unwrap_or(Millis::MIN)),
        };
        let m = Ingest {
            source: self.id,
            events,
            position,
            permits: 0,
        };
        self.tx.send(m).await.map_err(|_| SourceError::EngineGone)?;
        self.status.events.fetch_add(n as u64, Ordering::Relaxed);
        self.status
            .last_event_ms
            .fetch_max(newest, Ordering::Relaxed);
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
    /// True for a source that may start with a backlog (a file read from a checkpoint or
    /// its start): the daemon marks it catching up *before* the engine's first tick, and
    /// the source clears that once it has read to the end
    /// ([`SourceHandle::set_catching_up`]).
    fn starts_catching_up(&self) -> bool {
        false
    }
}
