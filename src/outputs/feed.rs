//! The wallboard feed, `GET /ws` (interfaces.md §5; schema in docs/feed.md).
//!
//! Every connection gets JSON text frames `{"v":1,"type":…,"seq":…}`: a full `snapshot`
//! on connect, then after each published tick whose content (beyond the watermark)
//! changed a `delta` — an RFC 7386 merge patch of the state keyed by name
//! ([`super::feed_delta`]) — when the client has the state it starts from, a whole
//! `snapshot` otherwise (or always, with `?delta=false`); and a `heartbeat` when nothing
//! was sent for `[feed] heartbeat`.
//!
//! Slow clients: the connection task reads the latest `Arc<Snapshot>` only when it is
//! ready to send (coalescing: a client that cannot keep up skips ticks, nothing queues),
//! and it is disconnected when one frame has not gone out within `[feed] send_timeout`
//! or when it has sent nothing, not even a pong to our pings, for three heartbeats plus
//! the send timeout. The engine and other clients never wait for a connection.

use super::feed_deflate;
use super::feed_delta::{DocError, Entity, FeedDoc};
use super::feed_socket::{self, FeedSocket, Inbound};
use super::feed_view::{BoardAgent, BoardQueue, BoardTeam, Detail, LongRules};
use super::http::{Filter, Selection};
use crate::engine::{QueueSnapshot, Snapshot};
use crate::runtime::{Published, Shutdown};
use axum::extract::{Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep_until, timeout, Instant};

/// Feed schema version (`v` of every frame).
pub const FEED_VERSION: u32 = 1;

/// Amber band below a service-level target, as a ratio (10 points).
pub const SL_AMBER_BAND: f64 = 0.10;

/// Timing of the feed.
#[derive(Debug, Clone, Copy)]
pub struct FeedOptions {
    /// A heartbeat frame (and a websocket ping) after this long without a frame.
    pub heartbeat: Duration,
    /// The longest a single frame may take to leave; slower clients are disconnected.
    pub send_timeout: Duration,
    /// State frames go out deflated to clients that offer permessage-deflate.
    pub compression: bool,
}

impl Default for FeedOptions {
    fn default() -> Self {
        FeedOptions {
            heartbeat: Duration::from_secs(15),
            send_timeout: Duration::from_secs(10),
            compression: true,
        }
    }
}

impl FeedOptions {
    /// The options a config asks for.
    pub fn from_config(cfg: &crate::config::Config) -> Self {
        let ms = |d: crate::config::Duration| Duration::from_millis(d.ms().max(1) as u64);
        FeedOptions {
            heartbeat: ms(cfg.feed.heartbeat),
            send_timeout: ms(cfg.feed.send_timeout),
            compression: cfg.feed.compression,
        }
    }

    /// A client silent for this long (no pong, nothing) is disconnected.
    pub fn idle_timeout(&self) -> Duration {
        self.heartbeat * 3 + self.send_timeout
    }
}

/// State of the `/ws` route: the published snapshots, the shutdown signal, the options
/// and the `feed_clients` gauge.
#[derive(Debug, Clone)]
pub struct FeedState {
    published: Arc<Published>,
    shutdown: Shutdown,
    opts: FeedOptions,
    clients: Arc<AtomicU64>,
    frames: Arc<FrameCache>,
    board: Arc<super::board::Board>,
    /// The alert rules' state, for `alert` frames (absent: none are sent).
    alerts: Option<crate::alerts::SharedAlerts>,
}

/// The filtered state of the latest snapshot, prepared once per filter and shared by
/// every client with that filter: 500 wallboards cost one preparation per tick and
/// distinct filter, not 500. One entry per filter, for the snapshot it was made from
/// (held weakly: a filter nobody shows any more keeps no snapshot alive, and a live weak
/// reference keeps the address from being reused). The first client to ask prepares it
/// (on a blocking thread when large); the others that wake on the same tick wait for
/// that one result.
#[derive(Debug, Default)]
struct FrameCache {
    entries: std::sync::Mutex<std::collections::HashMap<FilterKey, CachedData>>,
    /// When a contact is long on a board (from the alert rules; none without them).
    long: Arc<LongRules>,
}

