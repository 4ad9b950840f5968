//! In-memory twins of every port, for fast tests of the domain and the handlers without AWS.
//! They keep the same conditional semantics as the DynamoDB adapters, and the same TTL rule:
//! where the adapter treats an item whose `ttl` is not after its clock's now as absent (denylist
//! entries, lockout records), so does the twin, on the clock it is given. Sessions and rate
//! windows carry a TTL in DynamoDB but no read of them checks it (the domain compares a
//! session's `expires_at` itself; a rate window's key names its start), so neither does the twin.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use tokengate_claims::{Algorithm, VerifyingKey};

use tokengate_domain::clock::Clock;
use tokengate_domain::error::{PortError, PortResult};
use tokengate_domain::policy::RoutePolicy;
use tokengate_domain::ports::{
    Denylist, LockState, LockoutStore, Principal, RateLimiter, RefreshMac, RevocationSource,
    RevocationStatus, Rotation, Session, SessionStore, TokenSigner, User, UserStatus, UserStore,
    WriteOutcome,
};
use tokengate_domain::refresh_token::TokenHash;
use tokengate_domain::username::Username;
use tokengate_domain::{Adapters, Config};
use tokengate_handlers::app::App;

#[derive(Default)]
struct State {
    users: HashMap<String, User>,
    sessions: HashMap<String, (Session, HashSet<TokenHash>)>,
    /// `jti` → the entry's TTL.
    denied: HashMap<String, i64>,
    /// Name → (state, the record's TTL).
    locks: HashMap<String, (LockState, i64)>,
    rates: HashMap<String, u64>,
}

