//! The revocation feed: every write that revokes appends a [`FeedEntry`] in the same
//! transaction, and the authorizer keeps what it says in memory instead of reading the
//! denylist and the principal for every request (docs/scaling.md, "Revocation feed").

use crate::ports::FeedEntry;

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
    /// When an entry revoking a principal or a session, written at `at` (unix seconds), no
    /// longer matters: every access token issued before it has expired, leeway included.
    pub fn until(&self, at: i64) -> i64 {
        at + self.access_ttl_secs + self.leeway_secs + ENTRY_MARGIN_SECS
    }
}

/// Whether `entry` still matters at `now` (unix seconds).
pub fn is_live(entry: &FeedEntry, now: i64) -> bool {
    entry.until > now
}