/// A filter as the cache keys it: queues, teams, detail.
type FilterKey = (Option<String>, Option<String>, Detail);

/// The whole filtered state as the tail of a frame object (`,"filter":…}`) and its hash
/// (clients compare hashes to skip unchanged states without a memcmp).
type FrameData = (Arc<Tail>, u64);

/// The tail of a state frame, shared by every screen with one filter, and the same text
/// deflated (made once, when the first screen that negotiated permessage-deflate needs
/// it).
#[derive(Debug)]
struct Tail {
    text: Box<str>,
    deflated: tokio::sync::OnceCell<Vec<u8>>,
}

/// Runs `work` right here when it is `small` (a blocking-pool hop costs more than a
/// team's frame), else on a blocking thread, off the async workers; `Err` if that
/// thread panicked.
async fn sized<T: Send + 'static>(
    small: bool,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ()> {
    if small {
        return Ok(work());
    }
    tokio::task::spawn_blocking(work).await.map_err(|_| ())
}

/// Tails up to this size are deflated on an async worker (~0.2 ms), larger ones on a
/// blocking thread (a whole floor: ~3 ms).
const INLINE_DEFLATE: usize = 32 * 1024;

impl Tail {
    fn new(text: String) -> Arc<Tail> {
        Arc::new(Tail {
            text: text.into_boxed_str(),
            deflated: tokio::sync::OnceCell::new(),
        })
    }

    /// The tail deflated (`feed_deflate::deflate`), made once.
    async fn deflated(self: &Arc<Self>) -> Option<&[u8]> {
        let make = || async {
            let me = self.clone();
            let small = me.text.len() <= INLINE_DEFLATE;
            let made = sized(small, move || feed_deflate::deflate(me.text.as_bytes())).await?;
            made.map_err(|e| tracing::warn!("feed frame not deflated: {e}"))
        };
        self.deflated
            .get_or_try_init(make)
            .await
            .ok()
            .map(Vec::as_slice)
    }
}

#[derive(Debug)]
struct CachedData {
    snapshot: std::sync::Weak<crate::engine::Snapshot>,
    data: Arc<tokio::sync::OnceCell<Arc<Prepared>>>,
    /// The filter's frames are small enough to be made on an async worker.
    small: bool,
}

/// One filter's state at one snapshot: the state itself, what changed since the
/// filter's previous prepared state, and (made when a client needs it) the whole state
/// serialised.
#[derive(Debug)]
struct Prepared {
    doc: FeedDoc,
    delta: Option<Delta>,
    full: tokio::sync::OnceCell<FrameData>,
    small: bool,
}

/// The `delta` from `base` (the filter's previous prepared state) to this one.
#[derive(Debug)]
struct Delta {
    base: std::sync::Weak<Prepared>,
    /// The tail of the `delta` frame (`,"queues":{…}…}`); `None`: nothing changed.
    tail: Option<Arc<Tail>>,
}

impl Prepared {
    /// Prepares `snap` for `filter`, with the delta from `prev`.
    fn new(
        snap: &Snapshot,
        filter: &Filter,
        sel: &Selection,
        long: &LongRules,
        prev: Option<&Arc<Prepared>>,
    ) -> Option<Self> {
        let doc = feed_doc(snap, filter, sel, long).ok()?;
        let delta = prev.map(|p| Delta {
            base: Arc::downgrade(p),
            tail: doc.delta_tail(&p.doc).map(Tail::new),
        });
        let small = doc.entities() <= INLINE_ENTITIES;
        Some(Prepared {
            doc,
            delta,
            full: tokio::sync::OnceCell::new(),
            small,
        })
    }

    /// The whole state serialised (once, for the clients that need a `snapshot`).
    async fn full(self: &Arc<Self>) -> Option<FrameData> {
        let make = || {
            let me = self.clone();
            sized(me.small, move || frame_data(&me.doc))
        };
        self.full.get_or_try_init(make).await.ok().cloned()
    }
}

/// Filters with up to this many queues, teams and agents (a team's screen) are prepared
/// on an async worker; larger ones on a blocking thread.
const INLINE_ENTITIES: usize = 150;

/// Distinct filters kept before entries of dropped snapshots are pruned.
const FRAME_CACHE_MAX: usize = 1024;

