//! Refresh and logout cannot be turned against the service or the user (issue 15 items 3, 4):
//! a made-up or dead refresh token costs no KMS request, one source network is limited, and
//! only a live credential can end sessions — least of all every session of the user. Each test
//! asserts the error code and the stored state, on the in-memory twins.

use tokengate_domain::login::Grant;
use tokengate_domain::logout::LogoutRequest;
use tokengate_domain::ports::{UserStatus, UserStore};
use tokengate_domain::{ErrorCode, RefreshToken, Username};
use tokengate_testing::memory::{MemoryRig, RIG_EPOCH};

const SOURCE_IP: &str = "203.0.113.7";

async fn version(rig: &MemoryRig) -> u64 {
    rig.store
        .find_user(&Username::parse("alice").unwrap())
        .await
        .unwrap()
        .unwrap()
        .token_version
}

async fn refresh(rig: &MemoryRig, g: &Grant) -> Grant {
    rig.refresh
        .refresh(&g.refresh.expose(), SOURCE_IP)
        .await
        .expect("the session refreshes")
}

async fn logout(rig: &MemoryRig, refresh_token: Option<&str>, access: Option<&str>, global: bool) {
    rig.logout
        .logout(LogoutRequest {
            refresh_token,
            access_token: access,
            global,
            source_ip: SOURCE_IP,
        })
        .await
        .expect("logout answers 204 whatever it was given");
}

#[tokio::test]
async fn made_up_refresh_tokens_cost_no_kms_request_and_the_source_limit_answers_429() {
    let mut rig = MemoryRig::new().await;
    // Raised so that all 1,000 reach the session read; the default limit is tested below.
    rig.refresh.config.refresh_ip_limit = 1_000;
    let g = rig.login_alice().await;
    let before = rig.store.session(g.refresh.sid()).unwrap();
    for i in 0..1_000u32 {
        // Half name no session, half name alice's session with a wrong secret.
        let token = if i % 2 == 0 {
            RefreshToken::generate()
        } else {
            let mut secret = [0u8; 32];
            secret[..4].copy_from_slice(&i.to_be_bytes());
            RefreshToken::from_parts(g.refresh.sid(), [7; 16], secret)
        };
        let e = rig
            .refresh
            .refresh(&token.expose(), SOURCE_IP)
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRefreshToken);
    }
    assert_eq!(rig.mac.calls(), 0, "no GenerateMac for a made-up token");
    assert_eq!(rig.store.session(g.refresh.sid()).unwrap(), before);

    let e = rig
        .refresh
        .refresh(&RefreshToken::generate().expose(), SOURCE_IP)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::RateLimited);
    assert_eq!(e.retry_after, Some(60 - (RIG_EPOCH % 60) as u64));
    // Over the limit, even the real token waits: the limit is per network, not per token.
    let e = rig
        .refresh
        .refresh(&g.refresh.expose(), SOURCE_IP)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::RateLimited);
    assert_eq!(rig.store.session(g.refresh.sid()).unwrap(), before);
    assert_eq!(rig.mac.calls(), 0);
    // The next window admits the network again.
    rig.clock.advance(60);
    refresh(&rig, &g).await;
    assert_eq!(rig.mac.calls(), 1);
}

#[tokio::test]
async fn the_default_refresh_limit_is_120_a_minute_per_ipv4_address_or_ipv6_slash_64() {
    let rig = MemoryRig::new().await;
    let made_up = RefreshToken::generate().expose();
    for i in 0..120u32 {
        // Every address of one /64 is one network.
        let ip = format!("2001:db8:7:7::{:x}", i + 1);
        let e = rig.refresh.refresh(&made_up, &ip).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRefreshToken, "request {i}");
    }
    let e = rig
        .refresh
        .refresh(&made_up, "2001:db8:7:7:ffff::1")
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::RateLimited);
    let e = rig
        .refresh
        .refresh(&made_up, "2001:db8:7:8::1")
        .await
        .unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::InvalidRefreshToken,
        "the next /64 is free"
    );
    rig.clock.advance(60);
    let e = rig
        .refresh
        .refresh(&made_up, "2001:db8:7:7::1")
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidRefreshToken, "a new window");
}

