//! The contract that spans ports: a logged-out access token stays refused by the authorizer
//! for exactly as long as a verifier would otherwise accept it.

use tokengate_claims::VerifyError;
use tokengate_domain::login::{Login, LoginAttempt};
use tokengate_domain::logout::{Logout, LogoutRequest};
use tokengate_domain::revocation_feed::CATCH_UP_INTERVAL_MS;
use tokengate_domain::{Clock, ManualClock, Password};
use tokengate_handlers::authorizer::{Authorizer, Verdict};

use super::move_to;

/// A login, logout and authorizer wired to one set of stores, and the clock they all read.
pub struct TokenFlow<'a> {
    /// Login, for a fresh access token.
    pub login: &'a Login,
    /// Logout, which denylists the access token.
    pub logout: &'a Logout,
    /// The authorizer over the same stores; its verifier is the one that must refuse the
    /// token once the denylist entry is gone.
    pub authorizer: &'a Authorizer,
    /// The clock every part reads, stores included.
    pub clock: &'a ManualClock,
    /// An active user allowed `GET /api/me` by the authorizer's route policy.
    pub username: &'a str,
    /// That user's password.
    pub password: &'a str,
}

/// Logout denylists the access token's `jti` until the first second at which the verifier
/// refuses the token as expired (`exp + leeway + 1`): at `exp + leeway - 1` and at
/// `exp + leeway` the verifier alone would still accept the token, and it is the denylist that
/// refuses it; at `exp + leeway + 1` the verifier refuses it, and the entry has gone with no
/// gap between the two.
pub async fn a_logged_out_token_stays_refused_until_exp_plus_leeway(flow: TokenFlow<'_>) {
    // Arrange: a fresh access token, allowed.
    let grant = flow
        .login
        .login(LoginAttempt {
            ask: Default::default(),
            username: flow.username.into(),
            password: Password::new(flow.password),
            source_ip: "192.0.2.77".into(),
            device: None,
        })
        .await
        .expect("the user logs in");
    let token = grant.access.token.as_str();
    let bearer = format!("Bearer {token}");
    let keys = flow.authorizer.keyring.keys().await;
    let verifier = keys.verifier();
    let claims = verifier
        .verify(token, flow.clock.now())
        .expect("a fresh token verifies");
    let decide = || async {
        flow.authorizer
            .decide(Some(&bearer), "GET", "/api/me")
            .await
            .expect("the stores answer")
    };
    let denied = || async {
        flow.logout
            .revocations
            .revocation_status(&claims.jti, &claims.sub, claims.sid.as_deref())
            .await
            .expect("the stores answer")
            .jti_denied
    };
    assert_eq!(decide().await, Verdict::Allow(claims.clone()));
    assert!(!denied().await, "a fresh token is not denylisted");

    // Act: log out with the access token.
    flow.logout
        .logout(LogoutRequest {
            access_token: Some(token),
            ..LogoutRequest::default()
        })
        .await
        .expect("logout succeeds");
    // A warm authorizer sees it at its next catch-up, within one interval (docs/revocation.md).
    flow.clock.advance_ms(CATCH_UP_INTERVAL_MS);

    // Assert: refused by the denylist for as long as the verifier would accept the token.
    let leeway = verifier.validation().leeway_secs;
    for at in [
        flow.clock.now(),
        claims.exp,
        claims.exp + leeway - 1,
        claims.exp + leeway,
    ] {
        move_to(flow.clock, at);
        assert_eq!(
            verifier.verify(token, at).as_ref(),
            Ok(&claims),
            "at {at} (exp {} + leeway {leeway}) the verifier alone still accepts the token",
            claims.exp
        );
        assert!(denied().await, "at {at} the logged-out token is denylisted");
        assert_eq!(decide().await, Verdict::Unauthorized, "refused at {at}");
    }
    // One second later the verifier refuses it itself, and the entry is no longer needed.
    let at = claims.exp + leeway + 1;
    move_to(flow.clock, at);
    assert_eq!(verifier.verify(token, at), Err(VerifyError::Expired));
    assert_eq!(decide().await, Verdict::Unauthorized, "refused at {at}");
    assert!(
        !denied().await,
        "the entry reads as absent once its TTL ({at}) is reached"
    );
}
