//! What a token says: header, claims, and how the compact form is put together.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// `typ` of every tokengate access token (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// Signature algorithms tokengate signs with. Each verifying key is pinned to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    /// ECDSA P-256 with SHA-256 (KMS `ECC_NIST_P256`, `ECDSA_SHA_256`).
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (KMS `RSA_2048`+, `RSASSA_PKCS1_V1_5_SHA_256`).
    RS256,
}

impl Algorithm {
    /// The JOSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ES256 => "ES256",
            Self::RS256 => "RS256",
        }
    }
}

/// The JOSE header tokengate emits, in this member order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Header {
    /// Signature algorithm.
    pub alg: Algorithm,
    /// Always [`ACCESS_TOKEN_TYPE`].
    pub typ: String,
    /// Id of the signing key.
    pub kid: String,
}

/// Claims of an access token. No secrets or personal data: `sub` is an opaque user id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer.
    pub iss: String,
    /// Audience (one string).
    pub aud: String,
    /// Opaque user id.
    pub sub: String,
    /// The client the token was issued to (RFC 9068 §2.2, required in every token tokengate
    /// issues; optional here so that a token issued before clients existed still verifies).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub client_id: Option<String>,
    /// Expiry, unix seconds.
    pub exp: i64,
    /// Issued at, unix seconds.
    pub iat: i64,
    /// Not before, unix seconds.
    pub nbf: i64,
    /// Unique token id (≥128 random bits); the denylist key.
    pub jti: String,
    /// Roles of the user when the token was issued.
    pub roles: Vec<String>,
    /// The user's token version; older versions are revoked.
    pub ver: u64,
    /// The granted scopes, one space-separated string (RFC 8693 §4.2, RFC 9068 §2.2.3);
    /// absent when the grant holds none.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub scope: Option<String>,
    /// Session (refresh-token family) id.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sid: Option<String>,
}

impl AccessClaims {
    /// The granted scopes: the names of the space-separated `scope` claim (RFC 8693 §4.2),
    /// none when it is absent.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope
            .as_deref()
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
    }

    /// Whether the token was granted `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|s| s == scope)
    }
}

/// `base64url(header) "." base64url(claims)`: the bytes the signer signs.
pub fn signing_input(header: &Header, claims: &AccessClaims) -> String {
    // Serialising these plain structs cannot fail.
    let h = serde_json::to_vec(header).expect("header serialises");
    let c = serde_json::to_vec(claims).expect("claims serialise");
    format!("{}.{}", B64.encode(h), B64.encode(c))
}

/// `signing_input "." base64url(signature)`; `signature` in JWS form (64-byte `r‖s` for ES256).
pub fn assemble(signing_input: &str, signature: &[u8]) -> String {
    format!("{signing_input}.{}", B64.encode(signature))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_the_names_of_the_space_separated_claim() {
        let mut c = AccessClaims {
            iss: "i".into(),
            aud: "a".into(),
            sub: "s".into(),
            client_id: Some("web".into()),
            exp: 2,
            iat: 1,
            nbf: 1,
            jti: "j".into(),
            roles: vec![],
            ver: 1,
            scope: Some("orders:read orders:write".into()),
            sid: None,
        };
        assert_eq!(
            c.scopes().collect::<Vec<_>>(),
            ["orders:read", "orders:write"]
        );
        assert!(c.has_scope("orders:write") && !c.has_scope("orders"));
        c.scope = None;
        assert_eq!(c.scopes().count(), 0);
    }
}
