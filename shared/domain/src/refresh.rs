//! `refresh`: rotate a refresh token, with reuse detection and a grace window.
//!
//! # Why successors are derived, not random
//! A token's successor is `HMAC(K, label ‖ sid ‖ secret)` with a key `K` that never leaves KMS.
//! This gives three properties without ever storing a usable token:
//! - Concurrent refreshes of one token all compute the *same* successor, so at most one
//!   rotation commits and every racer can be answered with the one current token: no second
//!   branch of the family.
//! - The grace window (a client that lost the response retries with the predecessor) returns
//!   the family's current token by recomputing it, although only hashes are stored.
//! - An SDK retry of a rotation that already committed finds the successor installed and is
//!   answered as a success, not mistaken for reuse.
//!
//! # Why the session item keeps its size
//! Every token of a session carries the family secret drawn at login, and the session stores
//! its hash (`family_hash`) beside the current and previous token hashes. A token of the
//! family that is neither current nor in grace can only be an earlier one replayed (or made by
//! someone who held one): reuse, recognised without a list of spent tokens. A token whose
//! family secret does not match was made up from the public session id and changes nothing.

use std::sync::Arc;

use crate::clients::{narrow, GrantRequest, Granted};
use crate::clock::Clock;
use crate::config::AuthConfig;
use crate::error::{AuthError, ErrorCode};
use crate::issuer::{AccessTokenIssuer, Subject};
use crate::login::Grant;
use crate::ports::{
    RateLimiter, RefreshCount, RefreshMac, Reissue, Rotation, Session, SessionStore, WriteOutcome,
};
use crate::refresh_token::RefreshToken;
use crate::session::Standing;
use crate::source_limit;

/// How often a refresh re-reads and retries when a concurrent refresh changed the session
/// under it. Two suffice for any race on one token; the rest absorbs rare interleavings.
const MAX_ATTEMPTS: usize = 4;

/// The refresh operation and what it needs.
#[derive(Clone)]
pub struct Refresh {
    /// Sessions.
    pub sessions: Arc<dyn SessionStore>,
    /// Per-source-network counters.
    pub rate: Arc<dyn RateLimiter>,
    /// Successor derivation key.
    pub mac: Arc<dyn RefreshMac>,
    /// Access-token issuer.
    pub issuer: AccessTokenIssuer,
    /// Clock.
    pub clock: Arc<dyn Clock>,
    /// Settings.
    pub config: AuthConfig,
}

/// What to do with a presented token, given the session as stored and the token's successor.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// It is current: rotate to its successor, counting the refresh.
    Rotate(RefreshCount),
    /// It is the immediate predecessor inside the grace window and its successor is current:
    /// hand out the current token again, counting the refresh.
    Grace(RefreshCount),
    /// A token of the family that the session no longer accepts: reuse.
    Reuse,
}

impl Refresh {
    /// Exchanges a refresh token for a new access token and the family's next refresh token.
    /// `source_ip` is API Gateway's `sourceIp`; its network is what the per-source limit counts.
    pub async fn refresh(&self, presented: &str, source_ip: &str) -> Result<Grant, AuthError> {
        self.refresh_as(presented, source_ip, &GrantRequest::default())
            .await
    }

