//! Event-time ordering: a reorder buffer bounded by the allowed lateness, and
//! duplicate-id suppression for at-least-once sources.

use crate::model::{Event, Millis, Name};
use rustc_hash::FxHashSet;
use std::collections::VecDeque;

/// The smallest growth of the buffer, in events.
const GROWTH_MIN: usize = 256;

/// Below this many slots (512 KiB of events) [`Reorder::trim`] leaves the buffer alone.
pub const TRIM_FLOOR: usize = 4096;

/// Why an event was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Older than the watermark allows (more than the allowed lateness behind).
    Late,
    /// Its `id` was seen within the dedupe horizon.
    Duplicate,
}

/// Holds events until the allowed lateness has passed, then releases them in
/// `(ts, arrival)` order, so equal timestamps keep their file order.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Reorder {
    lateness: Millis,
    max_seen: Option<Millis>,
    released: Option<Millis>,
    buf: VecDeque<Event>,
    seen_ids: FxHashSet<Name>,
    id_order: VecDeque<(Millis, Name)>,
    dedupe_horizon: Millis,
}

impl Reorder {
    /// A buffer with `lateness` allowed and ids remembered for `dedupe_horizon`.
    pub fn new(lateness: Millis, dedupe_horizon: Millis) -> Self {
        Reorder {
            lateness: lateness.max(0),
            max_seen: None,
            released: None,
            buf: VecDeque::new(),
            seen_ids: FxHashSet::default(),
            id_order: VecDeque::new(),
            dedupe_horizon,
        }
    }

    /// Applies a (possibly changed) configuration after a restore.
    pub fn set_limits(&mut self, lateness: Millis, dedupe_horizon: Millis) {
        self.lateness = lateness.max(0);
        self.dedupe_horizon = dedupe_horizon;
    }

    /// The newest event time seen.
    pub fn max_seen(&self) -> Option<Millis> {
        self.max_seen
    }

    /// Events waiting for the lateness to pass.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Accepts an event into the buffer, or refuses it as late or duplicate.
    pub fn push(&mut self, ev: Event) -> Result<(), Refused> {
        // The watermark is the newest time seen minus the allowed lateness.
        let behind_watermark = self.max_seen.is_some_and(|m| ev.ts < m - self.lateness);
        if behind_watermark || self.released.is_some_and(|r| ev.ts < r) {
            return Err(Refused::Late);
        }
        if let Some(id) = &ev.id {
            if !self.seen_ids.insert(id.clone()) {
                return Err(Refused::Duplicate);
            }
            self.id_order.push_back((ev.ts, id.clone()));
        }
        let max = self.max_seen.map_or(ev.ts, |m| m.max(ev.ts));
        self.max_seen = Some(max);
        // Mostly-ordered input: appending is the common case; otherwise insert after
        // every event with the same or an earlier timestamp (stable).
        if self.buf.len() == self.buf.capacity() {
            // A quarter more, not double: the deque is a ring that cycles through its
            // whole capacity, so every slot ends up resident, and a burst that doubled
            // it would keep that memory (2 s × 200 k events/s of 128-byte events is
            // 51 MB; doubled capacity 128 MB).
            self.buf
                .reserve_exact((self.buf.capacity() / 4).max(GROWTH_MIN));
        }
        if self.buf.back().is_none_or(|b| b.ts <= ev.ts) {
            self.buf.push_back(ev);
        } else {
            let at = self.buf.partition_point(|b| b.ts <= ev.ts);
            self.buf.insert(at, ev);
        }
        self.forget_old_ids(max);
        Ok(())
    }

    /// Gives back the memory a burst left: when the buffer holds under half its
    /// capacity (and more than [`TRIM_FLOOR`] slots), the capacity drops to 1.25× what
    /// it holds. Cheap to call often (the daemon calls it every tick).
    pub fn trim(&mut self) {
        let (len, cap) = (self.buf.len(), self.buf.capacity());
        if cap > 2 * len.max(TRIM_FLOOR) {
            self.buf.shrink_to(len + len / 4);
        }
    }

    /// Buffer slots allocated (for tests of [`Reorder::trim`]).
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Releases the next event whose lateness has passed.
    pub fn pop_ready(&mut self) -> Option<Event> {
        let limit = self.max_seen? - self.lateness;
        if self.buf.front()?.ts <= limit {
            self.release()
        } else {
            None
        }
    }

