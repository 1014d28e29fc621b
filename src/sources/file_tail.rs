//! Tails a log file (`[[sources]] kind = "file"`): polls it, hands every complete new
//! line to the decoder and the events to the engine, and survives what logrotate and
//! restarts do to it.
//!
//! - **Polling**, every `poll_interval`: read what was appended, in bounded chunks.
//!   A last line without its newline waits for it, however long (a writer may be in
//!   the middle of it); lines longer than [`DEFAULT_MAX_LINE_LEN`] are skipped without
//!   being buffered and counted as `too_long`.
//! - **Rename and create** (the path now names another device/inode): the old handle is
//!   read until a poll finds nothing new in it (the writer had a poll interval to
//!   reopen), its unfinished last line (if any) is handed on as a line, then the new file
//!   is read from offset 0.
//! - **Copy and truncate** (the file is shorter than what we read, or its first line
//!   changed): read again from offset 0.
//! - **Missing file** (at start or later): the source reports down and waits; a file
//!   that appears is read from its start.
//! - **Checkpoints** ([`super::checkpoint`]): `{fingerprint, offset, line}` where offset
//!   is just past the last line whose event was *handed to the engine channel* (or that
//!   was counted as ignored / unknown / rejected): saved every second while it changes,
//!   on rotation and at shutdown. On restart a matching fingerprint resumes there, so no
//!   line is lost or counted twice by the source. A checkpoint of another file (the file
//!   was rotated while we were stopped) reads the present file from its start: every
//!   line of it is new to us. Without a checkpoint, `start_at` decides.
//!
//! Limitation: the engine's own state is not checkpointed yet, so after a restart the
//! engine starts empty and counts only what it reads from the resumed offset on.
//!
//! File reads are plain blocking reads of at most [`CHUNK`] bytes from a local file,
//! done on the source's task (short and bounded; a networked file system that can hang
//! would want a dedicated thread).

use super::checkpoint::{Checkpoint, CheckpointStore, FileId, Fingerprint, Head};
use super::{Position, Source, SourceError, SourceHandle, SourceTask};
use crate::config::{Config, SourceConfig, StartAt};
use crate::decode::{
    AnyDecoder, Decoded, FormatChoice, LineDecoder, RejectReason, DEFAULT_MAX_LINE_LEN,
};
use crate::model::Event;
use crate::runtime::Shutdown;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Bytes read from the file at a time.
pub const CHUNK: usize = 64 * 1024;

/// Bytes sampled from a file's start to detect its format (`format = "auto"`).
const SNIFF: u64 = 8 * 1024;

/// How often a changed checkpoint is saved while running.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// The UTF-8 byte-order mark (stripped from a file's first line, like the replay reader).
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A file tail source.
pub struct FileTailSource {
    name: String,
    path: PathBuf,
    format: FormatChoice,
    start_at: StartAt,
    poll: Duration,
    tz: jiff::tz::TimeZone,
    store: CheckpointStore,
    max_line_len: usize,
}

impl FileTailSource {
    /// The source for `src`, with the checkpoint under `cfg.daemon.data_dir` and DATETIME
    /// stamps read in `src.timezone` (default `cfg.timezone`).
    pub fn new(src: &SourceConfig, cfg: &Config) -> Result<Self, SourceError> {
        let tz_name = src.timezone.as_deref().unwrap_or(&cfg.timezone);
        let tz = jiff::tz::TimeZone::get(tz_name).map_err(|e| SourceError::Config {
            source_name: src.name.clone(),
            message: format!("time zone `{tz_name}`: {e}"),
        })?;
        Ok(FileTailSource {
            name: src.name.clone(),
            path: src.path.clone(),
            format: src.format.choice(),
            start_at: src.start_at,
            poll: Duration::from_millis(src.poll_interval.ms().max(1).unsigned_abs()),
            tz,
            store: CheckpointStore::new(&cfg.daemon.data_dir, &src.name),
            max_line_len: DEFAULT_MAX_LINE_LEN,
        })
    }

    /// Lines longer than `max` bytes are skipped as `too_long` (default 1 MiB).
    pub fn with_max_line_len(mut self, max: usize) -> Self {
        self.max_line_len = max.max(1);
        self
    }

