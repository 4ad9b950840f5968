//! `POST /auth/logout` (`events/logout.json`): the cookie cleared on the path login set it, the
//! session revoked and the access token denylisted, CSRF, the per-source-network limit.

use lambda_http::http::header::{RETRY_AFTER, SET_COOKIE};
use serde_json::{json, Value};
use tokengate_domain::RefreshToken;
use tokengate_handlers::{login, logout, refresh};
use tokengate_testing::memory::MemoryRig;

use crate::refresh::{error_code, request_from, rig, LIMIT};
use crate::support::*;

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
async fn logout_event() {
    let rig = MemoryRig::new().await;
    let (access, refresh_token) = login_tokens(&rig).await;
    let text = fill(event!("logout.json"), &access, &refresh_token);
    let allowed = rig.refresh.config.allowed_origins.clone();
    let resp = logout::handle(&rig.logout, &allowed, request(&text))
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let sid = refresh_token.split('.').next().unwrap();
    assert!(rig.store.session(sid).unwrap().revoked);
}

#[tokio::test]
async fn logout_clears_the_cookie_on_the_path_login_set_it() {
    let rig = MemoryRig::new().await;
    let login = login::handle(&rig.login, crate::login::login_reached_at("/v1/auth/login"))
        .await
        .unwrap();
    let token = cookie_value(&login);
    let text = event!("logout.json").replace("REFRESH_TOKEN", &token);
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
async fn logout_answers_429_with_retry_after_and_ends_nothing() {
    let rig = rig().await;
    let g = rig.login_alice().await;
    let allowed = rig.logout.config.allowed_origins.clone();
    let made_up = RefreshToken::generate().expose();
    for i in 0..LIMIT {
        let req = request_from(
            event!("logout.json"),
            "",
            &made_up,
            "2001:db8:5:5::1",
            &format!("198.51.100.{i}"),
        );
        let resp = logout::handle(&rig.logout, &allowed, req).await.unwrap();
        assert_eq!(resp.status(), 204);
    }

    // Another address of the same IPv6 /64, with a real session and access token.
    let req = request_from(
        event!("logout.json"),
        &g.access.token,
        &g.refresh.expose(),
        "2001:db8:5:5:abcd::9",
        "198.51.100.99",
    );
    let resp = logout::handle(&rig.logout, &allowed, req).await.unwrap();

    assert_eq!(resp.status(), 429);
    assert_eq!(error_code(&resp), "rate_limited");
    assert_eq!(resp.headers().get(RETRY_AFTER).unwrap(), "60");
    assert!(
        resp.headers().get(SET_COOKIE).is_none(),
        "the cookie is kept: the client still needs it to log out"
    );
    assert!(!rig.store.session(g.refresh.sid()).unwrap().revoked);
    let jti = rig
        .verifier
        .verify(&g.access.token, rig.clock_now())
        .unwrap()
        .jti;
    assert!(!rig.store.is_denied(&jti));

    // Refresh is counted apart from logout.
    let req = request_from(
        event!("refresh-cookie.json"),
        "",
        &g.refresh.expose(),
        "2001:db8:5:5::1",
        "",
    );
    let resp = refresh::handle(&rig.refresh, req).await.unwrap();
    assert_eq!(resp.status(), 200, "{:?}", resp.body());
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

    let login = login::handle(
        &login_service,
        crate::login::login_reached_at("/v1/auth/login"),
    )
    .await
    .unwrap();
    assert_eq!(login.status(), 200);
    assert_eq!(cookie_path_of(&login), "/api/auth");

    let text = event!("logout.json").replace("REFRESH_TOKEN", &cookie_value(&login));
    let allowed = rig.config.auth.allowed_origins.clone();
    let logout = logout::handle(&logout_service, &allowed, request(&text))
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    assert_eq!(cookie_path_of(&logout), "/api/auth");
}
