//! Keys for examples and tests.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

/// The SubjectPublicKeyInfo DER of a fresh P-256 key: what KMS `GetPublicKey` returns for an
/// ES256 key (the claims crate's example verifies with it).
pub fn p256_spki() -> Vec<u8> {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("keygen");
    pair.public_key().as_der().expect("spki").as_ref().to_vec()
}

/// The order n of the P-256 group, big-endian.
pub const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// The other valid ECDSA signature of the same content: raw JWS `r‖s` → `r‖(n − s)`.
/// ECDSA is malleable, which is why the denylist keys on `jti`, never on token bytes.
pub fn ecdsa_twin(signature: &[u8]) -> Vec<u8> {
    assert_eq!(signature.len(), 64, "a raw P-256 signature");
    let (r, s) = signature.split_at(32);
    let mut twin_s = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(P256_N[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        twin_s[i] = d.rem_euclid(256) as u8;
    }
    assert_eq!(borrow, 0, "s < n");
    [r, &twin_s[..]].concat()
}
