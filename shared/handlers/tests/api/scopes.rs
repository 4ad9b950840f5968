//! Clients, scopes and resource servers over `POST /auth/login` and `POST /auth/refresh`
//! events: the grant in the token and the response, the RFC 6749 / RFC 8707 errors, and a
//! token for one resource server refused by another's authorizer.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::{json, Value};
use tokengate_domain::clients::Clients;
use tokengate_domain::ports::{User, UserStatus, UserStore};
use tokengate_domain::{Password, PasswordHasher, Username};
use tokengate_handlers::authorizer::AuthorizerError;
use tokengate_handlers::{login, refresh};
use tokengate_testing::memory::MemoryRig;

use crate::support::*;

const ORDERS: &str = "https://orders.example.com";
const REPORTS: &str = "https://reports.example.com";

/// Two clients and two resource servers; `orders:write` only for `admin|ops`.
async fn rig() -> MemoryRig {
    let rig = MemoryRig::configured(|auth| {
        auth.clients = Clients::parse(
            "orders:read=;orders:write=admin|ops;reports:read=",
            &format!(
                "id=web,kind=browser,scopes=orders:read orders:write reports:read,\
                 default=orders:read,resources={ORDERS} {REPORTS};\
                 id=cli,kind=native,scopes=orders:read,default=orders:read,resources={ORDERS}"
            ),
            MemoryRig::AUDIENCE,
        )
        .expect("valid clients");
    })
    .await;
    // An `ops` user beside alice (`reader`).
    let hasher = PasswordHasher::new(rig.config.auth.hash_params).unwrap();
    rig.store
        .create_user(&User {
            username: Username::parse("olga").unwrap(),
            user_id: "u-olga".into(),
            password_hash: hasher.hash(&Password::new(MemoryRig::PASSWORD)).unwrap(),
            roles: vec!["ops".into()],
            status: UserStatus::Active,
            token_version: 1,
        })
        .await
        .unwrap();
    rig
}

async fn login_as(
    rig: &MemoryRig,
    user: &str,
    extra: Value,
) -> lambda_http::Response<lambda_http::Body> {
    let mut body = json!({"username": user, "password": MemoryRig::PASSWORD});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let req = event(
        "POST",
        "/auth/login",
        json_headers(),
        Some(&body.to_string()),
    );
    login::handle(&rig.login, req).await.unwrap()
}

async fn refresh_with(rig: &MemoryRig, body: Value) -> lambda_http::Response<lambda_http::Body> {
    let req = event(
        "POST",
        "/auth/refresh",
        json_headers(),
        Some(&body.to_string()),
    );
    refresh::handle(&rig.refresh, req).await.unwrap()
}

