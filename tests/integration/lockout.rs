//! The lockout on the DynamoDB adapter through the production wiring (the same rules run on the
//! memory rig in `shared/domain/tests/lockout.rs`): a network locked out of an account does
//! not lock its owner out elsewhere, the account-wide ceiling does, and concurrent guesses
//! reach Argon2 no more often than the threshold allows. Each test asserts answers and items.

use std::sync::Arc;

use futures::future::join_all;
use tokengate_domain::login::LoginAttempt;
use tokengate_domain::{AuthError, ErrorCode, Password, PasswordHasher};
use tokengate_testing::hashing::CountingHasher;

use crate::stack::Stack;

const NET_A: &str = "198.51.100.7";

fn attempt(pw: &str, source_ip: &str) -> LoginAttempt {
    LoginAttempt {
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
