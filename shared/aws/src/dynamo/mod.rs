//! DynamoDB adapters: one table, string partition key `pk`, numeric TTL attribute `ttl`.
//!
//! | item | attributes |
//! |---|---|
//! | `user#<username>` | `user_id`, `password_hash`, `roles` (L of S), `status`, `token_version`, `created_at` |
//! | `principal#<user_id>` | `username`, `token_version`, `status` — what the authorizer reads |
//! | `session#<sid>` | `user_id`, `roles`, `token_version`, `created_at`, `expires_at`, `last_used_at`, `family_hash`, `current_hash`, `previous_hash`, `rotated_at`, `generation`, `revoked`, `window_start`, `window_hits`, `ttl` (a fixed size: no spent token is kept) |
//! | `deny#<jti>` | `ttl` (the token's `exp + leeway + 1`: the first second no verifier accepts it) |
//! | `lock#<username>` | `failures`, `last_failure_at`, `locked_until`, `ttl` — failures of the account from every source (the ceiling) |
//! | `lock-src#<network>#<username>` | `failures`, `last_failure_at`, `locked_until`, `ttl` — failures of the account from one source network (IPv4 address or IPv6 /64) |
//! | `lock-dev#<device id>#<username>` | `failures`, `last_failure_at`, `locked_until`, `ttl` — failures of the account from one device that holds a valid device credential (instead of the two above) |
//! | `rate#<key>#<window start>` | `count`, `ttl` |
//! | `keyring#signing` | `version`, `keys` (L of M: `kid`, `alg`, `public_key`, `key_arn`, `state`, `until`, `added_at`) — the signing keyring, read by every function at cold start and then at most every refresh interval, written by the admin CLI (`keyring`) |
//!
//! `user#` and `principal#` change together, in one transaction, whenever the token version,
//! status or roles change. DynamoDB deletes expired items lazily (within days), so reads of
//! `deny#` and the `lock…#` counters treat an item whose `ttl` is not after now as absent
//! (sessions are compared with their `expires_at` by the domain; a `rate#` key names its
//! window). "Now" is the injected [`Clock`]'s, the same the services use, so tests can move it.
//! A login attempt writes its two lockout items in one transaction before the password hash
//! runs (`lockout`).
//!
//! One module per port; the item layout lives in `codec`, transactions and the classification
//! of their cancellations in `transact`.

mod codec;
mod denylist;
mod keyring;
mod lockout;
mod rate_limiter;
mod revocation;
mod sessions;
mod transact;
mod users;

use std::sync::Arc;

use aws_sdk_dynamodb::types::Update;
use aws_sdk_dynamodb::Client;
use tokengate_domain::{Clock, PortResult};

use crate::errors::classify;
use codec::{key, Item};

/// All stores on one DynamoDB table.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for DynamoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoStore")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl DynamoStore {
    /// Stores on `table`, reading "now" for TTL checks and timestamps from `clock` (the
    /// system clock in production; the services' clock in tests, so moving it moves expiry).
    pub fn new(client: Client, table: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self {
            client,
            table: table.into(),
            clock,
        }
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// A strongly consistent read of the item `pk`.
    async fn get(&self, pk: String, op: &'static str) -> PortResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify(e, op))?;
        Ok(out.item)
    }

    async fn delete(&self, pk: String, op: &'static str) -> PortResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(pk)))
            .send()
            .await
            .map_err(|e| classify(e, op))?;
        Ok(())
    }

    /// An update of the item `pk`, for a transaction.
    fn update(&self, pk: String) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk)))
    }
}
