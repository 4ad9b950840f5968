//! The verifier: keys pinned to algorithms, validation rules, and the check order.

use std::collections::HashMap;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::der::fixed_scalar;
use crate::jwk::{Jwk, Jwks};
use crate::key::VerifyingKey;
use crate::token::{AccessClaims, Algorithm, ACCESS_TOKEN_TYPE};

/// Why a token was refused. Callers match on it; new rules may add variants.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Longer than [`Validation::max_token_bytes`].
    #[error("token too large")]
    TooLarge,
    /// Not three non-empty base64url parts (JSON serialization, JWE, padding, whitespace…).
    #[error("token is not a compact JWS")]
    Malformed,
    /// Header not a JSON object of known members, or with duplicates.
    #[error("invalid token header")]
    InvalidHeader,
    /// `alg` is not ES256 or RS256 (`none`, `HS256`, …).
    #[error("unsupported algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// `alg` differs from the algorithm pinned to the key named by `kid`.
    #[error("algorithm does not match the key")]
    AlgorithmMismatch,
    /// `typ` missing or not `at+jwt`.
    #[error("token type is not at+jwt")]
    WrongType,
    /// No `kid`.
    #[error("token header has no kid")]
    MissingKid,
    /// `kid` names no configured key.
    #[error("unknown key id")]
    UnknownKid,
    /// The header carries a key or key reference (`jwk`, `jku`, `x5u`, …); keys come only
    /// from configuration.
    #[error("header member {0} is not allowed")]
    HeaderKeyNotAllowed(&'static str),
    /// A `crit` header: no extensions are understood, so none may be critical.
    #[error("critical header extensions are not supported")]
    UnsupportedCritical,
    /// The signature does not verify (or has the wrong form for the algorithm).
    #[error("invalid signature")]
    InvalidSignature,
    /// Claims are not a JSON object with every required claim of the right type.
    #[error("invalid claims: {0}")]
    InvalidClaims(String),
    /// `exp` has passed (beyond leeway).
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future (beyond leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// `iss` is not the configured issuer.
    #[error("issuer mismatch")]
    IssuerMismatch,
    /// `aud` is not in the allow-list.
    #[error("audience mismatch")]
    AudienceMismatch,
}

/// Validation rules. Build with [`Validation::new`]; every field documents its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    /// The one accepted `iss`, compared exactly. No default.
    pub issuer: String,
    /// Accepted `aud` values. No default; empty accepts nothing.
    pub audiences: Vec<String>,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds. Default
    /// [`Validation::DEFAULT_LEEWAY_SECS`] (30).
    pub leeway_secs: i64,
    /// Longest accepted token in bytes. Default 8192.
    pub max_token_bytes: usize,
}

impl Validation {
    /// The default of [`Validation::leeway_secs`]: the one place the number lives, so that
    /// everything that must outlast a token's acceptance (the logout denylist) agrees with it.
    pub const DEFAULT_LEEWAY_SECS: i64 = 30;

    /// Rules for `issuer` and `audiences`, with the defaults above.
    pub fn new(issuer: impl Into<String>, audiences: Vec<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audiences,
            leeway_secs: Self::DEFAULT_LEEWAY_SECS,
            max_token_bytes: 8192,
        }
    }

    /// The first unix second at which a token whose `exp` claim is `exp` is refused as
    /// [`VerifyError::Expired`]: `exp + leeway + 1`. Until then a verifier with these rules
    /// still accepts it, so a revocation of the token (a denylist entry) must live at least
    /// that long.
    pub fn expired_from(&self, exp: i64) -> i64 {
        exp.saturating_add(self.leeway_secs).saturating_add(1)
    }
}

/// Verifies tokengate access tokens against a fixed set of keys. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Verifier {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    keys: HashMap<String, VerifyingKey>,
    validation: Validation,
}

/// The header as sent. Members that would supply a key are accepted by the parser only to be
/// refused with a precise error; any other unknown member is refused as well.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader<'a> {
    #[serde(borrow)]
    alg: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    typ: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    kid: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    crit: Option<IgnoredAny>,
    #[serde(default)]
    jwk: Option<IgnoredAny>,
    #[serde(default)]
    jku: Option<IgnoredAny>,
    #[serde(default)]
    x5u: Option<IgnoredAny>,
    #[serde(default)]
    x5c: Option<IgnoredAny>,
    #[serde(default)]
    x5t: Option<IgnoredAny>,
    #[serde(default, rename = "x5t#S256")]
    x5t_s256: Option<IgnoredAny>,
}

/// Decodes strict base64url (no padding, canonical trailing bits) into `buf`.
fn decode_into(part: &str, buf: &mut Vec<u8>) -> Result<(), VerifyError> {
    buf.clear();
    B64.decode_vec(part, buf)
        .map_err(|_| VerifyError::Malformed)
}

impl Verifier {
    /// A verifier trusting `keys` (by `kid`) under `validation`.
    pub fn new(keys: impl IntoIterator<Item = VerifyingKey>, validation: Validation) -> Self {
        Self {
            inner: Arc::new(Inner {
                keys: keys.into_iter().map(|k| (k.kid().to_owned(), k)).collect(),
                validation,
            }),
        }
    }

