//! The channel from the sources to the engine task, bounded in *events*: a message holds
//! one event or a batch (a file source sends each chunk it reads as one message), and a
//! sender first takes room for its events, given back once the engine has applied them.
//! Batches cost the engine one channel operation per chunk instead of one per event; the
//! bound keeps a burst's memory what it was with one event per message.

use super::Ingest;
use std::sync::Arc;
use tokio::sync::{mpsc, Semaphore};

/// The sending end (cloned into every [`super::SourceHandle`]).
#[derive(Debug, Clone)]
pub struct EngineTx {
    tx: mpsc::UnboundedSender<Ingest>,
    room: Arc<Semaphore>,
    capacity: u32,
}

/// The engine task's end. Dropping or closing it fails every sender, waiting or not.
#[derive(Debug)]
pub struct EngineRx {
    rx: mpsc::UnboundedReceiver<Ingest>,
    room: Arc<Semaphore>,
    /// Room applied but not yet given back: returned in steps of `step` events (and
    /// whenever the engine is about to wait), so a source blocked on a full channel is
    /// woken once per step, not once per batch (a cross-core wake costs ~10 µs here).
    held: u32,
    step: u32,
}

/// Applied room is given back in this many steps of the capacity (see `EngineRx::held`).
const RELEASE_PARTS: u32 = 16;

/// A channel holding at most `capacity` events (at least 1).
pub fn engine_channel(capacity: usize) -> (EngineTx, EngineRx) {
    let capacity = u32::try_from(capacity.clamp(1, Semaphore::MAX_PERMITS)).unwrap_or(u32::MAX);
    let room = Arc::new(Semaphore::new(capacity as usize));
    let (tx, rx) = mpsc::unbounded_channel();
    (
        EngineTx {
            tx,
            room: room.clone(),
            capacity,
        },
        EngineRx {
            rx,
            room,
            held: 0,
            step: (capacity / RELEASE_PARTS).max(1),
        },
    )
}

/// The engine task is gone (or stopping): nothing more can be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

impl EngineTx {
    /// Sends `m` once there is room for its events (waiting while the channel is full:
    /// backpressure on the source). A batch larger than the whole bound takes all of it.
    pub async fn send(&self, mut m: Ingest) -> Result<(), Closed> {
        let n = u32::try_from(m.events.len())
            .unwrap_or(u32::MAX)
            .min(self.capacity);
        let permit = self.room.acquire_many(n).await.map_err(|_| Closed)?;
        permit.forget();
        m.permits = n;
        self.tx.send(m).map_err(|_| Closed)
    }
}

impl EngineRx {
    /// Waits for messages and moves up to `limit` of them into `buf`; 0 once every
    /// sender is gone.
    pub async fn recv_many(&mut self, buf: &mut Vec<Ingest>, limit: usize) -> usize {
        self.rx.recv_many(buf, limit).await
    }

    /// A message if one is waiting.
    pub fn try_recv(&mut self) -> Option<Ingest> {
        self.rx.try_recv().ok()
    }

    /// Gives back the room of a message the engine has applied (at once when it reaches
    /// a step, else at the next [`EngineRx::release_held`]).
    pub fn release(&mut self, permits: u32) {
        self.held = self.held.saturating_add(permits);
        if self.held >= self.step {
            self.release_held();
        }
    }

    /// Gives back all room held: before the engine waits for messages, so a sender
    /// waiting for room is never left waiting on room the engine keeps.
    pub fn release_held(&mut self) {
        if self.held > 0 {
            self.room.add_permits(self.held as usize);
            self.held = 0;
        }
    }

    /// Refuses further sends (shutdown); what was sent can still be received.
    pub fn close(&mut self) {
        self.room.close();
        self.rx.close();
    }
}

impl Drop for EngineRx {
    fn drop(&mut self) {
        self.room.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Event, EventBody};
    use crate::sources::Events;
    use std::time::Duration;

    fn batch(n: usize) -> Ingest {
        let ev = |i: usize| Event {
            ts: i as i64,
            id: None,
            body: EventBody::ContactQueued {
                contact: format!("c{i}").into(),
                queue: "q".into(),
                channel: Default::default(),
            },
        };
        Ingest {
            source: 0,
            events: Events::Batch((0..n).map(ev).collect()),
            position: None,
            permits: 0,
        }
    }

    /// The bound counts events, not messages; room comes back when the engine releases
    /// a message, and closing fails a sender that waits for room.
    #[tokio::test]
    async fn the_bound_counts_events() {
        let (tx, mut rx) = engine_channel(10);
        tx.send(batch(8)).await.expect("room for 8");
        let wait = Duration::from_millis(50);
        let blocked = tokio::time::timeout(wait, tx.send(batch(5))).await;
        assert!(blocked.is_err(), "5 more do not fit beside 8");
        let m = rx.try_recv().expect("the first batch");
        assert_eq!((m.events.len(), m.permits), (8, 8));
        rx.release(m.permits);
        tokio::time::timeout(wait, tx.send(batch(5)))
            .await
            .expect("room again")
            .expect("sent");
        // Larger than the whole bound: takes all of it rather than waiting forever.
        let big = tx.clone();
        let pending = tokio::spawn(async move { big.send(batch(30)).await });
        tokio::time::sleep(wait).await;
        rx.close();
        assert_eq!(pending.await.expect("task"), Err(Closed));
        assert_eq!(rx.try_recv().map(|m| m.events.len()), Some(5));
    }

    /// Room comes back in steps of a sixteenth of the bound, and all of it once the
    /// engine is about to wait: a sender needing the whole bound is not kept waiting on
    /// room the engine holds.
    #[tokio::test]
    async fn held_room_comes_back_in_steps_and_before_waiting() {
        let (tx, mut rx) = engine_channel(64);
        let wait = Duration::from_millis(50);
        tx.send(batch(3)).await.expect("room for 3");
        let m = rx.try_recv().expect("the batch");
        rx.release(m.permits);
        let whole = tokio::time::timeout(wait, tx.send(batch(64))).await;
        assert!(whole.is_err(), "3 events' room is held below a step of 4");
        rx.release(1);
        tokio::time::timeout(wait, tx.send(batch(64)))
            .await
            .expect("a full step goes back at once")
            .expect("sent");
        let m = rx.try_recv().expect("the whole bound");
        rx.release(m.permits - 3);
        rx.release(3);
        let blocked = tokio::time::timeout(wait, tx.send(batch(64))).await;
        assert!(blocked.is_err(), "3 events' room is still held");
        rx.release_held();
        tokio::time::timeout(wait, tx.send(batch(64)))
            .await
            .expect("everything held goes back")
            .expect("sent");
    }
}
