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