impl FrameCache {
    async fn prepared(
        &self,
        snap: &Arc<Snapshot>,
        filter: &Filter,
        sel: &Selection,
    ) -> Option<Arc<Prepared>> {
        let key = (
            filter.queues.clone(),
            filter.teams.clone(),
            Detail::parse(filter.detail.as_deref()),
        );
        let (cell, small, prev) = {
            let mut entries = self.entries.lock().ok()?;
            let fresh = |e: &CachedData| std::ptr::eq(e.snapshot.as_ptr(), Arc::as_ptr(snap));
            match entries.get(&key) {
                Some(e) if fresh(e) => (e.data.clone(), e.small, None),
                old => {
                    // The filter's previous state is the base of this one's delta, and
                    // tells how big this one will be.
                    let prev = old.and_then(|e| e.data.get().cloned());
                    let small = prev
                        .as_ref()
                        .map_or(old.is_some_and(|e| e.small), |p| p.small);
                    if entries.len() >= FRAME_CACHE_MAX {
                        entries.retain(|_, e| e.snapshot.strong_count() > 0);
                    }
                    let cell = Arc::new(tokio::sync::OnceCell::new());
                    if entries.len() < FRAME_CACHE_MAX {
                        let entry = CachedData {
                            snapshot: Arc::downgrade(snap),
                            data: cell.clone(),
                            small,
                        };
                        entries.insert(key, entry);
                    }
                    (cell, small, prev)
                }
            }
        };
        // Once per snapshot and filter. A small state (a team's screen: tens of µs) is
        // prepared right here; a large one (milliseconds) on a blocking thread, off the
        // async workers. A blocking-pool hop per small state cost more than the state.
        let make = || {
            let (snap, filter, sel) = (snap.clone(), filter.clone(), sel.clone());
            async move {
                let long = self.long.clone();
                let prepare = move || Prepared::new(&snap, &filter, &sel, &long, prev.as_ref());
                let prepared = sized(small, prepare).await.ok().flatten();
                prepared.map(Arc::new).ok_or(())
            }
        };
        cell.get_or_try_init(make).await.ok().cloned()
    }
}

impl FeedState {
    /// A feed over `published` that ends its connections when `shutdown` fires.
    pub fn new(published: Arc<Published>, shutdown: Shutdown, opts: FeedOptions) -> Self {
        FeedState {
            published,
            shutdown,
            opts,
            clients: Arc::new(AtomicU64::new(0)),
            frames: Arc::new(FrameCache::default()),
            board: Arc::new(super::board::Board::default()),
            alerts: None,
        }
    }

    /// Sends `alert` frames from these alert rules (see [`super::alert_feed`]), and
    /// gives board agents their `long_contact_seconds` from the same rules.
    pub fn with_alerts(mut self, alerts: crate::alerts::SharedAlerts) -> Self {
        if let Ok(engine) = alerts.lock() {
            // Before any screen connects: the cache marks long contacts by these rules.
            self.frames = Arc::new(FrameCache {
                long: Arc::new(LongRules::from_rules(engine.rules())),
                ..FrameCache::default()
            });
        }
        self.alerts = Some(alerts);
        self
    }

    /// The `feed_clients` gauge: connected feed clients now.
    pub fn clients(&self) -> u64 {
        self.clients.load(Ordering::Relaxed)
    }

    /// The ticker messages and reload requests sent to every screen.
    pub fn board(&self) -> Arc<super::board::Board> {
        self.board.clone()
    }

    /// The gauge itself, for an exporter that outlives this state.
    pub fn clients_gauge(&self) -> Arc<AtomicU64> {
        self.clients.clone()
    }
}

/// The `/ws` route.
pub fn routes(state: FeedState) -> Router {
    Router::new().route("/ws", get(upgrade)).with_state(state)
}

async fn upgrade(
    State(st): State<FeedState>,
    Query(filter): Query<Filter>,
    mut req: Request,
) -> Response {
    match feed_socket::accept(&mut req, st.opts.compression) {
        Ok((res, on_upgrade, deflate)) => {
            tokio::spawn(async move {
                match on_upgrade.await {
                    Ok(up) => connection(FeedSocket::new(up, deflate), st, filter).await,
                    Err(e) => tracing::debug!("feed upgrade failed: {e}"),
                }
            });
            res
        }
        Err(refused) => refused.into_response(),
    }
}

