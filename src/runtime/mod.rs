//! The live runtime: the engine task, snapshot publication and shutdown.
//!
//! ```text
//! sources ──Ingest──▶ engine channel ──▶ engine task ──Arc<Snapshot>──▶ ArcSwap ──▶ outputs
//!                                     (owns Engine,                   (readers load,
//!                                      ticks with the Clock)           never lock)
//! ```
//! The engine task owns the [`Engine`] exclusively. It applies events as they arrive and,
//! every tick, advances event time with the injected [`Clock`] (so an idle, caught-up
//! center still turns waiting contacts into `sl_missed`), computes a snapshot and
//! publishes it. Readers take the latest `Arc<Snapshot>`; nothing outside the task ever
//! touches the engine.

mod clock;
mod persist;

pub use clock::{Clock, ManualClock, Sleep, SystemClock};
pub use persist::{
    tmp_path, write_atomic, write_synced, EngineStore, PersistError, Positions, Restored, Staged,
};

use crate::config::{Config, ConfigError};
use crate::engine::{
    AdherenceToday, DayCut, DayCutError, Engine, EngineOptions, ReportSpan, Snapshot, Transitions,
};
use crate::model::Millis;
use crate::schedule::PlannedTeams;
use crate::sources::channel::{engine_channel, EngineRx, EngineTx};
use crate::sources::{Ingest, Position, Source, SourceError, SourceHandle, SourceId, SourceStatus};
use arc_swap::ArcSwapOption;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// Why the daemon could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// More sources than a [`SourceId`] can number.
    #[error("too many sources")]
    TooManySources,
    /// The engine task panicked.
    #[error("the engine task failed: {0}")]
    EngineTask(String),
}

/// The receiving side of the shutdown signal; cheap to clone, one per task.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

/// The sending side: [`ShutdownTrigger::trigger`] asks every task to stop.
#[derive(Debug)]
pub struct ShutdownTrigger(watch::Sender<bool>);

/// A connected trigger and signal.
pub fn shutdown_channel() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (ShutdownTrigger(tx), Shutdown(rx))
}

impl ShutdownTrigger {
    /// Signals shutdown to every [`Shutdown`] (idempotent).
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }

    /// Another receiver of this trigger.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown(self.0.subscribe())
    }
}

impl Shutdown {
    /// Completes once shutdown was triggered (or the trigger was dropped).
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// True once shutdown was triggered.
    pub fn is_triggered(&self) -> bool {
        *self.0.borrow()
    }
}

/// What the engine task publishes for readers: the latest snapshot, a sequence number
/// to wait on, and the sources' status.
#[derive(Debug)]
pub struct Published {
    snapshot: ArcSwapOption<Snapshot>,
    seq: watch::Sender<u64>,
    sources: Vec<Arc<SourceStatus>>,
    ticks: AtomicU64,
    /// When the latest snapshot was published, in µs since `epoch` (latency tracing).
    published_us: AtomicU64,
    epoch: std::time::Instant,
    /// Requests for a day's report rows, answered by the engine task.
    reports: mpsc::Sender<DayRequest>,
}

/// A reader's request for the report rows of a local day or week.
struct DayRequest {
    span: ReportSpan,
    reply: oneshot::Sender<Result<DayCut, DayCutError>>,
}

/// Report requests the engine task holds before askers wait for room.
const REPORT_REQUESTS: usize = 8;

impl Published {
    fn new(sources: Vec<Arc<SourceStatus>>, reports: mpsc::Sender<DayRequest>) -> Self {
        Published {
            snapshot: ArcSwapOption::empty(),
            seq: watch::Sender::new(0),
            sources,
            ticks: AtomicU64::new(0),
            published_us: AtomicU64::new(0),
            epoch: std::time::Instant::now(),
            reports,
        }
    }

    /// The report rows of `span` (a local day's closed intervals, or a local week's
    /// days: see [`ReportSpan`]), copied by the engine task between two batches of
    /// events; `None` when the engine task has stopped.
    pub async fn report_cut(&self, span: ReportSpan) -> Option<Result<DayCut, DayCutError>> {
        let (reply, answer) = oneshot::channel();
        self.reports.send(DayRequest { span, reply }).await.ok()?;
        answer.await.ok()
    }

