//! [`RevocationWatch`]: the authorizer's revocation state, caught up from the feed at most
//! every [`CATCH_UP_INTERVAL_MS`], with the exact per-request read as its fallback.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokengate_claims::AccessClaims;

use super::known::{Known, Refusal};
use super::{FeedLife, CATCH_UP_INTERVAL_MS, OVERLAP_MS};
use crate::clock::Clock;
use crate::error::PortResult;
use crate::ports::{RevocationFeed, RevocationSource, RevocationStatus};

/// When a reader catches up and how far back it reads (the defaults are the constants; tests
/// change them to show what breaks without them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatchUp {
    /// See [`CATCH_UP_INTERVAL_MS`].
    pub interval_ms: i64,
    /// See [`OVERLAP_MS`].
    pub overlap_ms: i64,
}

impl Default for CatchUp {
    fn default() -> Self {
        Self {
            interval_ms: CATCH_UP_INTERVAL_MS,
            overlap_ms: OVERLAP_MS,
        }
    }
}

/// What a decision was made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Knowledge {
    /// Memory, caught up from the feed less than one interval ago.
    Feed,
    /// The exact per-request read (denylist, session and principal).
    Store,
}

/// Whether a token is revoked, and what said so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Why it is refused; `None`: not revoked.
    pub refusal: Option<Refusal>,
    /// Memory or the per-request read.
    pub from: Knowledge,
}

impl Decision {
    /// Whether the token is refused.
    pub fn revokes(&self) -> bool {
        self.refusal.is_some()
    }
}

struct State {
    known: Known,
    /// This instance's clock at the start of its last successful catch-up; `None` before the
    /// first (the next catch-up is a cold start).
    cursor_ms: Option<i64>,
    /// This instance's clock at the start of its last catch-up, successful or not.
    attempted_ms: Option<i64>,
    /// Consecutive failed catch-ups (logged when the first fails and when one succeeds again).
    failures: u64,
}

/// The revocation state of one authorizer instance (docs/revocation.md).
///
/// A request's arrival starts a catch-up when at least one interval has passed since the last
/// attempt: one `read_feed` from the cursor minus the overlap (the cold start: from every entry
/// that may still matter). Memory decides while the last successful catch-up started less than
/// one interval ago; otherwise the exact per-request read decides, and if that fails too the
/// answer is an error (the authorizer refuses with 503: fail closed).
///
/// Only one catch-up runs at a time. A request that arrives while another catches up does not
/// wait for it: it decides with the per-request read, which is exact. Lambda runs one request
/// at a time per instance, so this only happens in a host that runs requests concurrently on one
/// instance (tests), and not waiting keeps one slow feed query from holding every concurrent
/// request.
pub struct RevocationWatch {
    feed: Arc<dyn RevocationFeed>,
    source: Arc<dyn RevocationSource>,
    clock: Arc<dyn Clock>,
    life: FeedLife,
    catch_up: CatchUp,
    state: Mutex<State>,
    catching_up: AtomicBool,
}

impl std::fmt::Debug for RevocationWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationWatch")
            .field("life", &self.life)
            .field("catch_up", &self.catch_up)
            .finish_non_exhaustive()
    }
}

/// Clears the "a catch-up is under way" flag when it ends, also if its request is dropped.
struct CatchingUp<'a>(&'a AtomicBool);

impl Drop for CatchingUp<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// Whether `then` is less than `interval_ms` before `now`. A clock stepped back (`now` before
/// `then`) counts as not recent: memory is not trusted and the next request catches up.
fn within(now: i64, then: Option<i64>, interval_ms: i64) -> bool {
    then.is_some_and(|then| (0..interval_ms).contains(&(now - then)))
}

