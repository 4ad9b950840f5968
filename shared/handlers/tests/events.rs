//! Every sample event in `events/` parses with the real event types and runs its handler.
//! Placeholders (`ACCESS_TOKEN`, `REFRESH_TOKEN`, `SESSION_ID`) are filled in with real tokens.

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayProxyRequest, ApiGatewayV2CustomAuthorizerV2Request,
};
use lambda_http::http::header::SET_COOKIE;
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use tokengate_handlers::{jwks, login, logout, me, password, refresh};
use tokengate_testing::memory::MemoryRig;

macro_rules! event {
    ($file:literal) => {
        include_str!(concat!("../../../events/", $file))
    };
}

fn fill(text: &str, access: &str, refresh: &str) -> String {
    let sid = refresh.split('.').next().unwrap_or("");
    text.replace("ACCESS_TOKEN", access)
        .replace("REFRESH_TOKEN", refresh)
        .replace("SESSION_ID", sid)
}

fn request(text: &str) -> Request {
    // The real REST API proxy event type must accept the file as it is.
    serde_json::from_str::<ApiGatewayProxyRequest>(text).expect("ApiGatewayProxyRequest");
    lambda_http::request::from_str(text).expect("lambda_http request")
}

fn json(resp: &Response<Body>) -> Value {
    serde_json::from_slice(resp.body().as_ref()).unwrap()
}

fn cookie_token(resp: &Response<Body>) -> String {
    let c = resp.headers().get(SET_COOKIE).unwrap().to_str().unwrap();
    c.split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

/// Logs in through `events/login.json`: (access token, refresh token from the cookie).
async fn web_login(rig: &MemoryRig) -> (String, String) {
    let resp = login::handle(&rig.login, request(event!("login.json")))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    (
        json(&resp)["access_token"].as_str().unwrap().to_owned(),
        cookie_token(&resp),
    )
}

#[tokio::test]
async fn login_events() {
    let rig = MemoryRig::new().await;
    web_login(&rig).await;
    let resp = login::handle(&rig.login, request(event!("login-native.json")))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(json(&resp)["refresh_token"].is_string());
}

#[tokio::test]
async fn refresh_events() {
    let rig = MemoryRig::new().await;
    let (access, refresh_token) = web_login(&rig).await;
    let text = fill(event!("refresh-cookie.json"), &access, &refresh_token);
    let resp = refresh::handle(&rig.refresh, request(&text)).await.unwrap();
    assert_eq!(resp.status(), 200, "{:?}", resp.body());
    let rotated = cookie_token(&resp);
    let text = fill(event!("refresh-body.json"), &access, &rotated);
    let resp = refresh::handle(&rig.refresh, request(&text)).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(json(&resp)["refresh_token"].is_string());
}

#[tokio::test]
async fn logout_event() {
    let rig = MemoryRig::new().await;
    let (access, refresh_token) = web_login(&rig).await;
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
async fn password_event() {
    let rig = MemoryRig::new().await;
    let (access, refresh_token) = web_login(&rig).await;
    // The rig's alice has the event's current password.
    let text = fill(event!("password.json"), &access, &refresh_token);
    let resp = password::handle(&rig.password_change(), request(&text))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{:?}", resp.body());
    assert!(json(&resp)["access_token"].is_string());
}

#[tokio::test]
async fn jwks_and_me_events() {
    let rig = MemoryRig::new().await;
    request(event!("jwks.json"));
    let resp = jwks::response(&rig.keyring).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(json(&resp)["keys"][0]["kid"], "test-key");

    let resp = me::handle(&[], request(event!("me.json"))).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(json(&resp)["sub"], "u-alice");
    assert_eq!(json(&resp)["roles"], serde_json::json!(["reader"]));
}

#[tokio::test]
async fn authorizer_events() {
    let rig = MemoryRig::new().await;
    let (access, refresh_token) = web_login(&rig).await;
    let auth = rig.authorizer("GET /api/me=");
    let token = fill(event!("authorizer-token.json"), &access, &refresh_token);
    serde_json::from_str::<ApiGatewayCustomAuthorizerRequest>(&token).unwrap();
    let request_ev = fill(event!("authorizer-request.json"), &access, &refresh_token);
    serde_json::from_str::<ApiGatewayCustomAuthorizerRequestTypeRequest>(&request_ev).unwrap();
    let v2 = fill(event!("authorizer-http-v2.json"), &access, &refresh_token);
    serde_json::from_str::<ApiGatewayV2CustomAuthorizerV2Request>(&v2).unwrap();

    for text in [token, request_ev] {
        let resp = auth
            .handle(serde_json::from_str(&text).unwrap())
            .await
            .unwrap();
        assert_eq!(resp["context"]["sub"], "u-alice");
        assert_eq!(resp["policyDocument"]["Statement"][0]["Effect"], "Allow");
    }
    let resp = auth
        .handle(serde_json::from_str(&v2).unwrap())
        .await
        .unwrap();
    assert_eq!(resp["isAuthorized"], true);
}

#[tokio::test]
async fn preflight_events() {
    let rig = MemoryRig::new().await;
    let allowed = rig.refresh.config.allowed_origins.clone();
    let refresh_preflight =
        refresh::handle(&rig.refresh, request(event!("preflight-refresh.json")))
            .await
            .unwrap();
    let me_preflight = me::handle(&allowed, request(event!("preflight-me.json")))
        .await
        .unwrap();
    for (resp, credentials) in [(refresh_preflight, Some("true")), (me_preflight, None)] {
        assert_eq!(resp.status(), 204);
        let h = resp.headers();
        assert_eq!(h["access-control-allow-origin"], "https://app.example.com");
        assert_eq!(
            h.get("access-control-allow-credentials")
                .map(|v| v.to_str().unwrap()),
            credentials
        );
    }
}