    /// The latest snapshot (`None` before the first tick). Lock-free.
    pub fn latest(&self) -> Option<Arc<Snapshot>> {
        self.snapshot.load_full()
    }

    /// Snapshots published so far; waiters get each new number (feeds, tests).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.seq.subscribe()
    }

    /// Sources, in registration order.
    pub fn sources(&self) -> &[Arc<SourceStatus>] {
        &self.sources
    }

    /// Ready: a first snapshot exists and every source reported up.
    pub fn is_ready(&self) -> bool {
        self.snapshot.load().is_some() && self.sources.iter().all(|s| s.is_up())
    }

    /// Time since the latest snapshot was published (the feed's latency tracing).
    pub fn since_publish(&self) -> Duration {
        let at = Duration::from_micros(self.published_us.load(Ordering::Relaxed));
        self.epoch.elapsed().saturating_sub(at)
    }

    fn publish(&self, snapshot: Snapshot) {
        let previous = self.snapshot.swap(Some(Arc::new(snapshot)));
        let at = self.epoch.elapsed().as_micros() as u64;
        self.published_us.store(at, Ordering::Relaxed);
        let n = self.ticks.fetch_add(1, Ordering::Relaxed) + 1;
        self.seq.send_replace(n);
        // Freeing the previous state (thousands of strings) waits until readers are woken.
        drop(previous);
    }
}

/// Knobs of the engine task.
#[derive(Debug, Clone, Copy)]
pub struct RuntimeOptions {
    /// Snapshot period (and how often event time follows the clock).
    pub tick: Duration,
    /// Capacity of the source → engine channel, in events.
    pub channel_capacity: usize,
    /// Engine settings (the daemon keeps its recent days' closed rows and maintains rolling windows).
    pub engine: EngineOptions,
}

impl RuntimeOptions {
    /// The options a config asks for.
    pub fn from_config(cfg: &Config) -> Self {
        RuntimeOptions {
            tick: Duration::from_millis(cfg.daemon.tick.ms().max(1) as u64),
            channel_capacity: cfg.daemon.channel_capacity.max(1),
            engine: EngineOptions {
                // Whole-second sources (queue_log) log outcomes up to 1 s after the wait
                // they report: the same grace as `ccpulse replay` gives them.
                sl_grace_ms: if cfg.sources.iter().any(|s| {
                    s.kind == crate::config::SourceKind::File
                        && s.format != crate::config::SourceFormat::Jsonl
                }) {
                    1000
                } else {
                    0
                },
                // Today's (and recent days') interval rows for `/api/v1/report`.
                keep_closed: cfg.daemon.report_days > 0,
                rolling: true,
                lifetime: true,
                live_totals: true,
                report_days: cfg.daemon.report_days,
            },
        }
    }
}

/// Assembles a daemon: the engine, its sources and handles fed from outside.
pub struct DaemonBuilder {
    engine: Engine,
    opts: RuntimeOptions,
    /// Where the engine is checkpointed, and how often (`None`: not persisted).
    store: Option<(EngineStore, Duration)>,
    positions: Positions,
    tx: EngineTx,
    rx: EngineRx,
    handles: Vec<SourceHandle>,
    sources: Vec<(Box<dyn Source>, SourceHandle)>,
    /// Where the engine's agent state changes go (the schedule), if anyone asked.
    transitions: Option<mpsc::Sender<Transitions>>,
    /// Id of the restored checkpoint (ids count up from it).
    restored_id: Option<u64>,
    /// The last checkpoint id the transitions' reader saved its state for, when it does.
    checkpoint_ack: Option<Arc<AtomicU64>>,
    /// Where each tick reads today's schedule adherence from, if a schedule runs.
    adherence: Option<AdherenceSource>,
    /// Where the engine reads the schedule's teams from, if a schedule runs.
    teams: Option<TeamsSource>,
}

/// Today's schedule adherence as of the schedule's latest view (read at every tick).
pub type AdherenceSource = Arc<dyn Fn() -> Option<Arc<AdherenceToday>> + Send + Sync>;

/// The schedule's team of each agent it names (read at start and at every tick; a new
/// `Arc` is a new schedule).
pub type TeamsSource = Arc<dyn Fn() -> Option<Arc<PlannedTeams>> + Send + Sync>;