/// Decrements the gauge however the connection ends.
struct ClientGuard(Arc<AtomicU64>);

impl ClientGuard {
    fn new(gauge: Arc<AtomicU64>) -> Self {
        gauge.fetch_add(1, Ordering::Relaxed);
        ClientGuard(gauge)
    }
}

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A status colour, computed by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    /// On target.
    Green,
    /// Close to missing.
    Amber,
    /// Missing.
    Red,
    /// No data (no contacts offered, nobody waiting).
    None,
}

/// A service level against its target: green ≥ target, amber ≥ target − 10 points,
/// red below; `none` without offered contacts.
#[derive(Debug, Clone, Serialize)]
pub struct SlStatus {
    /// The service level (ratio), `null` without offered contacts.
    pub value: Option<f64>,
    /// The colour.
    pub colour: Colour,
    /// Green at or above this ratio (the queue's `sl_target`).
    pub green_from: f64,
    /// Amber at or above this ratio (below `green_from`); red below.
    pub amber_from: f64,
}

/// Colours a service level against a target.
pub fn sl_status(value: Option<f64>, target: f64) -> SlStatus {
    let amber_from = ((target - SL_AMBER_BAND).max(0.0) * 1e6).round() / 1e6;
    // A tolerance so that 0.7 is amber against 0.8 − 0.1 = 0.7000000000000001.
    let eps = 1e-9;
    let colour = match value {
        None => Colour::None,
        Some(v) if v + eps >= target => Colour::Green,
        Some(v) if v + eps >= amber_from => Colour::Amber,
        Some(_) => Colour::Red,
    };
    SlStatus {
        value,
        colour,
        green_from: target,
        amber_from,
    }
}

/// The oldest waiting contact against the SL threshold T: green while its wait is below
/// T/2, amber from T/2, red from T (it will miss the service level). The switch
/// instants are given so that screens can recolour between frames.
#[derive(Debug, Clone, Serialize)]
pub struct WaitStatus {
    /// When the oldest waiting contact was queued (`null`: nobody waits).
    pub oldest_queued_at_ms: Option<i64>,
    /// The colour at the frame's watermark.
    pub colour: Colour,
    /// The wait, in seconds, from which the colour is amber (T/2).
    pub amber_after_seconds: f64,
    /// The wait, in seconds, from which the colour is red (T).
    pub red_after_seconds: f64,
    /// The instant the colour turns amber.
    pub amber_at_ms: Option<i64>,
    /// The instant the colour turns red.
    pub red_at_ms: Option<i64>,
}

/// Colours the longest wait of a queue at `now_ms` against its threshold.
pub fn wait_status(oldest_ms: Option<i64>, threshold_seconds: f64, now_ms: i64) -> WaitStatus {
    let red_ms = (threshold_seconds * 1000.0).round() as i64;
    let amber_ms = red_ms / 2;
    let colour = match oldest_ms {
        None => Colour::None,
        Some(t) if now_ms - t >= red_ms => Colour::Red,
        Some(t) if now_ms - t >= amber_ms => Colour::Amber,
        Some(_) => Colour::Green,
    };
    WaitStatus {
        oldest_queued_at_ms: oldest_ms,
        colour,
        amber_after_seconds: amber_ms as f64 / 1000.0,
        red_after_seconds: red_ms as f64 / 1000.0,
        amber_at_ms: oldest_ms.map(|t| t + amber_ms),
        red_at_ms: oldest_ms.map(|t| t + red_ms),
    }
}

/// The status block of a queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueueStatus {
    /// Today's service level.
    pub service_level: SlStatus,
    /// The current interval's service level.
    pub service_level_interval: SlStatus,
    /// The shortest rolling window's service level, when windows are configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_level_rolling: Option<SlStatus>,
    /// The longest current wait.
    pub longest_wait: WaitStatus,
}

