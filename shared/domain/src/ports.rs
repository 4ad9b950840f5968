//! The narrow capabilities the domain needs from the outside world. Each has a DynamoDB/KMS
//! adapter in `tokengate-aws` and an in-memory twin in `tokengate-testing`; one contract suite
//! per port (`tokengate_testing::contract`) runs against both.
//!
//! Operations are named as the domain's actions (`grant`, `rotate`, `reissue_current`,
//! `revoke_family`, `sign_out_everywhere`), and each name is unique across the ports, because
//! one store type implements all of them and callers call it directly.

use crate::clients::Granted;
use crate::error::PortResult;
use crate::keyring::{Keyring, KeyringKey};
use crate::lockout::{
    Admission, Counters, DeviceCounter, DeviceReservation, LockState, LockStates, Reservation,
};
use crate::refresh_token::TokenHash;
use crate::username::Username;
use async_trait::async_trait;

/// Whether a user may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    /// May sign in.
    Active,
    /// May not sign in; existing tokens are dead (token version was bumped on disable).
    Disabled,
}

impl UserStatus {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }
    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }
}

/// A user record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Normalised login name (the store key).
    pub username: Username,
    /// Opaque, stable id: the `sub` claim. Not personal data.
    pub user_id: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Roles copied into access tokens.
    pub roles: Vec<String>,
    /// Active or disabled.
    pub status: UserStatus,
    /// Token version: access tokens and sessions with an older version are dead.
    pub token_version: u64,
}

/// Users and the principal record the authorizer reads (`user_id` → version, status).
/// Every change of version/status/roles updates both atomically.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Reads a user by normalised name.
    async fn find_user(&self, username: &Username) -> PortResult<Option<User>>;
    /// Creates a user; `false` if the name or the user id is taken (nothing changed).
    async fn create_user(&self, user: &User) -> PortResult<bool>;
    /// Replaces the password hash with `hash`, a re-hash of the same password at stronger
    /// parameters (login, when the parameters rose), only if the user is still as `read`: the
    /// same hash at the same token version. A password change, an admin reset or a disable that
    /// committed after the login read the user wins: nothing is written and the answer is
    /// `false` (as for a user that no longer exists; nothing is created).
    async fn upgrade_password_hash(&self, read: &User, hash: &str) -> PortResult<bool>;
    /// Sets roles and bumps the token version, so old tokens with old roles die. Returns the new
    /// version, or `None` if there is no such user.
    async fn set_roles(&self, username: &Username, roles: &[String]) -> PortResult<Option<u64>>;
    /// Sets the status and bumps the token version. `None` if there is no such user.
    async fn set_status(&self, username: &Username, status: UserStatus) -> PortResult<Option<u64>>;
    /// Bumps the token version of the user with this id, which ends every session and access
    /// token of the user (global logout, admin revocation). Returns the new version, `None` if
    /// there is no such user.
    async fn sign_out_everywhere(&self, user_id: &str) -> PortResult<Option<u64>>;
    /// Replaces the password hash and bumps the token version together (password change,
    /// admin reset): every session and access token issued with the old password ends. Written
    /// only if the user is still at `expected_version` — the version its current password was
    /// checked at — so a reset, a disable or another change in between wins. Returns the new
    /// version, `None` if there is no such user or its version moved.
    async fn change_password(
        &self,
        username: &Username,
        hash: &str,
        expected_version: u64,
    ) -> PortResult<Option<u64>>;
    /// The login name of the user with this id (`sub`), `None` if there is none.
    async fn find_username(&self, user_id: &str) -> PortResult<Option<Username>>;
    /// Bumps the token version of the user with this id only if it is still `token_version`
    /// and the user is active: a global logout by a credential issued under that version. A
    /// credential of an older version (its owner was signed out since) bumps nothing. Returns
    /// the new version, `None` if nothing changed (version moved on, user disabled or absent).
    async fn sign_out_everywhere_from(
        &self,
        user_id: &str,
        token_version: u64,
    ) -> PortResult<Option<u64>>;
}

