//! Scopes through refresh on the in-memory twins and the clock: the grant a session remembers,
//! narrowing, the grace retry, and the order of refusals. The grant rules themselves have their
//! unit tests in `clients::tests`, the requests over API Gateway events theirs in the handlers.

use tokengate_domain::clients::{Clients, GrantRequest};
use tokengate_domain::login::{Grant, LoginAttempt};
use tokengate_domain::{ErrorCode, Password};
use tokengate_testing::memory::MemoryRig;

const SOURCE_IP: &str = "203.0.113.7";

async fn rig() -> MemoryRig {
    MemoryRig::configured(|auth| {
        auth.clients = Clients::parse(
            "a=;b=;c=admin",
            "id=app,kind=native,scopes=a b c,default=a b,resources=https://r.example",
            &auth.audience,
        )
        .expect("valid clients");
    })
    .await
}

async fn login(rig: &MemoryRig) -> Grant {
    rig.login
        .login(LoginAttempt {
            ask: GrantRequest {
                client_id: Some("app".into()),
                ..Default::default()
            },
            username: "alice".into(),
            password: Password::new(MemoryRig::PASSWORD),
            source_ip: SOURCE_IP.into(),
            device: None,
        })
        .await
        .expect("alice logs in")
}

fn scope(s: &str) -> GrantRequest {
    GrantRequest {
        scope: Some(s.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_session_remembers_its_original_grant_across_narrowed_refreshes() {
    let rig = rig().await;
    let g = login(&rig).await;
    // `c` is admin's: alice's default set is what the client gives, `a b`.
    assert_eq!(g.access.scope, "a b");
    let mut token = g.refresh.expose();
    for (asked, granted) in [("a", "a"), ("b", "b"), ("", "a b"), ("b a", "a b")] {
        rig.clock.advance(60);
        let next = rig
            .refresh
            .refresh_as(&token, SOURCE_IP, &scope(asked))
            .await
            .expect("a subset of the original grant");
        assert_eq!(next.access.scope, granted, "asked {asked:?}");
        token = next.refresh.expose();
    }
}

#[tokio::test]
async fn the_grace_retry_is_answered_with_the_scope_it_asks_for() {
    let rig = rig().await;
    let g = login(&rig).await;
    let first = rig
        .refresh
        .refresh_as(&g.refresh.expose(), SOURCE_IP, &scope("a"))
        .await
        .unwrap();
    rig.clock.advance(2);
    let retry = rig
        .refresh
        .refresh_as(&g.refresh.expose(), SOURCE_IP, &scope("b"))
        .await
        .expect("inside the grace window");
    assert_eq!(
        retry.refresh.expose(),
        first.refresh.expose(),
        "no second branch"
    );
    assert_eq!(retry.access.scope, "b");
}

#[tokio::test]
async fn an_expired_session_is_session_expired_whatever_scope_is_asked() {
    let rig = rig().await;
    let g = login(&rig).await;
    rig.clock.advance(rig.config.auth.refresh_ttl_secs + 1);
    let e = rig
        .refresh
        .refresh_as(&g.refresh.expose(), SOURCE_IP, &scope("c"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::SessionExpired);
}

#[tokio::test]
async fn refresh_never_widens_even_to_a_scope_the_client_has() {
    let rig = rig().await;
    let g = login(&rig).await;
    let e = rig
        .refresh
        .refresh_as(&g.refresh.expose(), SOURCE_IP, &scope("a c"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidScope);
}
