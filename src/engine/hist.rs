//! Wait and handle-time histograms (HdrHistogram, 2 significant figures, milliseconds).
//!
//! Rolling windows need to *remove* values that slide out. HdrHistogram only adds
//! and subtracts whole histograms, so a [`SlidingHist`] records removals into a
//! second histogram and subtracts it when the window is read: O(1) per value,
//! O(buckets) per read, never a rebuild from raw values.

use hdrhistogram::Histogram;

const SIGFIG: u8 = 2;

/// A bucket's count: 32 bits (saturating at 4.29 billion values in one bucket, far
/// beyond a day or a replay of a center). Half the bytes of `u64` counts: a snapshot
/// scans 2,400 histograms for percentiles each tick, and replay records into them in a
/// random order, both bound by memory rather than arithmetic.
type Count = u32;

fn new_hist() -> Histogram<Count> {
    // Auto-resizing from [1, 2]: memory grows only with the largest value recorded.
    // `Histogram::new` fails only for more than 5 significant figures: a constant here.
    #[allow(clippy::expect_used)]
    Histogram::new(SIGFIG).expect("2 significant figures is a valid HdrHistogram precision")
}

/// A histogram of millisecond values, allocated on the first value: most spans
/// (intervals, rolling buckets, quiet queues) never record one.
#[derive(Debug, Clone, Default)]
pub struct Hist(Option<Box<Histogram<Count>>>);

/// Checkpoints store a histogram as its recorded `(value, count)` pairs: compact for
/// the sparse histograms of a contact center, and no extra codec dependency.
impl serde::Serialize for Hist {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(None)?;
        // Counts as u64: the checkpoint's form from before counts were 32-bit.
        for pair in self.pairs() {
            seq.serialize_element(&pair)?;
        }
        seq.end()
    }
}

impl<'de> serde::Deserialize<'de> for Hist {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let pairs: Vec<(u64, u64)> = serde::Deserialize::deserialize(d)?;
        let mut h = Hist::default();
        for (value, n) in pairs {
            h.record_n(value, n);
        }
        Ok(h)
    }
}

/// A histogram's recorded buckets, ascending, as compact text written once (when a
/// day closes): `delta` or `delta*count` per bucket, comma-separated, each value the
/// bucket's highest (recording it again fills the same bucket). Every checkpoint then
/// copies the text instead of formatting a thousand numbers per queue and day again,
/// and memory holds ~5 bytes a bucket instead of 16.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Buckets(String);

/// Why a checkpoint's bucket text cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("histogram buckets: {0:?} is not `delta[*count]`")]
pub struct BadBuckets(String);

impl Buckets {
    /// True when no value was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The text's `(value, count)` pairs (text that does not parse was refused when read).
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let mut value = 0u64;
        self.0.split(',').filter_map(move |item| {
            let (delta, n) = parse_item(item)?;
            value = value.checked_add(delta)?;
            Some((value, n))
        })
    }

    /// Buckets from ascending `(value, count)` pairs.
    fn from_pairs(pairs: impl Iterator<Item = (u64, u64)>) -> Self {
        use std::fmt::Write;
        let mut text = String::new();
        let mut last = 0u64;
        for (value, n) in pairs {
            let sep = if text.is_empty() { "" } else { "," };
            let delta = value.saturating_sub(last);
            // Writing into a String cannot fail.
            let _ = match n {
                1 => write!(text, "{sep}{delta}"),
                _ => write!(text, "{sep}{delta}*{n}"),
            };
            last = value;
        }
        Buckets(text)
    }
}

/// One `delta[*count]` item.
fn parse_item(item: &str) -> Option<(u64, u64)> {
    match item.split_once('*') {
        Some((d, n)) => Some((d.parse().ok()?, n.parse().ok()?)),
        None => Some((item.parse().ok()?, 1)),
    }
}

impl TryFrom<String> for Buckets {
    type Error = BadBuckets;
    fn try_from(text: String) -> Result<Self, BadBuckets> {
        let mut value = 0u64;
        let valid = text.is_empty()
            || text.split(',').all(|item| {
                parse_item(item)
                    .and_then(|(delta, _)| value.checked_add(delta))
                    .map(|v| value = v)
                    .is_some()
            });
        if valid {
            Ok(Buckets(text))
        } else {
            Err(BadBuckets(text.chars().take(40).collect()))
        }
    }
}

