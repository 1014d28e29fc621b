//! Wait and handle-time histograms (HdrHistogram, 2 significant figures, milliseconds).
//!
//! Rolling windows need to *remove* values that slide out. HdrHistogram only adds
//! and subtracts whole histograms, so a [`SlidingHist`] records removals into a
//! second histogram and subtracts it when the window is read: O(1) per value,
//! O(buckets) per read, never a rebuild from raw values.

use hdrhistogram::Histogram;

const SIGFIG: u8 = 2;

fn new_hist() -> Histogram<u64> {
    // Auto-resizing from [1, 2]: memory grows only with the largest value recorded.
    // `Histogram::new` fails only for more than 5 significant figures: a constant here.
    #[allow(clippy::expect_used)]
    Histogram::new(SIGFIG).expect("2 significant figures is a valid HdrHistogram precision")
}

/// A histogram of millisecond values.
#[derive(Debug, Clone)]
pub struct Hist(Histogram<u64>);

/// Checkpoints store a histogram as its recorded `(value, count)` pairs: compact for
/// the sparse histograms of a contact center, and no extra codec dependency.
impl serde::Serialize for Hist {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(None)?;
        for v in self.0.iter_recorded() {
            seq.serialize_element(&(v.value_iterated_to(), v.count_at_value()))?;
        }
        seq.end()
    }
}

impl<'de> serde::Deserialize<'de> for Hist {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let pairs: Vec<(u64, u64)> = serde::Deserialize::deserialize(d)?;
        let mut h = Hist::default();
        for (value, n) in pairs {
            if h.0.record_n(value, n).is_err() {
                h.0.saturating_record_n(value, n);
            }
        }
        Ok(h)
    }
}

impl Default for Hist {
    fn default() -> Self {
        Hist(new_hist())
    }
}

impl Hist {
    /// Records one value (ms).
    pub fn record(&mut self, ms: u64) {
        // Auto-resizing: `record` grows the range; it only fails past u64 limits.
        if self.0.record(ms).is_err() {
            self.0.saturating_record(ms);
        }
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Hist) {
        // Intervals hold few distinct values: walking only the recorded ones is much
        // cheaper than `Histogram::add`, which visits every bucket.
        if other.0.is_empty() {
            return;
        }
        for v in other.0.iter_recorded() {
            let value = v.value_iterated_to();
            let n = v.count_at_value();
            if self.0.record_n(value, n).is_err() {
                self.0.saturating_record_n(value, n);
            }
        }
    }

    /// Number of values.
    pub fn len(&self) -> u64 {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `q` quantile (0..=1) in seconds, `None` when empty. The bucket's middle value
    /// is returned, so the error is within half a bucket (< 1 % at 2 significant figures).
    pub fn quantile_secs(&self, q: f64) -> Option<f64> {
        if self.0.is_empty() {
            return None;
        }
        let v = self.0.value_at_quantile(q);
        let v = if v == 0 {
            0
        } else {
            self.0.median_equivalent(v)
        };
        Some(v as f64 / 1000.0)
    }

    /// Several quantiles (ascending `qs`) in one pass over the recorded values, in
    /// seconds, each the middle of its bucket; `None`s when empty.
    pub fn quantiles_secs<const N: usize>(&self, qs: [f64; N]) -> [Option<f64>; N] {
        let mut out = [None; N];
        let total = self.0.len();
        if total == 0 {
            return out;
        }
        // The same rank rule as `value_at_quantile`: the smallest value whose cumulative
        // count reaches ceil(q * total) (at least 1).
        let ranks = qs.map(|q| ((q * total as f64).ceil() as u64).clamp(1, total));
        let mut seen = 0u64;
        let mut k = 0;
        for v in self.0.iter_recorded() {
            seen += v.count_at_value();
            while k < N && seen >= ranks[k] {
                let x = v.value_iterated_to();
                let mid = if x == 0 {
                    0
                } else {
                    self.0.median_equivalent(x)
                };
                out[k] = Some(mid as f64 / 1000.0);
                k += 1;
            }
            if k == N {
                break;
            }
        }
        out
    }

    fn subtract(&mut self, other: &Hist) {
        // `other` only holds values that were recorded here, so this cannot underflow.
        let _ = self.0.subtract(&other.0);
    }
}

/// A histogram that values can also leave (rolling windows).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct SlidingHist {
    added: Hist,
    removed: Option<Box<Hist>>,
}

impl SlidingHist {
    /// Records a value entering the window.
    pub fn record(&mut self, ms: u64) {
        self.added.record(ms);
    }

    /// Records a value leaving the window (it must have been recorded before).
    pub fn remove(&mut self, ms: u64) {
        self.removed.get_or_insert_with(Box::default).record(ms);
    }

    /// Applies pending removals and returns the window's histogram.
    pub fn current(&mut self) -> &Hist {
        if let Some(removed) = self.removed.as_mut() {
            if !removed.is_empty() {
                self.added.subtract(removed);
                **removed = Hist::default();
            }
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
