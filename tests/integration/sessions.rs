//! Login, refresh and logout on DynamoDB + KMS: the stored state after each step, reuse
//! detection, the grace window and a 50-way race that really races.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use tokengate_domain::logout::LogoutRequest;
use tokengate_domain::ports::UserStore;
use tokengate_domain::ErrorCode;

use tokengate_testing::race::RacingSessions;

use crate::stack::{dynamodb_item_size, Stack, SOURCE_IP};

fn bool_attr(item: &HashMap<String, AttributeValue>, k: &str) -> bool {
    matches!(item.get(k), Some(AttributeValue::Bool(true)))
}

#[tokio::test]
async fn full_lifecycle_login_refresh_refresh_logout() {
    let stack = Stack::start().await;
    let g0 = stack.login_alice().await;
    let sid = g0.refresh.sid().to_owned();
    let session = stack.item(&format!("session#{sid}")).await.unwrap();
    assert_eq!(
        session["current_hash"].as_s().unwrap(),
        g0.refresh.hash().as_str()
    );
    assert!(session["ttl"].as_n().is_ok(), "every item carries a TTL");
    assert!(
        !format!("{session:?}").contains(&g0.refresh.expose()),
        "no usable token at rest"
    );

    let g1 = stack
        .refresh
        .refresh(&g0.refresh.expose(), SOURCE_IP)
        .await
        .unwrap();
    stack.clock.advance(60);
    let g2 = stack
        .refresh
        .refresh(&g1.refresh.expose(), SOURCE_IP)
        .await
        .unwrap();
    let session = stack.item(&format!("session#{sid}")).await.unwrap();
    assert_eq!(session["generation"].as_n().unwrap(), "2");
    assert_eq!(
        session["family_hash"].as_s().unwrap(),
        g0.refresh.family_hash().as_str()
    );
    assert!(!session.contains_key("spent"), "no spent token is kept");

    let claims = stack
        .verifier
        .verify(&g2.access.token, stack.now())
        .unwrap();
    stack
        .logout
        .logout(LogoutRequest {
            refresh_token: Some(&g2.refresh.expose()),
            access_token: Some(&g2.access.token),
            global: false,
            source_ip: SOURCE_IP,
        })
        .await
        .unwrap();
    let deny = stack.item(&format!("deny#{}", claims.jti)).await.unwrap();
    // Until the first second the verifier refuses the token: exp + the default leeway (30) + 1.
    assert_eq!(deny["ttl"].as_n().unwrap(), &(claims.exp + 31).to_string());
    assert!(bool_attr(
        &stack.item(&format!("session#{sid}")).await.unwrap(),
        "revoked"
    ));
    let e = stack
        .refresh
        .refresh(&g2.refresh.expose(), SOURCE_IP)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidRefreshToken);
    let verdict = stack
        .authorizer
        .decide(
            Some(&format!("Bearer {}", g2.access.token)),
            "GET",
            "/api/me",
        )
        .await
        .unwrap();
    assert_eq!(
        verdict,
        tokengate_handlers::authorizer::Verdict::Unauthorized
    );
}

#[tokio::test]
async fn refresh_token_reuse_after_grace_revokes_the_family() {
    let stack = Stack::start().await;
    let g0 = stack.login_alice().await;
    let g1 = stack
        .refresh
        .refresh(&g0.refresh.expose(), SOURCE_IP)
        .await
        .unwrap();
    stack.clock.advance(11);
    let e = stack
        .refresh
        .refresh(&g0.refresh.expose(), SOURCE_IP)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::RefreshTokenReused);
    let session = stack
        .item(&format!("session#{}", g0.refresh.sid()))
        .await
        .unwrap();
    assert!(bool_attr(&session, "revoked"));
    let e = stack
        .refresh
        .refresh(&g1.refresh.expose(), SOURCE_IP)
        .await
        .unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::InvalidRefreshToken,
        "the newest token died too"
    );
}

#[tokio::test]
async fn refresh_token_replay_within_grace_returns_the_current_token() {
    let stack = Stack::start().await;
    let g0 = stack.login_alice().await;
    let g1 = stack
        .refresh
        .refresh(&g0.refresh.expose(), SOURCE_IP)
        .await
        .unwrap();
    stack.clock.advance(3);
    let again = stack
        .refresh
        .refresh(&g0.refresh.expose(), SOURCE_IP)
        .await
        .unwrap();
    assert_eq!(again.refresh.expose(), g1.refresh.expose());
    let session = stack
        .item(&format!("session#{}", g0.refresh.sid()))
        .await
        .unwrap();
    assert_eq!(
        session["generation"].as_n().unwrap(),
        "1",
        "no second branch"
    );
    assert!(!bool_attr(&session, "revoked"));
}

