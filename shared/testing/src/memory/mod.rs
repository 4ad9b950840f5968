//! In-memory twins of every port, for fast tests of the domain and the handlers without AWS.
//! They keep the same conditional semantics as the DynamoDB adapters, and the same TTL rule:
//! where the adapter treats an item whose `ttl` is not after its clock's now as absent (denylist
//! entries, lockout records), so does the twin, on the clock it is given. Sessions and rate
//! windows carry a TTL in DynamoDB but no read of them checks it (the domain compares a
//! session's `expires_at` itself; a rate window's key names its start), so neither does the twin.
//!
//! "The same semantics" is not a claim but a test: every port's contract suite
//! (`crate::contract`) runs against these twins and against the adapters on the emulator.

mod crypto;
mod rig;
mod stores;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokengate_domain::clock::Clock;
use tokengate_domain::error::{PortError, PortResult};
use tokengate_domain::lockout::LockState;
use tokengate_domain::ports::{FeedEntry, Revoked, Session, User};
use tokengate_domain::revocation_feed::FeedLife;

pub use crypto::{MemoryMac, MemorySigner};
pub use rig::{MemoryRig, RIG_EPOCH};

#[derive(Default)]
struct State {
    users: HashMap<String, User>,
    sessions: HashMap<String, Session>,
    /// `jti` → the entry's TTL.
    denied: HashMap<String, i64>,
    /// Counter key → (state, the record's TTL).
    locks: HashMap<String, (LockState, i64)>,
    rates: HashMap<String, u64>,
    /// The keyring item, as the adapter stores it: `None` until the first write.
    keyring: Option<tokengate_domain::keyring::Keyring>,
    /// The revocation feed, in the order written (entries are never removed: readers filter
    /// on `until`, as they must with DynamoDB's lazy TTL deletion).
    feed: Vec<FeedEntry>,
}

/// Every store in one process-local map. `set_unavailable(true)` makes every call fail as a
/// throttled AWS call would, to test 503 paths.
pub struct MemoryBackend {
    state: Mutex<State>,
    unavailable: AtomicBool,
    calls: AtomicUsize,
    clock: Arc<dyn Clock>,
    feed_life: FeedLife,
}

/// An item with TTL `ttl` still exists at `now`: the DynamoDB adapter's rule, to the second.
fn live(ttl: i64, now: i64) -> bool {
    ttl > now
}

impl MemoryBackend {
    /// An empty backend whose TTL checks read `clock` (give it the clock the services use, as
    /// the DynamoDB adapter is given it).
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            state: Mutex::default(),
            unavailable: AtomicBool::new(false),
            calls: AtomicUsize::new(0),
            clock,
            feed_life: FeedLife::default(),
        }
    }

    /// The same backend, whose feed entries for principals and sessions live as long as
    /// `life` says (the default: the default access-token lifetime and leeway).
    pub fn with_feed_life(mut self, life: FeedLife) -> Self {
        self.feed_life = life;
        self
    }

    /// A copy of the revocation feed as written, for assertions.
    pub fn feed(&self) -> Vec<FeedEntry> {
        self.lock().feed.clone()
    }

    /// Makes every following call fail with [`PortError::Unavailable`] (or succeed again).
    pub fn set_unavailable(&self, on: bool) {
        self.unavailable.store(on, Ordering::SeqCst);
    }

    /// Number of store calls so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// A copy of a stored user (by normalised name), for assertions.
    pub fn user(&self, username: &str) -> Option<User> {
        self.lock().users.get(username).cloned()
    }

    /// A copy of a stored session, for assertions.
    pub fn session(&self, sid: &str) -> Option<Session> {
        self.lock().sessions.get(sid).cloned()
    }

    /// Whether a `jti` is denylisted now (its entry exists and its TTL has not passed).
    pub fn is_denied(&self, jti: &str) -> bool {
        let now = self.clock.now();
        self.lock()
            .denied
            .get(jti)
            .is_some_and(|&ttl| live(ttl, now))
    }

    /// Number of stored sessions.
    pub fn session_count(&self) -> usize {
        self.lock().sessions.len()
    }

    /// Appends what a revoking write revoked, under the lock the write holds (the adapter
    /// writes it in the write's own transaction). `until` is the entry's end for a token; a
    /// principal's or a session's ends after the longest access-token life.
    fn append_feed(&self, state: &mut State, revoked: Revoked, until: Option<i64>) {
        let at_ms = self.clock.now_ms();
        let until = until.unwrap_or_else(|| self.feed_life.until(at_ms.div_euclid(1000)));
        state.feed.push(FeedEntry {
            at_ms,
            until,
            revoked,
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn enter(&self) -> PortResult<std::sync::MutexGuard<'_, State>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(PortError::Unavailable(anyhow::anyhow!(
                "simulated ThrottlingException"
            )));
        }
        Ok(self.lock())
    }
}
