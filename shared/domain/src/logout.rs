//! `logout`: end the session, denylist the access token, optionally end every session.

use std::sync::Arc;

use tokengate_claims::Verifier;

use crate::clock::Clock;
use crate::error::AuthError;
use crate::ports::{Denylist, SessionStore, UserStore};
use crate::refresh_token::RefreshToken;

/// A logout request. Every part is optional: logout is idempotent and never tells whether a
/// token was valid.
#[derive(Debug, Default)]
pub struct LogoutRequest<'a> {
    /// The refresh token (cookie or body).
    pub refresh_token: Option<&'a str>,
    /// The bearer access token; its `jti` is denylisted for as long as a verifier could still
    /// accept it (`exp + leeway`).
    pub access_token: Option<&'a str>,
    /// `{"scope":"global"}`: end every session of the user.
    pub global: bool,
}

/// The logout operation and what it needs.
#[derive(Clone)]
pub struct Logout {
    /// Sessions.
    pub sessions: Arc<dyn SessionStore>,
    /// Users (token version).
    pub users: Arc<dyn UserStore>,
    /// Access-token denylist.
    pub denylist: Arc<dyn Denylist>,
    /// Verifies the bearer token before its `jti` is trusted. Its leeway also sets how long
    /// the `jti` stays denylisted, so it must be the authorizer's leeway (both come from
    /// `AuthConfig::leeway_secs`).
    pub verifier: Arc<Verifier>,
    /// Clock.
    pub clock: Arc<dyn Clock>,
}

impl Logout {
    /// Ends what the request proves possession of. Succeeds when there is nothing to end.
    pub async fn logout(&self, req: LogoutRequest<'_>) -> Result<(), AuthError> {
        let now = self.clock.now();
        // Only a token we issued and that is still valid names a jti worth denylisting; an
        // expired one is refused by every verifier anyway.
        let claims = req
            .access_token
            .and_then(|t| self.verifier.verify(t, now).ok());

        // A refresh token counts only if it is the session's current or previous token:
        // knowing a session id (it is in access tokens) must not be enough to end a session.
        let mut session_owner = None;
        let mut sids: Vec<String> = Vec::new();
        if let Some(token) = req.refresh_token.and_then(RefreshToken::parse) {
            let hash = token.hash();
            if let Some(s) = self.sessions.find_session(token.sid()).await? {
                if s.current_hash == hash || s.previous_hash.as_ref() == Some(&hash) {
                    session_owner = Some(s.user_id.clone());
                    sids.push(s.sid);
                }
            }
        }
        if let Some(sid) = claims.as_ref().and_then(|c| c.sid.clone()) {
            if !sids.contains(&sid) {
                sids.push(sid);
            }
        }

        if let Some(c) = &claims {
            // Not `exp`: verifiers accept the token for `leeway` seconds beyond it, and an
            // entry gone at `exp` would let the logged-out token back in for that long.
            let until = self.verifier.validation().expired_from(c.exp);
            self.denylist.deny(&c.jti, until).await?;
        }
        for sid in &sids {
            self.sessions.revoke_family(sid).await?;
        }
        if req.global {
            let owner = session_owner.or_else(|| claims.as_ref().map(|c| c.sub.clone()));
            if let Some(user_id) = owner {
                self.users.sign_out_everywhere(&user_id).await?;
                tracing::info!(event = "logout_global", user_id = %user_id);
            }
        }
        tracing::info!(
            event = "logout",
            sessions = sids.len(),
            denied = claims.is_some()
        );
        Ok(())
    }
}