#[tokio::test]
async fn tokens_of_revoked_or_expired_sessions_cost_no_kms_request() {
    let rig = MemoryRig::new().await;
    let revoked = rig.login_alice().await;
    logout(&rig, Some(&revoked.refresh.expose()), None, false).await;
    let idle = rig.login_alice().await;
    rig.clock.advance(24 * 3600 + 1);
    let signatures = rig.signer.calls();
    for (g, code) in [
        (&revoked, ErrorCode::InvalidRefreshToken),
        (&idle, ErrorCode::SessionExpired),
    ] {
        let e = rig
            .refresh
            .refresh(&g.refresh.expose(), SOURCE_IP)
            .await
            .unwrap_err();
        assert_eq!(e.code, code);
    }
    assert_eq!(rig.mac.calls(), 0);
    assert_eq!(rig.signer.calls(), signatures, "no Sign either");
}

#[tokio::test]
async fn a_signed_out_session_costs_kms_at_most_once_and_is_then_revoked() {
    let rig = MemoryRig::new().await;
    let g = rig.login_alice().await;
    rig.store.sign_out_everywhere("u-alice").await.unwrap();
    let mut codes = Vec::new();
    for _ in 0..5 {
        let e = rig
            .refresh
            .refresh(&g.refresh.expose(), SOURCE_IP)
            .await
            .unwrap_err();
        codes.push(e.code);
    }
    // Once revoked, the session answers as every revoked one does: sign in again either way.
    assert_eq!(codes[0], ErrorCode::SessionExpired);
    assert_eq!(codes[1..], [ErrorCode::InvalidRefreshToken; 4]);
    // The session item does not carry the owner's version: the first attempt learns it from
    // the conditional write, after the MAC, and revokes the session for every later attempt.
    assert_eq!(rig.mac.calls(), 1);
    let s = rig.store.session(g.refresh.sid()).unwrap();
    assert!(s.revoked);
    assert_eq!(s.generation, 0);
}

#[tokio::test]
async fn a_reuse_revoked_refresh_token_cannot_sign_the_user_out_everywhere() {
    let rig = MemoryRig::new().await;
    let stolen = rig.login_alice().await;
    let other = rig.login_alice().await;
    let rotated = refresh(&rig, &stolen).await;
    rig.clock.advance(11);
    let e = rig
        .refresh
        .refresh(&stolen.refresh.expose(), SOURCE_IP)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::RefreshTokenReused);

    // The thief tries again and again, with the spent token and with the family's last one.
    for token in [stolen.refresh.expose(), rotated.refresh.expose()] {
        for _ in 0..3 {
            logout(&rig, Some(&token), None, true).await;
        }
    }

    assert_eq!(version(&rig).await, 1, "no token-version bump");
    assert!(!rig.store.session(other.refresh.sid()).unwrap().revoked);
    refresh(&rig, &other).await;
}

#[tokio::test]
async fn a_spent_refresh_token_outside_the_grace_window_ends_nothing_at_logout() {
    // Changed rule: logout used to end the session for its previous token at any age.
    let rig = MemoryRig::new().await;
    let g0 = rig.login_alice().await;
    let g1 = refresh(&rig, &g0).await;
    rig.clock.advance(11);
    logout(&rig, Some(&g0.refresh.expose()), None, true).await;
    let s = rig.store.session(g0.refresh.sid()).unwrap();
    assert!(!s.revoked);
    assert_eq!(version(&rig).await, 1);
    refresh(&rig, &g1).await;
}

#[tokio::test]
async fn the_in_grace_predecessor_still_logs_out_everywhere() {
    let rig = MemoryRig::new().await;
    let g0 = rig.login_alice().await;
    let other = rig.login_alice().await;
    refresh(&rig, &g0).await;
    rig.clock.advance(5);
    logout(&rig, Some(&g0.refresh.expose()), None, true).await;
    assert!(rig.store.session(g0.refresh.sid()).unwrap().revoked);
    assert_eq!(version(&rig).await, 2);
    let e = rig
        .refresh
        .refresh(&other.refresh.expose(), SOURCE_IP)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::SessionExpired);
}

