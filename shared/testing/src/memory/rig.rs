//! [`MemoryRig`]: login, refresh and logout wired to the twins by the one composition root.

use std::sync::Arc;

use tokengate_domain::keyring::{change_keyring, LiveKeyring};
use tokengate_domain::policy::RoutePolicy;
use tokengate_domain::ports::{User, UserStatus, UserStore};
use tokengate_domain::username::Username;
use tokengate_domain::{Adapters, Config};
use tokengate_handlers::app::App;

use super::{MemoryBackend, MemoryMac, MemorySigner};

/// Unix time at which a [`MemoryRig`]'s clock starts.
pub const RIG_EPOCH: i64 = 1_800_000_000;

/// Login, refresh and logout wired to in-memory twins, with one user `alice` (password
/// `correct horse`, role `reader`, id `u-alice`). Tests of the domain and of the handlers
/// share it so that the wiring is written once.
pub struct MemoryRig {
    /// Every store.
    pub store: std::sync::Arc<MemoryBackend>,
    /// The signer (can be made to fail; holds the keys of the keyring).
    pub signer: std::sync::Arc<MemorySigner>,
    /// The keyring as the services read it (seeded with the signer's key as `current`).
    pub keyring: std::sync::Arc<LiveKeyring>,
    /// The refresh MAC (counts its calls: KMS `GenerateMac` requests in production).
    pub mac: std::sync::Arc<MemoryMac>,
    /// The refresh MAC as login and the password change reach it: the device credentials' key
    /// is derived from it. A twin of its own, so that each function's KMS requests are counted
    /// apart, as they are in production.
    pub device_mac: std::sync::Arc<MemoryMac>,
    /// The clock, starting at [`RIG_EPOCH`].
    pub clock: std::sync::Arc<tokengate_domain::clock::ManualClock>,
    /// Login.
    pub login: tokengate_domain::login::Login,
    /// Refresh.
    pub refresh: tokengate_domain::refresh::Refresh,
    /// Logout.
    pub logout: tokengate_domain::logout::Logout,
    /// A verifier trusting the signer's first key, with the rig's issuer and audience.
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
                ask: Default::default(),
                username: "alice".into(),
                password: tokengate_domain::password::Password::new(Self::PASSWORD),
                source_ip: "192.0.2.1".into(),
                device: None,
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
        Self::configured(|_| {}).await
    }

    /// [`new`](Self::new) with settings changed by `adjust` (say, clients and scopes) before
    /// the services are built.
    pub async fn configured(
        adjust: impl FnOnce(&mut tokengate_domain::config::AuthConfig),
    ) -> Self {
        use tokengate_domain::password::{HashParams, Password, PasswordHasher};

        let cheap = HashParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let clock = Arc::new(tokengate_domain::clock::ManualClock::new(RIG_EPOCH));
        let store = Arc::new(MemoryBackend::new(clock.clone()));
        let signer = Arc::new(MemorySigner::generate("test-key"));
        let mac = Arc::new(MemoryMac::default());
        let device_mac = Arc::new(MemoryMac::default());
        let mut config = tokengate_domain::config::AuthConfig::new(Self::ISSUER, Self::AUDIENCE);
        config.hash_params = cheap;
        config.allowed_origins = vec![
            "https://app.test".to_owned(),
            "https://app.example.com".to_owned(),
        ];
        adjust(&mut config);
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
            feed_table: None,
            refresh_mac_key: None,
            route_rules: RoutePolicy::default(),
            route_scopes: RoutePolicy::default(),
        };
        let first = signer.new_key(signer.kid());
        change_keyring(&*store, |ring| ring.adopt(first.clone(), RIG_EPOCH))
            .await
            .expect("the keyring takes the signer's key");
        let keyring = Arc::new(LiveKeyring::load(store.clone(), clock.clone(), &config.auth).await);
        let adapters = Adapters {
            store: Some(store.clone()),
            signer: Some(signer.clone()),
            mac: Some(mac.clone()),
            keyring: Some(keyring.clone()),
            clock: clock.clone(),
        };
        // The same composition root as the deployed functions.
        let app = App::build(config.clone(), adapters.clone());
        let login = App::build(config.clone(), with_mac(&adapters, &device_mac));
        Self {
            login: login.login().expect("login wires"),
            refresh: app.refresh().expect("refresh wires"),
            logout: app.logout().expect("logout wires"),
            verifier: tokengate_claims::Verifier::new(
                [signer.verifying_key()],
                config.auth.validation(),
            ),
            keyring,
            config,
            adapters,
            store,
            signer,
            mac,
            device_mac,
            clock,
        }
    }
}

/// `adapters` with `mac` as the refresh MAC.
fn with_mac(adapters: &Adapters, mac: &Arc<MemoryMac>) -> Adapters {
    Adapters {
        mac: Some(mac.clone()),
        ..adapters.clone()
    }
}

impl MemoryRig {
    /// The password change on the rig's twins, signer and clock.
    pub fn password_change(&self) -> tokengate_domain::password_change::PasswordChange {
        App::build(
            self.config.clone(),
            with_mac(&self.adapters, &self.device_mac),
        )
        .password_change()
        .expect("the password change wires")
    }

    /// An authorizer over the rig's verifier, stores and clock, with the route policy `policy`
    /// (`TOKENGATE_ROUTE_ROLES` syntax): what the tests, benches and fuzz harness run.
    pub fn authorizer(&self, policy: &str) -> tokengate_handlers::authorizer::Authorizer {
        self.authorizer_scoped(policy, "")
    }

    /// [`authorizer`](Self::authorizer) with the route scopes `scopes`
    /// (`TOKENGATE_ROUTE_SCOPES` syntax).
    pub fn authorizer_scoped(
        &self,
        policy: &str,
        scopes: &str,
    ) -> tokengate_handlers::authorizer::Authorizer {
        let mut config = self.config.clone();
        config.route_rules = RoutePolicy::parse(policy).expect("valid route policy");
        config.route_scopes = RoutePolicy::parse(scopes).expect("valid route scopes");
        App::build(config, self.adapters.clone())
            .authorizer()
            .expect("the authorizer wires")
    }

    /// [`authorizer`](Self::authorizer) of the resource server `audience`, with the route
    /// scopes `scopes` (`TOKENGATE_ROUTE_SCOPES` syntax): the deployment whose
    /// `TOKENGATE_AUDIENCE` it is (its own keyring view: the audience is part of what
    /// the verifiers check).
    pub async fn authorizer_for(
        &self,
        audience: &str,
        policy: &str,
        scopes: &str,
    ) -> tokengate_handlers::authorizer::Authorizer {
        let mut config = self.config.clone();
        config.auth.audience = audience.to_owned();
        config.route_rules = RoutePolicy::parse(policy).expect("valid route policy");
        config.route_scopes = RoutePolicy::parse(scopes).expect("valid route scopes");
        let keyring =
            Arc::new(LiveKeyring::load(self.store.clone(), self.clock.clone(), &config.auth).await);
        let adapters = Adapters {
            keyring: Some(keyring),
            ..self.adapters.clone()
        };
        App::build(config, adapters)
            .authorizer()
            .expect("the authorizer wires")
    }
}
