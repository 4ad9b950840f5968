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
//!
//! The revocation feed has a table of its own (`TOKENGATE_FEED_TABLE`, module `feed`): hash key
//! `pk`, range key `at`, TTL on `ttl`; one partition that one `Query` reads by range.
//!
//! | item (`pk`, `at`) | attributes |
//! |---|---|
//! | `feed#0`, `<at_ms: 13 digits>#<16 hex digits>` | `ttl` (the entry's `until`), `revoked` (`token`, `principal`, `session`), `id` (the `jti`, user id or session id), `min_version` (a principal's only) — 85 B for a token, 87 B for a session, 102 B for a principal (22-character ids, counted as DynamoDB counts: names plus values) |
//!
//! Every revoking write — a token-version bump, a session's revocation, a denylisted `jti` —
//! appends its feed item in the same transaction, within a time cap of 2 s
//! (`crate::config::REVOKING_WRITE_TIMEOUT`).
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
mod feed;
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
use tokengate_domain::revocation_feed::FeedLife;
use tokengate_domain::{Clock, PortResult};

use crate::errors::classify;
use codec::{key, Item};

/// The tables a [`DynamoStore`] works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    /// `TOKENGATE_TABLE`: every item but the feed's (hash key `pk`).
    pub main: String,
    /// `TOKENGATE_FEED_TABLE`: the revocation feed (hash key `pk`, range key `at`).
    pub feed: String,
}

impl Tables {
    /// `main` and, beside it, `<main>-feed`: the names the emulator's bootstrap creates (the
    /// template names its tables itself: read them from the stack's outputs).
    pub fn local(main: impl Into<String>) -> Self {
        let main = main.into();
        Self {
            feed: format!("{main}-feed"),
            main,
        }
    }
}

/// All stores on the main table and the revocation feed's.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    tables: Tables,
    /// How long the feed entries of principals and sessions live: the writers' token life.
    feed_life: FeedLife,
    /// Items per feed `Query` page (`None`: DynamoDB's 1 MB pages); tests set it small.
    feed_page_limit: Option<i32>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for DynamoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoStore")
            .field("tables", &self.tables)
            .field("feed_life", &self.feed_life)
            .finish_non_exhaustive()
    }
}

impl DynamoStore {
    /// Stores on `tables`, reading "now" for TTL checks and timestamps from `clock` (the
    /// system clock in production; the services' clock in tests, so moving it moves expiry).
    /// The feed entries of principals and sessions it writes live as `life` says: build it
    /// from the writers' `TOKENGATE_ACCESS_TTL_SECONDS` and `TOKENGATE_LEEWAY_SECONDS`.
    pub fn new(client: Client, tables: Tables, life: FeedLife, clock: Arc<dyn Clock>) -> Self {
        Self {
            client,
            tables,
            feed_life: life,
            feed_page_limit: None,
            clock,
        }
    }

    /// The same store, reading the feed `items` at a time per `Query` page: for tests of the
    /// paging, which a real page (1 MB, ~10,000 entries) would need thousands of writes for.
    pub fn with_feed_page_limit(mut self, items: i32) -> Self {
        self.feed_page_limit = Some(items);
        self
    }

    /// The main table's name.
    pub fn table(&self) -> &str {
        &self.tables.main
    }

    /// Both tables' names.
    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// A strongly consistent read of the item `pk`.
    async fn get(&self, pk: String, op: &'static str) -> PortResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.main)
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
            .table_name(&self.tables.main)
            .set_key(Some(key(pk)))
            .send()
            .await
            .map_err(|e| classify(e, op))?;
        Ok(())
    }

    /// An update of the item `pk`, for a transaction.
    fn update(&self, pk: String) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder()
            .table_name(&self.tables.main)
            .set_key(Some(key(pk)))
    }
}