    /// [`refresh`](Self::refresh) with what the request asks for: `client_id` (absent: the
    /// session's own client; another registered client: `invalid_grant`, RFC 6749 §5.2 "issued
    /// to another client"; an unregistered one: `invalid_client`), `scope` (absent: the
    /// session's original grant; a subset narrows this token only, and a later refresh may
    /// come back to any subset of the original grant; a scope outside it: `invalid_scope`,
    /// RFC 6749 §6) and `resource` (absent or the session's own; any other: `invalid_target`).
    /// Every refusal comes before KMS and leaves the presented token as it was.
    pub async fn refresh_as(
        &self,
        presented: &str,
        source_ip: &str,
        ask: &GrantRequest,
    ) -> Result<Grant, AuthError> {
        if ask.client_id.is_some() {
            self.config.clients.client(ask.client_id.as_deref())?;
        }
        let token = RefreshToken::parse(presented).ok_or(ErrorCode::InvalidRefreshToken)?;
        let now = self.clock.now();

        let (admitted, session) = tokio::join!(
            source_limit::admit(&*self.rate, &self.config, "refresh", source_ip, now),
            self.sessions.find_session(token.sid()),
        );
        admitted?;
        let session = session?.ok_or(ErrorCode::InvalidRefreshToken)?;

        // KMS quotas are per account: a request for a session that does not exist, is dead, or
        // does not know this token must not cost one, or a flood of made-up tokens turns every
        // login and refresh into a 503. So the session is read first, and only a token it
        // accepts, within the session's own refresh limit, is worth the MAC and the signature.
        match session.standing(&token, now, &self.config) {
            Standing::Foreign | Standing::Revoked => {
                return Err(ErrorCode::InvalidRefreshToken.into())
            }
            Standing::Expired => return Err(ErrorCode::SessionExpired.into()),
            Standing::Spent => return Err(self.reuse(&session, &token).await),
            Standing::Current | Standing::InGrace => {
                self.count(&session, now)?;
            }
        }
        let granted = session_grant(&session, ask, &self.config)?;
        // The access token depends only on the session's fixed fields (owner, roles, version,
        // id), so it is signed while the successor is derived and written: the happy path waits
        // for the read, then for the longer of Sign and GenerateMac + the write.
        let (access, rotated) = tokio::join!(
            self.issuer.issue(subject(&session, &granted), now),
            self.derive_and_write(&token, session.clone(), now),
        );
        let (successor, expires_at) = rotated?;
        tracing::info!(event = "refresh_succeeded", sid = %session.sid);
        Ok(Grant {
            access: access?,
            refresh: successor,
            refresh_max_age: expires_at - now,
            // A refresh proves no password: no device credential.
            device: None,
        })
    }

    /// Derives the successor (the one KMS MAC of a refresh) and rotates to it, or answers the
    /// grace retry with it. Returns the successor and the session's absolute end.
    async fn derive_and_write(
        &self,
        token: &RefreshToken,
        mut session: Session,
        now: i64,
    ) -> Result<(RefreshToken, i64), AuthError> {
        let successor_secret = self.mac.mac(&token.successor_mac_input()).await?;
        let successor = token.successor(successor_secret);
        let successor_hash = successor.hash();

        for _ in 0..MAX_ATTEMPTS {
            let outcome = match self.step(&session, token, &successor, now)? {
                Step::Rotate(count) => {
                    self.sessions
                        .rotate(&Rotation {
                            sid: session.sid.clone(),
                            user_id: session.user_id.clone(),
                            token_version: session.token_version,
                            from: token.hash(),
                            to: successor_hash.clone(),
                            now,
                            count,
                        })
                        .await?
                }
                Step::Grace(count) => {
                    self.sessions
                        .reissue_current(&Reissue {
                            sid: session.sid.clone(),
                            user_id: session.user_id.clone(),
                            token_version: session.token_version,
                            current: successor_hash.clone(),
                            now,
                            count,
                        })
                        .await?
                }
                Step::Reuse => return Err(self.reuse(&session, token).await),
            };
            match outcome {
                WriteOutcome::Written => return Ok((successor, session.expires_at)),
                WriteOutcome::PrincipalChanged => {
                    // The owner's version only moves forward, so the session can never accept
                    // a token again. Revoking it makes every later attempt with its tokens
                    // stop at the read, before KMS: a signed-out session costs at most this
                    // one MAC and signature, however often its token is replayed.
                    if let Err(e) = self.sessions.revoke_family(&session.sid).await {
                        tracing::warn!(event = "dead_session_left_unrevoked", sid = %session.sid, error = %e);
                    }
                    tracing::info!(event = "refresh_principal_changed", sid = %session.sid);
                    return Err(ErrorCode::SessionExpired.into());
                }
                // A concurrent refresh (or our own retried write) moved the session, or filled
                // its refresh window: look again.
                WriteOutcome::SessionChanged => {
                    session = self
                        .sessions
                        .find_session(token.sid())
                        .await?
                        .ok_or(ErrorCode::InvalidRefreshToken)?;
                }
            }
        }
        tracing::warn!(event = "refresh_contention", sid = %session.sid);
        Err(AuthError::retry_after(ErrorCode::ServiceUnavailable, 1))
    }

