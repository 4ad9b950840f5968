//! The lockout on the DynamoDB adapter through the production wiring (the same rules run on the
//! memory rig in `shared/domain/tests/lockout.rs`): a network locked out of an account does
//! not lock its owner out elsewhere, the account-wide ceiling does, and concurrent guesses
//! reach Argon2 no more often than the threshold allows; a client holding a device credential
//! from an earlier login walks through the ceiling an attacker holds, and only a valid
//! credential of the account at its current version does. Each test asserts answers and items.

use std::sync::Arc;

use futures::future::join_all;
use tokengate_domain::device::DeviceCredential;
use tokengate_domain::login::LoginAttempt;
use tokengate_domain::ports::UserStore;
use tokengate_domain::{AuthError, ErrorCode, Password, PasswordHasher};
use tokengate_testing::hashing::CountingHasher;

use crate::stack::Stack;

const NET_A: &str = "198.51.100.7";

fn attempt(pw: &str, source_ip: &str) -> LoginAttempt {
    LoginAttempt {
        ask: Default::default(),
        username: "alice".into(),
        password: Password::new(pw),
        source_ip: source_ip.into(),
        device: None,
    }
}

async fn wrong(stack: &Stack, source_ip: &str) -> AuthError {
    stack
        .login
        .login(attempt("not the password", source_ip))
        .await
        .expect_err("a wrong password is refused")
}

/// A 423 as answered: `Retry-After` in whole minutes, so a 30 s lock reads 60.
fn locked(secs: u64) -> AuthError {
    AuthError {
        code: ErrorCode::AccountLocked,
        retry_after: Some(secs),
    }
}

/// `(failures, last_failure_at, locked_until)` of a lockout item, `None` if there is none.
async fn counter(stack: &Stack, pk: &str) -> Option<(String, String, String)> {
    let item = stack.item(pk).await?;
    let n = |k: &str| item[k].as_n().unwrap().clone();
    Some((n("failures"), n("last_failure_at"), n("locked_until")))
}

#[tokio::test]
async fn a_network_locked_out_of_an_account_does_not_lock_its_owner_out_elsewhere() {
    let mut stack = Stack::start().await;
    // Fifty guesses in one minute: above the per-network limit, which would answer first.
    stack.login.config.ip_limit = 100;
    let mut answers = Vec::new();
    for _ in 0..50 {
        answers.push(wrong(&stack, NET_A).await);
    }

    let owner = stack
        .login
        .login(attempt("correct horse", "203.0.113.9"))
        .await;

    let now = stack.now();
    assert!(answers[..5]
        .iter()
        .all(|e| e.code == ErrorCode::InvalidCredentials));
    assert_eq!(
        answers[5],
        locked(60),
        "the sixth attempt, inside the window"
    );
    assert!(answers[5..].iter().all(|e| *e == locked(60)));
    owner.expect("the owner signs in from network B");
    let (t, until) = (now.to_string(), (now + 30).to_string());
    assert_eq!(
        counter(&stack, "lock-src#198.51.100.7#alice").await,
        Some(("5".into(), t, until)),
        "A stays locked out; the 45 refused guesses counted nothing"
    );
    assert_eq!(
        counter(&stack, "lock#alice").await,
        None,
        "cleared by the success"
    );
    assert_eq!(counter(&stack, "lock-src#203.0.113.9#alice").await, None);
}

#[tokio::test]
async fn the_account_ceiling_locks_every_network_and_the_owner_too() {
    let stack = Stack::start().await;
    let mut answers = Vec::new();
    for i in 0..150 {
        answers.push(wrong(&stack, &format!("10.0.{i}.1")).await);
    }

    let owner = stack
        .login
        .login(attempt("correct horse", "203.0.113.9"))
        .await;

    let failed = answers
        .iter()
        .take_while(|e| e.code == ErrorCode::InvalidCredentials)
        .count();
    assert_eq!(failed, 100);
    assert!(answers[100..].iter().all(|e| *e == locked(900)));
    assert_eq!(owner.unwrap_err(), locked(900));
    let now = stack.now();
    assert_eq!(
        counter(&stack, "lock#alice").await,
        Some(("100".into(), now.to_string(), (now + 900).to_string()))
    );
    assert_eq!(counter(&stack, "lock-src#10.0.149.1#alice").await, None);
}

