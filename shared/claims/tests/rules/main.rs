//! One test per verification rule (DESIGN.md security checklist, RFC 8725, RFC 9068 §4, the
//! OWASP JWT cheat sheet), each asserting the precise error: the token forms and sizes, the
//! header, the signature and the claims each in a module of their own.

mod claims;
mod forms;
mod header;
mod signature;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair, RsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING,
    ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::{json, Value};
use tokengate_claims::*;
use tokengate_testing::keys::{ecdsa_twin, P256_N};

const NOW: i64 = 1_800_000_000;
const ISS: &str = "https://auth.test";

struct Keys {
    ec: EcdsaKeyPair,
    ec_spki: Vec<u8>,
    rsa: RsaKeyPair,
    rsa_spki: Vec<u8>,
    verifier: Verifier,
}

fn keys() -> Keys {
    let ec = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let ec_spki = ec.public_key().as_der().unwrap().as_ref().to_vec();
    let rsa = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let rsa_spki = rsa.public_key().as_der().unwrap().as_ref().to_vec();
    let verifier = Verifier::new(
        [
            VerifyingKey::from_spki_der("ec-1", Algorithm::ES256, &ec_spki).unwrap(),
            VerifyingKey::from_spki_der("rsa-1", Algorithm::RS256, &rsa_spki).unwrap(),
        ],
        Validation::new(ISS, vec!["api".to_owned()]),
    );
    Keys {
        ec,
        ec_spki,
        rsa,
        rsa_spki,
        verifier,
    }
}

fn claims() -> Value {
    json!({
        "iss": ISS, "aud": "api", "sub": "u-1", "exp": NOW + 900, "iat": NOW, "nbf": NOW,
        "jti": "AAAAAAAAAAAAAAAAAAAAAA", "roles": ["reader"], "ver": 1, "sid": "s-1"
    })
}

fn es_header() -> Value {
    json!({ "alg": "ES256", "typ": "at+jwt", "kid": "ec-1" })
}

fn input(header: &str, claims: &str) -> String {
    format!("{}.{}", B64.encode(header), B64.encode(claims))
}

impl Keys {
    fn es_sign(&self, input: &str) -> Vec<u8> {
        self.ec
            .sign(&SystemRandom::new(), input.as_bytes())
            .unwrap()
            .as_ref()
            .to_vec()
    }
    fn rs_sign(&self, input: &str) -> Vec<u8> {
        let mut sig = vec![0; self.rsa.public_modulus_len()];
        self.rsa
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .unwrap();
        sig
    }
    /// A validly ES256-signed token with raw header and claims text.
    fn es_raw(&self, header: &str, claims: &str) -> String {
        let i = input(header, claims);
        assemble(&i, &self.es_sign(&i))
    }
    fn es(&self, header: Value, claims: Value) -> String {
        self.es_raw(&header.to_string(), &claims.to_string())
    }
    fn verify(&self, token: &str) -> Result<AccessClaims, VerifyError> {
        self.verifier.verify(token, NOW)
    }
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

fn without(mut v: Value, key: &str) -> Value {
    v.as_object_mut().unwrap().remove(key);
    v
}

#[test]
fn es256_token_verifies() {
    let k = keys();
    let c = k.verify(&k.es(es_header(), claims())).unwrap();
    assert_eq!(c.sub, "u-1");
    assert_eq!(c.roles, vec!["reader"]);
    assert_eq!(c.sid.as_deref(), Some("s-1"));
}

#[test]
fn rs256_token_verifies() {
    let k = keys();
    let h = json!({ "alg": "RS256", "typ": "at+jwt", "kid": "rsa-1" });
    let i = input(&h.to_string(), &claims().to_string());
    assert_eq!(k.verify(&assemble(&i, &k.rs_sign(&i))).unwrap().sub, "u-1");
}

#[test]
fn signing_input_and_assemble_build_what_the_verifier_accepts() {
    let k = keys();
    let c: AccessClaims = serde_json::from_value(claims()).unwrap();
    let h = Header {
        alg: Algorithm::ES256,
        typ: ACCESS_TOKEN_TYPE.to_owned(),
        kid: "ec-1".to_owned(),
    };
    let i = signing_input(&h, &c);
    assert!(B64
        .decode(i.split('.').next().unwrap())
        .unwrap()
        .starts_with(br#"{"alg":"ES256","typ":"at+jwt","kid":"ec-1"}"#));
    assert_eq!(k.verify(&assemble(&i, &k.es_sign(&i))).unwrap(), c);
}
