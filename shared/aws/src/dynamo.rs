//! DynamoDB adapters: one table, string partition key `pk`, numeric TTL attribute `ttl`.
//!
//! | item | attributes |
//! |---|---|
//! | `user#<username>` | `user_id`, `password_hash`, `roles` (L of S), `status`, `token_version`, `created_at` |
//! | `principal#<user_id>` | `username`, `token_version`, `status` — what the authorizer reads |
//! | `session#<sid>` | `user_id`, `roles`, `token_version`, `created_at`, `expires_at`, `last_used_at`, `current_hash`, `previous_hash`, `rotated_at`, `generation`, `revoked`, `spent` (SS), `ttl` |
//! | `deny#<jti>` | `ttl` (the token's `exp + leeway + 1`: the first second no verifier accepts it) |
//! | `lock#<username>` | `failures`, `last_failure_at`, `ttl` |
//! | `rate#<key>#<window start>` | `count`, `ttl` |
//!
//! The key `warm-up#` is only ever read, never written ([`DynamoStore::warm_up`]).
//!
//! `user#` and `principal#` change together, in one transaction, whenever the token version,
//! status or roles change. DynamoDB deletes expired items lazily (within days), so reads of
//! `deny#` and `lock#` treat an item whose `ttl` is not after now as absent (sessions are
//! compared with their `expires_at` by the domain; a `rate#` key names its window). "Now" is
//! the injected [`Clock`]'s, the same the services use, so tests can move it.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, KeysAndAttributes, Put, ReturnValue, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use tokengate_domain::ports::{
    Denylist, LockState, LockoutStore, Principal, RateLimiter, RevocationSource, RevocationStatus,
    Rotation, Session, SessionStore, User, UserStatus, UserStore, WriteOutcome,
};
use tokengate_domain::{Clock, PortError, PortResult, TokenHash, Username};

use crate::errors::{classify, service_code};

type Item = HashMap<String, AttributeValue>;

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

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}
fn key(pk: String) -> Item {
    HashMap::from([("pk".to_owned(), s(pk))])
}
fn get_s(item: &Item, k: &str) -> PortResult<String> {
    match item.get(k) {
        Some(AttributeValue::S(v)) => Ok(v.clone()),
        _ => Err(corrupt(k)),
    }
}
fn get_n<T: std::str::FromStr>(item: &Item, k: &str) -> PortResult<T> {
    match item.get(k) {
        Some(AttributeValue::N(v)) => v.parse().map_err(|_| corrupt(k)),
        _ => Err(corrupt(k)),
    }
}
fn get_list(item: &Item, k: &str) -> PortResult<Vec<String>> {
    match item.get(k) {
        Some(AttributeValue::L(vs)) => vs
            .iter()
            .map(|v| v.as_s().cloned().map_err(|_| corrupt(k)))
            .collect(),
        _ => Err(corrupt(k)),
    }
}
fn list(values: &[String]) -> AttributeValue {
    AttributeValue::L(values.iter().map(|v| s(v.clone())).collect())
}
fn corrupt(attr: &str) -> PortError {
    PortError::Unexpected(anyhow::anyhow!(
        "stored item has a missing or malformed {attr}"
    ))
}
fn status(item: &Item) -> PortResult<UserStatus> {
    UserStatus::parse(&get_s(item, "status")?).ok_or_else(|| corrupt("status"))
}
/// An item whose TTL is not after `now` is treated as absent, whether or not DynamoDB deleted
/// it yet (it does so lazily, within days). The in-memory twin applies the same rule.
fn live(item: Option<Item>, now: i64) -> Option<Item> {
    item.filter(|i| match i.get("ttl") {
        Some(AttributeValue::N(t)) => t.parse::<i64>().map_or(true, |t| t > now),
        _ => true,
    })
}

