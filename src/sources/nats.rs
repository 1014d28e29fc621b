//! The NATS JetStream source (`[[sources]] kind = "nats"`): the durable bus, for
//! centers where adapters on other machines publish the ACD's events. Each message
//! holds one or more lines (JSON lines v1 or Asterisk `queue_log`, `format`).
//!
//! - **Consumer**: an ordered pull consumer (ephemeral, no acks, recreated by the client
//!   on a gap) on `stream`, filtered to `subject` if set. The server keeps no state for
//!   us: where to resume is ours, saved with the engine checkpoint.
//! - **Position**: every batch sent to the engine carries `{"seq": S, "events": k}`: a
//!   message read to its end is `{S + 1, 0}` (the next message), a batch inside a long
//!   message is its own sequence and how many of its events are sent. A restart asks for
//!   message `S` and skips its first `k` events, so an event is neither lost nor
//!   counted twice, even when the checkpoint fell inside a message; a message with no
//!   event still moves the position, so its lines are not counted again.
//! - **Start** without a saved position: `start_at = "end"` (default) reads messages
//!   published from now on, `beginning` the whole stream, `today` the messages stored
//!   since local midnight (the top-level `timezone`, by the wall clock).
//! - **Catching up**: while the consumer has messages pending (a backlog), the engine
//!   holds event time to the events (as for a file read from its start), until the
//!   message that leaves none pending has been sent — also while the bus is away in
//!   the middle of a backlog, which would otherwise arrive late when it comes back.
//! - **Connection**: `async-nats` connects and reconnects by itself (`url` may hold
//!   `user:password@`, `token` is the connection token, `tls://` uses TLS). The source
//!   is up while connected and consuming. A failed consumer (stream missing, server
//!   gone for long) is recreated from the last position after a jittered backoff
//!   (`backoff_min` … `backoff_max`); the first failure of an outage is logged at
//!   `warn`, repeats at `debug`.
//! - **Bad input**: lines are decoded and counted as for a file (rejected by reason,
//!   with the source's running line number); a message larger than `max_frame_bytes` is
//!   one rejected `too_long` line.

use super::backoff::Backoff;
use super::{Position, Source, SourceError, SourceHandle, SourceTask};
use crate::config::{Config, SourceConfig, SourceFormat, StartAt};
use crate::decode::{
    AnyDecoder, Decoded, Format, JsonlDecoder, Line, LineDecoder, LineReader, RejectReason,
};
use crate::runtime::Shutdown;
use async_nats::jetstream::consumer::{pull, DeliverPolicy};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Where the source resumes: message `seq` of the stream, after its first `events` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusPosition {
    /// The stream sequence of the message.
    pub seq: u64,
    /// How many of its events were sent.
    pub events: u64,
}

/// A NATS JetStream source.
#[derive(Debug)]
pub struct NatsSource {
    name: String,
    url: String,
    stream: String,
    subject: String,
    token: Option<String>,
    format: SourceFormat,
    tz: jiff::tz::TimeZone,
    /// Where to start when there is no saved position.
    start: StartAt,
    /// The engine's time zone (`start_at = "today"`: from its local midnight).
    day_tz: jiff::tz::TimeZone,
    /// The position saved with the engine checkpoint.
    resume: Option<BusPosition>,
    backoff: (Duration, Duration),
    max_message: usize,
}

impl NatsSource {
    /// The source for `src`, resuming at `resume` (its entry in the engine checkpoint's
    /// positions, if any); `queue_log` stamps in `src.timezone` (default `cfg.timezone`).
    pub fn new(
        src: &SourceConfig,
        cfg: &Config,
        resume: Option<&serde_json::Value>,
    ) -> Result<Self, SourceError> {
        let config_error = |message: String| SourceError::Config {
            source_name: src.name.clone(),
            message,
        };
        let tz_name = src.timezone.as_deref().unwrap_or(&cfg.timezone);
        let tz = jiff::tz::TimeZone::get(tz_name)
            .map_err(|e| config_error(format!("time zone `{tz_name}`: {e}")))?;
        let stream = src
            .stream
            .clone()
            .ok_or_else(|| config_error("no `stream` to read".into()))?;
        let resume = match resume {
            None => None,
            Some(v) => Some(BusPosition::deserialize(v).map_err(|e| {
                config_error(format!("the saved position {v} is not a bus position: {e}"))
            })?),
        };
        let ms = |d: crate::config::Duration| Duration::from_millis(d.ms().max(1).unsigned_abs());
        Ok(NatsSource {
            name: src.name.clone(),
            url: src.url.clone(),
            stream,
            subject: src.subject.clone().unwrap_or_default(),
            token: src.token.clone(),
            format: src.format,
            tz,
            start: src.start_at,
            day_tz: jiff::tz::TimeZone::get(&cfg.timezone)
                .map_err(|e| config_error(format!("time zone `{}`: {e}", cfg.timezone)))?,
            resume,
            backoff: (ms(src.backoff_min), ms(src.backoff_max)),
            max_message: src.max_frame_bytes,
        })
    }

