//! One test per verification rule (DESIGN.md security checklist, RFC 8725, RFC 9068 §4, the
//! OWASP JWT cheat sheet), each asserting the precise error.

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

const NOW: i64 = 1_800_000_000;
const ISS: &str = "https://auth.test";
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

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

#[test]
fn alg_none_in_any_case_is_rejected() {
    let k = keys();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let h = with(es_header(), "alg", json!(alg));
        let t = format!("{}.", input(&h.to_string(), &claims().to_string()));
        assert_eq!(
            k.verify(&t),
            Err(VerifyError::Malformed),
            "empty signature part"
        );
        let t = format!("{}.AAAA", input(&h.to_string(), &claims().to_string()));
        assert_eq!(
            k.verify(&t),
            Err(VerifyError::UnsupportedAlgorithm(alg.to_owned()))
        );
    }
}

#[test]
fn stripped_signature_is_rejected() {
    let k = keys();
    let t = k.es(es_header(), claims());
    let (without_sig, _) = t.rsplit_once('.').unwrap();
    assert_eq!(
        k.verify(&format!("{without_sig}.")),
        Err(VerifyError::Malformed)
    );
    assert_eq!(k.verify(without_sig), Err(VerifyError::Malformed));
}

#[test]
fn altered_signature_is_rejected() {
    let k = keys();
    let t = k.es(es_header(), claims());
    let (head, sig) = t.rsplit_once('.').unwrap();
    let mut raw = B64.decode(sig).unwrap();
    raw[40] ^= 1;
    assert_eq!(
        k.verify(&assemble(head, &raw)),
        Err(VerifyError::InvalidSignature)
    );
}

#[test]
fn altered_payload_is_rejected() {
    let k = keys();
    let t = k.es(es_header(), claims());
    let parts: Vec<&str> = t.split('.').collect();
    let forged = B64.encode(with(claims(), "roles", json!(["admin"])).to_string());
    let t = format!("{}.{forged}.{}", parts[0], parts[2]);
    assert_eq!(k.verify(&t), Err(VerifyError::InvalidSignature));
}

#[test]
fn hs256_signed_with_our_public_key_is_rejected() {
    // The HS/RS key-confusion attack: HMAC keyed with the public key's bytes.
    let k = keys();
    for (kid, spki) in [("ec-1", &k.ec_spki), ("rsa-1", &k.rsa_spki)] {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(kid.to_owned());
        header.typ = Some("at+jwt".to_owned());
        let t = jsonwebtoken::encode(
            &header,
            &claims(),
            &jsonwebtoken::EncodingKey::from_secret(spki),
        )
        .unwrap();
        assert_eq!(
            k.verify(&t),
            Err(VerifyError::UnsupportedAlgorithm("HS256".to_owned()))
        );
    }
}

#[test]
fn algorithm_not_pinned_to_the_key_is_rejected() {
    let k = keys();
    let h = json!({ "alg": "RS256", "typ": "at+jwt", "kid": "ec-1" });
    let i = input(&h.to_string(), &claims().to_string());
    assert_eq!(
        k.verify(&assemble(&i, &k.rs_sign(&i))),
        Err(VerifyError::AlgorithmMismatch)
    );
}

#[test]
fn unknown_kid_is_rejected() {
    let k = keys();
    let t = k.es(with(es_header(), "kid", json!("ec-2")), claims());
    assert_eq!(k.verify(&t), Err(VerifyError::UnknownKid));
    let t = k.es(without(es_header(), "kid"), claims());
    assert_eq!(k.verify(&t), Err(VerifyError::MissingKid));
}

#[test]
fn hostile_kid_is_only_a_lookup_key() {
    let k = keys();
    for kid in [
        json!("../../../../etc/passwd"),
        json!("' OR 1=1 --"),
        json!("ec-1\u{0000}"),
        json!("k".repeat(3000)),
    ] {
        let t = k.es(with(es_header(), "kid", kid), claims());
        assert_eq!(k.verify(&t), Err(VerifyError::UnknownKid));
    }
    let t = k.es(with(es_header(), "kid", json!(["ec-1"])), claims());
    assert_eq!(k.verify(&t), Err(VerifyError::InvalidHeader));
}