#[tokio::test]
async fn a_stale_access_token_cannot_sign_the_user_out_everywhere() {
    let rig = MemoryRig::new().await;
    let old = rig.login_alice().await;
    // The owner signs out everywhere; the old access token keeps a valid signature (ver 1).
    logout(&rig, Some(&old.refresh.expose()), None, true).await;
    assert_eq!(version(&rig).await, 2);
    let current = rig.login_alice().await;
    let jti = rig
        .verifier
        .verify(&old.access.token, rig.clock_now())
        .unwrap()
        .jti;

    logout(&rig, None, Some(&old.access.token), true).await;

    assert_eq!(version(&rig).await, 2, "no bump by a stale token");
    assert!(!rig.store.is_denied(&jti), "a dead token changes nothing");
    assert!(!rig.store.session(current.refresh.sid()).unwrap().revoked);
    refresh(&rig, &current).await;
}

#[tokio::test]
async fn a_denylisted_access_token_cannot_sign_the_user_out_everywhere() {
    let rig = MemoryRig::new().await;
    let a = rig.login_alice().await;
    let b = rig.login_alice().await;
    logout(&rig, None, Some(&a.access.token), false).await;
    assert!(rig.store.session(a.refresh.sid()).unwrap().revoked);

    logout(&rig, None, Some(&a.access.token), true).await;

    assert_eq!(version(&rig).await, 1);
    refresh(&rig, &b).await;
}

#[tokio::test]
async fn a_live_access_token_alone_signs_out_everywhere() {
    let rig = MemoryRig::new().await;
    let a = rig.login_alice().await;
    let b = rig.login_alice().await;
    let jti = rig
        .verifier
        .verify(&a.access.token, rig.clock_now())
        .unwrap()
        .jti;

    logout(&rig, None, Some(&a.access.token), true).await;

    assert_eq!(version(&rig).await, 2);
    assert!(rig.store.is_denied(&jti));
    assert!(rig.store.session(a.refresh.sid()).unwrap().revoked);
    let e = rig
        .refresh
        .refresh(&b.refresh.expose(), SOURCE_IP)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::SessionExpired);
}

#[tokio::test]
async fn a_disabled_users_live_looking_session_signs_out_nothing() {
    let rig = MemoryRig::new().await;
    let g = rig.login_alice().await;
    let alice = Username::parse("alice").unwrap();
    rig.store
        .set_status(&alice, UserStatus::Disabled)
        .await
        .unwrap();
    logout(&rig, Some(&g.refresh.expose()), Some(&g.access.token), true).await;
    assert_eq!(version(&rig).await, 2, "only the disable's bump");
}

#[tokio::test]
async fn logout_is_limited_per_source_network_apart_from_refresh() {
    let mut rig = MemoryRig::new().await;
    rig.logout.config.refresh_ip_limit = 3;
    let g = rig.login_alice().await;
    let made_up = RefreshToken::generate().expose();
    for _ in 0..3 {
        logout(&rig, Some(&made_up), None, true).await;
    }
    let e = rig
        .logout
        .logout(LogoutRequest {
            refresh_token: Some(&g.refresh.expose()),
            global: true,
            source_ip: SOURCE_IP,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::RateLimited);
    assert_eq!(e.retry_after, Some(60 - (RIG_EPOCH % 60) as u64));
    assert!(!rig.store.session(g.refresh.sid()).unwrap().revoked);
    assert_eq!(version(&rig).await, 1);
    // Refresh counts apart: the logout burst does not refuse it.
    refresh(&rig, &g).await;
}

/// Moved from `flows.rs` (length); unchanged rule: knowing a session id is not enough.
#[tokio::test]
async fn logout_with_a_session_id_but_wrong_secret_ends_nothing() {
    let rig = MemoryRig::new().await;
    let g = rig.login_alice().await;
    let forged = RefreshToken::from_parts(g.refresh.sid(), [1; 16], [1; 32]).expose();
    logout(&rig, Some(&forged), None, true).await;
    assert!(!rig.store.session(g.refresh.sid()).unwrap().revoked);
    assert_eq!(version(&rig).await, 1);
}
