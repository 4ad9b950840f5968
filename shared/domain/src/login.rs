//! `login`: per-source-network limit, lockout, password check, then a new session and an access
//! token.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::AuthConfig;
use crate::error::{AuthError, ErrorCode};
use crate::issuer::{AccessTokenIssuer, IssuedAccessToken, Subject};
use crate::lockout::{Admission, Counters, Reservation};
use crate::network::source_network;
use crate::password::{Password, PasswordHashing, MAX_PASSWORD_BYTES};
use crate::ports::{
    LockoutStore, RateLimiter, Session, SessionStore, User, UserStatus, UserStore, Window,
};
use crate::refresh_token::RefreshToken;
use crate::username::Username;

/// A login attempt.
#[derive(Debug)]
pub struct LoginAttempt {
    /// Name as typed.
    pub username: String,
    /// Password as typed.
    pub password: Password,
    /// API Gateway's `sourceIp` (never `X-Forwarded-For`, which the caller controls).
    pub source_ip: String,
}

/// What a successful login hands out.
#[derive(Debug)]
pub struct Grant {
    /// The access token.
    pub access: IssuedAccessToken,
    /// The refresh token (cookie or body).
    pub refresh: RefreshToken,
    /// Seconds the refresh token can live at most (cookie `Max-Age`).
    pub refresh_max_age: i64,
}

/// The login operation and what it needs.
#[derive(Clone)]
pub struct Login {
    /// Users.
    pub users: Arc<dyn UserStore>,
    /// Failure counters per (account, source network) and per account.
    pub lockout: Arc<dyn LockoutStore>,
    /// Per-source-network counters.
    pub rate: Arc<dyn RateLimiter>,
    /// Sessions.
    pub sessions: Arc<dyn SessionStore>,
    /// Access-token issuer.
    pub issuer: AccessTokenIssuer,
    /// Argon2id ([`crate::PasswordHasher`]).
    pub hasher: Arc<dyn PasswordHashing>,
    /// Clock.
    pub clock: Arc<dyn Clock>,
    /// Settings.
    pub config: AuthConfig,
}

impl Login {
    /// Checks the credentials and, if they hold, starts a session.
    pub async fn login(&self, attempt: LoginAttempt) -> Result<Grant, AuthError> {
        let now = self.clock.now();
        let (user, counters) = self.admit_and_verify(&attempt).await?;
        // Clearing the counters and starting the session are independent: one round trip.
        let (grant, ()) = tokio::join!(
            self.start_session(&user, now),
            self.clear_failures(&counters)
        );
        let grant = grant?;
        // Must not fail the login: upgrade a hash made with weaker parameters.
        self.rehash_if_needed(&user, attempt.password).await;
        tracing::info!(event = "login_succeeded", sid = %grant.refresh.sid());
        Ok(grant)
    }

    /// Everything login does to decide whether the password is right — the per-source-network
    /// limit, the lockout's reservation, the Argon2 check, clearing the counters — without
    /// starting a session. A password change checks the current password with it, so a wrong
    /// one counts against the lockout exactly like a failed login.
    ///
    /// The attempt is admitted by the lockout store *before* Argon2 runs, and counted as a
    /// failure in the same atomic write (see [`crate::lockout`]): concurrent guesses cannot all
    /// pass a check made before any of them is counted. Known and unknown names take the same
    /// path through the same counters.
    pub async fn check_credentials(&self, attempt: &LoginAttempt) -> Result<User, AuthError> {
        let (user, counters) = self.admit_and_verify(attempt).await?;
        self.clear_failures(&counters).await;
        Ok(user)
    }

    /// The reservation counted a right password as a failure, and a success also ends the
    /// account's run of consecutive failures (NIST counts those): clear both counters. Must not
    /// fail the login: left in place, the counts only come due sooner.
    async fn clear_failures(&self, counters: &Counters) {
        if let Err(e) = self.lockout.clear_failures(counters).await {
            tracing::warn!(event = "lockout_clear_failed", error = %e);
        }
    }

