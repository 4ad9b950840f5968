//! Login → refresh → logout flows on the in-memory twins. Each security rule has a test named
//! after it that asserts the exact error code and the stored state afterwards. The lockout and
//! the per-source-network limit have theirs in `lockout.rs`.

use std::sync::Arc;

use tokengate_domain::login::{Grant, LoginAttempt};
use tokengate_domain::logout::LogoutRequest;
use tokengate_domain::password::HashParams;
use tokengate_domain::ports::{UserStatus, UserStore};
use tokengate_domain::{AuthError, ErrorCode, Password, PasswordHasher, Username};
use tokengate_testing::memory::{self, MemoryRig};
use tokengate_testing::race::RacingSessions;

const T0: i64 = memory::RIG_EPOCH;
/// Where the tests' refresh and logout requests come from (API Gateway's `sourceIp`).
const SOURCE_IP: &str = "203.0.113.7";

/// Refresh as the handler calls it, from [`SOURCE_IP`].
async fn refresh(app: &MemoryRig, token: &str) -> Result<Grant, AuthError> {
    app.refresh.refresh(token, SOURCE_IP).await
}

async fn app() -> MemoryRig {
    MemoryRig::new().await
}

fn attempt(user: &str, pw: &str) -> LoginAttempt {
    LoginAttempt {
        ask: Default::default(),
        username: user.to_owned(),
        password: Password::new(pw),
        source_ip: "203.0.113.7".to_owned(),
        device: None,
    }
}

async fn login(app: &MemoryRig) -> Grant {
    app.login
        .login(attempt("Alice", "correct horse"))
        .await
        .unwrap()
}

#[tokio::test]
async fn login_issues_a_verifiable_token_and_stores_only_a_hash() {
    let app = app().await;
    let g = login(&app).await;
    let claims = app.verifier.verify(&g.access.token, T0).unwrap();
    assert_eq!(claims.sub, "u-alice");
    assert_eq!(claims.roles, vec!["reader"]);
    assert_eq!(claims.ver, 1);
    assert_eq!(claims.sid.as_deref(), Some(g.refresh.sid()));
    assert_eq!(claims.exp - claims.iat, 900);
    let s = app.store.session(g.refresh.sid()).unwrap();
    assert_eq!(s.current_hash, g.refresh.hash());
    assert_ne!(s.current_hash.as_str(), g.refresh.expose());
}

#[tokio::test]
async fn unknown_user_and_wrong_password_are_indistinguishable() {
    let app = app().await;
    let unknown = app.login.login(attempt("mallory", "x")).await.unwrap_err();
    let wrong = app.login.login(attempt("alice", "x")).await.unwrap_err();
    assert_eq!(unknown, wrong);
    assert_eq!(wrong.code, ErrorCode::InvalidCredentials);
}

#[tokio::test]
async fn disabled_user_cannot_log_in() {
    let app = app().await;
    app.store
        .set_status(&Username::parse("alice").unwrap(), UserStatus::Disabled)
        .await
        .unwrap();
    let err = app
        .login
        .login(attempt("alice", "correct horse"))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidCredentials);
}

#[tokio::test]
async fn refresh_rotates_and_the_old_token_is_spent() {
    let app = app().await;
    let g0 = login(&app).await;
    app.clock.advance(60);
    let g1 = refresh(&app, &g0.refresh.expose()).await.unwrap();
    assert_ne!(g1.refresh.expose(), g0.refresh.expose());
    assert_eq!(g1.refresh.sid(), g0.refresh.sid());
    let s = app.store.session(g0.refresh.sid()).unwrap();
    assert_eq!(s.current_hash, g1.refresh.hash());
    assert_eq!(s.previous_hash, Some(g0.refresh.hash()));
    assert_eq!(s.generation, 1);
    app.verifier.verify(&g1.access.token, T0 + 60).unwrap();
}

#[tokio::test]
async fn refresh_token_reuse_after_grace_revokes_the_family() {
    let app = app().await;
    let g0 = login(&app).await;
    let g1 = refresh(&app, &g0.refresh.expose()).await.unwrap();
    app.clock.advance(11);
    let e = refresh(&app, &g0.refresh.expose()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::RefreshTokenReused);
    assert!(app.store.session(g0.refresh.sid()).unwrap().revoked);
    // The newest token of the family is dead too.
    let e = refresh(&app, &g1.refresh.expose()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidRefreshToken);
}

