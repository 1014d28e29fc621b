//! Every span one entity is aggregated over: lifetime totals, open days and
//! intervals, closed interval rows (for reports) and optional rolling windows.

use super::agg::Aggregate;
use super::calendar::Calendar;
use super::rolling::Rolling;
use crate::model::Millis;
use std::collections::VecDeque;

/// An open span `[start, end)` and its aggregate.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(bound(
    serialize = "A: serde::Serialize",
    deserialize = "A: serde::de::DeserializeOwned"
))]
#[repr(C)]
pub struct Span<A> {
    /// Start (inclusive).
    pub start: Millis,
    /// End (exclusive).
    pub end: Millis,
    /// The aggregate.
    pub agg: A,
}

/// The aggregates of one queue, agent or team. `repr(C)`: the open interval (touched by
/// every observation) and the flags come first, next to each other.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
#[repr(C)]
pub struct Timeline<A: Aggregate> {
    intervals: Spans<A>,
    keep_closed: bool,
    /// Open days are kept and the totals count as observations come (see [`Timeline::new`]);
    /// when off (replay), there are no days and the totals lag to the last closed interval.
    keep_days: bool,
    /// The local day of the newest interval (interval bounds without open days).
    #[serde(skip)]
    day_bounds: (Millis, Millis),
    /// Everything since the engine started (replay totals; Prometheus counters).
    pub totals: A,
    days: Spans<A>,
    /// Closed intervals with activity, oldest first (kept only when reports need them).
    pub closed: Vec<(Millis, A::Row)>,
    /// Rolling windows, when enabled for this kind of entity.
    pub rolling: Option<Rolling<A>>,
    /// Live reports: the local day of the newest closed interval, summing its day's closed
    /// intervals as replay's totals sum a replay's (same counters, same histograms).
    #[serde(default)]
    report_day: Option<Span<A>>,
    /// Live reports: the earlier days' sums as rows, oldest first.
    #[serde(default = "Vec::new")]
    closed_days: Vec<(Millis, A::Row)>,
    /// Live reports: the earlier days' values beside their rows (a queue's histogram
    /// buckets), for weekly percentiles; oldest first.
    #[serde(default = "Vec::new")]
    closed_day_values: Vec<(Millis, A::DayValues)>,
    /// Live reports: local days of rows kept (the day being closed included); 0 keeps all.
    /// Day sums are kept for at least [`WEEK_REPORT_DAYS`] (see [`day_sums_kept`]).
    #[serde(default)]
    retain_days: u32,
    /// With `keep_days`, while a backlog is read: an observation touches only its open
    /// interval, and the day and totals take each interval when it closes (as replay's
    /// totals do) until [`Timeline::undefer_days`]. Saved: a checkpoint taken meanwhile
    /// holds days without their open intervals.
    #[serde(default)]
    days_deferred: bool,
    /// Deferring was asked while intervals were open (their values already counted in
    /// the day): it starts once they have closed, so no interval is folded in twice.
    #[serde(default)]
    defer_wanted: bool,
}

impl<A: Aggregate> Timeline<A> {
    /// An empty timeline. With `keep_days`, the totals and open days count every
    /// observation as it comes, days recording their histogram values too (what
    /// snapshots and `/metrics` read); without (replay: nothing reads them before the
    /// end) there are no days, and the totals take each interval's counters and values
    /// when it closes, one batch per interval instead of two more aggregates touched
    /// per observation.
    pub fn new(keep_closed: bool, keep_days: bool, rolling: Option<Rolling<A>>) -> Self {
        Timeline {
            totals: A::default(),
            days: Spans::default(),
            intervals: Spans::default(),
            closed: Vec::new(),
            keep_closed,
            keep_days,
            day_bounds: (0, 0),
            rolling,
            report_day: None,
            closed_days: Vec::new(),
            closed_day_values: Vec::new(),
            retain_days: 0,
            days_deferred: false,
            defer_wanted: false,
        }
    }

    /// While a backlog is read (live timelines only): observations touch only their
    /// open interval; days and totals take each interval when it closes (readers add
    /// the open ones: [`Timeline::with_today`], [`Timeline::totals_now`]) until
    /// [`Timeline::undefer_days`]. An interval open now has been counted in its day
    /// already: deferring starts once the open intervals have closed.
    pub fn defer_days(&mut self) {
        if !self.keep_days || self.days_deferred {
            return;
        }
        self.defer_wanted = true;
        self.start_deferring();
    }

    /// Defers once no interval is open (see [`Timeline::defer_days`]).
    fn start_deferring(&mut self) {
        if self.defer_wanted && self.intervals.is_empty() {
            self.defer_wanted = false;
            self.days_deferred = true;
        }
    }

