//! The token operations wired to the real adapters on an emulator, as the functions wire them:
//! `tokengate_aws::connect` per function, then the one composition root (`App::build`).

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;

use tokengate_aws::{connect, Clients, DynamoStore, Function};
use tokengate_claims::{Algorithm, Verifier};
use tokengate_domain::keyring::LiveKeyring;
use tokengate_domain::login::{Grant, Login, LoginAttempt};
use tokengate_domain::logout::Logout;
use tokengate_domain::password::HashParams;
use tokengate_domain::password_change::PasswordChange;
use tokengate_domain::policy::RoutePolicy;
use tokengate_domain::ports::{User, UserStatus, UserStore};
use tokengate_domain::refresh::Refresh;
use tokengate_domain::revocation_feed::FeedLife;
use tokengate_domain::{
    AuthConfig, Clock, Config, ManualClock, Password, PasswordHasher, SystemClock, Username,
};
use tokengate_handlers::app::App;
use tokengate_handlers::authorizer::Authorizer;
use tokengate_tests::{counted_ddb, counted_kms, Bootstrapped, CallCounter, Emulator};

pub const ISSUER: &str = "https://auth.integration.test";
pub const AUDIENCE: &str = "api";
/// Where the tests' requests come from (API Gateway's `sourceIp`), as `login_alice` logs in.
pub const SOURCE_IP: &str = "192.0.2.10";

pub struct Stack {
    pub emulator: Emulator,
    pub boot: Bootstrapped,
    pub store: Arc<DynamoStore>,
    pub clock: Arc<ManualClock>,
    pub login: Login,
    pub refresh: Refresh,
    pub logout: Logout,
    pub password: PasswordChange,
    pub authorizer: Authorizer,
    /// The keyring as the JWKS function reads it.
    pub jwks: Arc<LiveKeyring>,
    /// The trusted keys as the authorizer read them at cold start.
    pub verifier: Verifier,
    pub ddb_calls: CallCounter,
    pub kms_calls: CallCounter,
    /// The configuration every service was built from.
    pub config: Config,
}

impl Stack {
    /// A fresh emulator, bootstrapped, with user `alice` / `correct horse` (role `reader`).
    pub async fn start() -> Self {
        let emulator = Emulator::start().await;
        let boot = emulator.bootstrap(Algorithm::ES256).await;
        let url = emulator.url.clone();
        Self::wire(emulator, boot, &url).await
    }

    /// Wires everything to the SDK endpoint `url` (the emulator, or a proxy in front of it).
    pub async fn wire(emulator: Emulator, boot: Bootstrapped, url: &str) -> Self {
        Self::wire_with(emulator, boot, url, |_| {}).await
    }

    /// A fresh emulator, bootstrapped, with settings changed by `adjust` (clients, scopes).
    pub async fn start_with(adjust: impl FnOnce(&mut AuthConfig)) -> Self {
        let emulator = Emulator::start().await;
        let boot = emulator.bootstrap(Algorithm::ES256).await;
        let url = emulator.url.clone();
        Self::wire_with(emulator, boot, &url, adjust).await
    }