#[tokio::test]
async fn concurrent_guesses_reach_argon2_no_more_often_than_the_threshold() {
    let mut stack = Stack::start().await;
    let hasher = Arc::new(CountingHasher::new(
        PasswordHasher::new(stack.config.auth.hash_params).unwrap(),
    ));
    stack.login.hasher = hasher.clone();

    let answers = join_all((0..20).map(|_| wrong(&stack, NET_A))).await;

    let failed = answers
        .iter()
        .filter(|e| e.code == ErrorCode::InvalidCredentials)
        .count();
    assert_eq!(failed, 5, "{answers:?}");
    assert_eq!(answers.iter().filter(|e| **e == locked(60)).count(), 15);
    assert_eq!(hasher.verifications(), 5, "Argon2 runs");
    let now = stack.now();
    let (t, until) = (now.to_string(), (now + 30).to_string());
    assert_eq!(
        counter(&stack, "lock-src#198.51.100.7#alice").await,
        Some(("5".into(), t.clone(), until))
    );
    assert_eq!(
        counter(&stack, "lock#alice").await,
        Some(("5".into(), t, "0".into()))
    );
}

#[tokio::test]
async fn two_addresses_in_one_ipv6_slash_64_share_a_count_and_unknown_names_answer_alike() {
    let stack = Stack::start().await;
    let mut alice = Vec::new();
    let mut mallory = Vec::new();
    for i in 1..=6 {
        let ip = format!("2001:db8:1:2::{i:x}");
        alice.push(wrong(&stack, &ip).await);
        let unknown = stack
            .login
            .login(LoginAttempt {
                ask: Default::default(),
                username: "mallory".into(),
                ..attempt("not the password", &ip)
            })
            .await
            .unwrap_err();
        mallory.push(unknown);
    }

    assert_eq!(alice, mallory);
    assert_eq!(alice[5], locked(60));
    let now = stack.now();
    let expected = Some(("5".into(), now.to_string(), (now + 30).to_string()));
    assert_eq!(
        counter(&stack, "lock-src#2001:db8:1:2::/64#alice").await,
        expected
    );
    assert_eq!(
        counter(&stack, "lock-src#2001:db8:1:2::/64#mallory").await,
        expected
    );
}

const OWNER_LATER: &str = "203.0.113.50";
const NEW_ADDRESS: &str = "198.51.100.200";

fn with_device(pw: &str, source_ip: &str, device: &DeviceCredential) -> LoginAttempt {
    LoginAttempt {
        ask: Default::default(),
        device: Some(device.clone()),
        ..attempt(pw, source_ip)
    }
}

/// 120 wrong passwords for alice spread over 30 addresses, 4 each: under the per-source
/// threshold everywhere, the ceiling (100) reached, the last 20 refused.
async fn hold_the_account(stack: &Stack) {
    let mut answers = Vec::new();
    for _ in 0..4 {
        for net in 0..30 {
            answers.push(wrong(stack, &format!("10.1.{net}.1")).await);
        }
    }
    let failed = answers
        .iter()
        .filter(|e| e.code == ErrorCode::InvalidCredentials)
        .count();
    assert_eq!(failed, 100, "{answers:?}");
    assert!(answers[100..].iter().all(|e| *e == locked(900)));
}

/// The device credential alice's earlier login gave her.
async fn earlier_login(stack: &Stack) -> DeviceCredential {
    stack
        .login_alice()
        .await
        .device
        .expect("a device credential")
        .credential
}

fn device_pk(credential: &DeviceCredential) -> String {
    use base64::Engine;
    let payload = credential.expose().split('.').nth(1).unwrap();
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&json).unwrap();
    format!("lock-dev#{}#alice", claims["did"].as_str().unwrap())
}