/// Computes a queue's status at `now_ms` (the snapshot's watermark).
pub fn queue_status(q: &QueueSnapshot, now_ms: i64) -> QueueStatus {
    QueueStatus {
        service_level: sl_status(q.today.service_level, q.sl_target),
        service_level_interval: sl_status(q.interval.service_level, q.sl_target),
        service_level_rolling: q
            .rolling
            .first()
            .map(|w| sl_status(w.kpis.service_level, q.sl_target)),
        longest_wait: wait_status(q.oldest_queued_at_ms, q.sl_threshold_seconds, now_ms),
    }
}

#[derive(Serialize)]
struct Header<'a> {
    v: u32,
    #[serde(rename = "type")]
    kind: &'static str,
    seq: u64,
    tick: u64,
    watermark: &'a Option<String>,
    watermark_ms: Option<i64>,
    interval_start: &'a Option<String>,
    day_start: &'a Option<String>,
    time_zone: &'a Option<String>,
}

#[derive(Serialize)]
struct QueueFrame<Q: Serialize> {
    #[serde(flatten)]
    queue: Q,
    status: QueueStatus,
}

#[derive(Serialize)]
struct FilterEcho<'a> {
    queues: Option<Vec<&'a str>>,
    teams: Option<Vec<&'a str>>,
    detail: &'static str,
}

/// The whole state as the tail of a frame object, and its hash.
fn frame_data(doc: &FeedDoc) -> FrameData {
    let data = doc.snapshot_tail();
    let hash = {
        use std::hash::{Hash, Hasher};
        let mut h = rustc_hash::FxHasher::default();
        data.hash(&mut h);
        h.finish()
    };
    (Tail::new(data), hash)
}

/// The state a feed client with `filter` is shown at `s`, long contacts by `long` (what
/// a tick's frames are made from; public for the feed benchmark).
pub fn filtered_doc(s: &Snapshot, filter: &Filter, long: &LongRules) -> Result<FeedDoc, DocError> {
    feed_doc(s, filter, &Selection::new(filter), long)
}

/// The filtered state of a frame (everything but the header): the board view or, with
/// `?detail=full`, the API snapshot's objects, each queue with its status.
fn feed_doc(
    s: &Snapshot,
    filter: &Filter,
    sel: &Selection,
    long: &LongRules,
) -> Result<FeedDoc, DocError> {
    let now = s.watermark_ms.unwrap_or(0);
    let detail = Detail::parse(filter.detail.as_deref());
    let echo = FilterEcho {
        queues: super::name_list(filter.queues.as_deref()),
        teams: super::name_list(filter.teams.as_deref()),
        detail: match detail {
            Detail::Board => "board",
            Detail::Full => "full",
        },
    };
    fn named<T: Serialize>(name: &str, v: T) -> Result<Entity, DocError> {
        Entity::new(name, &v)
    }
    let queues = s.queues.iter().filter(|q| sel.queue(q));
    let teams = s.teams.iter().filter(|t| sel.team(t));
    let agents = sel.agents(s).into_iter();
    let sections = match detail {
        Detail::Full => [
            queues
                .map(|q| {
                    let status = queue_status(q, now);
                    named(&q.queue, QueueFrame { queue: q, status })
                })
                .collect::<Result<_, _>>()?,
            teams.map(|t| named(&t.team, t)).collect::<Result<_, _>>()?,
            agents
                .map(|a| named(&a.agent, a))
                .collect::<Result<_, _>>()?,
        ],
        Detail::Board => [
            queues
                .map(|q| {
                    let status = queue_status(q, now);
                    named(
                        &q.queue,
                        QueueFrame {
                            queue: BoardQueue::from(q),
                            status,
                        },
                    )
                })
                .collect::<Result<_, _>>()?,
            teams
                .map(|t| named(&t.team, BoardTeam::from(t)))
                .collect::<Result<_, _>>()?,
            agents
                .map(|a| named(&a.agent, BoardAgent::new(a, long)))
                .collect::<Result<_, _>>()?,
        ],
    };
    FeedDoc::new(&echo, sections, &s.engine)
}