/// Fifty refreshes of one token at once on DynamoDB, on worker threads, every one of them
/// reading the session before any writes ([`RacingSessions`]): the conditional writes, not the
/// timing of the emulator's answers, decide.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_refreshes_produce_one_successor_and_no_5xx() {
    const RACERS: usize = 50;
    let stack = Stack::start().await;
    let g0 = stack.login_alice().await;
    let token = g0.refresh.expose();
    let race = RacingSessions::new(stack.refresh.sessions.clone(), RACERS);
    let racing = Arc::new(race.refresh(&stack.refresh));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..RACERS {
        let (racing, token) = (racing.clone(), token.clone());
        tasks.spawn(async move { racing.refresh(&token, SOURCE_IP).await });
    }
    let mut successors = HashSet::new();
    let (mut granted, mut limited) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Ok(g) => {
                successors.insert(g.refresh.expose());
                granted += 1;
            }
            Err(e) => {
                assert_eq!(
                    (e.code, e.retry_after),
                    (ErrorCode::RateLimited, Some(60)),
                    "the only refusal under the race is the session's own limit: {e:?}"
                );
                limited += 1;
            }
        }
    }
    // The race happened: every racer read generation 0 and tried to rotate, one won.
    assert!(
        race.lost_writes() >= RACERS - 1,
        "only {} writes lost a race",
        race.lost_writes()
    );
    // One successor; the session's own limit (10 a minute) holds under the race: the
    // conditional writes count every answer once and none past the limit.
    assert_eq!(successors.len(), 1);
    assert_eq!((granted, limited), (10, 40));
    let key = format!("session#{}", g0.refresh.sid());
    let session = stack.item(&key).await.unwrap();
    assert_eq!(session["generation"].as_n().unwrap(), "1");
    assert_eq!(session["window_hits"].as_n().unwrap(), "10");
    assert!(!bool_attr(&session, "revoked"), "no reuse was seen");
    // The successor is the session's current token and rotates in the next window.
    let successor = successors.into_iter().next().unwrap();
    stack.clock.advance(61);
    stack.refresh.refresh(&successor, SOURCE_IP).await.unwrap();
    let session = stack.item(&key).await.unwrap();
    assert_eq!(session["generation"].as_n().unwrap(), "2");
    assert!(!bool_attr(&session, "revoked"));
}

/// Moves the clock `secs` on, and one more second if it would land on a multiple of ten: a
/// timestamp ending in 0 has a trailing zero DynamoDB does not count, so keeping every stored
/// timestamp off them measures the item at 10 and at 300 rotations on equal terms.
fn step(stack: &Stack, secs: i64) {
    stack.clock.advance(secs);
    if stack.now() % 10 == 0 {
        stack.clock.advance(1);
    }
}

#[tokio::test]
async fn a_session_item_keeps_its_size_over_300_rotations_and_any_replay_is_reuse() {
    let stack = Stack::start().await;
    step(&stack, 1);
    let first = stack.login_alice().await;
    let key = format!("session#{}", first.refresh.sid());
    let mut token = first.refresh.clone();
    let mut size_after_10 = None;

    for generation in 1..=300 {
        // Seven seconds apart: within the session's limit of 10 refreshes a minute.
        step(&stack, 7);
        token = stack
            .refresh
            .refresh(&token.expose(), SOURCE_IP)
            .await
            .unwrap_or_else(|e| panic!("rotation {generation}: {e:?}"))
            .refresh;
        if generation == 10 {
            size_after_10 = Some(dynamodb_item_size(&stack.item(&key).await.unwrap()));
        }
    }
    let item = stack.item(&key).await.unwrap();
    assert_eq!(item["generation"].as_n().unwrap(), "300");
    let size_after_300 = dynamodb_item_size(&item);

    assert_eq!(Some(size_after_300), size_after_10, "{item:?}");
    // Under 1 KB: one write unit per copy of the item, however old the session.
    assert!(size_after_300 < 1024, "{size_after_300} bytes");
    step(&stack, 7);
    let e = stack
        .refresh
        .refresh(&first.refresh.expose(), SOURCE_IP)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::RefreshTokenReused);
    assert!(bool_attr(&stack.item(&key).await.unwrap(), "revoked"));
    let e = stack
        .refresh
        .refresh(&token.expose(), SOURCE_IP)
        .await
        .unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::InvalidRefreshToken,
        "the current one died too"
    );
}

