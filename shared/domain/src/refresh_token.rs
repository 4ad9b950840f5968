//! Opaque refresh tokens: `<sid>.<family>.<secret>`, all base64url. The session id is public
//! (access tokens carry it as `sid`); the family secret (128 bits) is drawn at login and carried
//! unchanged by every token of the session; the secret (256 bits) changes at every rotation.
//! Only SHA-256 hashes of the secrets are ever stored ([`TokenHash`]), so a dump of the table
//! yields no usable token.
//!
//! The family secret is what lets reuse detection work without storing every spent token: a
//! token whose family secret matches the session's but which is neither current nor the
//! in-grace predecessor can only come from someone who held a genuine token of the family (an
//! earlier one, replayed), while a token built from the public session id alone does not match
//! and changes nothing (see [`crate::session::Standing`]).

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;

/// Bytes of randomness in a session id.
const SID_BYTES: usize = 16;
/// Bytes of a family secret (128 bits: not guessable, and the family is also bound to its
/// session id, which a guess would have to name).
pub const FAMILY_BYTES: usize = 16;
/// Bytes of a refresh secret (256 bits, DESIGN.md).
pub const SECRET_BYTES: usize = 32;
/// Characters of each part: base64url without padding of 16, 16 and 32 bytes.
const PART_LENS: [usize; 3] = [22, 22, 43];
/// The one well-formed length: 22 + 1 + 22 + 1 + 43 characters.
const TOKEN_LEN: usize = 89;

/// A refresh token: the session it belongs to and its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    sid: String,
    family: [u8; FAMILY_BYTES],
    secret: [u8; SECRET_BYTES],
}

impl std::fmt::Debug for RefreshToken {
    // Neither secret ever reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshToken")
            .field("sid", &self.sid)
            .finish_non_exhaustive()
    }
}

/// SHA-256 of a refresh secret or a family secret, base64url: what the store keeps.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    /// Wraps a stored hash.
    pub fn from_stored(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The stored form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Fills `buf` from the OS CSPRNG.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The system RNG failing means the OS is broken; nothing safe can be issued.
    SystemRandom::new()
        .fill(&mut buf)
        .expect("system random number generator failed");
    buf
}

/// A fresh random id, base64url (128 bits: session ids, `jti`s, user ids).
pub fn random_id() -> String {
    B64.encode(random_bytes::<SID_BYTES>())
}

impl RefreshToken {
    /// The first token of a new session: a new session id, family secret and secret.
    pub fn generate() -> Self {
        Self {
            sid: random_id(),
            family: random_bytes::<FAMILY_BYTES>(),
            secret: random_bytes::<SECRET_BYTES>(),
        }
    }

    /// A token from its three parts: what a parsed token holds, and what tests build made-up
    /// tokens from.
    pub fn from_parts(
        sid: impl Into<String>,
        family: [u8; FAMILY_BYTES],
        secret: [u8; SECRET_BYTES],
    ) -> Self {
        Self {
            sid: sid.into(),
            family,
            secret,
        }
    }

    /// The token of the same session and family with the next secret (the derived successor).
    pub fn successor(&self, secret: [u8; SECRET_BYTES]) -> Self {
        Self {
            sid: self.sid.clone(),
            family: self.family,
            secret,
        }
    }

    /// Parses the wire form; `None` for anything not exactly `<22>.<22>.<43>` characters of
    /// canonical base64url. Tokens of the earlier form `<sid>.<secret>` are refused here: their
    /// sessions hold no family hash, so nothing could tell their replay from a forgery.
    pub fn parse(s: &str) -> Option<Self> {
        if s.len() != TOKEN_LEN {
            return None;
        }
        let mut parts = s.split('.');
        let (sid, family, secret) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some()
            || [sid, family, secret].map(str::len) != PART_LENS
            || B64.decode(sid).ok()?.len() != SID_BYTES
        {
            return None;
        }
        Some(Self {
            sid: sid.to_owned(),
            family: B64.decode(family).ok()?.try_into().ok()?,
            secret: B64.decode(secret).ok()?.try_into().ok()?,
        })
    }