#[tokio::test]
async fn refresh_token_replay_within_grace_returns_the_current_token_without_a_new_branch() {
    let app = app().await;
    let g0 = login(&app).await;
    let g1 = refresh(&app, &g0.refresh.expose()).await.unwrap();
    app.clock.advance(5);
    let again = refresh(&app, &g0.refresh.expose()).await.unwrap();
    assert_eq!(again.refresh.expose(), g1.refresh.expose());
    let s = app.store.session(g0.refresh.sid()).unwrap();
    assert_eq!(s.generation, 1);
    assert!(!s.revoked);
    // The current token still rotates normally.
    refresh(&app, &g1.refresh.expose()).await.unwrap();
}

#[tokio::test]
async fn refresh_token_older_than_the_predecessor_is_reuse_even_within_grace() {
    let app = app().await;
    let g0 = login(&app).await;
    let g1 = refresh(&app, &g0.refresh.expose()).await.unwrap();
    refresh(&app, &g1.refresh.expose()).await.unwrap();
    let e = refresh(&app, &g0.refresh.expose()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::RefreshTokenReused);
}

#[tokio::test]
async fn forged_refresh_token_for_a_known_session_revokes_nothing() {
    let app = app().await;
    let g0 = login(&app).await;
    let forged = tokengate_domain::RefreshToken::from_parts(g0.refresh.sid(), [7; 16], [7; 32]);
    let e = refresh(&app, &forged.expose()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidRefreshToken);
    assert!(!app.store.session(g0.refresh.sid()).unwrap().revoked);
}

/// Fifty refreshes of one token at once, on worker threads, every one of them reading the
/// session before any writes ([`RacingSessions`]: the twin never waits, so without it each
/// request would run from read to write before the next one reads, and nothing would race).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_of_one_token_yield_one_successor() {
    const RACERS: usize = 50;
    let app = Arc::new(app().await);
    let g0 = login(&app).await;
    let token = g0.refresh.expose();
    let race = RacingSessions::new(app.store.clone(), RACERS);
    let racing = Arc::new(race.refresh(&app.refresh));
    let mut tasks = Vec::new();
    for _ in 0..RACERS {
        let (racing, token) = (racing.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            racing.refresh(&token, SOURCE_IP).await
        }));
    }
    let mut successors = std::collections::HashSet::new();
    let (mut granted, mut limited) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(g) => {
                successors.insert(g.refresh.expose());
                granted += 1;
            }
            Err(e) => {
                assert_eq!(e.code, ErrorCode::RateLimited, "{e:?}");
                assert_eq!(e.retry_after, Some(60));
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
    // One rotation and nine grace answers fill the session's window (10 a minute): every
    // answer carries the one successor, and the rest wait for the next window.
    assert_eq!(successors.len(), 1);
    assert_eq!((granted, limited), (10, 40));
    let s = app.store.session(g0.refresh.sid()).unwrap();
    assert_eq!((s.generation, s.window_hits, s.revoked), (1, 10, false));
    // No reuse was seen: the successor is the session's current token and still rotates.
    let successor = successors.into_iter().next().unwrap();
    app.clock.advance(61);
    let next = refresh(&app, &successor).await.unwrap();
    let s = app.store.session(g0.refresh.sid()).unwrap();
    assert_eq!((s.generation, s.revoked), (2, false));
    assert_eq!(s.current_hash, next.refresh.hash());
}

#[tokio::test]
async fn session_absolute_lifetime_and_idle_timeout_are_enforced_in_code() {
    let app = app().await;
    let g0 = login(&app).await;
    app.clock.advance(24 * 3600 + 1);
    let e = refresh(&app, &g0.refresh.expose()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::SessionExpired);

    // Refreshing every 23 h keeps the session from idling out; it still ends after 7 days.
    let rig = MemoryRig::new().await;
    let mut token = login(&rig).await.refresh;
    for _ in 0..7 {
        rig.clock.advance(23 * 3600);
        token = refresh(&rig, &token.expose()).await.unwrap().refresh;
    }
    rig.clock.advance(23 * 3600);
    let e = refresh(&rig, &token.expose()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::SessionExpired);
}

