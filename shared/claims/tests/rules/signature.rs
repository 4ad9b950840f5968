//! The signature: algorithms, alterations, ECDSA encodings.

use super::*;

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

/// An empty `alg` is no algorithm either (moved from the end-to-end attack suite).
#[test]
fn empty_alg_is_rejected() {
    let k = keys();
    let h = with(es_header(), "alg", json!(""));
    let i = input(&h.to_string(), &claims().to_string());
    assert_eq!(k.verify(&format!("{i}.")), Err(VerifyError::Malformed));
    assert_eq!(
        k.verify(&format!("{i}.AAAA")),
        Err(VerifyError::UnsupportedAlgorithm(String::new()))
    );
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

/// A signature whose last base64url character carries non-zero spare bits decodes, in a lax
/// decoder, to the genuine bytes: only the canonical encoding is the token.
#[test]
fn non_canonical_base64_signature_is_rejected() {
    let k = keys();
    let t = k.es(es_header(), claims());
    // 64 bytes are 86 characters; the last one holds 2 bits and 4 zero bits.
    let last = t.chars().last().unwrap();
    let twin = match last {
        'A' => 'B',
        'Q' => 'R',
        'g' => 'h',
        'w' => 'x',
        other => panic!("a 64-byte signature cannot end in {other}"),
    };
    let t = format!("{}{twin}", &t[..t.len() - 1]);
    assert_eq!(k.verify(&t), Err(VerifyError::Malformed));
}

/// Another genuine signature of the same key, on other content, does not carry over.
#[test]
fn transplanted_signature_is_rejected() {
    let k = keys();
    let t = k.es(es_header(), claims());
    let other = k.es(es_header(), with(claims(), "jti", json!("x")));
    let (head, _) = t.rsplit_once('.').unwrap();
    let (_, sig) = other.rsplit_once('.').unwrap();
    assert_eq!(
        k.verify(&format!("{head}.{sig}")),
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

/// The key-confusion attack with every form of our published key a confused verifier might use
/// as the HMAC secret: the JWK document, its coordinates, the key id, nothing.
#[test]
fn hs256_keyed_with_any_form_of_our_jwk_is_rejected() {
    let k = keys();
    let jwk = serde_json::to_value(k.verifier.jwks()).unwrap()["keys"][0].clone();
    let xy = [jwk["x"].as_str().unwrap(), jwk["y"].as_str().unwrap()].concat();
    let header = with(es_header(), "alg", json!("HS256"));
    let i = input(&header.to_string(), &claims().to_string());
    for secret in [jwk.to_string(), xy, "ec-1".to_owned(), String::new()] {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
        let tag = aws_lc_rs::hmac::sign(&key, i.as_bytes());
        assert_eq!(
            k.verify(&assemble(&i, tag.as_ref())),
            Err(VerifyError::UnsupportedAlgorithm("HS256".to_owned())),
            "{secret}"
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

fn with_raw_signature(k: &Keys, sig: &[u8]) -> String {
    let i = input(&es_header().to_string(), &claims().to_string());
    let _ = k;
    assemble(&i, sig)
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
    let mut s_n_plus_1 = good.clone();
    s_n_plus_1[32..].copy_from_slice(&P256_N);
    s_n_plus_1[63] += 1;
    let mut s_max = good.clone();
    s_max[32..].fill(0xff);
    for sig in [r_n, s_n, s_n_plus_1, s_max] {
        assert_eq!(
            k.verify(&with_raw_signature(&k, &sig)),
            Err(VerifyError::InvalidSignature)
        );
    }
}

#[test]
fn ecdsa_signature_of_another_length_is_rejected() {
    let k = keys();
    let good = k.es_sign(&input(&es_header().to_string(), &claims().to_string()));
    for sig in [[&good[..], &[0][..]].concat(), good[..63].to_vec()] {
        assert_eq!(
            k.verify(&with_raw_signature(&k, &sig)),
            Err(VerifyError::InvalidSignature),
            "{} bytes",
            sig.len()
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
    let flipped = ecdsa_twin(&sig);
    let a = k.verify(&assemble(&i, &sig)).unwrap();
    let b = k.verify(&assemble(&i, &flipped)).unwrap();
    assert_ne!(assemble(&i, &sig), assemble(&i, &flipped));
    assert_eq!(a.jti, b.jti);
}