/// Every store in one process-local map. `set_unavailable(true)` makes every call fail as a
/// throttled AWS call would, to test 503 paths.
pub struct MemoryBackend {
    state: Mutex<State>,
    unavailable: AtomicBool,
    calls: AtomicUsize,
    clock: Arc<dyn Clock>,
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
        }
    }

    /// Makes every following call fail with [`PortError::Unavailable`] (or succeed again).
    pub fn set_unavailable(&self, on: bool) {
        self.unavailable.store(on, Ordering::SeqCst);
    }

    /// Number of store calls so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// A copy of a stored session, for assertions.
    pub fn session(&self, sid: &str) -> Option<Session> {
        self.lock().sessions.get(sid).map(|(s, _)| s.clone())
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

fn principal_ok(state: &State, user_id: &str, version: u64) -> bool {
    state.users.values().any(|u| {
        u.user_id == user_id && u.token_version == version && u.status == UserStatus::Active
    })
}

fn update_user(
    state: &mut State,
    pred: impl Fn(&User) -> bool,
    change: impl FnOnce(&mut User),
) -> Option<u64> {
    let user = state.users.values_mut().find(|u| pred(u))?;
    change(user);
    user.token_version += 1;
    Some(user.token_version)
}

#[async_trait]
impl UserStore for MemoryBackend {
    async fn get_user(&self, username: &Username) -> PortResult<Option<User>> {
        Ok(self.enter()?.users.get(username.as_str()).cloned())
    }
    async fn create_user(&self, user: &User) -> PortResult<bool> {
        let mut s = self.enter()?;
        if s.users.contains_key(user.username.as_str()) {
            return Ok(false);
        }
        s.users
            .insert(user.username.as_str().to_owned(), user.clone());
        Ok(true)
    }
    async fn set_password_hash(&self, username: &Username, hash: &str) -> PortResult<()> {
        if let Some(u) = self.enter()?.users.get_mut(username.as_str()) {
            u.password_hash = hash.to_owned();
        }
        Ok(())
    }
    async fn set_roles(&self, username: &Username, roles: &[String]) -> PortResult<Option<u64>> {
        let mut s = self.enter()?;
        Ok(update_user(
            &mut s,
            |u| &u.username == username,
            |u| u.roles = roles.to_vec(),
        ))
    }
    async fn set_status(&self, username: &Username, status: UserStatus) -> PortResult<Option<u64>> {
        let mut s = self.enter()?;
        Ok(update_user(
            &mut s,
            |u| &u.username == username,
            |u| u.status = status,
        ))
    }
    async fn bump_token_version(&self, user_id: &str) -> PortResult<Option<u64>> {
        let mut s = self.enter()?;
        Ok(update_user(&mut s, |u| u.user_id == user_id, |_| {}))
    }
}

#[async_trait]
impl LockoutStore for MemoryBackend {
    async fn get_lock(&self, username: &Username) -> PortResult<LockState> {
        let now = self.clock.now();
        Ok(self
            .enter()?
            .locks
            .get(username.as_str())
            .filter(|(_, ttl)| live(*ttl, now))
            .map(|(lock, _)| *lock)
            .unwrap_or_default())
    }
    async fn record_failure(
        &self,
        username: &Username,
        now: i64,
        expires_at: i64,
    ) -> PortResult<LockState> {
        let mut s = self.enter()?;
        let (lock, ttl) = s
            .locks
            .entry(username.as_str().to_owned())
            .or_insert((LockState::default(), expires_at));
        // As the adapter's conditional update: count on from a live record, start again at 1
        // from an expired one (compared with the caller's `now`, as the condition is).
        if !live(*ttl, now) {
            *lock = LockState::default();
        }
        lock.failures += 1;
        lock.last_failure_at = now;
        *ttl = expires_at;
        Ok(*lock)
    }
    async fn clear(&self, username: &Username) -> PortResult<()> {
        self.enter()?.locks.remove(username.as_str());
        Ok(())
    }
}

#[async_trait]
impl RateLimiter for MemoryBackend {
    async fn hit(&self, key: &str, window_start: i64, _window_end: i64) -> PortResult<u64> {
        let mut s = self.enter()?;
        let count = s.rates.entry(format!("{key}#{window_start}")).or_default();
        *count += 1;
        Ok(*count)
    }
}

#[async_trait]
impl SessionStore for MemoryBackend {
    async fn create_session(&self, session: &Session) -> PortResult<()> {
        let mut s = self.enter()?;
        if s.sessions.contains_key(&session.sid) {
            return Err(PortError::Unexpected(anyhow::anyhow!(
                "session id collision"
            )));
        }
        s.sessions
            .insert(session.sid.clone(), (session.clone(), HashSet::new()));
        Ok(())
    }
    async fn get_session(&self, sid: &str) -> PortResult<Option<Session>> {
        Ok(self.enter()?.sessions.get(sid).map(|(s, _)| s.clone()))
    }
    async fn rotate(&self, r: &Rotation) -> PortResult<WriteOutcome> {
        let mut s = self.enter()?;
        if !principal_ok(&s, &r.user_id, r.token_version) {
            return Ok(WriteOutcome::PrincipalChanged);
        }
        let Some((session, spent)) = s.sessions.get_mut(&r.sid) else {
            return Ok(WriteOutcome::SessionChanged);
        };
        if session.revoked || session.current_hash != r.from {
            return Ok(WriteOutcome::SessionChanged);
        }
        spent.insert(r.from.clone());
        session.previous_hash = Some(r.from.clone());
        session.current_hash = r.to.clone();
        session.rotated_at = r.now;
        session.last_used_at = r.now;
        session.generation += 1;
        Ok(WriteOutcome::Written)
    }
    async fn touch(
        &self,
        sid: &str,
        user_id: &str,
        token_version: u64,
        current: &TokenHash,
        now: i64,
    ) -> PortResult<WriteOutcome> {
        let mut s = self.enter()?;
        if !principal_ok(&s, user_id, token_version) {
            return Ok(WriteOutcome::PrincipalChanged);
        }
        match s.sessions.get_mut(sid) {
            Some((session, _)) if !session.revoked && &session.current_hash == current => {
                session.last_used_at = now;
                Ok(WriteOutcome::Written)
            }
            _ => Ok(WriteOutcome::SessionChanged),
        }
    }
    async fn revoke_session(&self, sid: &str) -> PortResult<()> {
        if let Some((session, _)) = self.enter()?.sessions.get_mut(sid) {
            session.revoked = true;
        }
        Ok(())
    }
    async fn revoke_if_spent(&self, sid: &str, hash: &TokenHash) -> PortResult<bool> {
        match self.enter()?.sessions.get_mut(sid) {
            Some((session, spent)) if spent.contains(hash) => {
                session.revoked = true;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    async fn delete_session(&self, sid: &str) -> PortResult<()> {
        self.enter()?.sessions.remove(sid);
        Ok(())
    }
}

#[async_trait]
impl Denylist for MemoryBackend {
    async fn deny(&self, jti: &str, until: i64) -> PortResult<()> {
        self.enter()?.denied.insert(jti.to_owned(), until);
        Ok(())
    }
}

#[async_trait]
impl RevocationSource for MemoryBackend {
    async fn revocation_status(&self, jti: &str, user_id: &str) -> PortResult<RevocationStatus> {
        let now = self.clock.now();
        let s = self.enter()?;
        Ok(RevocationStatus {
            jti_denied: s.denied.get(jti).is_some_and(|&ttl| live(ttl, now)),
            principal: s
                .users
                .values()
                .find(|u| u.user_id == user_id)
                .map(|u| Principal {
                    token_version: u.token_version,
                    status: u.status,
                }),
        })
    }
}

/// An ES256 signer with a key generated in process (the twin of the KMS signer).
pub struct MemorySigner {
    kid: String,
    key: EcdsaKeyPair,
    rng: SystemRandom,
    unavailable: AtomicBool,
}

impl MemorySigner {
    /// A signer with a fresh P-256 key.
    pub fn generate(kid: impl Into<String>) -> Self {
        Self {
            kid: kid.into(),
            key: EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .expect("P-256 key generation"),
            rng: SystemRandom::new(),
            unavailable: AtomicBool::new(false),
        }
    }

    /// The matching verifying key.
    pub fn verifying_key(&self) -> VerifyingKey {
        let der = self
            .key
            .public_key()
            .as_der()
            .expect("public key encodes as SPKI");
        VerifyingKey::from_spki_der(self.kid.clone(), Algorithm::ES256, der.as_ref())
            .expect("generated key is a valid P-256 key")
    }

    /// Makes signing fail as throttled KMS would (or succeed again).
    pub fn set_unavailable(&self, on: bool) {
        self.unavailable.store(on, Ordering::SeqCst);
    }
}

#[async_trait]
impl TokenSigner for MemorySigner {
    fn kid(&self) -> &str {
        &self.kid
    }
    fn alg(&self) -> Algorithm {
        Algorithm::ES256
    }
    async fn sign(&self, signing_input: &[u8]) -> PortResult<Vec<u8>> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(PortError::Unavailable(anyhow::anyhow!(
                "simulated KMS ThrottlingException"
            )));
        }
        let sig = self
            .key
            .sign(&self.rng, signing_input)
            .map_err(|_| PortError::Unexpected(anyhow::anyhow!("ECDSA signing failed")))?;
        Ok(sig.as_ref().to_vec())
    }
}

/// HMAC-SHA-256 with a random in-process key (the twin of the KMS MAC key).
pub struct MemoryMac {
    key: hmac::Key,
}

impl Default for MemoryMac {
    fn default() -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &{
                let mut key = [0u8; 32];
                aws_lc_rs::rand::fill(&mut key).expect("system randomness");
                key
            }),
        }
    }
}

