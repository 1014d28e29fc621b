//! Exponential backoff with full jitter, for sources that reconnect.

use rand::Rng;
use std::time::Duration;

/// Reconnect delays: the n-th drawn uniformly from `[0, min(max, min · 2^n)]`.
#[derive(Debug)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// Delays from `min` (the first bound) up to `max`.
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            min,
            max,
            attempt: 0,
        }
    }

    /// The next delay: uniform in `[0, min(max, min · 2^attempt)]`.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let cap = self
            .min
            .saturating_mul(1u32 << self.attempt.min(20))
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let cap_ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=cap_ms))
    }

    /// Back to the first bound (after a connection that held).
    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_max_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        for attempt in 0..12u32 {
            let cap = (100u64 << attempt.min(20)).min(1000);
            let d = b.next_delay();
            assert!(d <= Duration::from_millis(cap), "{attempt}: {d:?} > {cap}");
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }
}