    async fn tail(self, handle: SourceHandle, mut shutdown: Shutdown) -> Result<(), SourceError> {
        let resume = match self.store.load() {
            Ok(cp) => cp,
            Err(e) => {
                tracing::warn!(source = %self.name, "ignoring the checkpoint: {e}");
                None
            }
        };
        let mut t = Tailer::new(&self, resume);
        let mut saved = t.checkpoint();
        let mut last_save = Instant::now();
        let result = loop {
            if let Err(e) = t.poll(&handle, &mut shutdown).await {
                break Err(e);
            }
            if shutdown.is_triggered() {
                break Ok(());
            }
            if last_save.elapsed() >= CHECKPOINT_EVERY || t.switched {
                t.switched = false;
                let cp = t.checkpoint();
                if cp != saved {
                    self.save(cp.as_ref());
                    saved = cp;
                }
                last_save = Instant::now();
            }
            tokio::select! {
                biased;
                _ = shutdown.wait() => break Ok(()),
                _ = tokio::time::sleep(self.poll) => {}
            }
        };
        handle.set_catching_up(false);
        handle.set_up(false);
        let cp = t.checkpoint();
        if cp != saved {
            self.save(cp.as_ref());
        }
        result
    }

    fn save(&self, cp: Option<&Checkpoint>) {
        if let Some(cp) = cp {
            if let Err(e) = self.store.save(cp) {
                tracing::warn!(source = %self.name, "cannot save the checkpoint: {e}");
            }
        }
    }
}

impl Source for FileTailSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(self: Box<Self>, handle: SourceHandle, shutdown: Shutdown) -> SourceTask {
        Box::pin(self.tail(handle, shutdown))
    }

    fn starts_catching_up(&self) -> bool {
        true
    }
}

impl Open {
    /// The head as seen now, and its fingerprint.
    fn set_head(&mut self, head: Head) {
        self.fingerprint = Fingerprint::new(self.id, &head);
        self.head = head;
    }
}

/// The file being read.
struct Open {
    file: File,
    id: FileId,
    /// The head as last seen (grows until complete).
    head: Head,
    /// `Fingerprint::new(id, &head)`, kept with the head (events carry it).
    fingerprint: Fingerprint,
    /// Where the next read starts: `consumed` + the bytes of an unfinished line.
    read_pos: u64,
    /// The path names another file (or none) since this poll found this one drained.
    rotated: bool,
}

/// Line assembly and accounting for one source; owns the open file.
struct Tailer {
    name: String,
    path: PathBuf,
    /// `path`, shared by the positions events carry.
    shared_path: Arc<Path>,
    format: FormatChoice,
    tz: jiff::tz::TimeZone,
    max_line_len: usize,
    /// Where to start in the first file found (checkpoint or `start_at`).
    first: Option<(StartAt, Option<Checkpoint>)>,
    cur: Option<Open>,
    decoder: Option<AnyDecoder>,
    /// Bytes of an unfinished line (at most `max_line_len`).
    partial: Vec<u8>,
    /// The unfinished line is longer than the bound: skipping to its newline.
    too_long: bool,
    /// Skipping the rest of a line that began before we started (`start_at = "end"`).
    fragment: bool,
    /// Offset just past the last line fully handled.
    consumed: u64,
    /// Lines fully handled in this file.
    line_no: u64,
    /// Whether "file missing" was already logged.
    missing_logged: bool,
    /// A new file was opened (save the checkpoint now).
    switched: bool,
    /// Events of lines handled but not yet sent (sent as one message per chunk read).
    batch: Vec<Event>,
    /// `(consumed, line_no)` before the batch's first line: where the file stands if
    /// the batch is never sent.
    batch_from: (u64, u64),
    /// The file and offset of the last position sent to the engine.
    sent_at: Option<(Fingerprint, u64)>,
}

/// Events per message to the engine at most (a chunk of JSON lines holds ~580).
const BATCH: usize = 256;

/// One complete line, decoded, and where it ends.
struct Step {
    decoded: Decoded,
    end: u64,
}

