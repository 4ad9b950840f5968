//! What a simulation run is given, and what it found.

use tokengate_domain::revocation_feed::{CatchUp, FeedLife};

/// How requests arrive at an instance.
#[derive(Debug, Clone, Copy)]
pub enum Arrivals {
    /// Exponential gaps (a Poisson process).
    Poisson,
    /// Evenly spaced.
    Regular,
}

/// One simulation run.
#[derive(Debug, Clone)]
pub struct Params {
    pub seed: u64,
    /// λ (requests per second) of each instance.
    pub rates: Vec<f64>,
    pub arrivals: Arrivals,
    pub duration_ms: i64,
    /// Instances start (their cold start: their first request) at random in [0, this).
    pub starts_within_ms: i64,
    pub revocations_per_sec: f64,
    pub tokens_per_sec: f64,
    pub lost_feed_reads: f64,
    pub lost_store_reads: f64,
    /// Every clock (instances and writers) within ± this of true time.
    pub skew_ms: i64,
    /// A write commits up to this long after its writer stamped it.
    pub commit_delay_ms: i64,
    pub catch_up: CatchUp,
    pub life: FeedLife,
}

impl Params {
    /// The conditions of the issue: ±1.5 s clocks, commits up to 2 s late, a fifth of the
    /// catch-ups lost, short-lived tokens so that entries come and go within the run.
    pub fn hostile(seed: u64, rates: Vec<f64>) -> Self {
        Self {
            seed,
            rates,
            arrivals: Arrivals::Poisson,
            duration_ms: 150_000,
            starts_within_ms: 120_000,
            revocations_per_sec: 4.0,
            tokens_per_sec: 20.0,
            lost_feed_reads: 0.2,
            lost_store_reads: 0.01,
            skew_ms: 1_500,
            commit_delay_ms: 2_000,
            catch_up: CatchUp::default(),
            life: FeedLife {
                access_ttl_secs: 60,
                leeway_secs: 5,
            },
        }
    }
}

/// What happened.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Requests that reached the revocation check (valid, unexpired tokens).
    pub requests: u64,
    pub feed_reads: u64,
    pub store_reads: u64,
    /// Refused because neither the feed nor the store answered (503).
    pub unavailable: u64,
    /// A revoked token accepted at a true time ≥ its commit + 1 s.
    pub violations: Vec<String>,
    /// A token refused although no revocation of it had committed.
    pub false_refusals: Vec<String>,
    /// Requests with a token whose revocation committed ≥ 1 s earlier.
    pub revoked_checked: u64,
    /// Of those, revoked before the instance's cold start.
    pub revoked_before_cold_start: u64,
    /// Requests with a token whose revocation committed < 1 s earlier.
    pub within_bound: u64,
    /// The longest time after its commit at which a revoked token was still accepted.
    pub latest_acceptance_ms: i64,
}

impl Outcome {
    pub fn reads_per_request(&self) -> f64 {
        (self.feed_reads + self.store_reads) as f64 / self.requests as f64
    }
}