#[tokio::test]
async fn global_logout_ends_every_session_and_access_token() {
    let stack = Stack::start().await;
    let a = stack.login_alice().await;
    let b = stack.login_alice().await;
    stack
        .logout
        .logout(LogoutRequest {
            refresh_token: Some(&a.refresh.expose()),
            access_token: None,
            global: true,
            source_ip: SOURCE_IP,
        })
        .await
        .unwrap();
    let principal = stack.item("principal#u-alice").await.unwrap();
    assert_eq!(principal["token_version"].as_n().unwrap(), "2");
    let user = stack.item("user#alice").await.unwrap();
    assert_eq!(user["token_version"].as_n().unwrap(), "2");
    let e = stack
        .refresh
        .refresh(&b.refresh.expose(), SOURCE_IP)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::SessionExpired);
    let verdict = stack
        .authorizer
        .decide(
            Some(&format!("Bearer {}", b.access.token)),
            "GET",
            "/api/me",
        )
        .await
        .unwrap();
    assert_eq!(
        verdict,
        tokengate_handlers::authorizer::Verdict::Unauthorized
    );
}

#[tokio::test]
async fn wrong_password_counts_toward_lockout_in_the_table() {
    let stack = Stack::start().await;
    for _ in 0..5 {
        let e = stack
            .login
            .login(tokengate_domain::login::LoginAttempt {
                ask: Default::default(),
                username: "alice".into(),
                password: tokengate_domain::Password::new("wrong"),
                source_ip: "192.0.2.99".into(),
                device: None,
            })
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidCredentials);
    }
    // Counted per (account, source network) and per account; the fifth failure from one
    // network starts that network's 30 s lock.
    let source = stack.item("lock-src#192.0.2.99#alice").await.unwrap();
    assert_eq!(source["failures"].as_n().unwrap(), "5");
    let locked_until = (stack.now() + 30).to_string();
    assert_eq!(source["locked_until"].as_n().unwrap(), &locked_until);
    let account = stack.item("lock#alice").await.unwrap();
    assert_eq!(account["failures"].as_n().unwrap(), "5");
    assert_eq!(account["locked_until"].as_n().unwrap(), "0");
    let e = stack
        .login
        .login(tokengate_domain::login::LoginAttempt {
            ask: Default::default(),
            username: "alice".into(),
            password: tokengate_domain::Password::new("correct horse"),
            source_ip: "192.0.2.99".into(),
            device: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::AccountLocked);
}

#[tokio::test]
async fn creating_an_existing_user_changes_nothing() {
    let stack = Stack::start().await;
    let existing = stack
        .store
        .find_user(&tokengate_domain::Username::parse("alice").unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut other = existing.clone();
    other.user_id = "u-other".into();
    other.password_hash = "x".into();
    assert!(!stack.store.create_user(&other).await.unwrap());
    assert!(
        stack.item("principal#u-other").await.is_none(),
        "no half-created user"
    );
    let user = stack.item("user#alice").await.unwrap();
    assert_eq!(user["user_id"].as_s().unwrap(), "u-alice");
}

#[tokio::test]
async fn role_change_and_disable_bump_user_and_principal_together() {
    let stack = Stack::start().await;
    let g = stack.login_alice().await;
    let alice = tokengate_domain::Username::parse("alice").unwrap();
    let v = stack
        .store
        .set_roles(&alice, &["admin".to_owned()])
        .await
        .unwrap();
    assert_eq!(v, Some(2));
    let user = stack.item("user#alice").await.unwrap();
    assert_eq!(user["roles"].as_l().unwrap()[0].as_s().unwrap(), "admin");
    assert_eq!(
        stack.item("principal#u-alice").await.unwrap()["token_version"]
            .as_n()
            .unwrap(),
        "2"
    );
    let e = stack
        .refresh
        .refresh(&g.refresh.expose(), SOURCE_IP)
        .await
        .unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::SessionExpired,
        "roles changed: sign in again"
    );

    let v = stack
        .store
        .set_status(&alice, tokengate_domain::ports::UserStatus::Disabled)
        .await
        .unwrap();
    assert_eq!(v, Some(3));
    let principal = stack.item("principal#u-alice").await.unwrap();
    assert_eq!(principal["status"].as_s().unwrap(), "disabled");
    assert_eq!(
        stack
            .store
            .set_roles(&tokengate_domain::Username::parse("nobody").unwrap(), &[])
            .await
            .unwrap(),
        None
    );
}
