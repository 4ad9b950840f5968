//! A ledger that is both the feed and the store, for the reader's rule tests.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::error::{PortError, PortResult};
use crate::ports::{
    FeedEntry, Principal, RevocationFeed, RevocationSource, RevocationStatus, Revoked, UserStatus,
};

/// The feed and the store in one: every revocation written so far, readable as the feed and
/// through the per-request read; each can be taken down, and reads are counted.
#[derive(Default)]
pub(crate) struct Ledger {
    entries: Mutex<Vec<FeedEntry>>,
    feed_down: AtomicBool,
    store_down: AtomicBool,
    pub(crate) feed_reads: AtomicUsize,
    pub(crate) store_reads: AtomicUsize,
    /// The `since_ms` of every feed read.
    pub(crate) since: Mutex<Vec<i64>>,
}

impl Ledger {
    /// Commits an entry stamped `at_ms` by its writer.
    pub(crate) fn commit(&self, at_ms: i64, until: i64, revoked: Revoked) {
        self.entries.lock().unwrap().push(FeedEntry {
            at_ms,
            until,
            revoked,
        });
    }
    pub(crate) fn feed_down(&self, down: bool) {
        self.feed_down.store(down, Ordering::SeqCst);
    }
    pub(crate) fn store_down(&self, down: bool) {
        self.store_down.store(down, Ordering::SeqCst);
    }
    pub(crate) fn reads(&self) -> (usize, usize) {
        (
            self.feed_reads.load(Ordering::SeqCst),
            self.store_reads.load(Ordering::SeqCst),
        )
    }
}

fn unavailable() -> PortError {
    PortError::Unavailable(anyhow::anyhow!("simulated ThrottlingException"))
}

#[async_trait]
impl RevocationFeed for Ledger {
    async fn read_feed(&self, since_ms: i64) -> PortResult<Vec<FeedEntry>> {
        self.feed_reads.fetch_add(1, Ordering::SeqCst);
        self.since.lock().unwrap().push(since_ms);
        if self.feed_down.load(Ordering::SeqCst) {
            return Err(unavailable());
        }
        let mut entries: Vec<_> = (self.entries.lock().unwrap().iter())
            .filter(|e| e.at_ms >= since_ms)
            .cloned()
            .collect();
        entries.sort_by_key(|e| e.at_ms);
        Ok(entries)
    }
}

#[async_trait]
impl RevocationSource for Ledger {
    async fn revocation_status(
        &self,
        jti: &str,
        user_id: &str,
        sid: Option<&str>,
    ) -> PortResult<RevocationStatus> {
        self.store_reads.fetch_add(1, Ordering::SeqCst);
        if self.store_down.load(Ordering::SeqCst) {
            return Err(unavailable());
        }
        let entries = self.entries.lock().unwrap();
        let version = (entries.iter())
            .filter_map(|e| match &e.revoked {
                Revoked::Principal {
                    user_id: u,
                    min_version,
                } if u == user_id => Some(*min_version),
                _ => None,
            })
            .fold(1, u64::max);
        let has = |r: Revoked| entries.iter().any(|e| e.revoked == r);
        Ok(RevocationStatus {
            jti_denied: has(Revoked::Token { jti: jti.into() }),
            session_revoked: sid.is_some_and(|sid| has(Revoked::Session { sid: sid.into() })),
            principal: Some(Principal {
                token_version: version,
                status: UserStatus::Active,
            }),
        })
    }
}
