//! What a stored session says about a presented refresh token, decided from the item alone.
//! Refresh and logout both ask this before they do anything that costs or changes: a made-up
//! token, or one of a dead session, costs one read and changes nothing.

use crate::config::AuthConfig;
use crate::error::{AuthError, ErrorCode};
use crate::ports::{RefreshCount, Session};
use crate::refresh_token::RefreshToken;

/// The standing of a presented token in a session, as far as the session item can tell. The
/// owner's token version is not in the item: whoever acts on a live standing checks it in the
/// same conditional write (refresh's rotation, global logout's version bump).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Not a token of this family: its family secret does not match. Session ids are public
    /// (every access token carries one), so this is what a forgery looks like; it must change
    /// nothing, and it learns nothing about the session (revoked, expired or live alike).
    Foreign,
    /// The session was revoked (logout, reuse detection, or found signed out everywhere).
    Revoked,
    /// The session passed its absolute lifetime or idle timeout.
    Expired,
    /// The presented token is the session's current one.
    Current,
    /// The presented token is the immediate predecessor, inside the grace window.
    InGrace,
    /// A token of this family that is neither current nor in grace: an earlier one, replayed.
    /// Only someone who held a genuine token of the family knows its family secret, so this
    /// is reuse.
    Spent,
}

impl Standing {
    /// The session is live and the token is one it accepts: current, or the in-grace
    /// predecessor.
    pub fn accepts(self) -> bool {
        matches!(self, Self::Current | Self::InGrace)
    }
}

impl Session {
    /// The standing of `presented` at `now`. DynamoDB deletes expired items lazily, so expiry
    /// is compared here, on every read.
    pub fn standing(&self, presented: &RefreshToken, now: i64, config: &AuthConfig) -> Standing {
        if presented.family_hash() != self.family_hash {
            return Standing::Foreign;
        }
        if self.revoked {
            return Standing::Revoked;
        }
        if now >= self.expires_at || now - self.last_used_at > config.refresh_idle_secs {
            return Standing::Expired;
        }
        let hash = presented.hash();
        if self.current_hash == hash {
            return Standing::Current;
        }
        let in_grace = now - self.rotated_at <= config.grace_secs;
        if in_grace && self.previous_hash.as_ref() == Some(&hash) {
            return Standing::InGrace;
        }
        Standing::Spent
    }

    /// Counts a refresh the session accepts in its own limit (`TOKENGATE_SESSION_REFRESH_LIMIT`
    /// per `TOKENGATE_SESSION_REFRESH_WINDOW_SECONDS`), decided from the read: 429 with the
    /// rest of the window as `Retry-After` once the window is full, otherwise the count the
    /// rotation or reissue writes, conditionally, in the same write. The window opens at the
    /// first refresh counted in it. Only accepted tokens are counted, so made-up tokens for a
    /// victim's (public) session id cannot use up the victim's limit.
    pub fn count_refresh(&self, now: i64, config: &AuthConfig) -> Result<RefreshCount, AuthError> {
        let limit = config.session_refresh_limit;
        let window_end = self.window_start + config.session_refresh_window_secs;
        if now < window_end {
            if self.window_hits >= limit {
                return Err(AuthError::retry_after(
                    ErrorCode::RateLimited,
                    window_end - now,
                ));
            }
            return Ok(RefreshCount {
                window_start: self.window_start,
                seen_window_start: self.window_start,
                limit,
            });
        }
        Ok(RefreshCount {
            window_start: now,
            seen_window_start: self.window_start,
            limit,
        })
    }
}