fn header_json(s: Option<&Snapshot>, kind: &'static str, seq: u64, tick: u64) -> String {
    let none = None;
    let h = Header {
        v: FEED_VERSION,
        kind,
        seq,
        tick,
        watermark: s.map_or(&none, |s| &s.watermark),
        watermark_ms: s.and_then(|s| s.watermark_ms),
        interval_start: s.map_or(&none, |s| &s.interval_start),
        day_start: s.map_or(&none, |s| &s.day_start),
        time_zone: s.map_or(&none, |s| &s.time_zone),
    };
    // A struct of strings and integers always serialises.
    serde_json::to_string(&h).unwrap_or_else(|_| String::from("{}"))
}

/// Why a connection ended (logged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Shutdown,
    ClientGone,
    TooSlow,
    Silent,
    Error,
}

enum Wake {
    Shutdown,
    Inbound(Inbound),
    Tick(bool),
    Heartbeat,
    Ping,
    Silent,
    Messages(bool),
    Reload(bool),
    Alert(super::alert_feed::AlertNext),
}

struct Conn {
    socket: FeedSocket,
    send_timeout: Duration,
    seq: u64,
    /// Ticks go out as `delta` frames when the client has the base (not `?delta=false`).
    deltas: bool,
    /// The state this client has (the last `snapshot` or `delta` sent, or skipped as
    /// unchanged).
    last: Option<Arc<Prepared>>,
    /// Hash of the last `snapshot` sent, while no `delta` followed it.
    last_hash: Option<u64>,
    last_frame_at: Instant,
}

/// A send's outcome within the send timeout.
fn sent(r: Result<std::io::Result<()>, tokio::time::error::Elapsed>) -> Result<(), End> {
    match r {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(End::ClientGone),
        Err(_) => Err(End::TooSlow),
    }
}

impl Conn {
    async fn frame(&mut self, text: String) -> Result<(), End> {
        sent(timeout(self.send_timeout, self.socket.text(&text)).await)?;
        self.last_frame_at = Instant::now();
        Ok(())
    }

    /// Sends the latest state if it changed since the last one sent: a `delta` when the
    /// client has the state it is based on, a `snapshot` otherwise.
    async fn snapshot(
        &mut self,
        published: &Published,
        frames: &FrameCache,
        tick: u64,
        filter: &Filter,
        sel: &Selection,
    ) -> Result<(), End> {
        let Some(snap) = published.latest() else {
            return Ok(());
        };
        let prepared = frames
            .prepared(&snap, filter, sel)
            .await
            .ok_or(End::Error)?;
        tracing::debug!(target: "ccpulse::timing", since_publish_us = published.since_publish().as_micros() as u64, "frame data ready");
        if let Some(last) = &self.last {
            if Arc::ptr_eq(last, &prepared) {
                return Ok(());
            }
            let delta = prepared
                .delta
                .as_ref()
                .filter(|d| self.deltas && std::ptr::eq(d.base.as_ptr(), Arc::as_ptr(last)));
            if let Some(d) = delta {
                let tail = d.tail.clone();
                self.last = Some(prepared);
                let Some(tail) = tail else {
                    return Ok(()); // nothing changed
                };
                self.last_hash = None;
                return self.state(published, &snap, "delta", tick, &tail).await;
            }
        }
        let (data, hash) = prepared.full().await.ok_or(End::Error)?;
        self.last = Some(prepared);
        if self.last_hash == Some(hash) {
            return Ok(());
        }
        self.last_hash = Some(hash);
        self.state(published, &snap, "snapshot", tick, &data).await
    }

    /// Sends a state frame: this connection's header, then the shared tail.
    async fn state(
        &mut self,
        published: &Published,
        snap: &Snapshot,
        kind: &'static str,
        tick: u64,
        tail: &Arc<Tail>,
    ) -> Result<(), End> {
        self.seq += 1;
        let header = header_json(Some(snap), kind, self.seq, tick);
        let head = header.strip_suffix('}').unwrap_or(&header);
        // The shared tail goes out from the cache's copy: no per-connection frame.
        let send = if self.socket.deflates() && tail.text.len() >= feed_deflate::MIN_BYTES {
            let deflated = tail.deflated().await.ok_or(End::Error)?;
            timeout(
                self.send_timeout,
                self.socket.deflated_in_two(head, deflated),
            )
            .await
        } else {
            timeout(self.send_timeout, self.socket.text_in_two(head, &tail.text)).await
        };
        sent(send)?;
        self.last_frame_at = Instant::now();
        tracing::debug!(target: "ccpulse::timing", since_publish_us = published.since_publish().as_micros() as u64, "frame sent");
        Ok(())
    }

