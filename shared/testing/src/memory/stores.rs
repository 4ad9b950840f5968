//! The ports on [`MemoryBackend`]: each conditional write checks what the adapter's condition
//! expression checks, under one lock, so a race has the outcome DynamoDB gives it.

use async_trait::async_trait;
use tokengate_domain::error::{PortError, PortResult};
use tokengate_domain::keyring::Keyring;
use tokengate_domain::lockout::{
    Admission, Counters, DeviceCounter, DeviceReservation, LockState, LockStates, Reservation,
};
use tokengate_domain::ports::{
    Denylist, FeedEntry, KeyringStore, LockoutStore, Principal, RateLimiter, RefreshCount, Reissue,
    RevocationFeed, RevocationSource, RevocationStatus, Revoked, Rotation, Session, SessionStore,
    User, UserStatus, UserStore, Window, WriteOutcome,
};
use tokengate_domain::refresh_token::TokenHash;
use tokengate_domain::username::Username;

use super::{live, MemoryBackend, State};

fn principal_ok(state: &State, user_id: &str, version: u64) -> bool {
    state.users.values().any(|u| {
        u.user_id == user_id && u.token_version == version && u.status == UserStatus::Active
    })
}

impl MemoryBackend {
    /// Changes the user `pred` finds and bumps its token version, appending the bump to the
    /// feed (every version bump revokes the user's older tokens).
    fn update_user(
        &self,
        state: &mut State,
        pred: impl Fn(&User) -> bool,
        change: impl FnOnce(&mut User),
    ) -> Option<u64> {
        let user = state.users.values_mut().find(|u| pred(u))?;
        change(user);
        user.token_version += 1;
        let (user_id, min_version) = (user.user_id.clone(), user.token_version);
        let revoked = Revoked::Principal {
            user_id,
            min_version,
        };
        self.append_feed(state, revoked, None);
        Some(min_version)
    }

    /// Revokes the session `sid` if `pred` accepts it; `true` if it did.
    fn revoke_session(&self, sid: &str, pred: impl Fn(&Session) -> bool) -> PortResult<bool> {
        let mut s = self.enter()?;
        match s.sessions.get_mut(sid) {
            Some(session) if pred(session) => session.revoked = true,
            _ => return Ok(false),
        }
        let revoked = Revoked::Session {
            sid: sid.to_owned(),
        };
        self.append_feed(&mut s, revoked, None);
        Ok(true)
    }
}