    /// Session id.
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// The hash the store keeps for this token (of its secret).
    pub fn hash(&self) -> TokenHash {
        TokenHash(B64.encode(digest::digest(&digest::SHA256, &self.secret)))
    }

    /// The hash the store keeps for the token's family (of its family secret).
    pub fn family_hash(&self) -> TokenHash {
        TokenHash(B64.encode(digest::digest(&digest::SHA256, &self.family)))
    }

    /// Input to the successor MAC: a fixed label, the session id, the family secret and the
    /// secret (all of fixed length once parsed), so a successor is bound to its session and
    /// family. `v2`: the family secret joined the input; `v1` tokens no longer parse.
    pub fn successor_mac_input(&self) -> Vec<u8> {
        const LABEL: &[u8] = b"tokengate/refresh-successor/v2\0";
        let mut m =
            Vec::with_capacity(LABEL.len() + self.sid.len() + 1 + FAMILY_BYTES + SECRET_BYTES);
        m.extend_from_slice(LABEL);
        m.extend_from_slice(self.sid.as_bytes());
        m.push(0);
        m.extend_from_slice(&self.family);
        m.extend_from_slice(&self.secret);
        m
    }

    /// The wire form. Treat as a secret.
    pub fn expose(&self) -> String {
        format!(
            "{}.{}.{}",
            self.sid,
            B64.encode(self.family),
            B64.encode(self.secret)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_wire_form() {
        let t = RefreshToken::generate();
        let wire = t.expose();
        assert_eq!(wire.len(), TOKEN_LEN);
        let parsed = RefreshToken::parse(&wire).unwrap();
        assert_eq!(parsed, t);
        assert_eq!(parsed.hash(), t.hash());
        assert_eq!(parsed.family_hash(), t.family_hash());
    }

    #[test]
    fn a_successor_keeps_the_session_and_the_family() {
        let t = RefreshToken::generate();
        let next = t.successor([9; SECRET_BYTES]);
        assert_eq!(next.sid(), t.sid());
        assert_eq!(next.family_hash(), t.family_hash());
        assert_ne!(next.hash(), t.hash());
        assert_ne!(next.successor_mac_input(), t.successor_mac_input());
    }

    #[test]
    fn rejects_malformed_tokens() {
        let good = RefreshToken::generate().expose();
        let mut parts = good.split('.');
        let (sid, family, secret) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        for bad in [
            "",
            ".",
            "..",
            "abc",
            &format!("{sid}.{family}.{secret}="),
            &format!("{sid}.{family}{secret}"),
            &format!("{sid}.{family}.{}", &secret[1..]),
            &format!("{sid}.{}.{secret}", &family[1..]),
            &format!("{}.{family}.{secret}", &sid[1..]),
            &format!("{sid}.{family}.{secret}.x"),
            &format!("{sid}.{family}.{}", secret.replace(|_| true, "+")),
            // The same length, the parts in other places.
            &format!("{family}{secret}..{sid}"),
            &"A".repeat(10_000),
        ] {
            assert!(RefreshToken::parse(bad).is_none(), "accepted {bad:?}");
        }
    }

    #[test]
    fn tokens_of_the_earlier_two_part_form_are_refused() {
        let sid = random_id();
        let old = format!("{sid}.{}", B64.encode([7u8; SECRET_BYTES]));
        assert!(RefreshToken::parse(&old).is_none());
    }

    #[test]
    fn debug_output_never_contains_either_secret() {
        let t = RefreshToken::generate();
        let wire = t.expose();
        let debug = format!("{t:?}");
        for part in wire.split('.').skip(1) {
            assert!(!debug.contains(part));
        }
    }

    #[test]
    fn stored_hashes_are_not_the_token() {
        let t = RefreshToken::generate();
        assert!(!t.expose().contains(t.hash().as_str()));
        assert!(!t.expose().contains(t.family_hash().as_str()));
    }
}
