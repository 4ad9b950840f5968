//! A fault-injecting proxy between the adapters and the emulator: throttling answers 503 with
//! nothing half-written; a response lost after the write committed is not mistaken for reuse; a
//! revocation and its feed entry commit together, within the revoking writes' time cap.

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

/// A revoking write gives up within its time cap (two attempts, 2 s in all): an entry it
/// appends is stamped before the send, so it commits within the authorizers' re-read window
/// or not at all (docs/revocation.md). Throttled throughout, nothing is written: neither the
/// denylist entry nor its feed entry.
#[tokio::test]
async fn a_throttled_revoking_write_gives_up_after_two_attempts_within_its_time_cap() {
    use tokengate_domain::ports::{Denylist, RevocationFeed};
    use tokengate_domain::{Clock, PortError};
    let (stack, proxy) = proxied().await;
    stack.ddb_calls.reset();
    proxy.set(Fault::Throttle {
        operation: "TransactWriteItems".into(),
        times: 10,
    });
    let until = stack.clock.now() + 900;

    let started = std::time::Instant::now();
    let err = stack.store.deny("jti-throttled", until).await.unwrap_err();
    let took = started.elapsed();

    assert!(matches!(err, PortError::Unavailable(_)), "{err:?}");
    assert_eq!(
        stack.ddb_calls.by_operation().get("TransactWriteItems"),
        Some(&(tokengate_aws::config::REVOKING_WRITE_ATTEMPTS as usize)),
        "two attempts, not the client's three"
    );
    assert!(
        took <= tokengate_aws::config::REVOKING_WRITE_TIMEOUT,
        "gave up after {took:?}"
    );
    proxy.set(Fault::None);
    assert!(stack.item("deny#jti-throttled").await.is_none());
    assert_eq!(stack.store.read_feed(0).await.unwrap(), []);
}

/// The feed entry is written in the revoking write's own transaction: when it cannot be
/// written (here its table does not exist), the revocation is not written either, so no
/// reader of the feed can miss a revocation that committed.
#[tokio::test]
async fn a_revocation_whose_feed_entry_cannot_be_written_is_not_written() {
    use tokengate_aws::{DynamoStore, Tables};
    use tokengate_domain::ports::{Denylist, SessionStore, UserStore};
    use tokengate_domain::revocation_feed::FeedLife;
    use tokengate_domain::{Clock, Username};
    let stack = Stack::start().await;
    let alice = stack.login_alice().await;
    let sid = alice.refresh.sid().to_owned();
    let sdk = stack.emulator.sdk_config().await;
    let tables = Tables {
        main: stack.boot.table.clone(),
        feed: "no-such-feed".to_owned(),
    };
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        tables,
        FeedLife::default(),
        stack.clock.clone(),
    );

    let until = stack.clock.now() + 900;
    store.deny("jti-unfed", until).await.unwrap_err();
    store.revoke_family(&sid).await.unwrap_err();
    store.sign_out_everywhere("u-alice").await.unwrap_err();

    assert!(stack.item("deny#jti-unfed").await.is_none(), "no deny");
    let session = stack.item(&format!("session#{sid}")).await.unwrap();
    assert_eq!(
        session["revoked"],
        AttributeValue::Bool(false),
        "session live"
    );
    let user = stack
        .store
        .find_user(&Username::parse("alice").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.token_version, 1, "no bump");
}