    /// Folds the open intervals into their days and the totals, and counts each
    /// observation in them again as it comes.
    pub fn undefer_days(&mut self) {
        self.defer_wanted = false;
        if !std::mem::take(&mut self.days_deferred) {
            return;
        }
        for s in self.intervals.iter() {
            Self::fold_into_day(&mut self.days, &mut self.totals, s);
        }
    }

    /// Deferred days: adds a (closed or still open) interval to its day and its counters
    /// to the totals (the totals take the day's histograms when the day closes).
    fn fold_into_day(days: &mut Spans<A>, totals: &mut A, s: &Span<A>) {
        if let Some(day) = days.find_mut(s.start) {
            day.agg.merge_bucket(&s.agg);
        }
        totals.add_counts(&s.agg);
    }

    /// Rolling windows (if any): values before `floor` skip the buckets, and the windows
    /// are summed when read until [`Timeline::resume_windows`] (see [`Rolling::defer`]).
    pub fn defer_windows(&mut self, floor: Millis) {
        if let Some(r) = self.rolling.as_mut() {
            r.skip_before(floor);
            r.defer();
        }
    }

    /// Rolling windows (if any) slide bucket by bucket again.
    pub fn resume_windows(&mut self) {
        if let Some(r) = self.rolling.as_mut() {
            r.resume();
        }
    }

    /// Whether closed interval rows are kept, and for how many local days (0: all). A
    /// restored timeline takes the running daemon's setting, not the saved one.
    pub fn keep_rows(&mut self, keep_closed: bool, retain_days: u32) {
        self.keep_closed = keep_closed;
        self.retain_days = retain_days;
        if !keep_closed {
            self.closed = Vec::new();
            self.report_day = None;
            self.closed_days = Vec::new();
            self.closed_day_values = Vec::new();
        }
    }

    /// Counts `o` at instant `t` in every span containing `t`.
    pub fn record(&mut self, cal: &Calendar, t: Millis, o: A::Obs) {
        self.record_spans(cal, t, o);
        if let Some(r) = self.rolling.as_mut() {
            r.record(t, o);
        }
    }

    /// [`Timeline::record`] without the rolling windows (the caller splits `o` at their
    /// bucket boundaries itself).
    pub fn record_spans(&mut self, cal: &Calendar, t: Millis, o: A::Obs) {
        let interval = if self.days_deferred {
            // The day exists (it takes the interval when that closes) but is not touched.
            let day = self.days.get_or_create(t, || cal.day(t));
            let (ds, de) = (day.start, day.end);
            self.intervals
                .get_or_create(t, || cal.interval(t, (ds, de)))
        } else if self.keep_days {
            self.totals.apply_counts(&o);
            // The day records its histogram values at once: readers take today's
            // percentiles from it without merging the open interval's values every tick.
            let day = self.days.get_or_create(t, || cal.day(t));
            day.agg.apply(&o);
            let (ds, de) = (day.start, day.end);
            self.intervals
                .get_or_create(t, || cal.interval(t, (ds, de)))
        } else {
            // Replay: only the open interval; the totals take it when it closes.
            let day_bounds = &mut self.day_bounds;
            self.intervals.get_or_create(t, || {
                if !(day_bounds.0 <= t && t < day_bounds.1) {
                    *day_bounds = cal.day(t);
                }
                cal.interval(t, *day_bounds)
            })
        };
        interval.agg.apply_sampled(&o);
    }

    /// Closes days and intervals that end at or before `cutoff`.
    pub fn close_before(&mut self, cutoff: Millis) {
        while let Some(mut s) = self.intervals.pop_ended(cutoff) {
            s.agg.sort_samples();
            if !self.keep_days {
                // Counters and values, as a window takes a rolling bucket (an interval
                // is built the same way, with `apply_sampled`).
                self.totals.merge_bucket(&s.agg);
            } else if self.days_deferred {
                Self::fold_into_day(&mut self.days, &mut self.totals, &s);
            }
            if self.keep_closed && s.agg.has_activity() {
                self.closed.push((s.start, s.agg.to_row()));
                if self.keep_days {
                    self.add_to_report_day(&s);
                }
            }
        }
        while let Some(day) = self.days.pop_ended(cutoff) {
            self.totals.absorb_histograms(&day.agg);
        }
        self.start_deferring();
        if let Some(r) = self.rolling.as_mut() {
            r.advance(cutoff);
        }
    }

