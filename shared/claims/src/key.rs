//! Trusted public keys: parsed once from the SubjectPublicKeyInfo KMS returns, pinned to one
//! algorithm, published as JWKs.

use aws_lc_rs::signature::{ParsedPublicKey, ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;

use crate::der::{parse_spki, PublicKeyParts};
use crate::jwk::Jwk;
use crate::token::Algorithm;

/// Why a public key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid public key: {0}")]
pub struct KeyError(&'static str);

/// A trusted public key, pinned to one algorithm.
#[derive(Clone)]
pub struct VerifyingKey {
    kid: String,
    alg: Algorithm,
    /// The parsed key the verifier checks signatures with.
    pub(crate) key: ParsedPublicKey,
    parts: PublicKeyParts,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish()
    }
}

impl VerifyingKey {
    /// From the SubjectPublicKeyInfo DER that KMS `GetPublicKey` returns: a P-256 key for
    /// ES256, an RSA key of at least 2048 bits for RS256. A key of the other type is refused.
    pub fn from_spki_der(
        kid: impl Into<String>,
        alg: Algorithm,
        spki_der: &[u8],
    ) -> Result<Self, KeyError> {
        let parts = parse_spki(spki_der).map_err(KeyError)?;
        let verification: &'static dyn aws_lc_rs::signature::VerificationAlgorithm =
            match (&parts, alg) {
                (PublicKeyParts::Ec { .. }, Algorithm::ES256) => &ECDSA_P256_SHA256_FIXED,
                (PublicKeyParts::Rsa { n, .. }, Algorithm::RS256) => {
                    if n.len() < 256 {
                        return Err(KeyError("RSA key shorter than 2048 bits"));
                    }
                    &RSA_PKCS1_2048_8192_SHA256
                }
                _ => return Err(KeyError("key type does not match the algorithm")),
            };
        let key = ParsedPublicKey::new(verification, spki_der)
            .map_err(|_| KeyError("rejected by the crypto library"))?;
        Ok(Self {
            kid: kid.into(),
            alg,
            key,
            parts,
        })
    }

    /// Key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Pinned algorithm.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The key as a JWK (`use` `sig`).
    pub fn to_jwk(&self) -> Jwk {
        let b = |v: &[u8]| Some(B64.encode(v));
        let mut jwk = Jwk {
            kty: String::new(),
            kid: self.kid.clone(),
            alg: self.alg.as_str().to_owned(),
            use_: "sig".to_owned(),
            crv: None,
            x: None,
            y: None,
            n: None,
            e: None,
        };
        match &self.parts {
            PublicKeyParts::Ec { x, y } => {
                jwk.kty = "EC".to_owned();
                jwk.crv = Some("P-256".to_owned());
                jwk.x = b(x);
                jwk.y = b(y);
            }
            PublicKeyParts::Rsa { n, e } => {
                jwk.kty = "RSA".to_owned();
                jwk.n = b(n);
                jwk.e = b(e);
            }
        }
        jwk
    }
}
