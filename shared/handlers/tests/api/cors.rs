//! CORS on every route a browser app calls: preflights answered by the CORS module (never by
//! the handler: the OPTIONS routes have no authorizer), and the grant on actual answers — only
//! for an origin of `TOKENGATE_ALLOWED_ORIGINS`, with credentials only on the cookie routes.

use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use tokengate_handlers::{jwks, login, logout, me, password, refresh};
use tokengate_testing::memory::MemoryRig;

/// One of the rig's allowed origins.
const APP: &str = "https://app.test";
/// An origin not in the list.
const FOREIGN: &str = "https://evil.test";

/// A REST API proxy event reaching `path` under the stage, with `headers`.
fn event(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Request {
    let single: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| ((*k).into(), json!(v)))
        .collect();
    let multi: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| ((*k).into(), json!([v])))
        .collect();
    let ev = json!({
        "resource": path, "path": path, "httpMethod": method,
        "headers": single, "multiValueHeaders": multi,
        "queryStringParameters": null, "multiValueQueryStringParameters": null,
        "pathParameters": null, "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012", "resourceId": "abc", "stage": "v1",
            "requestId": "req-1", "httpMethod": method, "resourcePath": path,
            "path": format!("/v1{path}"), "apiId": "a1b2c3d4e5", "protocol": "HTTP/1.1",
            "requestTimeEpoch": 0,
            "identity": { "sourceIp": "198.51.100.20", "userAgent": "test" }
        },
        "body": body, "isBase64Encoded": false
    });
    lambda_http::request::from_str(&ev.to_string()).expect("valid API Gateway event")
}

fn preflight(path: &str, origin: &str, method: &str) -> Request {
    event(
        "OPTIONS",
        path,
        &[
            ("Origin", origin),
            ("Access-Control-Request-Method", method),
            (
                "Access-Control-Request-Headers",
                "authorization, content-type",
            ),
        ],
        None,
    )
}

/// The CORS headers of an answer (`access-control-*` and `vary`), sorted by name.
fn cors_headers(resp: &Response<Body>) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = resp
        .headers()
        .iter()
        .filter(|(k, _)| k.as_str().starts_with("access-control-") || k.as_str() == "vary")
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    found.sort();
    found
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = expected
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    v.sort();
    v
}

/// What an allowed origin gets on an answer of a cookie route.
fn cookie_route_grant(origin: &str) -> Vec<(String, String)> {
    pairs(&[
        ("access-control-allow-credentials", "true"),
        ("access-control-allow-origin", origin),
        (
            "access-control-expose-headers",
            "retry-after, www-authenticate",
        ),
        ("vary", "Origin"),
    ])
}

fn error_code(resp: &Response<Body>) -> Value {
    serde_json::from_slice::<Value>(resp.body().as_ref()).unwrap()["error"].clone()
}

fn login_body() -> String {
    json!({ "username": "alice", "password": MemoryRig::PASSWORD }).to_string()
}

#[tokio::test]
async fn preflight_from_an_allowed_origin_gets_methods_headers_max_age_and_credentials() {
    let rig = MemoryRig::new().await;
    for path in ["/auth/login", "/auth/refresh", "/auth/logout"] {
        let req = preflight(path, APP, "POST");
        let resp = match path {
            "/auth/login" => login::handle(&rig.login, req).await,
            "/auth/refresh" => refresh::handle(&rig.refresh, req).await,
            _ => logout::handle(&rig.logout, &rig.config.auth.allowed_origins, req).await,
        }
        .unwrap();
        assert_eq!(resp.status(), 204, "{path}");
        assert!(resp.body().is_empty(), "{path}");
        assert_eq!(
            cors_headers(&resp),
            pairs(&[
                ("access-control-allow-credentials", "true"),
                (
                    "access-control-allow-headers",
                    "authorization, content-type"
                ),
                ("access-control-allow-methods", "POST"),
                ("access-control-allow-origin", APP),
                ("access-control-max-age", "600"),
                ("vary", "Origin"),
            ]),
            "{path}"
        );
        // A preflight is no logout: nothing is cleared.
        assert!(resp.headers().get("set-cookie").is_none(), "{path}");
    }
}

