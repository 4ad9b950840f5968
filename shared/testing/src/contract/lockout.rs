//! [`LockoutStore`](tokengate_domain::ports::LockoutStore) contract: failures count per account name, atomically, until cleared or
//! until the record's TTL passes, after which the count starts again at 1.

use tokengate_domain::ports::{Failure, LockState};
use tokengate_domain::{Clock, ManualClock, Username};

use super::{move_to, Stores};

fn failure(at: i64, keep_until: i64) -> Failure {
    Failure { at, keep_until }
}

/// A lockout record counts on while live, reads as the default from its TTL on, and a
/// failure counted after that starts again at 1.
pub async fn a_lockout_record_reads_as_absent_from_its_ttl<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let name = Username::parse("contract-lock").expect("valid name");
    let t0 = clock.now();
    // Each failure sets the record's TTL; the second one's counts.
    let ttl = t0 + 61;
    let first = store.record_failure(&name, failure(t0, t0 + 60)).await;
    let second = store.record_failure(&name, failure(t0 + 1, ttl)).await;
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
        store.lock_state(&name).await.expect("read"),
        counted,
        "live one second before its TTL"
    );
    move_to(clock, ttl);
    assert_eq!(
        store.lock_state(&name).await.expect("read"),
        LockState::default(),
        "absent at its TTL"
    );
    let now = clock.now();
    assert_eq!(
        store
            .record_failure(&name, failure(now, now + 60))
            .await
            .expect("counted"),
        LockState {
            failures: 1,
            last_failure_at: now,
        },
        "an expired record starts again at 1"
    );
}

/// Failures count one by one per name; clearing forgets them (twice is no error), and the next
/// failure counts from 1.
pub async fn failures_count_per_name_until_cleared<S: Stores>(store: &S, clock: &ManualClock) {
    let name = Username::parse("contract-lock").expect("valid name");
    let other = Username::parse("contract-other").expect("valid name");
    let t = clock.now();

    let mut counted = Vec::new();
    for i in 0..3 {
        let state = store.record_failure(&name, failure(t + i, t + 3600)).await;
        counted.push(state.expect("counted").failures);
    }
    let elsewhere = store.record_failure(&other, failure(t, t + 3600)).await;

    assert_eq!(counted, [1, 2, 3]);
    assert_eq!(elsewhere.expect("counted").failures, 1, "names count apart");
    assert_eq!(
        store.lock_state(&name).await.expect("read"),
        LockState {
            failures: 3,
            last_failure_at: t + 2,
        }
    );
    store.clear_failures(&name).await.expect("cleared");
    store.clear_failures(&name).await.expect("cleared again");
    let cleared = store.lock_state(&name).await.expect("read");
    assert_eq!(cleared, LockState::default());
    let again = store.record_failure(&name, failure(t + 3, t + 3600)).await;
    assert_eq!(
        again.expect("counted"),
        LockState {
            failures: 1,
            last_failure_at: t + 3,
        }
    );
    let untouched = store.lock_state(&other).await.expect("read");
    assert_eq!(untouched.failures, 1);
}

/// Three failures counted together each count once (an atomic add, not read-modify-write).
pub async fn concurrent_failures_each_count_once<S: Stores>(store: &S, clock: &ManualClock) {
    let name = Username::parse("contract-lock").expect("valid name");
    let t = clock.now();
    let fail = || store.record_failure(&name, failure(t, t + 3600));

    let (a, b, c) = tokio::join!(fail(), fail(), fail());

    let mut counts = [a, b, c].map(|s| s.expect("counted").failures);
    counts.sort_unstable();
    assert_eq!(counts, [1, 2, 3]);
    let state = store.lock_state(&name).await.expect("read");
    assert_eq!(state.failures, 3);
}