    /// The rules this verifier applies.
    pub fn validation(&self) -> &Validation {
        &self.inner.validation
    }

    /// The trusted keys.
    pub fn keys(&self) -> impl Iterator<Item = &VerifyingKey> {
        self.inner.keys.values()
    }

    /// The trusted keys as a JWK Set, sorted by `kid` for a stable document.
    pub fn jwks(&self) -> Jwks {
        let mut keys: Vec<Jwk> = self.keys().map(VerifyingKey::to_jwk).collect();
        keys.sort_by(|a, b| a.kid.cmp(&b.kid));
        Jwks { keys }
    }

    /// Verifies `token` at unix time `now`; see the crate docs for the rules and their order.
    pub fn verify(&self, token: &str, now: i64) -> Result<AccessClaims, VerifyError> {
        let v = &self.inner.validation;
        if token.len() > v.max_token_bytes {
            return Err(VerifyError::TooLarge);
        }
        let mut parts = token.split('.');
        let (Some(h64), Some(c64), Some(s64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(VerifyError::Malformed);
        };
        if h64.is_empty() || c64.is_empty() || s64.is_empty() {
            return Err(VerifyError::Malformed);
        }

        let mut buf = Vec::with_capacity(h64.len());
        decode_into(h64, &mut buf)?;
        let key = self.check_header(&buf)?;

        let mut sig = Vec::with_capacity(s64.len());
        decode_into(s64, &mut sig)?;
        if key.alg() == Algorithm::ES256 {
            // Only the fixed 64-byte r‖s form, with 1 <= r, s < n; DER is refused here.
            if sig.len() != 64
                || fixed_scalar(&sig[..32]).is_none()
                || fixed_scalar(&sig[32..]).is_none()
            {
                return Err(VerifyError::InvalidSignature);
            }
        }
        let signed = &token.as_bytes()[..h64.len() + 1 + c64.len()];
        key.key
            .verify_sig(signed, &sig)
            .map_err(|_| VerifyError::InvalidSignature)?;

        decode_into(c64, &mut buf)?;
        if nesting_exceeds(&buf, MAX_CLAIMS_DEPTH) {
            return Err(VerifyError::InvalidClaims(
                "claims nested too deeply".to_owned(),
            ));
        }
        let claims: AccessClaims = serde_json::from_slice(&buf)
            .map_err(|e| VerifyError::InvalidClaims(claims_error(&e)))?;
        if claims.iss != v.issuer {
            return Err(VerifyError::IssuerMismatch);
        }
        if !v.audiences.contains(&claims.aud) {
            return Err(VerifyError::AudienceMismatch);
        }
        if now >= v.expired_from(claims.exp) {
            return Err(VerifyError::Expired);
        }
        if now < claims.nbf.saturating_sub(v.leeway_secs) {
            return Err(VerifyError::NotYetValid);
        }
        Ok(claims)
    }

    fn check_header(&self, json: &[u8]) -> Result<&VerifyingKey, VerifyError> {
        let h: RawHeader<'_> =
            serde_json::from_slice(json).map_err(|_| VerifyError::InvalidHeader)?;
        let alg = match &*h.alg {
            "ES256" => Algorithm::ES256,
            "RS256" => Algorithm::RS256,
            other => {
                return Err(VerifyError::UnsupportedAlgorithm(
                    other.chars().take(32).collect(),
                ))
            }
        };
        for (present, name) in [
            (h.jwk.is_some(), "jwk"),
            (h.jku.is_some(), "jku"),
            (h.x5u.is_some(), "x5u"),
            (h.x5c.is_some(), "x5c"),
            (h.x5t.is_some(), "x5t"),
            (h.x5t_s256.is_some(), "x5t#S256"),
        ] {
            if present {
                return Err(VerifyError::HeaderKeyNotAllowed(name));
            }
        }
        if h.crit.is_some() {
            return Err(VerifyError::UnsupportedCritical);
        }
        if h.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
            return Err(VerifyError::WrongType);
        }
        let kid = h.kid.ok_or(VerifyError::MissingKid)?;
        let key = self.inner.keys.get(&*kid).ok_or(VerifyError::UnknownKid)?;
        if key.alg() != alg {
            return Err(VerifyError::AlgorithmMismatch);
        }
        Ok(key)
    }
}

/// A short, input-free description of a claims error (never echoes token content).
/// Deepest JSON nesting accepted in a claims set (ours is 2: the object and `roles`). serde
/// skips unknown members without its recursion limit, so a deep unknown member would otherwise
/// be walked in full.
const MAX_CLAIMS_DEPTH: usize = 8;

/// Whether `json` nests arrays/objects deeper than `max` (brackets inside strings ignored).
fn nesting_exceeds(json: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in json {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

fn claims_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Data => {
            let msg = e.to_string();
            // serde's data errors name the field ("missing field `exp`", "invalid type: string
            // \"…\", expected i64"); keep only the part before any quoted value.
            let msg = msg.split(" at line").next().unwrap_or("");
            msg.split('"')
                .next()
                .unwrap_or("")
                .trim()
                .chars()
                .take(80)
                .collect()
        }
        Category::Syntax | Category::Eof => "not valid JSON".to_owned(),
        Category::Io => "unreadable".to_owned(),
    }
}