impl Tailer {
    fn new(src: &FileTailSource, resume: Option<Checkpoint>) -> Self {
        Tailer {
            name: src.name.clone(),
            path: src.path.clone(),
            shared_path: Arc::from(src.path.as_path()),
            format: src.format,
            tz: src.tz.clone(),
            max_line_len: src.max_line_len,
            first: Some((src.start_at, resume)),
            cur: None,
            decoder: None,
            partial: Vec::new(),
            too_long: false,
            fragment: false,
            consumed: 0,
            line_no: 0,
            missing_logged: false,
            switched: false,
            batch: Vec::new(),
            batch_from: (0, 0),
            sent_at: None,
        }
    }

    /// The checkpoint of the current position (`None` before a file was opened).
    fn checkpoint(&self) -> Option<Checkpoint> {
        self.position()?.file_checkpoint()
    }

    /// Where to resume after the line just consumed (see [`Tailer::checkpoint`]), sent
    /// with every batch: no allocation, the path shared.
    fn position(&self) -> Option<Position> {
        let cur = self.cur.as_ref()?;
        Some(Position::File {
            path: self.shared_path.clone(),
            fingerprint: cur.fingerprint,
            offset: self.consumed,
            line: self.line_no,
        })
    }

    /// One poll: open the file if needed, read everything new, then look for rotation
    /// and truncation.
    async fn poll(&mut self, h: &SourceHandle, shutdown: &mut Shutdown) -> Result<(), SourceError> {
        if self.cur.is_none() && !self.open(h) {
            return Ok(());
        }
        // Before reading: a file truncated and written again past our position must not
        // be read from the middle.
        self.check_truncated();
        let got = match self.read_available(h, shutdown).await {
            Ok(n) => n,
            Err(ReadError::Gone) => return Err(SourceError::EngineGone),
            Err(ReadError::Stopped) => return Ok(()),
            Err(ReadError::Io(e)) => {
                tracing::warn!(source = %self.name, path = %self.path.display(), "read failed, reopening: {e}");
                self.close(h);
                return Ok(());
            }
        };
        h.set_catching_up(false);
        match self.check_path(h, shutdown, got == 0).await {
            Err(ReadError::Gone) => Err(SourceError::EngineGone),
            _ => Ok(()),
        }
    }

    /// Opens the path; false if it is missing or unreadable.
    fn open(&mut self, h: &SourceHandle) -> bool {
        let opened = File::open(&self.path).and_then(|mut f| {
            let meta = f.metadata()?;
            let head = Head::read(&mut f)?;
            Ok((f, meta, head))
        });
        let (mut file, meta, head) = match opened {
            Ok(x) => x,
            Err(e) => {
                if !self.missing_logged {
                    tracing::warn!(source = %self.name, path = %self.path.display(), "waiting for the file: {e}");
                    self.missing_logged = true;
                }
                // A file that appears after we started is new: all of it is to be read.
                if let Some((start_at, _)) = self.first.as_mut() {
                    *start_at = StartAt::Beginning;
                }
                h.set_up(false);
                h.set_catching_up(false);
                return false;
            }
        };
        self.missing_logged = false;
        let id = FileId::of(&meta);
        let len = meta.len();
        self.reset_lines();
        let mut start = 0;
        if let Some((start_at, resume)) = self.first.take() {
            match resume {
                Some(cp) => {
                    let same = cp.fingerprint.matches(id, &mut file).unwrap_or(false);
                    if same && cp.offset <= len {
                        start = cp.offset;
                        self.line_no = cp.line;
                        // Only a `start_at = "end"` start saves an offset inside a line.
                        self.fragment = start > 0 && !ends_with_newline(&mut file, start);
                        tracing::info!(source = %self.name, offset = cp.offset, line = cp.line, "resuming from the checkpoint");
                    } else {
                        tracing::info!(source = %self.name, "the file changed since the checkpoint: reading it from the start");
                    }
                }
                None if start_at == StartAt::End => {
                    start = len;
                    // A line already begun belongs to the past: skip to its end.
                    self.fragment = len > 0 && !ends_with_newline(&mut file, len);
                }
                None => {}
            }
        }
        self.consumed = start;
        tracing::info!(source = %self.name, path = %self.path.display(), offset = start, "tailing");
        self.cur = Some(Open {
            file,
            id,
            fingerprint: Fingerprint::new(id, &head),
            head,
            read_pos: start,
            rotated: false,
        });
        self.switched = true;
        h.set_up(true);
        h.set_catching_up(len > start);
        true
    }