#[test]
fn header_supplied_keys_are_rejected() {
    let k = keys();
    for (member, value) in [
        (
            "jwk",
            json!({ "kty": "EC", "crv": "P-256", "x": "AA", "y": "AA" }),
        ),
        ("jku", json!("https://evil.test/jwks.json")),
        ("x5u", json!("https://evil.test/cert.pem")),
        ("x5c", json!(["MIIB"])),
        ("x5t", json!("AA")),
        ("x5t#S256", json!("AA")),
    ] {
        let t = k.es(with(es_header(), member, value), claims());
        let expected = match member {
            "jwk" => "jwk",
            "jku" => "jku",
            "x5u" => "x5u",
            "x5c" => "x5c",
            "x5t" => "x5t",
            _ => "x5t#S256",
        };
        assert_eq!(
            k.verify(&t),
            Err(VerifyError::HeaderKeyNotAllowed(expected))
        );
    }
}

#[test]
fn critical_header_extensions_are_rejected() {
    let k = keys();
    let t = k.es(with(es_header(), "crit", json!(["exp"])), claims());
    assert_eq!(k.verify(&t), Err(VerifyError::UnsupportedCritical));
}

#[test]
fn unknown_header_members_are_rejected() {
    let k = keys();
    let t = k.es(with(es_header(), "zip", json!("DEF")), claims());
    assert_eq!(k.verify(&t), Err(VerifyError::InvalidHeader));
}

#[test]
fn wrong_or_missing_typ_is_rejected() {
    let k = keys();
    for typ in [json!("JWT"), json!("at+JWT"), json!("application/at+jwt")] {
        let t = k.es(with(es_header(), "typ", typ), claims());
        assert_eq!(k.verify(&t), Err(VerifyError::WrongType));
    }
    let t = k.es(without(es_header(), "typ"), claims());
    assert_eq!(k.verify(&t), Err(VerifyError::WrongType));
}

#[test]
fn wrong_or_missing_iss_is_rejected() {
    let k = keys();
    let t = k.es(
        es_header(),
        with(claims(), "iss", json!("https://auth.test/")),
    );
    assert_eq!(k.verify(&t), Err(VerifyError::IssuerMismatch));
    let t = k.es(es_header(), without(claims(), "iss"));
    assert_eq!(
        k.verify(&t),
        Err(VerifyError::InvalidClaims("missing field `iss`".to_owned()))
    );
}

#[test]
fn wrong_or_missing_aud_is_rejected() {
    let k = keys();
    let t = k.es(es_header(), with(claims(), "aud", json!("other-api")));
    assert_eq!(k.verify(&t), Err(VerifyError::AudienceMismatch));
    let t = k.es(es_header(), without(claims(), "aud"));
    assert_eq!(
        k.verify(&t),
        Err(VerifyError::InvalidClaims("missing field `aud`".to_owned()))
    );
}

#[test]
fn missing_exp_is_rejected() {
    let k = keys();
    let t = k.es(es_header(), without(claims(), "exp"));
    assert_eq!(
        k.verify(&t),
        Err(VerifyError::InvalidClaims("missing field `exp`".to_owned()))
    );
}

#[test]
fn string_typed_exp_is_rejected() {
    let k = keys();
    let t = k.es(
        es_header(),
        with(claims(), "exp", json!((NOW + 900).to_string())),
    );
    assert!(
        matches!(k.verify(&t), Err(VerifyError::InvalidClaims(m)) if m.starts_with("invalid type: string"))
    );
}

#[test]
fn string_typed_nbf_is_rejected() {
    let k = keys();
    let t = k.es(es_header(), with(claims(), "nbf", json!(NOW.to_string())));
    assert!(
        matches!(k.verify(&t), Err(VerifyError::InvalidClaims(m)) if m.starts_with("invalid type: string"))
    );
}

#[test]
fn expired_token_is_rejected_beyond_leeway() {
    let k = keys();
    let t = k.es(es_header(), with(claims(), "exp", json!(NOW - 31)));
    assert_eq!(k.verify(&t), Err(VerifyError::Expired));
    let t = k.es(es_header(), with(claims(), "exp", json!(NOW - 30)));
    assert!(k.verify(&t).is_ok(), "within leeway");
}

#[test]
fn future_nbf_is_rejected_beyond_leeway() {
    let k = keys();
    let t = k.es(es_header(), with(claims(), "nbf", json!(NOW + 31)));
    assert_eq!(k.verify(&t), Err(VerifyError::NotYetValid));
    let t = k.es(es_header(), with(claims(), "nbf", json!(NOW + 30)));
    assert!(k.verify(&t).is_ok(), "within leeway");
}

fn with_raw_signature(k: &Keys, sig: &[u8]) -> String {
    let i = input(&es_header().to_string(), &claims().to_string());
    let _ = k;
    assemble(&i, sig)
}

