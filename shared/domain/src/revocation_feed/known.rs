//! [`Known`]: what a reader has learnt from the feed, kept only while it matters.

use std::collections::HashMap;

use tokengate_claims::AccessClaims;

use super::is_live;
use crate::ports::{FeedEntry, Revoked};

/// The revocations a reader has read, each until its entry's `until` (unix seconds): revoked
/// `jti`s, revoked sessions, and each user's minimum token version. Memory is bounded by the
/// revocations of the last access-token life (plus leeway and margin): an entry leaves when
/// its `until` passes, and never before.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Known {
    /// `jti` → until.
    tokens: HashMap<String, i64>,
    /// `sid` → until.
    sessions: HashMap<String, i64>,
    /// `sub` → (minimum token version, until).
    principals: HashMap<String, (u64, i64)>,
}

/// Why a token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Its `jti` is revoked (logout with the token, RFC 7009 revocation of it).
    Token,
    /// Its session is revoked (logout, reuse detection, revocation of its refresh token).
    Session,
    /// Its owner's token version moved past it (global logout, password change or reset,
    /// disable, role change), or the owner is gone or disabled.
    Principal,
}

impl Refusal {
    /// The name logs use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Session => "session",
            Self::Principal => "principal",
        }
    }
}

impl Known {
    /// Learns `entry`, unless it no longer matters at `now` (unix seconds). Reading an entry
    /// again (catch-ups overlap) changes nothing; of two entries on one key the longer life and
    /// the higher version win: a token below either version is refused by the store as well.
    pub fn learn(&mut self, entry: &FeedEntry, now: i64) {
        if !is_live(entry, now) {
            return;
        }
        let until = entry.until;
        match &entry.revoked {
            Revoked::Token { jti } => {
                keep_longer(self.tokens.entry(jti.clone()).or_default(), until)
            }
            Revoked::Session { sid } => {
                keep_longer(self.sessions.entry(sid.clone()).or_default(), until)
            }
            Revoked::Principal {
                user_id,
                min_version,
            } => {
                let (version, known_until) =
                    self.principals.entry(user_id.clone()).or_insert((0, 0));
                *version = (*version).max(*min_version);
                keep_longer(known_until, until);
            }
        }
    }

    /// Forgets every entry whose `until` is not after `now`: from then on no token it revokes
    /// is accepted anyway (expired, leeway included).
    pub fn forget_expired(&mut self, now: i64) {
        self.tokens.retain(|_, until| *until > now);
        self.sessions.retain(|_, until| *until > now);
        self.principals.retain(|_, (_, until)| *until > now);
    }

    /// Why the token with these claims is refused, if it is: its `jti` revoked, its session
    /// revoked, or its `ver` below its owner's minimum.
    pub fn refusal(&self, claims: &AccessClaims) -> Option<Refusal> {
        if self.tokens.contains_key(&claims.jti) {
            return Some(Refusal::Token);
        }
        if let Some(sid) = &claims.sid {
            if self.sessions.contains_key(sid) {
                return Some(Refusal::Session);
            }
        }
        match self.principals.get(&claims.sub) {
            Some((min_version, _)) if claims.ver < *min_version => Some(Refusal::Principal),
            _ => None,
        }
    }

    /// Number of entries held (tokens, sessions and users).
    pub fn len(&self) -> usize {
        self.tokens.len() + self.sessions.len() + self.principals.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn keep_longer(known: &mut i64, until: i64) {
    *known = (*known).max(until);
}
