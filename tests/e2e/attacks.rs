//! DESIGN.md's security checklist, attacked over HTTP through the local gateway and its
//! authorizer, as a client would. Where a case needs a good signature on bad content, the
//! token is signed by the stack's own KMS key ([`Forge`]): the refusal then comes from the
//! rule under test, not from a broken signature. Each case first proves that its unaltered
//! token is accepted, so a 401 means the rule fired.

use bytes::Bytes;
use futures::future::join_all;
use serde_json::{json, Value};

use crate::forge::{
    b64, decode, der_signature, negate_scalar, parts, signature, with_signature, Forge,
};
use crate::stack::{access, Reply, Stack, ALICE};

/// A genuine access token of alice, its header and claims, and the forge.
struct Genuine {
    token: String,
    header: Value,
    claims: Value,
    forge: Forge,
}

async fn genuine(stack: &Stack) -> Genuine {
    let login = stack.login(ALICE).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let token = access(&login);
    let forge = Forge::connect(&stack.emulator_url).await;
    let g = Genuine {
        header: decode(&token, 0),
        claims: decode(&token, 1),
        token,
        forge,
    };
    accepted(stack, &g.token).await;
    // The forge's signature is as good as the issuer's: the same header and claims re-signed
    // are accepted. Every refusal below is therefore the rule's doing.
    let resigned = g.forge.sign(&g.header, &g.claims).await;
    stack.remember(&resigned);
    accepted(stack, &resigned).await;
    g
}

async fn accepted(stack: &Stack, token: &str) {
    let r = stack.me(token).await;
    assert_eq!(r.status, 200, "the control token must pass: {}", r.body);
}

/// API Gateway's 401: status, `WWW-Authenticate: Bearer`, and nothing about why.
async fn refused(stack: &Stack, token: &str, case: &str) {
    let r = stack.me(token).await;
    assert_unauthorized(&r, case);
}

fn assert_unauthorized(r: &Reply, case: &str) {
    assert_eq!(r.status, 401, "{case}: {}", r.body);
    assert_eq!(
        r.headers
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap()),
        Some("Bearer"),
        "{case}"
    );
    assert_eq!(r.body, json!({ "message": "Unauthorized" }), "{case}");
}

/// Sets `key` of a JSON object to `value` (`Value::Null` removes it).
fn with(v: &Value, key: &str, value: Value) -> Value {
    let mut v = v.clone();
    let obj = v.as_object_mut().unwrap();
    if value.is_null() {
        obj.remove(key);
    } else {
        obj.insert(key.to_owned(), value);
    }
    v
}

pub async fn alg_none_in_any_spelling_is_refused(stack: &Stack) {
    let g = genuine(stack).await;
    let [_, payload, sig] = parts(&g.token);
    for alg in ["none", "None", "NONE", "nOnE", ""] {
        let header = b64(with(&g.header, "alg", json!(alg)).to_string());
        refused(stack, &format!("{header}.{payload}."), alg).await;
        refused(stack, &format!("{header}.{payload}.{sig}"), alg).await;
    }
}

pub async fn stripped_or_altered_signatures_are_refused(stack: &Stack) {
    let g = genuine(stack).await;
    let [h, p, s] = parts(&g.token);
    refused(stack, &format!("{h}.{p}."), "stripped").await;
    refused(stack, &format!("{h}.{p}"), "two parts").await;
    let mut sig = signature(&g.token);
    sig[10] ^= 1;
    refused(stack, &with_signature(&g.token, &sig), "one bit flipped").await;
    // A signature from another token of the same key on this header and payload.
    let other = g
        .forge
        .sign(&g.header, &with(&g.claims, "jti", json!("x")))
        .await;
    refused(
        stack,
        &format!("{h}.{p}.{}", parts(&other)[2]),
        "transplanted",
    )
    .await;
    // Base64url with a trailing non-zero bit decodes to the same bytes in lax decoders.
    let last = s.chars().last().unwrap();
    let twin = match last {
        'A' => 'B',
        'Q' => 'R',
        'g' => 'h',
        'w' => 'x',
        c => c,
    };
    if twin != last {
        refused(
            stack,
            &format!("{h}.{p}.{}{twin}", &s[..s.len() - 1]),
            "non-canonical b64",
        )
        .await;
    }
}

