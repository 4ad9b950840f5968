//! The token operations wired to the real adapters on an emulator, as the functions wire them.

use std::sync::Arc;

use tokengate_aws::{load_verifying_keys, DynamoStore, KmsRefreshMac, KmsSigner};
use tokengate_claims::{Algorithm, Validation, Verifier};
use tokengate_domain::login::{Grant, Login, LoginAttempt};
use tokengate_domain::logout::Logout;
use tokengate_domain::password::HashParams;
use tokengate_domain::ports::{User, UserStatus, UserStore};
use tokengate_domain::refresh::Refresh;
use tokengate_domain::{
    AccessTokenIssuer, AuthConfig, Clock, ManualClock, Password, PasswordHasher, SystemClock,
    Username,
};
use tokengate_handlers::authorizer::Authorizer;
use tokengate_handlers::policy::RoutePolicy;
use tokengate_tests::{counted_ddb, counted_kms, Bootstrapped, CallCounter, Emulator};

pub const ISSUER: &str = "https://auth.integration.test";
pub const AUDIENCE: &str = "api";

pub struct Stack {
    pub emulator: Emulator,
    pub boot: Bootstrapped,
    pub store: Arc<DynamoStore>,
    pub clock: Arc<ManualClock>,
    pub login: Login,
    pub refresh: Refresh,
    pub logout: Logout,
    pub authorizer: Authorizer,
    pub verifier: Verifier,
    pub ddb_calls: CallCounter,
    pub kms_calls: CallCounter,
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
        let sdk = Emulator::sdk_config_for(url).await;
        let ddb_calls = CallCounter::default();
        let kms_calls = CallCounter::default();
        let ddb = counted_ddb(&sdk, &ddb_calls);
        let kms = counted_kms(&sdk, &kms_calls);
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        let store = Arc::new(DynamoStore::new(ddb, boot.table.clone(), clock.clone()));
        let cheap = HashParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let mut config = AuthConfig::new(ISSUER, AUDIENCE);
        config.hash_params = cheap;
        config.allowed_origins = vec!["https://app.test".to_owned()];
        let signer = KmsSigner::connect(kms.clone(), tokengate_aws::bootstrap::SIGNING_ALIAS)
            .await
            .expect("signing key resolves");
        let issuer = AccessTokenIssuer::new(Arc::new(signer), ISSUER, AUDIENCE, 900);
        let keys = load_verifying_keys(&kms, std::slice::from_ref(&boot.signing_key))
            .await
            .expect("public key loads");
        let verifier = Verifier::new(keys, Validation::new(ISSUER, vec![AUDIENCE.to_owned()]));
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
        Self {
            login: Login {
                users: store.clone(),
                lockout: store.clone(),
                rate: store.clone(),
                sessions: store.clone(),
                issuer: issuer.clone(),
                hasher,
                clock: clock.clone(),
                config: config.clone(),
            },
            refresh: Refresh {
                sessions: store.clone(),
                mac: Arc::new(KmsRefreshMac::new(
                    kms.clone(),
                    tokengate_aws::bootstrap::MAC_ALIAS,
                )),
                issuer,
                clock: clock.clone(),
                config,
            },
            logout: Logout {
                sessions: store.clone(),
                users: store.clone(),
                denylist: store.clone(),
                verifier: Arc::new(verifier.clone()),
                clock: clock.clone(),
            },
            authorizer: Authorizer {
                verifier: Arc::new(verifier.clone()),
                revocations: store.clone(),
                policy: RoutePolicy::parse("* /api/admin/*=admin").unwrap(),
                clock: clock.clone(),
            },
            verifier,
            emulator,
            boot,
            store,
            clock,
            ddb_calls,
            kms_calls,
        }
    }

    pub async fn login_alice(&self) -> Grant {
        self.login
            .login(LoginAttempt {
                username: "alice".into(),
                password: Password::new("correct horse"),
                source_ip: "192.0.2.10".into(),
            })
            .await
            .expect("alice logs in")
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
