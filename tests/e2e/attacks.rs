//! DESIGN.md's security checklist, attacked over HTTP through the local gateway and its
//! authorizer, as a client would: a few smoke cases per rule family. Every variant of every rule
//! is tested where the behaviour is — the verifier's rules in `shared/claims/tests/rules`, the
//! authorizer's, CSRF and body handling in `shared/handlers` (docs/security.md lists where,
//! rule by rule). Where a case needs a good signature on bad content, the token is signed by
//! the stack's own KMS key ([`Forge`]): the refusal then comes from the rule under test, not from a
//! broken signature. Each case first proves that its unaltered token is accepted, so a 401
//! means the rule fired.

use bytes::Bytes;
use futures::future::join_all;
use serde_json::{json, Value};

use crate::forge::{b64, decode, der_signature, parts, signature, with_signature, Forge};
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
    let forge = Forge::connect(&stack.state).await;
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

/// `alg` none, a stripped or altered signature, HMAC keyed with our published key, and ECDSA
/// signatures out of range or DER-encoded (KMS's own format, which JWS forbids).
pub async fn forged_signatures_and_algorithms_are_refused(stack: &Stack) {
    let g = genuine(stack).await;
    let [h, p, _] = parts(&g.token);
    let none = b64(with(&g.header, "alg", json!("nOnE")).to_string());
    refused(stack, &format!("{none}.{p}."), "alg nOnE").await;
    refused(stack, &format!("{h}.{p}."), "stripped").await;
    let mut sig = signature(&g.token);
    sig[10] ^= 1;
    refused(stack, &with_signature(&g.token, &sig), "one bit flipped").await;

    let jwks = stack.call("GET", "/.well-known/jwks.json", &[], None).await;
    assert_eq!(jwks.status, 200);
    let jwk = jwks.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == g.header["kid"])
        .expect("the signing key is published")
        .clone();
    let hs256 = with(&g.header, "alg", json!("HS256"));
    let input = format!("{}.{}", b64(hs256.to_string()), b64(g.claims.to_string()));
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, jwk.to_string().as_bytes());
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    refused(
        stack,
        &format!("{input}.{}", b64(tag)),
        "HS256 key confusion",
    )
    .await;

    let sig = signature(&g.token);
    let (r, s) = sig.split_at(32);
    let n = tokengate_testing::keys::P256_N;
    for (case, bad) in [
        ("s = n", [r, &n[..]].concat()),
        ("DER instead of raw", der_signature(r, s)),
    ] {
        refused(stack, &with_signature(&g.token, &bad), case).await;
    }
}

/// Keys from the header instead of our configuration, a hostile `kid`, an unknown critical
/// extension, a duplicate `alg`, the wrong `typ`: each genuinely signed.
pub async fn header_keys_kid_crit_and_typ_are_refused(stack: &Stack) {
    let g = genuine(stack).await;
    let jwk =
        json!({ "kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA", "kid": g.forge.kid() });
    let crit = with(
        &with(&g.header, "crit", json!(["x-tokengate-unknown"])),
        "x-tokengate-unknown",
        json!(true),
    );
    for (case, header) in [
        ("jwk", with(&g.header, "jwk", jwk)),
        (
            "jku",
            with(&g.header, "jku", json!("https://evil.example/jwks.json")),
        ),
        (
            "kid path",
            with(&g.header, "kid", json!("../../../../dev/null")),
        ),
        ("unknown crit", crit),
        ("typ JWT", with(&g.header, "typ", json!("JWT"))),
    ] {
        refused(stack, &g.forge.sign(&header, &g.claims).await, case).await;
    }
    let header = g.header.to_string();
    // `{"alg":"ES256",…,"alg":"none"}`: parsers that keep the last key see another token.
    let dup_alg = format!("{},\"alg\":\"none\"}}", &header[..header.len() - 1]);
    let token = g.forge.sign_raw(&dup_alg, &g.claims.to_string()).await;
    refused(stack, &token, "duplicate alg").await;
}

/// Claims outside the policy, genuinely signed: a string-typed `exp`, expired, not yet valid,
/// another issuer or audience.
pub async fn claims_outside_the_policy_are_refused(stack: &Stack) {
    let g = genuine(stack).await;
    let now = g.claims["iat"].as_i64().unwrap();
    let exp = g.claims["exp"].as_i64().unwrap();
    for (case, claims) in [
        ("string exp", with(&g.claims, "exp", json!(exp.to_string()))),
        ("expired", with(&g.claims, "exp", json!(now - 1))),
        ("not yet valid", with(&g.claims, "nbf", json!(now + 3600))),
        (
            "wrong iss",
            with(&g.claims, "iss", json!("https://evil.example")),
        ),
        ("wrong aud", with(&g.claims, "aud", json!("another-api"))),
    ] {
        refused(stack, &g.forge.sign(&g.header, &claims).await, case).await;
    }
}

/// Not one compact token: the JSON serialization, over 8 KiB, nested 500 deep, two tokens in
/// the header, no `Bearer` scheme.
pub async fn malformed_oversized_and_nested_tokens_are_refused(stack: &Stack) {
    let g = genuine(stack).await;
    let [h, p, s] = parts(&g.token);
    let json_form = json!({ "protected": h, "payload": p, "signature": s }).to_string();
    refused(stack, &json_form, "JSON serialization").await;
    // KMS signs at most 4 KiB raw, so this one carries the genuine token's signature.
    let padded = with(&g.claims, "pad", json!("x".repeat(9000)));
    let big = format!("{h}.{}.{s}", b64(padded.to_string()));
    refused(stack, &big, "over 8 KiB").await;
    let claims = g.claims.to_string();
    let nested = format!(
        "{},\"deep\":{}{}}}",
        &claims[..claims.len() - 1],
        "[".repeat(500),
        "]".repeat(500)
    );
    let token = g.forge.sign_raw(&g.header.to_string(), &nested).await;
    refused(stack, &token, "nested 500 deep").await;
    for (case, header) in [
        ("two tokens", format!("Bearer {} {}", g.token, g.token)),
        ("no Bearer scheme", g.token.clone()),
    ] {
        let r = stack
            .call("GET", "/api/me", &[("authorization", &header)], None)
            .await;
        assert_unauthorized(&r, case);
    }
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
    // Every other way to be refused (`null`, `Sec-Fetch-Site`, no `Origin`) is tested where
    // the check is: `http::check_origin` and the handlers' CSRF tests.
    let headers = [
        ("cookie", cookie.as_str()),
        ("origin", "https://evil.example"),
    ];
    for path in ["/auth/refresh", "/auth/logout"] {
        let r = stack.call("POST", path, &headers, None).await;
        assert_eq!(r.status, 403, "{path}: {}", r.body);
        assert_eq!(r.body["error"], "csrf_rejected");
        assert_eq!(r.cookie, None, "no cookie set or cleared");
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

/// A malformed and a huge body get their stable code and change nothing.
pub async fn bad_bodies_get_stable_errors(stack: &Stack) {
    let json_ct = "application/json";
    // Every other malformed body is tested at the handlers (`hostile_login_requests_…`,
    // `a_mistyped_refresh_body_…`).
    for (case, content_type, body, status, code) in [
        (
            "malformed JSON",
            json_ct,
            Bytes::from_static(b"{\"username\":"),
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
}