    /// Releases the next buffered event regardless of lateness (end of input).
    pub fn pop_any(&mut self) -> Option<Event> {
        self.release()
    }

    /// Treats `t` as seen (wall clock on an idle source), releasing what is due.
    pub fn observe(&mut self, t: Millis) {
        self.max_seen = Some(self.max_seen.map_or(t, |m| m.max(t)));
    }

    fn release(&mut self) -> Option<Event> {
        let ev = self.buf.pop_front()?;
        self.released = Some(self.released.map_or(ev.ts, |r| r.max(ev.ts)));
        Some(ev)
    }

    fn forget_old_ids(&mut self, now: Millis) {
        let horizon = now - self.dedupe_horizon;
        while self.id_order.front().is_some_and(|(t, _)| *t < horizon) {
            if let Some((_, id)) = self.id_order.pop_front() {
                self.seen_ids.remove(&id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EventBody;

    /// A burst grows the buffer by quarters, not doubling, and trimming gives the slots
    /// back once the burst has been released.
    #[test]
    fn a_burst_grows_by_quarters_and_is_trimmed_away() {
        let mut r = Reorder::new(1_000_000, 0);
        for i in 0..100_000 {
            r.push(ev(i, None)).expect("in order");
            assert!(
                r.capacity() <= (r.pending() + r.pending() / 4).max(GROWTH_MIN) + GROWTH_MIN,
                "capacity {} for {} events",
                r.capacity(),
                r.pending()
            );
        }
        r.trim();
        assert!(
            r.capacity() >= 100_000,
            "nothing to trim while it holds them"
        );
        // The burst passes: all but 10,000 released.
        r.observe(1_000_000 + 89_999);
        let mut released = 0;
        while r.pop_ready().is_some() {
            released += 1;
        }
        assert_eq!(released, 90_000);
        r.trim();
        assert!(
            r.capacity() < 2 * TRIM_FLOOR.max(10_000),
            "{}",
            r.capacity()
        );
        assert_eq!(r.pending(), 10_000, "trimming keeps every event");
        assert_eq!(r.pop_any().map(|e| e.ts), Some(90_000));
    }

    fn ev(ts: Millis, id: Option<&str>) -> Event {
        Event {
            ts,
            id: id.map(Name::from),
            body: EventBody::SourceRestart,
        }
    }

    #[test]
    fn reorders_within_lateness_and_refuses_later() {
        let mut r = Reorder::new(1000, 60_000);
        r.push(ev(5000, None)).expect("first");
        r.push(ev(4500, None)).expect("within lateness");
        assert_eq!(r.pop_ready(), None, "5000-1000 < 4500");
        r.push(ev(6000, None)).expect("in order");
        assert_eq!(r.pop_ready().map(|e| e.ts), Some(4500));
        assert_eq!(r.pop_ready().map(|e| e.ts), Some(5000));
        assert_eq!(r.pop_ready(), None);
        assert_eq!(r.push(ev(4999, None)), Err(Refused::Late));
        assert!(
            r.push(ev(5000, None)).is_ok(),
            "equal to the watermark is not late"
        );
        assert_eq!(r.pop_any().map(|e| e.ts), Some(5000));
    }

    #[test]
    fn stable_for_equal_timestamps() {
        let mut r = Reorder::new(0, 60_000);
        for id in ["a", "b", "c"] {
            r.push(ev(1000, Some(id))).expect("push");
        }
        let ids: Vec<_> = std::iter::from_fn(|| r.pop_any())
            .map(|e| e.id.unwrap_or_default())
            .collect();
        assert_eq!(ids, ["a", "b", "c"]);
    }

    #[test]
    fn drops_duplicate_ids_within_horizon() {
        let mut r = Reorder::new(0, 10_000);
        r.push(ev(1000, Some("x"))).expect("first");
        assert_eq!(r.push(ev(1000, Some("x"))), Err(Refused::Duplicate));
        r.push(ev(20_000, Some("y"))).expect("later");
        // "x" is now outside the horizon and forgotten.
        assert!(r.push(ev(20_000, Some("x"))).is_ok());
    }
}
