//! `POST /auth/password` over its API Gateway event (`events/password.json`) on the in-memory
//! twins: the answer, the cookie, and what happens to the old password, sessions and tokens.

use lambda_http::http::header::SET_COOKIE;
use lambda_http::Request;
use serde_json::{json, Value};
use tokengate_domain::login::LoginAttempt;
use tokengate_domain::Password;
use tokengate_handlers::authorizer::AuthorizerError;
use tokengate_handlers::password;
use tokengate_testing::memory::MemoryRig;

use crate::support::*;

const NEW: &str = "fjord-quartz-mellow-49";

/// The sample event with `body`, for the caller `sub` as the authorizer passes it on.
fn event(sub: Option<&str>, body: Value) -> Request {
    let mut ev: Value = serde_json::from_str(event!("password.json")).expect("JSON event");
    ev["body"] = Value::String(body.to_string());
    match sub {
        Some(sub) => ev["requestContext"]["authorizer"]["sub"] = json!(sub),
        None => {
            ev["requestContext"]
                .as_object_mut()
                .expect("context")
                .remove("authorizer");
        }
    }
    lambda_http::request::from_str(&ev.to_string()).expect("valid API Gateway event")
}

fn change(current: &str, new: &str) -> Value {
    json!({ "current_password": current, "new_password": new })
}

async fn logs_in(rig: &MemoryRig, password: &str) -> bool {
    let attempt = LoginAttempt {
        ask: Default::default(),
        username: "alice".into(),
        password: Password::new(password),
        source_ip: "192.0.2.99".into(),
        device: None,
    };
    rig.login.login(attempt).await.is_ok()
}

#[tokio::test]
async fn a_password_change_answers_a_fresh_pair_and_ends_every_other_session_and_token() {
    // Arrange: alice signed in on two devices.
    let rig = MemoryRig::new().await;
    let phone = rig.login_alice().await;
    let laptop = rig.login_alice().await;
    let authorizer = rig.authorizer("GET /api/me=");
    let service = rig.password_change();

    // Act
    let resp = password::handle(
        &service,
        event(Some("u-alice"), change(MemoryRig::PASSWORD, NEW)),
    )
    .await
    .unwrap();

    // Assert: a token pair for this client, the refresh token in the cookie as at login.
    assert_eq!(resp.status(), 200, "{:?}", resp.body());
    let fresh = body_json(&resp)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let cookie = resp.headers().get(SET_COOKIE).unwrap().to_str().unwrap();
    assert!(cookie.starts_with("__Secure-refresh_token="), "{cookie}");
    let token_event = |token: &str| {
        json!({
            "type": "TOKEN",
            "authorizationToken": format!("Bearer {token}"),
            "methodArn": "arn:aws:execute-api:us-east-1:123456789012:api123/v1/GET/api/me",
        })
    };
    assert!(authorizer.handle(token_event(&fresh)).await.is_ok());
    for old in [&phone, &laptop] {
        let refused = authorizer.handle(token_event(&old.access.token)).await;
        assert!(
            matches!(refused, Err(AuthorizerError::Unauthorized)),
            "old access token"
        );
        let refresh = rig
            .refresh
            .refresh(&old.refresh.expose(), "192.0.2.10")
            .await;
        assert!(refresh.is_err(), "old session still refreshes");
    }
    assert!(
        !logs_in(&rig, MemoryRig::PASSWORD).await,
        "the old password still works"
    );
    assert!(logs_in(&rig, NEW).await, "the new password does not work");
}

#[tokio::test]
async fn a_wrong_current_password_is_a_failed_login_and_changes_nothing() {
    let rig = MemoryRig::new().await;
    let service = rig.password_change();
    let threshold = rig.login.config.lockout_threshold;

    for _ in 0..threshold {
        let resp = password::handle(&service, event(Some("u-alice"), change("wrong guess", NEW)))
            .await
            .unwrap();
        assert_error(&resp, 401, "invalid_credentials");
    }
    // The failures counted against the lockout: now even the right password is refused.
    let locked = password::handle(
        &service,
        event(Some("u-alice"), change(MemoryRig::PASSWORD, NEW)),
    )
    .await
    .unwrap();

    assert_error(&locked, 423, "account_locked");
    assert!(locked.headers().contains_key("retry-after"));
    let alice = rig.store.user("alice").expect("alice exists");
    assert_eq!(alice.token_version, 1, "nothing was bumped");
}

#[tokio::test]
async fn a_weak_new_password_is_refused_and_changes_nothing() {
    let rig = MemoryRig::new().await;
    let service = rig.password_change();
    let before = rig.store.user("alice").expect("alice exists");

    for weak in ["password123", "alice", "short", "alice2024!"] {
        let resp = password::handle(
            &service,
            event(Some("u-alice"), change(MemoryRig::PASSWORD, weak)),
        )
        .await
        .unwrap();
        assert_error(&resp, 400, "weak_password");
    }

    assert_eq!(rig.store.user("alice"), Some(before));
    assert!(logs_in(&rig, MemoryRig::PASSWORD).await);
}

#[tokio::test]
async fn without_an_authorizer_context_nobody_is_identified_and_nothing_changes() {
    let rig = MemoryRig::new().await;
    let service = rig.password_change();
    let before = rig.store.user("alice").expect("alice exists");

    let anonymous = password::handle(&service, event(None, change(MemoryRig::PASSWORD, NEW)))
        .await
        .unwrap();
    let unknown = password::handle(
        &service,
        event(Some("u-nobody"), change(MemoryRig::PASSWORD, NEW)),
    )
    .await
    .unwrap();
    let malformed = password::handle(
        &service,
        event(Some("u-alice"), json!({ "new_password": NEW })),
    )
    .await
    .unwrap();

    assert_error(&anonymous, 401, "invalid_credentials");
    assert_error(&unknown, 401, "invalid_credentials");
    assert_error(&malformed, 400, "invalid_request");
    assert_eq!(rig.store.user("alice"), Some(before));
}

#[tokio::test]
async fn password_event() {
    let rig = MemoryRig::new().await;
    let (access, refresh_token) = login_tokens(&rig).await;
    // The rig's alice has the event's current password.
    let text = fill(event!("password.json"), &access, &refresh_token);
    let resp = password::handle(&rig.password_change(), request(&text))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{:?}", resp.body());
    assert!(body_json(&resp)["access_token"].is_string());
}
