//! Refresh and logout on DynamoDB + KMS cannot be turned against the service or the user
//! (issue 15 items 3, 4): AWS calls counted by the SDK interceptor, stored state read back.

use std::collections::HashMap;

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
            RefreshToken::with_secret(g.refresh.sid(), [(i % 251) as u8; 32])
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
    // Per request one count and one session read; a wrong secret for a real session also
    // asks whether it is a spent token (a conditional update that changes nothing).
    let ddb = stack.ddb_calls.by_operation();
    let n = limit as usize + 1;
    assert_eq!(
        ddb,
        HashMap::from([
            ("UpdateItem".to_owned(), n + limit as usize / 2),
            ("GetItem".to_owned(), n),
        ])
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
