//! The wait or handle-time values of one span (an interval or a rolling bucket), in
//! bounded memory. Up to [`RAW_CAP`] values are kept raw, so an ordinary interval's
//! percentiles are exact; past that the span keeps `(value, count)` per histogram bucket
//! (values rounded to the bucket's lowest equivalent at the histograms' 2 significant
//! figures), so a busy span costs at most one entry per bucket it touches, not one per
//! contact. Rolling windows see no difference: a rounded value falls into the same
//! histogram bucket as the value it stands for.

use hdrhistogram::Histogram;
use std::sync::OnceLock;

/// Raw values kept per span before it switches to per-bucket counts (32 KiB).
pub const RAW_CAP: usize = 4096;

/// The bucket layout of the engine's histograms (2 significant figures): pure
/// arithmetic, no counts are ever recorded in it.
fn layout() -> &'static Histogram<u64> {
    static LAYOUT: OnceLock<Histogram<u64>> = OnceLock::new();
    LAYOUT.get_or_init(|| {
        // `Histogram::new` fails only for more than 5 significant figures.
        #[allow(clippy::expect_used)]
        Histogram::new(2).expect("2 significant figures is a valid precision")
    })
}

/// Values of one kind in one span.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ValueBag {
    /// The values while there are at most [`RAW_CAP`] (then empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    raw: Vec<u64>,
    /// `(lowest equivalent value, count)`, ascending, once past the cap.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    binned: Vec<(u64, u64)>,
}

impl ValueBag {
    /// Adds a value (ms).
    pub fn push(&mut self, v: u64) {
        if self.binned.is_empty() {
            self.raw.push(v);
            if self.raw.len() > RAW_CAP {
                let raw = std::mem::take(&mut self.raw);
                for x in raw {
                    self.add_binned(x, 1);
                }
            }
        } else {
            self.add_binned(v, 1);
        }
    }

    /// Groups the raw values per histogram bucket (as past the cap): for spans whose
    /// values only feed histograms (rolling buckets), where exactness buys nothing.
    pub fn bin(&mut self) {
        if self.raw.is_empty() {
            return;
        }
        let mut keys = std::mem::take(&mut self.raw);
        let l = layout();
        keys.iter_mut().for_each(|v| *v = l.lowest_equivalent(*v));
        keys.sort_unstable();
        for run in keys.chunk_by(|a, b| a == b) {
            if let Some(&k) = run.first() {
                self.add_binned(k, run.len() as u64);
            }
        }
    }

    fn add_binned(&mut self, v: u64, n: u64) {
        let key = layout().lowest_equivalent(v);
        match self.binned.binary_search_by_key(&key, |e| e.0) {
            Ok(i) => self.binned[i].1 += n,
            Err(i) => self.binned.insert(i, (key, n)),
        }
    }

    /// Sorts the raw values in place: histograms then take them in ascending order
    /// (neighbouring counters rather than arrival order's scattered ones) and
    /// [`ValueBag::quantiles_secs`] reads them without a sorted copy.
    pub fn sort(&mut self) {
        self.raw.sort_unstable();
    }

    /// True while every value is kept exactly.
    pub fn is_exact(&self) -> bool {
        self.binned.is_empty()
    }

    /// Number of values.
    pub fn len(&self) -> u64 {
        self.raw.len() as u64 + self.binned.iter().map(|e| e.1).sum::<u64>()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty() && self.binned.is_empty()
    }