pub async fn hs256_signed_with_the_public_key_is_refused(stack: &Stack) {
    let g = genuine(stack).await;
    let jwks = stack.call("GET", "/.well-known/jwks.json", &[], None).await;
    assert_eq!(jwks.status, 200);
    let jwk = jwks.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == g.header["kid"])
        .expect("the signing key is published")
        .clone();
    let header = with(&g.header, "alg", json!("HS256"));
    let input = format!("{}.{}", b64(header.to_string()), b64(g.claims.to_string()));
    // Every form a confused verifier might use as the HMAC secret.
    let secrets: Vec<Vec<u8>> = vec![
        jwk.to_string().into_bytes(),
        [jwk["x"].as_str().unwrap(), jwk["y"].as_str().unwrap()]
            .concat()
            .into_bytes(),
        g.header["kid"].as_str().unwrap().as_bytes().to_vec(),
        Vec::new(),
    ];
    for secret in secrets {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret);
        let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
        refused(
            stack,
            &format!("{input}.{}", b64(tag)),
            "HS256 key confusion",
        )
        .await;
    }
}

pub async fn embedded_jwk_jku_x5u_and_x5c_are_refused(stack: &Stack) {
    let g = genuine(stack).await;
    let jwk =
        json!({ "kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA", "kid": g.forge.kid() });
    for (param, value) in [
        ("jwk", jwk),
        ("jku", json!("https://evil.example/jwks.json")),
        ("x5u", json!("https://evil.example/cert.pem")),
        ("x5c", json!(["MIIB"])),
    ] {
        // Genuinely signed: the parameter alone must cause the refusal.
        let token = g
            .forge
            .sign(&with(&g.header, param, value), &g.claims)
            .await;
        refused(stack, &token, param).await;
    }
}

pub async fn hostile_kid_is_refused(stack: &Stack) {
    let g = genuine(stack).await;
    for kid in [
        json!("../../../../dev/null"),
        json!("' OR '1'='1"),
        // Long, but within KMS's 4 KiB raw signing limit.
        json!("x".repeat(2048)),
        json!(""),
        json!(null),
        json!(42),
        json!([g.forge.kid()]),
        json!(format!("{}\u{0000}", g.forge.kid())),
    ] {
        // `null` removes the kid altogether.
        let header = with(&g.header, "kid", kid.clone());
        let token = g.forge.sign(&header, &g.claims).await;
        refused(stack, &token, &format!("kid {kid}")).await;
    }
}

pub async fn ecdsa_zero_overflowing_and_der_signatures_are_refused(stack: &Stack) {
    let g = genuine(stack).await;
    let sig = signature(&g.token);
    let (r, s) = sig.split_at(32);
    let zero = [0u8; 32];
    let n = crate::forge::P256_N;
    let mut over = n;
    over[31] += 1;
    for (case, bad) in [
        ("r = 0", [&zero[..], s].concat()),
        ("s = 0", [r, &zero[..]].concat()),
        ("r = n", [&n[..], s].concat()),
        ("s = n", [r, &n[..]].concat()),
        ("s = n + 1", [r, &over[..]].concat()),
        ("all zero", vec![0u8; 64]),
        ("DER instead of raw", der_signature(r, s)),
        ("65 bytes", [&sig[..], &[0u8][..]].concat()),
    ] {
        refused(stack, &with_signature(&g.token, &bad), case).await;
    }
}

/// The denylist keys on `jti`, never on token bytes: the other valid ECDSA signature of a
/// revoked token, (r, n−s), is just as revoked.
pub async fn reencoded_signature_of_a_revoked_token_is_refused(stack: &Stack) {
    let login = stack.login(ALICE).await;
    let token = access(&login);
    let sig = signature(&token);
    let twin = with_signature(
        &token,
        &[&sig[..32], &negate_scalar(&sig[32..])[..]].concat(),
    );
    assert_ne!(twin, token);
    stack.remember(&twin);
    accepted(stack, &token).await;
    let bearer = format!("Bearer {token}");
    let logout = stack
        .call(
            "POST",
            "/auth/logout",
            &[
                ("cookie", login.cookie.as_deref().unwrap()),
                ("origin", &stack.url),
                ("authorization", &bearer),
            ],
            None,
        )
        .await;
    assert_eq!(logout.status, 204);
    refused(stack, &token, "revoked").await;
    refused(stack, &twin, "(r, n-s) of the revoked token").await;
}

pub async fn string_typed_exp_and_nbf_are_refused(stack: &Stack) {
    let g = genuine(stack).await;
    let exp = g.claims["exp"].as_i64().unwrap();
    let nbf = g.claims["nbf"].as_i64().unwrap();
    for (claim, value) in [
        ("exp", json!(exp.to_string())),
        ("exp", json!(exp as f64 + 0.5)),
        ("exp", json!("9999999999")),
        ("nbf", json!(nbf.to_string())),
        ("iat", json!("0")),
    ] {
        let token = g
            .forge
            .sign(&g.header, &with(&g.claims, claim, value.clone()))
            .await;
        refused(stack, &token, &format!("{claim} = {value}")).await;
    }
}