/// Which items of a cancelled transaction failed their condition.
fn cancelled_items(err: &SdkError<TransactWriteItemsError, HttpResponse>) -> Option<Vec<bool>> {
    let SdkError::ServiceError(se) = err else {
        return None;
    };
    let TransactWriteItemsError::TransactionCanceledException(tc) = se.err() else {
        return None;
    };
    let reasons = tc.cancellation_reasons();
    if reasons.is_empty() {
        return None;
    }
    Some(
        reasons
            .iter()
            .map(|r| r.code() == Some("ConditionalCheckFailed"))
            .collect(),
    )
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

    /// Opens the connection to DynamoDB at init (TCP, TLS, credentials, endpoint), so that
    /// the first request does not pay for it: one read of a key that is never written, with
    /// the `dynamodb:GetItem` permission every function using the table already has.
    pub async fn warm_up(&self) -> PortResult<()> {
        self.get("warm-up#".to_owned(), "warm up the connection")
            .await
            .map(drop)
    }

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

    fn update(&self, pk: String) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk)))
    }

    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        op: &'static str,
    ) -> PortResult<Result<(), Option<Vec<bool>>>> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(Ok(())),
            Err(e) if service_code(&e) == Some("TransactionCanceledException") => {
                let failed = cancelled_items(&e);
                if failed.is_none() || failed.as_ref().is_some_and(|f| f.iter().any(|x| *x)) {
                    Ok(Err(failed))
                } else {
                    // Cancelled for another reason (a conflicting transaction): transient.
                    Err(classify(e, op))
                }
            }
            Err(e) => Err(classify(e, op)),
        }
    }

    /// Bumps the token version of `username`/`user_id` from `expected`, applying `change` to
    /// the user item and `new_status` to both items, in one transaction. `None` when the
    /// version moved concurrently (caller retries).
    async fn bump(
        &self,
        username: &str,
        user_id: &str,
        expected: u64,
        roles: Option<&[String]>,
        new_status: UserStatus,
    ) -> PortResult<Option<u64>> {
        let next = expected + 1;
        let mut set = "SET token_version = :next, #st = :status".to_owned();
        let mut user = self
            .update(format!("user#{username}"))
            .condition_expression("token_version = :expected")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":next", n(next))
            .expression_attribute_values(":expected", n(expected))
            .expression_attribute_values(":status", s(new_status.as_str()));
        if let Some(roles) = roles {
            // `roles` is a DynamoDB reserved word.
            set.push_str(", #roles = :roles");
            user = user
                .expression_attribute_names("#roles", "roles")
                .expression_attribute_values(":roles", list(roles));
        }
        let user = user.update_expression(set);
        let principal = self
            .update(format!("principal#{user_id}"))
            .update_expression("SET token_version = :next, #st = :status")
            .condition_expression("token_version = :expected")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":next", n(next))
            .expression_attribute_values(":expected", n(expected))
            .expression_attribute_values(":status", s(new_status.as_str()));
        let items = vec![
            TransactWriteItem::builder()
                .update(user.build().map_err(build_err)?)
                .build(),
            TransactWriteItem::builder()
                .update(principal.build().map_err(build_err)?)
                .build(),
        ];
        match self.transact(items, "change token version").await? {
            Ok(()) => Ok(Some(next)),
            Err(_) => Ok(None),
        }
    }

    /// Reads the user, then bumps; retries a few times when another change raced us.
    async fn change_user(
        &self,
        username: &Username,
        roles: Option<&[String]>,
        status: Option<UserStatus>,
    ) -> PortResult<Option<u64>> {
        for _ in 0..5 {
            let Some(user) = self.get_user(username).await? else {
                return Ok(None);
            };
            let new_status = status.unwrap_or(user.status);
            if let Some(v) = self
                .bump(
                    user.username.as_str(),
                    &user.user_id,
                    user.token_version,
                    roles,
                    new_status,
                )
                .await?
            {
                return Ok(Some(v));
            }
        }
        Err(PortError::Unavailable(anyhow::anyhow!(
            "token version kept changing concurrently"
        )))
    }
}

fn build_err(e: aws_sdk_dynamodb::error::BuildError) -> PortError {
    PortError::Unexpected(anyhow::Error::new(e).context("failed to build a DynamoDB request"))
}

#[async_trait]
impl UserStore for DynamoStore {
    async fn get_user(&self, username: &Username) -> PortResult<Option<User>> {
        let Some(item) = self.get(format!("user#{username}"), "read user").await? else {
            return Ok(None);
        };
        Ok(Some(User {
            username: username.clone(),
            user_id: get_s(&item, "user_id")?,
            password_hash: get_s(&item, "password_hash")?,
            roles: get_list(&item, "roles")?,
            status: status(&item)?,
            token_version: get_n(&item, "token_version")?,
        }))
    }

