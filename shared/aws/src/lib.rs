//! AWS adapters of tokengate's domain ports: DynamoDB stores, the KMS signer, public-key
//! source and refresh MAC, and the bootstrap that creates table and keys.
//!
//! Every AWS error is classified in one place ([`errors`]): throttling, timeouts and 5xx
//! become [`tokengate_domain::PortError::Unavailable`] (the client sees 503 and retries),
//! everything else `Unexpected`. No SDK message ever reaches a client.
#![deny(missing_docs)]

pub mod bootstrap;
pub mod config;
pub mod connect;
pub mod dynamo;
pub mod errors;
pub mod kms;

pub use connect::{connect, connect_from_env, Clients, Function};
pub use dynamo::DynamoStore;
pub use kms::{kid_from_key_arn, load_verifying_keys, KmsRefreshMac, KmsSigner};
