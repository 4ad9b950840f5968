//! The authorizer on DynamoDB + KMS: call budget and failing closed (key rotation with the
//! JWKS following is in `keyring.rs`).

use serde_json::json;
use tokengate_domain::logout::LogoutRequest;
use tokengate_domain::revocation_feed::CATCH_UP_INTERVAL_MS;
use tokengate_handlers::authorizer::Verdict;

use crate::stack::{Stack, SOURCE_IP};

/// The revocation feed's reader on DynamoDB: one strongly consistent `Query` of the feed at the
/// first invocation, none within the catch-up interval, one after it; never a KMS call.
#[tokio::test]
async fn a_warm_authorizer_queries_the_feed_once_per_catch_up_interval_and_never_kms() {
    let stack = Stack::start().await;
    let g = stack.login_alice().await;
    stack.ddb_calls.reset();
    stack.kms_calls.reset();
    let event = json!({
        "type": "TOKEN",
        "authorizationToken": format!("Bearer {}", g.access.token),
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:api/v1/GET/api/me",
    });
    let calls = || {
        let calls = stack.ddb_calls.by_operation();
        stack.ddb_calls.reset();
        calls
    };
    let resp = stack.authorizer.handle(event.clone()).await.unwrap();
    assert_eq!(resp["context"]["sub"], "u-alice");
    let cold = calls();
    assert_eq!(cold.get("Query"), Some(&1), "{cold:?}");
    assert_eq!(cold.values().sum::<usize>(), 1, "{cold:?}");
    for _ in 0..5 {
        stack.clock.advance_ms(100);
        stack.authorizer.handle(event.clone()).await.unwrap();
    }
    assert!(
        calls().is_empty(),
        "decided from memory within the interval"
    );
    stack.clock.advance_ms(CATCH_UP_INTERVAL_MS);
    stack.authorizer.handle(event).await.unwrap();
    let warm = calls();
    assert_eq!(warm.get("Query"), Some(&1), "{warm:?}");
    assert_eq!(warm.values().sum::<usize>(), 1, "{warm:?}");
    assert_eq!(stack.kms_calls.total(), 0);
}

/// A logout through DynamoDB is refused by a warm authorizer at its next catch-up: the feed
/// entry written in the logout's transaction, read by the `Query`.
#[tokio::test]
async fn a_logout_is_refused_by_a_warm_authorizer_after_one_catch_up_interval() {
    let stack = Stack::start().await;
    let g = stack.login_alice().await;
    let bearer = format!("Bearer {}", g.access.token);
    let decide = || stack.authorizer.decide(Some(&bearer), "GET", "/api/me");
    assert!(matches!(decide().await.unwrap(), Verdict::Allow(_)));
    stack
        .logout
        .logout(LogoutRequest {
            access_token: Some(&g.access.token),
            source_ip: SOURCE_IP,
            ..LogoutRequest::default()
        })
        .await
        .unwrap();
    stack.clock.advance_ms(CATCH_UP_INTERVAL_MS);
    stack.ddb_calls.reset();
    assert_eq!(decide().await.unwrap(), Verdict::Unauthorized);
    let calls = stack.ddb_calls.by_operation();
    assert_eq!(calls.get("Query"), Some(&1), "from the feed: {calls:?}");
    assert_eq!(stack.ddb_calls.total(), 1, "{calls:?}");
}

