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
}

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
        EngineRx { rx, room },
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

    /// Gives back the room of a message the engine has applied.
    pub fn release(&self, permits: u32) {
        self.room.add_permits(permits as usize);
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
}
