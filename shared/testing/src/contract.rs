//! Contract tests: each function is one test body, written once and run against the in-memory
//! twins (`shared/testing/tests/memory_twin.rs`) and against the DynamoDB adapters on the AWS
//! API emulator (`tests/integration/contract.rs`). A twin is only worth having if it behaves as
//! the adapter does; TTL expiry is where they used to differ (the twin ignored TTLs, the adapter
//! read its own wall clock), which hid a logged-out token coming back during the leeway.
//!
//! Every body takes the store's [`ManualClock`] (the one the store under test reads) and moves
//! it; none depends on the wall clock. Each panics with a message naming the broken rule.

use tokengate_claims::VerifyError;
use tokengate_domain::login::{Login, LoginAttempt};
use tokengate_domain::logout::{Logout, LogoutRequest};
use tokengate_domain::ports::{Denylist, LockState, LockoutStore, RevocationSource};
use tokengate_domain::{Clock, ManualClock, Password, Username};
use tokengate_handlers::authorizer::{Authorizer, Verdict};

/// Moves `clock` forward to `at` (tests only ever move time forward, as the clock can).
fn move_to(clock: &ManualClock, at: i64) {
    let now = clock.now();
    assert!(at >= now, "the clock only moves forward ({now} → {at})");
    clock.advance(at - now);
}

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
            username: flow.username.into(),
            password: Password::new(flow.password),
            source_ip: "192.0.2.77".into(),
        })
        .await
        .expect("the user logs in");
    let token = grant.access.token.as_str();
    let bearer = format!("Bearer {token}");
    let verifier = &flow.authorizer.verifier;
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
        flow.authorizer
            .revocations
            .revocation_status(&claims.jti, &claims.sub)
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

/// A denylist entry denies its `jti` while the store clock is before the entry's `until`, and
/// reads as absent from `until` on, whether or not the store has deleted it.
pub async fn a_denylist_entry_reads_as_absent_from_its_ttl<S>(store: &S, clock: &ManualClock)
where
    S: Denylist + RevocationSource,
{
    let until = clock.now() + 100;
    let denied = |jti: &'static str| async move {
        store
            .revocation_status(jti, "u-nobody")
            .await
            .expect("the store answers")
            .jti_denied
    };
    assert!(!denied("jti-contract").await, "nothing denylisted yet");

    store
        .deny("jti-contract", until)
        .await
        .expect("the store accepts the entry");

    assert!(denied("jti-contract").await, "denied right away");
    assert!(!denied("jti-other").await, "only the named jti is denied");
    move_to(clock, until - 1);
    assert!(
        denied("jti-contract").await,
        "denied one second before its TTL"
    );
    move_to(clock, until);
    assert!(!denied("jti-contract").await, "absent at its TTL");
}

/// A lockout record counts on while live, reads as the default from its `expires_at` on, and a
/// failure counted after that starts again at 1.
pub async fn a_lockout_record_reads_as_absent_from_its_ttl<S>(store: &S, clock: &ManualClock)
where
    S: LockoutStore,
{
    let name = Username::parse("contract-lock").expect("valid name");
    let t0 = clock.now();
    // Each failure sets the record's TTL; the second one's counts.
    let ttl = t0 + 61;
    let first = store.record_failure(&name, t0, t0 + 60).await;
    let second = store.record_failure(&name, t0 + 1, ttl).await;
    assert_eq!(
        first.expect("counted"),
        LockState {
            failures: 1,
            last_failure_at: t0,
        }
    );
    let counted = LockState {
        failures: 2,
        last_failure_at: t0 + 1,
    };
    assert_eq!(second.expect("counted"), counted);

    move_to(clock, ttl - 1);
    assert_eq!(
        store.get_lock(&name).await.expect("read"),
        counted,
        "live one second before its TTL"
    );
    move_to(clock, ttl);
    assert_eq!(
        store.get_lock(&name).await.expect("read"),
        LockState::default(),
        "absent at its TTL"
    );
    let now = clock.now();
    assert_eq!(
        store
            .record_failure(&name, now, now + 60)
            .await
            .expect("counted"),
        LockState {
            failures: 1,
            last_failure_at: now,
        },
        "an expired record starts again at 1"
    );
}
