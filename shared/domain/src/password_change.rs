//! `password`: a signed-in user changes their password. The current password is checked
//! exactly as login checks it (a wrong one counts against the lockout); the new one must pass
//! the rules of [`crate::new_password`]; hash and token version change in one write, so every
//! session, access token and device credential of the old password ends; the caller gets a
//! fresh session and device credential.

use crate::clients::{GrantRequest, Granted, DEFAULT_CLIENT_ID};
use crate::device::DeviceCredential;
use crate::error::{AuthError, ErrorCode};
use crate::login::{Grant, Login, LoginAttempt};
use crate::new_password;
use crate::password::Password;
use crate::ports::User;

/// A password change, for the caller the authorizer identified.
#[derive(Debug)]
pub struct PasswordChangeRequest {
    /// `sub` of the caller's access token (from the authorizer context).
    pub user_id: String,
    /// The current password, as typed.
    pub current_password: Password,
    /// The new password, as typed.
    pub new_password: String,
    /// API Gateway's `sourceIp`: the lockout counts failures per source.
    pub source_ip: String,
    /// The device credential the client presented, if any: counted as login counts it.
    pub device: Option<DeviceCredential>,
    /// `client_id` and `scope` of the caller's access token (from the authorizer context):
    /// the new session is granted as much, for this stack's audience (the one its authorizer
    /// accepted the token for). Empty `client_id`: the default client's default grant.
    pub client_id: String,
    /// See `client_id`.
    pub scope: String,
}

/// The password change operation: login's stores, hasher, issuer and settings.
#[derive(Clone)]
pub struct PasswordChange {
    /// The credential check and the session start are login's own.
    pub login: Login,
}

impl PasswordChange {
    /// Changes the password and starts a new session for the caller.
    pub async fn change(&self, req: PasswordChangeRequest) -> Result<Grant, AuthError> {
        let login = &self.login;
        // A token whose user is gone gets the answer of a wrong password: nothing to tell.
        let username = login
            .users
            .find_username(&req.user_id)
            .await?
            .ok_or(ErrorCode::InvalidCredentials)?;
        let user = login
            .check_credentials(&LoginAttempt {
                username: username.as_str().to_owned(),
                password: req.current_password,
                source_ip: req.source_ip,
                device: req.device,
                ask: GrantRequest::default(),
            })
            .await?;
        let new = new_password::check(&user.username, &req.new_password)?;
        let hasher = login.hasher.clone();
        let hash = tokio::task::spawn_blocking(move || hasher.hash(&new))
            .await
            .map_err(|_| AuthError::new(ErrorCode::ServiceUnavailable))?
            .map_err(|e| {
                tracing::error!(event = "password_hash_failed", error = %e);
                AuthError::new(ErrorCode::ServiceUnavailable)
            })?;
        // Conditional on the version the current password was checked at: a reset, a disable
        // or another change since then wins, and this request is answered as a wrong password.
        // Written, it leaves the user as checked but for the hash and the version: the new
        // session needs no second read.
        let token_version = login
            .users
            .change_password(&user.username, &hash, user.token_version)
            .await?
            .ok_or(ErrorCode::InvalidCredentials)?;
        let user = User {
            token_version,
            password_hash: hash,
            ..user
        };
        // The version moved: every device credential of the user ends, this client gets a
        // fresh one.
        // The caller keeps what its token held: its client and scopes (as far as the client
        // and the user's roles still allow them), for this stack's audience. Nothing left is no
        // error here: the password has already changed.
        let ask = GrantRequest {
            client_id: Some(req.client_id).filter(|c| !c.is_empty()),
            scope: Some(req.scope).filter(|s| !s.trim().is_empty()),
            resource: None,
        };
        let granted = login
            .config
            .clients
            .grant_login(&ask, &user.roles)
            .map(|g| Granted {
                resource: login.config.audience.clone(),
                ..g
            })
            .unwrap_or_else(|_| Granted {
                client_id: DEFAULT_CLIENT_ID.to_owned(),
                ..Granted::default()
            });
        let (grant, device) = tokio::join!(
            login.start_session(&user, &granted, login.clock.now()),
            login.devices.issue(&user),
        );
        let grant = Grant { device, ..grant? };
        tracing::info!(event = "password_changed", sid = %grant.refresh.sid());
        Ok(grant)
    }
}
