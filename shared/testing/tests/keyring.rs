//! The signing keyring as the running services see it, on the in-memory twins and the rig's
//! clock: a rotation reaches login, the authorizer and the JWKS within one re-read interval
//! without a restart; reads happen at most once per interval whatever the tokens say; a
//! retiring key ends at its time; an empty or unreadable keyring fails closed.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use tokengate_domain::config::RotationTiming;
use tokengate_domain::keyring::{change_keyring, LiveKeyring};
use tokengate_domain::login::LoginAttempt;
use tokengate_domain::password::Password;
use tokengate_domain::{Adapters, AuthConfig, Clock, ErrorCode, ManualClock};
use tokengate_handlers::app::App;
use tokengate_handlers::authorizer::{Authorizer, AuthorizerError, Verdict};
use tokengate_testing::memory::{MemoryBackend, MemoryRig, RIG_EPOCH};

/// The rig's re-read interval (`TOKENGATE_KEYRING_REFRESH_SECONDS`, default).
const REFRESH: i64 = 60;

fn kid_of(token: &str) -> String {
    let header = token.split('.').next().expect("a header");
    let header: serde_json::Value =
        serde_json::from_slice(&B64.decode(header).expect("base64url")).expect("JSON");
    header["kid"].as_str().expect("a kid").to_owned()
}

async fn allowed(authorizer: &Authorizer, token: &str) -> bool {
    let verdict = authorizer
        .decide(Some(&format!("Bearer {token}")), "GET", "/api/me")
        .await
        .expect("the stores answer");
    matches!(verdict, Verdict::Allow(_))
}

async fn login(rig: &MemoryRig) -> String {
    rig.login_alice().await.access.token
}

async fn published(keyring: &LiveKeyring) -> Vec<String> {
    let keys = keyring.keys().await.verifier().jwks().keys;
    keys.into_iter().map(|k| k.kid).collect()
}

#[tokio::test]
async fn a_rotation_reaches_running_services_within_the_refresh_interval_without_a_restart() {
    let rig = MemoryRig::new().await;
    let authorizer = rig.authorizer("");
    let old_token = login(&rig).await;
    let timing = RotationTiming::from_env(&tokengate_domain::config::Env::from_fn(|_| None))
        .expect("defaults");

    // `keys create`: a new key joins as next. Nobody re-reads before the interval is over.
    let new = rig.signer.generate_key("k2");
    change_keyring(&*rig.store, |r| r.add_next(new.clone(), rig.clock_now()))
        .await
        .unwrap();
    assert_eq!(published(&rig.keyring).await, ["test-key"]);
    rig.clock.advance(REFRESH);
    assert_eq!(published(&rig.keyring).await, ["k2", "test-key"]);
    assert_eq!(kid_of(&login(&rig).await), "test-key", "next does not sign");

    // `keys promote k2`: login signs with it from its next re-read on.
    let now = rig.clock_now();
    change_keyring(&*rig.store, |r| {
        r.promote("k2", now, timing.retiring_secs(), Some(REFRESH))
    })
    .await
    .unwrap();
    assert_eq!(kid_of(&login(&rig).await), "test-key", "not re-read yet");
    rig.clock.advance(REFRESH);
    let new_token = login(&rig).await;
    assert_eq!(kid_of(&new_token), "k2");
    assert!(
        allowed(&authorizer, &old_token).await,
        "the retiring key verifies"
    );
    assert!(allowed(&authorizer, &new_token).await);
    assert_eq!(published(&rig.keyring).await, ["k2", "test-key"]);

    // `keys retire test-key`: its tokens are refused from the next re-read on.
    change_keyring(&*rig.store, |r| r.retire("test-key"))
        .await
        .unwrap();
    rig.clock.advance(REFRESH);
    assert!(!allowed(&authorizer, &old_token).await, "retired");
    assert!(allowed(&authorizer, &new_token).await);
    assert_eq!(published(&rig.keyring).await, ["k2"]);
}

