//! Clients, scopes and resource servers on the emulator: the session item keeps the grant
//! (DynamoDB), tokens are KMS-signed, and a token for one resource server is refused by
//! another's authorizer.

use serde_json::json;
use tokengate_domain::clients::{Clients, GrantRequest};
use tokengate_domain::login::LoginAttempt;
use tokengate_domain::{ErrorCode, Password};
use tokengate_handlers::authorizer::AuthorizerError;

use crate::stack::{Stack, AUDIENCE, SOURCE_IP};

const REPORTS: &str = "https://reports.example.com";

async fn stack() -> Stack {
    Stack::start_with(|auth| {
        auth.clients = Clients::parse(
            "orders:read=;reports:read=",
            &format!(
                "id=web,kind=browser,scopes=orders:read reports:read,default=orders:read,\
                 resources={AUDIENCE} {REPORTS}"
            ),
            &auth.audience,
        )
        .expect("valid clients");
    })
    .await
}

async fn login(stack: &Stack, scope: &str, resource: &str) -> tokengate_domain::login::Grant {
    stack
        .login
        .login(LoginAttempt {
            ask: GrantRequest {
                client_id: Some("web".into()),
                scope: Some(scope.into()),
                resource: Some(resource.into()),
            },
            username: "alice".into(),
            password: Password::new("correct horse"),
            source_ip: SOURCE_IP.into(),
            device: None,
        })
        .await
        .expect("alice logs in")
}

fn token_event(token: &str) -> serde_json::Value {
    json!({
        "type": "TOKEN",
        "authorizationToken": format!("Bearer {token}"),
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:api123/v1/GET/api/me",
    })
}

#[tokio::test]
async fn a_token_for_resource_a_is_refused_by_resource_bs_authorizer() {
    let stack = stack().await;
    let for_reports = login(&stack, "reports:read", REPORTS).await;
    // This stack's authorizer (aud `api`) refuses it; the reports deployment's accepts it.
    let refused = stack
        .authorizer
        .handle(token_event(&for_reports.access.token))
        .await
        .unwrap_err();
    assert!(matches!(refused, AuthorizerError::Unauthorized));
    let reports = stack.authorizer_for(REPORTS).await;
    let answer = reports
        .handle(token_event(&for_reports.access.token))
        .await
        .expect("allowed");
    assert_eq!(answer["context"]["scope"], "reports:read");
    assert_eq!(answer["context"]["client_id"], "web");
    let for_api = login(&stack, "orders:read", AUDIENCE).await;
    assert!(stack
        .authorizer
        .handle(token_event(&for_api.access.token))
        .await
        .is_ok());
}

#[tokio::test]
async fn the_session_item_keeps_the_grant_and_refresh_narrows_within_it() {
    let stack = stack().await;
    let g = login(&stack, "orders:read reports:read", AUDIENCE).await;
    let item = stack
        .item(&format!("session#{}", g.refresh.sid()))
        .await
        .expect("session item");
    let s = |k: &str| item[k].as_s().unwrap().clone();
    assert_eq!(
        (s("client_id"), s("scope"), s("resource")),
        (
            "web".into(),
            "orders:read reports:read".into(),
            AUDIENCE.into()
        )
    );
    let narrowed = stack
        .refresh
        .refresh_as(
            &g.refresh.expose(),
            SOURCE_IP,
            &GrantRequest {
                scope: Some("reports:read".into()),
                ..Default::default()
            },
        )
        .await
        .expect("narrowed");
    assert_eq!(narrowed.access.scope, "reports:read");
    let claims = stack
        .verifier
        .verify(&narrowed.access.token, stack.now())
        .expect("verifies");
    assert_eq!(claims.client_id.as_deref(), Some("web"));
    let widened = stack
        .refresh
        .refresh_as(
            &narrowed.refresh.expose(),
            SOURCE_IP,
            &GrantRequest {
                scope: Some("orders:read admin:all".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(widened.code, ErrorCode::InvalidScope);
    let back = stack
        .refresh
        .refresh(&narrowed.refresh.expose(), SOURCE_IP)
        .await
        .expect("the whole original grant again");
    assert_eq!(back.access.scope, "orders:read reports:read");
}
