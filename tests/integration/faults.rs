//! A fault-injecting proxy between the adapters and the emulator: throttling answers 503 with
//! nothing half-written; a response lost after the write committed is not mistaken for reuse.

use aws_sdk_dynamodb::types::AttributeValue;
use tokengate_claims::Algorithm;
use tokengate_domain::ErrorCode;
use tokengate_tests::faults::{Fault, FaultProxy};
use tokengate_tests::Emulator;

use crate::stack::{Stack, SOURCE_IP};

async fn proxied() -> (Stack, FaultProxy) {
    let emulator = Emulator::start().await;
    let boot = emulator.bootstrap(Algorithm::ES256).await;
    let proxy = FaultProxy::start(&emulator.url).await;
    let url = proxy.url.clone();
    (Stack::wire(emulator, boot, &url).await, proxy)
}

#[tokio::test]
async fn throttled_rotation_answers_503_and_leaves_the_family_untouched() {
    let (stack, proxy) = proxied().await;
    let g0 = stack.login_alice().await;
    // More throttles than the SDK's three attempts.
    proxy.set(Fault::Throttle {
        operation: "TransactWriteItems".into(),
        times: 3,
    });
    let e = stack
        .refresh
        .refresh(&g0.refresh.expose(), SOURCE_IP)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ServiceUnavailable);
    assert!(e.retry_after.is_some());
    let session = stack
        .item(&format!("session#{}", g0.refresh.sid()))
        .await
        .unwrap();
    assert_eq!(session["generation"].as_n().unwrap(), "0");
    assert_eq!(
        session["current_hash"].as_s().unwrap(),
        g0.refresh.hash().as_str()
    );
    // Once the throttling passes, the same token still works.
    stack
        .refresh
        .refresh(&g0.refresh.expose(), SOURCE_IP)
        .await
        .unwrap();
}

#[tokio::test]
async fn throttled_signing_at_login_leaves_no_session() {
    let (stack, proxy) = proxied().await;
    proxy.set(Fault::Throttle {
        operation: "Sign".into(),
        times: 3,
    });
    let e = stack
        .login
        .login(tokengate_domain::login::LoginAttempt {
            ask: Default::default(),
            username: "alice".into(),
            password: tokengate_domain::Password::new("correct horse"),
            source_ip: "192.0.2.1".into(),
            device: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ServiceUnavailable);
    let sdk = stack.emulator.sdk_config().await;
    let scan = aws_sdk_dynamodb::Client::new(&sdk)
        .scan()
        .table_name(&stack.boot.table)
        .send()
        .await
        .unwrap();
    let sessions = scan
        .items()
        .iter()
        .filter(
            |i| matches!(i.get("pk"), Some(AttributeValue::S(pk)) if pk.starts_with("session#")),
        )
        .count();
    assert_eq!(sessions, 0, "no session without a token handed out");
}

#[tokio::test]
async fn committed_rotation_whose_response_was_lost_is_not_reuse() {
    let (stack, proxy) = proxied().await;
    let g0 = stack.login_alice().await;
    // The rotation commits on the emulator, the answer is dropped, the SDK retries: the retry
    // finds the successor installed and must answer with it.
    proxy.set(Fault::DropResponse {
        operation: "TransactWriteItems".into(),
        times: 1,
    });
    let g1 = stack
        .refresh
        .refresh(&g0.refresh.expose(), SOURCE_IP)
        .await
        .unwrap();
    assert!(proxy.exhausted(), "the fault fired");
    let session = stack
        .item(&format!("session#{}", g0.refresh.sid()))
        .await
        .unwrap();
    assert_eq!(session["generation"].as_n().unwrap(), "1");
    assert!(!matches!(
        session.get("revoked"),
        Some(AttributeValue::Bool(true))
    ));
    assert_eq!(
        session["current_hash"].as_s().unwrap(),
        g1.refresh.hash().as_str()
    );
    stack
        .refresh
        .refresh(&g1.refresh.expose(), SOURCE_IP)
        .await
        .unwrap();
}
