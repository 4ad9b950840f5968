//! Refresh and logout on DynamoDB + KMS cannot be turned against the service or the user
//! (issue 15 items 3, 4): AWS calls counted by the SDK interceptor, stored state read back.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use tokengate_domain::logout::LogoutRequest;
use tokengate_domain::{ErrorCode, RefreshToken};

use crate::stack::{Stack, SOURCE_IP};

async fn token_versions(stack: &Stack) -> (String, String) {
    let principal = stack.item("principal#u-alice").await.unwrap();
    let user = stack.item("user#alice").await.unwrap();
    (
        principal["token_version"].as_n().unwrap().clone(),
        user["token_version"].as_n().unwrap().clone(),
    )
}

/// "Sign out everywhere" with whichever tokens the caller holds; must succeed (logout answers
/// the same whether or not the tokens were still good).
async fn global_logout(stack: &Stack, refresh_token: Option<&str>, access_token: Option<&str>) {
    stack
        .logout
        .logout(LogoutRequest {
            refresh_token,
            access_token,
            global: true,
            source_ip: SOURCE_IP,
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn a_thousand_made_up_refresh_tokens_cost_no_kms_request_and_then_429() {
    let mut stack = Stack::start().await;
    let limit = 1_000;
    stack.refresh.config.refresh_ip_limit = limit;
    let g = stack.login_alice().await;
    let before = stack.item(&format!("session#{}", g.refresh.sid())).await;
    stack.ddb_calls.reset();
    stack.kms_calls.reset();

    for i in 0..limit {
        // Half name no session, half name alice's with a wrong secret.
        let token = if i % 2 == 0 {
            RefreshToken::generate()
        } else {
            RefreshToken::from_parts(
                g.refresh.sid(),
                [(i % 251) as u8; 16],
                [(i % 251) as u8; 32],
            )
        };
        let e = stack
            .refresh
            .refresh(&token.expose(), SOURCE_IP)
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRefreshToken, "request {i}");
    }
    let e = stack
        .refresh
        .refresh(&RefreshToken::generate().expose(), SOURCE_IP)
        .await
        .unwrap_err();

    assert_eq!(e.code, ErrorCode::RateLimited);
    let window = stack.config.auth.refresh_ip_window_secs;
    assert_eq!(
        e.retry_after,
        Some((window - stack.now().rem_euclid(window)) as u64)
    );
    assert_eq!(
        stack.kms_calls.total(),
        0,
        "{:?}",
        stack.kms_calls.by_operation()
    );
    // Per request one count and one session read, nothing more: a made-up family secret for
    // a real session is told apart from a replay by the read alone.
    let ddb = stack.ddb_calls.by_operation();
    let n = limit as usize + 1;
    assert_eq!(
        ddb,
        HashMap::from([("UpdateItem".to_owned(), n), ("GetItem".to_owned(), n)])
    );
    assert_eq!(
        stack.item(&format!("session#{}", g.refresh.sid())).await,
        before,
        "the session is as it was"
    );
    let counter = stack
        .item(&format!(
            "rate#refresh-net#{SOURCE_IP}#{}",
            stack.now() - stack.now().rem_euclid(window)
        ))
        .await
        .unwrap();
    assert_eq!(counter["count"].as_n().unwrap(), &n.to_string());
}

#[tokio::test]
async fn a_reuse_revoked_refresh_token_with_global_scope_changes_nothing() {
    let stack = Stack::start().await;
    let stolen = stack.login_alice().await;
    let other = stack.login_alice().await;
    let rotated = stack
        .refresh
        .refresh(&stolen.refresh.expose(), SOURCE_IP)
        .await
        .unwrap();
    stack.clock.advance(11);
    let e = stack
        .refresh
        .refresh(&stolen.refresh.expose(), SOURCE_IP)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::RefreshTokenReused);
    let other_before = stack
        .item(&format!("session#{}", other.refresh.sid()))
        .await;
    stack.ddb_calls.reset();
    stack.kms_calls.reset();

    for token in [stolen.refresh.expose(), rotated.refresh.expose()] {
        global_logout(&stack, Some(&token), None).await;
    }

    assert_eq!(
        token_versions(&stack).await,
        ("1".to_owned(), "1".to_owned())
    );
    // Each logout only counted itself and read the session: no write, no version bump.
    assert_eq!(
        stack.ddb_calls.by_operation(),
        HashMap::from([("UpdateItem".to_owned(), 2), ("GetItem".to_owned(), 2)])
    );
    assert_eq!(
        stack
            .item(&format!("session#{}", other.refresh.sid()))
            .await,
        other_before
    );
    let next = stack
        .refresh
        .refresh(&other.refresh.expose(), SOURCE_IP)
        .await
        .unwrap();
    assert_eq!(next.refresh.sid(), other.refresh.sid());
}

#[tokio::test]
async fn a_stale_access_token_cannot_trigger_a_global_logout() {
    let stack = Stack::start().await;
    let old = stack.login_alice().await;
    // The owner signs out everywhere with a live session: version 1 → 2.
    global_logout(&stack, Some(&old.refresh.expose()), None).await;
    assert_eq!(
        token_versions(&stack).await,
        ("2".to_owned(), "2".to_owned())
    );
    let current = stack.login_alice().await;
    let claims = stack
        .verifier
        .verify(&old.access.token, stack.now())
        .expect("the old token's signature and lifetime still hold");
    assert_eq!(claims.ver, 1);

    global_logout(&stack, None, Some(&old.access.token)).await;

    assert_eq!(
        token_versions(&stack).await,
        ("2".to_owned(), "2".to_owned())
    );
    assert!(
        stack.item(&format!("deny#{}", claims.jti)).await.is_none(),
        "a dead token writes nothing"
    );
    let session = stack
        .item(&format!("session#{}", current.refresh.sid()))
        .await
        .unwrap();
    assert_ne!(
        session.get("revoked").and_then(|v| v.as_bool().ok()),
        Some(&true)
    );
    stack
        .refresh
        .refresh(&current.refresh.expose(), SOURCE_IP)
        .await
        .unwrap();
}

#[tokio::test]
async fn refresh_calls_no_kms_for_a_token_it_refuses() {
    let stack = Stack::start().await;
    // Reuse: a spent token of a live family, past the grace window.
    let reused = stack.login_alice().await;
    stack
        .refresh
        .refresh(&reused.refresh.expose(), SOURCE_IP)
        .await
        .unwrap();
    // Revoked: logged out.
    let revoked = stack.login_alice().await;
    stack
        .logout
        .logout(LogoutRequest {
            refresh_token: Some(&revoked.refresh.expose()),
            access_token: None,
            global: false,
            source_ip: SOURCE_IP,
        })
        .await
        .unwrap();
    // Rate-limited: a session whose own window is full.
    let mut limited = stack.login_alice().await;
    for _ in 0..10 {
        limited = stack
            .refresh
            .refresh(&limited.refresh.expose(), SOURCE_IP)
            .await
            .unwrap();
    }
    // Forged: a made-up family secret for a real session id.
    let forged = RefreshToken::from_parts(limited.refresh.sid(), [3; 16], [3; 32]).expose();
    // Old format: `<sid>.<secret>`, as issued before families, for a session item of that time.
    let legacy_sid = "AAAAAAAAAAAAAAAAAAAAAA";
    put_legacy_session(&stack, legacy_sid).await;
    let old_format = format!("{legacy_sid}.{}", "A".repeat(43));
    // A new-format token that names the old session: the item reads as no session.
    let names_legacy = RefreshToken::from_parts(legacy_sid, [4; 16], [4; 32]).expose();
    let idle = stack.login_alice().await;
    stack.clock.advance(11);
    stack.kms_calls.reset();

    let mut codes = Vec::new();
    for token in [
        reused.refresh.expose(),
        forged,
        revoked.refresh.expose(),
        limited.refresh.expose(),
        old_format,
        names_legacy,
    ] {
        let e = stack.refresh.refresh(&token, SOURCE_IP).await.unwrap_err();
        codes.push(e.code);
    }
    stack.clock.advance(24 * 3600);
    let e = stack
        .refresh
        .refresh(&idle.refresh.expose(), SOURCE_IP)
        .await
        .unwrap_err();
    codes.push(e.code);

    assert_eq!(
        codes,
        [
            ErrorCode::RefreshTokenReused,
            ErrorCode::InvalidRefreshToken,
            ErrorCode::InvalidRefreshToken,
            ErrorCode::RateLimited,
            ErrorCode::InvalidRefreshToken,
            ErrorCode::InvalidRefreshToken,
            ErrorCode::SessionExpired,
        ]
    );
    assert_eq!(
        stack.kms_calls.total(),
        0,
        "{:?}",
        stack.kms_calls.by_operation()
    );
    let legacy = stack.item(&format!("session#{legacy_sid}")).await.unwrap();
    assert!(
        !legacy["revoked"].as_bool().unwrap(),
        "the old item is untouched"
    );
}

/// A session item as written before families: no `family_hash` and no refresh window, and
/// the `spent` set that rotations used to grow.
async fn put_legacy_session(stack: &Stack, sid: &str) {
    let now = stack.now();
    let n = |v: i64| AttributeValue::N(v.to_string());
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let sdk = stack.emulator.sdk_config().await;
    aws_sdk_dynamodb::Client::new(&sdk)
        .put_item()
        .table_name(&stack.boot.table)
        .set_item(Some(HashMap::from([
            ("pk".to_owned(), s(&format!("session#{sid}"))),
            ("user_id".to_owned(), s("u-alice")),
            ("roles".to_owned(), AttributeValue::L(vec![s("reader")])),
            ("token_version".to_owned(), n(1)),
            ("created_at".to_owned(), n(now)),
            ("expires_at".to_owned(), n(now + 86_400)),
            ("last_used_at".to_owned(), n(now)),
            ("current_hash".to_owned(), s(&"h".repeat(43))),
            ("rotated_at".to_owned(), n(now)),
            ("generation".to_owned(), n(1)),
            ("revoked".to_owned(), AttributeValue::Bool(false)),
            ("spent".to_owned(), AttributeValue::Ss(vec!["x".repeat(43)])),
            ("ttl".to_owned(), n(now + 86_400)),
        ])))
        .send()
        .await
        .expect("put legacy session");
}
