//! The password change on the emulator: hash and token version change in one transaction, so
//! every other session and access token ends at once (the authorizer decides fresh, as with
//! its cache off), the old password stops working and the new one works.

use serde_json::json;
use tokengate_domain::login::LoginAttempt;
use tokengate_domain::password_change::PasswordChangeRequest;
use tokengate_domain::{ErrorCode, Password};
use tokengate_handlers::authorizer::AuthorizerError;

use crate::stack::Stack;

const NEW: &str = "fjord-quartz-mellow-49";

fn request(current: &str, new: &str) -> PasswordChangeRequest {
    PasswordChangeRequest {
        client_id: String::new(),
        scope: String::new(),
        user_id: "u-alice".to_owned(),
        current_password: Password::new(current),
        new_password: new.to_owned(),
        source_ip: "192.0.2.10".to_owned(),
        device: None,
    }
}

async fn logs_in(stack: &Stack, password: &str) -> Result<(), ErrorCode> {
    let attempt = LoginAttempt {
        ask: Default::default(),
        username: "alice".into(),
        password: Password::new(password),
        source_ip: "192.0.2.11".into(),
        device: None,
    };
    stack
        .login
        .login(attempt)
        .await
        .map(drop)
        .map_err(|e| e.code)
}

#[tokio::test]
async fn a_password_change_ends_every_other_session_and_token_and_swaps_the_password() {
    // Arrange: alice on two devices.
    let stack = Stack::start().await;
    let other = stack.login_alice().await;
    let this = stack.login_alice().await;
    let token_event = |token: &str| {
        json!({
            "type": "TOKEN",
            "authorizationToken": format!("Bearer {token}"),
            "methodArn": "arn:aws:execute-api:us-east-1:123456789012:api123/v1/GET/api/me",
        })
    };

    // Act
    let weak = stack
        .password
        .change(request("correct horse", "password123"))
        .await;
    let wrong = stack
        .password
        .change(request("not her password", NEW))
        .await;
    let grant = stack
        .password
        .change(request("correct horse", NEW))
        .await
        .expect("the change succeeds");

    // Assert
    assert_eq!(weak.unwrap_err().code, ErrorCode::WeakPassword);
    assert_eq!(wrong.unwrap_err().code, ErrorCode::InvalidCredentials);
    let user = stack.item("user#alice").await.expect("user item");
    let principal = stack
        .item("principal#u-alice")
        .await
        .expect("principal item");
    for item in [&user, &principal] {
        assert_eq!(
            item["token_version"].as_n().unwrap(),
            "2",
            "one bump, both items"
        );
    }
    assert!(stack
        .authorizer
        .handle(token_event(&grant.access.token))
        .await
        .is_ok());
    for old in [&other, &this] {
        let refused = stack
            .authorizer
            .handle(token_event(&old.access.token))
            .await;
        assert!(matches!(refused, Err(AuthorizerError::Unauthorized)));
        let refresh = stack
            .refresh
            .refresh(&old.refresh.expose(), "192.0.2.10")
            .await;
        assert!(refresh.is_err(), "a session of the old password refreshed");
    }
    assert!(stack
        .refresh
        .refresh(&grant.refresh.expose(), "192.0.2.10")
        .await
        .is_ok());
    assert_eq!(
        logs_in(&stack, "correct horse").await,
        Err(ErrorCode::InvalidCredentials)
    );
    assert_eq!(logs_in(&stack, NEW).await, Ok(()));
}