pub async fn expired_and_not_yet_valid_tokens_are_refused(stack: &Stack) {
    let g = genuine(stack).await;
    let now = g.claims["iat"].as_i64().unwrap();
    for (case, claims) in [
        ("expired", with(&g.claims, "exp", json!(now - 1))),
        ("not yet valid", with(&g.claims, "nbf", json!(now + 3600))),
        ("no exp", with(&g.claims, "exp", Value::Null)),
    ] {
        let token = g.forge.sign(&g.header, &claims).await;
        refused(stack, &token, case).await;
    }
}

pub async fn wrong_or_missing_iss_aud_and_typ_are_refused(stack: &Stack) {
    let g = genuine(stack).await;
    for (case, claims) in [
        (
            "wrong iss",
            with(&g.claims, "iss", json!("https://evil.example")),
        ),
        ("missing iss", with(&g.claims, "iss", Value::Null)),
        ("wrong aud", with(&g.claims, "aud", json!("another-api"))),
        (
            "aud list without ours",
            with(&g.claims, "aud", json!(["another-api"])),
        ),
        ("missing aud", with(&g.claims, "aud", Value::Null)),
        ("missing sub", with(&g.claims, "sub", Value::Null)),
        ("missing jti", with(&g.claims, "jti", Value::Null)),
    ] {
        let token = g.forge.sign(&g.header, &claims).await;
        refused(stack, &token, case).await;
    }
    for (case, header) in [
        ("typ JWT", with(&g.header, "typ", json!("JWT"))),
        ("missing typ", with(&g.header, "typ", Value::Null)),
        ("typ id-token", with(&g.header, "typ", json!("id+jwt"))),
    ] {
        let token = g.forge.sign(&header, &g.claims).await;
        refused(stack, &token, case).await;
    }
}

pub async fn unknown_crit_and_duplicate_header_keys_are_refused(stack: &Stack) {
    let g = genuine(stack).await;
    let crit = with(
        &with(&g.header, "crit", json!(["x-tokengate-unknown"])),
        "x-tokengate-unknown",
        json!(true),
    );
    refused(stack, &g.forge.sign(&crit, &g.claims).await, "unknown crit").await;
    let empty_crit = with(&g.header, "crit", json!([]));
    refused(
        stack,
        &g.forge.sign(&empty_crit, &g.claims).await,
        "empty crit",
    )
    .await;

    let header = g.header.to_string();
    let claims = g.claims.to_string();
    // `{"alg":"ES256",…,"alg":"none"}`: parsers that keep the last key see another token.
    let dup_alg = format!("{},\"alg\":\"none\"}}", &header[..header.len() - 1]);
    let dup_kid = format!("{},\"kid\":\"other\"}}", &header[..header.len() - 1]);
    let dup_sub = format!("{},\"sub\":\"u-admin\"}}", &claims[..claims.len() - 1]);
    let dup_roles = format!("{},\"roles\":[\"admin\"]}}", &claims[..claims.len() - 1]);
    for (case, h, c) in [
        ("duplicate alg", &dup_alg, &claims),
        ("duplicate kid", &dup_kid, &claims),
        ("duplicate sub", &header, &dup_sub),
        ("duplicate roles", &header, &dup_roles),
    ] {
        refused(stack, &g.forge.sign_raw(h, c).await, case).await;
    }
}

pub async fn oversized_and_deeply_nested_tokens_are_refused(stack: &Stack) {
    let g = genuine(stack).await;
    // Over 8 KiB is refused before any signature check, and KMS signs at most 4 KiB raw, so
    // this one carries the genuine token's signature.
    let [h, _, s] = parts(&g.token);
    let padded = with(&g.claims, "pad", json!("x".repeat(9000)));
    refused(
        stack,
        &format!("{h}.{}.{s}", b64(padded.to_string())),
        "over 8 KiB",
    )
    .await;
    let claims = g.claims.to_string();
    let nested = format!(
        "{},\"deep\":{}{}}}",
        &claims[..claims.len() - 1],
        "[".repeat(500),
        "]".repeat(500)
    );
    let token = g.forge.sign_raw(&g.header.to_string(), &nested).await;
    refused(stack, &token, "nested 500 deep").await;
}

pub async fn non_compact_forms_are_refused(stack: &Stack) {
    // The standard-alphabet twin below differs from the token only if the token holds a `-`
    // or `_`; about one random token in twenty holds neither, so take the first that does.
    let mut g = genuine(stack).await;
    for _ in 0..8 {
        if g.token.contains(['-', '_']) {
            break;
        }
        g = genuine(stack).await;
    }
    assert!(g.token.contains(['-', '_']), "eight tokens without - or _");
    let [h, p, s] = parts(&g.token);
    let json_form = json!({ "protected": h, "payload": p, "signature": s }).to_string();
    for (case, token) in [
        ("JSON serialization", json_form),
        ("four parts", format!("{h}.{p}.{s}.{s}")),
        ("five parts (JWE)", format!("{h}.{p}.{s}.{s}.{s}")),
        ("padding", format!("{h}=.{p}.{s}")),
        (
            "standard base64",
            g.token.replace('-', "+").replace('_', "/"),
        ),
        ("whitespace", format!("{h} .{p}.{s}")),
        ("leading dot", format!(".{h}.{p}.{s}")),
    ] {
        refused(stack, &token, case).await;
    }
    for header in [format!("Bearer {}", g.token), g.token.clone()] {
        // A second token after the first, or no scheme at all.
        let doubled = format!("{header} {}", g.token);
        let r = stack
            .call("GET", "/api/me", &[("authorization", &doubled)], None)
            .await;
        assert_unauthorized(&r, "two tokens");
    }
    let r = stack
        .call("GET", "/api/me", &[("authorization", &g.token)], None)
        .await;
    assert_unauthorized(&r, "no Bearer scheme");
}

