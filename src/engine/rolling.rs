//! Rolling windows: event-time buckets, slid by adding and subtracting whole buckets.
//!
//! A window of length `L` covers `[closed_until − L, closed_until)`, where
//! `closed_until` is the last bucket boundary the engine has finalised. A bucket is an
//! aggregate of its counters plus the raw wait/handle values its histograms need, so a
//! bucket leaving a window is subtracted exactly, and memory per bucket is its counters
//! and a few values, not every observation.

use super::agg::Aggregate;
use crate::model::Millis;
use std::collections::VecDeque;

/// The rolling windows of one entity (queue or team).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
pub struct Rolling<A: Aggregate> {
    granularity: Millis,
    lengths: Vec<Millis>,
    max_len: Millis,
    closed_until: Millis,
    /// Non-empty buckets by start, ascending (aggregated with `apply_sampled`).
    buckets: VecDeque<(Millis, A)>,
    /// Each window's sum of its buckets. Not checkpointed (it is half of a queue's
    /// saved state): [`Rolling::rebuild`] sums the buckets again on restore.
    #[serde(skip)]
    windows: Vec<A>,
    /// Values before this never enter a bucket (see [`Rolling::skip_before`]).
    #[serde(skip, default = "no_floor")]
    floor: Millis,
    /// While a backlog is read: the windows are not slid bucket by bucket but summed
    /// again from the buckets when read ([`Rolling::defer`]).
    #[serde(skip)]
    deferred: bool,
    /// The windows lag the buckets (deferred): summed again before they are read.
    #[serde(skip)]
    stale: bool,
}

fn no_floor() -> Millis {
    Millis::MIN
}

impl<A: Aggregate> Rolling<A> {
    /// Windows of `lengths` sliding by `granularity`, starting empty at `start`.
    pub fn new(granularity: Millis, lengths: &[Millis], start: Millis) -> Self {
        Rolling {
            granularity,
            lengths: lengths.to_vec(),
            max_len: lengths.iter().copied().max().unwrap_or(0),
            closed_until: start - start.rem_euclid(granularity),
            buckets: VecDeque::new(),
            windows: lengths.iter().map(|_| A::default()).collect(),
            floor: no_floor(),
            deferred: false,
            stale: false,
        }
    }

    /// Stops sliding the windows bucket by bucket (a backlog read at replay speed
    /// crosses a boundary every few thousand events, and most buckets it adds to a
    /// window leave it again before the backlog ends); they are summed again from the
    /// buckets when read and at [`Rolling::resume`].
    pub fn defer(&mut self) {
        self.deferred = true;
    }

    /// Slides the windows bucket by bucket again, from windows summed afresh.
    pub fn resume(&mut self) {
        if self.stale {
            self.rebuild();
        }
        self.deferred = false;
    }

    /// Drops values before `floor` from now on (a backlog older than any window the
    /// clock can still show; see `Engine::skip_rolling_before_clock`). Never lowers it.
    pub fn skip_before(&mut self, floor: Millis) {
        self.floor = self.floor.max(floor);
    }

    /// The earliest instant a value is still kept at: [`Rolling::record`] drops older ones.
    pub fn kept_from(&self) -> Millis {
        (self.closed_until - self.max_len).max(self.floor)
    }

    /// The end of every window (exclusive).
    pub fn closed_until(&self) -> Millis {
        self.closed_until
    }

    /// Window lengths, in the order of [`Rolling::windows_mut`].
    pub fn lengths(&self) -> &[Millis] {
        &self.lengths
    }

    /// The windows' aggregates (summed again first if deferred ones lag the buckets).
    pub fn windows_mut(&mut self) -> &mut [A] {
        if self.stale {
            self.rebuild();
        }
        &mut self.windows
    }

    /// Records `o` at instant `t` (may lie in an already closed bucket).
    pub fn record(&mut self, t: Millis, o: A::Obs) {
        if t < self.closed_until - self.max_len || t < self.floor {
            return; // older than every window (or than every window still to come)
        }
        let start = t - t.rem_euclid(self.granularity);
        // Events come mostly in time order: the newest bucket first, then a search.
        let idx = match self.buckets.back() {
            Some((s, _)) if *s < start => self.buckets.len(),
            Some((s, _)) if *s == start => self.buckets.len() - 1,
            _ => self.buckets.partition_point(|(s, _)| *s < start),
        };
        let closed = t < self.closed_until;
        match self.buckets.get_mut(idx) {
            Some((s, agg)) if *s == start => {
                agg.apply_sampled(&o);
                if closed {
                    agg.seal();
                }
            }
            _ => {
                let mut agg = A::default();
                agg.apply_sampled(&o);
                if closed {
                    agg.seal();
                }
                self.buckets.insert(idx, (start, agg));
            }
        }
        if t < self.closed_until && self.deferred {
            self.stale = true;
        } else if t < self.closed_until {
            for (w, len) in self.windows.iter_mut().zip(&self.lengths) {
                if t >= self.closed_until - len {
                    w.apply(&o);
                }
            }
        }
    }

    /// Recomputes every window from the buckets (after a restore): the same counters and
    /// histogram counts the windows held when they were saved.
    pub fn rebuild(&mut self) {
        let until = self.closed_until;
        self.windows = self
            .lengths
            .iter()
            .map(|&len| {
                let mut w = A::default();
                for (_, bucket) in self
                    .buckets
                    .iter()
                    .filter(|(s, _)| *s >= until - len && *s < until)
                {
                    w.merge_bucket(bucket);
                }
                w
            })
            .collect();
        self.stale = false;
    }

    /// Finalises every bucket that ends at or before `until` (rounded down to a boundary).
    pub fn advance(&mut self, until: Millis) {
        let new = until - until.rem_euclid(self.granularity);
        if new <= self.closed_until {
            return;
        }
        let old = self.closed_until;
        // Buckets before `old` are sealed already (a late value into one is sealed as it
        // is recorded): only those closing now.
        let (from, to) = (
            self.buckets.partition_point(|(s, _)| *s < old),
            self.buckets.partition_point(|(s, _)| *s < new),
        );
        for (_, bucket) in self.buckets.range_mut(from..to) {
            bucket.seal();
        }
        let at = |from: Millis| self.buckets.partition_point(|(s, _)| *s < from);
        self.stale |= self.deferred;
        let slide = if self.deferred {
            &mut [][..]
        } else {
            &mut self.windows[..]
        };
        // `to`: the first bucket at or after `new`, the end of every entering range.
        for (w, &len) in slide.iter_mut().zip(&self.lengths) {
            // Enter: buckets in [max(old, new − len), new). Leave: [old − len, min(old, new − len)).
            // The buckets are sorted: each range is found by search, not by a scan (a
            // backlog read at replay speed crosses many boundaries a second).
            let (enter_from, leave_to) = (old.max(new - len), old.min(new - len));
            for (_, bucket) in self.buckets.range(at(enter_from)..to) {
                w.merge_bucket(bucket);
            }
            let (leave_from, leave_end) = (at(old - len), at(leave_to));
            if leave_from < leave_end {
                for (_, bucket) in self.buckets.range(leave_from..leave_end) {
                    w.unmerge_bucket(bucket);
                }
            }
        }
        self.closed_until = new;
        let horizon = new - self.max_len;
        while self.buckets.front().is_some_and(|(s, _)| *s < horizon) {
            self.buckets.pop_front();
        }
    }
}