#[async_trait]
impl UserStore for MemoryBackend {
    async fn find_user(&self, username: &Username) -> PortResult<Option<User>> {
        Ok(self.enter()?.users.get(username.as_str()).cloned())
    }
    async fn create_user(&self, user: &User) -> PortResult<bool> {
        let mut s = self.enter()?;
        // The adapter writes `user#<name>` and `principal#<id>` in one transaction, each on
        // condition that it does not exist: a taken id refuses the user as a taken name does.
        let id_taken = s.users.values().any(|u| u.user_id == user.user_id);
        if id_taken || s.users.contains_key(user.username.as_str()) {
            return Ok(false);
        }
        s.users
            .insert(user.username.as_str().to_owned(), user.clone());
        Ok(true)
    }
    async fn upgrade_password_hash(&self, read: &User, hash: &str) -> PortResult<bool> {
        let mut s = self.enter()?;
        // The adapter's condition: the hash and the token version the login read.
        match s.users.get_mut(read.username.as_str()) {
            Some(u)
                if u.password_hash == read.password_hash
                    && u.token_version == read.token_version =>
            {
                u.password_hash = hash.to_owned();
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    async fn set_roles(&self, username: &Username, roles: &[String]) -> PortResult<Option<u64>> {
        let mut s = self.enter()?;
        Ok(self.update_user(
            &mut s,
            |u| &u.username == username,
            |u| u.roles = roles.to_vec(),
        ))
    }
    async fn set_status(&self, username: &Username, status: UserStatus) -> PortResult<Option<u64>> {
        let mut s = self.enter()?;
        Ok(self.update_user(&mut s, |u| &u.username == username, |u| u.status = status))
    }
    async fn sign_out_everywhere(&self, user_id: &str) -> PortResult<Option<u64>> {
        let mut s = self.enter()?;
        Ok(self.update_user(&mut s, |u| u.user_id == user_id, |_| {}))
    }
    async fn change_password(
        &self,
        username: &Username,
        hash: &str,
        expected_version: u64,
    ) -> PortResult<Option<u64>> {
        let mut s = self.enter()?;
        Ok(self.update_user(
            &mut s,
            |u| &u.username == username && u.token_version == expected_version,
            |u| u.password_hash = hash.to_owned(),
        ))
    }
    async fn find_username(&self, user_id: &str) -> PortResult<Option<Username>> {
        let s = self.enter()?;
        let user = s.users.values().find(|u| u.user_id == user_id);
        Ok(user.map(|u| u.username.clone()))
    }
    async fn sign_out_everywhere_from(
        &self,
        user_id: &str,
        token_version: u64,
    ) -> PortResult<Option<u64>> {
        let mut s = self.enter()?;
        Ok(self.update_user(
            &mut s,
            |u| {
                u.user_id == user_id
                    && u.token_version == token_version
                    && u.status == UserStatus::Active
            },
            |_| {},
        ))
    }
}

/// The twin's keys of an attempt's two counters: (source, account). As in the adapter, the
/// network comes before the name and the two kinds differ in their prefix, so no name can be
/// made to collide with another account's per-source counter.
fn lock_keys(c: &Counters) -> (String, String) {
    (
        format!("src#{}#{}", c.network, c.username),
        format!("account#{}", c.username),
    )
}

fn device_key(c: &DeviceCounter) -> String {
    format!("device#{}#{}", c.device_id, c.username)
}

fn lock_at(state: &State, key: &str, now: i64) -> LockState {
    state
        .locks
        .get(key)
        .filter(|(_, ttl)| live(*ttl, now))
        .map(|(lock, _)| *lock)
        .unwrap_or_default()
}

#[async_trait]
impl LockoutStore for MemoryBackend {
    async fn lock_states(&self, counters: &Counters) -> PortResult<LockStates> {
        let now = self.clock.now();
        let s = self.enter()?;
        let (source, account) = lock_keys(counters);
        Ok(LockStates {
            source: lock_at(&s, &source, now),
            account: lock_at(&s, &account, now),
        })
    }
    async fn reserve_attempt(&self, r: &Reservation) -> PortResult<Admission> {
        // Under one lock: the read, the decision and the write of both counters are one step,
        // as the adapter's transaction conditioned on what it read is (`seen` is only its
        // first guess at that; the twin always knows the current state).
        let mut s = self.enter()?;
        let (source, account) = lock_keys(&r.counters);
        let current = LockStates {
            source: lock_at(&s, &source, r.at),
            account: lock_at(&s, &account, r.at),
        };
        match current.admit(&r.rules, r.at) {
            Err(until) => Ok(Admission::Locked { until }),
            Ok(next) => {
                let memory = r.rules.memory_secs;
                s.locks
                    .insert(source, (next.source, next.source.keep_until(memory)));
                s.locks
                    .insert(account, (next.account, next.account.keep_until(memory)));
                Ok(Admission::Admitted(next))
            }
        }
    }
    async fn clear_failures(&self, counters: &Counters) -> PortResult<()> {
        let mut s = self.enter()?;
        let (source, account) = lock_keys(counters);
        s.locks.remove(&source);
        s.locks.remove(&account);
        Ok(())
    }
    async fn device_lock_state(&self, counter: &DeviceCounter) -> PortResult<LockState> {
        let now = self.clock.now();
        let s = self.enter()?;
        Ok(lock_at(&s, &device_key(counter), now))
    }
    async fn reserve_device_attempt(
        &self,
        r: &DeviceReservation,
    ) -> PortResult<Admission<LockState>> {
        // Read, decide and write under one lock, as `reserve_attempt`.
        let mut s = self.enter()?;
        let key = device_key(&r.counter);
        match lock_at(&s, &key, r.at).admit(r.rules.source, r.at) {
            Err(until) => Ok(Admission::Locked { until }),
            Ok(next) => {
                s.locks
                    .insert(key, (next, next.keep_until(r.rules.memory_secs)));
                Ok(Admission::Admitted(next))
            }
        }
    }
    async fn clear_device_failures(&self, counter: &DeviceCounter) -> PortResult<()> {
        self.enter()?.locks.remove(&device_key(counter));
        Ok(())
    }
}

#[async_trait]
impl RateLimiter for MemoryBackend {
    async fn count_hit(&self, key: &str, window: Window) -> PortResult<u64> {
        let mut s = self.enter()?;
        let count = s
            .rates
            .entry(format!("{key}#{}", window.start))
            .or_default();
        *count += 1;
        Ok(*count)
    }
}

/// Whether the stored refresh counter allows `count`: the adapter's condition on
/// `window_start` (and, in an open window, `window_hits < limit`).
fn count_allowed(session: &Session, count: &RefreshCount) -> bool {
    if count.continues_window() {
        session.window_start == count.window_start && session.window_hits < count.limit
    } else {
        session.window_start == count.seen_window_start
    }
}

/// Records `count`: one more in the open window, or a new window with one refresh.
fn record(session: &mut Session, count: &RefreshCount) {
    if count.continues_window() {
        session.window_hits += 1;
    } else {
        session.window_start = count.window_start;
        session.window_hits = 1;
    }
}

#[async_trait]
impl SessionStore for MemoryBackend {
    async fn grant(&self, session: &Session) -> PortResult<()> {
        let mut s = self.enter()?;
        if s.sessions.contains_key(&session.sid) {
            return Err(PortError::Unexpected(anyhow::anyhow!(
                "session id collision"
            )));
        }
        s.sessions.insert(session.sid.clone(), session.clone());
        Ok(())
    }
    async fn find_session(&self, sid: &str) -> PortResult<Option<Session>> {
        Ok(self.enter()?.sessions.get(sid).cloned())
    }
    async fn rotate(&self, r: &Rotation) -> PortResult<WriteOutcome> {
        let mut s = self.enter()?;
        if !principal_ok(&s, &r.user_id, r.token_version) {
            return Ok(WriteOutcome::PrincipalChanged);
        }
        let Some(session) = s.sessions.get_mut(&r.sid) else {
            return Ok(WriteOutcome::SessionChanged);
        };
        if session.revoked || session.current_hash != r.from || !count_allowed(session, &r.count) {
            return Ok(WriteOutcome::SessionChanged);
        }
        session.previous_hash = Some(r.from.clone());
        session.current_hash = r.to.clone();
        session.rotated_at = r.now;
        session.last_used_at = r.now;
        session.generation += 1;
        record(session, &r.count);
        Ok(WriteOutcome::Written)
    }
    async fn reissue_current(&self, r: &Reissue) -> PortResult<WriteOutcome> {
        let mut s = self.enter()?;
        if !principal_ok(&s, &r.user_id, r.token_version) {
            return Ok(WriteOutcome::PrincipalChanged);
        }
        match s.sessions.get_mut(&r.sid) {
            Some(session)
                if !session.revoked
                    && session.current_hash == r.current
                    && count_allowed(session, &r.count) =>
            {
                session.last_used_at = r.now;
                record(session, &r.count);
                Ok(WriteOutcome::Written)
            }
            _ => Ok(WriteOutcome::SessionChanged),
        }
    }
    async fn revoke_family(&self, sid: &str) -> PortResult<()> {
        self.revoke_session(sid, |_| true)?;
        Ok(())
    }
    async fn revoke_family_on_reuse(&self, sid: &str, family: &TokenHash) -> PortResult<bool> {
        self.revoke_session(sid, |session| &session.family_hash == family)
    }
    async fn cancel_grant(&self, sid: &str) -> PortResult<()> {
        self.enter()?.sessions.remove(sid);
        Ok(())
    }
}

#[async_trait]
impl Denylist for MemoryBackend {
    async fn deny(&self, jti: &str, until: i64) -> PortResult<()> {
        let mut s = self.enter()?;
        s.denied.insert(jti.to_owned(), until);
        let revoked = Revoked::Token {
            jti: jti.to_owned(),
        };
        self.append_feed(&mut s, revoked, Some(until));
        Ok(())
    }
}

#[async_trait]
impl RevocationFeed for MemoryBackend {
    async fn read_feed(&self, since_ms: i64) -> PortResult<Vec<FeedEntry>> {
        let s = self.enter()?;
        let mut entries: Vec<FeedEntry> = s
            .feed
            .iter()
            .filter(|e| e.at_ms >= since_ms)
            .cloned()
            .collect();
        entries.sort_by_key(|e| e.at_ms);
        Ok(entries)
    }
}

#[async_trait]
impl RevocationSource for MemoryBackend {
    async fn revocation_status(
        &self,
        jti: &str,
        user_id: &str,
        sid: Option<&str>,
    ) -> PortResult<RevocationStatus> {
        let now = self.clock.now();
        let s = self.enter()?;
        Ok(RevocationStatus {
            jti_denied: s.denied.get(jti).is_some_and(|&ttl| live(ttl, now)),
            session_revoked: sid
                .and_then(|sid| s.sessions.get(sid))
                .is_some_and(|x| x.revoked),
            principal: s
                .users
                .values()
                .find(|u| u.user_id == user_id)
                .map(|u| Principal {
                    token_version: u.token_version,
                    status: u.status,
                }),
        })
    }
}

#[async_trait]
impl KeyringStore for MemoryBackend {
    async fn read_keyring(&self) -> PortResult<Keyring> {
        Ok(self.enter()?.keyring.clone().unwrap_or_default())
    }
    async fn replace_keyring(&self, keyring: &Keyring) -> PortResult<bool> {
        let mut s = self.enter()?;
        // The adapter's `PutItem` is conditioned on the version read (no item for version 0).
        let stored = s.keyring.as_ref().map_or(0, Keyring::version);
        if stored != keyring.version() {
            return Ok(false);
        }
        let written = Keyring::from_stored(keyring.version() + 1, keyring.keys().to_vec())
            .map_err(|e| PortError::Unexpected(anyhow::Error::new(e)))?;
        s.keyring = Some(written);
        Ok(true)
    }
}
