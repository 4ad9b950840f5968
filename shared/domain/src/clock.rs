//! The one clock. Everything that compares expiry asks a [`Clock`], so tests can move time.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Source of "now" in unix seconds (and milliseconds, for what must happen within a second:
/// the revocation feed's order and catch-ups).
pub trait Clock: Send + Sync {
    /// Current unix time in seconds.
    fn now(&self) -> i64;
    /// Current unix time in milliseconds. A clock that only knows seconds shows the start of
    /// the second.
    fn now_ms(&self) -> i64 {
        self.now() * 1000
    }
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// A clock tests set and advance by hand (it keeps milliseconds).
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock showing `now` (unix seconds).
    pub fn new(now: i64) -> Self {
        Self(AtomicI64::new(now * 1000))
    }
    /// Moves the clock forward by `secs`.
    pub fn advance(&self, secs: i64) {
        self.advance_ms(secs * 1000);
    }
    /// Moves the clock forward by `ms` milliseconds.
    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
