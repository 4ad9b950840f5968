//! `login`: per-source-network limit, lockout (the admission itself is in
//! [`crate::admission`]), password check, then a new session, an access token and a device
//! credential.

use std::sync::Arc;

use crate::admission::Counted;
use crate::clients::{GrantRequest, Granted};
use crate::clock::Clock;
use crate::config::AuthConfig;
use crate::device::{DeviceCredential, DeviceKeys, IssuedDevice};
use crate::error::{AuthError, ErrorCode};
use crate::issuer::{AccessTokenIssuer, IssuedAccessToken, Subject};
use crate::lockout::{Counters, DeviceCounter};
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
    /// The device credential the client presented (cookie or body), if any: unchecked.
    pub device: Option<DeviceCredential>,
    /// `client_id`, `scope` and `resource` as sent.
    pub ask: GrantRequest,
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
    /// A fresh device credential (login and password change; `None` from a refresh, or when
    /// the device key could not be derived).
    pub device: Option<IssuedDevice>,
}

/// The login operation and what it needs.
#[derive(Clone)]
pub struct Login {
    /// Users.
    pub users: Arc<dyn UserStore>,
    /// Failure counters per (account, source network), per account and per device.
    pub lockout: Arc<dyn LockoutStore>,
    /// Issues and checks device credentials.
    pub devices: Arc<DeviceKeys>,
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
        // An unknown client or resource is refused before the password is looked at.
        self.config.clients.target(&attempt.ask)?;
        let (user, counted) = self.admit_and_verify(&attempt).await?;
        let granted = match self.config.clients.grant_login(&attempt.ask, &user.roles) {
            Ok(g) => g,
            Err(code) => {
                // The password was right: the failure its reservation counted is cleared.
                self.clear_failures(&counted).await;
                return Err(code.into());
            }
        };
        // Clearing the counters, starting the session and issuing a device credential are
        // independent: one round trip.
        let (grant, (), device) = tokio::join!(
            self.start_session(&user, &granted, now),
            self.clear_failures(&counted),
            self.devices.issue(&user),
        );
        let grant = Grant { device, ..grant? };
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
    /// path through the same counters. An attempt that presents a valid device credential of
    /// the account is counted on that device's counter instead (see [`crate::lockout`]).
    pub async fn check_credentials(&self, attempt: &LoginAttempt) -> Result<User, AuthError> {
        let (user, counted) = self.admit_and_verify(attempt).await?;
        self.clear_failures(&counted).await;
        Ok(user)
    }

    /// The reservation counted a right password as a failure, and a success also ends the
    /// account's run of consecutive failures (NIST counts those): clear both counters — or, for
    /// a device's attempt, the device's counter only (the ceiling it bypassed keeps counting
    /// the others' failures). Must not fail the login: left in place, the counts only come due
    /// sooner.
    async fn clear_failures(&self, counted: &Counted) {
        let cleared = match counted {
            Counted::Network { counters, .. } => self.lockout.clear_failures(counters).await,
            Counted::Device { counter, .. } => self.lockout.clear_device_failures(counter).await,
        };
        if let Err(e) = cleared {
            tracing::warn!(event = "lockout_clear_failed", error = %e);
        }
    }

    /// [`check_credentials`](Self::check_credentials) up to the verdict: the user whose
    /// password held, with the counters to clear.
    async fn admit_and_verify(&self, attempt: &LoginAttempt) -> Result<(User, Counted), AuthError> {
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
        // The device counter a presented credential claims, read beside the others so that a
        // credential costs no round trip; whether it counts is decided once the user is read.
        let claimed = attempt
            .device
            .as_ref()
            .and_then(DeviceKeys::claimed_device)
            .map(|device_id| DeviceCounter {
                username: name.clone(),
                device_id,
            });
        // The reads are independent: one round trip of latency, not three or four.
        let start = now - now.rem_euclid(cfg.ip_window_secs);
        let window = Window {
            start,
            end: start + cfg.ip_window_secs,
        };
        let net_key = format!("login-net#{}", counters.network);
        let (net_hits, user, seen, device_seen) = tokio::join!(
            self.rate.count_hit(&net_key, window),
            self.users.find_user(&name),
            self.lockout.lock_states(&counters),
            async {
                match &claimed {
                    Some(c) => Some(self.lockout.device_lock_state(c).await),
                    None => None,
                }
            },
        );
        // The source's own limit, over all names: a device credential does not lift it.
        if net_hits? > cfg.ip_limit {
            tracing::warn!(event = "login_rate_limited", source_network = %counters.network);
            return Err(AuthError::retry_after(
                ErrorCode::RateLimited,
                window.end - now,
            ));
        }
        let user = user?;
        let device = match (&attempt.device, &user, claimed, device_seen) {
            (Some(presented), Some(u), Some(counter), Some(seen)) => self
                .devices
                .device_of(presented, u)
                .await
                .filter(|did| *did == counter.device_id)
                .map(|_| (counter, seen)),
            // No credential, an unknown name (no credential can match it), or a malformed one.
            _ => None,
        };
        let counted = match device {
            Some((counter, seen)) => self.admit_device(counter, seen?, now).await?,
            None => self.admit_from_network(counters, seen?, now).await?,
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
            Some(u) if verified && u.status == UserStatus::Active => Ok((u, counted)),
            _ => {
                // Already counted by the reservation.
                counted.log_failure();
                Err(ErrorCode::InvalidCredentials.into())
            }
        }
    }

    /// Writes the session and signs the access token concurrently; if signing fails the
    /// session is deleted again, so no session exists whose token nobody holds.
    pub(crate) async fn start_session(
        &self,
        user: &User,
        granted: &Granted,
        now: i64,
    ) -> Result<Grant, AuthError> {
        let refresh = RefreshToken::generate();
        let session = Session {
            sid: refresh.sid().to_owned(),
            user_id: user.user_id.clone(),
            roles: user.roles.clone(),
            token_version: user.token_version,
            created_at: now,
            expires_at: now + self.config.refresh_ttl_secs,
            last_used_at: now,
            family_hash: refresh.family_hash(),
            current_hash: refresh.hash(),
            previous_hash: None,
            rotated_at: now,
            generation: 0,
            revoked: false,
            window_start: 0,
            window_hits: 0,
            grant: granted.clone(),
        };
        let subject = Subject {
            user_id: &user.user_id,
            roles: &user.roles,
            token_version: user.token_version,
            sid: &session.sid,
            grant: granted,
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
                device: None,
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
