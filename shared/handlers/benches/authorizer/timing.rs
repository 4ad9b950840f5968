//! Per-call timing. Each call is timed on its own (`Instant` costs tens of nanoseconds against
//! calls of microseconds), so a round yields the median call and the mean call apart: a
//! decision that catches up with the store once in 90 calls has a median without the
//! round trip and a mean that includes its share.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The durations of one measurement's calls in one round, in nanoseconds.
#[derive(Default)]
pub struct Calls(Vec<u64>);

impl Calls {
    /// Records one call's duration.
    pub fn push(&mut self, elapsed: Duration) {
        self.0.push(elapsed.as_nanos() as u64);
    }

    /// Records `batch` calls timed together as `batch` calls of the average duration (for calls
    /// too short to time one by one).
    pub fn push_batch(&mut self, elapsed: Duration, batch: u32) {
        let each = elapsed.as_nanos() as u64 / u64::from(batch);
        self.0.extend(std::iter::repeat_n(each, batch as usize));
    }

    /// Median, mean and 99th percentile (nanoseconds) and the number of calls.
    pub fn summary(mut self) -> Value {
        self.0.sort_unstable();
        let n = self.0.len();
        let at = |q: f64| self.0[((n - 1) as f64 * q).round() as usize];
        let median = if n % 2 == 1 {
            self.0[n / 2] as f64
        } else {
            (self.0[n / 2 - 1] + self.0[n / 2]) as f64 / 2.0
        };
        json!({
            "calls": n,
            "median_ns": median,
            "mean_ns": self.0.iter().sum::<u64>() as f64 / n as f64,
            "p99_ns": at(0.99),
            "max_ns": at(1.0),
        })
    }
}

/// Times `calls` calls of `f` one by one.
pub fn each(calls: usize, mut f: impl FnMut()) -> Value {
    let mut out = Calls::default();
    for _ in 0..calls {
        let start = Instant::now();
        f();
        out.push(start.elapsed());
    }
    out.summary()
}