#[async_trait]
impl RefreshMac for MemoryMac {
    async fn mac(&self, message: &[u8]) -> PortResult<[u8; 32]> {
        let tag = hmac::sign(&self.key, message);
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }
}

/// Unix time at which a [`MemoryRig`]'s clock starts.
pub const RIG_EPOCH: i64 = 1_800_000_000;

/// Login, refresh and logout wired to in-memory twins, with one user `alice` (password
/// `correct horse`, role `reader`, id `u-alice`). Tests of the domain and of the handlers
/// share it so that the wiring is written once.
pub struct MemoryRig {
    /// Every store.
    pub store: std::sync::Arc<MemoryBackend>,
    /// The signer (can be made to fail).
    pub signer: std::sync::Arc<MemorySigner>,
    /// The clock, starting at [`RIG_EPOCH`].
    pub clock: std::sync::Arc<tokengate_domain::clock::ManualClock>,
    /// Login.
    pub login: tokengate_domain::login::Login,
    /// Refresh.
    pub refresh: tokengate_domain::refresh::Refresh,
    /// Logout.
    pub logout: tokengate_domain::logout::Logout,
    /// A verifier trusting the signer, with the rig's issuer and audience.
    pub verifier: tokengate_claims::Verifier,
    /// The configuration the services were built from.
    pub config: Config,
    /// The adapters the services were built from (the twins, the signer, the clock).
    pub adapters: Adapters,
}

