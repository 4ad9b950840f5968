//! AWS adapters of tokengate's domain ports: DynamoDB stores (the keyring among them), the KMS
//! signer and refresh MAC, the public-key fetch of the admin CLI, and the bootstrap that
//! creates table, keys and keyring on the emulator.
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
pub use dynamo::{DynamoStore, Tables};
pub use kms::{fetch_public_key, kid_from_key_arn, KmsRefreshMac, KmsSigner};
