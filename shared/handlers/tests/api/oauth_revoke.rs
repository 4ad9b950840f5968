//! `POST /oauth/revoke` (RFC 7009) through the logout function's router: a refresh token ends
//! its family, an access token is denylisted, anything else is 200 and changes nothing.

use lambda_http::http::header::{CACHE_CONTROL, RETRY_AFTER};
use lambda_http::{Body, Response};
use serde_json::json;
use tokengate_domain::RefreshToken;
use tokengate_handlers::logout;
use tokengate_testing::memory::MemoryRig;

use crate::oauth::{assert_oauth_error, form_headers, native_refresh_token};
use crate::support::*;

async fn revoke(rig: &MemoryRig, body: &str) -> Response<Body> {
    let allowed = rig.logout.config.allowed_origins.clone();
    let req = event("POST", "/oauth/revoke", form_headers(), Some(body));
    logout::route(&rig.logout, &allowed, req).await.unwrap()
}

fn revoked(rig: &MemoryRig, token: &str) -> bool {
    rig.store
        .session(token.split('.').next().unwrap())
        .unwrap()
        .revoked
}

#[tokio::test]
async fn oauth_revoke_refresh_token_ends_its_family() {
    let rig = MemoryRig::new().await;
    let token = native_refresh_token(&rig).await;
    let resp = revoke(
        &rig,
        &format!("token={token}&token_type_hint=refresh_token&client_id=default"),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()[CACHE_CONTROL], "no-store");
    assert!(revoked(&rig, &token));
}

#[tokio::test]
async fn oauth_revoke_access_token_is_denylisted_until_exp_plus_leeway() {
    let rig = MemoryRig::new().await;
    let g = rig.login_alice().await;
    let jti = rig
        .verifier
        .verify(&g.access.token, rig.clock_now())
        .unwrap()
        .jti;
    // A wrong hint changes nothing (RFC 7009 §2.1: only a hint).
    let body = format!("token={}&token_type_hint=refresh_token", g.access.token);
    assert_eq!(revoke(&rig, &body).await.status(), 200);
    assert!(rig.store.is_denied(&jti));
}

#[tokio::test]
async fn oauth_revoke_unknown_or_invalid_token_is_200() {
    let rig = MemoryRig::new().await;
    let token = native_refresh_token(&rig).await;
    let made_up = RefreshToken::generate().expose();
    for t in [made_up.as_str(), "garbage", "a.b.c"] {
        let resp = revoke(&rig, &format!("token={t}&token_type_hint=access_token")).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(body_json(&resp), json!({}));
    }
    assert!(!revoked(&rig, &token));
}

#[tokio::test]
async fn oauth_revoke_errors_are_rfc6749_5_2() {
    let rig = MemoryRig::new().await;
    let token = native_refresh_token(&rig).await;
    assert_oauth_error(
        &revoke(&rig, "token_type_hint=refresh_token").await,
        400,
        "invalid_request",
    );
    assert_oauth_error(
        &revoke(&rig, &format!("token={token}&token={token}")).await,
        400,
        "invalid_request",
    );
    assert_oauth_error(
        &revoke(&rig, &format!("token={token}&client_id=other")).await,
        400,
        "invalid_client",
    );
    assert!(!revoked(&rig, &token));
}

#[tokio::test]
async fn oauth_revoke_is_rate_limited_like_logout() {
    let rig = crate::refresh::rig().await;
    let mut last = None;
    for _ in 0..=crate::refresh::LIMIT {
        let made_up = RefreshToken::generate().expose();
        last = Some(revoke(&rig, &format!("token={made_up}")).await);
    }
    let resp = last.unwrap();
    assert_oauth_error(&resp, 429, "rate_limited");
    assert!(resp.headers().get(RETRY_AFTER).is_some());
}
