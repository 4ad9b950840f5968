//! Keys for examples and tests.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

/// The SubjectPublicKeyInfo DER of a fresh P-256 key: what KMS `GetPublicKey` returns for an
/// ES256 key (the claims crate's example verifies with it).
pub fn p256_spki() -> Vec<u8> {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("keygen");
    pair.public_key().as_der().expect("spki").as_ref().to_vec()
}
