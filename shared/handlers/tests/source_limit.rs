//! The per-source-network limit of refresh and logout at the handler: 429 `rate_limited` with
//! `Retry-After`, counted on API Gateway's `sourceIp` and never on `X-Forwarded-For`. Requests
//! are the sample events of `events/`, with the placeholders filled in.

use lambda_http::http::header::{RETRY_AFTER, SET_COOKIE};
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use tokengate_domain::RefreshToken;
use tokengate_handlers::{logout, refresh};
use tokengate_testing::memory::{MemoryRig, RIG_EPOCH};

const LIMIT: u64 = 3;

macro_rules! event {
    ($file:literal) => {
        include_str!(concat!("../../../events/", $file))
    };
}

/// The event `text` with its tokens filled in, from `source_ip`, claiming to forward for a
/// different address each time (which must not matter).
fn request(text: &str, access: &str, refresh: &str, source_ip: &str, forwarded: &str) -> Request {
    let text = text
        .replace("ACCESS_TOKEN", access)
        .replace("REFRESH_TOKEN", refresh);
    let mut ev: Value = serde_json::from_str(&text).expect("the sample event is JSON");
    ev["requestContext"]["identity"]["sourceIp"] = source_ip.into();
    ev["headers"]["X-Forwarded-For"] = forwarded.into();
    ev["multiValueHeaders"]["X-Forwarded-For"] = serde_json::json!([forwarded]);
    lambda_http::request::from_str(&ev.to_string()).expect("lambda_http request")
}

fn error_code(resp: &Response<Body>) -> String {
    let body: Value = serde_json::from_slice(resp.body().as_ref()).expect("JSON body");
    body["error"].as_str().expect("an error code").to_owned()
}

async fn rig() -> MemoryRig {
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
        let req = request(
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

    let req = request(
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
    let req = request(
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
async fn logout_answers_429_with_retry_after_and_ends_nothing() {
    let rig = rig().await;
    let g = rig.login_alice().await;
    let allowed = rig.logout.config.allowed_origins.clone();
    let made_up = RefreshToken::generate().expose();
    for i in 0..LIMIT {
        let req = request(
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
    let req = request(
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
    let req = request(
        event!("refresh-cookie.json"),
        "",
        &g.refresh.expose(),
        "2001:db8:5:5::1",
        "",
    );
    let resp = refresh::handle(&rig.refresh, req).await.unwrap();
    assert_eq!(resp.status(), 200, "{:?}", resp.body());
}