/// The lockout's failure counters (see [`crate::lockout`]): one per (account, source network)
/// and one per account, admitted and counted together; or, for an attempt with a valid device
/// credential, one per (account, device), admitted and counted alone.
#[async_trait]
pub trait LockoutStore: Send + Sync {
    /// Both counters of `counters` as stored: the default for a counter with no record or
    /// whose TTL is not after the store clock's now.
    async fn lock_states(&self, counters: &Counters) -> PortResult<LockStates>;
    /// Admits one attempt or refuses it, atomically across both counters, before the password
    /// is checked: if neither is locked at `reservation.at`, writes both as
    /// [`LockStates::admit`] says (the attempt counted as a failure, the lock it would start
    /// included) and answers `Admitted` with them; otherwise changes nothing and answers
    /// `Locked`. Concurrent reservations are serialised: N of them on fresh counters with a
    /// threshold of T admit exactly min(N, T).
    async fn reserve_attempt(&self, reservation: &Reservation) -> PortResult<Admission>;
    /// Forgets both counters (a right password: its reservation was no failure). Idempotent.
    async fn clear_failures(&self, counters: &Counters) -> PortResult<()>;
    /// A device's counter as stored (the default when absent or past its TTL).
    async fn device_lock_state(&self, counter: &DeviceCounter) -> PortResult<LockState>;
    /// Admits one attempt of a device or refuses it, as [`reserve_attempt`](Self::reserve_attempt)
    /// does but on the device's counter alone ([`LockState::admit`] under the per-source
    /// back-off): the source and account counters are neither read nor written. Concurrent
    /// reservations are serialised: N of them on a fresh counter admit exactly min(N, T).
    async fn reserve_device_attempt(
        &self,
        reservation: &DeviceReservation,
    ) -> PortResult<Admission<LockState>>;
    /// Forgets a device's counter. Idempotent.
    async fn clear_device_failures(&self, counter: &DeviceCounter) -> PortResult<()>;
}

/// A fixed rate-limit window: `[start, end)` in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First second of the window; it names the counter.
    pub start: i64,
    /// First second after the window; the counter's TTL.
    pub end: i64,
}

/// Fixed-window counters (per source network).
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts one hit for `key` in `window` and returns the count including this hit.
    async fn count_hit(&self, key: &str, window: Window) -> PortResult<u64>;
}

/// A session: one refresh-token family, started by a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Session id (public; part of the refresh token and the `sid` claim).
    pub sid: String,
    /// `sub` of the owner.
    pub user_id: String,
    /// Roles at login (a role change bumps the token version, which ends the session).
    pub roles: Vec<String>,
    /// Owner's token version at login; the session dies when the user's version moves on.
    pub token_version: u64,
    /// Unix time of the login.
    pub created_at: i64,
    /// Absolute end of the session (also the item's TTL).
    pub expires_at: i64,
    /// Last successful refresh or login; with the idle timeout bounds inactivity.
    pub last_used_at: i64,
    /// Hash of the family secret every token of the session carries: tells a replayed token
    /// of the family (reuse) from a made-up one, without storing any spent token.
    pub family_hash: TokenHash,
    /// Hash of the current (unspent) refresh token.
    pub current_hash: TokenHash,
    /// Hash of the immediate predecessor, for the grace window.
    pub previous_hash: Option<TokenHash>,
    /// When `current_hash` was installed.
    pub rotated_at: i64,
    /// Number of rotations so far.
    pub generation: u64,
    /// Revoked by logout or reuse detection.
    pub revoked: bool,
    /// When the session's current refresh-limit window opened (0 before the first refresh).
    pub window_start: i64,
    /// Refreshes counted in that window.
    pub window_hits: u64,
    /// What the login granted: client, scopes, resource. A refresh may narrow it, never
    /// widen it, and always comes back to it (RFC 6749 §6). Empty parts: a session from
    /// before clients existed (the default client, no scope, the configured audience).
    pub grant: Granted,
}

/// One refresh counted in the session's own limit, written by the rotation or reissue that
/// answers it, on condition that the stored counter is still what the read decided from:
/// - `window_start == seen_window_start` (the window is still open): adds one, and commits only
///   while the stored window is that one and its count is below `limit`, so concurrent
///   refreshes never count past it;
/// - otherwise (the read's window has ended): opens the window at `window_start` with one
///   refresh, and commits only if the stored window is still the read's, so of two concurrent
///   openers one commits and the other reads again and adds to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshCount {
    /// The window this refresh counts in.
    pub window_start: i64,
    /// The window the read showed.
    pub seen_window_start: i64,
    /// Refreshes allowed per window.
    pub limit: u64,
}