    /// Sends the active ticker messages (all of them: screens replace their list).
    async fn messages(&mut self, board: &super::board::Board) -> Result<(), End> {
        self.seq += 1;
        let body = serde_json::json!({
            "v": FEED_VERSION,
            "type": "message",
            "seq": self.seq,
            "messages": board.active(),
        });
        self.frame(body.to_string()).await
    }

    async fn heartbeat(&mut self, published: &Published, tick: u64) -> Result<(), End> {
        self.seq += 1;
        let snap = published.latest();
        let frame = header_json(snap.as_deref(), "heartbeat", self.seq, tick);
        self.frame(frame).await
    }
}

/// The next alert notification; pending forever without alert rules.
async fn next_alert(
    alerts: &mut Option<super::alert_feed::AlertStream>,
) -> super::alert_feed::AlertNext {
    match alerts {
        Some(a) => a.next().await,
        None => std::future::pending().await,
    }
}

impl Conn {
    /// An `alert` frame with the active alerts (on connect, and after falling behind).
    async fn active_alerts(
        &mut self,
        alerts: &super::alert_feed::AlertStream,
        published: &Published,
        sel: &Selection,
    ) -> Result<(), End> {
        let latest = published.latest();
        self.seq += 1;
        let frame =
            super::alert_feed::active_frame(self.seq, alerts.active(), sel, latest.as_deref());
        self.frame(frame).await
    }

    /// An `alert` frame for one notification, if the filter shows it.
    async fn alert(
        &mut self,
        next: super::alert_feed::AlertNext,
        alerts: &mut Option<super::alert_feed::AlertStream>,
        published: &Published,
        sel: &Selection,
    ) -> Result<(), End> {
        use super::alert_feed::{event_frame, AlertNext};
        match (next, alerts.as_ref()) {
            (AlertNext::Event(e), _) => {
                let latest = published.latest();
                match event_frame(self.seq + 1, &e, sel, latest.as_deref()) {
                    Some(frame) => {
                        self.seq += 1;
                        self.frame(frame).await
                    }
                    None => Ok(()),
                }
            }
            (AlertNext::Lagged, Some(a)) => self.active_alerts(a, published, sel).await,
            (AlertNext::Lagged, None) => Ok(()),
            (AlertNext::Closed, _) => {
                *alerts = None;
                Ok(())
            }
        }
    }
}