/// How long a checkpoint's commit waits for the transitions' reader to save its state
/// for the same checkpoint (so the two are restored together) before committing alone.
const CHECKPOINT_ACK_WAIT: Duration = Duration::from_secs(2);

/// Ticks of agent state changes the schedule's channel holds before the engine keeps
/// them in its own bounded log instead (it never waits for the reader).
const TRANSITION_BATCHES: usize = 1024;

impl DaemonBuilder {
    /// An engine for `cfg` with the daemon's options.
    pub fn new(cfg: &Config, opts: RuntimeOptions) -> Result<Self, RuntimeError> {
        let engine = Engine::new(cfg, opts.engine)?;
        let (tx, rx) = engine_channel(opts.channel_capacity);
        Ok(DaemonBuilder {
            engine,
            opts,
            store: None,
            positions: Positions::new(),
            tx,
            rx,
            handles: Vec::new(),
            sources: Vec::new(),
            transitions: None,
            restored_id: None,
            checkpoint_ack: None,
            adherence: None,
            teams: None,
        })
    }

    /// Where the engine reads the schedule's teams (agents the config does not place
    /// are in their scheduled team): applied when the engine starts, after a restore,
    /// and whenever the schedule changes.
    pub fn teams_from(&mut self, source: TeamsSource) {
        self.teams = Some(source);
    }

    /// Where each tick reads today's schedule adherence for the agents' and teams'
    /// `adherence_min` targets (the schedule's latest view: one tick behind the engine).
    pub fn adherence_from(&mut self, source: AdherenceSource) {
        self.adherence = Some(source);
    }

    /// For a transitions reader that saves its own state at each checkpoint marker
    /// ([`Transitions::checkpoint`]): it stores the id it saved here, and the engine
    /// commits each checkpoint only after that (or after a bound), so a crash never
    /// leaves an engine checkpoint without the reader's state of the same instant.
    pub fn checkpoint_acks(&mut self) -> Arc<AtomicU64> {
        self.checkpoint_ack
            .get_or_insert_with(|| Arc::new(AtomicU64::new(0)))
            .clone()
    }

    /// The id of the checkpoint [`DaemonBuilder::persist`] restored, if it had one.
    pub fn restored_checkpoint(&self) -> Option<u64> {
        self.restored_id
    }

    /// The engine's agent state changes, one batch per tick, sent before the tick's
    /// snapshot is published (the schedule's adherence needs every change). A reader
    /// that falls behind never slows the engine: the changes wait in the engine's
    /// bounded log, and beyond that bound are dropped and counted in the next batch.
    pub fn agent_transitions(&mut self) -> mpsc::Receiver<Transitions> {
        let (tx, rx) = mpsc::channel(TRANSITION_BATCHES);
        self.transitions = Some(tx);
        rx
    }

    /// Persists the engine in `cfg.daemon.data_dir`: restores the saved state if there is
    /// one (a checkpoint the config can no longer follow is logged and set aside) and
    /// returns the source positions it was taken at, for the sources to resume from.
    pub fn persist(&mut self, cfg: &Config) -> Result<Positions, PersistError> {
        let store = EngineStore::new(&cfg.daemon.data_dir);
        let every = Duration::from_millis(cfg.daemon.checkpoint_interval.ms().max(100) as u64);
        let positions = match store.load(cfg, self.opts.engine) {
            Ok(Some(r)) => {
                tracing::info!(path = %store.path().display(), applied = r.engine.stats().applied, "engine state restored");
                self.engine = r.engine;
                self.restored_id = r.id;
                r.positions
            }
            Ok(None) => Positions::new(),
            Err(PersistError::Engine { path, error }) => {
                let aside = path.with_extension("json.incompatible");
                tracing::warn!(path = %path.display(), "engine state not restored ({error}); starting empty, old state kept in {}", aside.display());
                let _ = std::fs::rename(&path, &aside);
                Positions::new()
            }
            Err(e) => return Err(e),
        };
        self.positions = positions.clone();
        self.store = Some((store, every));
        Ok(positions)
    }

    /// A handle for events fed from outside a [`Source`] (HTTP POST later; tests). The
    /// holder reports it up with [`SourceHandle::set_up`].
    pub fn handle(&mut self, name: &str) -> Result<SourceHandle, RuntimeError> {
        let id =
            SourceId::try_from(self.handles.len()).map_err(|_| RuntimeError::TooManySources)?;
        let h = SourceHandle::new(id, name.to_string(), self.tx.clone());
        self.handles.push(h.clone());
        Ok(h)
    }

