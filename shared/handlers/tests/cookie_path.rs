//! The refresh cookie's `Path` follows where the browser reached the auth routes, and logout
//! clears the cookie on the path login set it.

use lambda_http::http::header::SET_COOKIE;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use tokengate_handlers::{login, logout};
use tokengate_testing::memory::MemoryRig;

fn cookie_value(resp: &Response<Body>) -> String {
    let c = resp.headers().get(SET_COOKIE).unwrap().to_str().unwrap();
    let pair = c.split(';').next().unwrap();
    pair.split_once('=').unwrap().1.to_owned()
}

/// The login event as API Gateway sends it when the browser reached `context_path`.
fn login_reached_at(context_path: &str) -> Request {
    let mut ev: Value = serde_json::from_str(include_str!("../../../events/login.json")).unwrap();
    ev["requestContext"]["path"] = json!(context_path);
    lambda_http::request::from_str(&ev.to_string()).expect("valid API Gateway event")
}

fn cookie_path_of(resp: &Response<Body>) -> String {
    let c = resp.headers().get(SET_COOKIE).unwrap().to_str().unwrap();
    let path = c.split("; ").find_map(|a| a.strip_prefix("Path="));
    path.expect("a Path attribute").to_owned()
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

#[tokio::test]
async fn logout_clears_the_cookie_on_the_path_login_set_it() {
    let rig = MemoryRig::new().await;
    let login = login::handle(&rig.login, login_reached_at("/v1/auth/login"))
        .await
        .unwrap();
    let token = cookie_value(&login);
    let text = include_str!("../../../events/logout.json").replace("REFRESH_TOKEN", &token);
    let mut ev: Value = serde_json::from_str(&text).unwrap();
    ev["requestContext"]["path"] = json!("/v1/auth/logout");
    let req = lambda_http::request::from_str(&ev.to_string()).unwrap();
    let allowed = rig.refresh.config.allowed_origins.clone();

    let resp = logout::handle(&rig.logout, &allowed, req).await.unwrap();

    assert_eq!(resp.status(), 204);
    let sid = token.split('.').next().unwrap();
    assert!(
        rig.store.session(sid).unwrap().revoked,
        "the cookie was read"
    );
    assert_eq!(cookie_path_of(&resp), cookie_path_of(&login));
    assert!(resp
        .headers()
        .get(SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .ends_with("Max-Age=0"));
}

#[tokio::test]
async fn a_configured_cookie_path_wins_over_the_request_path() {
    let rig = MemoryRig::new().await;
    let mut config = rig.config.clone();
    // CloudFront serves the API at /api/* of the app's domain; API Gateway sees /v1/auth.
    config.auth.cookie_path = Some("/api/auth".to_owned());
    let app = tokengate_handlers::app::App::build(config, rig.adapters.clone());
    let login_service = app.login().unwrap();
    let logout_service = app.logout().unwrap();

    let login = login::handle(&login_service, login_reached_at("/v1/auth/login"))
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    assert_eq!(cookie_path_of(&login), "/api/auth");

    let text =
        include_str!("../../../events/logout.json").replace("REFRESH_TOKEN", &cookie_value(&login));
    let req = lambda_http::request::from_str(&text).unwrap();
    let allowed = rig.config.auth.allowed_origins.clone();
    let logout = logout::handle(&logout_service, &allowed, req)
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    assert_eq!(cookie_path_of(&logout), "/api/auth");
}