/// Concurrent refreshes of the same token agree on one successor; none is a reuse.
pub async fn concurrent_refreshes_agree_on_one_successor(stack: &Stack) {
    let login = stack.login(ALICE).await;
    let cookie = login.cookie.clone().unwrap();
    let replies = join_all((0..4).map(|_| stack.refresh(&cookie, &stack.url))).await;
    let cookies: Vec<_> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, 200, "{}", r.body);
            r.cookie.clone().unwrap()
        })
        .collect();
    assert!(cookies.iter().all(|c| *c == cookies[0]), "one successor");
    let next = stack.refresh(&cookies[0], &stack.url).await;
    assert_eq!(next.status, 200, "the family lives on: {}", next.body);
}

/// Cookie-carried refresh and logout from a foreign origin are refused and change nothing.
pub async fn csrf_on_cookie_endpoints_is_refused(stack: &Stack) {
    let login = stack.login(ALICE).await;
    let cookie = login.cookie.clone().unwrap();
    for path in ["/auth/refresh", "/auth/logout"] {
        for headers in [
            vec![
                ("cookie", cookie.as_str()),
                ("origin", "https://evil.example"),
            ],
            vec![("cookie", cookie.as_str()), ("origin", "null")],
            vec![
                ("cookie", cookie.as_str()),
                ("sec-fetch-site", "cross-site"),
            ],
            vec![("cookie", cookie.as_str())],
        ] {
            let r = stack.call("POST", path, &headers, None).await;
            assert_eq!(r.status, 403, "{path} {headers:?}: {}", r.body);
            assert_eq!(r.body["error"], "csrf_rejected");
            assert_eq!(r.cookie, None, "no cookie set or cleared");
        }
    }
    // Nothing changed: the session still refreshes from the right origin.
    let r = stack.refresh(&cookie, &stack.url).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Unknown user and wrong password answer alike.
pub async fn user_enumeration_is_not_possible(stack: &Stack) {
    let unknown = stack.login(("mallory-unknown", "whatever-password")).await;
    let wrong = stack.login(("alice", "not-her-password")).await;
    for r in [&unknown, &wrong] {
        assert_eq!(r.status, 401);
        assert_eq!(r.body["error"], "invalid_credentials");
    }
    assert_eq!(unknown.body, wrong.body);
    assert_eq!(
        unknown.headers.get("retry-after"),
        wrong.headers.get("retry-after")
    );
}

/// Malformed, mistyped and huge bodies get their stable code and change nothing.
pub async fn bad_bodies_get_stable_errors(stack: &Stack) {
    let json_ct = "application/json";
    for (case, content_type, body, status, code) in [
        (
            "malformed JSON",
            json_ct,
            Bytes::from_static(b"{\"username\":"),
            400,
            "invalid_request",
        ),
        (
            "wrong types",
            json_ct,
            Bytes::from_static(b"{\"username\":1,\"password\":[]}"),
            400,
            "invalid_request",
        ),
        (
            "unknown field",
            json_ct,
            Bytes::from(json!({"username":"alice","password":"x","roles":["admin"]}).to_string()),
            400,
            "invalid_request",
        ),
        (
            "form encoded",
            "application/x-www-form-urlencoded",
            Bytes::from_static(b"username=alice&password=x"),
            400,
            "invalid_request",
        ),
        (
            "9 KiB",
            json_ct,
            Bytes::from(vec![b' '; 9 * 1024]),
            413,
            "payload_too_large",
        ),
    ] {
        let r = stack
            .send("POST", "/auth/login", &[], Some((content_type, body)))
            .await;
        assert_eq!(r.status, status, "{case}: {}", r.body);
        assert_eq!(r.body["error"], code, "{case}");
        assert_eq!(r.cookie, None, "{case}");
    }
    let r = stack
        .send(
            "POST",
            "/auth/refresh",
            &[],
            Some((json_ct, Bytes::from_static(b"{\"refresh_token\":5}"))),
        )
        .await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (400, Some("invalid_request"))
    );
}