impl RevocationWatch {
    /// A reader of `feed`, falling back to `source`, on `clock`, for tokens that live as
    /// `life` says (the authorizer's access-token lifetime and leeway). It reads nothing until
    /// the first request (its cold start).
    pub fn new(
        feed: Arc<dyn RevocationFeed>,
        source: Arc<dyn RevocationSource>,
        clock: Arc<dyn Clock>,
        life: FeedLife,
    ) -> Self {
        Self {
            feed,
            source,
            clock,
            life,
            catch_up: CatchUp::default(),
            state: Mutex::new(State {
                known: Known::default(),
                cursor_ms: None,
                attempted_ms: None,
                failures: 0,
            }),
            catching_up: AtomicBool::new(false),
        }
    }

    /// The same reader with other timings (tests: what breaks without the defaults).
    pub fn with_catch_up(mut self, catch_up: CatchUp) -> Self {
        self.catch_up = catch_up;
        self
    }

    /// Whether the token with these (verified) claims is revoked: see the type's documentation.
    /// An error means neither the feed nor the store could say: refuse (fail closed).
    pub async fn check(&self, claims: &AccessClaims) -> PortResult<Decision> {
        let now = self.clock.now_ms();
        let due = {
            let s = self.lock();
            !within(now, s.attempted_ms, self.catch_up.interval_ms)
        };
        if due && !self.catching_up.swap(true, Ordering::SeqCst) {
            let _flag = CatchingUp(&self.catching_up);
            self.catch_up_at(now).await;
        }
        {
            let s = self.lock();
            if s.failures == 0 && within(now, s.cursor_ms, self.catch_up.interval_ms) {
                return Ok(Decision {
                    refusal: s.known.refusal(claims),
                    from: Knowledge::Feed,
                });
            }
        }
        let status = self
            .source
            .revocation_status(&claims.jti, &claims.sub, claims.sid.as_deref())
            .await?;
        Ok(Decision {
            refusal: refusal(&status, claims.ver),
            from: Knowledge::Store,
        })
    }

    /// Whether the token with these claims is revoked ([`check`](Self::check) without saying
    /// why).
    pub async fn revokes(&self, claims: &AccessClaims) -> PortResult<bool> {
        Ok(self.check(claims).await?.revokes())
    }

    /// Number of entries held in memory.
    pub fn held(&self) -> usize {
        self.lock().known.len()
    }

    /// One catch-up started at `now` (this instance's clock, in milliseconds).
    async fn catch_up_at(&self, now: i64) {
        let cursor = self.lock().cursor_ms;
        let since = match cursor {
            Some(cursor) => cursor - self.catch_up.overlap_ms,
            None => now - self.life.cold_window_ms(self.catch_up.overlap_ms),
        };
        let read = self.feed.read_feed(since).await;
        let mut s = self.lock();
        s.attempted_ms = Some(now);
        match read {
            Ok(entries) => {
                let now_secs = now.div_euclid(1000);
                for entry in &entries {
                    s.known.learn(entry, now_secs);
                }
                s.known.forget_expired(now_secs);
                s.cursor_ms = Some(now);
                if cursor.is_none() {
                    tracing::info!(
                        event = "revocation_feed_cold_start",
                        entries = entries.len(),
                        held = s.known.len()
                    );
                }
                if s.failures > 0 {
                    tracing::warn!(
                        event = "revocation_feed_recovered",
                        failed_catch_ups = s.failures,
                        "the revocation feed is read again: decisions come from memory"
                    );
                    s.failures = 0;
                }
            }
            Err(e) => {
                if s.failures == 0 {
                    tracing::warn!(
                        event = "revocation_feed_catch_up_failed",
                        error = %e,
                        "the revocation feed cannot be read: every request reads the denylist \
                         and the principal until it can (and is refused if that fails too)"
                    );
                }
                s.failures += 1;
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The per-request read's answer, with its reason ([`RevocationStatus::revokes`] is the rule).
fn refusal(status: &RevocationStatus, version: u64) -> Option<Refusal> {
    if !status.revokes(version) {
        None
    } else if status.jti_denied {
        Some(Refusal::Token)
    } else if status.session_revoked {
        Some(Refusal::Session)
    } else {
        Some(Refusal::Principal)
    }
}
