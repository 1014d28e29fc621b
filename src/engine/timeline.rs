//! Every span one entity is aggregated over: lifetime totals, open days and
//! intervals, closed interval rows (for reports) and optional rolling windows.

use super::agg::Aggregate;
use super::calendar::Calendar;
use super::rolling::Rolling;
use crate::model::Millis;
use std::collections::VecDeque;

/// An open span `[start, end)` and its aggregate.
#[derive(Debug)]
pub struct Span<A> {
    /// Start (inclusive).
    pub start: Millis,
    /// End (exclusive).
    pub end: Millis,
    /// The aggregate.
    pub agg: A,
}

/// The aggregates of one queue, agent or team.
#[derive(Debug)]
pub struct Timeline<A: Aggregate> {
    /// Everything since the engine started (replay totals; Prometheus counters).
    pub totals: A,
    days: VecDeque<Span<A>>,
    intervals: VecDeque<Span<A>>,
    /// Closed intervals with activity, oldest first (kept only when reports need them).
    pub closed: Vec<(Millis, A::Row)>,
    keep_closed: bool,
    /// Rolling windows, when enabled for this kind of entity.
    pub rolling: Option<Rolling<A>>,
}

impl<A: Aggregate> Timeline<A> {
    /// An empty timeline.
    pub fn new(keep_closed: bool, rolling: Option<Rolling<A>>) -> Self {
        Timeline {
            totals: A::default(),
            days: VecDeque::new(),
            intervals: VecDeque::new(),
            closed: Vec::new(),
            keep_closed,
            rolling,
        }
    }

    /// Counts `o` at instant `t` in every span containing `t`.
    pub fn record(&mut self, cal: &Calendar, t: Millis, o: A::Obs) {
        self.totals.apply_counts(&o);
        let day = span_for(&mut self.days, t, || cal.day(t));
        day.agg.apply_counts(&o);
        let (ds, de) = (day.start, day.end);
        span_for(&mut self.intervals, t, || cal.interval(t, (ds, de)))
            .agg
            .apply(&o);
        if let Some(r) = self.rolling.as_mut() {
            r.record(t, o);
        }
    }

    /// Closes days and intervals that end at or before `cutoff`.
    pub fn close_before(&mut self, cutoff: Millis) {
        while self.intervals.front().is_some_and(|s| s.end <= cutoff) {
            if let Some(mut s) = self.intervals.pop_front() {
                self.totals.absorb_histograms(&s.agg);
                if let Some(day) = self.days.iter_mut().find(|d| d.start <= s.start && s.start < d.end) {
                    day.agg.absorb_histograms(&s.agg);
                }
                if self.keep_closed && s.agg.has_activity() {
                    self.closed.push((s.start, s.agg.to_row()));
                }
            }
        }
        while self.days.front().is_some_and(|s| s.end <= cutoff) {
            self.days.pop_front();
        }
        if let Some(r) = self.rolling.as_mut() {
            r.advance(cutoff);
        }
    }

    /// The day containing `t` with the histograms of its still-open intervals merged in
    /// (a copy: readers see complete percentiles without closing anything).
    pub fn day_view(&self, t: Millis) -> Option<A>
    where
        A: Clone,
    {
        let day = self.days.iter().find(|s| s.start <= t && t < s.end)?;
        let mut view = day.agg.clone();
        for iv in self.intervals.iter().filter(|i| day.start <= i.start && i.start < day.end) {
            view.absorb_histograms(&iv.agg);
        }
        Some(view)
    }

    /// The open span of the day containing `t`, if anything was counted in it.
    pub fn day_at(&mut self, t: Millis) -> Option<&mut Span<A>> {
        self.days.iter_mut().find(|s| s.start <= t && t < s.end)
    }

    /// The open interval containing `t`, if anything was counted in it.
    pub fn interval_at(&mut self, t: Millis) -> Option<&mut Span<A>> {
        self.intervals
            .iter_mut()
            .find(|s| s.start <= t && t < s.end)
    }
}

fn span_for<A: Aggregate>(
    spans: &mut VecDeque<Span<A>>,
    t: Millis,
    bounds: impl FnOnce() -> (Millis, Millis),
) -> &mut Span<A> {
    // Spans are few (one or two open) and `t` is almost always in the newest.
    let pos = spans.iter().rposition(|s| s.start <= t && t < s.end);
    let idx = match pos {
        Some(i) => i,
        None => {
            let (start, end) = bounds();
            let at = spans.partition_point(|s| s.start < start);
            spans.insert(
                at,
                Span {
                    start,
                    end,
                    agg: A::default(),
                },
            );
            at
        }
    };
    &mut spans[idx]
}
