//! The authorizer's revocation feed reader on the in-memory twins: one store read per catch-up
//! interval, a revocation seen after one interval, 503 with the feed and the store down.

use tokengate_domain::logout::LogoutRequest;
use tokengate_domain::revocation_feed::CATCH_UP_INTERVAL_MS;
use tokengate_handlers::authorizer::AuthorizerError;

use crate::support::{refusal, setup, token_event};

#[tokio::test]
async fn a_warm_authorizer_reads_the_store_once_per_catch_up_interval() {
    let (rig, auth, token) = setup().await;
    let allow = || async {
        auth.handle(token_event(&token, "GET", "/api/me"))
            .await
            .unwrap()
    };
    let before = rig.store.calls();
    allow().await;
    assert_eq!(
        rig.store.calls() - before,
        1,
        "the cold start reads the feed"
    );
    for _ in 0..8 {
        rig.clock.advance_ms(100);
        allow().await;
    }
    assert_eq!(
        rig.store.calls() - before,
        1,
        "decided from memory within 900 ms"
    );
    rig.clock.advance_ms(100);
    allow().await;
    assert_eq!(
        rig.store.calls() - before,
        2,
        "one catch-up 900 ms after the last"
    );
    // A malformed token costs no store call at all.
    rig.clock.advance_ms(CATCH_UP_INTERVAL_MS);
    let before = rig.store.calls();
    let _ = auth.handle(token_event("x.y.z", "GET", "/api/me")).await;
    assert_eq!(rig.store.calls(), before);
}

#[tokio::test]
async fn a_logout_is_seen_by_a_warm_authorizer_after_one_catch_up_interval() {
    let (rig, auth, token) = setup().await;
    assert!(auth
        .handle(token_event(&token, "GET", "/api/me"))
        .await
        .is_ok());
    rig.logout
        .logout(LogoutRequest {
            access_token: Some(&token),
            source_ip: "192.0.2.1",
            ..LogoutRequest::default()
        })
        .await
        .expect("logout succeeds");
    rig.clock.advance_ms(CATCH_UP_INTERVAL_MS);
    let before = rig.store.calls();
    let err = refusal(&auth, &token).await;
    assert!(matches!(err, AuthorizerError::Unauthorized), "{err:?}");
    assert_eq!(
        rig.store.calls() - before,
        1,
        "one catch-up, no per-request read"
    );
}

#[tokio::test]
async fn a_global_logout_is_seen_by_a_warm_authorizer_after_one_catch_up_interval() {
    let (rig, auth, token) = setup().await;
    assert!(auth
        .handle(token_event(&token, "GET", "/api/me"))
        .await
        .is_ok());
    let other = rig.login_alice().await.access.token;
    rig.logout
        .logout(LogoutRequest {
            access_token: Some(&other),
            global: true,
            source_ip: "192.0.2.1",
            ..LogoutRequest::default()
        })
        .await
        .expect("global logout succeeds");
    rig.clock.advance_ms(CATCH_UP_INTERVAL_MS);
    let err = refusal(&auth, &token).await;
    assert!(matches!(err, AuthorizerError::Unauthorized), "{err:?}");
}

#[tokio::test]
async fn with_the_feed_and_the_store_down_a_warm_authorizer_refuses_with_503() {
    let (rig, auth, token) = setup().await;
    assert!(auth
        .handle(token_event(&token, "GET", "/api/me"))
        .await
        .is_ok());
    rig.store.set_unavailable(true);
    rig.clock.advance_ms(CATCH_UP_INTERVAL_MS);
    let err = refusal(&auth, &token).await;
    // `DependencyUnavailable`: API Gateway answers 500, which the template maps to 503.
    assert!(matches!(err, AuthorizerError::Unavailable), "{err:?}");
    let diagnostic = lambda_http::lambda_runtime::Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "DependencyUnavailable");
    // The store back, the per-request read decides until the next catch-up.
    rig.store.set_unavailable(false);
    assert!(auth
        .handle(token_event(&token, "GET", "/api/me"))
        .await
        .is_ok());
}
