//! Refresh-token families without a list of spent tokens (issue 23 item 2), on the in-memory
//! twins: a replay of any earlier token of a family is reuse, a token made up from the public
//! session id changes nothing, each session has its own refresh limit that only its own tokens
//! count against, and refresh asks KMS nothing for a token it refuses. Each security rule has a
//! test named after it, asserting the error code and the stored state.

use tokengate_domain::login::Grant;
use tokengate_domain::logout::LogoutRequest;
use tokengate_domain::{AuthError, ErrorCode, RefreshToken};
use tokengate_testing::memory::MemoryRig;

const SOURCE_IP: &str = "203.0.113.7";

async fn refresh(rig: &MemoryRig, token: &str) -> Result<Grant, AuthError> {
    rig.refresh.refresh(token, SOURCE_IP).await
}

/// Logs alice in and rotates her session `n` times, a minute apart (inside the per-session
/// limit); returns every grant, the login's first.
async fn rotated(rig: &MemoryRig, n: usize) -> Vec<Grant> {
    let mut grants = vec![rig.login_alice().await];
    for _ in 0..n {
        rig.clock.advance(60);
        let last = grants.last().unwrap().refresh.expose();
        grants.push(refresh(rig, &last).await.expect("the session refreshes"));
    }
    grants
}

/// Tokens for `sid` that were never issued: made-up family secrets and secrets.
fn made_up(sid: &str, n: u8) -> Vec<String> {
    (0..n)
        .map(|i| RefreshToken::from_parts(sid, [i; 16], [i; 32]).expose())
        .collect()
}

#[tokio::test]
async fn a_replay_of_any_earlier_token_of_the_family_is_reuse_and_revokes_it() {
    let rig = MemoryRig::new().await;
    let grants = rotated(&rig, 20).await;
    let sid = grants[0].refresh.sid();
    let current = &grants[20].refresh;

    // The fourth token of the family: not the previous one, and long out of any grace window.
    let e = refresh(&rig, &grants[3].refresh.expose())
        .await
        .unwrap_err();

    assert_eq!(e.code, ErrorCode::RefreshTokenReused);
    let s = rig.store.session(sid).unwrap();
    assert!(s.revoked);
    assert_eq!(s.generation, 20);
    let e = refresh(&rig, &current.expose()).await.unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::InvalidRefreshToken,
        "the newest died too"
    );
}

#[tokio::test]
async fn a_token_made_up_from_the_public_sid_never_revokes_the_session() {
    let rig = MemoryRig::new().await;
    let grants = rotated(&rig, 3).await;
    // The session id is public: every access token carries it.
    let claims = rig
        .verifier
        .verify(&grants[3].access.token, rig.clock_now())
        .unwrap();
    let sid = claims.sid.expect("access tokens name their session");
    // Another session of the same user: a real family secret, but not this family's.
    let other = rig.login_alice().await.refresh.expose();
    let other_family = other.split('.').nth(1).unwrap();
    let mut forged = made_up(&sid, 50);
    let current = grants[3].refresh.expose();
    let current_secret = current.rsplit('.').next().unwrap();
    forged.push(format!("{sid}.{other_family}.{current_secret}"));
    let before = rig.store.session(&sid).unwrap();

    for token in &forged {
        let e = refresh(&rig, token).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRefreshToken, "{token}");
    }

    assert_eq!(rig.store.session(&sid).unwrap(), before, "nothing changed");
    assert_eq!(rig.mac.calls(), 3, "only the three rotations asked KMS");
    refresh(&rig, &current).await.expect("the owner refreshes");
}

