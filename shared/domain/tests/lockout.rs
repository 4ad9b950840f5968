//! The lockout and the per-source-network limit on the memory rig (the same rules run on the
//! emulator in `tests/integration/lockout.rs`): failures count per (account, source network)
//! and per account, an attempt is admitted before Argon2 runs, unknown names behave as known
//! ones. Each test asserts the answers and the counters stored afterwards.

use std::sync::Arc;

use tokengate_domain::lockout::{Counters, LockState, LockStates};
use tokengate_domain::login::LoginAttempt;
use tokengate_domain::ports::LockoutStore;
use tokengate_domain::{AuthError, ErrorCode, Password, PasswordHasher, Username};
use tokengate_testing::hashing::CountingHasher;
use tokengate_testing::memory::{self, MemoryRig};

const T0: i64 = memory::RIG_EPOCH;
const NET_A: &str = "198.51.100.7";
const NET_B: &str = "203.0.113.9";

fn attempt(user: &str, pw: &str, source_ip: &str) -> LoginAttempt {
    LoginAttempt {
        ask: Default::default(),
        username: user.to_owned(),
        password: Password::new(pw),
        source_ip: source_ip.to_owned(),
        device: None,
    }
}

async fn wrong(app: &MemoryRig, user: &str, source_ip: &str) -> AuthError {
    app.login
        .login(attempt(user, "not the password", source_ip))
        .await
        .expect_err("a wrong password is refused")
}

async fn stored(app: &MemoryRig, user: &str, network: &str) -> LockStates {
    let counters = Counters {
        username: Username::parse(user).unwrap(),
        network: network.to_owned(),
    };
    app.store.lock_states(&counters).await.unwrap()
}

fn state(failures: u32, last_failure_at: i64, locked_until: i64) -> LockState {
    LockState {
        failures,
        last_failure_at,
        locked_until,
    }
}

/// A 423 as answered: `Retry-After` in whole minutes, so a 30 s lock reads 60.
fn locked(secs: u64) -> AuthError {
    AuthError {
        code: ErrorCode::AccountLocked,
        retry_after: Some(secs),
    }
}

#[tokio::test]
async fn account_locks_after_repeated_failures_with_back_off() {
    let app = MemoryRig::new().await;
    for _ in 0..5 {
        let e = wrong(&app, "alice", NET_A).await;
        assert_eq!(e.code, ErrorCode::InvalidCredentials);
    }
    let e = app
        .login
        .login(attempt("alice", MemoryRig::PASSWORD, NET_A))
        .await
        .unwrap_err();
    assert_eq!(e, locked(60));
    app.clock.advance(31);
    app.login
        .login(attempt("alice", MemoryRig::PASSWORD, NET_A))
        .await
        .unwrap();
    assert_eq!(stored(&app, "alice", NET_A).await, LockStates::default());
}

#[tokio::test]
async fn a_network_locked_out_of_an_account_does_not_lock_its_owner_out_elsewhere() {
    let app = MemoryRig::new().await;
    let mut answers = Vec::new();
    for _ in 0..50 {
        answers.push(wrong(&app, "alice", NET_A).await);
    }

    let owner = app
        .login
        .login(attempt("alice", MemoryRig::PASSWORD, NET_B))
        .await;

    let expected: Vec<AuthError> = (1..=50)
        .map(|i| match i {
            1..=5 => ErrorCode::InvalidCredentials.into(),
            // The sixth, inside the 30 s lock.
            6..=30 => locked(60),
            // The per-source-network limit (30 a minute) answers before the lockout.
            _ => AuthError::retry_after(ErrorCode::RateLimited, 60 - T0 % 60),
        })
        .collect();
    assert_eq!(answers, expected);
    owner.expect("the owner signs in from another network");
    // The owner's success ended the account's run of failures and counted nothing from B;
    // network A stays locked out.
    assert_eq!(
        stored(&app, "alice", NET_A).await,
        LockStates {
            source: state(5, T0, T0 + 30),
            account: LockState::default(),
        }
    );
    assert_eq!(stored(&app, "alice", NET_B).await, LockStates::default());
    let again = app
        .login
        .login(attempt("alice", MemoryRig::PASSWORD, NET_A))
        .await;
    assert_eq!(
        again.unwrap_err().code,
        ErrorCode::RateLimited,
        "A is still limited"
    );
}

