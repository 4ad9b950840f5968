//! Device credentials and the lockout, on the memory rig (the acceptance scenario runs on the
//! emulator too, in `tests/integration/lockout.rs`): a client that signed in before walks
//! through a lockout an attacker holds; a credential counts only for its own account, at the
//! user's current token version, unexpired and intact; a device's own failures lock only that
//! device; verifying costs no KMS request.

use tokengate_domain::device::DeviceCredential;
use tokengate_domain::lockout::{Counters, DeviceCounter, LockState, LockStates};
use tokengate_domain::login::LoginAttempt;
use tokengate_domain::password_change::PasswordChangeRequest;
use tokengate_domain::ports::{LockoutStore, User, UserStatus, UserStore};
use tokengate_domain::{AuthError, ErrorCode, Password, PasswordHasher, Username};
use tokengate_testing::memory::{self, MemoryRig};

const T0: i64 = memory::RIG_EPOCH;
const OWNER_NET: &str = "192.0.2.1";
const OWNER_LATER: &str = "203.0.113.50";
const NEW_NET: &str = "198.51.100.200";

fn attempt(user: &str, pw: &str, ip: &str, device: Option<&DeviceCredential>) -> LoginAttempt {
    LoginAttempt {
        ask: Default::default(),
        username: user.to_owned(),
        password: Password::new(pw),
        source_ip: ip.to_owned(),
        device: device.cloned(),
    }
}

/// Alice signs in with her password and keeps the device credential she is given.
async fn sign_in(rig: &MemoryRig, ip: &str) -> DeviceCredential {
    let grant = rig
        .login
        .login(attempt("alice", MemoryRig::PASSWORD, ip, None))
        .await
        .expect("alice signs in");
    let device = grant.device.expect("a device credential");
    assert_eq!(device.max_age, 90 * 24 * 3600);
    device.credential
}

async fn owner(rig: &MemoryRig, ip: &str, device: &DeviceCredential) -> Result<(), AuthError> {
    rig.login
        .login(attempt("alice", MemoryRig::PASSWORD, ip, Some(device)))
        .await
        .map(drop)
}

/// 120 wrong passwords for alice spread over 30 addresses, 4 each (under the per-source
/// threshold of 5): the 100th reaches the ceiling, the last 20 are refused.
async fn hold_the_account(rig: &MemoryRig) {
    let mut answers = Vec::new();
    for _ in 0..4 {
        for net in 0..30 {
            let ip = format!("10.0.{net}.1");
            let e = rig
                .login
                .login(attempt("alice", "a guess", &ip, None))
                .await
                .expect_err(&ip);
            answers.push(e);
        }
    }
    let failed = answers
        .iter()
        .filter(|e| e.code == ErrorCode::InvalidCredentials)
        .count();
    assert_eq!(failed, 100);
    assert!(answers[100..].iter().all(|e| *e == locked(900)));
}

fn locked(secs: u64) -> AuthError {
    AuthError {
        code: ErrorCode::AccountLocked,
        retry_after: Some(secs),
    }
}

fn counters(user: &str, network: &str) -> Counters {
    Counters {
        username: Username::parse(user).unwrap(),
        network: network.to_owned(),
    }
}

/// The credential with the first character of its MAC changed.
fn tamper(credential: &DeviceCredential) -> DeviceCredential {
    let (signed, mac) = credential.expose().rsplit_once('.').unwrap();
    let other = if mac.starts_with('A') { "B" } else { "A" };
    DeviceCredential::new(format!("{signed}.{other}{}", &mac[1..]))
}

fn device_id(credential: &DeviceCredential) -> String {
    use base64::Engine;
    let payload = credential.expose().split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    claims["did"].as_str().unwrap().to_owned()
}

async fn device_state(rig: &MemoryRig, credential: &DeviceCredential) -> LockState {
    let counter = DeviceCounter {
        username: Username::parse("alice").unwrap(),
        device_id: device_id(credential),
    };
    rig.store.device_lock_state(&counter).await.unwrap()
}