#[tokio::test]
async fn the_session_refresh_limit_answers_429_with_retry_after_before_any_kms_call() {
    let rig = MemoryRig::new().await;
    let mut grant = rig.login_alice().await;
    let sid = grant.refresh.sid().to_owned();
    let window_start = rig.clock_now();
    for _ in 0..10 {
        grant = refresh(&rig, &grant.refresh.expose()).await.unwrap();
        rig.clock.advance(2);
    }
    let (macs, signatures) = (rig.mac.calls(), rig.signer.calls());
    let full = rig.store.session(&sid).unwrap();
    assert_eq!((full.window_start, full.window_hits), (window_start, 10));

    let e = refresh(&rig, &grant.refresh.expose()).await.unwrap_err();

    assert_eq!(e.code, ErrorCode::RateLimited);
    assert_eq!(e.retry_after, Some(60 - 20));
    assert_eq!((rig.mac.calls(), rig.signer.calls()), (macs, signatures));
    assert_eq!(rig.store.session(&sid).unwrap(), full, "nothing written");
    // The window ends 60 s after the refresh that opened it.
    rig.clock.advance(39);
    let e = refresh(&rig, &grant.refresh.expose()).await.unwrap_err();
    assert_eq!((e.code, e.retry_after), (ErrorCode::RateLimited, Some(1)));
    rig.clock.advance(1);
    refresh(&rig, &grant.refresh.expose()).await.unwrap();
    let s = rig.store.session(&sid).unwrap();
    assert_eq!((s.window_start, s.window_hits), (rig.clock_now(), 1));
}

#[tokio::test]
async fn a_replay_is_detected_as_reuse_even_when_the_session_window_is_full() {
    let rig = MemoryRig::new().await;
    let first = rig.login_alice().await;
    let mut grant = refresh(&rig, &first.refresh.expose()).await.unwrap();
    rig.clock.advance(11);
    for _ in 0..9 {
        grant = refresh(&rig, &grant.refresh.expose()).await.unwrap();
    }
    let e = refresh(&rig, &grant.refresh.expose()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::RateLimited);

    let e = refresh(&rig, &first.refresh.expose()).await.unwrap_err();

    assert_eq!(e.code, ErrorCode::RefreshTokenReused);
    assert!(rig.store.session(first.refresh.sid()).unwrap().revoked);
}

#[tokio::test]
async fn made_up_tokens_for_a_victims_sid_do_not_consume_the_victims_refresh_limit() {
    let mut rig = MemoryRig::new().await;
    rig.refresh.config.refresh_ip_limit = 1_000;
    let victim = rig.login_alice().await;
    let sid = victim.refresh.sid().to_owned();

    for token in made_up(&sid, 200) {
        let e = refresh(&rig, &token).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRefreshToken);
    }

    let s = rig.store.session(&sid).unwrap();
    assert_eq!((s.window_start, s.window_hits), (0, 0), "nothing counted");
    let mut token = victim.refresh.expose();
    for i in 0..10 {
        let g = refresh(&rig, &token)
            .await
            .unwrap_or_else(|e| panic!("{i}: {e:?}"));
        token = g.refresh.expose();
    }
    assert_eq!(rig.store.session(&sid).unwrap().window_hits, 10);
}

#[tokio::test]
async fn grace_answers_count_against_the_session_limit() {
    let rig = MemoryRig::new().await;
    let g0 = rig.login_alice().await;
    let g1 = refresh(&rig, &g0.refresh.expose()).await.unwrap();
    for _ in 0..9 {
        let again = refresh(&rig, &g0.refresh.expose()).await.unwrap();
        assert_eq!(again.refresh.expose(), g1.refresh.expose());
    }

    let e = refresh(&rig, &g0.refresh.expose()).await.unwrap_err();

    assert_eq!(e.code, ErrorCode::RateLimited);
    let s = rig.store.session(g0.refresh.sid()).unwrap();
    assert_eq!((s.generation, s.window_hits, s.revoked), (1, 10, false));
}

