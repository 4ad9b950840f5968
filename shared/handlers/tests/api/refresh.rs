//! `POST /auth/refresh` (`events/refresh-cookie.json`, `events/refresh-body.json`): rotation on
//! the channel the token came in, CSRF, missing and mistyped tokens, the per-source-network
//! limit counted on `sourceIp`, never on `X-Forwarded-For`, and the per-session limit.

use lambda_http::http::header::{RETRY_AFTER, SET_COOKIE};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use tokengate_domain::RefreshToken;
use tokengate_handlers::refresh;
use tokengate_testing::memory::{MemoryRig, RIG_EPOCH};

use crate::support::*;

#[tokio::test]
async fn cookie_refresh_rotates_the_cookie() {
    let rig = MemoryRig::new().await;
    let token = cookie_value(&web_login(&rig).await);
    let req = event(
        "POST",
        "/auth/refresh",
        json!({ "cookie": format!("__Secure-refresh_token={token}"), "origin": "https://app.test" }),
        None,
    );
    let resp = refresh::handle(&rig.refresh, req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let next = cookie_value(&resp);
    assert_ne!(next, token);
    assert!(body_json(&resp).get("refresh_token").is_none());
}

#[tokio::test]
async fn csrf_cookie_refresh_from_a_foreign_origin_is_refused_and_rotates_nothing() {
    let rig = MemoryRig::new().await;
    let token = cookie_value(&web_login(&rig).await);
    let sid = token.split('.').next().unwrap().to_owned();
    for headers in [
        json!({ "cookie": format!("__Secure-refresh_token={token}"), "origin": "https://evil.test" }),
        json!({ "cookie": format!("__Secure-refresh_token={token}"), "sec-fetch-site": "cross-site" }),
        json!({ "cookie": format!("__Secure-refresh_token={token}") }),
    ] {
        let resp = refresh::handle(&rig.refresh, event("POST", "/auth/refresh", headers, None))
            .await
            .unwrap();
        assert_error(&resp, 403, "csrf_rejected");
    }
    assert_eq!(rig.store.session(&sid).unwrap().generation, 0);
}

#[tokio::test]
async fn body_refresh_answers_in_the_body() {
    let rig = MemoryRig::new().await;
    let token = body_json(&native_login(&rig).await)["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({ "refresh_token": token }).to_string();
    let resp = refresh::handle(
        &rig.refresh,
        event("POST", "/auth/refresh", json_headers(), Some(&body)),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get(SET_COOKIE).is_none());
    assert_ne!(body_json(&resp)["refresh_token"], token.as_str());
}

#[tokio::test]
async fn refresh_without_any_token_is_invalid_refresh_token() {
    let rig = MemoryRig::new().await;
    let resp = refresh::handle(
        &rig.refresh,
        event("POST", "/auth/refresh", json!({}), None),
    )
    .await
    .unwrap();
    assert_error(&resp, 401, "invalid_refresh_token");
    let resp = refresh::handle(
        &rig.refresh,
        event(
            "POST",
            "/auth/refresh",
            json_headers(),
            Some(r#"{"refresh_token":"x.y"}"#),
        ),
    )
    .await
    .unwrap();
    assert_error(&resp, 401, "invalid_refresh_token");
}

#[tokio::test]
async fn a_mistyped_refresh_body_is_invalid_request_and_rotates_nothing() {
    let rig = MemoryRig::new().await;
    let grant = rig.login_alice().await;
    let resp = refresh::handle(
        &rig.refresh,
        event(
            "POST",
            "/auth/refresh",
            json_headers(),
            Some(r#"{"refresh_token":5}"#),
        ),
    )
    .await
    .unwrap();
    assert_error(&resp, 400, "invalid_request");
    let body = json!({ "refresh_token": grant.refresh.expose() }).to_string();
    let resp = refresh::handle(
        &rig.refresh,
        event("POST", "/auth/refresh", json_headers(), Some(&body)),
    )
    .await
    .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "the session was untouched");
}

#[tokio::test]
async fn refresh_events() {
    let rig = MemoryRig::new().await;
    let (access, refresh_token) = login_tokens(&rig).await;
    let text = fill(event!("refresh-cookie.json"), &access, &refresh_token);
    let resp = refresh::handle(&rig.refresh, request(&text)).await.unwrap();
    assert_eq!(resp.status(), 200, "{:?}", resp.body());
    let rotated = cookie_value(&resp);
    let text = fill(event!("refresh-body.json"), &access, &rotated);
    let resp = refresh::handle(&rig.refresh, request(&text)).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(body_json(&resp)["refresh_token"].is_string());
}

pub(crate) const LIMIT: u64 = 3;

/// The sample event `text` with its tokens filled in, from `source_ip`, claiming to forward for a
/// different address each time (which must not matter).
pub(crate) fn request_from(
    text: &str,
    access: &str,
    refresh: &str,
    source_ip: &str,
    forwarded: &str,
) -> Request {
    let text = text
        .replace("ACCESS_TOKEN", access)
        .replace("REFRESH_TOKEN", refresh);
    let mut ev: Value = serde_json::from_str(&text).expect("the sample event is JSON");
    ev["requestContext"]["identity"]["sourceIp"] = source_ip.into();
    ev["headers"]["X-Forwarded-For"] = forwarded.into();
    ev["multiValueHeaders"]["X-Forwarded-For"] = serde_json::json!([forwarded]);
    lambda_http::request::from_str(&ev.to_string()).expect("lambda_http request")
}

pub(crate) fn error_code(resp: &Response<Body>) -> String {
    let body: Value = serde_json::from_slice(resp.body().as_ref()).expect("JSON body");
    body["error"].as_str().expect("an error code").to_owned()
}

pub(crate) async fn rig() -> MemoryRig {
    let mut rig = MemoryRig::new().await;
    rig.refresh.config.refresh_ip_limit = LIMIT;
    rig.logout.config.refresh_ip_limit = LIMIT;
    rig
}

#[tokio::test]
async fn refresh_answers_429_with_retry_after_per_source_ip_not_per_forwarded_for() {
    let rig = rig().await;
    let g = rig.login_alice().await;
    let made_up = RefreshToken::generate().expose();
    for i in 0..LIMIT {
        let req = request_from(
            event!("refresh-body.json"),
            "",
            &made_up,
            "203.0.113.7",
            &format!("198.51.100.{i}"),
        );
        let resp = refresh::handle(&rig.refresh, req).await.unwrap();
        assert_eq!(resp.status(), 401);
        assert_eq!(error_code(&resp), "invalid_refresh_token");
    }

    let req = request_from(
        event!("refresh-body.json"),
        "",
        &g.refresh.expose(),
        "203.0.113.7",
        "198.51.100.99",
    );
    let resp = refresh::handle(&rig.refresh, req).await.unwrap();

    assert_eq!(resp.status(), 429);
    assert_eq!(error_code(&resp), "rate_limited");
    let window = 60;
    let expected = window - RIG_EPOCH % window;
    assert_eq!(
        resp.headers().get(RETRY_AFTER).unwrap(),
        &expected.to_string()
    );
    let s = rig.store.session(g.refresh.sid()).unwrap();
    assert_eq!((s.generation, s.revoked), (0, false), "nothing rotated");
    assert_eq!(rig.mac.calls(), 0);

    // Another source network is counted apart.
    let req = request_from(
        event!("refresh-body.json"),
        "",
        &g.refresh.expose(),
        "203.0.113.8",
        "203.0.113.7",
    );
    let resp = refresh::handle(&rig.refresh, req).await.unwrap();
    assert_eq!(resp.status(), 200, "{:?}", resp.body());
    assert_eq!(rig.store.session(g.refresh.sid()).unwrap().generation, 1);
}

#[tokio::test]
async fn refresh_answers_429_with_retry_after_past_the_session_limit_from_any_network() {
    let rig = MemoryRig::new().await;
    let mut token = rig.login_alice().await.refresh.expose();
    // Ten refreshes of one session, each from a network of its own: the per-network limit
    // never sees more than one.
    for i in 0..10 {
        let ip = format!("198.51.100.{i}");
        let req = request_from(event!("refresh-body.json"), "", &token, &ip, &ip);
        let resp = refresh::handle(&rig.refresh, req).await.unwrap();
        assert_eq!(resp.status(), 200, "{i}: {:?}", resp.body());
        let body: Value = serde_json::from_slice(resp.body().as_ref()).unwrap();
        token = body["refresh_token"].as_str().unwrap().to_owned();
    }
    let macs = rig.mac.calls();

    let req = request_from(event!("refresh-body.json"), "", &token, "192.0.2.1", "");
    let resp = refresh::handle(&rig.refresh, req).await.unwrap();

    assert_eq!(resp.status(), 429);
    assert_eq!(error_code(&resp), "rate_limited");
    assert_eq!(resp.headers().get(RETRY_AFTER).unwrap(), "60");
    assert_eq!(rig.mac.calls(), macs, "refused before KMS");
}