#[tokio::test]
async fn hostile_tokens_with_random_kids_do_not_amplify_keyring_reads() {
    let rig = MemoryRig::new().await;
    let authorizer = rig.authorizer("");
    let hostile = |i: usize| {
        let header = format!(r#"{{"alg":"ES256","typ":"at+jwt","kid":"random-{i}"}}"#);
        format!(
            "Bearer {}.{}.{}",
            B64.encode(header),
            B64.encode(r#"{"sub":"x"}"#),
            B64.encode([7u8; 64])
        )
    };
    let reads = || rig.store.calls();

    let before = reads();
    for i in 0..1000 {
        let verdict = authorizer.decide(Some(&hostile(i)), "GET", "/").await;
        assert_eq!(verdict.expect("answered"), Verdict::Unauthorized);
    }
    let within_interval = reads() - before;
    rig.clock.advance(REFRESH);
    let before = reads();
    for i in 1000..2000 {
        let verdict = authorizer.decide(Some(&hostile(i)), "GET", "/").await;
        assert_eq!(verdict.expect("answered"), Verdict::Unauthorized);
    }
    let after_interval = reads() - before;

    assert_eq!(within_interval, 0, "no store call for unknown kids");
    assert_eq!(
        after_interval, 1,
        "one scheduled keyring read, whatever the kids"
    );
}

#[tokio::test]
async fn a_retiring_key_stops_verifying_at_its_time_without_a_read() {
    let rig = MemoryRig::new().await;
    let authorizer = rig.authorizer("");
    let old_token = login(&rig).await;
    let new = rig.signer.generate_key("k2");
    let t0 = rig.clock_now();
    change_keyring(&*rig.store, |r| {
        r.add_next(new.clone(), t0)?;
        r.promote("k2", t0, REFRESH + 30, None)
    })
    .await
    .unwrap();
    rig.clock.advance(REFRESH);
    assert!(
        allowed(&authorizer, &old_token).await,
        "retiring, before its time"
    );

    rig.clock.advance(30);
    let before = rig.store.calls();
    let refused = !allowed(&authorizer, &old_token).await;

    assert!(refused, "refused from its time on");
    assert_eq!(rig.store.calls(), before, "no keyring read needed for that");
    assert_eq!(published(&rig.keyring).await, ["k2"]);
}

/// The rig's services on a keyring store of their own that holds nothing.
async fn with_empty_keyring(rig: &MemoryRig) -> App {
    let empty = Arc::new(MemoryBackend::new(rig.clock.clone()));
    let keyring = LiveKeyring::load(empty, rig.clock.clone(), &rig.config.auth).await;
    App::build(
        rig.config.clone(),
        Adapters {
            keyring: Some(Arc::new(keyring)),
            ..rig.adapters.clone()
        },
    )
}

#[tokio::test]
async fn an_empty_keyring_makes_login_answer_503_and_the_authorizer_fail_closed() {
    let rig = MemoryRig::new().await;
    let token = login(&rig).await;
    let app = with_empty_keyring(&rig).await;
    let signatures = rig.signer.calls();

    let login = app
        .login()
        .unwrap()
        .login(LoginAttempt {
            ask: Default::default(),
            username: "alice".into(),
            password: Password::new(MemoryRig::PASSWORD),
            source_ip: "192.0.2.1".into(),
            device: None,
        })
        .await;
    let authorizer = app.authorizer().unwrap();
    let decided = authorizer
        .decide(Some(&format!("Bearer {token}")), "GET", "/api/me")
        .await;
    let event = serde_json::json!({
        "type": "TOKEN",
        "authorizationToken": format!("Bearer {token}"),
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:api/v1/GET/api/me",
    });
    let handled = authorizer.handle(event).await;

    let err = login.expect_err("nothing to sign with");
    assert_eq!(
        (err.code, err.code.status()),
        (ErrorCode::ServiceUnavailable, 503)
    );
    assert_eq!(err.retry_after, Some(2));
    assert_eq!(rig.signer.calls(), signatures, "no KMS Sign without a key");
    assert!(decided.is_err(), "fail closed: {decided:?}");
    assert!(matches!(handled, Err(AuthorizerError::Unavailable)));
}

#[tokio::test]
async fn a_failed_read_keeps_the_last_keyring_and_is_retried_at_most_every_two_seconds() {
    let rig = MemoryRig::new().await;
    rig.clock.advance(REFRESH);
    rig.store.set_unavailable(true);

    let before = rig.store.calls();
    for _ in 0..100 {
        let keys = rig.keyring.keys().await;
        assert_eq!(keys.signing_key().map(|k| k.kid.as_str()), Some("test-key"));
    }
    let failed_reads = rig.store.calls() - before;
    rig.clock.advance(2);
    rig.store.set_unavailable(false);
    let before = rig.store.calls();
    for _ in 0..100 {
        rig.keyring.keys().await;
    }
    let retried = rig.store.calls() - before;

    assert_eq!(
        failed_reads, 1,
        "one attempt, then the last keyring is used"
    );
    assert_eq!(retried, 1, "tried again after two seconds, once");
}

#[tokio::test]
async fn an_unreadable_keyring_at_cold_start_is_read_again_by_a_later_request() {
    let clock = Arc::new(ManualClock::new(RIG_EPOCH));
    let store = Arc::new(MemoryBackend::new(clock.clone()));
    store.set_unavailable(true);
    let keyring = LiveKeyring::load(store.clone(), clock.clone(), &AuthConfig::new("i", "a")).await;
    assert!(!keyring.keys().await.is_known());
    store.set_unavailable(false);
    let ring = change_keyring(&*store, |r| {
        r.adopt(
            tokengate_testing::memory::MemorySigner::generate("k").new_key("k"),
            clock.now(),
        )
    })
    .await
    .unwrap();
    assert_eq!(ring.version(), 1);
    clock.advance(2);
    let keys = keyring.keys().await;
    assert!(keys.is_known());
    assert_eq!(keys.signing_key().map(|k| k.kid.as_str()), Some("k"));
}