#[tokio::test]
async fn the_owner_with_a_device_credential_walks_through_a_lockout_an_attacker_holds() {
    let rig = MemoryRig::new().await;
    let device = sign_in(&rig, OWNER_NET).await;
    hold_the_account(&rig).await;

    let owner = owner(&rig, OWNER_LATER, &device).await;
    let stranger = rig
        .login
        .login(attempt("alice", MemoryRig::PASSWORD, NEW_NET, None))
        .await;

    owner.expect("the owner's device signs in at once");
    assert_eq!(stranger.unwrap_err(), locked(900));
    let account = rig
        .store
        .lock_states(&counters("alice", NEW_NET))
        .await
        .unwrap()
        .account;
    assert_eq!(
        account,
        LockState {
            failures: 100,
            last_failure_at: T0,
            locked_until: T0 + 900,
        },
        "the owner's success by device leaves the ceiling to the others"
    );
    assert_eq!(device_state(&rig, &device).await, LockState::default());
}

#[tokio::test]
async fn a_device_credential_replayed_for_another_account_is_ignored() {
    let rig = MemoryRig::new().await;
    let params = rig.config.auth.hash_params;
    let hash = PasswordHasher::new(params)
        .unwrap()
        .hash(&Password::new("bob's password"))
        .unwrap();
    let bob = User {
        username: Username::parse("bob").unwrap(),
        user_id: "u-bob".into(),
        password_hash: hash,
        roles: vec![],
        status: UserStatus::Active,
        token_version: 1,
    };
    rig.store.create_user(&bob).await.unwrap();
    let bobs = rig
        .login
        .login(attempt("bob", "bob's password", OWNER_NET, None))
        .await
        .unwrap()
        .device
        .unwrap()
        .credential;
    hold_the_account(&rig).await;

    let replayed = owner(&rig, OWNER_LATER, &bobs).await;

    assert_eq!(replayed.unwrap_err(), locked(900));
}

#[tokio::test]
async fn a_device_credential_from_before_a_password_change_or_a_global_logout_is_ignored() {
    let rig = MemoryRig::new().await;
    let before_logout = sign_in(&rig, OWNER_NET).await;
    rig.store.sign_out_everywhere("u-alice").await.unwrap();
    let before_change = sign_in(&rig, OWNER_NET).await;
    let changed = rig
        .password_change()
        .change(PasswordChangeRequest {
            client_id: String::new(),
            scope: String::new(),
            user_id: "u-alice".into(),
            current_password: Password::new(MemoryRig::PASSWORD),
            new_password: "a much better passphrase".into(),
            source_ip: OWNER_NET.into(),
            device: Some(before_change.clone()),
        })
        .await
        .expect("changed");
    let fresh = changed.device.expect("a fresh credential").credential;
    hold_the_account(&rig).await;

    for old in [&before_logout, &before_change] {
        let e = rig
            .login
            .login(attempt(
                "alice",
                "a much better passphrase",
                OWNER_LATER,
                Some(old),
            ))
            .await
            .unwrap_err();
        assert_eq!(e, locked(900));
    }
    rig.login
        .login(attempt(
            "alice",
            "a much better passphrase",
            OWNER_LATER,
            Some(&fresh),
        ))
        .await
        .expect("the credential the change issued counts");
}

#[tokio::test]
async fn a_tampered_or_expired_device_credential_is_ignored() {
    let rig = MemoryRig::new().await;
    let device = sign_in(&rig, OWNER_NET).await;
    let tampered = tamper(&device);
    hold_the_account(&rig).await;

    assert_eq!(
        owner(&rig, OWNER_LATER, &tampered).await.unwrap_err(),
        locked(900)
    );
    // 90 days on, the credential has expired; the lock has long ended, so hold it again.
    rig.clock.advance(90 * 24 * 3600);
    hold_the_account(&rig).await;
    assert_eq!(
        owner(&rig, OWNER_LATER, &device).await.unwrap_err(),
        locked(900)
    );
}

#[tokio::test]
async fn a_devices_own_failures_lock_only_that_device() {
    let rig = MemoryRig::new().await;
    let device = sign_in(&rig, OWNER_NET).await;
    let mut answers = Vec::new();
    for _ in 0..6 {
        let e = rig
            .login
            .login(attempt("alice", "a typo", OWNER_LATER, Some(&device)))
            .await
            .unwrap_err();
        answers.push(e);
    }

    assert!(answers[..5]
        .iter()
        .all(|e| e.code == ErrorCode::InvalidCredentials));
    assert_eq!(
        answers[5],
        locked(60),
        "30 s left, answered in whole minutes"
    );
    assert_eq!(
        device_state(&rig, &device).await,
        LockState {
            failures: 5,
            last_failure_at: T0,
            locked_until: T0 + 30,
        }
    );
    assert_eq!(
        rig.store
            .lock_states(&counters("alice", OWNER_LATER))
            .await
            .unwrap(),
        LockStates::default(),
        "neither the network's counter nor the ceiling counted the device's failures"
    );
    rig.login
        .login(attempt("alice", MemoryRig::PASSWORD, OWNER_LATER, None))
        .await
        .expect("the same network without the credential is not locked");
    assert_eq!(
        owner(&rig, OWNER_LATER, &device).await.unwrap_err(),
        locked(60),
        "the device stays locked"
    );
}

