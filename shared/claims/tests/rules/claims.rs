//! The claims: issuer, audience, expiry and not-before with their JSON types.

use super::*;

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
    let t = k.es(es_header(), with(claims(), "aud", json!(["other-api"])));
    assert_eq!(
        k.verify(&t),
        Err(VerifyError::InvalidClaims(
            "invalid type: sequence, expected a string".to_owned()
        ))
    );
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
fn non_integer_exp_is_rejected() {
    let k = keys();
    let t = k.es(es_header(), with(claims(), "exp", json!("9999999999")));
    assert!(
        matches!(k.verify(&t), Err(VerifyError::InvalidClaims(m)) if m.starts_with("invalid type: string"))
    );
    let t = k.es(
        es_header(),
        with(claims(), "exp", json!((NOW + 900) as f64 + 0.5)),
    );
    assert!(
        matches!(k.verify(&t), Err(VerifyError::InvalidClaims(m)) if m.starts_with("invalid type: floating point"))
    );
}

#[test]
fn string_typed_iat_is_rejected() {
    let k = keys();
    let t = k.es(es_header(), with(claims(), "iat", json!("0")));
    assert!(
        matches!(k.verify(&t), Err(VerifyError::InvalidClaims(m)) if m.starts_with("invalid type: string"))
    );
}

#[test]
fn missing_sub_or_jti_is_rejected() {
    let k = keys();
    for claim in ["sub", "jti"] {
        let t = k.es(es_header(), without(claims(), claim));
        assert_eq!(
            k.verify(&t),
            Err(VerifyError::InvalidClaims(format!(
                "missing field `{claim}`"
            )))
        );
    }
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
