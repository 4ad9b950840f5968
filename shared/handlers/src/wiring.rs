//! Cold-start wiring shared by the function binaries: configuration from the environment
//! (failing fast with the variable's name), AWS clients and keys built once, and the DynamoDB
//! connection opened while the keys are fetched.

use std::sync::Arc;

use tokengate_aws::{DynamoStore, KmsRefreshMac, KmsSigner};
use tokengate_claims::{Jwks, Validation, Verifier};
use tokengate_domain::config::Env;
use tokengate_domain::login::Login;
use tokengate_domain::logout::Logout;
use tokengate_domain::refresh::Refresh;
use tokengate_domain::{AccessTokenIssuer, AuthConfig, Clock, PasswordHasher, SystemClock};

use crate::authorizer::Authorizer;
use crate::policy::RoutePolicy;

/// Names of the AWS resources, from `TOKENGATE_TABLE`, `TOKENGATE_SIGNING_KEY`,
/// `TOKENGATE_TRUSTED_KEYS` and `TOKENGATE_REFRESH_MAC_KEY`, and the one clock.
struct Resources {
    table: String,
    sdk: aws_config::SdkConfig,
    /// The clock of the services and of the store's TTL checks: one "now" for both.
    clock: Arc<dyn Clock>,
}

async fn resources() -> anyhow::Result<Resources> {
    let env = Env::process();
    Ok(Resources {
        table: env.required("TOKENGATE_TABLE")?,
        sdk: tokengate_aws::config::sdk_config().await,
        clock: Arc::new(SystemClock),
    })
}

impl Resources {
    fn store(&self) -> Arc<DynamoStore> {
        Arc::new(DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&self.sdk),
            self.table.clone(),
            self.clock.clone(),
        ))
    }
    fn kms(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.sdk)
    }
}

async fn issuer(res: &Resources, cfg: &AuthConfig) -> anyhow::Result<AccessTokenIssuer> {
    let key = Env::process().required("TOKENGATE_SIGNING_KEY")?;
    let signer = KmsSigner::connect(res.kms(), &key).await?;
    Ok(AccessTokenIssuer::new(
        Arc::new(signer),
        &cfg.issuer,
        &cfg.audience,
        cfg.access_ttl_secs,
    ))
}

/// The trusted public keys (`TOKENGATE_TRUSTED_KEYS`), fetched from KMS once.
async fn verifier(res: &Resources, cfg: &AuthConfig) -> anyhow::Result<Verifier> {
    let key_ids = Env::process().list("TOKENGATE_TRUSTED_KEYS");
    anyhow::ensure!(
        !key_ids.is_empty(),
        "missing required environment variable TOKENGATE_TRUSTED_KEYS"
    );
    let keys = tokengate_aws::load_verifying_keys(&res.kms(), &key_ids).await?;
    let validation = Validation {
        leeway_secs: cfg.leeway_secs,
        ..Validation::new(cfg.issuer.clone(), vec![cfg.audience.clone()])
    };
    Ok(Verifier::new(keys, validation))
}

/// Opens the DynamoDB connection at init, so the first request does not pay for it. Run it
/// beside the KMS call the function makes at init: the two round trips overlap.
async fn warm_up(store: &DynamoStore) {
    if let Err(e) = store.warm_up().await {
        // Not fatal: the first request meets the same failure and answers it properly.
        tracing::warn!(event = "dynamodb_warm_up_failed", error = %format!("{e:#}"));
    }
}

fn config() -> anyhow::Result<AuthConfig> {
    AuthConfig::from_env(&Env::process())
}

/// The login function's dependencies.
pub async fn login() -> anyhow::Result<Login> {
    let cfg = config()?;
    let res = resources().await?;
    let store = res.store();
    let (issuer, ()) = tokio::join!(issuer(&res, &cfg), warm_up(&store));
    Ok(Login {
        users: store.clone(),
        lockout: store.clone(),
        rate: store.clone(),
        sessions: store,
        issuer: issuer?,
        hasher: PasswordHasher::new(cfg.hash_params)?,
        clock: res.clock.clone(),
        config: cfg,
    })
}

/// The refresh function's dependencies.
pub async fn refresh() -> anyhow::Result<Refresh> {
    let cfg = config()?;
    let res = resources().await?;
    let mac_key = Env::process().required("TOKENGATE_REFRESH_MAC_KEY")?;
    let store = res.store();
    let (issuer, ()) = tokio::join!(issuer(&res, &cfg), warm_up(&store));
    Ok(Refresh {
        sessions: store,
        mac: Arc::new(KmsRefreshMac::new(res.kms(), mac_key)),
        issuer: issuer?,
        clock: res.clock.clone(),
        config: cfg,
    })
}

/// The logout function's dependencies and the CSRF allow-list.
pub async fn logout() -> anyhow::Result<(Logout, Vec<String>)> {
    let cfg = config()?;
    let res = resources().await?;
    let store = res.store();
    let (verifier, ()) = tokio::join!(verifier(&res, &cfg), warm_up(&store));
    let logout = Logout {
        sessions: store.clone(),
        users: store.clone(),
        denylist: store,
        verifier: Arc::new(verifier?),
        clock: res.clock.clone(),
    };
    Ok((logout, cfg.allowed_origins))
}

/// The authorizer's dependencies (`TOKENGATE_ROUTE_ROLES` for the route policy).
pub async fn authorizer() -> anyhow::Result<Authorizer> {
    let cfg = config()?;
    let res = resources().await?;
    let policy = RoutePolicy::parse(&std::env::var("TOKENGATE_ROUTE_ROLES").unwrap_or_default())
        .map_err(|e| anyhow::anyhow!("environment variable TOKENGATE_ROUTE_ROLES: {e}"))?;
    if !policy.always_api_wide() {
        // Safe (a cached answer refuses other routes) but surprising: say it once per cold start.
        tracing::warn!(
            event = "route_rules_need_route_keyed_cache",
            "TOKENGATE_ROUTE_ROLES cannot be said as one policy for the whole API for some tokens \
             (a {{param}} in a rule that needs a role, or an exception before a wider rule): \
             those get a policy for the called route only; key the authorizer cache by route or \
             turn it off (README, Route rules)"
        );
    }
    let store = res.store();
    let (verifier, ()) = tokio::join!(verifier(&res, &cfg), warm_up(&store));
    Ok(Authorizer {
        verifier: Arc::new(verifier?),
        revocations: store,
        policy,
        clock: res.clock.clone(),
    })
}

/// The key set the JWKS endpoint serves: exactly the keys the authorizer trusts.
pub async fn jwks() -> anyhow::Result<Jwks> {
    let cfg = config()?;
    let res = resources().await?;
    Ok(verifier(&res, &cfg).await?.jwks())
}
