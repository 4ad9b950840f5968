//! [`LockoutStore`](tokengate_domain::ports::LockoutStore) contract: an attempt is admitted
//! and counted in its (account, source network) counter and its account-wide counter in one
//! atomic step, or refused with nothing counted while either is locked; concurrent attempts
//! never get past a threshold; counters read as absent from their TTL on and are forgotten
//! together on a success. The device counter's cases are in [`super::lockout_device`].

use futures::future::join_all;
use tokengate_domain::lockout::{
    Admission, Backoff, Counters, LockState, LockStates, LockoutRules, Reservation,
};
use tokengate_domain::{Clock, ManualClock, Username};

use super::{move_to, Stores};

/// Per source: the production defaults (5 failures lock for 30 s, doubling, at most 900 s).
const SOURCE: Backoff = Backoff {
    threshold: 5,
    base_secs: 30,
    max_secs: 900,
};

/// Counters kept an hour after the last failure; the account locks for 900 s at `ceiling`.
pub(super) fn rules(ceiling: u32) -> LockoutRules {
    LockoutRules {
        source: SOURCE,
        account: Backoff {
            threshold: ceiling,
            base_secs: 900,
            max_secs: 900,
        },
        memory_secs: 3600,
    }
}

pub(super) fn counters(network: &str) -> Counters {
    Counters {
        username: Username::parse("contract-lock").expect("valid name"),
        network: network.to_owned(),
    }
}

pub(super) fn state(failures: u32, last_failure_at: i64, locked_until: i64) -> LockState {
    LockState {
        failures,
        last_failure_at,
        locked_until,
    }
}

/// Reserves as login does: with the states it has just read as the expectation.
pub(super) async fn reserve<S: Stores>(
    store: &S,
    c: &Counters,
    rules: LockoutRules,
    at: i64,
) -> Admission {
    let seen = store.lock_states(c).await.expect("read");
    reserve_seen(store, c, rules, at, seen).await
}

async fn reserve_seen<S: Stores>(
    store: &S,
    c: &Counters,
    rules: LockoutRules,
    at: i64,
    seen: LockStates,
) -> Admission {
    let reservation = Reservation {
        counters: c.clone(),
        rules,
        at,
        seen,
    };
    store.reserve_attempt(&reservation).await.expect("answered")
}

pub(super) async fn states<S: Stores>(store: &S, c: &Counters) -> LockStates {
    store.lock_states(c).await.expect("read")
}

/// An admitted attempt is counted in its source's counter and in the account's; another
/// source network counts apart but adds to the same account counter.
pub async fn an_admitted_attempt_counts_in_its_source_and_its_account<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let (a, b) = (counters("192.0.2.1"), counters("2001:db8:1:2::/64"));
    let t = clock.now();

    let first = reserve(store, &a, rules(100), t).await;
    let second = reserve(store, &b, rules(100), t + 1).await;

    let after_first = LockStates {
        source: state(1, t, 0),
        account: state(1, t, 0),
    };
    assert_eq!(first, Admission::Admitted(after_first));
    let after_second = LockStates {
        source: state(1, t + 1, 0),
        account: state(2, t + 1, 0),
    };
    assert_eq!(second, Admission::Admitted(after_second));
    assert_eq!(states(store, &b).await, after_second);
    assert_eq!(
        states(store, &a).await,
        LockStates {
            source: state(1, t, 0),
            account: state(2, t + 1, 0),
        },
        "sources count apart, the account counts both"
    );
}

/// The threshold-th failure from one source locks that source (with the back-off the next
/// lock doubles); while it is locked that source is refused and nothing is counted, and
/// another source is admitted.
pub async fn the_threshold_locks_one_source_and_refuses_it_without_counting<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let (a, b) = (counters("192.0.2.1"), counters("192.0.2.2"));
    let t = clock.now();
    for i in 0..4 {
        reserve(store, &a, rules(100), t + i).await;
    }

    let fifth = reserve(store, &a, rules(100), t + 4).await;
    let sixth = reserve(store, &a, rules(100), t + 5).await;
    let elsewhere = reserve(store, &b, rules(100), t + 5).await;

    let locked = state(5, t + 4, t + 4 + 30);
    assert_eq!(
        fifth,
        Admission::Admitted(LockStates {
            source: locked,
            account: state(5, t + 4, 0),
        }),
        "the fifth failure starts a 30 s lock of its source"
    );
    assert_eq!(sixth, Admission::Locked { until: t + 34 });
    assert_eq!(
        elsewhere,
        Admission::Admitted(LockStates {
            source: state(1, t + 5, 0),
            account: state(6, t + 5, 0),
        }),
        "another network is not locked out"
    );
    assert_eq!(
        states(store, &a).await.source,
        locked,
        "a refusal counts nothing"
    );
    move_to(clock, t + 34);
    let after = reserve(store, &a, rules(100), t + 34).await;
    assert_eq!(
        after,
        Admission::Admitted(LockStates {
            source: state(6, t + 34, t + 34 + 60),
            account: state(7, t + 34, 0),
        }),
        "one attempt after the lock, which starts the next, twice as long"
    );
}

