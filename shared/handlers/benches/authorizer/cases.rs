//! The signed tokens every measurement uses: one ES256 and one RS256 key generated per run,
//! the same claims, and the authorizer events that carry them. Also written to
//! `target/bench/tokens.json`, so the Node.js peers verify exactly these tokens.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair, ParsedPublicKey, RsaKeyPair, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use base64::Engine;
use serde_json::json;
use tokengate_claims::{assemble, signing_input, AccessClaims, Algorithm, Header};
use tokengate_domain::keyring::NewKey;
use tokengate_domain::ports::{User, UserStatus};
use tokengate_domain::Username;

/// The bench's "now" (unix seconds): every clock starts here and the tokens are valid from it
/// for 900 s.
pub const NOW: i64 = 1_800_000_000;
/// The user the tokens belong to.
pub const USER_ID: &str = "u-bench";

/// One signed token and what a bare verification of its signature needs.
pub struct Case {
    pub alg: Algorithm,
    pub token: String,
    /// The same user's token with the role `admin`, which every route rule admits: its policy
    /// has no Deny statement (what the reader's Deny patterns cost, by difference).
    pub admin_token: String,
    pub raw_key: ParsedPublicKey,
    pub message: Vec<u8>,
    pub signature: Vec<u8>,
    pub spki: Vec<u8>,
}

impl Case {
    /// The bare baseline: aws-lc-rs checking the signature over the signing input, nothing
    /// else (no base64, no JSON, no claims).
    pub fn raw_verify(&self) {
        self.raw_key
            .verify_sig(std::hint::black_box(&self.message), &self.signature)
            .unwrap()
    }

    /// The key as the keyring holds it (added as `next`: trusted, not signing).
    pub fn keyring_entry(&self) -> NewKey {
        let kid = self.kid();
        NewKey {
            key_arn: format!("arn:aws:kms:us-east-1:123456789012:key/{kid}"),
            kid,
            alg: self.alg,
            public_key: self.spki.clone(),
        }
    }

    fn kid(&self) -> String {
        format!("{}-key", self.alg.as_str())
    }
}

/// The user the tokens name, active at token version 1.
pub fn user() -> User {
    User {
        username: Username::parse("bench").unwrap(),
        user_id: USER_ID.into(),
        password_hash: String::new(),
        roles: vec!["reader".into()],
        status: UserStatus::Active,
        token_version: 1,
    }
}

fn claims(roles: &[&str]) -> AccessClaims {
    AccessClaims {
        iss: "https://auth.bench".into(),
        aud: "api".into(),
        sub: USER_ID.into(),
        client_id: Some("web".into()),
        exp: NOW + 900,
        iat: NOW,
        nbf: NOW,
        jti: "AAAAAAAAAAAAAAAAAAAAAA".into(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        ver: 1,
        scope: None,
        sid: Some("s-bench".into()),
    }
}

/// A fresh key of `alg` and a token signed with it.
pub fn case(alg: Algorithm) -> Case {
    let header = Header {
        alg,
        typ: "at+jwt".into(),
        kid: format!("{}-key", alg.as_str()),
    };
    let input = signing_input(&header, &claims(&["reader"]));
    let admin_input = signing_input(&header, &claims(&["admin"]));
    let rng = SystemRandom::new();
    // (the signature of `input`, of `admin_input`, the public key, its verification algorithm)
    let (signature, admin_signature, spki, verification): (
        Vec<u8>,
        Vec<u8>,
        Vec<u8>,
        &'static dyn aws_lc_rs::signature::VerificationAlgorithm,
    ) = match alg {
        Algorithm::ES256 => {
            let k = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
            let sign = |m: &str| k.sign(&rng, m.as_bytes()).unwrap().as_ref().to_vec();
            (
                sign(&input),
                sign(&admin_input),
                k.public_key().as_der().unwrap().as_ref().to_vec(),
                &ECDSA_P256_SHA256_FIXED,
            )
        }
        Algorithm::RS256 => {
            let k = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
            let sign = |m: &str| {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &rng, m.as_bytes(), &mut sig)
                    .unwrap();
                sig
            };
            (
                sign(&input),
                sign(&admin_input),
                k.public_key().as_der().unwrap().as_ref().to_vec(),
                &RSA_PKCS1_2048_8192_SHA256,
            )
        }
    };
    Case {
        alg,
        token: assemble(&input, &signature),
        admin_token: assemble(&admin_input, &admin_signature),
        raw_key: ParsedPublicKey::new(verification, &spki).unwrap(),
        message: input.into_bytes(),
        signature,
        spki,
    }
}

/// A REST API `TOKEN` event for `GET /api/me`, as API Gateway sends it.
pub fn token_event(token: &str) -> serde_json::Value {
    json!({
        "type": "TOKEN",
        "authorizationToken": format!("Bearer {token}"),
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:api/v1/GET/api/me",
    })
}

/// The route rules of every authorizer measured: a reader's policy then has an Allow of the
/// stage and the Deny statements of the admin routes, as a deployment with roles does.
pub const ROUTE_ROLES: &str = "GET /api/me=; * /api/admin/*=admin";

/// Writes the tokens and their public keys (PEM) to `dir/tokens.json` for the peers.
pub fn export(dir: &str, es: &Case, rs: &Case) {
    std::fs::create_dir_all(dir).unwrap();
    let pem = |der: &[u8]| {
        let b = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = b
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        )
    };
    let doc = json!({
        "now": NOW,
        "es256": { "token": es.token, "public_key_pem": pem(&es.spki) },
        "rs256": { "token": rs.token, "public_key_pem": pem(&rs.spki) },
    });
    std::fs::write(format!("{dir}/tokens.json"), doc.to_string()).unwrap();
}