    async fn create_user(&self, user: &User) -> PortResult<bool> {
        let now = self.clock.now();
        let user_item = Put::builder()
            .table_name(&self.table)
            .item("pk", s(format!("user#{}", user.username)))
            .item("user_id", s(&user.user_id))
            .item("password_hash", s(&user.password_hash))
            .item("roles", list(&user.roles))
            .item("status", s(user.status.as_str()))
            .item("token_version", n(user.token_version))
            .item("created_at", n(now))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(build_err)?;
        let principal = Put::builder()
            .table_name(&self.table)
            .item("pk", s(format!("principal#{}", user.user_id)))
            .item("username", s(user.username.as_str()))
            .item("status", s(user.status.as_str()))
            .item("token_version", n(user.token_version))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().put(user_item).build(),
            TransactWriteItem::builder().put(principal).build(),
        ];
        Ok(self.transact(items, "create user").await?.is_ok())
    }

    async fn set_password_hash(&self, username: &Username, hash: &str) -> PortResult<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("user#{username}"))))
            .update_expression("SET password_hash = :h")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":h", s(hash))
            .send()
            .await
            .map_err(|e| classify(e, "update password hash"))?;
        Ok(())
    }

    async fn set_roles(&self, username: &Username, roles: &[String]) -> PortResult<Option<u64>> {
        self.change_user(username, Some(roles), None).await
    }

    async fn set_status(&self, username: &Username, status: UserStatus) -> PortResult<Option<u64>> {
        self.change_user(username, None, Some(status)).await
    }

    async fn bump_token_version(&self, user_id: &str) -> PortResult<Option<u64>> {
        let Some(p) = self
            .get(format!("principal#{user_id}"), "read principal")
            .await?
        else {
            return Ok(None);
        };
        let username =
            Username::parse(&get_s(&p, "username")?).ok_or_else(|| corrupt("username"))?;
        self.change_user(&username, None, None).await
    }
}

#[async_trait]
impl LockoutStore for DynamoStore {
    async fn get_lock(&self, username: &Username) -> PortResult<LockState> {
        let item = live(
            self.get(format!("lock#{username}"), "read lockout").await?,
            self.clock.now(),
        );
        match item {
            None => Ok(LockState::default()),
            Some(i) => Ok(LockState {
                failures: get_n(&i, "failures")?,
                last_failure_at: get_n(&i, "last_failure_at")?,
            }),
        }
    }

    async fn record_failure(
        &self,
        username: &Username,
        now: i64,
        expires_at: i64,
    ) -> PortResult<LockState> {
        // Count on from a live record; an expired one (not yet deleted) starts again at 1.
        let counted = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("lock#{username}"))))
            .update_expression("ADD failures :one SET last_failure_at = :now, #ttl = :exp")
            .condition_expression("attribute_not_exists(pk) OR #ttl > :now")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(expires_at))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let item = match counted {
            Ok(out) => out.attributes.unwrap_or_default(),
            Err(e) if service_code(&e) == Some("ConditionalCheckFailedException") => {
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .item("pk", s(format!("lock#{username}")))
                    .item("failures", n(1))
                    .item("last_failure_at", n(now))
                    .item("ttl", n(expires_at))
                    .send()
                    .await
                    .map_err(|e| classify(e, "reset lockout"))?;
                return Ok(LockState {
                    failures: 1,
                    last_failure_at: now,
                });
            }
            Err(e) => return Err(classify(e, "count login failure")),
        };
        Ok(LockState {
            failures: get_n(&item, "failures")?,
            last_failure_at: get_n(&item, "last_failure_at")?,
        })
    }

    async fn clear(&self, username: &Username) -> PortResult<()> {
        self.delete(format!("lock#{username}"), "clear lockout")
            .await
    }
}

#[async_trait]
impl RateLimiter for DynamoStore {
    async fn hit(&self, key_name: &str, window_start: i64, window_end: i64) -> PortResult<u64> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("rate#{key_name}#{window_start}"))))
            .update_expression("ADD #count :one SET #ttl = :end")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":end", n(window_end))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| classify(e, "count request"))?;
        get_n(&out.attributes.unwrap_or_default(), "count")
    }
}