/// The account-wide ceiling, reached across sources, locks the account for every source,
/// a new one included, for the longest lock; after it one attempt is admitted and locks again.
pub async fn the_account_ceiling_locks_every_source<S: Stores>(store: &S, clock: &ManualClock) {
    let t = clock.now();
    for (i, net) in ["198.51.100.1", "198.51.100.2"].into_iter().enumerate() {
        reserve(store, &counters(net), rules(3), t + i as i64).await;
    }

    let third = reserve(store, &counters("198.51.100.3"), rules(3), t + 2).await;
    let fresh = counters("198.51.100.4");
    let refused = reserve(store, &fresh, rules(3), t + 3).await;

    assert_eq!(
        third,
        Admission::Admitted(LockStates {
            source: state(1, t + 2, 0),
            account: state(3, t + 2, t + 2 + 900),
        })
    );
    assert_eq!(refused, Admission::Locked { until: t + 902 });
    assert_eq!(
        states(store, &fresh).await,
        LockStates {
            source: LockState::default(),
            account: state(3, t + 2, t + 902),
        },
        "the refused source counted nothing"
    );
    move_to(clock, t + 902);
    let after = reserve(store, &fresh, rules(3), t + 902).await;
    assert_eq!(
        after,
        Admission::Admitted(LockStates {
            source: state(1, t + 902, 0),
            account: state(4, t + 902, t + 902 + 900),
        })
    );
}

/// A stale expectation (`seen`) is read again, never written over: the count goes on from
/// what is stored, and a stale "locked" does not refuse.
pub async fn a_stale_expectation_is_read_again_never_written_over<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let a = counters("192.0.2.1");
    let t = clock.now();
    for i in 0..2 {
        reserve(store, &a, rules(100), t + i).await;
    }
    let locked = LockStates {
        source: state(9, t, t + 900),
        account: state(9, t, t + 900),
    };

    let from_nothing = reserve_seen(store, &a, rules(100), t + 2, LockStates::default()).await;
    let from_locked = reserve_seen(store, &a, rules(100), t + 3, locked).await;

    assert_eq!(
        from_nothing,
        Admission::Admitted(LockStates {
            source: state(3, t + 2, 0),
            account: state(3, t + 2, 0),
        })
    );
    assert_eq!(
        from_locked,
        Admission::Admitted(LockStates {
            source: state(4, t + 3, 0),
            account: state(4, t + 3, 0),
        })
    );
}

/// A counter is kept `memory_secs` after its last failure and never while it is locked; from
/// its TTL on it reads as absent and counting starts again at 1.
pub async fn counters_read_as_absent_from_their_ttl<S: Stores>(store: &S, clock: &ManualClock) {
    let a = counters("192.0.2.1");
    let t = clock.now();
    let mut short = rules(100);
    short.memory_secs = 10;
    short.source.base_secs = 60;
    for i in 0..5 {
        reserve(store, &a, short, t + i).await;
    }
    let locked = states(store, &a).await;
    assert_eq!(locked.source, state(5, t + 4, t + 64));
    assert_eq!(locked.account, state(5, t + 4, 0));

    move_to(clock, t + 14);
    let later = states(store, &a).await;
    assert_eq!(
        later.source, locked.source,
        "kept past its memory while locked"
    );
    assert_eq!(later.account, LockState::default(), "absent at its TTL");
    move_to(clock, t + 64);
    assert_eq!(states(store, &a).await, LockStates::default());
    let again = reserve(store, &a, short, t + 64).await;
    assert_eq!(
        again,
        Admission::Admitted(LockStates {
            source: state(1, t + 64, 0),
            account: state(1, t + 64, 0),
        }),
        "an expired counter starts again at 1"
    );
}

/// Clearing forgets the attempt's source counter and the account counter (twice is no error);
/// another source's counter stays.
pub async fn clearing_forgets_the_source_and_the_account_only<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let (a, b) = (counters("192.0.2.1"), counters("192.0.2.2"));
    let t = clock.now();
    reserve(store, &a, rules(100), t).await;
    reserve(store, &b, rules(100), t).await;

    store.clear_failures(&a).await.expect("cleared");
    store.clear_failures(&a).await.expect("cleared again");

    assert_eq!(states(store, &a).await, LockStates::default());
    assert_eq!(
        states(store, &b).await,
        LockStates {
            source: state(1, t, 0),
            account: LockState::default(),
        }
    );
}

/// Twenty reservations in flight together against a threshold of five: exactly five are
/// admitted, the rest refused, and the counters hold five.
pub async fn twenty_concurrent_reservations_against_a_threshold_of_five_admit_five<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let a = counters("192.0.2.1");
    let t = clock.now();

    let answers = join_all((0..20).map(|_| reserve(store, &a, rules(100), t))).await;

    let admitted = answers
        .iter()
        .filter(|x| matches!(x, Admission::Admitted(_)))
        .count();
    assert_eq!(admitted, 5, "{answers:?}");
    let refused = answers
        .iter()
        .filter(|x| **x == Admission::Locked { until: t + 30 })
        .count();
    assert_eq!(refused, 15, "the rest are refused until the lock ends");
    assert_eq!(
        states(store, &a).await,
        LockStates {
            source: state(5, t, t + 30),
            account: state(5, t, 0),
        }
    );
}
