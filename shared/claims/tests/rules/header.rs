//! The header: key lookup, header-supplied keys, `crit`, members, `typ`.

use super::*;

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
        json!(""),
    ] {
        let t = k.es(with(es_header(), "kid", kid), claims());
        assert_eq!(k.verify(&t), Err(VerifyError::UnknownKid));
    }
    for kid in [json!(["ec-1"]), json!(42)] {
        let t = k.es(with(es_header(), "kid", kid), claims());
        assert_eq!(k.verify(&t), Err(VerifyError::InvalidHeader));
    }
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
    for crit in [json!(["exp"]), json!([])] {
        let t = k.es(with(es_header(), "crit", crit), claims());
        assert_eq!(k.verify(&t), Err(VerifyError::UnsupportedCritical));
    }
    // An unknown extension named critical, and present: its member alone is refused.
    let unknown = with(
        with(es_header(), "crit", json!(["x-unknown"])),
        "x-unknown",
        json!(true),
    );
    assert_eq!(
        k.verify(&k.es(unknown, claims())),
        Err(VerifyError::InvalidHeader)
    );
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
    for typ in [
        json!("JWT"),
        json!("at+JWT"),
        json!("application/at+jwt"),
        json!("id+jwt"),
    ] {
        let t = k.es(with(es_header(), "typ", typ), claims());
        assert_eq!(k.verify(&t), Err(VerifyError::WrongType));
    }
    let t = k.es(without(es_header(), "typ"), claims());
    assert_eq!(k.verify(&t), Err(VerifyError::WrongType));
}
