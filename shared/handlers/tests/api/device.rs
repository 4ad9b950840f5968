//! The device credential over HTTP (`POST /auth/login`, `POST /auth/password`): a browser gets
//! it as a second cookie built as the refresh cookie is, a native client in the body; sent back,
//! it lets its holder through a lockout an attacker holds on the account.

use lambda_http::http::header::{RETRY_AFTER, SET_COOKIE};
use lambda_http::{Body, Response};
use serde_json::{json, Value};
use tokengate_domain::login::LoginAttempt;
use tokengate_domain::Password;
use tokengate_handlers::{login, password};
use tokengate_testing::memory::MemoryRig;

use crate::support::*;

/// Every `Set-Cookie` header of an answer.
fn set_cookies(resp: &Response<Body>) -> Vec<String> {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// `__Secure-device=<value>` from an answer's cookies.
fn device_cookie(resp: &Response<Body>) -> String {
    let cookies = set_cookies(resp);
    let device = cookies
        .iter()
        .find(|c| c.starts_with("__Secure-device="))
        .expect("a device cookie");
    device.split(';').next().unwrap().to_owned()
}

/// Three failures from three networks: the ceiling (lowered to 3) holds the account.
async fn hold_the_account(rig: &mut MemoryRig) {
    rig.login.config.account_failure_ceiling = 3;
    for i in 0..3 {
        let attempt = LoginAttempt {
            ask: Default::default(),
            username: "alice".into(),
            password: Password::new("a guess"),
            source_ip: format!("10.0.{i}.1"),
            device: None,
        };
        rig.login.login(attempt).await.unwrap_err();
    }
}

fn login_body(extra: Value) -> String {
    let mut body = json!({"username": "alice", "password": MemoryRig::PASSWORD});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body.to_string()
}

#[tokio::test]
async fn login_sets_the_device_cookie_after_the_refresh_cookie_with_the_same_attributes() {
    let rig = MemoryRig::new().await;

    let resp = web_login(&rig).await;

    let cookies = set_cookies(&resp);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    assert!(cookies[0].starts_with("__Secure-refresh_token="));
    assert!(
        cookies[1].starts_with("__Secure-device=dv1."),
        "{cookies:?}"
    );
    assert!(
        cookies[1].ends_with("; HttpOnly; Secure; SameSite=Strict; Path=/auth; Max-Age=7776000"),
        "{cookies:?}"
    );
    assert!(body_json(&resp).get("device").is_none());
}

#[tokio::test]
async fn native_login_returns_the_device_credential_in_the_body_and_sets_no_cookie() {
    let rig = MemoryRig::new().await;

    let resp = native_login(&rig).await;

    assert!(body_json(&resp)["device"]
        .as_str()
        .unwrap()
        .starts_with("dv1."));
    assert!(set_cookies(&resp).is_empty());
}

#[tokio::test]
async fn the_device_cookie_or_body_field_lets_the_owner_through_a_held_account() {
    let mut rig = MemoryRig::new().await;
    let cookie = device_cookie(&web_login(&rig).await);
    let native = body_json(&native_login(&rig).await)["device"]
        .as_str()
        .unwrap()
        .to_owned();
    hold_the_account(&mut rig).await;
    let headers = |cookie: Option<&str>| {
        let mut h = json_headers();
        if let Some(c) = cookie {
            h["cookie"] = json!(c);
        }
        h
    };
    let call = |headers: Value, body: String| {
        let req = event("POST", "/auth/login", headers, Some(&body));
        login::handle(&rig.login, req)
    };

    let by_cookie = call(headers(Some(&cookie)), login_body(json!({})))
        .await
        .unwrap();
    let by_body = call(
        headers(None),
        login_body(json!({"client": "native", "device": native})),
    )
    .await
    .unwrap();
    let tossed = call(
        headers(Some(&format!("{cookie}; __Secure-device=dv1.x.y"))),
        login_body(json!({})),
    )
    .await
    .unwrap();
    let without = call(headers(None), login_body(json!({}))).await.unwrap();

    assert_eq!(by_cookie.status(), 200);
    assert_ne!(device_cookie(&by_cookie), cookie, "a fresh credential");
    assert_eq!(by_body.status(), 200);
    assert_error(&tossed, 423, "account_locked");
    assert_error(&without, 423, "account_locked");
    assert_eq!(without.headers().get(RETRY_AFTER).unwrap(), "900");
}

#[tokio::test]
async fn a_password_change_counts_on_the_presented_device_and_sets_a_fresh_device_cookie() {
    let mut rig = MemoryRig::new().await;
    let cookie = device_cookie(&web_login(&rig).await);
    hold_the_account(&mut rig).await;
    let mut ev: Value = serde_json::from_str(event!("password.json")).unwrap();
    ev["body"] = json!(json!({
        "current_password": MemoryRig::PASSWORD,
        "new_password": "fjord-quartz-mellow-49",
    })
    .to_string());
    ev["headers"]["cookie"] = json!(cookie);
    ev["multiValueHeaders"]["cookie"] = json!([cookie]);
    let mut service = rig.password_change();
    service.login.config.account_failure_ceiling = 3;

    let resp = password::handle(
        &service,
        lambda_http::request::from_str(&ev.to_string()).unwrap(),
    )
    .await
    .unwrap();

    assert_eq!(resp.status(), 200, "{:?}", resp.body());
    let fresh = device_cookie(&resp);
    assert_ne!(fresh, cookie);
    let cookies = set_cookies(&resp);
    assert!(
        cookies[1].ends_with("; Path=/v1/auth; Max-Age=7776000"),
        "{cookies:?}"
    );
}