#[tokio::test]
async fn throttled_store_answers_service_unavailable_and_writes_nothing() {
    let app = app().await;
    app.store.set_unavailable(true);
    let e = app
        .login
        .login(attempt("alice", "correct horse"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ServiceUnavailable);
    assert_eq!(e.retry_after, Some(2));
    app.store.set_unavailable(false);
    assert_eq!(app.store.session_count(), 0);
}

#[tokio::test]
async fn signing_failure_at_login_leaves_no_session() {
    let app = app().await;
    app.signer.set_unavailable(true);
    let e = app
        .login
        .login(attempt("alice", "correct horse"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ServiceUnavailable);
    assert_eq!(app.store.session_count(), 0);
}

#[tokio::test]
async fn signing_failure_at_refresh_leaves_the_family_unrotated_or_recoverable() {
    let app = app().await;
    let g0 = login(&app).await;
    app.signer.set_unavailable(true);
    let e = refresh(&app, &g0.refresh.expose()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::ServiceUnavailable);
    app.signer.set_unavailable(false);
    // The write may have committed while signing failed: the retry inside the grace window
    // is answered with the current token, not treated as reuse.
    let g1 = refresh(&app, &g0.refresh.expose()).await.unwrap();
    refresh(&app, &g1.refresh.expose()).await.unwrap();
}

#[tokio::test]
async fn logout_revokes_the_session_and_denylists_the_jti() {
    let app = app().await;
    let g = login(&app).await;
    let jti = app.verifier.verify(&g.access.token, T0).unwrap().jti;
    let token = g.refresh.expose();
    app.logout
        .logout(LogoutRequest {
            refresh_token: Some(&token),
            access_token: Some(&g.access.token),
            global: false,
            source_ip: SOURCE_IP,
        })
        .await
        .unwrap();
    assert!(app.store.is_denied(&jti));
    assert!(app.store.session(g.refresh.sid()).unwrap().revoked);
    let e = refresh(&app, &token).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidRefreshToken);
    // Idempotent.
    app.logout
        .logout(LogoutRequest {
            refresh_token: Some(&token),
            access_token: Some(&g.access.token),
            global: false,
            source_ip: SOURCE_IP,
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn global_logout_bumps_the_token_version_and_ends_every_session() {
    let app = app().await;
    let a = login(&app).await;
    let b = login(&app).await;
    app.logout
        .logout(LogoutRequest {
            refresh_token: Some(&a.refresh.expose()),
            access_token: None,
            global: true,
            source_ip: SOURCE_IP,
        })
        .await
        .unwrap();
    let user = app
        .store
        .find_user(&Username::parse("alice").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.token_version, 2);
    let e = refresh(&app, &b.refresh.expose()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::SessionExpired);
}

#[tokio::test]
async fn login_rehashes_passwords_made_with_weaker_parameters() {
    let mut app = app().await;
    let stronger = HashParams {
        memory_kib: 2048,
        iterations: 2,
        parallelism: 1,
    };
    app.login.hasher = Arc::new(PasswordHasher::new(stronger).unwrap());
    login(&app).await;
    let user = app
        .store
        .find_user(&Username::parse("alice").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(user.password_hash.contains("m=2048,t=2,p=1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_user_and_wrong_password_take_the_same_time() {
    // The fastest of interleaved runs at OWASP parameters, so the Argon2 work dominates as in
    // production; an unknown user is checked against a dummy hash of the same cost. Minimums,
    // not medians: load from other tests only ever adds time. A leak (no hash for an unknown
    // name) is a factor of a hundred and fails every round; load can still skew one round on a
    // busy machine, so up to five rounds are measured and one within 1.5x suffices.
    let mut app = app().await;
    let hasher = PasswordHasher::default();
    let stored = hasher.hash(&Password::new("correct horse")).unwrap();
    let alice = app
        .store
        .find_user(&Username::parse("alice").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(app
        .store
        .upgrade_password_hash(&alice, &stored)
        .await
        .unwrap());
    app.login.hasher = Arc::new(hasher);
    app.login.config.ip_limit = u64::MAX;
    app.login.config.lockout_threshold = u32::MAX;
    let fastest = |times: &[std::time::Duration]| times.iter().min().unwrap().as_secs_f64();
    let mut rounds = Vec::new();
    for _ in 0..5 {
        let mut unknown = Vec::new();
        let mut wrong = Vec::new();
        for _ in 0..9 {
            for (user, times) in [("mallory", &mut unknown), ("alice", &mut wrong)] {
                let start = std::time::Instant::now();
                let e = app
                    .login
                    .login(attempt(user, "not the password"))
                    .await
                    .unwrap_err();
                times.push(start.elapsed());
                assert_eq!(e.code, ErrorCode::InvalidCredentials);
            }
        }
        let (u, w) = (fastest(&unknown), fastest(&wrong));
        if u.max(w) / u.min(w) < 1.5 {
            return;
        }
        rounds.push(format!("unknown {u:.4}s, wrong password {w:.4}s"));
    }
    panic!("fastest runs differ by 1.5x or more in every round: {rounds:?}");
}