    fn close(&mut self, h: &SourceHandle) {
        self.cur = None;
        h.set_up(false);
    }

    /// Forgets the line state of the previous file.
    fn reset_lines(&mut self) {
        self.decoder = None;
        self.partial = Vec::new();
        self.too_long = false;
        self.fragment = false;
        self.consumed = 0;
        self.line_no = 0;
    }

    /// Reads and hands on every complete line available; returns the bytes read.
    async fn read_available(
        &mut self,
        h: &SourceHandle,
        shutdown: &mut Shutdown,
    ) -> Result<u64, ReadError> {
        let mut buf = vec![0u8; CHUNK];
        let mut total = 0;
        loop {
            let n = {
                let Some(cur) = self.cur.as_mut() else {
                    return Ok(total);
                };
                cur.file.seek(SeekFrom::Start(cur.read_pos))?;
                read_retrying(&mut cur.file, &mut buf)?
            };
            if n == 0 {
                return Ok(total);
            }
            self.ensure_decoder()?;
            let chunk = &buf[..n];
            let mut pos = 0;
            while let Some(step) = self.next_line(chunk, &mut pos) {
                self.deliver(step, h, shutdown).await?;
            }
            self.flush(h, shutdown).await?;
            // Everything in the chunk is now consumed or buffered as an unfinished line.
            if let Some(cur) = self.cur.as_mut() {
                cur.read_pos += n as u64;
            }
            total += n as u64;
            tokio::task::yield_now().await;
        }
    }

    /// Resolves the format from the file's start the first time there are bytes.
    fn ensure_decoder(&mut self) -> io::Result<()> {
        if self.decoder.is_some() {
            return Ok(());
        }
        let Some(cur) = self.cur.as_mut() else {
            return Ok(());
        };
        cur.file.seek(SeekFrom::Start(0))?;
        let mut sample = Vec::new();
        cur.file.by_ref().take(SNIFF).read_to_end(&mut sample)?;
        let format = self.format.resolve(&sample);
        tracing::debug!(source = %self.name, %format, "format");
        self.decoder = Some(AnyDecoder::new(format, self.tz.clone()));
        Ok(())
    }

    /// The next complete line in `chunk` from `*pos` (joined with an unfinished line
    /// from earlier chunks), decoded. Bytes after the last newline are kept in `partial`.
    fn next_line(&mut self, chunk: &[u8], pos: &mut usize) -> Option<Step> {
        let base = self.cur.as_ref()?.read_pos;
        loop {
            let rest = chunk.get(*pos..).unwrap_or_default();
            let Some(i) = memchr::memchr(b'\n', rest) else {
                // An unfinished line: keep it (bounded) until its newline arrives.
                if !self.fragment && !self.too_long {
                    if self.partial.len() + rest.len() > self.max_line_len {
                        self.too_long = true;
                        self.partial = Vec::new();
                    } else {
                        self.partial.extend_from_slice(rest);
                    }
                }
                *pos = chunk.len();
                return None;
            };
            let start_off = base + *pos as u64 - self.partial.len() as u64;
            let piece = &rest[..i];
            *pos += i + 1;
            let end = base + *pos as u64;
            if self.fragment {
                self.fragment = false;
                self.consumed = end;
                continue;
            }
            let decoded = if self.too_long || self.partial.len() + piece.len() > self.max_line_len {
                Decoded::Rejected(RejectReason::TooLong)
            } else if self.partial.is_empty() {
                self.decode(start_off, piece)
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(piece);
                let d = self.decode(start_off, &line);
                line.clear();
                self.partial = line;
                d
            };
            self.too_long = false;
            self.partial.clear();
            if self.partial.capacity() > self.max_line_len.min(64 * 1024) {
                self.partial = Vec::new();
            }
            return Some(Step { decoded, end });
        }
    }

    fn decode(&self, start_off: u64, line: &[u8]) -> Decoded {
        let line = if start_off == 0 {
            line.strip_prefix(UTF8_BOM).unwrap_or(line)
        } else {
            line
        };
        let line = match line.split_last() {
            Some((b'\r', rest)) => rest,
            _ => line,
        };
        match &self.decoder {
            Some(d) => d.decode(line),
            None => Decoded::Rejected(RejectReason::Truncated),
        }
    }