    /// Adds a source, started with the daemon.
    pub fn source(&mut self, source: Box<dyn Source>) -> Result<(), RuntimeError> {
        let name = source.name().to_string();
        let h = self.handle(&name)?;
        h.set_catching_up(source.starts_catching_up());
        self.sources.push((source, h));
        Ok(())
    }

    /// Spawns the engine task and the sources on the current tokio runtime.
    pub fn start(self, clock: Arc<dyn Clock>) -> Daemon {
        let DaemonBuilder {
            engine,
            opts,
            store,
            positions,
            tx,
            rx,
            handles,
            sources,
            transitions,
            restored_id,
            checkpoint_ack,
            adherence,
            teams,
        } = self;
        let mut engine = engine;
        engine.record_transitions(transitions.is_some());
        // Before any event: a backlog's agents join their scheduled teams from the start.
        let teams = teams.map(|source| {
            let mut follow = TeamsFollow {
                source,
                applied: None,
            };
            follow.update(&mut engine);
            follow
        });
        // Only the handles keep the channel open: when every source is gone the engine
        // keeps ticking on the clock alone.
        drop(tx);
        let statuses: Vec<Arc<SourceStatus>> = handles.iter().map(|h| h.status().clone()).collect();
        let n_sources = statuses.len();
        let (reports_tx, reports) = mpsc::channel(REPORT_REQUESTS);
        let published = Arc::new(Published::new(statuses.clone(), reports_tx));
        let (trigger, shutdown) = shutdown_channel();
        let task = EngineTask {
            engine,
            rx,
            clock,
            published: published.clone(),
            statuses,
            tick: opts.tick,
            drain_limit: opts.channel_capacity.max(1),
            store,
            positions,
            latest: vec![None; n_sources],
            last_save: tokio::time::Instant::now(),
            saving: None,
            transitions,
            checkpoint_id: restored_id.unwrap_or(0),
            checkpoint_ack,
            adherence,
            teams,
            reports,
            backlog: None,
        };
        let engine = spawn_engine_thread(task, shutdown.clone());
        let mut source_tasks = Vec::with_capacity(sources.len());
        for (source, handle) in sources {
            let name = source.name().to_string();
            let status = handle.status().clone();
            let fut = source.run(handle, shutdown.clone());
            source_tasks.push(tokio::spawn(async move {
                match fut.await {
                    Ok(()) => tracing::debug!(source = %name, "source stopped"),
                    Err(SourceError::EngineGone) => {}
                    Err(e) => {
                        status.set_down();
                        tracing::error!(source = %name, "source failed: {e}");
                    }
                }
            }));
        }
        drop(handles);
        Daemon {
            published,
            trigger,
            engine,
            sources: source_tasks,
        }
    }
}

/// The schedule's teams as the engine last took them ([`DaemonBuilder::teams_from`]).
struct TeamsFollow {
    source: TeamsSource,
    /// The schedule's teams last applied (a new `Arc` is a new schedule).
    applied: Option<Arc<PlannedTeams>>,
}

impl TeamsFollow {
    /// Puts the agents the config does not place in their scheduled teams, at the
    /// watermark, if the schedule changed since the last time.
    fn update(&mut self, engine: &mut Engine) {
        let Some(current) = (self.source)() else {
            return;
        };
        if self
            .applied
            .as_ref()
            .is_some_and(|a| Arc::ptr_eq(a, &current))
        {
            return;
        }
        let at = engine.watermark().unwrap_or(Millis::MIN);
        engine.set_planned_teams(current.iter().map(|(a, t)| (a.as_str(), t.as_str())), at);
        self.applied = Some(current);
    }
}

/// A running daemon: read its [`Published`] state; [`Daemon::shutdown`] stops it.
pub struct Daemon {
    published: Arc<Published>,
    trigger: ShutdownTrigger,
    engine: oneshot::Receiver<Engine>,
    sources: Vec<JoinHandle<()>>,
}

