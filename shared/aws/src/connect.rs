//! The AWS side of the composition root: the adapters each function runs on, built from the
//! configuration at cold start. A function's init makes one AWS call: the read of the signing
//! keyring (`keyring#signing`), which also opens the DynamoDB connection for the first
//! request. No function calls KMS at init: the keyring holds the public keys (fetched once, by
//! the admin CLI) and the signing key's ARN and algorithm; login's device key is derived from
//! the refresh MAC at the first login that needs it.

use std::sync::Arc;

use tokengate_domain::keyring::LiveKeyring;
use tokengate_domain::revocation_feed::FeedLife;
use tokengate_domain::{Adapters, Clock, Config};

use crate::dynamo::Tables;
use crate::{DynamoStore, KmsRefreshMac, KmsSigner};

/// The function being started: it decides which adapters are built and which calls are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `POST /auth/login`: the store, the keyring, the signer and the refresh MAC (from which
    /// the device credentials' key is derived at the first login that needs it).
    Login,
    /// `POST /auth/password`: the store, the keyring, the signer and the refresh MAC, as login.
    Password,
    /// `POST /auth/refresh`: the store, the keyring, the signer and the refresh MAC.
    Refresh,
    /// `POST /auth/logout`: the store and the keyring (its trusted keys).
    Logout,
    /// The Lambda authorizer: the store and the keyring (its trusted keys).
    Authorizer,
    /// `GET /.well-known/jwks.json`: the keyring only.
    Jwks,
}

/// The SDK clients the adapters use.
#[derive(Clone)]
pub struct Clients {
    /// DynamoDB.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// KMS.
    pub kms: aws_sdk_kms::Client,
}

impl Clients {
    /// Clients from the environment ([`crate::config::sdk_config`]: region, credentials,
    /// `AWS_ENDPOINT_URL`, short timeouts).
    pub async fn from_env() -> Self {
        let sdk = crate::config::sdk_config().await;
        Self {
            dynamodb: crate::config::dynamodb_client(&sdk),
            kms: aws_sdk_kms::Client::new(&sdk),
        }
    }
}

/// The adapters `function` runs on, after one read of the keyring. Fails, naming the variable,
/// when the configuration lacks a resource the function needs. An unreadable keyring is not
/// fatal: it is logged, and requests read it again (see `LiveKeyring`).
pub async fn connect(
    clients: &Clients,
    config: &Config,
    function: Function,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Adapters> {
    use Function::*;
    let tables = Tables {
        main: config.table()?.to_owned(),
        feed: config.feed_table()?.to_owned(),
    };
    // The writers' token life: how long their principal and session feed entries matter.
    let store = Arc::new(DynamoStore::new(
        clients.dynamodb.clone(),
        tables,
        FeedLife::of(&config.auth),
        clock.clone(),
    ));
    let signer = match function {
        Login | Password | Refresh => Some(Arc::new(KmsSigner::new(clients.kms.clone())) as _),
        Logout | Authorizer | Jwks => None,
    };
    let mac = match function {
        Login | Password | Refresh => Some(Arc::new(KmsRefreshMac::new(
            clients.kms.clone(),
            config.refresh_mac_key()?,
        )) as _),
        _ => None,
    };
    let keyring = LiveKeyring::load(store.clone(), clock.clone(), &config.auth).await;
    Ok(Adapters {
        store: match function {
            // The JWKS endpoint touches no other item than the keyring.
            Jwks => None,
            _ => Some(store as _),
        },
        signer,
        mac,
        keyring: Some(Arc::new(keyring)),
        clock,
    })
}

/// What a deployed function connects with: clients from the environment and the system clock.
pub async fn connect_from_env(config: &Config, function: Function) -> anyhow::Result<Adapters> {
    let clients = Clients::from_env().await;
    connect(
        &clients,
        config,
        function,
        Arc::new(tokengate_domain::SystemClock),
    )
    .await
}
