//! The item codec: how each record of the domain is laid out as a DynamoDB item (see the table
//! in [`super`]), and the attribute conversions every port shares. Reading an item never
//! trusts it: a missing or mistyped attribute is an error naming the attribute, not a default.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use tokengate_domain::clients::Granted;
use tokengate_domain::lockout::LockState;
use tokengate_domain::ports::{FeedEntry, Principal, Revoked, Session, User, UserStatus};
use tokengate_domain::{PortError, PortResult, TokenHash, Username};

/// One DynamoDB item.
pub(super) type Item = HashMap<String, AttributeValue>;

/// A string attribute.
pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number attribute.
pub(super) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// A list of strings (`roles`: order is kept, so a list, not a set).
pub(super) fn list(values: &[String]) -> AttributeValue {
    AttributeValue::L(values.iter().map(|v| s(v.clone())).collect())
}

/// The primary key of the item `pk`.
pub(super) fn key(pk: String) -> Item {
    HashMap::from([("pk".to_owned(), s(pk))])
}

/// The string attribute `k`.
pub(super) fn get_s(item: &Item, k: &str) -> PortResult<String> {
    match item.get(k) {
        Some(AttributeValue::S(v)) => Ok(v.clone()),
        _ => Err(corrupt(k)),
    }
}

/// The number attribute `k`.
pub(super) fn get_n<T: std::str::FromStr>(item: &Item, k: &str) -> PortResult<T> {
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

/// The error for a stored item that does not decode.
pub(super) fn corrupt(attr: &str) -> PortError {
    PortError::Unexpected(anyhow::anyhow!(
        "stored item has a missing or malformed {attr}"
    ))
}

fn status(item: &Item) -> PortResult<UserStatus> {
    UserStatus::parse(&get_s(item, "status")?).ok_or_else(|| corrupt("status"))
}

/// An item whose TTL is not after `now` is treated as absent, whether or not DynamoDB deleted
/// it yet (it does so lazily, within days). The in-memory twin applies the same rule.
pub(super) fn live(item: Option<Item>, now: i64) -> Option<Item> {
    item.filter(|i| match i.get("ttl") {
        Some(AttributeValue::N(t)) => t.parse::<i64>().map_or(true, |t| t > now),
        _ => true,
    })
}

/// `user#<username>`, created at `now`.
pub(super) fn user_item(user: &User, now: i64) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(format!("user#{}", user.username))),
        ("user_id".to_owned(), s(&user.user_id)),
        ("password_hash".to_owned(), s(&user.password_hash)),
        ("roles".to_owned(), list(&user.roles)),
        ("status".to_owned(), s(user.status.as_str())),
        ("token_version".to_owned(), n(user.token_version)),
        ("created_at".to_owned(), n(now)),
    ])
}

/// The user `username` from its `user#` item.
pub(super) fn user_from(username: &Username, item: &Item) -> PortResult<User> {
    Ok(User {
        username: username.clone(),
        user_id: get_s(item, "user_id")?,
        password_hash: get_s(item, "password_hash")?,
        roles: get_list(item, "roles")?,
        status: status(item)?,
        token_version: get_n(item, "token_version")?,
    })
}

/// `principal#<user_id>`: what the authorizer reads.
pub(super) fn principal_item(user: &User) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(format!("principal#{}", user.user_id))),
        ("username".to_owned(), s(user.username.as_str())),
        ("status".to_owned(), s(user.status.as_str())),
        ("token_version".to_owned(), n(user.token_version)),
    ])
}

/// The authorizer's view of a user from its `principal#` item.
pub(super) fn principal_from(item: &Item) -> PortResult<Principal> {
    Ok(Principal {
        token_version: get_n(item, "token_version")?,
        status: status(item)?,
    })
}

/// The login name a `principal#` item points back to.
pub(super) fn principal_username(item: &Item) -> PortResult<Username> {
    Username::parse(&get_s(item, "username")?).ok_or_else(|| corrupt("username"))
}