    /// [`check_credentials`](Self::check_credentials) up to the verdict: the user whose
    /// password held, with the counters to clear.
    async fn admit_and_verify(
        &self,
        attempt: &LoginAttempt,
    ) -> Result<(User, Counters), AuthError> {
        let cfg = &self.config;
        let now = self.clock.now();
        let name = Username::parse(&attempt.username).ok_or(ErrorCode::InvalidRequest)?;
        if attempt.password.len() > MAX_PASSWORD_BYTES {
            return Err(ErrorCode::InvalidRequest.into());
        }
        // Counted per network, not per address: one IPv6 /64 is 2^64 addresses to one holder.
        let network = source_network(&attempt.source_ip);
        let counters = Counters {
            username: name.clone(),
            network,
        };
        // The three reads are independent: one round trip of latency, not three.
        let start = now - now.rem_euclid(cfg.ip_window_secs);
        let window = Window {
            start,
            end: start + cfg.ip_window_secs,
        };
        let net_key = format!("login-net#{}", counters.network);
        let (net_hits, user, seen) = tokio::join!(
            self.rate.count_hit(&net_key, window),
            self.users.find_user(&name),
            self.lockout.lock_states(&counters),
        );
        if net_hits? > cfg.ip_limit {
            tracing::warn!(event = "login_rate_limited", source_network = %counters.network);
            return Err(AuthError::retry_after(
                ErrorCode::RateLimited,
                window.end - now,
            ));
        }
        let seen = seen?;
        // A locked counter is answered from the read, with no write: refused guesses cost the
        // attacker a request and the table nothing.
        if let Some(secs) = seen.locked_for(now) {
            return Err(locked(&counters, secs, seen.account.failures));
        }
        let user = user?;
        let reservation = Reservation {
            counters,
            rules: cfg.lockout_rules(),
            at: now,
            seen,
        };
        let counted = match self.lockout.reserve_attempt(&reservation).await? {
            Admission::Admitted(counted) => counted,
            // Another attempt got the last admission between our read and our write.
            Admission::Locked { until } => {
                let failures = reservation.seen.account.failures;
                return Err(locked(&reservation.counters, until - now, failures));
            }
        };

        // Unknown users are checked against a dummy hash: same work, same answer.
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let hasher = self.hasher.clone();
        let password = attempt.password.clone();
        let verified =
            tokio::task::spawn_blocking(move || hasher.verify(&password, stored.as_deref()))
                .await
                .map_err(|_| AuthError::new(ErrorCode::ServiceUnavailable))?;

        match user {
            Some(u) if verified && u.status == UserStatus::Active => Ok((u, reservation.counters)),
            _ => {
                // Already counted by the reservation.
                tracing::info!(
                    event = "login_failed",
                    source_failures = counted.source.failures,
                    account_failures = counted.account.failures,
                );
                Err(ErrorCode::InvalidCredentials.into())
            }
        }
    }

    /// Writes the session and signs the access token concurrently; if signing fails the
    /// session is deleted again, so no session exists whose token nobody holds.
    pub(crate) async fn start_session(&self, user: &User, now: i64) -> Result<Grant, AuthError> {
        let refresh = RefreshToken::generate();
        let session = Session {
            sid: refresh.sid().to_owned(),
            user_id: user.user_id.clone(),
            roles: user.roles.clone(),
            token_version: user.token_version,
            created_at: now,
            expires_at: now + self.config.refresh_ttl_secs,
            last_used_at: now,
            current_hash: refresh.hash(),
            previous_hash: None,
            rotated_at: now,
            generation: 0,
            revoked: false,
        };
        let subject = Subject {
            user_id: &user.user_id,
            roles: &user.roles,
            token_version: user.token_version,
            sid: &session.sid,
        };
        let (created, access) = tokio::join!(
            self.sessions.grant(&session),
            self.issuer.issue(subject, now),
        );
        match (created, access) {
            (Ok(()), Ok(access)) => Ok(Grant {
                access,
                refresh,
                refresh_max_age: self.config.refresh_ttl_secs,
            }),
            (Ok(()), Err(sign_err)) => {
                if let Err(e) = self.sessions.cancel_grant(&session.sid).await {
                    // The session is unusable anyway: nobody holds its token.
                    tracing::warn!(event = "orphan_session_left", sid = %session.sid, error = %e);
                }
                Err(sign_err.into())
            }
            (Err(e), _) => Err(e.into()),
        }
    }

    async fn rehash_if_needed(&self, user: &User, password: Password) {
        if !self.hasher.needs_rehash(&user.password_hash) {
            return;
        }
        let hasher = self.hasher.clone();
        let hashed = tokio::task::spawn_blocking(move || hasher.hash(&password)).await;
        let result = match hashed {
            Ok(Ok(hash)) => self
                .users
                .upgrade_password_hash(user, &hash)
                .await
                .map_err(anyhow::Error::from),
            Ok(Err(e)) => Err(e),
            Err(e) => Err(e.into()),
        };
        match result {
            Ok(true) => tracing::info!(event = "password_rehashed"),
            // A password change (or reset, or disable) committed since the read: it wins.
            Ok(false) => tracing::info!(event = "password_rehash_skipped_user_changed"),
            Err(e) => tracing::warn!(event = "password_rehash_failed", error = %format!("{e:#}")),
        }
    }
}

/// The answer to an attempt a lock refused (either counter's: the answer does not say which, nor
/// whether the account exists).
fn locked(counters: &Counters, secs: i64, account_failures: u32) -> AuthError {
    tracing::warn!(
        event = "login_account_locked",
        source_network = %counters.network,
        account_failures,
    );
    AuthError::retry_after(ErrorCode::AccountLocked, secs)
}
