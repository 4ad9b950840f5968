//! The simulated world: true time, the revocations written (each stamped by its writer's
//! skewed clock and committed up to the writer cap later), and the feed and the store as one
//! instance sees them, with lost reads and read counters.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokengate_domain::error::{PortError, PortResult};
use tokengate_domain::ports::{
    FeedEntry, Principal, RevocationFeed, RevocationSource, RevocationStatus, UserStatus,
};
use tokengate_domain::Clock;

/// A small deterministic PRNG (SplitMix64): the simulation depends on nothing but its seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [lo, hi] (integers).
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }
    /// Uniform index below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// An exponential gap of mean `1000 / rate` ms (Poisson arrivals).
    pub fn gap_ms(&mut self, rate: f64) -> f64 {
        -(1.0 - self.unit()).ln() * 1000.0 / rate
    }
    /// A skew within ±`max`, at either extreme a third of the time (where bounds break).
    pub fn skew(&mut self, max: i64) -> i64 {
        match self.below(6) {
            0 => -max,
            1 => max,
            _ => self.between(-max, max),
        }
    }
}

/// One written revocation.
pub struct Written {
    pub entry: FeedEntry,
    /// True time at which it is committed (visible to strongly consistent reads).
    pub commit_ms: i64,
}

/// What the store and the feed hold.
pub struct Ledger {
    pub rng: Rng,
    pub written: Vec<Written>,
    /// `jti` → commit time.
    pub denied: HashMap<String, i64>,
    /// `sid` → commit time.
    pub revoked_sessions: HashMap<String, i64>,
    /// `sub` → (commit time, new version), in commit order.
    pub bumps: HashMap<String, Vec<(i64, u64)>>,
    /// Probability that a feed read fails (a lost catch-up).
    pub lost_feed_reads: f64,
    /// Probability that a per-request read fails.
    pub lost_store_reads: f64,
}

impl Ledger {
    /// The user's token version as a strongly consistent read at `now` sees it.
    pub fn version(&self, sub: &str, now: i64) -> u64 {
        (self.bumps.get(sub).into_iter().flatten())
            .filter(|(commit, _)| *commit <= now)
            .map(|(_, v)| *v)
            .fold(1, u64::max)
    }
}

/// True time and the ledger, shared by every instance.
pub struct World {
    pub now: Arc<AtomicI64>,
    pub ledger: Mutex<Ledger>,
}

impl World {
    pub fn now(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
    pub fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap()
    }
}

/// An instance's clock: true time plus its skew.
pub struct Skewed {
    pub now: Arc<AtomicI64>,
    pub skew_ms: i64,
}

impl Clock for Skewed {
    fn now(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst) + self.skew_ms
    }
}

/// The feed and the store as one instance reads them, counting its reads.
pub struct View {
    pub world: Arc<World>,
    pub feed_reads: AtomicU64,
    pub store_reads: AtomicU64,
}

fn lost() -> PortError {
    PortError::Unavailable(anyhow::anyhow!("lost in the simulation"))
}

#[async_trait]
impl RevocationFeed for View {
    async fn read_feed(&self, since_ms: i64) -> PortResult<Vec<FeedEntry>> {
        self.feed_reads.fetch_add(1, Ordering::SeqCst);
        let now = self.world.now();
        let mut ledger = self.world.ledger();
        let p = ledger.lost_feed_reads;
        if ledger.rng.chance(p) {
            return Err(lost());
        }
        // Strongly consistent: every entry committed by now, none that is not.
        let mut entries: Vec<FeedEntry> = (ledger.written.iter())
            .filter(|w| w.commit_ms <= now && w.entry.at_ms >= since_ms)
            .map(|w| w.entry.clone())
            .collect();
        entries.sort_by_key(|e| e.at_ms);
        Ok(entries)
    }
}

#[async_trait]
impl RevocationSource for View {
    async fn revocation_status(
        &self,
        jti: &str,
        user_id: &str,
        sid: Option<&str>,
    ) -> PortResult<RevocationStatus> {
        self.store_reads.fetch_add(1, Ordering::SeqCst);
        let now = self.world.now();
        let mut ledger = self.world.ledger();
        let p = ledger.lost_store_reads;
        if ledger.rng.chance(p) {
            return Err(lost());
        }
        let committed = |at: Option<&i64>| at.is_some_and(|c| *c <= now);
        Ok(RevocationStatus {
            jti_denied: committed(ledger.denied.get(jti)),
            session_revoked: committed(sid.and_then(|s| ledger.revoked_sessions.get(s))),
            principal: Some(Principal {
                token_version: ledger.version(user_id, now),
                status: UserStatus::Active,
            }),
        })
    }
}