impl MemoryRig {
    /// The rig clock's current time.
    pub fn clock_now(&self) -> i64 {
        use tokengate_domain::clock::Clock;
        self.clock.now()
    }

    /// `alice`'s password.
    pub const PASSWORD: &'static str = "correct horse";

    /// `alice` logs in with her password from `192.0.2.1`: the session most tests start from.
    pub async fn login_alice(&self) -> tokengate_domain::login::Grant {
        self.login
            .login(tokengate_domain::login::LoginAttempt {
                username: "alice".into(),
                password: tokengate_domain::password::Password::new(Self::PASSWORD),
                source_ip: "192.0.2.1".into(),
            })
            .await
            .expect("alice logs in with her password")
    }

    /// Issuer of the rig's tokens.
    pub const ISSUER: &'static str = "https://auth.test";
    /// Audience of the rig's tokens.
    pub const AUDIENCE: &'static str = "api";

    /// A rig with cheap Argon2 parameters (tests exercise logic, not cost) and
    /// `https://app.test` and `https://app.example.com` (the sample events') as allowed origins.
    pub async fn new() -> Self {
        use tokengate_domain::password::{HashParams, Password, PasswordHasher};

        let cheap = HashParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let clock = Arc::new(tokengate_domain::clock::ManualClock::new(RIG_EPOCH));
        let store = Arc::new(MemoryBackend::new(clock.clone()));
        let signer = Arc::new(MemorySigner::generate("test-key"));
        let mut config = tokengate_domain::config::AuthConfig::new(Self::ISSUER, Self::AUDIENCE);
        config.hash_params = cheap;
        config.allowed_origins = vec![
            "https://app.test".to_owned(),
            "https://app.example.com".to_owned(),
        ];
        let hasher = PasswordHasher::new(cheap).expect("valid parameters");
        store
            .create_user(&User {
                username: Username::parse("alice").expect("valid name"),
                user_id: "u-alice".to_owned(),
                password_hash: hasher.hash(&Password::new(Self::PASSWORD)).expect("hash"),
                roles: vec!["reader".to_owned()],
                status: UserStatus::Active,
                token_version: 1,
            })
            .await
            .expect("memory store accepts the user");
        let config = Config {
            auth: config,
            table: None,
            signing_key: None,
            trusted_keys: Vec::new(),
            refresh_mac_key: None,
            route_rules: RoutePolicy::default(),
        };
        let adapters = Adapters {
            store: Some(store.clone()),
            signer: Some(signer.clone()),
            mac: Some(Arc::new(MemoryMac::default())),
            verifying_keys: vec![signer.verifying_key()],
            clock: clock.clone(),
        };
        // The same composition root as the deployed functions.
        let app = App::build(config.clone(), adapters.clone());
        Self {
            login: app.login().expect("login wires"),
            refresh: app.refresh().expect("refresh wires"),
            logout: app.logout().expect("logout wires"),
            verifier: app.verifier(),
            config,
            adapters,
            store,
            signer,
            clock,
        }
    }
}

impl MemoryRig {
    /// An authorizer over the rig's verifier, stores and clock, with the route policy `policy`
    /// (`TOKENGATE_ROUTE_ROLES` syntax): what the tests, benches and fuzz harness run.
    pub fn authorizer(&self, policy: &str) -> tokengate_handlers::authorizer::Authorizer {
        let mut config = self.config.clone();
        config.route_rules = RoutePolicy::parse(policy).expect("valid route policy");
        App::build(config, self.adapters.clone())
            .authorizer()
            .expect("the authorizer wires")
    }
}
