//! The refresh happy path's latency with AWS-like call latencies: the twins behind a delay per
//! call, so what is measured is the length of the critical path the code's ordering of calls
//! gives (concurrent calls overlap, dependent ones add up), not CPU time. The emulator cannot
//! show this: it answers one request at a time.
//!
//! `cargo run -p tokengate-testing --example refresh_latency`

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokengate_domain::error::PortResult;
use tokengate_domain::keyring::KeyringKey;
use tokengate_domain::ports::{
    RateLimiter, RefreshMac, Reissue, Rotation, Session, SessionStore, TokenSigner, Window,
    WriteOutcome,
};
use tokengate_domain::refresh::Refresh;
use tokengate_domain::{AccessTokenIssuer, TokenHash};
use tokengate_testing::memory::{MemoryBackend, MemoryMac, MemoryRig, MemorySigner};

/// Latency of each AWS call, in milliseconds.
#[derive(Clone, Copy)]
struct Profile {
    name: &'static str,
    get_item: u64,
    update_item: u64,
    transact_write: u64,
    generate_mac: u64,
    sign: u64,
}

async fn wait(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

struct Slow<T: ?Sized> {
    inner: Arc<T>,
    p: Profile,
}

#[async_trait]
impl SessionStore for Slow<MemoryBackend> {
    async fn grant(&self, s: &Session) -> PortResult<()> {
        self.inner.grant(s).await
    }
    async fn find_session(&self, sid: &str) -> PortResult<Option<Session>> {
        wait(self.p.get_item).await;
        self.inner.find_session(sid).await
    }
    async fn rotate(&self, r: &Rotation) -> PortResult<WriteOutcome> {
        wait(self.p.transact_write).await;
        self.inner.rotate(r).await
    }
    async fn reissue_current(&self, r: &Reissue) -> PortResult<WriteOutcome> {
        wait(self.p.transact_write).await;
        self.inner.reissue_current(r).await
    }
    async fn revoke_family(&self, sid: &str) -> PortResult<()> {
        self.inner.revoke_family(sid).await
    }
    async fn revoke_family_on_reuse(&self, sid: &str, h: &TokenHash) -> PortResult<bool> {
        self.inner.revoke_family_on_reuse(sid, h).await
    }
    async fn cancel_grant(&self, sid: &str) -> PortResult<()> {
        self.inner.cancel_grant(sid).await
    }
}

#[async_trait]
impl RateLimiter for Slow<MemoryBackend> {
    async fn count_hit(&self, key: &str, window: Window) -> PortResult<u64> {
        wait(self.p.update_item).await;
        self.inner.count_hit(key, window).await
    }
}

#[async_trait]
impl RefreshMac for Slow<MemoryMac> {
    async fn mac(&self, m: &[u8]) -> PortResult<[u8; 32]> {
        wait(self.p.generate_mac).await;
        self.inner.mac(m).await
    }
}

#[async_trait]
impl TokenSigner for Slow<MemorySigner> {
    async fn sign(&self, key: &KeyringKey, input: &[u8]) -> PortResult<Vec<u8>> {
        wait(self.p.sign).await;
        self.inner.sign(key, input).await
    }
}

async fn measure(p: Profile) -> Duration {
    const RUNS: u32 = 40;
    let rig = MemoryRig::new().await;
    let slow_store = Arc::new(Slow {
        inner: rig.store.clone(),
        p,
    });
    let refresh = Refresh {
        sessions: slow_store.clone(),
        rate: slow_store.clone(),
        mac: Arc::new(Slow {
            inner: Arc::new(MemoryMac::default()),
            p,
        }),
        issuer: AccessTokenIssuer::new(
            Arc::new(Slow {
                inner: rig.signer.clone(),
                p,
            }),
            rig.keyring.clone(),
            MemoryRig::ISSUER,
            MemoryRig::AUDIENCE,
            900,
        ),
        clock: rig.clock.clone(),
        config: rig.refresh.config.clone(),
    };
    let mut token = rig.login_alice().await.refresh.expose();
    let mut total = Duration::ZERO;
    for _ in 0..RUNS {
        rig.clock.advance(60);
        let start = Instant::now();
        let grant = refresh
            .refresh(&token, "192.0.2.1")
            .await
            .expect("refresh succeeds");
        total += start.elapsed();
        token = grant.refresh.expose();
    }
    total / RUNS
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let profiles = [
        Profile {
            name: "no latency (CPU and timer overhead only)",
            get_item: 0,
            update_item: 0,
            transact_write: 0,
            generate_mac: 0,
            sign: 0,
        },
        Profile {
            name: "every call 10 ms",
            get_item: 10,
            update_item: 10,
            transact_write: 10,
            generate_mac: 10,
            sign: 10,
        },
        Profile {
            name: "GetItem 4, UpdateItem 5, TransactWriteItems 10, GenerateMac 6, Sign 15 ms",
            get_item: 4,
            update_item: 5,
            transact_write: 10,
            generate_mac: 6,
            sign: 15,
        },
        Profile {
            name: "GetItem 4, UpdateItem 5, TransactWriteItems 10, GenerateMac 6, Sign 25 ms",
            get_item: 4,
            update_item: 5,
            transact_write: 10,
            generate_mac: 6,
            sign: 25,
        },
    ];
    for p in profiles {
        let mean = measure(p).await;
        println!("{:>7.1} ms  {}", mean.as_secs_f64() * 1000.0, p.name);
    }
}