#[tokio::test]
async fn refresh_calls_no_kms_for_a_token_it_refuses() {
    let rig = MemoryRig::new().await;
    // Reuse: a spent token of a live family.
    let reused = rotated(&rig, 2).await;
    // Forged: a made-up family secret for a real session id.
    let target = rig.login_alice().await;
    let forged = made_up(target.refresh.sid(), 1).remove(0);
    // Revoked: logged out.
    let revoked = rig.login_alice().await;
    rig.logout
        .logout(LogoutRequest {
            refresh_token: Some(&revoked.refresh.expose()),
            source_ip: SOURCE_IP,
            ..LogoutRequest::default()
        })
        .await
        .unwrap();
    // Rate-limited: a session whose window is full.
    let mut limited = rig.login_alice().await;
    for _ in 0..10 {
        limited = refresh(&rig, &limited.refresh.expose()).await.unwrap();
    }
    // Old format: `<sid>.<secret>`, as issued before families.
    let old_format = format!("{}.{}", target.refresh.sid(), "A".repeat(43));
    // Expired: idle for more than a day (checked last: it moves the clock).
    let idle = rig.login_alice().await;
    let (macs, signatures) = (rig.mac.calls(), rig.signer.calls());

    let mut codes = Vec::new();
    for token in [
        reused[0].refresh.expose(),
        forged,
        revoked.refresh.expose(),
        limited.refresh.expose(),
        old_format,
    ] {
        codes.push(refresh(&rig, &token).await.unwrap_err().code);
    }
    rig.clock.advance(24 * 3600 + 1);
    codes.push(
        refresh(&rig, &idle.refresh.expose())
            .await
            .unwrap_err()
            .code,
    );

    assert_eq!(
        codes,
        [
            ErrorCode::RefreshTokenReused,
            ErrorCode::InvalidRefreshToken,
            ErrorCode::InvalidRefreshToken,
            ErrorCode::RateLimited,
            ErrorCode::InvalidRefreshToken,
            ErrorCode::SessionExpired,
        ]
    );
    assert_eq!(rig.mac.calls(), macs, "no GenerateMac");
    assert_eq!(rig.signer.calls(), signatures, "no Sign");
}

#[tokio::test]
async fn tokens_of_the_earlier_two_part_form_are_refused_before_any_store_call() {
    let rig = MemoryRig::new().await;
    let g = rig.login_alice().await;
    let calls = rig.store.calls();
    let old_format = format!("{}.{}", g.refresh.sid(), "A".repeat(43));

    let e = refresh(&rig, &old_format).await.unwrap_err();

    assert_eq!(e.code, ErrorCode::InvalidRefreshToken);
    assert_eq!(rig.store.calls(), calls, "refused at parse");
}

/// What the authorizer's exact per-request read says about an access token of `grant`, and
/// the feed entries written so far that name its session.
async fn access_token_standing(rig: &MemoryRig, grant: &Grant) -> (bool, usize) {
    use tokengate_domain::ports::{RevocationSource, Revoked};
    let claims = rig
        .verifier
        .verify(&grant.access.token, rig.clock_now())
        .expect("the access token verifies");
    let sid = claims
        .sid
        .clone()
        .expect("access tokens name their session");
    let status = rig
        .store
        .revocation_status(&claims.jti, &claims.sub, Some(&sid))
        .await
        .expect("the store answers");
    let fed = rig
        .store
        .feed()
        .iter()
        .filter(|e| e.revoked == Revoked::Session { sid: sid.clone() })
        .count();
    (status.revokes(claims.ver), fed)
}

#[tokio::test]
async fn reuse_detection_ends_the_sessions_access_tokens() {
    let rig = MemoryRig::new().await;
    let grants = rotated(&rig, 3).await;
    let before = access_token_standing(&rig, &grants[3]).await;

    // A thief replays an old token: the family is revoked, and with it the access token the
    // legitimate (or the thieving) holder was last given.
    let e = refresh(&rig, &grants[1].refresh.expose())
        .await
        .unwrap_err();

    assert_eq!(e.code, ErrorCode::RefreshTokenReused);
    assert_eq!(before, (false, 0));
    assert_eq!(
        access_token_standing(&rig, &grants[3]).await,
        (true, 1),
        "refused, and the session's revocation is in the feed once"
    );
}

#[tokio::test]
async fn a_logout_with_the_refresh_token_alone_ends_the_sessions_access_tokens() {
    let rig = MemoryRig::new().await;
    let grant = rig.login_alice().await;
    let refresh_token = grant.refresh.expose();

    // RFC 7009 §2.1: revoking a refresh token should end the access tokens of its grant.
    rig.logout
        .logout(LogoutRequest {
            refresh_token: Some(&refresh_token),
            source_ip: SOURCE_IP,
            ..LogoutRequest::default()
        })
        .await
        .expect("logout succeeds");

    assert_eq!(access_token_standing(&rig, &grant).await, (true, 1));
}
