//! `login`: password check, lockout, per-IP limit, then a new session and an access token.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::AuthConfig;
use crate::error::{AuthError, ErrorCode};
use crate::issuer::{AccessTokenIssuer, IssuedAccessToken, Subject};
use crate::password::{Password, PasswordHasher, MAX_PASSWORD_BYTES};
use crate::ports::{
    Failure, LockoutStore, RateLimiter, Session, SessionStore, User, UserStatus, UserStore, Window,
};
use crate::refresh_token::RefreshToken;
use crate::username::Username;

/// How long a failure record is kept after the last failure.
const LOCK_RECORD_TTL_SECS: i64 = 24 * 3600;

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
    /// Failure counters per account name.
    pub lockout: Arc<dyn LockoutStore>,
    /// Per-IP counters.
    pub rate: Arc<dyn RateLimiter>,
    /// Sessions.
    pub sessions: Arc<dyn SessionStore>,
    /// Access-token issuer.
    pub issuer: AccessTokenIssuer,
    /// Argon2id.
    pub hasher: PasswordHasher,
    /// Clock.
    pub clock: Arc<dyn Clock>,
    /// Settings.
    pub config: AuthConfig,
}

impl Login {
    /// Checks the credentials and, if they hold, starts a session.
    pub async fn login(&self, attempt: LoginAttempt) -> Result<Grant, AuthError> {
        let now = self.clock.now();
        let user = self.check_credentials(&attempt).await?;
        let grant = self.start_session(&user, now).await?;
        // Must not fail the login: upgrade a hash made with weaker parameters.
        self.rehash_if_needed(&user, attempt.password).await;
        tracing::info!(event = "login_succeeded", sid = %grant.refresh.sid());
        Ok(grant)
    }

    /// Everything login does to decide whether the password is right — the per-source limit,
    /// the lockout, the Argon2 check, counting the failure or clearing the count — without
    /// starting a session. A password change checks the current password with it, so a wrong
    /// one counts against the lockout exactly like a failed login.
    pub async fn check_credentials(&self, attempt: &LoginAttempt) -> Result<User, AuthError> {
        let cfg = &self.config;
        let now = self.clock.now();
        let name = Username::parse(&attempt.username).ok_or(ErrorCode::InvalidRequest)?;
        if attempt.password.len() > MAX_PASSWORD_BYTES {
            return Err(ErrorCode::InvalidRequest.into());
        }
        // The three reads are independent: one round trip of latency, not three.
        let start = now - now.rem_euclid(cfg.ip_window_secs);
        let window = Window {
            start,
            end: start + cfg.ip_window_secs,
        };
        let ip_key = format!("login-ip#{}", attempt.source_ip);
        let (ip_hits, user, lock) = tokio::join!(
            self.rate.count_hit(&ip_key, window),
            self.users.find_user(&name),
            self.lockout.lock_state(&name),
        );
        if ip_hits? > cfg.ip_limit {
            tracing::warn!(event = "login_rate_limited", source_ip = %attempt.source_ip);
            return Err(AuthError::retry_after(
                ErrorCode::RateLimited,
                window.end - now,
            ));
        }
        let lock = lock?;
        let locked_for = lock.last_failure_at + cfg.lockout_secs(lock.failures) - now;
        if lock.failures >= cfg.lockout_threshold && locked_for > 0 {
            tracing::warn!(event = "login_account_locked", failures = lock.failures);
            return Err(AuthError::retry_after(ErrorCode::AccountLocked, locked_for));
        }
        let user = user?;

        // Unknown users are checked against a dummy hash: same work, same answer.
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let hasher = self.hasher.clone();
        let password = attempt.password.clone();
        let verified =
            tokio::task::spawn_blocking(move || hasher.verify(&password, stored.as_deref()))
                .await
                .map_err(|_| AuthError::new(ErrorCode::ServiceUnavailable))?;

        let user = match user {
            Some(u) if verified && u.status == UserStatus::Active => u,
            _ => {
                self.lockout
                    .record_failure(
                        &name,
                        Failure {
                            at: now,
                            keep_until: now + LOCK_RECORD_TTL_SECS,
                        },
                    )
                    .await?;
                tracing::info!(event = "login_failed");
                return Err(ErrorCode::InvalidCredentials.into());
            }
        };

        if lock.failures > 0 {
            // Must not fail the login: the count only decides future lockouts.
            if let Err(e) = self.lockout.clear_failures(&name).await {
                tracing::warn!(event = "lockout_clear_failed", error = %e);
            }
        }
        Ok(user)
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
                .set_password_hash(&user.username, &hash)
                .await
                .map_err(anyhow::Error::from),
            Ok(Err(e)) => Err(e),
            Err(e) => Err(e.into()),
        };
        match result {
            Ok(()) => tracing::info!(event = "password_rehashed"),
            Err(e) => tracing::warn!(event = "password_rehash_failed", error = %format!("{e:#}")),
        }
    }
}