/// Runs the engine task on its own OS thread (a current-thread tokio runtime): the
/// engine never competes with HTTP, feed and source tasks for a worker, so hundreds of
/// busy feed connections cannot delay a tick. The engine comes back through `done`.
fn spawn_engine_thread(task: EngineTask, shutdown: Shutdown) -> oneshot::Receiver<Engine> {
    let (done, engine) = oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("ccpulse-engine".into())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
            {
                Ok(rt) => {
                    let _ = done.send(rt.block_on(task.run(shutdown)));
                }
                Err(e) => tracing::error!("engine thread: no runtime: {e}"),
            }
        });
    if let Err(e) = spawned {
        tracing::error!("engine thread not started: {e}");
    }
    engine
}

impl Daemon {
    /// What readers (HTTP, later the feed and exporters) read.
    pub fn published(&self) -> &Arc<Published> {
        &self.published
    }

    /// A shutdown signal tied to this daemon (e.g. for the HTTP server).
    pub fn shutdown_signal(&self) -> Shutdown {
        self.trigger.subscribe()
    }

    /// Stops the sources, lets the engine apply what it received, publishes a final
    /// snapshot and returns the engine (for checkpoints; tests).
    pub async fn shutdown(self) -> Result<Engine, RuntimeError> {
        self.trigger.trigger();
        for s in self.sources {
            let _ = s.await;
        }
        self.engine
            .await
            .map_err(|_| RuntimeError::EngineTask("the engine thread ended early".into()))
    }
}

