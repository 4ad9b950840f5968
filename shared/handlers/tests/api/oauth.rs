//! The OAuth 2.0 face: discovery metadata (RFC 8414, OIDC Discovery) and the token endpoint
//! (`POST /oauth/token`, RFC 6749 §6 with §5.1 / §5.2 answers), through the functions' routers
//! (`jwks::route`, `refresh::route`) as deployed. Revocation is in `oauth_revoke.rs`.

use lambda_http::http::header::{CACHE_CONTROL, PRAGMA, RETRY_AFTER, SET_COOKIE};
use lambda_http::{Body, Response};
use serde_json::{json, Value};
use tokengate_domain::RefreshToken;
use tokengate_handlers::{jwks, refresh};
use tokengate_testing::memory::MemoryRig;

use crate::support::*;

pub(crate) fn form_headers() -> Value {
    json!({ "content-type": "application/x-www-form-urlencoded" })
}

/// A native login's refresh token (the first token of a family comes from `/auth/login`).
pub(crate) async fn native_refresh_token(rig: &MemoryRig) -> String {
    body_json(&native_login(rig).await)["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) async fn token_request(rig: &MemoryRig, body: &str) -> Response<Body> {
    let req = event("POST", "/oauth/token", form_headers(), Some(body));
    refresh::route(&rig.refresh, req).await.unwrap()
}

fn refresh_form(token: &str) -> String {
    format!("grant_type=refresh_token&client_id=default&refresh_token={token}")
}

/// RFC 6749 §5.2: the status, `error`, `error_description`, nothing else, never cached.
pub(crate) fn assert_oauth_error(resp: &Response<Body>, status: u16, code: &str) {
    assert_eq!(resp.status().as_u16(), status, "body: {:?}", resp.body());
    let b = body_json(resp);
    assert_eq!(b["error"], code);
    assert!(b["error_description"].is_string());
    assert_eq!(b.as_object().unwrap().len(), 2, "no extra detail");
    assert_eq!(resp.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(resp.headers()[PRAGMA], "no-cache");
}

fn generation(rig: &MemoryRig, token: &str) -> u64 {
    let sid = token.split('.').next().unwrap();
    rig.store.session(sid).unwrap().generation
}

#[tokio::test]
async fn discovery_metadata_names_the_exact_issuer_and_endpoints_under_it() {
    let rig = MemoryRig::new().await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let req = event("GET", path, json!({}), None);
        let resp = jwks::route(&rig.keyring, &rig.config.auth, req)
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()[CACHE_CONTROL],
            format!("public, max-age={}", jwks::JWKS_MAX_AGE_SECS)
        );
        let m = body_json(&resp);
        let issuer = MemoryRig::ISSUER;
        assert_eq!(m["issuer"], issuer);
        assert_eq!(m["jwks_uri"], format!("{issuer}/.well-known/jwks.json"));
        assert_eq!(m["token_endpoint"], format!("{issuer}/oauth/token"));
        assert_eq!(m["revocation_endpoint"], format!("{issuer}/oauth/revoke"));
        assert_eq!(m["scopes_supported"], json!([]));
        assert_eq!(m["grant_types_supported"], json!(["refresh_token"]));
        assert_eq!(m["response_types_supported"], json!([]));
        assert_eq!(m["token_endpoint_auth_methods_supported"], json!(["none"]));
        assert_eq!(
            m["revocation_endpoint_auth_methods_supported"],
            json!(["none"])
        );
        assert_eq!(m["subject_types_supported"], json!(["public"]));
        let jwks = body_json(&jwks::response(&rig.keyring).await);
        assert_eq!(
            m["id_token_signing_alg_values_supported"],
            json!([jwks["keys"][0]["alg"]])
        );
    }
    // The JWKS route of the same function is unchanged.
    let req = event("GET", "/.well-known/jwks.json", json!({}), None);
    let resp = jwks::route(&rig.keyring, &rig.config.auth, req)
        .await
        .unwrap();
    assert_eq!(body_json(&resp)["keys"][0]["kid"], "test-key");
}

