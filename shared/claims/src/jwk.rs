//! JSON Web Keys (RFC 7517) for the JWKS endpoint.

use serde::{Deserialize, Serialize};

/// One public key as a JWK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// `EC` or `RSA`.
    pub kty: String,
    /// Key id.
    pub kid: String,
    /// `ES256` or `RS256`.
    pub alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// Curve (`P-256`), EC only.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub crv: Option<String>,
    /// x coordinate, base64url, EC only.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub x: Option<String>,
    /// y coordinate, base64url, EC only.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub y: Option<String>,
    /// Modulus, base64url, RSA only.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub n: Option<String>,
    /// Exponent, base64url, RSA only.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub e: Option<String>,
}

/// A JWK Set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}