/// Session attributes read back (everything but the growing `spent` set).
const SESSION_ATTRS: &[&str] = &[
    "pk",
    "user_id",
    "roles",
    "token_version",
    "created_at",
    "expires_at",
    "last_used_at",
    "current_hash",
    "previous_hash",
    "rotated_at",
    "generation",
    "revoked",
];

fn session_from(sid: &str, i: &Item) -> PortResult<Session> {
    Ok(Session {
        sid: sid.to_owned(),
        user_id: get_s(i, "user_id")?,
        roles: get_list(i, "roles")?,
        token_version: get_n(i, "token_version")?,
        created_at: get_n(i, "created_at")?,
        expires_at: get_n(i, "expires_at")?,
        last_used_at: get_n(i, "last_used_at")?,
        current_hash: TokenHash::from_stored(get_s(i, "current_hash")?),
        previous_hash: match i.get("previous_hash") {
            Some(AttributeValue::S(h)) => Some(TokenHash::from_stored(h.clone())),
            _ => None,
        },
        rotated_at: get_n(i, "rotated_at")?,
        generation: get_n(i, "generation")?,
        revoked: matches!(i.get("revoked"), Some(AttributeValue::Bool(true))),
    })
}

impl DynamoStore {
    fn principal_check(&self, user_id: &str, version: u64) -> PortResult<TransactWriteItem> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(format!("principal#{user_id}"))))
            .condition_expression("token_version = :v AND #st = :active")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":v", n(version))
            .expression_attribute_values(":active", s(UserStatus::Active.as_str()))
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// Runs [principal check, session update]; maps a cancellation to the item that failed.
    async fn session_write(
        &self,
        user_id: &str,
        version: u64,
        update: Update,
        op: &'static str,
    ) -> PortResult<WriteOutcome> {
        let items = vec![
            self.principal_check(user_id, version)?,
            TransactWriteItem::builder().update(update).build(),
        ];
        match self.transact(items, op).await? {
            Ok(()) => Ok(WriteOutcome::Written),
            Err(Some(failed)) if failed.first() == Some(&true) => {
                Ok(WriteOutcome::PrincipalChanged)
            }
            Err(Some(_)) => Ok(WriteOutcome::SessionChanged),
            // No per-item reasons: look at the principal to tell which condition failed.
            Err(None) => {
                let p = self
                    .get(format!("principal#{user_id}"), "read principal")
                    .await?;
                let unchanged = p.as_ref().is_some_and(|p| {
                    get_n::<u64>(p, "token_version").ok() == Some(version)
                        && status(p).ok() == Some(UserStatus::Active)
                });
                Ok(if unchanged {
                    WriteOutcome::SessionChanged
                } else {
                    WriteOutcome::PrincipalChanged
                })
            }
        }
    }
}