impl RefreshCount {
    /// The read's window is still open: the write adds to it.
    pub fn continues_window(&self) -> bool {
        self.window_start == self.seen_window_start
    }
}

/// One rotation step: `from` (current) becomes the predecessor, `to` becomes current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// Session id.
    pub sid: String,
    /// Owner, for the token-version check.
    pub user_id: String,
    /// Token version the session was issued under.
    pub token_version: u64,
    /// Hash expected to be current.
    pub from: TokenHash,
    /// Hash of the successor.
    pub to: TokenHash,
    /// Now (rotated_at, last_used_at).
    pub now: i64,
    /// This refresh in the session's own limit.
    pub count: RefreshCount,
}

/// A grace-window answer: the family's current token is handed out again, and the session is
/// marked used at `now`, if `current` is still current and the owner unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reissue {
    /// Session id.
    pub sid: String,
    /// Owner, for the token-version check.
    pub user_id: String,
    /// Token version the session was issued under.
    pub token_version: u64,
    /// Hash expected to be current.
    pub current: TokenHash,
    /// Now (last_used_at).
    pub now: i64,
    /// This refresh in the session's own limit.
    pub count: RefreshCount,
}

/// Result of a conditional session write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Written.
    Written,
    /// The session was not in the expected state (already rotated, revoked or gone); re-read
    /// to find out why.
    SessionChanged,
    /// The owner's token version or status moved on: signed out everywhere or disabled.
    PrincipalChanged,
}

/// Sessions (refresh-token families).
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores the new family a login starts (the session must not exist yet).
    async fn grant(&self, session: &Session) -> PortResult<()>;
    /// Reads a session with a strongly consistent read.
    async fn find_session(&self, sid: &str) -> PortResult<Option<Session>>;
    /// One conditional write: succeeds only if the session is not revoked, `from` is current,
    /// the stored refresh counter allows `rotation.count` (see [`RefreshCount`]), and the
    /// owner's token version equals `token_version` and the owner is active. `from` becomes the
    /// predecessor and the count is recorded; the item keeps its size (no spent token is kept).
    async fn rotate(&self, rotation: &Rotation) -> PortResult<WriteOutcome>;
    /// Grace-window answer: marks the session used and records `reissue.count` if
    /// `reissue.current` is still current, the counter allows it and the owner is unchanged;
    /// nothing else changes.
    async fn reissue_current(&self, reissue: &Reissue) -> PortResult<WriteOutcome>;
    /// Revokes the whole family. Idempotent; a session that does not exist stays absent.
    async fn revoke_family(&self, sid: &str) -> PortResult<()>;
    /// Reuse: revokes the family if its family hash is `family` (the replayed token was issued
    /// to this family); `true` if it was. A session that does not exist stays absent.
    async fn revoke_family_on_reuse(&self, sid: &str, family: &TokenHash) -> PortResult<bool>;
    /// Deletes a family again: the undo of a grant whose access token could not be signed.
    async fn cancel_grant(&self, sid: &str) -> PortResult<()>;
}

/// Access-token denylist (keyed on `jti`, never on token bytes).
#[async_trait]
pub trait Denylist: Send + Sync {
    /// Denies `jti` while the store's clock shows a time before `until` (the record's TTL);
    /// from `until` on the entry reads as absent. Logout passes the first second at which
    /// verifiers refuse the token as expired (`Validation::expired_from`, `exp + leeway + 1`),
    /// so the entry outlives every moment at which the token would otherwise be accepted.
    async fn deny(&self, jti: &str, until: i64) -> PortResult<()>;
}

/// What the authorizer needs to know about a token beyond its signature, in one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevocationStatus {
    /// The `jti` is denylisted.
    pub jti_denied: bool,
    /// The token's session (`sid`) was revoked: logout, reuse detection, revocation of its
    /// refresh token (RFC 7009 §2.1: the access tokens of the same grant end with it).
    pub session_revoked: bool,
    /// The owner's current token version and status; `None` if the user no longer exists.
    pub principal: Option<Principal>,
}