    /// [`wire`](Self::wire) with settings changed by `adjust`.
    pub async fn wire_with(
        emulator: Emulator,
        boot: Bootstrapped,
        url: &str,
        adjust: impl FnOnce(&mut AuthConfig),
    ) -> Self {
        let sdk = Emulator::sdk_config_for(url).await;
        let ddb_calls = CallCounter::default();
        let kms_calls = CallCounter::default();
        let ddb = counted_ddb(&sdk, &ddb_calls);
        let kms = counted_kms(&sdk, &kms_calls);
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        let cheap = HashParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let mut auth = AuthConfig::new(ISSUER, AUDIENCE);
        auth.hash_params = cheap;
        auth.allowed_origins = vec!["https://app.test".to_owned()];
        adjust(&mut auth);
        let config = Config {
            auth,
            table: Some(boot.table.clone()),
            feed_table: Some(boot.feed_table.clone()),
            refresh_mac_key: Some(tokengate_aws::bootstrap::MAC_ALIAS.to_owned()),
            route_rules: RoutePolicy::parse("* /api/admin/*=admin").unwrap(),
            route_scopes: RoutePolicy::default(),
        };
        let clients = Clients {
            dynamodb: ddb.clone(),
            kms,
        };
        // Each service is built as its function builds it at cold start: its own adapters from
        // `connect`, assembled by the one composition root.
        let app = |function| {
            let (clients, config, clock) = (&clients, &config, clock.clone());
            async move {
                let adapters = connect(clients, config, function, clock)
                    .await
                    .expect("adapters connect");
                App::build(config.clone(), adapters)
            }
        };
        let life = FeedLife::of(&config.auth);
        let store = Arc::new(DynamoStore::new(ddb, boot.tables(), life, clock.clone()));
        let hasher = PasswordHasher::new(cheap).unwrap();
        store
            .create_user(&User {
                username: Username::parse("alice").unwrap(),
                user_id: "u-alice".to_owned(),
                password_hash: hasher.hash(&Password::new("correct horse")).unwrap(),
                roles: vec!["reader".to_owned()],
                status: UserStatus::Active,
                token_version: 1,
            })
            .await
            .expect("user created");
        let authorizer = app(Function::Authorizer).await;
        let verifier = authorizer
            .keyring()
            .unwrap()
            .keys()
            .await
            .verifier()
            .clone();
        let stack = Self {
            login: app(Function::Login).await.login().unwrap(),
            refresh: app(Function::Refresh).await.refresh().unwrap(),
            logout: app(Function::Logout).await.logout().unwrap(),
            password: app(Function::Password).await.password_change().unwrap(),
            verifier,
            authorizer: authorizer.authorizer().unwrap(),
            jwks: app(Function::Jwks).await.keyring().unwrap(),
            config,
            emulator,
            boot,
            store,
            clock,
            ddb_calls,
            kms_calls,
        };
        // What the functions did at init is not what the tests count.
        stack.ddb_calls.reset();
        stack.kms_calls.reset();
        stack
    }

    pub async fn login_alice(&self) -> Grant {
        self.login
            .login(LoginAttempt {
                ask: Default::default(),
                username: "alice".into(),
                password: Password::new("correct horse"),
                source_ip: SOURCE_IP.into(),
                device: None,
            })
            .await
            .expect("alice logs in")
    }

    /// The authorizer of another deployment on the same table and keys: the resource server
    /// whose `TOKENGATE_AUDIENCE` is `audience`, built as its function builds it at cold start.
    pub async fn authorizer_for(&self, audience: &str) -> Authorizer {
        let sdk = self.emulator.sdk_config().await;
        let clients = Clients {
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            kms: aws_sdk_kms::Client::new(&sdk),
        };
        let mut config = self.config.clone();
        config.auth.audience = audience.to_owned();
        let adapters = connect(&clients, &config, Function::Authorizer, self.clock.clone())
            .await
            .expect("adapters connect");
        App::build(config, adapters).authorizer().unwrap()
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Reads a raw item for assertions on stored state.
    pub async fn item(
        &self,
        pk: &str,
    ) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let sdk = self.emulator.sdk_config().await;
        aws_sdk_dynamodb::Client::new(&sdk)
            .get_item()
            .table_name(&self.boot.table)
            .key(
                "pk",
                aws_sdk_dynamodb::types::AttributeValue::S(pk.to_owned()),
            )
            .consistent_read(true)
            .send()
            .await
            .expect("get item")
            .item
    }
}

/// The item's size as DynamoDB counts it ("DynamoDB item sizes and formats", Amazon DynamoDB
/// Developer Guide): each attribute's name in UTF-8 bytes plus its value — a string's UTF-8
/// bytes; a number's significant digits (leading and trailing zeros trimmed), one byte per
/// two, plus one; a Boolean one byte; a list 3 bytes plus each element and one byte per
/// element; a string set its strings.
pub fn dynamodb_item_size(item: &HashMap<String, AttributeValue>) -> usize {
    fn number(n: &str) -> usize {
        let digits: String = n.chars().filter(char::is_ascii_digit).collect();
        let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
        significant.div_ceil(2) + 1
    }
    fn value(v: &AttributeValue) -> usize {
        match v {
            AttributeValue::S(s) => s.len(),
            AttributeValue::N(n) => number(n),
            AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
            AttributeValue::L(l) => 3 + l.iter().map(|e| value(e) + 1).sum::<usize>(),
            AttributeValue::Ss(ss) => ss.iter().map(String::len).sum(),
            other => panic!("no size rule for {other:?}"),
        }
    }
    item.iter().map(|(k, v)| k.len() + value(v)).sum()
}
