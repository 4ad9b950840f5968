//! The revocation feed: every write that revokes appends a [`FeedEntry`] in the same
//! transaction, and the authorizer keeps what it says in memory instead of reading the
//! denylist and the principal for every request (docs/scaling.md, "Revocation feed").

use crate::ports::FeedEntry;

/// Margin added to a principal's or a session's entry life: a login or refresh that read the
/// old token version (or a live session) just before the revocation committed may still sign a
/// token a few seconds after it, and writers' clocks are skewed.
pub const ENTRY_MARGIN_SECS: i64 = 60;

/// When a [`FeedEntry`] revoking a principal or a session, written at `at` (unix seconds), no
/// longer matters: every access token issued before it has expired, leeway included.
pub fn entry_until(at: i64, access_ttl_secs: i64, leeway_secs: i64) -> i64 {
    at + access_ttl_secs + leeway_secs + ENTRY_MARGIN_SECS
}

/// Whether `entry` still matters at `now` (unix seconds).
pub fn is_live(entry: &FeedEntry, now: i64) -> bool {
    entry.until > now
}