fn generate_macs(stack: &Stack) -> usize {
    stack
        .kms_calls
        .by_operation()
        .get("GenerateMac")
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn the_owners_device_walks_through_120_guesses_from_30_addresses_a_new_address_does_not() {
    let stack = Stack::start().await;
    let device = earlier_login(&stack).await;
    assert_eq!(generate_macs(&stack), 1, "the device key, derived once");
    hold_the_account(&stack).await;

    let owner = stack
        .login
        .login(with_device("correct horse", OWNER_LATER, &device))
        .await;
    let stranger = stack
        .login
        .login(attempt("correct horse", NEW_ADDRESS))
        .await;

    let owner = owner.expect("the owner's device signs in at once");
    assert!(owner.device.is_some(), "and gets a fresh credential");
    assert_eq!(stranger.unwrap_err(), locked(900));
    let now = stack.now();
    assert_eq!(
        counter(&stack, "lock#alice").await,
        Some(("100".into(), now.to_string(), (now + 900).to_string())),
        "the ceiling still holds for everyone else"
    );
    assert_eq!(counter(&stack, &device_pk(&device)).await, None);
    assert_eq!(counter(&stack, "lock-src#203.0.113.50#alice").await, None);
    assert_eq!(
        generate_macs(&stack),
        1,
        "verifying and issuing cost no KMS call"
    );
}

#[tokio::test]
async fn credentials_of_another_account_an_older_version_or_tampered_are_ignored() {
    let stack = Stack::start().await;
    let bob = tokengate_domain::ports::User {
        username: tokengate_domain::Username::parse("bob").unwrap(),
        user_id: "u-bob".into(),
        ..stack
            .store
            .find_user(&tokengate_domain::Username::parse("alice").unwrap())
            .await
            .unwrap()
            .unwrap()
    };
    stack.store.create_user(&bob).await.unwrap();
    let bobs = stack
        .login
        .login(LoginAttempt {
            ask: Default::default(),
            username: "bob".into(),
            ..attempt("correct horse", NET_A)
        })
        .await
        .unwrap()
        .device
        .unwrap()
        .credential;
    let before_revoke = earlier_login(&stack).await;
    stack.store.sign_out_everywhere("u-alice").await.unwrap();
    let before_change = earlier_login(&stack).await;
    let changed = stack
        .password
        .change(tokengate_domain::password_change::PasswordChangeRequest {
            client_id: String::new(),
            scope: String::new(),
            user_id: "u-alice".into(),
            current_password: Password::new("correct horse"),
            new_password: "a much better passphrase".into(),
            source_ip: NET_A.into(),
            device: Some(before_change.clone()),
        })
        .await
        .expect("password changed");
    let fresh = changed.device.expect("a fresh credential").credential;
    let tampered = {
        let (signed, mac) = fresh.expose().rsplit_once('.').unwrap();
        let other = if mac.starts_with('A') { "B" } else { "A" };
        DeviceCredential::new(format!("{signed}.{other}{}", &mac[1..]))
    };
    let macs = generate_macs(&stack);
    hold_the_account(&stack).await;

    for ignored in [&bobs, &before_revoke, &before_change, &tampered] {
        let e = stack
            .login
            .login(with_device(
                "a much better passphrase",
                OWNER_LATER,
                ignored,
            ))
            .await
            .unwrap_err();
        assert_eq!(e, locked(900));
    }
    stack
        .login
        .login(with_device("a much better passphrase", OWNER_LATER, &fresh))
        .await
        .expect("the credential the change issued counts");
    assert_eq!(generate_macs(&stack), macs, "no KMS call for any of them");
}

#[tokio::test]
async fn a_devices_own_failures_lock_only_that_device_and_423_says_whole_minutes() {
    let stack = Stack::start().await;
    let device = earlier_login(&stack).await;
    let mut answers = Vec::new();
    for _ in 0..6 {
        let e = stack
            .login
            .login(with_device("a typo", OWNER_LATER, &device))
            .await
            .unwrap_err();
        answers.push(e);
    }
    stack.clock.advance(7);
    let later = stack
        .login
        .login(with_device("correct horse", OWNER_LATER, &device))
        .await
        .unwrap_err();

    assert!(answers[..5]
        .iter()
        .all(|e| e.code == ErrorCode::InvalidCredentials));
    assert_eq!(answers[5], locked(60), "30 s left");
    assert_eq!(later, locked(60), "23 s left: a whole minute, never less");
    let t = (stack.now() - 7).to_string();
    assert_eq!(
        counter(&stack, &device_pk(&device)).await,
        Some(("5".into(), t.clone(), (stack.now() - 7 + 30).to_string()))
    );
    assert_eq!(counter(&stack, "lock-src#203.0.113.50#alice").await, None);
    assert_eq!(counter(&stack, "lock#alice").await, None);
    stack
        .login
        .login(attempt("correct horse", OWNER_LATER))
        .await
        .expect("the same address without the credential is not locked");
}