    /// Live reports: adds a closed interval (with activity) to the sum of its local day;
    /// the previous day's sum becomes a row, and rows older than the kept days go.
    fn add_to_report_day(&mut self, s: &Span<A>) {
        let Some(day) = self.days.find_mut(s.start).map(|d| (d.start, d.end)) else {
            return;
        };
        if self.report_day.as_ref().is_none_or(|d| d.start != day.0) {
            if let Some(mut done) = self.report_day.take() {
                self.closed_days.push((done.start, done.agg.to_row()));
                self.closed_day_values
                    .push((done.start, done.agg.day_values()));
            }
            self.report_day = Some(Span {
                start: day.0,
                end: day.1,
                agg: A::default(),
            });
            self.prune_days(day.0);
        }
        if let Some(d) = self.report_day.as_mut() {
            d.agg.merge_bucket(&s.agg);
        }
    }

    /// Keeps `retain_days` local days of interval rows and [`day_sums_kept`] days of
    /// day sums: the day starting at `current` and the days before it back to
    /// [`kept_from`].
    pub fn prune_days(&mut self, current: Millis) {
        let Some(from) = kept_from(current, self.retain_days) else {
            return;
        };
        let rows = self.closed.partition_point(|(start, _)| *start < from);
        self.closed.drain(..rows);
        let Some(from) = kept_from(current, day_sums_kept(self.retain_days)) else {
            return;
        };
        if self.report_day.as_ref().is_some_and(|d| d.start < from) {
            self.report_day = None;
        }
        let days = self.closed_days.partition_point(|d| d.0 < from);
        self.closed_days.drain(..days);
        let values = self.closed_day_values.partition_point(|d| d.0 < from);
        self.closed_day_values.drain(..values);
    }

    /// Live reports: the kept local days starting in `[from, to)` as rows (each day's
    /// closed intervals summed), oldest first, and their sum (counters added, histogram
    /// buckets merged: a week's percentiles as a replay of the week gives them).
    pub fn days_between(&mut self, from: Millis, to: Millis) -> Option<DaysAndSum<A>> {
        let within = |start: Millis| from <= start && start < to;
        let mut rows = Vec::new();
        let mut sum = A::default();
        for (start, row) in self.closed_days.iter().filter(|d| within(d.0)) {
            let values = self
                .closed_day_values
                .iter()
                .find(|v| v.0 == *start)
                .map(|v| &v.1);
            sum.add_day(row, values.unwrap_or(&A::DayValues::default()));
            rows.push((*start, row.clone()));
        }
        if let Some(d) = self.report_day.as_mut().filter(|d| within(d.start)) {
            sum.add_counts(&d.agg);
            sum.absorb_histograms(&d.agg);
            rows.push((d.start, d.agg.to_row()));
        }
        (!rows.is_empty()).then(|| (rows, sum.to_row()))
    }

    /// Live reports: the sum of the closed intervals of the local day starting at
    /// `day_start`, if it is still kept and had any activity.
    pub fn day_row(&mut self, day_start: Millis) -> Option<A::Row> {
        match self.report_day.as_mut() {
            Some(d) if d.start == day_start => Some(d.agg.to_row()),
            _ => self
                .closed_days
                .iter()
                .find(|d| d.0 == day_start)
                .map(|d| d.1.clone()),
        }
    }

    /// The closed interval rows starting in `[from, to)`.
    pub fn rows_between(&self, from: Millis, to: Millis) -> &[(Millis, A::Row)] {
        let a = self.closed.partition_point(|(s, _)| *s < from);
        let b = self.closed.partition_point(|(s, _)| *s < to);
        &self.closed[a..b.max(a)]
    }

    /// The open span of the day containing `t`, if anything was counted in it. While
    /// days are deferred it lacks the open intervals: readers use [`Timeline::with_today`].
    pub fn day_at(&mut self, t: Millis) -> Option<&mut Span<A>> {
        self.days.find_mut(t)
    }

    /// Calls `f` with the aggregate of the day containing `t` as readers see it: the day
    /// itself, or while days are deferred a copy with its open intervals added.
    pub fn with_today<R>(&mut self, t: Millis, f: impl FnOnce(Option<&mut A>) -> R) -> R {
        let deferred = self.days_deferred;
        let Some(day) = self.days.find_mut(t) else {
            return f(None);
        };
        if !deferred {
            return f(Some(&mut day.agg));
        }
        let (ds, de) = (day.start, day.end);
        let mut view = day.agg.clone();
        for s in self
            .intervals
            .iter()
            .filter(|s| ds <= s.start && s.start < de)
        {
            view.merge_bucket(&s.agg);
        }
        f(Some(&mut view))
    }