/// Waits (blocking, bounded) until the transitions' reader saved its state for
/// checkpoint `id`.
fn wait_ack(ack: Option<&AtomicU64>, id: u64) {
    let Some(ack) = ack else { return };
    let start = std::time::Instant::now();
    while ack.load(Ordering::Acquire) < id {
        if start.elapsed() > CHECKPOINT_ACK_WAIT {
            tracing::warn!(
                checkpoint = id,
                "the schedule did not save its state for this engine checkpoint in time; committing without it"
            );
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Messages taken from the channel per wake-up of the engine task: single events, or a
/// file chunk's batch of up to 256 (so at most ~65k events between two looks at the tick).
const RECV_BATCH: usize = 256;

/// While events wait out their lateness and none arrive, the engine still follows the
/// clock this often: when a source stops (or pauses) after a burst, its last
/// `allowed_lateness` of events is released in small steps, not all at the next tick
/// just before the snapshot (at 200k events/s that was 200k events, ~100 ms, added to
/// the latency of each one).
const RELEASE_STEP: Duration = Duration::from_millis(50);

/// The task that owns the engine.
struct EngineTask {
    engine: Engine,
    rx: EngineRx,
    clock: Arc<dyn Clock>,
    published: Arc<Published>,
    statuses: Vec<Arc<SourceStatus>>,
    tick: Duration,
    drain_limit: usize,
    store: Option<(EngineStore, Duration)>,
    /// Positions restored from the checkpoint, per source name.
    positions: Positions,
    /// Position after the last event received, per source id.
    latest: Vec<Option<Position>>,
    last_save: tokio::time::Instant,
    /// A checkpoint being written on a blocking thread.
    saving: Option<JoinHandle<()>>,
    /// Agent state changes to the schedule.
    transitions: Option<mpsc::Sender<Transitions>>,
    /// Id of the last checkpoint staged.
    checkpoint_id: u64,
    /// See [`DaemonBuilder::checkpoint_acks`].
    checkpoint_ack: Option<Arc<AtomicU64>>,
    /// See [`DaemonBuilder::adherence_from`].
    adherence: Option<AdherenceSource>,
    /// See [`DaemonBuilder::teams_from`].
    teams: Option<TeamsFollow>,
    /// Readers' requests for a day's report rows.
    reports: mpsc::Receiver<DayRequest>,
    /// While a source reads a backlog: when it began and the events applied before it.
    backlog: Option<(std::time::Instant, u64)>,
}

impl EngineTask {
    async fn run(mut self, mut shutdown: Shutdown) -> Engine {
        let mut ticker = tokio::time::interval(self.tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut open = true;
        // Events are taken in batches: one wake-up per batch, not per event.
        let mut batch = Vec::with_capacity(RECV_BATCH);
        if self.catching_up() {
            let applied = self.engine.stats().applied;
            self.reading_backlog(self.clock.now_ms(), std::time::Instant::now(), applied);
        }
        loop {
            // Room held back from the sources goes back before the task may wait.
            self.rx.release_held();
            tokio::select! {
                biased;
                _ = shutdown.wait() => break,
                // Ticks come before events so a flood of events cannot starve them.
                _ = ticker.tick() => self.tick(),
                n = self.rx.recv_many(&mut batch, RECV_BATCH), if open => {
                    if n == 0 {
                        open = false;
                    }
                    for m in batch.drain(..) {
                        self.ingest(m);
                    }
                    self.follow_clock();
                }
                _ = tokio::time::sleep(RELEASE_STEP), if self.engine.pending() > 0 => {
                    self.follow_clock();
                }
                Some(req) = self.reports.recv() => {
                    let _ = req.reply.send(self.engine.report_cut(req.span));
                }
            }
        }
        if let Some(h) = self.saving.take() {
            let _ = h.await;
        }
        self.finish();
        self.engine
    }

    /// The sources' positions now: the restored ones, overlaid with each source's
    /// latest (made JSON only here, at a checkpoint).
    fn positions(&self) -> Positions {
        let mut all = self.positions.clone();
        for (status, pos) in self.statuses.iter().zip(&self.latest) {
            if let Some(pos) = pos {
                all.insert(status.name().to_string(), pos.to_json());
            }
        }
        all
    }

    fn ingest(&mut self, m: Ingest) {
        if let Some(pos) = m.position {
            if let Some(slot) = self.latest.get_mut(usize::from(m.source)) {
                *slot = Some(pos);
            }
        }
        for event in m.events {
            if let Err(why) = self.engine.push(event) {
                if let Some(s) = self.statuses.get(usize::from(m.source)) {
                    s.count_refused(why);
                }
            }
        }
        self.rx.release(m.permits);
    }

    /// Reads the clock, drains the channel, moves event time to the clock: at every tick
    /// and after every batch, so events are applied as soon as their lateness has passed,
    /// not in one burst at the next tick (the latency to a screen is the tick, not the
    /// tick plus a second's worth of events). Not while a source reads a backlog.
    fn follow_clock(&mut self) {
        // Read the clock first: whatever was sent before this instant is in the channel.
        let now: Millis = self.clock.now_ms();
        // Read before draining: a source clears the flag after sending its backlog's last
        // event, so once it reads clear, that event is in the channel and drained below.
        let catching_up = self.catching_up();
        let start = std::time::Instant::now();
        let before = self.engine.stats().applied;
        let pending = self.engine.pending();
        self.drain();
        let drained = start.elapsed();
        // The engine holds event time `allowed_lateness` behind what it has seen, so
        // giving it "now" puts the watermark at now − lateness. Not while a source reads
        // a backlog: event time then follows the backlog's own events.
        if catching_up {
            self.reading_backlog(now, start, before);
        } else {
            self.engine.advance_to(now);
            if let Some((since, applied)) = self.backlog.take() {
                self.engine.backlog_read();
                tracing::info!(
                    events = self.engine.stats().applied - applied,
                    seconds = since.elapsed().as_secs_f64(),
                    "backlog read: event time follows the clock again"
                );
            }
        }
        let took = start.elapsed();
        if took > std::time::Duration::from_millis(10) {
            tracing::debug!(
                target: "ccpulse::timing",
                drain_us = drained.as_micros() as u64,
                advance_us = (took - drained).as_micros() as u64,
                applied = self.engine.stats().applied - before,
                pending_before = pending,
                pending_after = self.engine.pending(),
                "slow clock follow"
            );
        }
    }

    /// True while any source reads a backlog.
    fn catching_up(&self) -> bool {
        self.statuses.iter().any(|s| s.is_catching_up())
    }

    /// While a source reads a backlog: the rolling floor follows the clock (`now`), days
    /// and totals take whole intervals, and the first call keeps when the reading began
    /// (`since`, `applied` events before it) for the `backlog read` log.
    fn reading_backlog(&mut self, now: Millis, since: std::time::Instant, applied: u64) {
        self.engine.skip_rolling_before_clock(now);
        self.engine.defer_days();
        self.backlog.get_or_insert((since, applied));
    }

    /// Applies what has already arrived (bounded), then moves event time to now.
    fn drain(&mut self) {
        let mut left = self.drain_limit;
        while left > 0 {
            let Some(m) = self.rx.try_recv() else {
                break;
            };
            left = left.saturating_sub(m.events.len().max(1));
            self.ingest(m);
        }
    }

    fn tick(&mut self) {
        let start = std::time::Instant::now();
        self.follow_clock();
        self.send_transitions();
        let followed = start.elapsed();
        if let Some(adherence) = &self.adherence {
            self.engine.set_adherence(adherence());
        }
        if let Some(teams) = &mut self.teams {
            teams.update(&mut self.engine);
        }
        let snapshot = self.engine.snapshot();
        let built = start.elapsed();
        self.published.publish(snapshot);
        tracing::debug!(
            target: "ccpulse::timing",
            follow_us = followed.as_micros() as u64,
            snapshot_us = (built - followed).as_micros() as u64,
            "tick published"
        );
        // After the publish, like the checkpoint: a burst's memory given back here
        // never delays a tick.
        self.engine.trim();
        self.maybe_checkpoint();
    }

    /// Hands the agent state changes since the last tick to the schedule, if its channel
    /// has room (else they wait in the engine's bounded log for the next tick).
    fn send_transitions(&mut self) {
        let Some(tx) = &self.transitions else {
            return;
        };
        let closed = match tx.try_reserve() {
            Ok(permit) => {
                let t = self.engine.take_transitions();
                if !t.items.is_empty() || t.dropped > 0 {
                    permit.send(t);
                }
                false
            }
            Err(mpsc::error::TrySendError::Full(())) => false,
            Err(mpsc::error::TrySendError::Closed(())) => true,
        };
        if closed {
            self.engine.record_transitions(false);
            self.transitions = None;
        }
    }

    /// Tells the transitions' reader that checkpoint `id` was taken here (with any
    /// changes not yet handed over); returns what to wait on before committing it, if
    /// the reader saves its state per checkpoint and the marker could be sent.
    fn send_marker(&mut self, id: u64) -> Option<Arc<AtomicU64>> {
        let tx = self.transitions.as_ref()?;
        let permit = tx.try_reserve().ok()?;
        let mut t = self.engine.take_transitions();
        t.checkpoint = Some(id);
        permit.send(t);
        self.checkpoint_ack.clone()
    }

    /// Every `checkpoint_interval`: the engine state is encoded here (it must not change
    /// meanwhile) and written on a blocking thread; a write still running skips a turn.
    fn maybe_checkpoint(&mut self) {
        let Some((store, every)) = &self.store else {
            return;
        };
        if self.last_save.elapsed() < *every
            || self.saving.as_ref().is_some_and(|h| !h.is_finished())
        {
            return;
        }
        self.last_save = tokio::time::Instant::now();
        self.checkpoint_id += 1;
        let id = self.checkpoint_id;
        match store.stage(&self.engine, &self.positions(), id) {
            Ok(staged) => {
                let ack = self.send_marker(id);
                self.saving = Some(tokio::task::spawn_blocking(move || {
                    wait_ack(ack.as_deref(), id);
                    if let Err(e) = staged.commit() {
                        tracing::error!("engine checkpoint failed: {e}");
                    }
                }));
            }
            Err(e) => tracing::error!("engine checkpoint failed: {e}"),
        }
    }

    /// Shutdown: apply everything received, including events still inside the allowed
    /// lateness, and publish the final state.
    fn finish(&mut self) {
        self.rx.close();
        let now = self.clock.now_ms();
        while let Some(m) = self.rx.try_recv() {
            self.ingest(m);
        }
        self.engine.flush();
        self.engine.advance_to(now);
        self.send_transitions();
        self.published.publish(self.engine.snapshot());
        if let Some((store, _)) = self.store.take() {
            self.checkpoint_id += 1;
            let id = self.checkpoint_id;
            let saved = store
                .stage(&self.engine, &self.positions(), id)
                .and_then(|staged| {
                    wait_ack(self.send_marker(id).as_deref(), id);
                    staged.commit()
                });
            match saved {
                Ok(()) => tracing::info!(path = %store.path().display(), "engine state saved"),
                Err(e) => tracing::error!("engine checkpoint at shutdown failed: {e}"),
            }
        }
        tracing::info!(
            applied = self.engine.stats().applied,
            late = self.engine.stats().late,
            "engine stopped"
        );
    }
}