/// `session#<sid>`; its TTL is the session's absolute end. Every attribute is written at
/// login and only overwritten after, so the item keeps its size: strings of fixed length, and
/// numbers that grow by digits only (docs/scaling.md, "Sessions keep their size").
pub(super) fn session_item(x: &Session) -> Item {
    let mut item = HashMap::from([
        ("pk".to_owned(), s(format!("session#{}", x.sid))),
        ("user_id".to_owned(), s(&x.user_id)),
        ("roles".to_owned(), list(&x.roles)),
        ("token_version".to_owned(), n(x.token_version)),
        ("created_at".to_owned(), n(x.created_at)),
        ("expires_at".to_owned(), n(x.expires_at)),
        ("last_used_at".to_owned(), n(x.last_used_at)),
        ("family_hash".to_owned(), s(x.family_hash.as_str())),
        ("current_hash".to_owned(), s(x.current_hash.as_str())),
        ("rotated_at".to_owned(), n(x.rotated_at)),
        ("generation".to_owned(), n(x.generation)),
        ("revoked".to_owned(), AttributeValue::Bool(x.revoked)),
        ("window_start".to_owned(), n(x.window_start)),
        ("window_hits".to_owned(), n(x.window_hits)),
        ("ttl".to_owned(), n(x.expires_at)),
    ]);
    if let Some(p) = &x.previous_hash {
        item.insert("previous_hash".to_owned(), s(p.as_str()));
    }
    // The original grant: bounded by configuration (client ids, scope names and resources
    // are configured, each at most 256 bytes), written at login only. Empty parts are left
    // out rather than written as empty strings.
    let scope = x.grant.scope();
    for (name, value) in [
        ("client_id", &x.grant.client_id),
        ("scope", &scope),
        ("resource", &x.grant.resource),
    ] {
        if !value.is_empty() {
            item.insert(name.to_owned(), s(value));
        }
    }
    item
}

/// An optional string attribute: empty when absent (a session from before clients existed).
fn get_s_or_empty(item: &Item, k: &str) -> PortResult<String> {
    match item.get(k) {
        None => Ok(String::new()),
        Some(_) => get_s(item, k),
    }
}

/// Session attributes read back (not the `spent` set that items written before families
/// carry: nothing reads it).
pub(super) const SESSION_ATTRS: &[&str] = &[
    "pk",
    "user_id",
    "roles",
    "token_version",
    "created_at",
    "expires_at",
    "last_used_at",
    "family_hash",
    "current_hash",
    "previous_hash",
    "rotated_at",
    "generation",
    "revoked",
    "window_start",
    "window_hits",
    "client_id",
    "scope",
    "resource",
];

/// The session `sid` from its `session#` item (read with [`SESSION_ATTRS`]), or `None` for an
/// item written before sessions had a family (no `family_hash`). Its tokens, of the earlier
/// two-part form, no longer parse, so the only token that can name it is one made up from its
/// session id: to that it is a session that does not exist, not a corrupt item (a 503). Its
/// owner signs in again; the item expires with its TTL.
pub(super) fn session_from(sid: &str, i: &Item) -> PortResult<Option<Session>> {
    if !i.contains_key("family_hash") {
        return Ok(None);
    }
    Ok(Some(Session {
        sid: sid.to_owned(),
        user_id: get_s(i, "user_id")?,
        roles: get_list(i, "roles")?,
        token_version: get_n(i, "token_version")?,
        created_at: get_n(i, "created_at")?,
        expires_at: get_n(i, "expires_at")?,
        last_used_at: get_n(i, "last_used_at")?,
        family_hash: TokenHash::from_stored(get_s(i, "family_hash")?),
        current_hash: TokenHash::from_stored(get_s(i, "current_hash")?),
        previous_hash: match i.get("previous_hash") {
            Some(AttributeValue::S(h)) => Some(TokenHash::from_stored(h.clone())),
            _ => None,
        },
        rotated_at: get_n(i, "rotated_at")?,
        generation: get_n(i, "generation")?,
        revoked: matches!(i.get("revoked"), Some(AttributeValue::Bool(true))),
        window_start: get_n(i, "window_start")?,
        window_hits: get_n(i, "window_hits")?,
        grant: Granted {
            client_id: get_s_or_empty(i, "client_id")?,
            scopes: get_s_or_empty(i, "scope")?
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            resource: get_s_or_empty(i, "resource")?,
        },
    }))
}