#[tokio::test]
async fn oauth_token_refresh_rotates_as_auth_refresh_and_answers_rfc6749_5_1() {
    let rig = MemoryRig::new().await;
    let token = native_refresh_token(&rig).await;
    let resp = token_request(&rig, &refresh_form(&token)).await;
    assert_eq!(resp.status(), 200, "body: {:?}", resp.body());
    assert_eq!(resp.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(resp.headers()[PRAGMA], "no-cache");
    assert!(resp.headers().get(SET_COOKIE).is_none(), "no cookies here");
    let b = body_json(&resp);
    assert_eq!(b["token_type"], "Bearer");
    assert!(b["expires_in"].as_i64().unwrap() > 0);
    rig.verifier
        .verify(b["access_token"].as_str().unwrap(), rig.clock_now())
        .unwrap();
    let next = b["refresh_token"].as_str().unwrap();
    assert_ne!(next, token);
    assert!(b.get("scope").is_none(), "no scope granted, none named");
    assert_eq!(generation(&rig, &token), 1);
    // The rotated token goes on at /auth/refresh too: one family, one rotation rule.
    let resp = token_request(&rig, &refresh_form(next)).await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn oauth_token_reuse_is_invalid_grant_and_ends_the_family() {
    let rig = MemoryRig::new().await;
    let token = native_refresh_token(&rig).await;
    let first = token_request(&rig, &refresh_form(&token)).await;
    let next = body_json(&first)["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    rig.clock.advance(rig.refresh.config.grace_secs + 1);
    assert_oauth_error(
        &token_request(&rig, &refresh_form(&token)).await,
        400,
        "invalid_grant",
    );
    // The whole family is gone: the current token too.
    assert_oauth_error(
        &token_request(&rig, &refresh_form(&next)).await,
        400,
        "invalid_grant",
    );
    assert!(
        rig.store
            .session(token.split('.').next().unwrap())
            .unwrap()
            .revoked
    );
}

#[tokio::test]
async fn oauth_token_errors_are_rfc6749_5_2_and_rotate_nothing() {
    let rig = MemoryRig::new().await;
    let token = native_refresh_token(&rig).await;
    let made_up = RefreshToken::generate().expose();
    let cases = [
        (
            "client_id=default&refresh_token=T".to_owned(),
            "invalid_request",
        ),
        (
            "grant_type=refresh_token&refresh_token=T".to_owned(),
            "invalid_request",
        ),
        (
            "grant_type=refresh_token&client_id=default".to_owned(),
            "invalid_request",
        ),
        (
            "grant_type=refresh_token&client_id=default&refresh_token=".to_owned(),
            "invalid_request",
        ),
        (
            "grant_type=refresh_token&client_id=other&refresh_token=T".to_owned(),
            "invalid_client",
        ),
        (
            "grant_type=password&client_id=default&refresh_token=T".to_owned(),
            "unsupported_grant_type",
        ),
        (
            "grant_type=client_credentials&client_id=default".to_owned(),
            "unsupported_grant_type",
        ),
        (
            format!("grant_type=refresh_token&client_id=default&refresh_token={made_up}"),
            "invalid_grant",
        ),
        (
            "grant_type=refresh_token&client_id=default&refresh_token=not-a-token".to_owned(),
            "invalid_grant",
        ),
    ];
    for (body, code) in cases {
        let resp = token_request(&rig, &body.replace("=T", &format!("={token}"))).await;
        assert_oauth_error(&resp, 400, code);
    }
    assert_eq!(generation(&rig, &token), 0);
}

#[tokio::test]
async fn oauth_token_repeated_parameter_is_invalid_request() {
    let rig = MemoryRig::new().await;
    let token = native_refresh_token(&rig).await;
    let body = format!("{}&client_id=default", refresh_form(&token));
    assert_oauth_error(&token_request(&rig, &body).await, 400, "invalid_request");
    let body = format!("{}&refresh_token={token}", refresh_form(&token));
    assert_oauth_error(&token_request(&rig, &body).await, 400, "invalid_request");
    assert_eq!(generation(&rig, &token), 0);
}

#[tokio::test]
async fn oauth_token_takes_only_a_form_of_at_most_8_kib() {
    let rig = MemoryRig::new().await;
    let token = native_refresh_token(&rig).await;
    let json_body =
        json!({ "grant_type": "refresh_token", "client_id": "default", "refresh_token": token })
            .to_string();
    let req = event("POST", "/oauth/token", json_headers(), Some(&json_body));
    let resp = refresh::route(&rig.refresh, req).await.unwrap();
    assert_oauth_error(&resp, 400, "invalid_request");
    let padded = format!("{}&pad={}", refresh_form(&token), "x".repeat(8 * 1024));
    assert_oauth_error(&token_request(&rig, &padded).await, 400, "invalid_request");
    assert_eq!(generation(&rig, &token), 0);
}

#[tokio::test]
async fn oauth_token_undefined_scope_is_invalid_scope_and_spends_nothing() {
    let rig = MemoryRig::new().await;
    let token = native_refresh_token(&rig).await;
    for scope in ["read", "read+write", "+", "%20read"] {
        let body = format!("{}&scope={scope}", refresh_form(&token));
        assert_oauth_error(&token_request(&rig, &body).await, 400, "invalid_scope");
    }
    assert_eq!(
        generation(&rig, &token),
        0,
        "a refused scope rotates nothing"
    );
    // `scope=` without a value is absent (RFC 6749 §3.1).
    let body = format!("{}&scope=", refresh_form(&token));
    assert_eq!(token_request(&rig, &body).await.status(), 200);
}

#[tokio::test]
async fn oauth_token_limits_answer_429_with_retry_after() {
    let rig = crate::refresh::rig().await;
    let made_up = RefreshToken::generate().expose();
    for _ in 0..crate::refresh::LIMIT {
        assert_oauth_error(
            &token_request(&rig, &refresh_form(&made_up)).await,
            400,
            "invalid_grant",
        );
    }
    let resp = token_request(&rig, &refresh_form(&made_up)).await;
    assert_oauth_error(&resp, 429, "rate_limited");
    assert!(resp.headers().get(RETRY_AFTER).is_some());
}