async fn connection(socket: FeedSocket, st: FeedState, filter: Filter) {
    let _guard = ClientGuard::new(st.clients.clone());
    let sel = Selection::new(&filter);
    let mut shutdown = st.shutdown.clone();
    let mut ticks = st.published.subscribe();
    let opts = st.opts;
    let mut conn = Conn {
        socket,
        send_timeout: opts.send_timeout,
        seq: 0,
        deltas: filter.delta.as_deref() != Some("false"),
        last: None,
        last_hash: None,
        last_frame_at: Instant::now(),
    };
    let mut last_heard = Instant::now();
    let mut next_ping = Instant::now() + opts.heartbeat;
    // The full state at once (when a first snapshot exists; otherwise at the first tick).
    let tick = *ticks.borrow_and_update();
    let mut messages = st.board.changed.subscribe();
    let mut reload = st.board.reload.subscribe();
    let mut alerts = st.alerts.clone().map(super::alert_feed::AlertStream::new);
    let mut result = conn
        .snapshot(&st.published, &st.frames, tick, &filter, &sel)
        .await;
    if result.is_ok() && !st.board.active().is_empty() {
        result = conn.messages(&st.board).await;
    }
    if let (true, Some(a)) = (result.is_ok(), &alerts) {
        result = conn.active_alerts(a, &st.published, &sel).await;
    }
    while result.is_ok() {
        let heartbeat_at = conn.last_frame_at + opts.heartbeat;
        let silent_at = last_heard + opts.idle_timeout();
        let wake = tokio::select! {
            biased;
            _ = shutdown.wait() => Wake::Shutdown,
            m = conn.socket.recv() => Wake::Inbound(m),
            r = ticks.changed() => Wake::Tick(r.is_ok()),
            _ = sleep_until(heartbeat_at) => Wake::Heartbeat,
            _ = sleep_until(next_ping) => Wake::Ping,
            _ = sleep_until(silent_at) => Wake::Silent,
            r = messages.changed() => Wake::Messages(r.is_ok()),
            r = reload.changed() => Wake::Reload(r.is_ok()),
            a = next_alert(&mut alerts) => Wake::Alert(a),
        };
        result = match wake {
            Wake::Shutdown => Err(End::Shutdown),
            Wake::Inbound(Inbound::Closed) => Err(End::ClientGone),
            Wake::Inbound(Inbound::Invalid) => Err(End::Error),
            // Anything counts as a sign of life; a ping is answered at once.
            Wake::Inbound(Inbound::Alive) => {
                last_heard = Instant::now();
                if conn.socket.owes_pong() {
                    sent(timeout(opts.send_timeout, conn.socket.send_pongs()).await)
                } else {
                    Ok(())
                }
            }
            // The publisher lives as long as the daemon: stop with it.
            Wake::Tick(false) => Err(End::Shutdown),
            Wake::Tick(true) => {
                // Coalesce: whatever number of ticks passed, send the latest state once.
                let tick = *ticks.borrow_and_update();
                conn.snapshot(&st.published, &st.frames, tick, &filter, &sel)
                    .await
            }
            Wake::Messages(false) | Wake::Reload(false) => Err(End::Shutdown),
            Wake::Messages(true) => conn.messages(&st.board).await,
            Wake::Reload(true) => {
                conn.seq += 1;
                let frame = format!(
                    r#"{{"v":{FEED_VERSION},"type":"reload","seq":{}}}"#,
                    conn.seq
                );
                conn.frame(frame).await
            }
            Wake::Heartbeat => {
                let tick = *ticks.borrow();
                conn.heartbeat(&st.published, tick).await
            }
            Wake::Ping => {
                next_ping = Instant::now() + opts.heartbeat;
                let payload = conn.seq.to_be_bytes();
                sent(timeout(opts.send_timeout, conn.socket.ping(&payload)).await)
            }
            Wake::Silent => Err(End::Silent),
            Wake::Alert(a) => conn.alert(a, &mut alerts, &st.published, &sel).await,
        };
    }
    let end = result.err().unwrap_or(End::Error);
    match end {
        End::Shutdown => {
            // Best effort, bounded: a stalled client does not hold up the shutdown.
            let bound = opts.send_timeout.min(Duration::from_secs(1));
            let _ = timeout(bound, conn.socket.close()).await;
        }
        End::TooSlow | End::Silent => {
            tracing::info!(reason = ?end, "feed client disconnected: not keeping up");
        }
        End::ClientGone | End::Error => tracing::debug!(reason = ?end, "feed client left"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_level_colours() {
        assert_eq!(sl_status(Some(0.8), 0.8).colour, Colour::Green);
        assert_eq!(sl_status(Some(0.95), 0.8).colour, Colour::Green);
        assert_eq!(sl_status(Some(0.7), 0.8).colour, Colour::Amber);
        assert_eq!(sl_status(Some(0.79), 0.8).colour, Colour::Amber);
        assert_eq!(sl_status(Some(0.69), 0.8).colour, Colour::Red);
        assert_eq!(sl_status(None, 0.8).colour, Colour::None);
        let s = sl_status(Some(0.5), 0.8);
        assert_eq!((s.green_from, s.amber_from), (0.8, 0.7));
        assert_eq!(sl_status(Some(0.0), 0.05).colour, Colour::Amber);
    }

    #[test]
    fn longest_wait_colours() {
        let w = wait_status(Some(1_000), 20.0, 1_000 + 9_999);
        assert_eq!(w.colour, Colour::Green);
        assert_eq!(w.amber_at_ms, Some(11_000));
        assert_eq!(w.red_at_ms, Some(21_000));
        assert_eq!(wait_status(Some(1_000), 20.0, 11_000).colour, Colour::Amber);
        assert_eq!(wait_status(Some(1_000), 20.0, 21_000).colour, Colour::Red);
        assert_eq!(wait_status(None, 20.0, 21_000).colour, Colour::None);
    }
}