    async fn run_loop(
        self,
        handle: SourceHandle,
        mut shutdown: Shutdown,
    ) -> Result<(), SourceError> {
        let mut options = async_nats::ConnectOptions::new()
            .name(format!("ccpulse {}", self.name))
            .retry_on_initial_connect();
        if let Some(token) = &self.token {
            options = options.token(token.clone());
        }
        {
            let (handle, name) = (handle.clone(), self.name.clone());
            options = options.event_callback(move |event| {
                let (handle, name) = (handle.clone(), name.clone());
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            tracing::info!(source = %name, "bus connected")
                        }
                        async_nats::Event::Disconnected | async_nats::Event::Closed => {
                            handle.set_up(false);
                            tracing::debug!(source = %name, "bus disconnected ({event})");
                        }
                        other => tracing::debug!(source = %name, "bus: {other}"),
                    }
                }
            });
        }
        let client = tokio::select! {
            biased;
            _ = shutdown.wait() => return Ok(()),
            c = options.connect(self.url.as_str()) => c.map_err(|e| SourceError::Config {
                source_name: self.name.clone(),
                message: format!("{}: {e}", self.url),
            })?,
        };
        let js = async_nats::jetstream::new(client);
        let mut reader = MessageReader::new(&self);
        let mut position = self.resume;
        let mut outage = Outage {
            backoff: Backoff::new(self.backoff.0, self.backoff.1),
            warned: false,
        };
        loop {
            let failure = match self
                .session(
                    &js,
                    &mut position,
                    &mut reader,
                    &handle,
                    &mut shutdown,
                    &mut outage,
                )
                .await
            {
                End::Shutdown => return Ok(()),
                End::EngineGone => return Err(SourceError::EngineGone),
                End::Failed(f) => f,
            };
            // Down, but still catching up if it was: the backlog is there when the bus
            // comes back, and moving event time to the clock meanwhile would make it late.
            handle.set_up(false);
            let delay = outage.failed(&self.name, &failure);
            tokio::select! {
                biased;
                _ = shutdown.wait() => return Ok(()),
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// One consumer, from `position` (or the configured start) until it fails.
    async fn session(
        &self,
        js: &async_nats::jetstream::Context,
        position: &mut Option<BusPosition>,
        reader: &mut MessageReader,
        handle: &SourceHandle,
        shutdown: &mut Shutdown,
        outage: &mut Outage,
    ) -> End {
        let deliver_policy = match (*position, self.start) {
            (Some(p), _) => DeliverPolicy::ByStartSequence {
                start_sequence: p.seq,
            },
            (None, StartAt::Beginning) => DeliverPolicy::All,
            (None, StartAt::End) => DeliverPolicy::New,
            (None, StartAt::Today) => match local_midnight(&self.day_tz) {
                Some(start_time) => DeliverPolicy::ByStartTime { start_time },
                None => DeliverPolicy::All,
            },
        };
        let consumer = async {
            let stream = js
                .get_stream(&self.stream)
                .await
                .map_err(|e| format!("stream `{}`: {e}", self.stream))?;
            let consumer = stream
                .create_consumer(pull::OrderedConfig {
                    filter_subject: self.subject.clone(),
                    deliver_policy,
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("consumer on `{}`: {e}", self.stream))?;
            let pending = consumer.cached_info().num_pending;
            let messages = consumer
                .messages()
                .await
                .map_err(|e| format!("messages of `{}`: {e}", self.stream))?;
            Ok::<_, String>((pending, messages))
        };
        let (pending, mut messages) = tokio::select! {
            biased;
            _ = shutdown.wait() => return End::Shutdown,
            c = consumer => match c {
                Ok(c) => c,
                Err(e) => return End::Failed(e),
            },
        };
        handle.set_up(true);
        handle.set_catching_up(pending > 0);
        // The message the position is in: its first events were sent already.
        let mut skip = position.map(|p| (p.seq, p.events));
        loop {
            let next = tokio::select! {
                biased;
                _ = shutdown.wait() => return End::Shutdown,
                m = messages.next() => m,
            };
            let message = match next {
                None => return End::Failed("the consumer ended".into()),
                Some(Err(e)) => return End::Failed(format!("consumer: {e}")),
                Some(Ok(m)) => m,
            };
            let (seq, pending) = match message.info() {
                Ok(i) => (i.stream_sequence, i.pending),
                Err(e) => return End::Failed(format!("message metadata: {e}")),
            };
            let already = match skip.take() {
                Some((s, k)) if s == seq => k,
                _ => 0,
            };
            match reader
                .ingest(&message.payload, seq, already, handle, shutdown)
                .await
            {
                Ok(_) => {}
                Err(Stop::Shutdown) => return End::Shutdown,
                Err(Stop::EngineGone) => return End::EngineGone,
            }
            // All of it read: a new consumer starts at the next message.
            *position = Some(BusPosition {
                seq: seq + 1,
                events: 0,
            });
            // Up again after the client reconnected under the same consumer.
            handle.set_up(true);
            outage.recovered();
            if pending == 0 {
                handle.set_catching_up(false);
            }
        }
    }
}

impl Source for NatsSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(self: Box<Self>, handle: SourceHandle, shutdown: Shutdown) -> SourceTask {
        Box::pin(self.run_loop(handle, shutdown))
    }

    fn starts_catching_up(&self) -> bool {
        self.resume.is_some() || self.start != StartAt::End
    }
}

/// The start of today in `tz`, by the wall clock: messages stored since then are today's.
fn local_midnight(tz: &jiff::tz::TimeZone) -> Option<time::OffsetDateTime> {
    let midnight = jiff::Timestamp::now()
        .to_zoned_datetime(tz.clone())
        .start_of_day()
        .ok()?;
    time::OffsetDateTime::from_unix_timestamp(midnight.timestamp().as_second()).ok()
}

/// Failures since the last message: the retry delay and whether one was logged at
/// `warn` (the first of an outage is, repeats go to `debug`).
struct Outage {
    backoff: Backoff,
    warned: bool,
}

impl Outage {
    /// A message arrived: the next failure starts a new outage.
    fn recovered(&mut self) {
        self.backoff.reset();
        self.warned = false;
    }

    /// Logs a failure; returns how long to wait before the next consumer.
    fn failed(&mut self, source: &str, failure: &str) -> Duration {
        let delay = self.backoff.next_delay();
        let retry_ms = delay.as_millis() as u64;
        if !std::mem::replace(&mut self.warned, true) {
            tracing::warn!(
                source,
                retry_ms,
                "bus source down: {failure} (retrying; repeats are logged at debug)"
            );
        } else {
            tracing::debug!(source, retry_ms, "bus source down: {failure}");
        }
        delay
    }
}

/// How a consumer ended.
enum End {
    Shutdown,
    EngineGone,
    Failed(String),
}

/// Why sending decoded events stopped.
enum Stop {
    Shutdown,
    EngineGone,
}

/// Splits messages into lines, decodes and counts them, sends the events.
#[derive(Debug)]
struct MessageReader {
    format: SourceFormat,
    jsonl: AnyDecoder,
    queue_log: AnyDecoder,
    max_message: usize,
    /// Lines seen by this source (1-based numbers in the decode log messages).
    line_no: u64,
}

impl MessageReader {
    fn new(src: &NatsSource) -> Self {
        MessageReader {
            format: src.format,
            jsonl: AnyDecoder::Jsonl(JsonlDecoder::new()),
            queue_log: AnyDecoder::new(Format::QueueLog, src.tz.clone()),
            max_message: src.max_message,
            line_no: 0,
        }
    }

    /// The format of `payload`: the configured one, or by its first non-blank line.
    fn format_of(&self, payload: &[u8]) -> Format {
        match self.format {
            SourceFormat::Jsonl => Format::Jsonl,
            SourceFormat::QueueLog => Format::QueueLog,
            SourceFormat::Auto => Format::detect(payload),
        }
    }

    fn decoder(&self, format: Format) -> &AnyDecoder {
        match format {
            Format::Jsonl => &self.jsonl,
            Format::QueueLog => &self.queue_log,
        }
    }

    /// Sends the events of message `seq` after its first `already`; returns how many
    /// events the message holds. Lines before the `already`-th event were counted
    /// before the restart and are not counted again. Positions: `{seq, events}` inside
    /// the message (a batch of a long one), `{seq + 1, 0}` once all of it is read — also
    /// for a message with no event, so a restart never counts its lines again.
    async fn ingest(
        &mut self,
        payload: &[u8],
        seq: u64,
        already: u64,
        handle: &SourceHandle,
        shutdown: &mut Shutdown,
    ) -> Result<u64, Stop> {
        let done = BusPosition {
            seq: seq + 1,
            events: 0,
        };
        if payload.len() > self.max_message {
            self.line_no += 1;
            handle.record_decoded(self.line_no, &Decoded::Rejected(RejectReason::TooLong));
            send(&mut Vec::new(), done, handle, shutdown).await?;
            return Ok(0);
        }
        // Detected once a message, not once a line.
        let format = self.format_of(payload);
        let mut events = 0u64;
        let mut batch = Vec::new();
        let mut lines = LineReader::with_max_len(payload, self.max_message);
        // Reading from a slice cannot fail; an error would end the message like EOF.
        while let Ok(Some((_, line))) = lines.next_line() {
            let decoded = match line {
                Line::Ok(l) if crate::decode::is_blank(l) => continue,
                Line::Ok(l) => self.decoder(format).decode(l),
                Line::TooLong => Decoded::Rejected(RejectReason::TooLong),
            };
            let is_event = matches!(decoded, Decoded::Event(_));
            if events < already {
                events += u64::from(is_event);
                continue;
            }
            self.line_no += 1;
            handle.record_decoded(self.line_no, &decoded);
            if let Decoded::Event(event) = decoded {
                events += 1;
                batch.push(event);
                if batch.len() >= BATCH {
                    send(&mut batch, BusPosition { seq, events }, handle, shutdown).await?;
                }
            }
        }
        send(&mut batch, done, handle, shutdown).await?;
        Ok(events)
    }
}

/// Events per message to the engine at most (a bus message's events go as one).
const BATCH: usize = 256;

/// Sends the batch with the position after its last line (an empty batch: the
/// position alone).
async fn send(
    batch: &mut Vec<crate::model::Event>,
    position: BusPosition,
    handle: &SourceHandle,
    shutdown: &mut Shutdown,
) -> Result<(), Stop> {
    let events = std::mem::take(batch);
    tokio::select! {
        biased;
        sent = handle.send_batch(events, Some(Position::Bus(position))) => {
            sent.map_err(|_| Stop::EngineGone)
        }
        _ = shutdown.wait() => Err(Stop::Shutdown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_position_is_read_back_and_a_foreign_one_refused() {
        let cfg = Config::default();
        let src = SourceConfig::nats("bus", "nats://127.0.0.1:4222", "ACD");
        let saved = serde_json::json!({ "seq": 42, "events": 3 });
        let s = NatsSource::new(&src, &cfg, Some(&saved)).expect("source");
        assert_eq!(s.resume, Some(BusPosition { seq: 42, events: 3 }));
        assert_eq!(
            Position::Bus(BusPosition { seq: 42, events: 3 }).to_json(),
            saved
        );
        assert!(s.starts_catching_up());
        let file_position = serde_json::json!({ "path": "/var/log/queue_log", "offset": 7 });
        let e = NatsSource::new(&src, &cfg, Some(&file_position)).expect_err("not ours");
        assert!(e.to_string().contains("bus position"), "{e}");
        let mut at_end = src.clone();
        at_end.start_at = StartAt::End;
        let s = NatsSource::new(&at_end, &cfg, None).expect("source");
        assert!(!s.starts_catching_up(), "new messages only: no backlog");
    }

    #[test]
    fn today_starts_at_the_local_midnight() {
        let tz = jiff::tz::TimeZone::get("Asia/Kolkata").expect("zone");
        let midnight = local_midnight(&tz).expect("midnight");
        let now = jiff::Timestamp::now();
        let secs = midnight.unix_timestamp();
        assert!(secs <= now.as_second() && now.as_second() - secs < 86_400);
        let local = jiff::Timestamp::from_second(secs)
            .expect("ts")
            .to_zoned_datetime(tz);
        assert_eq!((local.hour(), local.minute(), local.second()), (0, 0, 0));
    }

    /// What reached the engine reading `payload` as message `seq` after its first
    /// `already` events: the message's event count, and each message to the engine (its
    /// events' times and position).
    async fn read_message(
        source: &NatsSource,
        payload: &str,
        seq: u64,
        already: u64,
    ) -> (u64, Vec<(Vec<i64>, Option<Position>)>) {
        let (tx, mut rx) = crate::sources::channel::engine_channel(16);
        let handle = SourceHandle::new(0, "bus".into(), tx);
        let (_trigger, mut shutdown) = crate::runtime::shutdown_channel();
        let mut reader = MessageReader::new(source);
        let n = reader
            .ingest(payload.as_bytes(), seq, already, &handle, &mut shutdown)
            .await
            .map_err(|_| "stopped")
            .expect("ingest");
        drop(handle);
        let mut got = Vec::new();
        let mut msgs = Vec::new();
        while rx.recv_many(&mut msgs, 16).await > 0 {
            for m in msgs.drain(..) {
                rx.release(m.permits);
                let ts: Vec<i64> = m.events.into_iter().map(|e| e.ts).collect();
                got.push((ts, m.position));
            }
        }
        (n, got)
    }

    /// A message with no event (a malformed line only) still moves the position past
    /// it: a restart does not read and count the line again.
    #[tokio::test]
    async fn a_message_without_events_moves_the_position_alone() {
        let src = SourceConfig::nats("bus", "nats://127.0.0.1:4222", "ACD");
        let source = NatsSource::new(&src, &Config::default(), None).expect("source");
        let (n, got) = read_message(&source, "{not json", 5, 0).await;
        let next = Some(Position::Bus(BusPosition { seq: 6, events: 0 }));
        assert_eq!((n, got), (0, vec![(vec![], next)]));
    }

    /// A restart inside a message: its first events are skipped, the rest go to the
    /// engine as one batch positioned at the next message; a malformed line after the
    /// skipped events is counted once.
    #[tokio::test]
    async fn a_message_is_resumed_after_the_events_already_sent() {
        let cfg = Config::default();
        let src = SourceConfig::nats("bus", "nats://127.0.0.1:4222", "ACD");
        let source = NatsSource::new(&src, &cfg, None).expect("source");
        const T: i64 = 1_795_856_400_000;
        let line = |ts: i64, c: &str| {
            format!(r#"{{"v":1,"ts":{ts},"type":"contact_queued","contact":"{c}","queue":"q"}}"#)
        };
        let payload = [
            line(T + 1_000, "c1"),
            line(T + 2_000, "c2"),
            "{not json".to_string(),
            line(T + 3_000, "c3"),
            String::new(),
            line(T + 4_000, "c4"),
        ]
        .join("\n");
        let (n, got) = read_message(&source, &payload, 9, 2).await;
        assert_eq!(n, 4, "the message's events up to its end");
        // One message to the engine, positioned at the next message (all of this one read).
        assert_eq!(
            got,
            vec![(
                vec![T + 3_000, T + 4_000],
                Some(Position::Bus(BusPosition { seq: 10, events: 0 }))
            )]
        );
        let stats = reader_stats(&source, payload.as_bytes()).await;
        assert_eq!(stats, (4, 1), "a whole read: 4 events, 1 rejected");
    }

    /// Events and rejected lines counted reading `payload` from its start.
    async fn reader_stats(source: &NatsSource, payload: &[u8]) -> (u64, u64) {
        let (tx, mut rx) = crate::sources::channel::engine_channel(16);
        let handle = SourceHandle::new(0, "bus".into(), tx);
        let (_trigger, mut shutdown) = crate::runtime::shutdown_channel();
        let mut reader = MessageReader::new(source);
        let sent = tokio::spawn(async move {
            let mut msgs = Vec::new();
            while rx.recv_many(&mut msgs, 16).await > 0 {
                msgs.drain(..).for_each(|m| rx.release(m.permits));
            }
        });
        let n = reader
            .ingest(payload, 1, 0, &handle, &mut shutdown)
            .await
            .map_err(|_| "stopped")
            .expect("ingest");
        let stats = handle.status().decode_stats();
        drop(handle);
        let _ = sent.await;
        (n, stats.rejected())
    }

    #[tokio::test]
    async fn a_message_over_the_bound_is_one_rejected_line() {
        let cfg = Config::default();
        let mut src = SourceConfig::nats("bus", "nats://127.0.0.1:4222", "ACD");
        src.max_frame_bytes = 1024;
        let source = NatsSource::new(&src, &cfg, None).expect("source");
        assert_eq!(reader_stats(&source, &[b'x'; 2048]).await, (0, 1));
    }
}
