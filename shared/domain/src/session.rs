//! What a stored session says about a presented refresh token, decided from the item alone.
//! Refresh and logout both ask this before they do anything that costs or changes: a made-up
//! token, or one of a dead session, costs one read and changes nothing.

use crate::config::AuthConfig;
use crate::ports::Session;
use crate::refresh_token::TokenHash;

/// The standing of a presented token in a session, as far as the session item can tell. The
/// owner's token version is not in the item: whoever acts on a live standing checks it in the
/// same conditional write (refresh's rotation, global logout's version bump).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The session was revoked (logout, reuse detection, or found signed out everywhere).
    Revoked,
    /// The session passed its absolute lifetime or idle timeout.
    Expired,
    /// The presented token is the session's current one.
    Current,
    /// The presented token is the immediate predecessor, inside the grace window.
    InGrace,
    /// Any other token of this session id: spent earlier, or never issued.
    Other,
}

impl Standing {
    /// The session is live and the token is one it accepts: current, or the in-grace
    /// predecessor.
    pub fn accepts(self) -> bool {
        matches!(self, Self::Current | Self::InGrace)
    }
}

impl Session {
    /// The standing of a token with hash `presented` at `now`. DynamoDB deletes expired items
    /// lazily, so expiry is compared here, on every read.
    pub fn standing(&self, presented: &TokenHash, now: i64, config: &AuthConfig) -> Standing {
        if self.revoked {
            return Standing::Revoked;
        }
        if now >= self.expires_at || now - self.last_used_at > config.refresh_idle_secs {
            return Standing::Expired;
        }
        if &self.current_hash == presented {
            return Standing::Current;
        }
        let in_grace = now - self.rotated_at <= config.grace_secs;
        if in_grace && self.previous_hash.as_ref() == Some(presented) {
            return Standing::InGrace;
        }
        Standing::Other
    }
}