#[async_trait]
impl SessionStore for DynamoStore {
    async fn create_session(&self, x: &Session) -> PortResult<()> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("session#{}", x.sid)))
            .item("user_id", s(&x.user_id))
            .item("roles", list(&x.roles))
            .item("token_version", n(x.token_version))
            .item("created_at", n(x.created_at))
            .item("expires_at", n(x.expires_at))
            .item("last_used_at", n(x.last_used_at))
            .item("current_hash", s(x.current_hash.as_str()))
            .item("rotated_at", n(x.rotated_at))
            .item("generation", n(x.generation))
            .item("revoked", AttributeValue::Bool(x.revoked))
            .item("ttl", n(x.expires_at))
            .condition_expression("attribute_not_exists(pk)");
        if let Some(p) = &x.previous_hash {
            put = put.item("previous_hash", s(p.as_str()));
        }
        put.send()
            .await
            .map_err(|e| classify(e, "create session"))?;
        Ok(())
    }

    async fn get_session(&self, sid: &str) -> PortResult<Option<Session>> {
        let mut req = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("session#{sid}"))))
            .consistent_read(true);
        // Names are aliased: several (ttl, roles…) collide with DynamoDB reserved words.
        let mut projection = Vec::new();
        for (i, attr) in SESSION_ATTRS.iter().enumerate() {
            req = req.expression_attribute_names(format!("#a{i}"), *attr);
            projection.push(format!("#a{i}"));
        }
        let out = req
            .projection_expression(projection.join(", "))
            .send()
            .await
            .map_err(|e| classify(e, "read session"))?;
        out.item.map(|i| session_from(sid, &i)).transpose()
    }

    async fn rotate(&self, r: &Rotation) -> PortResult<WriteOutcome> {
        let update = self
            .update(format!("session#{}", r.sid))
            .update_expression(
                "SET previous_hash = :from, current_hash = :to, rotated_at = :now, \
                 last_used_at = :now, generation = generation + :one ADD spent :spent",
            )
            .condition_expression("current_hash = :from AND revoked = :no")
            .expression_attribute_values(":from", s(r.from.as_str()))
            .expression_attribute_values(":to", s(r.to.as_str()))
            .expression_attribute_values(":now", n(r.now))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .expression_attribute_values(
                ":spent",
                AttributeValue::Ss(vec![r.from.as_str().to_owned()]),
            )
            .build()
            .map_err(build_err)?;
        self.session_write(&r.user_id, r.token_version, update, "rotate session")
            .await
    }

    async fn touch(
        &self,
        sid: &str,
        user_id: &str,
        token_version: u64,
        current: &TokenHash,
        now: i64,
    ) -> PortResult<WriteOutcome> {
        let update = self
            .update(format!("session#{sid}"))
            .update_expression("SET last_used_at = :now")
            .condition_expression("current_hash = :current AND revoked = :no")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":current", s(current.as_str()))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .build()
            .map_err(build_err)?;
        self.session_write(user_id, token_version, update, "touch session")
            .await
    }

    async fn revoke_session(&self, sid: &str) -> PortResult<()> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("session#{sid}"))))
            .update_expression("SET revoked = :yes")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            // Revoking a session that does not exist is a no-op (logout is idempotent).
            Err(e) if service_code(&e) == Some("ConditionalCheckFailedException") => Ok(()),
            Err(e) => Err(classify(e, "revoke session")),
        }
    }

    async fn revoke_if_spent(&self, sid: &str, hash: &TokenHash) -> PortResult<bool> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("session#{sid}"))))
            .update_expression("SET revoked = :yes")
            .condition_expression("contains(spent, :h)")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":h", s(hash.as_str()))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if service_code(&e) == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(classify(e, "revoke reused session")),
        }
    }

    async fn delete_session(&self, sid: &str) -> PortResult<()> {
        self.delete(format!("session#{sid}"), "delete session")
            .await
    }
}

#[async_trait]
impl Denylist for DynamoStore {
    async fn deny(&self, jti: &str, until: i64) -> PortResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("deny#{jti}")))
            .item("ttl", n(until))
            .send()
            .await
            .map_err(|e| classify(e, "denylist token"))?;
        Ok(())
    }
}

#[async_trait]
impl RevocationSource for DynamoStore {
    async fn revocation_status(&self, jti: &str, user_id: &str) -> PortResult<RevocationStatus> {
        let deny_pk = format!("deny#{jti}");
        let principal_pk = format!("principal#{user_id}");
        let mut wanted = KeysAndAttributes::builder()
            .keys(key(deny_pk.clone()))
            .keys(key(principal_pk.clone()))
            .consistent_read(true)
            .build()
            .map_err(build_err)?;
        let mut found: Vec<Item> = Vec::new();
        // One round trip; a second only if DynamoDB hands keys back unprocessed (throttling).
        for _ in 0..3 {
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, wanted.clone())
                .send()
                .await
                .map_err(|e| classify(e, "read revocation state"))?;
            if let Some(mut r) = out.responses {
                found.extend(r.remove(&self.table).unwrap_or_default());
            }
            match out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)) {
                Some(rest) if !rest.keys().is_empty() => wanted = rest,
                _ => {
                    let pk = |i: &Item| i.get("pk").and_then(|v| v.as_s().ok()).cloned();
                    let deny = found.iter().find(|i| pk(i).as_deref() == Some(&deny_pk));
                    let principal = found
                        .iter()
                        .find(|i| pk(i).as_deref() == Some(&principal_pk));
                    return Ok(RevocationStatus {
                        jti_denied: live(deny.cloned(), self.clock.now()).is_some(),
                        principal: principal
                            .map(|p| {
                                Ok::<_, PortError>(Principal {
                                    token_version: get_n(p, "token_version")?,
                                    status: status(p)?,
                                })
                            })
                            .transpose()?,
                    });
                }
            }
        }
        Err(PortError::Unavailable(anyhow::anyhow!(
            "revocation state read left keys unprocessed"
        )))
    }
}