/// The authorizer's view of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    /// Current token version.
    pub token_version: u64,
    /// Active or disabled.
    pub status: UserStatus,
}

impl RevocationStatus {
    /// Whether a token with these `jti`, `sid` and `ver` is revoked: denylisted, its session
    /// revoked, its owner gone, disabled or at another token version.
    pub fn revokes(&self, token_version: u64) -> bool {
        self.jti_denied
            || self.session_revoked
            || !self
                .principal
                .is_some_and(|p| p.status == UserStatus::Active && p.token_version == token_version)
    }
}

/// Denylist, session and principal lookup in one round trip.
#[async_trait]
pub trait RevocationSource: Send + Sync {
    /// Looks up `jti` in the denylist, the session `sid` (if the token names one) and the
    /// principal `user_id` together (strongly consistent).
    async fn revocation_status(
        &self,
        jti: &str,
        user_id: &str,
        sid: Option<&str>,
    ) -> PortResult<RevocationStatus>;
}

/// What one revoking write revoked, as the revocation feed records it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Revoked {
    /// One access token (logout with a bearer token, RFC 7009 revocation of an access token).
    Token {
        /// Its `jti`.
        jti: String,
    },
    /// Every access token of the user below `min_version`: global logout, password change or
    /// reset, disable (and enable), role change, `revoke-sessions`.
    Principal {
        /// The user id (`sub`).
        user_id: String,
        /// The user's new token version.
        min_version: u64,
    },
    /// Every access token of a session: its family was revoked (logout, reuse detection,
    /// revocation of its refresh token).
    Session {
        /// The session id (`sid`).
        sid: String,
    },
}

/// One item of the revocation feed, appended in the same transaction as the write that
/// revoked (see [`crate::revocation_feed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    /// When the writer wrote it, by the writer's clock, in unix milliseconds: the feed's order.
    /// Writers' clocks are skewed, so readers re-read a window before their cursor.
    pub at_ms: i64,
    /// The first second at which the entry no longer matters (no token it revokes is accepted
    /// any longer): `exp + leeway + 1` for a token, [`crate::revocation_feed::entry_until`]
    /// for a principal or a session. Also the item's TTL.
    pub until: i64,
    /// What was revoked.
    pub revoked: Revoked,
}

/// The revocation feed, read by the authorizer.
#[async_trait]
pub trait RevocationFeed: Send + Sync {
    /// Every entry with `at_ms >= since_ms`, in `at_ms` order, read with strongly consistent
    /// reads (all pages). Entries past their `until` may be among them (TTL deletion is lazy):
    /// the reader filters.
    async fn read_feed(&self, since_ms: i64) -> PortResult<Vec<FeedEntry>>;
}

/// Signs JWS signing inputs with a key of the keyring (KMS `Sign` with its ARN).
#[async_trait]
pub trait TokenSigner: Send + Sync {
    /// Signs `signing_input` with `key` (the keyring's current key, whose `kid` and `alg` the
    /// header names); returns the signature in JWS form (64-byte r‖s for ES256).
    async fn sign(&self, key: &KeyringKey, signing_input: &[u8]) -> PortResult<Vec<u8>>;
}

/// The signing keyring, one item (`keyring#signing`). Every write is conditional on the
/// version it was read at, so concurrent changes never overwrite each other.
#[async_trait]
pub trait KeyringStore: Send + Sync {
    /// The keyring as stored (a strongly consistent read); an empty keyring at version 0 if
    /// there is no item.
    async fn read_keyring(&self) -> PortResult<Keyring>;
    /// Stores `keyring` as version `keyring.version() + 1`, only if the stored version is still
    /// `keyring.version()` (for version 0: only if there is no item). `false` if another write
    /// came first (nothing written: read again and decide again).
    async fn replace_keyring(&self, keyring: &Keyring) -> PortResult<bool>;
}

/// Keyed MAC used to derive a refresh token's successor (see [`crate::refresh`]).
#[async_trait]
pub trait RefreshMac: Send + Sync {
    /// MAC of `message` (32 bytes, HMAC-SHA-256).
    async fn mac(&self, message: &[u8]) -> PortResult<[u8; 32]>;
}