fn claims(resp: &lambda_http::Response<lambda_http::Body>) -> Value {
    let token = body_json(resp)["access_token"].as_str().unwrap().to_owned();
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn rfc9068_required_claims_are_present() {
    let rig = rig().await;
    let resp = login_as(&rig, "alice", json!({"client_id": "cli"})).await;
    assert_eq!(resp.status(), 200);
    let c = claims(&resp);
    for claim in [
        "iss",
        "exp",
        "aud",
        "sub",
        "client_id",
        "iat",
        "jti",
        "scope",
    ] {
        assert!(c.get(claim).is_some(), "{claim} missing from {c}");
    }
    assert_eq!(
        (c["client_id"].as_str(), c["aud"].as_str()),
        (Some("cli"), Some(ORDERS))
    );
    // The default client's token: as before clients existed, plus `client_id`.
    let plain = web_login(&rig).await;
    let c = claims(&plain);
    assert_eq!(
        (c["client_id"].as_str(), c["aud"].as_str()),
        (Some("default"), Some("api"))
    );
    assert!(c.get("scope").is_none());
    assert_eq!(body_json(&plain)["scope"], "");
}

#[tokio::test]
async fn the_default_set_is_granted_when_no_scope_is_asked() {
    let rig = rig().await;
    let resp = login_as(&rig, "alice", json!({"client_id": "cli"})).await;
    assert_eq!(body_json(&resp)["scope"], "orders:read");
    assert_eq!(claims(&resp)["scope"], "orders:read");
    // A registered native client gets its refresh token in the body without saying so.
    assert!(body_json(&resp)["refresh_token"].is_string());
}

#[tokio::test]
async fn roles_limit_scopes_and_the_narrowed_grant_is_echoed() {
    let rig = rig().await;
    let ask = json!({"client_id": "web", "scope": "orders:read orders:write"});
    let reader = login_as(&rig, "alice", ask.clone()).await;
    assert_eq!(reader.status(), 200);
    assert_eq!(body_json(&reader)["scope"], "orders:read");
    let ops = login_as(&rig, "olga", ask).await;
    assert_eq!(body_json(&ops)["scope"], "orders:read orders:write");
    assert_eq!(claims(&ops)["scope"], "orders:read orders:write");
}

#[tokio::test]
async fn nothing_left_of_the_requested_scope_is_invalid_scope() {
    let rig = rig().await;
    let resp = login_as(
        &rig,
        "alice",
        json!({"client_id": "web", "scope": "orders:write"}),
    )
    .await;
    assert_error(&resp, 400, "invalid_scope");
}

#[tokio::test]
async fn an_unregistered_client_is_invalid_client() {
    let rig = rig().await;
    let resp = login_as(&rig, "alice", json!({"client_id": "evil"})).await;
    assert_error(&resp, 400, "invalid_client");
}

#[tokio::test]
async fn a_resource_outside_the_clients_is_invalid_target() {
    let rig = rig().await;
    let resp = login_as(
        &rig,
        "alice",
        json!({"client_id": "cli", "resource": REPORTS}),
    )
    .await;
    assert_error(&resp, 400, "invalid_target");
    let ok = login_as(
        &rig,
        "alice",
        json!({"client_id": "web", "resource": REPORTS}),
    )
    .await;
    assert_eq!(claims(&ok)["aud"], REPORTS);
}

/// A login through the native client `cli`: its refresh token comes back in the body.
async fn native_session(rig: &MemoryRig, user: &str, scope: &str) -> String {
    let resp = login_as(rig, user, json!({"client_id": "cli", "scope": scope})).await;
    assert_eq!(resp.status(), 200);
    body_json(&resp)["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn refresh_narrows_and_may_come_back_to_the_original_grant() {
    let rig = MemoryRig::configured(|auth| {
        auth.clients = Clients::parse(
            "a=;b=",
            "id=app,kind=native,scopes=a b,default=a b,resources=https://r.example",
            MemoryRig::AUDIENCE,
        )
        .unwrap();
    })
    .await;
    let token = native_session_app(&rig).await;
    let narrowed = refresh_with(&rig, json!({"refresh_token": token, "scope": "b"})).await;
    assert_eq!(narrowed.status(), 200);
    assert_eq!(body_json(&narrowed)["scope"], "b");
    assert_eq!(claims(&narrowed)["scope"], "b");
    let next = body_json(&narrowed)["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let back = refresh_with(&rig, json!({"refresh_token": next, "client_id": "app"})).await;
    assert_eq!(body_json(&back)["scope"], "a b");
}

async fn native_session_app(rig: &MemoryRig) -> String {
    let resp = login_as(rig, "alice", json!({"client_id": "app"})).await;
    assert_eq!(body_json(&resp)["scope"], "a b");
    body_json(&resp)["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn refresh_that_widens_is_invalid_scope_and_spends_nothing() {
    let rig = rig().await;
    let token = native_session(&rig, "olga", "orders:read").await;
    let (signed, maced) = (rig.signer.calls(), rig.mac.calls());
    let wider = refresh_with(
        &rig,
        json!({"refresh_token": token, "scope": "orders:read orders:write"}),
    )
    .await;
    assert_error(&wider, 400, "invalid_scope");
    // Refused before KMS: no signature, no MAC.
    assert_eq!((rig.signer.calls(), rig.mac.calls()), (signed, maced));
    // The token is still current: refused before anything was written.
    let same = refresh_with(&rig, json!({"refresh_token": token})).await;
    assert_eq!(same.status(), 200);
    assert_eq!(body_json(&same)["scope"], "orders:read");
}

#[tokio::test]
async fn refresh_by_another_client_is_invalid_grant() {
    let rig = rig().await;
    let token = native_session(&rig, "alice", "orders:read").await;
    let other = refresh_with(&rig, json!({"refresh_token": token, "client_id": "web"})).await;
    assert_error(&other, 400, "invalid_grant");
    assert_eq!(rig.mac.calls(), 0, "refused before KMS");
    let unknown = refresh_with(&rig, json!({"refresh_token": token, "client_id": "evil"})).await;
    assert_error(&unknown, 400, "invalid_client");
}

#[tokio::test]
async fn a_token_for_resource_a_is_refused_by_resource_bs_authorizer() {
    let rig = rig().await;
    let resp = login_as(
        &rig,
        "alice",
        json!({"client_id": "web", "resource": REPORTS}),
    )
    .await;
    let token = body_json(&resp)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let event = json!({
        "type": "TOKEN",
        "authorizationToken": format!("Bearer {token}"),
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:api123/v1/GET/api/me",
    });
    let orders = rig.authorizer_for(ORDERS, "", "").await;
    let refused = orders.handle(event.clone()).await.unwrap_err();
    assert!(matches!(refused, AuthorizerError::Unauthorized));
    let reports = rig.authorizer_for(REPORTS, "", "").await;
    assert!(reports.handle(event).await.is_ok());
}

#[tokio::test]
async fn a_route_scope_rule_refuses_a_token_without_the_scope() {
    let rig = rig().await;
    let auth = rig
        .authorizer_for(
            ORDERS,
            "",
            "POST /api/orders=orders:write; * /api/orders/*=orders:read",
        )
        .await;
    let reader = login_as(&rig, "alice", json!({"client_id": "web"})).await;
    let reader = body_json(&reader)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let ops = login_as(
        &rig,
        "olga",
        json!({"client_id": "web", "scope": "orders:read orders:write"}),
    )
    .await;
    let ops = body_json(&ops)["access_token"].as_str().unwrap().to_owned();
    let decide = |token: &str, method: &str, path: &str| {
        let (auth, token, method, path) = (
            auth.clone(),
            token.to_owned(),
            method.to_owned(),
            path.to_owned(),
        );
        async move {
            auth.decide(Some(&format!("Bearer {token}")), &method, &path)
                .await
                .unwrap()
        }
    };
    use tokengate_handlers::authorizer::Verdict;
    assert!(matches!(
        decide(&reader, "GET", "/api/orders/7").await,
        Verdict::Allow(_)
    ));
    assert!(matches!(
        decide(&reader, "POST", "/api/orders").await,
        Verdict::Forbidden(_)
    ));
    assert!(matches!(
        decide(&ops, "POST", "/api/orders").await,
        Verdict::Allow(_)
    ));
    // The REST answer for the whole API denies exactly the scope rule's routes, and the
    // function's context carries the scope.
    let answer = auth
        .handle(token_event(&reader, "GET", "/api/orders/7"))
        .await
        .unwrap();
    let statements = answer["policyDocument"]["Statement"].as_array().unwrap();
    let denied = statements
        .iter()
        .find(|s| s["Effect"] == "Deny")
        .expect("a Deny statement");
    assert!(
        denied["Resource"].to_string().contains("POST/api/orders"),
        "{denied}"
    );
    assert_eq!(answer["context"]["scope"], "orders:read");
    assert_eq!(answer["context"]["client_id"], "web");
}

#[tokio::test]
async fn a_password_change_keeps_the_callers_client_and_scope() {
    let rig = rig().await;
    let mut ev: Value = serde_json::from_str(event!("password.json")).expect("JSON event");
    ev["body"] = Value::String(
        json!({"current_password": MemoryRig::PASSWORD, "new_password": "a much newer passphrase"})
            .to_string(),
    );
    let context = &mut ev["requestContext"]["authorizer"];
    context["sub"] = json!("u-alice");
    context["client_id"] = json!("web");
    context["scope"] = json!("orders:read reports:read");
    let req = lambda_http::request::from_str(&ev.to_string()).expect("valid event");
    let resp = tokengate_handlers::password::handle(&rig.password_change(), req)
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{:?}", resp.body());
    assert_eq!(body_json(&resp)["scope"], "orders:read reports:read");
    let c = claims(&resp);
    assert_eq!(
        (c["client_id"].as_str(), c["aud"].as_str()),
        (Some("web"), Some("api"))
    );
}

#[tokio::test]
async fn the_oauth_token_endpoint_narrows_within_the_grant_of_the_sessions_client() {
    use crate::oauth::{assert_oauth_error, token_request};
    let rig = rig().await;
    let token = native_session(&rig, "olga", "orders:read").await;
    let form = |client: &str, extra: &str| {
        format!("grant_type=refresh_token&client_id={client}&refresh_token={token}{extra}")
    };
    // Another registered client: the token was not issued to it (RFC 6749 §5.2).
    assert_oauth_error(
        &token_request(&rig, &form("web", "")).await,
        400,
        "invalid_grant",
    );
    assert_oauth_error(
        &token_request(&rig, &form("evil", "")).await,
        400,
        "invalid_client",
    );
    // Wider than the original grant: invalid_scope, nothing spent.
    let wider = form("cli", "&scope=orders:read+orders:write");
    assert_oauth_error(&token_request(&rig, &wider).await, 400, "invalid_scope");
    let ok = token_request(&rig, &form("cli", "&scope=orders:read")).await;
    assert_eq!(ok.status(), 200, "{:?}", ok.body());
    assert_eq!(body_json(&ok)["scope"], "orders:read");
    assert_eq!(claims(&ok)["client_id"], "cli");
}
