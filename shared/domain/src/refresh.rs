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

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::AuthConfig;
use crate::error::{AuthError, ErrorCode};
use crate::issuer::{AccessTokenIssuer, Subject};
use crate::login::Grant;
use crate::ports::{RefreshMac, Reissue, Rotation, Session, SessionStore, WriteOutcome};
use crate::refresh_token::{RefreshToken, TokenHash};

/// How often a refresh re-reads and retries when a concurrent refresh changed the session
/// under it. Two suffice for any race on one token; the rest absorbs rare interleavings.
const MAX_ATTEMPTS: usize = 4;

/// The refresh operation and what it needs.
#[derive(Clone)]
pub struct Refresh {
    /// Sessions.
    pub sessions: Arc<dyn SessionStore>,
    /// Successor derivation key.
    pub mac: Arc<dyn RefreshMac>,
    /// Access-token issuer.
    pub issuer: AccessTokenIssuer,
    /// Clock.
    pub clock: Arc<dyn Clock>,
    /// Settings.
    pub config: AuthConfig,
}

/// What to do with a presented token, given the session as stored.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// It is current: rotate to its successor.
    Rotate,
    /// It is the immediate predecessor inside the grace window and its successor is current:
    /// hand out the current token again.
    Grace,
    /// Anything else: reuse if it is one of the family's spent tokens.
    Reuse,
}

impl Refresh {
    /// Exchanges a refresh token for a new access token and the family's next refresh token.
    pub async fn refresh(&self, presented: &str) -> Result<Grant, AuthError> {
        let token = RefreshToken::parse(presented).ok_or(ErrorCode::InvalidRefreshToken)?;
        let presented_hash = token.hash();
        let now = self.clock.now();

        // Reading the session and deriving the successor are independent: run them together.
        let mac_input = token.successor_mac_input();
        let (session, successor_secret) = tokio::join!(
            self.sessions.find_session(token.sid()),
            self.mac.mac(&mac_input),
        );
        let successor = RefreshToken::with_secret(token.sid(), successor_secret?);
        let successor_hash = successor.hash();
        let mut session = session?.ok_or(ErrorCode::InvalidRefreshToken)?;

        for _ in 0..MAX_ATTEMPTS {
            let outcome = match self.step(&session, &presented_hash, &successor_hash, now)? {
                Step::Rotate => {
                    let rotation = Rotation {
                        sid: session.sid.clone(),
                        user_id: session.user_id.clone(),
                        token_version: session.token_version,
                        from: presented_hash.clone(),
                        to: successor_hash.clone(),
                        now,
                    };
                    // Sign while the write is in flight; a failed write discards the token.
                    let (written, access) = tokio::join!(
                        self.sessions.rotate(&rotation),
                        self.issuer.issue(subject(&session), now),
                    );
                    (written?, access)
                }
                Step::Grace => {
                    let reissue = Reissue {
                        sid: session.sid.clone(),
                        user_id: session.user_id.clone(),
                        token_version: session.token_version,
                        current: successor_hash.clone(),
                        now,
                    };
                    let (written, access) = tokio::join!(
                        self.sessions.reissue_current(&reissue),
                        self.issuer.issue(subject(&session), now),
                    );
                    (written?, access)
                }
                Step::Reuse => return Err(self.reuse(&session, &presented_hash).await),
            };
            match outcome {
                (WriteOutcome::Written, access) => {
                    tracing::info!(event = "refresh_succeeded", sid = %session.sid);
                    return Ok(Grant {
                        access: access?,
                        refresh: successor,
                        refresh_max_age: session.expires_at - now,
                    });
                }
                (WriteOutcome::PrincipalChanged, _) => {
                    tracing::info!(event = "refresh_principal_changed", sid = %session.sid);
                    return Err(ErrorCode::SessionExpired.into());
                }
                // A concurrent refresh (or our own retried write) moved the session: look again.
                (WriteOutcome::SessionChanged, _) => {
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
        presented: &TokenHash,
        successor: &TokenHash,
        now: i64,
    ) -> Result<Step, AuthError> {
        if session.revoked {
            return Err(ErrorCode::InvalidRefreshToken.into());
        }
        // DynamoDB deletes expired items lazily, so expiry is always checked here too.
        if now >= session.expires_at || now - session.last_used_at > self.config.refresh_idle_secs {
            return Err(ErrorCode::SessionExpired.into());
        }
        if &session.current_hash == presented {
            return Ok(Step::Rotate);
        }
        let in_grace = now - session.rotated_at <= self.config.grace_secs;
        if session.previous_hash.as_ref() == Some(presented)
            && &session.current_hash == successor
            && in_grace
        {
            return Ok(Step::Grace);
        }
        Ok(Step::Reuse)
    }

    /// A token that is neither current nor a graceful retry. If it is one of the family's
    /// spent tokens, someone replayed it: the thief or the victim holds the current one, and
    /// we cannot tell which, so the whole family dies.
    async fn reuse(&self, session: &Session, presented: &TokenHash) -> AuthError {
        match self
            .sessions
            .revoke_family_if_spent(&session.sid, presented)
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

fn subject(session: &Session) -> Subject<'_> {
    Subject {
        user_id: &session.user_id,
        roles: &session.roles,
        token_version: session.token_version,
        sid: &session.sid,
    }
}