#[tokio::test]
async fn a_device_credential_does_not_lift_the_per_network_rate_limit() {
    let rig = MemoryRig::new().await;
    let device = sign_in(&rig, OWNER_NET).await;
    for i in 0..30 {
        let _ = rig
            .login
            .login(attempt(&format!("user-{i}"), "a guess", OWNER_LATER, None))
            .await;
    }

    let e = owner(&rig, OWNER_LATER, &device).await.unwrap_err();

    assert_eq!(e.code, ErrorCode::RateLimited);
}

#[tokio::test]
async fn garbage_device_credentials_cost_no_kms_request_beyond_one_key_derivation() {
    let mut rig = MemoryRig::new().await;
    rig.login.config.ip_limit = u64::MAX;
    rig.login.config.lockout_threshold = u32::MAX;
    rig.login.config.account_failure_ceiling = u32::MAX;
    let garbage = |i: u32| DeviceCredential::new(format!("dv1.{i}.garbage"));

    for i in 0..50 {
        let _ = rig
            .login
            .login(attempt("alice", "a guess", NEW_NET, Some(&garbage(i))))
            .await;
    }
    assert_eq!(
        rig.device_mac.calls(),
        0,
        "nothing to verify, nothing issued"
    );
    let device = sign_in(&rig, OWNER_NET).await;
    let forged = tamper(&device);
    for i in 0..50 {
        let presented = if i % 2 == 0 {
            garbage(i)
        } else {
            forged.clone()
        };
        let _ = rig
            .login
            .login(attempt("alice", "a guess", NEW_NET, Some(&presented)))
            .await;
    }

    assert_eq!(
        rig.device_mac.calls(),
        1,
        "the one derivation, at the first issue"
    );
    assert_eq!(rig.mac.calls(), 0, "refresh's MAC untouched");
}

#[tokio::test]
async fn a_failed_key_derivation_fails_no_login_and_issues_no_credential() {
    let rig = MemoryRig::new().await;
    rig.device_mac.set_unavailable(true);

    let grant = rig
        .login
        .login(attempt("alice", MemoryRig::PASSWORD, OWNER_NET, None))
        .await
        .expect("the login itself succeeds");

    assert_eq!(grant.device, None);
}

#[tokio::test]
async fn locked_answers_round_retry_after_up_to_a_whole_minute_never_before_the_lock_ends() {
    let rig = MemoryRig::new().await;
    for _ in 0..5 {
        let _ = rig
            .login
            .login(attempt("alice", "a guess", NEW_NET, None))
            .await;
    }
    let mut seen = Vec::new();
    for wait in [0, 7, 22] {
        rig.clock.advance(wait);
        let e = rig
            .login
            .login(attempt("alice", MemoryRig::PASSWORD, NEW_NET, None))
            .await
            .unwrap_err();
        seen.push(e);
    }
    // 30 s, 23 s and 1 s left: each answered as one minute, at least what is left.
    assert_eq!(seen, [locked(60), locked(60), locked(60)]);
    rig.clock.advance(1);
    rig.login
        .login(attempt("alice", MemoryRig::PASSWORD, NEW_NET, None))
        .await
        .expect("admitted when the lock ends");
}

#[tokio::test]
async fn an_unknown_name_with_a_device_credential_takes_todays_path() {
    let rig = MemoryRig::new().await;
    let device = sign_in(&rig, OWNER_NET).await;

    let e = rig
        .login
        .login(attempt("mallory", "a guess", NEW_NET, Some(&device)))
        .await
        .unwrap_err();

    assert_eq!(e.code, ErrorCode::InvalidCredentials);
    let states = rig
        .store
        .lock_states(&counters("mallory", NEW_NET))
        .await
        .unwrap();
    assert_eq!(states.source.failures, 1);
    assert_eq!(states.account.failures, 1);
}