    /// Takes a line: its event joins the batch (sent when full, and by [`Tailer::flush`]
    /// at the end of each chunk); the line counts as consumed, unless the batch is never
    /// sent.
    async fn deliver(
        &mut self,
        step: Step,
        h: &SourceHandle,
        shutdown: &mut Shutdown,
    ) -> Result<(), ReadError> {
        if self.batch.is_empty() {
            self.batch_from = (self.consumed, self.line_no);
        }
        self.line_no += 1;
        self.consumed = step.end;
        h.record_decoded(self.line_no, &step.decoded);
        if let Decoded::Event(ev) = step.decoded {
            self.batch.push(ev);
            if self.batch.len() >= BATCH {
                self.flush(h, shutdown).await?;
            }
        }
        Ok(())
    }

    /// Sends the batch with the position after its last line (and any rejected lines
    /// after it), so the engine's checkpoint records exactly where to resume. Stopped
    /// before it is sent, the file stands before the batch's first line again.
    /// Lines with no event (rejected, ignored) after the last position sent are passed
    /// as a position alone, so a restart does not count them again.
    async fn flush(&mut self, h: &SourceHandle, shutdown: &mut Shutdown) -> Result<(), ReadError> {
        let at = self.cur.as_ref().map(|c| (c.fingerprint, self.consumed));
        if self.batch.is_empty() && (at.is_none() || at == self.sent_at) {
            return Ok(());
        }
        let events = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        let had_events = !events.is_empty();
        let position = self.position();
        let sent = tokio::select! {
            biased;
            _ = shutdown.wait() => Err(ReadError::Stopped),
            sent = h.send_batch(events, position) => sent.map_err(|_| ReadError::Gone),
        };
        match sent {
            Ok(()) => self.sent_at = at,
            Err(_) if had_events => (self.consumed, self.line_no) = self.batch_from,
            Err(_) => {}
        }
        sent
    }

    /// After reading to the end: has the path been rotated, truncated or removed?
    async fn check_path(
        &mut self,
        h: &SourceHandle,
        shutdown: &mut Shutdown,
        idle: bool,
    ) -> Result<(), ReadError> {
        let Some(cur) = self.cur.as_mut() else {
            return Ok(());
        };
        let at_path = fs::metadata(&self.path);
        let same = matches!(&at_path, Ok(m) if FileId::of(m) == cur.id);
        if !same {
            // Renamed away (and maybe replaced) or deleted: drain the old handle until a
            // poll finds nothing new, then move on.
            if !cur.rotated {
                cur.rotated = true;
                tracing::info!(source = %self.name, path = %self.path.display(), "file rotated or removed: draining the old file");
                return Ok(());
            }
            if !idle {
                return Ok(());
            }
            if let Some(step) = self.final_line() {
                self.deliver(step, h, shutdown).await?;
                self.flush(h, shutdown).await?;
            }
            self.cur = None;
            if at_path.is_ok() {
                self.open(h);
            } else {
                h.set_up(false);
            }
            return Ok(());
        }
        cur.rotated = false;
        self.check_truncated();
        Ok(())
    }

    /// Truncated (shorter than what we read) or replaced in place (its first line
    /// changed): read it again from the start.
    fn check_truncated(&mut self) {
        let Some(cur) = self.cur.as_mut() else {
            return;
        };
        let (len, head) = match cur
            .file
            .metadata()
            .and_then(|m| Ok((m.len(), Head::read(&mut cur.file)?)))
        {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(source = %self.name, "cannot inspect the file: {e}");
                return;
            }
        };
        if len < cur.read_pos || !head.continues(&cur.head) {
            tracing::info!(source = %self.name, path = %self.path.display(), "file truncated or replaced: reading it from the start");
            self.reset_lines();
            if let Some(cur) = self.cur.as_mut() {
                cur.read_pos = 0;
                cur.set_head(head);
            }
            self.switched = true;
        } else {
            cur.set_head(head);
        }
    }

    /// The old file of a rotation is final: its unfinished last line, if any, is a line.
    fn final_line(&mut self) -> Option<Step> {
        let cur = self.cur.as_ref()?;
        if self.fragment || (self.partial.is_empty() && !self.too_long) {
            return None;
        }
        let end = cur.read_pos;
        let start_off = end - self.partial.len() as u64;
        let decoded = if self.too_long {
            Decoded::Rejected(RejectReason::TooLong)
        } else {
            self.decode(start_off, &self.partial)
        };
        self.partial = Vec::new();
        self.too_long = false;
        Some(Step { decoded, end })
    }
}

