//! Token forms, sizes, nesting, duplicates, and interoperability with other verifiers.

use super::*;

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
        format!("{} .{}.{}", p[0], p[1], p[2]), // whitespace inside
        format!(".{t}"),                        // leading dot
        format!("{t} {t}"),                     // two tokens
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

/// Over 8 KiB is refused before any signature check (here a genuine header and signature
/// around a padded payload).
#[test]
fn token_over_8_kib_is_rejected() {
    let k = keys();
    let t = k.es(es_header(), claims());
    let p: Vec<&str> = t.split('.').collect();
    let padded = B64.encode(with(claims(), "pad", json!("x".repeat(9000))).to_string());
    assert_eq!(
        k.verify(&format!("{}.{padded}.{}", p[0], p[2])),
        Err(VerifyError::TooLarge)
    );
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
    for h in [
        r#"{"alg":"ES256","alg":"none","typ":"at+jwt","kid":"ec-1"}"#,
        r#"{"alg":"ES256","typ":"at+jwt","kid":"ec-1","kid":"other"}"#,
    ] {
        assert_eq!(
            k.verify(&k.es_raw(h, &claims().to_string())),
            Err(VerifyError::InvalidHeader),
            "{h}"
        );
    }
}

#[test]
fn duplicate_claim_keys_are_rejected() {
    let k = keys();
    for (claim, first, second) in [
        ("sub", r#""sub":"u-1""#, r#""sub":"admin""#),
        ("roles", r#""roles":["reader"]"#, r#""roles":["admin"]"#),
    ] {
        let c = claims()
            .to_string()
            .replacen(first, &format!("{first},{second}"), 1);
        assert_eq!(
            k.verify(&k.es_raw(&es_header().to_string(), &c)),
            Err(VerifyError::InvalidClaims(format!(
                "duplicate field `{claim}`"
            )))
        );
    }
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