#[tokio::test]
async fn the_account_ceiling_locks_every_network_and_the_owner_too() {
    let app = MemoryRig::new().await;
    let network = |i: u32| format!("10.{}.{}.1", i / 250, i % 250);
    let mut answers = Vec::new();
    for i in 0..150 {
        answers.push(wrong(&app, "alice", &network(i)).await);
    }

    let owner = app
        .login
        .login(attempt("alice", MemoryRig::PASSWORD, NET_B))
        .await;

    let unlocked = answers
        .iter()
        .take_while(|e| e.code == ErrorCode::InvalidCredentials)
        .count();
    assert_eq!(unlocked, 100, "the ceiling: 100 failures from anywhere");
    assert!(answers[100..].iter().all(|e| *e == locked(900)));
    assert_eq!(owner.unwrap_err(), locked(900));
    let after = stored(&app, "alice", &network(149)).await;
    assert_eq!(after.account, state(100, T0, T0 + 900));
    assert_eq!(after.source, LockState::default(), "refused: not counted");
    // The release: the longest lock after the last failure, then the owner gets in.
    app.clock.advance(900);
    app.login
        .login(attempt("alice", MemoryRig::PASSWORD, NET_B))
        .await
        .unwrap();
    assert_eq!(stored(&app, "alice", NET_B).await, LockStates::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_guesses_reach_argon2_no_more_often_than_the_threshold() {
    let mut app = MemoryRig::new().await;
    let hasher = Arc::new(CountingHasher::new(
        PasswordHasher::new(app.config.auth.hash_params).unwrap(),
    ));
    app.login.hasher = hasher.clone();
    let app = Arc::new(app);

    let guesses = (0..20).map(|_| {
        let app = app.clone();
        tokio::spawn(async move { wrong(&app, "alice", NET_A).await })
    });
    let mut answers = Vec::new();
    for guess in guesses.collect::<Vec<_>>() {
        answers.push(guess.await.unwrap());
    }

    let failed = answers
        .iter()
        .filter(|e| e.code == ErrorCode::InvalidCredentials)
        .count();
    assert_eq!(failed, 5, "{answers:?}");
    assert_eq!(answers.iter().filter(|e| **e == locked(60)).count(), 15);
    assert_eq!(hasher.verifications(), 5, "Argon2 runs");
    assert_eq!(
        stored(&app, "alice", NET_A).await,
        LockStates {
            source: state(5, T0, T0 + 30),
            account: state(5, T0, 0),
        }
    );
}

#[tokio::test]
async fn two_addresses_in_one_ipv6_slash_64_share_their_counts() {
    let app = MemoryRig::new().await;
    for i in 1..=5 {
        let e = wrong(&app, "alice", &format!("2001:db8:1:2::{i:x}")).await;
        assert_eq!(e.code, ErrorCode::InvalidCredentials);
    }

    let same_64 = wrong(&app, "alice", "2001:db8:1:2:ffff:ffff:ffff:ffff").await;
    let next_64 = wrong(&app, "alice", "2001:db8:1:3::1").await;

    assert_eq!(same_64, locked(60));
    assert_eq!(next_64.code, ErrorCode::InvalidCredentials);
    let states = stored(&app, "alice", "2001:db8:1:2::/64").await;
    assert_eq!(states.source, state(5, T0, T0 + 30));
    assert_eq!(states.account, state(6, T0, 0));
    // The per-source-network limit counts the /64 too, over all accounts: 30 a minute.
    for i in 0..24 {
        wrong(
            &app,
            &format!("user-{i}"),
            &format!("2001:db8:1:2::{:x}", 100 + i),
        )
        .await;
    }
    let limited = wrong(&app, "bob", "2001:db8:1:2::beef").await;
    assert_eq!(
        limited,
        AuthError::retry_after(ErrorCode::RateLimited, 60 - T0 % 60)
    );
}

#[tokio::test]
async fn unknown_names_get_the_answers_and_counters_known_ones_get() {
    let mut app = MemoryRig::new().await;
    app.login.config.account_failure_ceiling = 8;
    let networks = [
        NET_A, NET_A, NET_A, NET_A, NET_A, NET_A, NET_B, NET_B, NET_B, NET_B,
    ];

    let mut answers = Vec::new();
    for user in ["alice", "mallory"] {
        let mut per_user = Vec::new();
        for network in networks {
            per_user.push(wrong(&app, user, network).await);
        }
        answers.push(per_user);
    }

    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0][5], locked(60));
    assert_eq!(answers[0][9], locked(900), "the ceiling");
    assert_eq!(
        stored(&app, "alice", NET_A).await,
        stored(&app, "mallory", NET_A).await
    );
    assert_eq!(stored(&app, "mallory", NET_B).await.account.failures, 8);
}

#[tokio::test]
async fn check_credentials_counts_a_wrong_password_as_login_does() {
    let app = MemoryRig::new().await;
    let e = app
        .login
        .check_credentials(&attempt("alice", "not the password", NET_A))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidCredentials);
    assert_eq!(stored(&app, "alice", NET_A).await.source, state(1, T0, 0));
    let user = app
        .login
        .check_credentials(&attempt("alice", MemoryRig::PASSWORD, NET_A))
        .await
        .unwrap();
    assert_eq!(user.user_id, "u-alice");
    assert_eq!(
        stored(&app, "alice", NET_A).await,
        LockStates::default(),
        "the right password counts nothing and clears the count"
    );
    assert_eq!(app.store.session_count(), 0, "no session started");
}

#[tokio::test]
async fn per_source_network_limit_answers_rate_limited_with_retry_after() {
    let app = MemoryRig::new().await;
    for i in 0..30 {
        // Spread over names so that no lockout counter fires first.
        wrong(&app, &format!("bob-{i}"), NET_A).await;
    }
    let e = app
        .login
        .login(attempt("alice", MemoryRig::PASSWORD, NET_A))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        AuthError::retry_after(ErrorCode::RateLimited, 60 - T0 % 60)
    );
    assert_eq!(
        stored(&app, "alice", NET_A).await,
        LockStates::default(),
        "a limited attempt is not counted"
    );
}
