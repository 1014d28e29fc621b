//! The daemon's only source of "now": an injected clock, so tests drive time by hand
//! (or with `tokio::time::pause()`) and never sleep for correctness.

use crate::model::Millis;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::SystemTime;
use tokio::sync::watch;
use tokio::time::Instant;

/// A future returned by [`Clock::sleep_until`].
pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Wall time as the daemon sees it, in epoch milliseconds (event-time units).
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now_ms(&self) -> Millis;
    /// Completes once [`Clock::now_ms`] has reached `t` (at once if it already has).
    fn sleep_until(&self, t: Millis) -> Sleep<'_>;
}

/// The system clock, optionally accelerated by a factor (the demo at `--speed X`).
///
/// It reads the system time once and then follows tokio's monotonic clock, so it never
/// jumps backwards and `tokio::time::pause()` controls it in tests.
#[derive(Debug, Clone)]
pub struct SystemClock {
    origin_ms: Millis,
    origin: Instant,
    speed: f64,
}

impl SystemClock {
    /// Real time.
    pub fn new() -> Self {
        Self::accelerated(1.0)
    }

    /// Time running `speed` times faster than real time from now on (`speed` ≤ 0 or
    /// not finite is treated as 1).
    pub fn accelerated(speed: f64) -> Self {
        let origin_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| {
                Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX)
            });
        Self::starting_at(origin_ms, speed)
    }

    /// A clock reading `origin_ms` now and running `speed` times real time.
    pub fn starting_at(origin_ms: Millis, speed: f64) -> Self {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        SystemClock {
            origin_ms,
            origin: Instant::now(),
            speed,
        }
    }

    /// The acceleration factor.
    pub fn speed(&self) -> f64 {
        self.speed
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now_ms(&self) -> Millis {
        let real = self.origin.elapsed().as_secs_f64() * 1000.0;
        self.origin_ms + (real * self.speed) as Millis
    }

    fn sleep_until(&self, t: Millis) -> Sleep<'_> {
        // Real milliseconds from the origin at which the clock reads `t` (rounded up).
        let real_ms = ((t - self.origin_ms).max(0) as f64 / self.speed).ceil();
        let deadline = self.origin + std::time::Duration::from_secs_f64(real_ms / 1000.0);
        Box::pin(async move {
            tokio::time::sleep_until(deadline).await;
            // Rounding can leave us a hair early: top up by a millisecond at a time.
            while self.now_ms() < t {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        })
    }
}

/// A clock that moves only when told to (tests).
#[derive(Debug)]
pub struct ManualClock {
    now: AtomicI64,
    changed: watch::Sender<Millis>,
}

impl ManualClock {
    /// A clock reading `t`.
    pub fn new(t: Millis) -> Self {
        ManualClock {
            now: AtomicI64::new(t),
            changed: watch::Sender::new(t),
        }
    }

    /// Sets the time (never backwards: an earlier `t` is ignored).
    pub fn set(&self, t: Millis) {
        let now = self.now.fetch_max(t, Ordering::SeqCst).max(t);
        self.changed.send_replace(now);
    }

    /// Moves the time forward by `ms`.
    pub fn advance(&self, ms: Millis) {
        self.set(self.now_ms() + ms.max(0));
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }

    fn sleep_until(&self, t: Millis) -> Sleep<'_> {
        let mut rx = self.changed.subscribe();
        Box::pin(async move {
            // The sender lives as long as `self`, so this only ends when `t` is reached.
            let _ = rx.wait_for(|now| *now >= t).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn accelerated_clock_follows_tokio_time() {
        let c = SystemClock::starting_at(1_000_000, 600.0);
        assert_eq!(c.now_ms(), 1_000_000);
        tokio::time::advance(std::time::Duration::from_secs(1)).await;
        assert_eq!(c.now_ms(), 1_600_000);
        c.sleep_until(1_900_000).await;
        assert!(c.now_ms() >= 1_900_000);
        assert!(c.now_ms() < 1_901_000);
    }

    #[tokio::test]
    async fn manual_clock_wakes_sleepers() {
        let c = std::sync::Arc::new(ManualClock::new(10));
        let c2 = c.clone();
        let sleeper = tokio::spawn(async move { c2.sleep_until(50).await });
        c.set(30);
        assert!(!sleeper.is_finished());
        c.set(20); // never backwards
        assert_eq!(c.now_ms(), 30);
        c.advance(25);
        assert!(sleeper.await.is_ok());
        assert_eq!(c.now_ms(), 55);
    }
}