    /// `(value, count)` pairs: each raw value once, or each bucket with its count.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.raw
            .iter()
            .map(|v| (*v, 1))
            .chain(self.binned.iter().copied())
    }

    /// Nearest-rank quantiles (ascending `qs`) in seconds: exact while raw, else the
    /// middle of the bucket (as the histograms report, < 1 % off).
    pub fn quantiles_secs<const N: usize>(&self, qs: [f64; N]) -> [Option<f64>; N] {
        let mut out = [None; N];
        if self.is_empty() {
            return out;
        }
        if self.is_exact() {
            let sorted;
            let v = if self.raw.is_sorted() {
                &self.raw
            } else {
                let mut copy = self.raw.clone();
                copy.sort_unstable();
                sorted = copy;
                &sorted
            };
            let n = v.len();
            return qs.map(|q| {
                let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
                v.get(rank - 1).map(|x| *x as f64 / 1000.0)
            });
        }
        let total = self.len();
        let ranks = qs.map(|q| ((q * total as f64).ceil() as u64).clamp(1, total));
        let (mut seen, mut k) = (0u64, 0);
        for &(x, c) in &self.binned {
            seen += c;
            while k < N && seen >= ranks[k] {
                let mid = if x == 0 {
                    0
                } else {
                    layout().median_equivalent(x)
                };
                out[k] = Some(mid as f64 / 1000.0);
                k += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_up_to_the_cap_then_within_one_percent() {
        let mut b = ValueBag::default();
        for v in 1..=RAW_CAP as u64 {
            b.push(v * 7);
        }
        assert!(b.is_exact());
        let [p50] = b.quantiles_secs([0.5]);
        assert_eq!(p50, Some((RAW_CAP as u64 / 2 * 7) as f64 / 1000.0));
        for v in 1..=10 * RAW_CAP as u64 {
            b.push(v * 3);
        }
        assert!(!b.is_exact());
        assert_eq!(b.len(), 11 * RAW_CAP as u64);
        // Brute force over the same values.
        let mut all: Vec<u64> = (1..=RAW_CAP as u64).map(|v| v * 7).collect();
        all.extend((1..=10 * RAW_CAP as u64).map(|v| v * 3));
        all.sort_unstable();
        for q in [0.5, 0.9, 0.99] {
            let rank = ((q * all.len() as f64).ceil() as usize).clamp(1, all.len());
            let want = all[rank - 1] as f64 / 1000.0;
            let [got] = b.quantiles_secs([q]);
            let got = got.unwrap_or(f64::NAN);
            assert!((got - want).abs() <= want * 0.01, "q{q}: {got} vs {want}");
        }
        // Bounded: one entry per histogram bucket touched, far fewer than the values.
        assert!(b.binned.len() < 2_000, "{}", b.binned.len());
    }

    #[test]
    fn binned_values_fall_in_the_histogram_bucket_of_the_originals() {
        let mut b = ValueBag::default();
        let values: Vec<u64> = (0..RAW_CAP as u64 + 10).map(|i| i * 37 % 100_003).collect();
        for v in &values {
            b.push(*v);
        }
        let (mut h1, mut h2) = (
            Histogram::<u64>::new(2).unwrap(),
            Histogram::<u64>::new(2).unwrap(),
        );
        for v in &values {
            h1.record(*v).unwrap();
        }
        for (v, n) in b.iter() {
            h2.record_n(v, n).unwrap();
        }
        assert_eq!(h1, h2);
    }

    #[test]
    fn bin_groups_values_into_the_histogram_buckets_they_fall_in() {
        let values: Vec<u64> = (0..3_000u64).map(|i| i * 7_919 % 250_007).collect();
        let mut b = ValueBag::default();
        values.iter().for_each(|v| b.push(*v));
        b.bin();
        assert!(!b.is_exact() && b.raw.is_empty());
        assert!(
            b.binned.windows(2).all(|w| w[0].0 < w[1].0),
            "ascending, one per key"
        );
        assert_eq!(b.len(), values.len() as u64);
        let (mut h1, mut h2) = (
            Histogram::<u64>::new(2).unwrap(),
            Histogram::<u64>::new(2).unwrap(),
        );
        values.iter().for_each(|v| h1.record(*v).unwrap());
        b.iter().for_each(|(v, n)| h2.record_n(v, n).unwrap());
        assert_eq!(h1, h2);
        // Values pushed after binning join their buckets.
        b.push(values[0]);
        assert_eq!(b.len(), values.len() as u64 + 1);
    }
}