    fn step(
        &self,
        session: &Session,
        presented: &RefreshToken,
        successor: &RefreshToken,
        now: i64,
    ) -> Result<Step, AuthError> {
        match session.standing(presented, now, &self.config) {
            Standing::Foreign | Standing::Revoked => Err(ErrorCode::InvalidRefreshToken.into()),
            Standing::Expired => Err(ErrorCode::SessionExpired.into()),
            Standing::Current => Ok(Step::Rotate(self.count(session, now)?)),
            // The predecessor's successor must still be current: never a second branch.
            Standing::InGrace if session.current_hash == successor.hash() => {
                Ok(Step::Grace(self.count(session, now)?))
            }
            Standing::InGrace | Standing::Spent => Ok(Step::Reuse),
        }
    }

    /// This refresh in the session's own limit, or 429 once the session's window is full.
    fn count(&self, session: &Session, now: i64) -> Result<RefreshCount, AuthError> {
        session.count_refresh(now, &self.config).inspect_err(|_| {
            tracing::info!(event = "session_rate_limited", sid = %session.sid);
        })
    }

    /// A token of the family that is neither current nor a graceful retry: someone replayed
    /// an earlier token. The thief or the victim holds the current one, and we cannot tell
    /// which, so the whole family dies. The revocation is conditional on the family hash the
    /// read showed, so it can only hit the family the token was issued to.
    async fn reuse(&self, session: &Session, presented: &RefreshToken) -> AuthError {
        match self
            .sessions
            .revoke_family_on_reuse(&session.sid, &presented.family_hash())
            .await
        {
            Ok(true) => {
                tracing::warn!(
                    event = "refresh_token_reused",
                    sid = %session.sid,
                    user_id = %session.user_id,
                    generation = session.generation,
                    "spent refresh token presented; session revoked"
                );
                ErrorCode::RefreshTokenReused.into()
            }
            Ok(false) => ErrorCode::InvalidRefreshToken.into(),
            Err(e) => e.into(),
        }
    }
}

fn subject<'a>(session: &'a Session, granted: &'a Granted) -> Subject<'a> {
    Subject {
        user_id: &session.user_id,
        roles: &session.roles,
        token_version: session.token_version,
        sid: &session.sid,
        grant: granted,
    }
}

/// What this refresh of `session` grants (see [`Refresh::refresh_as`]).
fn session_grant(
    session: &Session,
    ask: &GrantRequest,
    config: &AuthConfig,
) -> Result<Granted, ErrorCode> {
    // A session from before clients existed has no client: it is the default client's, and
    // its tokens are for the configured audience.
    let mut original = session.grant.clone();
    if original.client_id.is_empty() {
        original.client_id = config.clients.default_id().to_owned();
    }
    if original.resource.is_empty() {
        original.resource = config.audience.clone();
    }
    let own = original.client_id.as_str();
    if let Some(id) = ask
        .client_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if id != own {
            tracing::info!(event = "refresh_client_mismatch", sid = %session.sid);
            return Err(ErrorCode::InvalidGrant);
        }
    }
    if let Some(resource) = ask
        .resource
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if resource != original.resource {
            return Err(ErrorCode::InvalidTarget);
        }
    }
    narrow(&original, ask.scope.as_deref())
}