    /// The lifetime totals' counters as readers see them (while days are deferred, with
    /// the open intervals' counters added).
    pub fn totals_now(&self) -> std::borrow::Cow<'_, A> {
        if !self.days_deferred {
            return std::borrow::Cow::Borrowed(&self.totals);
        }
        let mut view = self.totals.clone();
        for s in self.intervals.iter() {
            view.add_counts(&s.agg);
        }
        std::borrow::Cow::Owned(view)
    }

    /// The open interval containing `t`, if anything was counted in it.
    pub fn interval_at(&mut self, t: Millis) -> Option<&mut Span<A>> {
        self.intervals.find_mut(t)
    }
}

/// Rows of several days (start, row), oldest first, and their sum as a row.
pub type DaysAndSum<A> = (Vec<(Millis, <A as Aggregate>::Row)>, <A as Aggregate>::Row);

/// Local days of day sums kept at least (when any rows are kept): this week and the
/// whole of last week on any day, for `GET /api/v1/report?week=`.
pub const WEEK_REPORT_DAYS: u32 = 14;

/// Local days of day sums (and their histogram buckets) kept when interval rows are kept
/// for `report_days` days: at least [`WEEK_REPORT_DAYS`] (a day's sums are small); 0
/// (nothing kept, or replay's "all") stays 0.
pub fn day_sums_kept(report_days: u32) -> u32 {
    if report_days == 0 {
        0
    } else {
        report_days.max(WEEK_REPORT_DAYS)
    }
}

/// The earliest local-day start kept when the newest day starts at `current` and
/// `retain_days` days are kept (`None`: all). Local days last 23 to 25 hours, so an hour
/// of slack finds the right midnight without a calendar.
pub fn kept_from(current: Millis, retain_days: u32) -> Option<Millis> {
    const DAY: Millis = 86_400_000;
    const HOUR: Millis = 3_600_000;
    (retain_days > 0).then(|| current - Millis::from(retain_days - 1) * DAY - HOUR)
}

/// The open spans of one kind (days or intervals): almost always one, two around a
/// boundary while records within the grace can still reach the older one. The newest
/// is kept inline so the hot path touches no other allocation.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(bound(
    serialize = "A: serde::Serialize",
    deserialize = "A: serde::de::DeserializeOwned"
))]
#[repr(C)]
struct Spans<A> {
    cur: Option<Span<A>>,
    older: VecDeque<Span<A>>,
}

impl<A> Default for Spans<A> {
    fn default() -> Self {
        Spans {
            cur: None,
            older: VecDeque::new(),
        }
    }
}

impl<A: Default> Spans<A> {
    fn get_or_create(
        &mut self,
        t: Millis,
        bounds: impl FnOnce() -> (Millis, Millis),
    ) -> &mut Span<A> {
        let contains = |s: &Span<A>| s.start <= t && t < s.end;
        let in_older = || self.older.iter().position(contains);
        let loc = if self.cur.as_ref().is_some_and(contains) {
            None
        } else {
            Some(match in_older() {
                Some(i) => i,
                None => self.insert(bounds()),
            })
        };
        match loc {
            Some(i) if i < self.older.len() => &mut self.older[i],
            _ => self.cur.get_or_insert_with(|| Span {
                start: t,
                end: t + 1,
                agg: A::default(),
            }),
        }
    }

    /// Inserts a new span; returns its index in `older`, or `usize::MAX` when it is `cur`.
    fn insert(&mut self, (start, end): (Millis, Millis)) -> usize {
        let span = Span {
            start,
            end,
            agg: A::default(),
        };
        match self.cur.take() {
            Some(cur) if cur.start > start => {
                let at = self.older.partition_point(|s| s.start < start);
                self.older.insert(at, span);
                self.cur = Some(cur);
                at
            }
            prev => {
                if let Some(p) = prev {
                    self.older.push_back(p);
                }
                self.cur = Some(span);
                usize::MAX
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.cur.is_none() && self.older.is_empty()
    }

    /// The open spans, oldest first.
    fn iter(&self) -> impl Iterator<Item = &Span<A>> {
        self.older.iter().chain(self.cur.iter())
    }

    fn find_mut(&mut self, t: Millis) -> Option<&mut Span<A>> {
        self.older
            .iter_mut()
            .chain(self.cur.as_mut())
            .find(|s| s.start <= t && t < s.end)
    }

    /// Removes and returns the oldest span ending at or before `cutoff`.
    fn pop_ended(&mut self, cutoff: Millis) -> Option<Span<A>> {
        if self.older.front().is_some_and(|s| s.end <= cutoff) {
            return self.older.pop_front();
        }
        if self.older.is_empty() && self.cur.as_ref().is_some_and(|s| s.end <= cutoff) {
            return self.cur.take();
        }
        None
    }
}