/// One lockout counter from a `lock#` or `lock-src#` item. A `lock#` item written before
/// counters carried their lock has no `locked_until`; it reads as unlocked (its count stays),
/// so a deploy does not turn those records into errors for the day they live.
pub(super) fn lock_from(item: &Item) -> PortResult<LockState> {
    Ok(LockState {
        failures: get_n(item, "failures")?,
        last_failure_at: get_n(item, "last_failure_at")?,
        locked_until: match item.get("locked_until") {
            None => 0,
            Some(_) => get_n(item, "locked_until")?,
        },
    })
}

/// The revocation feed's one partition (a second shard would be `feed#1`, docs/scaling.md).
pub(super) const FEED_SHARD: &str = "feed#0";

/// The feed's range key for an entry written at `at_ms` with the writer's random `suffix`:
/// 13 zero-padded digits of milliseconds (they sort as numbers do until the year 2286), `#`,
/// then 16 hex digits, so two entries of one millisecond never share a key.
pub(super) fn feed_at(at_ms: i64, suffix: u64) -> String {
    format!("{:013}#{suffix:016x}", at_ms.max(0))
}

/// The smallest range key of an entry written at or after `since_ms`: every key of that
/// millisecond continues it (`#…` sorts after the bare digits).
pub(super) fn feed_since(since_ms: i64) -> String {
    format!("{:013}", since_ms.max(0))
}

/// One feed item: `pk` (the shard), `at` (range key), `ttl` (= the entry's `until`), `revoked`
/// (`token`, `principal` or `session`), `id` (the `jti`, user id or session id) and, for a
/// principal, `min_version`.
pub(super) fn feed_item(entry: &FeedEntry, suffix: u64) -> Item {
    let (kind, id, min_version) = match &entry.revoked {
        Revoked::Token { jti } => ("token", jti, None),
        Revoked::Principal {
            user_id,
            min_version,
        } => ("principal", user_id, Some(*min_version)),
        Revoked::Session { sid } => ("session", sid, None),
    };
    let mut item = HashMap::from([
        ("pk".to_owned(), s(FEED_SHARD)),
        ("at".to_owned(), s(feed_at(entry.at_ms, suffix))),
        ("ttl".to_owned(), n(entry.until)),
        ("revoked".to_owned(), s(kind)),
        ("id".to_owned(), s(id)),
    ]);
    if let Some(v) = min_version {
        item.insert("min_version".to_owned(), n(v));
    }
    item
}

/// The entry a feed item records. An item that does not decode is an error, never skipped: a
/// reader that missed a revocation would accept what it revoked.
pub(super) fn feed_entry_from(item: &Item) -> PortResult<FeedEntry> {
    let at = get_s(item, "at")?;
    let at_ms = at
        .split_once('#')
        .and_then(|(ms, _)| ms.parse().ok())
        .ok_or_else(|| corrupt("at"))?;
    let id = get_s(item, "id")?;
    let revoked = match get_s(item, "revoked")?.as_str() {
        "token" => Revoked::Token { jti: id },
        "principal" => Revoked::Principal {
            user_id: id,
            min_version: get_n(item, "min_version")?,
        },
        "session" => Revoked::Session { sid: id },
        _ => return Err(corrupt("revoked")),
    };
    Ok(FeedEntry {
        at_ms,
        until: get_n(item, "ttl")?,
        revoked,
    })
}

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;