fn sub_from_n(s: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = P256_N[i] as i16 - s[i] as i16 - borrow;
        borrow = if d < 0 { 1 } else { 0 };
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    out
}

#[test]
fn ecdsa_zero_r_or_s_is_rejected() {
    let k = keys();
    let good = k.es_sign(&input(&es_header().to_string(), &claims().to_string()));
    let mut zero_r = good.clone();
    zero_r[..32].fill(0);
    let mut zero_s = good.clone();
    zero_s[32..].fill(0);
    for sig in [zero_r, zero_s, vec![0; 64]] {
        assert_eq!(
            k.verify(&with_raw_signature(&k, &sig)),
            Err(VerifyError::InvalidSignature)
        );
    }
}

#[test]
fn ecdsa_r_or_s_at_least_n_is_rejected() {
    let k = keys();
    let good = k.es_sign(&input(&es_header().to_string(), &claims().to_string()));
    let mut r_n = good.clone();
    r_n[..32].copy_from_slice(&P256_N);
    let mut s_n = good.clone();
    s_n[32..].copy_from_slice(&P256_N);
    let mut s_max = good.clone();
    s_max[32..].fill(0xff);
    for sig in [r_n, s_n, s_max] {
        assert_eq!(
            k.verify(&with_raw_signature(&k, &sig)),
            Err(VerifyError::InvalidSignature)
        );
    }
}

#[test]
fn ecdsa_der_signature_instead_of_raw_is_rejected() {
    let k = keys();
    let der_pair = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_ASN1_SIGNING,
        k.ec.to_pkcs8v1().unwrap().as_ref(),
    )
    .unwrap();
    let i = input(&es_header().to_string(), &claims().to_string());
    let der = der_pair.sign(&SystemRandom::new(), i.as_bytes()).unwrap();
    assert_ne!(der.as_ref().len(), 64);
    assert_eq!(
        k.verify(&assemble(&i, der.as_ref())),
        Err(VerifyError::InvalidSignature)
    );
    // The same signature converted to JWS form verifies: the DER itself was the problem.
    let raw = ecdsa_der_to_jws(der.as_ref()).unwrap();
    assert!(k.verify(&assemble(&i, &raw)).is_ok());
}

#[test]
fn ecdsa_high_s_re_encoding_verifies_with_the_same_jti() {
    // ECDSA is malleable: (r, n−s) is a second valid signature of the same token. That is why
    // the denylist keys on jti, never on token bytes: the re-encoded token carries the same jti
    // and is refused by the authorizer once that jti is denylisted.
    let k = keys();
    let i = input(&es_header().to_string(), &claims().to_string());
    let sig = k.es_sign(&i);
    let mut flipped = sig.clone();
    flipped[32..].copy_from_slice(&sub_from_n(&sig[32..]));
    let a = k.verify(&assemble(&i, &sig)).unwrap();
    let b = k.verify(&assemble(&i, &flipped)).unwrap();
    assert_ne!(assemble(&i, &sig), assemble(&i, &flipped));
    assert_eq!(a.jti, b.jti);
}

#[test]
fn non_compact_forms_are_rejected() {
    let k = keys();
    let t = k.es(es_header(), claims());
    let p: Vec<&str> = t.split('.').collect();
    let json_serialization =
        json!({ "protected": p[0], "payload": p[1], "signature": p[2] }).to_string();
    for bad in [
        json_serialization,
        format!("{t}.AAAA.AAAA"),               // five parts: JWE
        format!("{t}."),                        // four parts
        format!("{}=.{}.{}", p[0], p[1], p[2]), // padding
        format!(" {t}"),
        format!("{t}\n"),
        format!(
            "{}.{}.{}",
            p[0],
            p[1].replace('-', "+").replace('_', "/"),
            p[2]
        ) + "+",
        String::new(),
        "..".to_owned(),
    ] {
        assert_eq!(k.verify(&bad), Err(VerifyError::Malformed), "{bad:?}");
    }
}

#[test]
fn oversized_header_is_rejected() {
    let k = keys();
    let big = with(es_header(), "pad", json!("x".repeat(64 * 1024)));
    let t = k.es(big, claims());
    assert_eq!(k.verify(&t), Err(VerifyError::TooLarge));
}