impl serde::Serialize for Buckets {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Buckets {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Buckets::try_from(text).map_err(serde::de::Error::custom)
    }
}

impl Hist {
    /// The recorded buckets (see [`Buckets`]).
    pub fn buckets(&self) -> Buckets {
        Buckets::from_pairs(self.pairs())
    }

    /// Each recorded bucket as `(its highest value, count)`, ascending: recording the
    /// value again fills the same bucket.
    fn pairs(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.0.iter().flat_map(|h| {
            h.iter_recorded()
                .map(|v| (v.value_iterated_to(), u64::from(v.count_at_value())))
        })
    }

    fn get(&mut self) -> &mut Histogram<Count> {
        self.0.get_or_insert_with(|| Box::new(new_hist()))
    }

    /// Records one value (ms).
    pub fn record(&mut self, ms: u64) {
        self.record_n(ms, 1);
    }

    /// Records `n` equal values (ms).
    pub fn record_n(&mut self, ms: u64, n: u64) {
        let n = Count::try_from(n).unwrap_or(Count::MAX);
        let h = self.get();
        // Auto-resizing: `record_n` grows the range; it only fails past u64 limits.
        if h.record_n(ms, n).is_err() {
            h.saturating_record_n(ms, n);
        }
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Hist) {
        // Intervals hold few distinct values: walking only the recorded ones is much
        // cheaper than `Histogram::add`, which visits every bucket.
        for (value, n) in other.pairs() {
            self.record_n(value, n);
        }
    }

    /// Number of values.
    pub fn len(&self) -> u64 {
        self.0.as_ref().map_or(0, |h| h.len())
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `q` quantile (0..=1) in seconds, `None` when empty. The bucket's middle value
    /// is returned, so the error is within half a bucket (< 1 % at 2 significant figures).
    pub fn quantile_secs(&self, q: f64) -> Option<f64> {
        let h = self.0.as_deref().filter(|h| !h.is_empty())?;
        let v = h.value_at_quantile(q);
        let v = if v == 0 { 0 } else { h.median_equivalent(v) };
        Some(v as f64 / 1000.0)
    }

    /// Several quantiles (ascending `qs`) in one pass over the counts, in
    /// seconds, each the middle of its bucket; `None`s when empty.
    pub fn quantiles_secs<const N: usize>(&self, qs: [f64; N]) -> [Option<f64>; N] {
        let mut out = [None; N];
        let Some(h) = self.0.as_deref().filter(|h| !h.is_empty()) else {
            return out;
        };
        // `value_at_quantiles`: one tight pass over the counts, each the highest value of
        // the bucket where the cumulative count first reaches ceil(q * total) (at least 1);
        // reported as the bucket's middle. (The generic recorded-values iterator cost
        // half of a 200-queue snapshot build.)
        for (o, x) in out.iter_mut().zip(h.value_at_quantiles(qs)) {
            let mid = if x == 0 { 0 } else { h.median_equivalent(x) };
            *o = Some(mid as f64 / 1000.0);
        }
        out
    }

    fn subtract(&mut self, other: &Hist) {
        if let (Some(h), Some(o)) = (self.0.as_deref_mut(), other.0.as_deref()) {
            // `other` only holds values that were recorded here, so this cannot underflow.
            let _ = h.subtract(o);
        }
    }
}

/// A histogram that values can also leave (rolling windows).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct SlidingHist {
    added: Hist,
    removed: Hist,
}

impl SlidingHist {
    /// Records a value entering the window.
    pub fn record(&mut self, ms: u64) {
        self.added.record(ms);
    }

    /// Records a value leaving the window (it must have been recorded before).
    pub fn remove(&mut self, ms: u64) {
        self.removed.record(ms);
    }

    /// Records `n` values entering the window.
    pub fn record_n(&mut self, ms: u64, n: u64) {
        self.added.record_n(ms, n);
    }

