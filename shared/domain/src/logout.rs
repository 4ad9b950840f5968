//! `logout`: end the session, denylist the access token, optionally end every session.
//!
//! Only a live credential acts. A refresh token counts if its session accepts it (not revoked,
//! not expired, the token current or the in-grace predecessor); an access token counts if its
//! signature holds, its `jti` is not denylisted and its `ver` is the owner's current version.
//! Anything else — a made-up token, a token spent or revoked by reuse detection, a stale access
//! token — gets the same 204 as no token at all and changes nothing: otherwise a thief whose
//! stolen token was already revoked could still sign its owner out of every device, again and
//! again.

use std::sync::Arc;

use tokengate_claims::AccessClaims;

use crate::clock::Clock;
use crate::config::AuthConfig;
use crate::error::AuthError;
use crate::keyring::LiveKeyring;
use crate::ports::{Denylist, RateLimiter, RevocationSource, Session, SessionStore, UserStore};
use crate::refresh_token::RefreshToken;
use crate::source_limit;

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
    /// API Gateway's `sourceIp`; its network is what the per-source limit counts.
    pub source_ip: &'a str,
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
    /// Whether a bearer token's `jti` is denylisted and its `ver` current, in one read.
    pub revocations: Arc<dyn RevocationSource>,
    /// Per-source-network counters.
    pub rate: Arc<dyn RateLimiter>,
    /// The trusted keys that verify the bearer token before its `jti` is trusted. The
    /// verifier's leeway also sets how long the `jti` stays denylisted, so it must be the
    /// authorizer's leeway (both come from `AuthConfig::leeway_secs`).
    pub keyring: Arc<LiveKeyring>,
    /// Clock.
    pub clock: Arc<dyn Clock>,
    /// Settings (grace window, idle timeout, the per-source limit).
    pub config: AuthConfig,
}

impl Logout {
    /// Ends what the request proves live possession of. Succeeds when there is nothing to end.
    pub async fn logout(&self, req: LogoutRequest<'_>) -> Result<(), AuthError> {
        let now = self.clock.now();
        // Only a token we issued and that has not expired names a jti worth looking up.
        let keys = match req.access_token {
            Some(_) => Some(self.keyring.keys().await),
            None => None,
        };
        let verifier = keys.as_ref().map(|k| k.verifier());
        let claims = req
            .access_token
            .zip(verifier)
            .and_then(|(t, v)| v.verify(t, now).ok());
        let refresh = req.refresh_token.and_then(RefreshToken::parse);
        if claims.is_none() && refresh.is_none() {
            // Nothing that could name a session or a user: no store call to count or make.
            return Ok(());
        }

        let (admitted, session, access_live) = tokio::join!(
            source_limit::admit(&*self.rate, &self.config, "logout", req.source_ip, now),
            async {
                match &refresh {
                    Some(t) => self.sessions.find_session(t.sid()).await,
                    None => Ok(None),
                }
            },
            async {
                match &claims {
                    Some(c) => self.access_token_is_live(c).await,
                    None => Ok(false),
                }
            },
        );
        admitted?;
        // A session counts only if it accepts the presented token: knowing a session id (it
        // is in access tokens) must not be enough to end a session, nor holding a dead token.
        let session: Option<Session> = match (session?, &refresh) {
            (Some(s), Some(t)) if s.standing(t, now, &self.config).accepts() => Some(s),
            _ => None,
        };
        let access_live = access_live?;
        let access = claims.filter(|_| access_live);

        let mut sids: Vec<&str> = session.iter().map(|s| s.sid.as_str()).collect();
        if let Some(sid) = access.as_ref().and_then(|c| c.sid.as_deref()) {
            if !sids.contains(&sid) {
                sids.push(sid);
            }
        }
        if let Some(c) = &access {
            // Not `exp`: verifiers accept the token for `leeway` seconds beyond it, and an
            // entry gone at `exp` would let the logged-out token back in for that long.
            let until = self.config.validation().expired_from(c.exp);
            self.denylist.deny(&c.jti, until).await?;
        }
        for sid in &sids {
            self.sessions.revoke_family(sid).await?;
        }
        if req.global {
            self.sign_out_everywhere(session.as_ref(), access.as_ref())
                .await?;
        }
        tracing::info!(
            event = "logout",
            sessions = sids.len(),
            denied = access.is_some()
        );
        Ok(())
    }

    /// The bearer token's `jti` is not denylisted and its `ver` is its owner's current version
    /// (and the owner active): the authorizer's rule, so a token it would refuse acts on nothing.
    async fn access_token_is_live(&self, claims: &AccessClaims) -> Result<bool, AuthError> {
        let status = self
            .revocations
            .revocation_status(&claims.jti, &claims.sub, claims.sid.as_deref())
            .await?;
        Ok(!status.revokes(claims.ver))
    }

    /// Bumps the owner's token version from the version a live credential proves. The bump is
    /// conditional on that version, so a credential whose owner was signed out meanwhile (or
    /// before: a session item does not show the owner's version) bumps nothing.
    async fn sign_out_everywhere(
        &self,
        session: Option<&Session>,
        access: Option<&AccessClaims>,
    ) -> Result<(), AuthError> {
        let proofs = session
            .map(|s| (s.user_id.as_str(), s.token_version))
            .into_iter()
            .chain(access.map(|c| (c.sub.as_str(), c.ver)));
        for (user_id, version) in proofs {
            if let Some(v) = self
                .users
                .sign_out_everywhere_from(user_id, version)
                .await?
            {
                tracing::info!(event = "logout_global", user_id = %user_id, token_version = v);
                return Ok(());
            }
        }
        Ok(())
    }
}