#[test]
fn deeply_nested_parts_are_rejected_without_overflow() {
    let k = keys();
    let nested = format!(
        r#"{{"alg":"ES256","typ":"at+jwt","kid":"ec-1","x":{}{}}}"#,
        "[".repeat(2000),
        "]".repeat(2000)
    );
    assert_eq!(
        k.verify(&k.es_raw(&nested, &claims().to_string())),
        Err(VerifyError::InvalidHeader)
    );
    let nested_claims = format!(r#"{{"roles":{}{}}}"#, "[".repeat(2000), "]".repeat(2000));
    assert!(matches!(
        k.verify(&k.es_raw(&es_header().to_string(), &nested_claims)),
        Err(VerifyError::InvalidClaims(_))
    ));
}

/// Found by the end-to-end attack suite: serde skips an unknown member without its recursion
/// limit, so a validly signed token with a deep unknown claim was accepted.
#[test]
fn deeply_nested_unknown_claims_are_rejected() {
    let k = keys();
    let good = claims().to_string();
    let deep = format!(
        r#"{},"deep":{}{}}}"#,
        &good[..good.len() - 1],
        "[".repeat(500),
        "]".repeat(500)
    );
    assert_eq!(
        k.verify(&k.es_raw(&es_header().to_string(), &deep)),
        Err(VerifyError::InvalidClaims(
            "claims nested too deeply".to_owned()
        ))
    );
    // Brackets inside strings are not nesting.
    let brackets = format!(
        r#"{},"note":"{}"}}"#,
        &good[..good.len() - 1],
        "[".repeat(50)
    );
    assert!(k
        .verify(&k.es_raw(&es_header().to_string(), &brackets))
        .is_ok());
}

#[test]
fn duplicate_header_keys_are_rejected() {
    let k = keys();
    let h = r#"{"alg":"ES256","alg":"none","typ":"at+jwt","kid":"ec-1"}"#;
    assert_eq!(
        k.verify(&k.es_raw(h, &claims().to_string())),
        Err(VerifyError::InvalidHeader)
    );
}

#[test]
fn duplicate_claim_keys_are_rejected() {
    let k = keys();
    let c = claims()
        .to_string()
        .replacen(r#""sub":"u-1""#, r#""sub":"u-1","sub":"admin""#, 1);
    assert_eq!(
        k.verify(&k.es_raw(&es_header().to_string(), &c)),
        Err(VerifyError::InvalidClaims(
            "duplicate field `sub`".to_owned()
        ))
    );
}

#[test]
fn keys_of_the_wrong_type_are_refused() {
    let k = keys();
    assert!(VerifyingKey::from_spki_der("x", Algorithm::RS256, &k.ec_spki).is_err());
    assert!(VerifyingKey::from_spki_der("x", Algorithm::ES256, &k.rsa_spki).is_err());
    assert!(VerifyingKey::from_spki_der("x", Algorithm::ES256, b"garbage").is_err());
}

#[test]
fn other_verifiers_accept_our_tokens() {
    let k = keys();
    let jwks = k.verifier.jwks();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.set_audience(&["api"]);
    v.set_issuer(&[ISS]);
    let ec = jwks.keys.iter().find(|j| j.kid == "ec-1").unwrap();
    let key = jsonwebtoken::DecodingKey::from_ec_components(
        ec.x.as_deref().unwrap(),
        ec.y.as_deref().unwrap(),
    )
    .unwrap();
    let data = jsonwebtoken::decode::<Value>(k.es(es_header(), claims()), &key, &v).unwrap();
    assert_eq!(data.claims["sub"], "u-1");

    let rsa = jwks.keys.iter().find(|j| j.kid == "rsa-1").unwrap();
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        rsa.n.as_deref().unwrap(),
        rsa.e.as_deref().unwrap(),
    )
    .unwrap();
    let h = json!({ "alg": "RS256", "typ": "at+jwt", "kid": "rsa-1" });
    let i = input(&h.to_string(), &claims().to_string());
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&["api"]);
    v.set_issuer(&[ISS]);
    jsonwebtoken::decode::<Value>(assemble(&i, &k.rs_sign(&i)), &key, &v).unwrap();
}

#[test]
fn jwks_document_round_trips() {
    let k = keys();
    let jwks = k.verifier.jwks();
    let text = serde_json::to_string(&jwks).unwrap();
    assert_eq!(serde_json::from_str::<Jwks>(&text).unwrap(), jwks);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["keys"][0]["kid"], "ec-1");
    assert_eq!(v["keys"][0]["kty"], "EC");
    assert_eq!(v["keys"][0]["crv"], "P-256");
    assert_eq!(v["keys"][0]["use"], "sig");
    assert_eq!(v["keys"][1]["kty"], "RSA");
    assert_eq!(v["keys"][1]["e"], "AQAB");
    assert!(v["keys"][0].get("n").is_none());
}
