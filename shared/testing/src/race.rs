//! A race on one session, made to happen: [`RacingSessions`] wraps any [`SessionStore`] (the
//! twin or the DynamoDB adapter) so that concurrent requests all read the session before any of
//! them writes, and counts the writes that lost.
//!
//! Without it a race may not race: the twin never waits, so each request runs from its read to
//! its write before the next one reads, and even the emulator answers quickly enough that the
//! requests of a "concurrent" test can go one after another.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use tokengate_domain::error::PortResult;
use tokengate_domain::ports::{Reissue, Rotation, Session, SessionStore, WriteOutcome};
use tokengate_domain::refresh::Refresh;
use tokengate_domain::refresh_token::TokenHash;

/// A [`SessionStore`] whose first `n` session reads each wait, after reading, until all `n`
/// have read — as `n` Lambda instances may all read one DynamoDB item before any writes it.
pub struct RacingSessions {
    inner: Arc<dyn SessionStore>,
    barrier: Arc<tokio::sync::Barrier>,
    held: AtomicUsize,
    lost: AtomicUsize,
}

impl RacingSessions {
    /// Wraps `inner`, holding its first `racers` reads.
    pub fn new(inner: Arc<dyn SessionStore>, racers: usize) -> Arc<Self> {
        Arc::new(Self {
            inner,
            barrier: Arc::new(tokio::sync::Barrier::new(racers)),
            held: AtomicUsize::new(racers),
            lost: AtomicUsize::new(0),
        })
    }

    /// `refresh` with its session store wrapped: the racers' refresh service.
    pub fn refresh(self: &Arc<Self>, refresh: &Refresh) -> Refresh {
        let mut racing = refresh.clone();
        racing.sessions = self.clone();
        racing
    }

    /// Rotations and reissues refused because the session had changed since the read they
    /// were based on: the races lost so far.
    pub fn lost_writes(&self) -> usize {
        self.lost.load(Ordering::SeqCst)
    }

    fn count(&self, outcome: PortResult<WriteOutcome>) -> PortResult<WriteOutcome> {
        if matches!(outcome, Ok(WriteOutcome::SessionChanged)) {
            self.lost.fetch_add(1, Ordering::SeqCst);
        }
        outcome
    }
}

#[async_trait]
impl SessionStore for RacingSessions {
    async fn grant(&self, session: &Session) -> PortResult<()> {
        self.inner.grant(session).await
    }
    async fn find_session(&self, sid: &str) -> PortResult<Option<Session>> {
        let found = self.inner.find_session(sid).await;
        let hold = self
            .held
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if hold {
            self.barrier.wait().await;
        }
        found
    }
    async fn rotate(&self, rotation: &Rotation) -> PortResult<WriteOutcome> {
        self.count(self.inner.rotate(rotation).await)
    }
    async fn reissue_current(&self, reissue: &Reissue) -> PortResult<WriteOutcome> {
        self.count(self.inner.reissue_current(reissue).await)
    }
    async fn revoke_family(&self, sid: &str) -> PortResult<()> {
        self.inner.revoke_family(sid).await
    }
    async fn revoke_family_on_reuse(&self, sid: &str, family: &TokenHash) -> PortResult<bool> {
        self.inner.revoke_family_on_reuse(sid, family).await
    }
    async fn cancel_grant(&self, sid: &str) -> PortResult<()> {
        self.inner.cancel_grant(sid).await
    }
}