    /// Records `n` values leaving the window.
    pub fn remove_n(&mut self, ms: u64, n: u64) {
        self.removed.record_n(ms, n);
    }

    /// Applies pending removals and returns the window's histogram.
    pub fn current(&mut self) -> &Hist {
        if !self.removed.is_empty() {
            self.added.subtract(&self.removed);
            self.removed = Hist::default();
        }
        &self.added
    }

    /// Adds every value of `other` (a closed span inside this one).
    pub fn merge(&mut self, other: &Hist) {
        self.added.merge(other);
    }

    /// The histogram, assuming no pending removals (non-rolling aggregates).
    pub fn added(&self) -> &Hist {
        &self.added
    }

    /// True when nothing was added and nothing is pending removal (checkpoints then
    /// leave it out: most spans of a quiet queue record no value).
    pub fn is_clear(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refill_the_same_buckets_and_survive_a_checkpoint() {
        let mut h = Hist::default();
        let mut x = 7u64;
        for i in 0..5_000u64 {
            // A skewed spread from 0 ms to ~30 minutes, with repeats.
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            h.record((x >> 33) % (1 + i * 400));
        }
        let b = h.buckets();
        let mut again = Hist::default();
        b.iter().for_each(|(v, n)| again.record_n(v, n));
        assert_eq!(again.len(), h.len());
        assert_eq!(again.buckets(), b, "the same buckets and counts");
        let qs = [0.0, 0.5, 0.9, 0.99, 1.0];
        assert_eq!(again.quantiles_secs(qs), h.quantiles_secs(qs));
        let json = serde_json::to_string(&b).unwrap_or_default();
        assert!(
            json.starts_with('"') && json.len() < 8 * b.iter().count(),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Buckets>(&json).ok(), Some(b));
        assert!(Hist::default().buckets().is_empty());
        assert_eq!(
            serde_json::from_str::<Buckets>("\"\"").ok(),
            Some(Buckets::default())
        );
        for bad in ["1,x", "1*", "*2", "1,,2", "18446744073709551615,1", "-1"] {
            assert!(
                serde_json::from_str::<Buckets>(&format!("{bad:?}")).is_err(),
                "{bad} refused"
            );
        }
    }

    #[test]
    fn quantiles_within_one_percent() {
        let mut h = Hist::default();
        for v in 1..=10_000u64 {
            h.record(v * 37);
        }
        let p90 = h.quantile_secs(0.9).unwrap_or_default();
        assert_eq!(
            h.quantiles_secs([0.5, 0.9, 0.99]),
            [0.5, 0.9, 0.99].map(|q| h.quantile_secs(q))
        );
        let exact = 9_000.0 * 37.0 / 1000.0;
        assert!((p90 - exact).abs() / exact < 0.01, "{p90} vs {exact}");
        assert_eq!(Hist::default().quantile_secs(0.5), None);
    }

    /// The one-pass quantiles equal one `value_at_quantile` per quantile, on skewed
    /// values with zeros, ties and a long tail, at every size from 1 to 300.
    #[test]
    fn one_pass_quantiles_equal_single_ones() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(5);
        let qs = [0.0, 0.01, 0.5, 0.9, 0.99, 1.0];
        let mut h = Hist::default();
        for _ in 0..300 {
            let v: u64 = match rng.random_range(0..10) {
                0 => 0,
                1 => 20_000,
                2..=7 => rng.random_range(0..60_000),
                _ => rng.random_range(0..5_000_000),
            };
            h.record(v);
            assert_eq!(h.quantiles_secs(qs), qs.map(|q| h.quantile_secs(q)));
        }
    }

    #[test]
    fn sliding_removes_exactly() {
        let mut s = SlidingHist::default();
        for v in [1000, 2000, 3000, 40_000] {
            s.record(v);
        }
        s.remove(40_000);
        s.remove(1000);
        let h = s.current();
        assert_eq!(h.len(), 2);
        assert_eq!(h.quantile_secs(1.0), Some(3.0));
        s.record(5000);
        assert_eq!(s.current().len(), 3);
    }
}
