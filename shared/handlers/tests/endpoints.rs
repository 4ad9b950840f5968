//! The token endpoints end to end over API Gateway events, on the in-memory twins: status,
//! error code, headers and the stored state afterwards.

use lambda_http::http::header::SET_COOKIE;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use tokengate_handlers::{login, logout, refresh};
use tokengate_testing::memory::MemoryRig;

/// A REST API proxy event, parsed by lambda_http exactly as in Lambda.
fn event(method: &str, path: &str, headers: Value, body: Option<&str>) -> Request {
    let ev = json!({
        "resource": path, "path": path, "httpMethod": method,
        "headers": headers, "multiValueHeaders": {},
        "queryStringParameters": null, "multiValueQueryStringParameters": null,
        "pathParameters": null, "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012", "resourceId": "abc", "stage": "v1",
            "requestId": "req-1", "httpMethod": method, "resourcePath": path, "path": path,
            "apiId": "api123", "protocol": "HTTP/1.1", "requestTimeEpoch": 0,
            "identity": { "sourceIp": "198.51.100.20", "userAgent": "test" }
        },
        "body": body, "isBase64Encoded": false
    });
    lambda_http::request::from_str(&ev.to_string()).expect("valid API Gateway event")
}

fn json_headers() -> Value {
    json!({ "content-type": "application/json" })
}

fn body_json(resp: &Response<Body>) -> Value {
    serde_json::from_slice(resp.body().as_ref()).expect("JSON body")
}

fn assert_error(resp: &Response<Body>, status: u16, code: &str) {
    assert_eq!(resp.status().as_u16(), status, "body: {:?}", resp.body());
    let b = body_json(resp);
    assert_eq!(b["error"], code);
    assert!(b["message"].is_string());
    assert_eq!(
        b.as_object().unwrap().len(),
        2,
        "no extra detail in error bodies"
    );
}

fn cookie_value(resp: &Response<Body>) -> String {
    let c = resp.headers().get(SET_COOKIE).unwrap().to_str().unwrap();
    c.split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

async fn web_login(rig: &MemoryRig) -> Response<Body> {
    let req = event(
        "POST",
        "/auth/login",
        json_headers(),
        Some(r#"{"username":"alice","password":"correct horse"}"#),
    );
    login::handle(&rig.login, req).await.unwrap()
}

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
    let req = event(
        "POST",
        "/auth/login",
        json_headers(),
        Some(r#"{"username":"alice","password":"correct horse","client":"native"}"#),
    );
    let resp = login::handle(&rig.login, req).await.unwrap();
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
    let req = event(
        "POST",
        "/auth/login",
        json_headers(),
        Some(r#"{"username":"alice","password":"correct horse","client":"native"}"#),
    );
    let token = body_json(&login::handle(&rig.login, req).await.unwrap())["refresh_token"]
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
async fn logout_clears_the_cookie_revokes_the_session_and_denylists_the_jti() {
    let rig = MemoryRig::new().await;
    let login_resp = web_login(&rig).await;
    let token = cookie_value(&login_resp);
    let access = body_json(&login_resp)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let jti = rig.verifier.verify(&access, rig.clock_now()).unwrap().jti;
    let headers = json!({
        "cookie": format!("__Secure-refresh_token={token}"),
        "origin": "https://app.test",
        "authorization": format!("Bearer {access}"),
    });
    let allowed = rig.refresh.config.allowed_origins.clone();
    let resp = logout::handle(
        &rig.logout,
        &allowed,
        event("POST", "/auth/logout", headers.clone(), None),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 204);
    assert!(resp
        .headers()
        .get(SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with(
            "__Secure-refresh_token=; HttpOnly; Secure; SameSite=Strict; Path=/auth; Max-Age=0"
        ));
    assert!(rig.store.is_denied(&jti));
    assert!(
        rig.store
            .session(token.split('.').next().unwrap())
            .unwrap()
            .revoked
    );
    // A second logout is not an error.
    let again = logout::handle(
        &rig.logout,
        &allowed,
        event("POST", "/auth/logout", headers, None),
    )
    .await
    .unwrap();
    assert_eq!(again.status(), 204);
}

#[tokio::test]
async fn csrf_cookie_logout_from_a_foreign_origin_is_refused() {
    let rig = MemoryRig::new().await;
    let token = cookie_value(&web_login(&rig).await);
    let allowed = rig.refresh.config.allowed_origins.clone();
    let headers = json!({ "cookie": format!("__Secure-refresh_token={token}"), "origin": "https://evil.test" });
    let resp = logout::handle(
        &rig.logout,
        &allowed,
        event("POST", "/auth/logout", headers, None),
    )
    .await
    .unwrap();
    assert_error(&resp, 403, "csrf_rejected");
    assert!(
        !rig.store
            .session(token.split('.').next().unwrap())
            .unwrap()
            .revoked
    );
}

#[tokio::test]
async fn throttled_dependencies_answer_503_with_retry_after() {
    let rig = MemoryRig::new().await;
    rig.store.set_unavailable(true);
    let resp = web_login(&rig).await;
    assert_error(&resp, 503, "service_unavailable");
    assert_eq!(resp.headers().get("retry-after").unwrap(), "2");
}
