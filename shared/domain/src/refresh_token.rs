//! Opaque refresh tokens: `<sid>.<secret>`, both base64url. The secret is 256 bits; only its
//! SHA-256 ([`TokenHash`]) is ever stored, so a dump of the table yields no usable token.

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;

/// Bytes of randomness in a session id.
const SID_BYTES: usize = 16;
/// Bytes of a refresh secret (256 bits, DESIGN.md).
pub const SECRET_BYTES: usize = 32;
/// Longest well-formed token: 22 + 1 + 43 characters.
const MAX_TOKEN_LEN: usize = 66;

/// A refresh token: the session it belongs to and its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    sid: String,
    secret: [u8; SECRET_BYTES],
}

impl std::fmt::Debug for RefreshToken {
    // The secret never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshToken")
            .field("sid", &self.sid)
            .finish_non_exhaustive()
    }
}

/// SHA-256 of a refresh secret, base64url: what the store keeps.
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
    /// The first token of a new session.
    pub fn generate() -> Self {
        Self {
            sid: random_id(),
            secret: random_bytes::<SECRET_BYTES>(),
        }
    }

    /// A token of session `sid` with a given secret (the derived successor).
    pub fn with_secret(sid: impl Into<String>, secret: [u8; SECRET_BYTES]) -> Self {
        Self {
            sid: sid.into(),
            secret,
        }
    }

    /// Parses the wire form; `None` for anything not exactly `<22 chars>.<43 chars>` base64url.
    pub fn parse(s: &str) -> Option<Self> {
        if s.len() > MAX_TOKEN_LEN {
            return None;
        }
        let (sid, secret) = s.split_once('.')?;
        let sid_bytes = B64.decode(sid).ok()?;
        let secret_bytes = B64.decode(secret).ok()?;
        if sid_bytes.len() != SID_BYTES {
            return None;
        }
        Some(Self {
            sid: sid.to_owned(),
            secret: secret_bytes.try_into().ok()?,
        })
    }

    /// Session id.
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// The hash the store keeps for this token.
    pub fn hash(&self) -> TokenHash {
        TokenHash(B64.encode(digest::digest(&digest::SHA256, &self.secret)))
    }

    /// Input to the successor MAC: a fixed label, the session id and the secret, so a
    /// successor is bound to its session.
    pub fn successor_mac_input(&self) -> Vec<u8> {
        const LABEL: &[u8] = b"tokengate/refresh-successor/v1\0";
        let mut m = Vec::with_capacity(LABEL.len() + self.sid.len() + 1 + SECRET_BYTES);
        m.extend_from_slice(LABEL);
        m.extend_from_slice(self.sid.as_bytes());
        m.push(0);
        m.extend_from_slice(&self.secret);
        m
    }

    /// The wire form. Treat as a secret.
    pub fn expose(&self) -> String {
        format!("{}.{}", self.sid, B64.encode(self.secret))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_wire_form() {
        let t = RefreshToken::generate();
        let parsed = RefreshToken::parse(&t.expose()).unwrap();
        assert_eq!(parsed, t);
        assert_eq!(parsed.hash(), t.hash());
    }

    #[test]
    fn rejects_malformed_tokens() {
        let good = RefreshToken::generate().expose();
        let (sid, secret) = good.split_once('.').unwrap();
        for bad in [
            "",
            ".",
            "abc",
            &format!("{sid}.{secret}="),
            &format!("{sid}{secret}"),
            &format!("{sid}.{}", &secret[1..]),
            &format!("{}.{secret}", &sid[1..]),
            &format!("{sid}.{secret}.x"),
            &format!("{sid}.{}", secret.replace(|_| true, "+")),
            &"A".repeat(10_000),
        ] {
            assert!(RefreshToken::parse(bad).is_none(), "accepted {bad:?}");
        }
    }

    #[test]
    fn debug_output_never_contains_the_secret() {
        let t = RefreshToken::generate();
        let secret = t.expose().split_once('.').unwrap().1.to_owned();
        assert!(!format!("{t:?}").contains(&secret));
    }

    #[test]
    fn stored_hash_is_not_the_token() {
        let t = RefreshToken::generate();
        assert!(!t.expose().contains(t.hash().as_str()));
    }
}
