//! [`Denylist`](tokengate_domain::ports::Denylist) contract: an entry denies its `jti` until its TTL on the store's clock, and
//! reads as absent from then on, whether or not the store has deleted it.

use tokengate_domain::ports::RevocationSource;
use tokengate_domain::{Clock, ManualClock};

use super::{move_to, Stores};

async fn denied<S: RevocationSource + ?Sized>(store: &S, jti: &str) -> bool {
    store
        .revocation_status(jti, "u-nobody", None)
        .await
        .expect("the store answers")
        .jti_denied
}

/// A denylist entry denies its `jti` while the store clock is before the entry's `until`, and
/// reads as absent from `until` on, whether or not the store has deleted it.
pub async fn a_denylist_entry_reads_as_absent_from_its_ttl<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let until = clock.now() + 100;
    assert!(
        !denied(store, "jti-contract").await,
        "nothing denylisted yet"
    );

    store
        .deny("jti-contract", until)
        .await
        .expect("the store accepts the entry");

    assert!(denied(store, "jti-contract").await, "denied right away");
    assert!(
        !denied(store, "jti-other").await,
        "only the named jti is denied"
    );
    move_to(clock, until - 1);
    assert!(
        denied(store, "jti-contract").await,
        "denied one second before its TTL"
    );
    move_to(clock, until);
    assert!(!denied(store, "jti-contract").await, "absent at its TTL");
}

/// The last deny of a `jti` sets its TTL (a put replaces the item): a second one with a later
/// TTL keeps it denied until then.
pub async fn a_later_deny_of_the_same_jti_extends_it<S: Stores>(store: &S, clock: &ManualClock) {
    let t = clock.now();
    store.deny("jti-twice", t + 10).await.expect("answers");

    store.deny("jti-twice", t + 100).await.expect("answers");

    move_to(clock, t + 50);
    assert!(
        denied(store, "jti-twice").await,
        "denied until the later TTL"
    );
    move_to(clock, t + 100);
    assert!(!denied(store, "jti-twice").await, "absent at the later TTL");
}

/// An entry written with a TTL that is not after now never denies.
pub async fn an_entry_whose_ttl_has_passed_never_denies<S: Stores>(store: &S, clock: &ManualClock) {
    let now = clock.now();

    store.deny("jti-now", now).await.expect("answers");
    store.deny("jti-past", now - 1).await.expect("answers");

    assert!(!denied(store, "jti-now").await, "a TTL of now has passed");
    assert!(
        !denied(store, "jti-past").await,
        "a TTL in the past has passed"
    );
}
