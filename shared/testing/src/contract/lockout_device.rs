//! [`LockoutStore`](tokengate_domain::ports::LockoutStore) contract, the device counter: an
//! attempt with a valid device credential is admitted, counted and forgotten on its own
//! counter alone — the source and account counters neither read nor written, their locks no
//! refusal — with the per-source back-off, the TTL rule, stale expectations read again, and
//! concurrent reservations serialised.

use futures::future::join_all;
use tokengate_domain::lockout::{
    Admission, DeviceCounter, DeviceReservation, LockState, LockoutRules,
};
use tokengate_domain::{Clock, ManualClock, Username};

use super::lockout::{counters, reserve, rules, state, states};
use super::{move_to, Stores};

fn device(device_id: &str) -> DeviceCounter {
    DeviceCounter {
        username: Username::parse("contract-lock").expect("valid name"),
        device_id: device_id.to_owned(),
    }
}

/// Device ids as the domain makes them: 128 bits, base64url.
const DEVICE_A: &str = "AAAAAAAAAAAAAAAAAAAAAA";
const DEVICE_B: &str = "BBBBBBBBBBBBBBBBBBBBBB";

/// Reserves a device's attempt as login does: with the state it has just read.
async fn reserve_device<S: Stores>(
    store: &S,
    d: &DeviceCounter,
    rules: LockoutRules,
    at: i64,
) -> Admission<LockState> {
    let seen = store.device_lock_state(d).await.expect("read");
    reserve_device_seen(store, d, rules, at, seen).await
}

async fn reserve_device_seen<S: Stores>(
    store: &S,
    d: &DeviceCounter,
    rules: LockoutRules,
    at: i64,
    seen: LockState,
) -> Admission<LockState> {
    let reservation = DeviceReservation {
        counter: d.clone(),
        rules,
        at,
        seen,
    };
    store
        .reserve_device_attempt(&reservation)
        .await
        .expect("answered")
}

/// A device's attempt counts in its own counter only: neither the account's ceiling nor a
/// source's counter moves, and a locked account (the ceiling reached) does not refuse it.
pub async fn a_device_attempt_counts_in_its_own_counter_only<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let net = counters("192.0.2.1");
    let t = clock.now();
    for i in 0..3 {
        reserve(store, &counters(&format!("198.51.100.{i}")), rules(3), t).await;
    }
    let before = states(store, &net).await;
    assert_eq!(
        before.account,
        state(3, t, t + 900),
        "the account is locked"
    );

    let first = reserve_device(store, &device(DEVICE_A), rules(3), t + 1).await;
    let other = reserve_device(store, &device(DEVICE_B), rules(3), t + 2).await;

    assert_eq!(first, Admission::Admitted(state(1, t + 1, 0)));
    assert_eq!(
        other,
        Admission::Admitted(state(1, t + 2, 0)),
        "devices count apart"
    );
    assert_eq!(
        store
            .device_lock_state(&device(DEVICE_A))
            .await
            .expect("read"),
        state(1, t + 1, 0)
    );
    assert_eq!(states(store, &net).await, before, "nothing else counted");
}

/// The threshold-th failure of a device locks it with the per-source back-off; while locked it
/// is refused and nothing is counted; its TTL and clearing work as the other counters'.
pub async fn a_device_locks_with_the_source_back_off_and_is_forgotten_when_cleared<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let (a, b) = (device(DEVICE_A), device(DEVICE_B));
    let t = clock.now();
    for i in 0..4 {
        reserve_device(store, &a, rules(100), t + i).await;
    }
    reserve_device(store, &b, rules(100), t).await;

    let fifth = reserve_device(store, &a, rules(100), t + 4).await;
    let sixth = reserve_device(store, &a, rules(100), t + 5).await;

    assert_eq!(fifth, Admission::Admitted(state(5, t + 4, t + 34)));
    assert_eq!(sixth, Admission::Locked { until: t + 34 });
    assert_eq!(
        store.device_lock_state(&a).await.expect("read"),
        state(5, t + 4, t + 34),
        "a refusal counts nothing"
    );
    move_to(clock, t + 34);
    assert_eq!(
        reserve_device(store, &a, rules(100), t + 34).await,
        Admission::Admitted(state(6, t + 34, t + 94)),
        "after the lock one attempt, which starts the next, twice as long"
    );
    store.clear_device_failures(&a).await.expect("cleared");
    store
        .clear_device_failures(&a)
        .await
        .expect("cleared again");
    assert_eq!(
        store.device_lock_state(&a).await.expect("read"),
        LockState::default()
    );
    assert_eq!(
        store.device_lock_state(&b).await.expect("read"),
        state(1, t, 0),
        "another device's counter stays"
    );
    move_to(clock, t + 3600);
    assert_eq!(
        store.device_lock_state(&b).await.expect("read"),
        LockState::default(),
        "absent at its TTL"
    );
}

/// A stale expectation of a device's counter is read again, never written over.
pub async fn a_stale_device_expectation_is_read_again_never_written_over<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let a = device(DEVICE_A);
    let t = clock.now();
    for i in 0..2 {
        reserve_device(store, &a, rules(100), t + i).await;
    }

    let from_nothing =
        reserve_device_seen(store, &a, rules(100), t + 2, LockState::default()).await;
    let from_locked = reserve_device_seen(store, &a, rules(100), t + 3, state(9, t, t + 900)).await;

    assert_eq!(from_nothing, Admission::Admitted(state(3, t + 2, 0)));
    assert_eq!(from_locked, Admission::Admitted(state(4, t + 3, 0)));
}

/// Twenty reservations of one device in flight together against a threshold of five: exactly
/// five are admitted, the rest refused, and the counter holds five.
pub async fn twenty_concurrent_device_reservations_against_a_threshold_of_five_admit_five<
    S: Stores,
>(
    store: &S,
    clock: &ManualClock,
) {
    let a = device(DEVICE_A);
    let t = clock.now();

    let answers = join_all((0..20).map(|_| reserve_device(store, &a, rules(100), t))).await;

    let admitted = answers
        .iter()
        .filter(|x| matches!(x, Admission::Admitted(_)))
        .count();
    assert_eq!(admitted, 5, "{answers:?}");
    let refused = answers
        .iter()
        .filter(|x| **x == Admission::Locked { until: t + 30 })
        .count();
    assert_eq!(refused, 15);
    assert_eq!(
        store.device_lock_state(&a).await.expect("read"),
        state(5, t, t + 30)
    );
}
