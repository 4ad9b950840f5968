//! # tokengate-claims
//!
//! Access-token types and a strict verifier for tokengate's JWTs (JWS compact, ES256 or RS256,
//! `typ` `at+jwt`, RFC 9068). Any Rust service can depend on this crate alone to verify
//! tokengate tokens: fetch the JWK Set from `/.well-known/jwks.json` (or the public keys from
//! KMS), build a [`Verifier`], call [`Verifier::verify`].
//!
//! ```
//! use tokengate_claims::{Validation, Verifier, VerifyError, VerifyingKey, Algorithm};
//! # let spki_der = tokengate_testing::keys::p256_spki();
//! // `spki_der`: the SubjectPublicKeyInfo DER that KMS GetPublicKey returns.
//! let key = VerifyingKey::from_spki_der("key-2025-01", Algorithm::ES256, &spki_der)?;
//! let verifier = Verifier::new(
//!     [key],
//!     Validation::new("https://auth.example.com", vec!["orders-api".to_owned()]),
//! );
//! let now = 1_800_000_000;
//! match verifier.verify("not.a.token", now) {
//!     Ok(claims) => println!("caller {} with roles {:?}", claims.sub, claims.roles),
//!     Err(VerifyError::Expired) => println!("ask the client to refresh"),
//!     Err(e) => println!("rejected: {e}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Why not `jsonwebtoken`
//! The crate parses tokens itself and verifies signatures with `aws-lc-rs` (the backend
//! `jsonwebtoken` uses with its `aws_lc_rs` feature). It needs header rules `jsonwebtoken` does
//! not enforce — `typ` must be `at+jwt`, no `crit`, no header-supplied keys (`jwk`, `jku`,
//! `x5u`, `x5c`, …), duplicate keys refused, a size limit — and it orders the checks so that
//! everything cheap happens before any signature math: a garbage token costs microseconds.
//!
//! ## Rules ([`Verifier::verify`], in this order)
//! 1. At most [`Validation::max_token_bytes`]; exactly three base64url parts (no padding, no
//!    JSON serialization, no JWE).
//! 2. Header: a JSON object of known members only, no duplicates; `alg` `ES256` or `RS256`
//!    (`none`, `HS256`, … in any spelling are refused); no `crit`; no `jwk`/`jku`/`x5u`/`x5c`/
//!    `x5t`/`x5t#S256`; `typ` exactly `at+jwt`; `kid` names one of the configured keys, and the
//!    header's `alg` is the one pinned to that key.
//! 3. Signature, with the key's pinned algorithm (ES256 signatures are the 64-byte `r‖s` form).
//! 4. Claims: every required claim present with its JSON type (a string `exp` is refused);
//!    `iss` exact; `aud` in the allow-list; `exp` and `nbf` within [`Validation::leeway_secs`].
//!
//! ECDSA signatures are malleable: `(r, n−s)` verifies as well as `(r, s)`. Revocation must
//! therefore key on `jti`, never on the token bytes — tokengate's denylist does.
#![deny(missing_docs)]

mod der;
mod jwk;
mod key;
mod token;
mod verify;

pub use der::{ecdsa_der_to_jws, SignatureFormatError};
pub use jwk::{Jwk, Jwks};
pub use key::{KeyError, VerifyingKey};
pub use token::{assemble, signing_input, AccessClaims, Algorithm, Header, ACCESS_TOKEN_TYPE};
pub use verify::{Validation, Verifier, VerifyError};