#[tokio::test]
async fn refresh_reads_before_it_asks_kms_and_signs_while_it_writes() {
    let stack = Stack::start().await;
    let g = stack.login_alice().await;
    stack.ddb_calls.reset();
    stack.kms_calls.reset();
    stack
        .refresh
        .refresh(&g.refresh.expose(), SOURCE_IP)
        .await
        .unwrap();
    // [GetItem ∥ UpdateItem (per-source count)], then Sign ∥ [GenerateMac → TransactWriteItems]:
    // no KMS request before the session is known to accept the token. The MAC path is one
    // round trip longer than before (it overlapped the read), Sign overlaps it: the happy path
    // waits for read + max(Sign, GenerateMac + write) (docs/performance.md, "Refresh latency").
    let ddb = stack.ddb_calls.by_operation();
    let kms = stack.kms_calls.by_operation();
    assert_eq!(ddb.get("GetItem"), Some(&1));
    assert_eq!(ddb.get("UpdateItem"), Some(&1));
    assert_eq!(ddb.get("TransactWriteItems"), Some(&1));
    assert_eq!(kms.get("GenerateMac"), Some(&1));
    assert_eq!(kms.get("Sign"), Some(&1));
    assert_eq!(stack.ddb_calls.total() + stack.kms_calls.total(), 5);
}

#[tokio::test]
async fn dynamodb_outage_fails_closed() {
    let stack = Stack::start().await;
    let g = stack.login_alice().await;
    drop(stack.emulator);
    // The stack's clients now talk to a dead port.
    let stack_authorizer = stack.authorizer;
    let verdict = stack_authorizer
        .decide(
            Some(&format!("Bearer {}", g.access.token)),
            "GET",
            "/api/me",
        )
        .await;
    assert!(
        verdict.is_err(),
        "never an allow without the revocation state: {verdict:?}"
    );
}

/// AWS calls per operation, counted by the SDK interceptor. The sequential depth follows from
/// the code (independent calls run concurrently): login = [GetItem user ∥ GetItem ×2 lockout
/// counters ∥ UpdateItem rate] → TransactWriteItems (the attempt reserved before the hash) →
/// Argon2 → [DeleteItem ×2: the counters cleared ∥ PutItem session ∥ Sign ∥ GenerateMac: the
/// device key, derived at the first login of a process only];
/// refresh = [GetItem ∥ UpdateItem rate] → [Sign ∥ (GenerateMac → TransactWriteItems)];
/// authorize (cold) = Query of the revocation feed.
#[tokio::test]
async fn aws_round_trips_per_operation() {
    let stack = Stack::start().await;
    let count = |stack: &Stack| {
        let mut all = stack.ddb_calls.by_operation();
        all.extend(stack.kms_calls.by_operation());
        stack.ddb_calls.reset();
        stack.kms_calls.reset();
        all
    };
    count(&stack);
    stack.login_alice().await;
    let first_login = count(&stack);
    let g = stack.login_alice().await;
    let login = count(&stack);
    stack
        .refresh
        .refresh(&g.refresh.expose(), SOURCE_IP)
        .await
        .unwrap();
    let refresh = count(&stack);
    let bearer = format!("Bearer {}", g.access.token);
    stack
        .authorizer
        .decide(Some(&bearer), "GET", "/api/me")
        .await
        .unwrap();
    let authorize = count(&stack);

    let expect = |m: &std::collections::HashMap<String, usize>, pairs: &[(&str, usize)]| {
        let mut want: Vec<(String, usize)> =
            pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        let mut got: Vec<(String, usize)> = m.clone().into_iter().collect();
        want.sort();
        got.sort();
        assert_eq!(got, want);
    };
    expect(
        &first_login,
        &[
            ("GetItem", 3),
            ("UpdateItem", 1),
            ("TransactWriteItems", 1),
            ("DeleteItem", 2),
            ("PutItem", 1),
            ("Sign", 1),
            ("GenerateMac", 1),
        ],
    );
    expect(
        &login,
        &[
            ("GetItem", 3),
            ("UpdateItem", 1),
            ("TransactWriteItems", 1),
            ("DeleteItem", 2),
            ("PutItem", 1),
            ("Sign", 1),
        ],
    );
    expect(
        &refresh,
        &[
            ("GetItem", 1),
            ("UpdateItem", 1),
            ("GenerateMac", 1),
            ("TransactWriteItems", 1),
            ("Sign", 1),
        ],
    );
    expect(&authorize, &[("Query", 1)]);
}
