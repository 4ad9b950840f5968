//! The AWS side of the composition root: the adapters each function runs on, built from the
//! configuration at cold start. A function's init makes only the AWS calls it must: resolving
//! the signing key (login, refresh) or fetching the trusted public keys (logout, authorizer,
//! JWKS), overlapped with one read that opens the DynamoDB connection for the first request.

use std::sync::Arc;

use tokengate_domain::{Adapters, Clock, Config};

use crate::{load_verifying_keys, DynamoStore, KmsRefreshMac, KmsSigner};

/// The function being started: it decides which adapters are built and which calls are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `POST /auth/login`: the store and the signer.
    Login,
    /// `POST /auth/password`: the store and the signer, as login.
    Password,
    /// `POST /auth/refresh`: the store, the signer and the refresh MAC.
    Refresh,
    /// `POST /auth/logout`: the store and the trusted keys.
    Logout,
    /// The Lambda authorizer: the store and the trusted keys.
    Authorizer,
    /// `GET /.well-known/jwks.json`: the trusted keys only.
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
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            kms: aws_sdk_kms::Client::new(&sdk),
        }
    }
}

/// The adapters `function` runs on. Fails, naming the variable, when the configuration lacks
/// a resource the function needs, and when a key cannot be resolved.
pub async fn connect(
    clients: &Clients,
    config: &Config,
    function: Function,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Adapters> {
    use Function::*;
    let store = match function {
        // The JWKS endpoint reads no table: it needs no table name and opens no connection.
        Jwks => None,
        _ => Some(Arc::new(DynamoStore::new(
            clients.dynamodb.clone(),
            config.table()?,
            clock.clone(),
        ))),
    };
    let signer = async {
        match function {
            Login | Password | Refresh => {
                let signer = KmsSigner::connect(clients.kms.clone(), config.signing_key()?).await?;
                Ok::<_, anyhow::Error>(Some(Arc::new(signer) as _))
            }
            _ => Ok(None),
        }
    };
    let keys = async {
        match function {
            Logout | Authorizer | Jwks => {
                load_verifying_keys(&clients.kms, config.trusted_keys()?).await
            }
            _ => Ok(Vec::new()),
        }
    };
    let mac = match function {
        Refresh => Some(Arc::new(KmsRefreshMac::new(
            clients.kms.clone(),
            config.refresh_mac_key()?,
        )) as _),
        _ => None,
    };
    let (signer, keys, ()) = tokio::join!(signer, keys, warm_up(store.as_deref()));
    Ok(Adapters {
        store: store.map(|s| s as _),
        signer: signer?,
        mac,
        verifying_keys: keys?,
        clock,
    })
}

/// Opens the DynamoDB connection at init, so the first request does not pay for it.
async fn warm_up(store: Option<&DynamoStore>) {
    if let Some(store) = store {
        if let Err(e) = store.warm_up().await {
            // Not fatal: the first request meets the same failure and answers it properly.
            tracing::warn!(event = "dynamodb_warm_up_failed", error = %format!("{e:#}"));
        }
    }
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