#[tokio::test]
async fn preflight_from_a_foreign_origin_gets_no_grant() {
    let rig = MemoryRig::new().await;
    let resp = refresh::handle(&rig.refresh, preflight("/auth/refresh", FOREIGN, "POST"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(cors_headers(&resp), pairs(&[("vary", "Origin")]));
    // Nor does an origin that merely starts like an allowed one.
    let lookalike = format!("{APP}.evil.test");
    let resp = login::handle(&rig.login, preflight("/auth/login", &lookalike, "POST"))
        .await
        .unwrap();
    assert_eq!(cors_headers(&resp), pairs(&[("vary", "Origin")]));
}

#[tokio::test]
async fn preflight_of_a_guarded_route_never_runs_the_handler() {
    let rig = MemoryRig::new().await;
    let allowed = &rig.config.auth.allowed_origins;
    // No authorizer context (the OPTIONS route has no authorizer): me would answer 400 and
    // the password change 401; the CORS module answers first.
    let resp = me::handle(allowed, preflight("/api/admin/users/7", APP, "DELETE"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(
        cors_headers(&resp),
        pairs(&[
            (
                "access-control-allow-headers",
                "authorization, content-type"
            ),
            (
                "access-control-allow-methods",
                "GET, POST, PUT, PATCH, DELETE"
            ),
            ("access-control-allow-origin", APP),
            ("access-control-max-age", "600"),
            ("vary", "Origin"),
        ])
    );
    let resp = password::handle(
        &rig.password_change(),
        preflight("/auth/password", APP, "POST"),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(resp.headers()["access-control-allow-credentials"], "true");
    // An OPTIONS that is no preflight is answered the same way, with no grant.
    let resp = me::handle(allowed, event("OPTIONS", "/api/me", &[], None))
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(cors_headers(&resp), pairs(&[("vary", "Origin")]));
}

#[tokio::test]
async fn an_allowed_origin_can_read_200_401_and_400_answers_of_the_cookie_routes() {
    let rig = MemoryRig::new().await;
    let json_from_app = [("Content-Type", "application/json"), ("Origin", APP)];

    let ok = login::handle(
        &rig.login,
        event("POST", "/auth/login", &json_from_app, Some(&login_body())),
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(cors_headers(&ok), cookie_route_grant(APP));

    let wrong = json!({ "username": "alice", "password": "not her password" }).to_string();
    let denied = login::handle(
        &rig.login,
        event("POST", "/auth/login", &json_from_app, Some(&wrong)),
    )
    .await
    .unwrap();
    assert_eq!(denied.status(), 401);
    assert_eq!(error_code(&denied), "invalid_credentials");
    assert_eq!(cors_headers(&denied), cookie_route_grant(APP));

    let bad = refresh::handle(
        &rig.refresh,
        event("POST", "/auth/refresh", &json_from_app, Some("{")),
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(error_code(&bad), "invalid_request");
    assert_eq!(cors_headers(&bad), cookie_route_grant(APP));
}

#[tokio::test]
async fn a_foreign_origin_gets_no_grant_and_the_csrf_check_still_refuses_its_cookie() {
    let rig = MemoryRig::new().await;
    let grant = rig.login_alice().await;
    let cookie = format!("__Secure-refresh_token={}", grant.refresh.expose());
    let resp = refresh::handle(
        &rig.refresh,
        event(
            "POST",
            "/auth/refresh",
            &[("Origin", FOREIGN), ("Cookie", &cookie)],
            None,
        ),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(error_code(&resp), "csrf_rejected");
    assert_eq!(cors_headers(&resp), pairs(&[("vary", "Origin")]));
    // The session was not touched: its token still refreshes from the app.
    let sid = grant.refresh.expose();
    let sid = sid.split('.').next().unwrap();
    let session = rig.store.session(sid).unwrap();
    assert!(!session.revoked);
    let resp = refresh::handle(
        &rig.refresh,
        event(
            "POST",
            "/auth/refresh",
            &[("Origin", APP), ("Cookie", &cookie)],
            None,
        ),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(cors_headers(&resp), cookie_route_grant(APP));
}

#[tokio::test]
async fn public_and_bearer_routes_grant_the_origin_without_credentials() {
    let rig = MemoryRig::new().await;
    let allowed = &rig.config.auth.allowed_origins;
    let without_credentials = pairs(&[
        ("access-control-allow-origin", APP),
        (
            "access-control-expose-headers",
            "retry-after, www-authenticate",
        ),
        ("vary", "Origin"),
    ]);

    let resp = jwks::handle(
        &rig.keyring,
        allowed,
        event("GET", "/.well-known/jwks.json", &[("Origin", APP)], None),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(cors_headers(&resp), without_credentials);
    assert_eq!(resp.headers()["cache-control"], "public, max-age=300");

    let mut ev: Value = serde_json::from_str(event!("me.json")).unwrap();
    ev["headers"]["Origin"] = json!(APP);
    ev["multiValueHeaders"]["Origin"] = json!([APP]);
    let req = lambda_http::request::from_str(&ev.to_string()).unwrap();
    let resp = me::handle(allowed, req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(cors_headers(&resp), without_credentials);

    // Without an Origin (curl, a server) nothing is granted; the answer still varies by it.
    let resp = jwks::handle(
        &rig.keyring,
        allowed,
        event("GET", "/.well-known/jwks.json", &[], None),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(cors_headers(&resp), pairs(&[("vary", "Origin")]));
}

#[tokio::test]
async fn oauth_routes_grant_an_allowed_origin_without_credentials() {
    let rig = MemoryRig::new().await;
    let origins = &rig.config.auth.allowed_origins;
    for path in ["/oauth/token", "/oauth/revoke"] {
        let answer = |req| async {
            match path {
                "/oauth/token" => refresh::route(&rig.refresh, req).await,
                _ => logout::route(&rig.logout, origins, req).await,
            }
            .unwrap()
        };
        let resp = answer(preflight(path, APP, "POST")).await;
        assert_eq!(resp.status(), 204, "{path}");
        assert_eq!(
            cors_headers(&resp),
            pairs(&[
                (
                    "access-control-allow-headers",
                    "authorization, content-type"
                ),
                ("access-control-allow-methods", "POST"),
                ("access-control-allow-origin", APP),
                ("access-control-max-age", "600"),
                ("vary", "Origin"),
            ]),
            "{path}: no credentials, the token is in the form"
        );
        // An answer (here an error) is readable by the allowed origin, by no other.
        let form = [("Origin", APP), ("content-type", "application/json")];
        let resp = answer(event("POST", path, &form, Some("{}"))).await;
        assert_eq!(error_code(&resp), "invalid_request", "{path}");
        assert!(cors_headers(&resp).contains(&("access-control-allow-origin".into(), APP.into())));
        let foreign = [("Origin", FOREIGN), ("content-type", "application/json")];
        let resp = answer(event("POST", path, &foreign, Some("{}"))).await;
        assert_eq!(cors_headers(&resp), pairs(&[("vary", "Origin")]), "{path}");
    }
}
