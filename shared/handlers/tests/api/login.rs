//! `POST /auth/login` (`events/login.json`, `events/login-native.json`): the cookie and its
//! attributes and path, the native client's body, hostile requests.

use lambda_http::http::header::SET_COOKIE;
use lambda_http::{Body, Request};
use serde_json::{json, Value};
use tokengate_handlers::login;
use tokengate_testing::memory::MemoryRig;

use crate::support::*;

#[tokio::test]
async fn login_sets_an_http_only_secure_strict_cookie_scoped_to_auth() {
    let rig = MemoryRig::new().await;
    let resp = web_login(&rig).await;
    assert_eq!(resp.status(), 200);
    let b = body_json(&resp);
    assert_eq!(b["token_type"], "Bearer");
    assert_eq!(b["expires_in"], 900);
    assert!(b.get("refresh_token").is_none());
    rig.verifier
        .verify(b["access_token"].as_str().unwrap(), rig.clock_now())
        .unwrap();
    let cookie = resp.headers().get(SET_COOKIE).unwrap().to_str().unwrap();
    assert!(cookie.starts_with("__Secure-refresh_token="));
    assert!(cookie.ends_with("; HttpOnly; Secure; SameSite=Strict; Path=/auth; Max-Age=604800"));
    assert_eq!(resp.headers().get("cache-control").unwrap(), "no-store");
}

#[tokio::test]
async fn native_login_returns_the_refresh_token_in_the_body() {
    let rig = MemoryRig::new().await;
    let resp = native_login(&rig).await;
    assert_eq!(resp.status(), 200);
    assert!(body_json(&resp)["refresh_token"].is_string());
    assert!(resp.headers().get(SET_COOKIE).is_none());
}

#[tokio::test]
async fn hostile_login_requests_get_a_clear_error_and_change_nothing() {
    let rig = MemoryRig::new().await;
    let huge = format!(
        r#"{{"username":"alice","password":"{}"}}"#,
        "a".repeat(9000)
    );
    let cases: Vec<(&str, Value, Vec<u8>, u16, &str)> = vec![
        (
            "huge body",
            json_headers(),
            huge.into_bytes(),
            413,
            "payload_too_large",
        ),
        (
            "truncated",
            json_headers(),
            br#"{"username":"alice","pass"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "not json",
            json_headers(),
            b"username=alice".to_vec(),
            400,
            "invalid_request",
        ),
        (
            "non-utf8",
            json_headers(),
            b"{\"username\":\"al\xffice\",\"password\":\"x\"}".to_vec(),
            400,
            "invalid_request",
        ),
        (
            "nul in name",
            json_headers(),
            br#"{"username":"al\u0000ice","password":"correct horse"}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "extra roles field",
            json_headers(),
            br#"{"username":"alice","password":"correct horse","roles":["admin"]}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "wrong type",
            json_headers(),
            br#"{"username":1,"password":"x"}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "missing password",
            json_headers(),
            br#"{"username":"alice"}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "wrong content type",
            json!({"content-type": "text/plain"}),
            br#"{"username":"alice","password":"correct horse"}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "unknown client kind",
            json_headers(),
            br#"{"username":"alice","password":"correct horse","client":"robot"}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "empty body",
            json_headers(),
            Vec::new(),
            400,
            "invalid_request",
        ),
    ];
    for (name, headers, body, status, code) in cases {
        let mut req = event("POST", "/auth/login", headers, None);
        *req.body_mut() = Body::Binary(body);
        let resp = login::handle(&rig.login, req).await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "case {name}");
        assert_error(&resp, status, code);
        assert_eq!(rig.store.session_count(), 0, "case {name} left a session");
    }
}

#[tokio::test]
async fn throttled_dependencies_answer_503_with_retry_after() {
    let rig = MemoryRig::new().await;
    rig.store.set_unavailable(true);
    let resp = web_login(&rig).await;
    assert_error(&resp, 503, "service_unavailable");
    assert_eq!(resp.headers().get("retry-after").unwrap(), "2");
}

#[tokio::test]
async fn login_events() {
    let rig = MemoryRig::new().await;
    login_tokens(&rig).await;
    let resp = login::handle(&rig.login, request(event!("login-native.json")))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(body_json(&resp)["refresh_token"].is_string());
}

/// The login event as API Gateway sends it when the browser reached `context_path`.
pub(crate) fn login_reached_at(context_path: &str) -> Request {
    let mut ev: Value = serde_json::from_str(event!("login.json")).unwrap();
    ev["requestContext"]["path"] = json!(context_path);
    lambda_http::request::from_str(&ev.to_string()).expect("valid API Gateway event")
}

#[tokio::test]
async fn the_refresh_cookie_path_is_where_the_browser_reached_the_auth_routes() {
    let rig = MemoryRig::new().await;
    for (reached, path) in [
        ("/v1/auth/login", "/v1/auth"),
        ("/auth/login", "/auth"),
        ("/identity/auth/login", "/identity/auth"),
        // Anything but plain path characters cannot write the attribute.
        ("/v1;Domain=evil.test/auth/login", "/auth"),
    ] {
        let resp = login::handle(&rig.login, login_reached_at(reached))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{reached}");
        assert_eq!(cookie_path_of(&resp), path, "{reached}");
    }
}