/// Why reading stopped early.
enum ReadError {
    /// The engine is gone.
    Gone,
    /// Shutdown while waiting to send.
    Stopped,
    /// Reading the file failed.
    Io(io::Error),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

fn read_retrying(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match file.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// True when the byte before `len` is a newline (a read error counts as "no").
fn ends_with_newline(file: &mut File, len: u64) -> bool {
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1)).is_ok()
        && file.read_exact(&mut last).is_ok()
        && last[0] == b'\n'
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::channel::engine_channel;
    use crate::sources::Ingest;

    /// A tailer of `log` from its beginning, with no checkpoint.
    fn tailer(log: &Path) -> Tailer {
        let mut sc = SourceConfig::file("events", log);
        sc.start_at = StartAt::Beginning;
        let src = FileTailSource::new(&sc, &Config::default()).expect("source");
        Tailer::new(&src, None)
    }

    fn line(i: usize) -> String {
        let ts = 1_795_856_400_000i64 + i as i64;
        format!(r#"{{"v":1,"ts":{ts},"type":"contact_queued","contact":"c{i}","queue":"q"}}"#)
            + "\n"
    }

    /// A poll that finds only a malformed line still moves the position past it (a
    /// message without events), so a restart does not count the line again; a poll
    /// that finds nothing new sends nothing.
    #[tokio::test]
    async fn lines_without_events_move_the_position_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("events.jsonl");
        std::fs::write(&log, (0..3).map(line).collect::<String>()).expect("write");
        let mut t = tailer(&log);
        let (tx, mut rx) = engine_channel(64);
        let h = SourceHandle::new(0, "events".into(), tx);
        let (_trigger, mut shutdown) = crate::runtime::shutdown_channel();
        let at = |m: &Ingest| {
            let cp = m.position.as_ref().and_then(Position::file_checkpoint);
            cp.map(|c| (c.offset, c.line))
        };
        t.poll(&h, &mut shutdown).await.expect("poll");
        let events = rx.try_recv().expect("the events");
        assert_eq!(events.events.len(), 3);
        std::fs::write(&log, (0..3).map(line).collect::<String>() + "{not json\n").expect("append");
        t.poll(&h, &mut shutdown).await.expect("poll");
        let moved = rx.try_recv().expect("the position alone");
        assert!(moved.events.is_empty());
        let end = std::fs::metadata(&log).expect("log").len();
        assert_eq!(at(&moved), Some((end, 4)));
        t.poll(&h, &mut shutdown).await.expect("poll");
        assert!(rx.try_recv().is_none(), "nothing new, nothing sent");
    }

    /// Stopped while the engine channel is full: the file stands after the last batch
    /// sent, so the lines of the batch never sent are read again after a restart.
    #[tokio::test]
    async fn a_batch_never_sent_is_not_consumed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("events.jsonl");
        let text: String = (0..3 * BATCH).map(line).collect();
        std::fs::write(&log, text).expect("write");
        let mut t = tailer(&log);
        // Room for one message: the second batch waits until the stop.
        let (tx, mut rx) = engine_channel(1);
        let h = SourceHandle::new(0, "events".into(), tx);
        let (trigger, mut shutdown) = crate::runtime::shutdown_channel();
        let stopper = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            trigger.trigger();
        });
        t.poll(&h, &mut shutdown).await.expect("poll");
        stopper.await.expect("stopper");
        let first = rx.try_recv().expect("the first batch");
        assert_eq!(first.events.len(), BATCH);
        assert!(rx.try_recv().is_none(), "nothing else was sent");
        let cp = t.checkpoint().expect("a file is open");
        let end: usize = (0..BATCH).map(|i| line(i).len()).sum();
        assert_eq!((cp.offset, cp.line), (end as u64, BATCH as u64));
    }
}
