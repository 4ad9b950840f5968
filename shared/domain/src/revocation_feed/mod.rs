//! The revocation feed: every write that revokes appends a [`FeedEntry`] in the same
//! transaction, and the authorizer keeps what it says in memory instead of reading the
//! denylist and the principal for every request (docs/revocation.md).
//!
//! [`RevocationWatch`] is that reader: what it knows ([`Known`]), when it catches up, and what
//! it does when it cannot (the per-request read, then refusal).

mod known;
#[cfg(test)]
mod tests;
mod watch;

pub use known::{Known, Refusal};
pub use watch::{CatchUp, Decision, Knowledge, RevocationWatch};

use crate::ports::FeedEntry;

/// A reader catches up at most this often (by its own clock, on a request's arrival: Lambda
/// freezes idle instances, so no timer could run in between), and decides from memory only
/// while its last catch-up started less than this long ago. With the overlap below, a
/// revocation is seen by every instance within this interval of its commit, under the 1 s the
/// design promises; at λ requests per second an instance makes about 1 / (0.9 λ) reads per
/// request (0.11 at 10/s, 0.011 at 100/s).
pub const CATCH_UP_INTERVAL_MS: i64 = 900;

/// Each catch-up reads again from this long before the cursor (the reader's clock at the start
/// of its last successful catch-up). An entry's `at_ms` is its writer's clock at the start of
/// the write, and it may commit up to 2 s later (the adapter caps a revoking write, SDK retries
/// included, at 2 s) on a writer whose clock is up to 3 s behind the reader's (each within
/// ±1.5 s of true time): 2 s + 3 s. An entry committed after a catch-up started is therefore
/// stamped at or after that catch-up's cursor minus 5 s, and the next one reads it.
pub const OVERLAP_MS: i64 = 5_000;

/// Margin added to a principal's or a session's entry life: a login or refresh that read the
/// old token version (or a live session) just before the revocation committed may still sign a
/// token a few seconds after it, and writers' clocks are skewed.
pub const ENTRY_MARGIN_SECS: i64 = 60;

/// How long a feed entry revoking a principal or a session matters: the writers' access-token
/// lifetime and leeway (`TOKENGATE_ACCESS_TTL_SECONDS`, `TOKENGATE_LEEWAY_SECONDS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedLife {
    /// Access-token lifetime.
    pub access_ttl_secs: i64,
    /// Verifiers' leeway.
    pub leeway_secs: i64,
}

impl Default for FeedLife {
    /// The functions' defaults (900 s, 30 s).
    fn default() -> Self {
        Self {
            access_ttl_secs: 900,
            leeway_secs: tokengate_claims::Validation::DEFAULT_LEEWAY_SECS,
        }
    }
}

impl FeedLife {
    /// The lives of the configured tokens (`TOKENGATE_ACCESS_TTL_SECONDS`,
    /// `TOKENGATE_LEEWAY_SECONDS`).
    pub fn of(auth: &crate::config::AuthConfig) -> Self {
        Self {
            access_ttl_secs: auth.access_ttl_secs,
            leeway_secs: auth.leeway_secs,
        }
    }

    /// When an entry revoking a principal or a session, written at `at` (unix seconds), no
    /// longer matters: every access token issued before it has expired, leeway included.
    pub fn until(&self, at: i64) -> i64 {
        at + self.access_ttl_secs + self.leeway_secs + ENTRY_MARGIN_SECS
    }
}

impl FeedLife {
    /// How far back a cold start reads: every entry that may still matter (the longest life of
    /// an entry, whose `at_ms` may be stamped up to `overlap_ms` early by a skewed writer).
    pub fn cold_window_ms(&self, overlap_ms: i64) -> i64 {
        (self.access_ttl_secs + self.leeway_secs + ENTRY_MARGIN_SECS) * 1000 + overlap_ms
    }
}

/// Whether `entry` still matters at `now` (unix seconds).
pub fn is_live(entry: &FeedEntry, now: i64) -> bool {
    entry.until > now
}
