//! The session's own refresh count ([`RefreshCount`]), written by the rotation or reissue that
//! answers a refresh: it opens a window and adds to it, never counts past the limit however
//! many refreshes race, and a write decided from a window that has moved on changes nothing.

use tokengate_domain::ports::{RefreshCount, Reissue, Rotation, Session, WriteOutcome};
use tokengate_domain::{Clock, ManualClock};

use super::sessions::{granted, opening, reissue, rotated, rotation, stored, within, LIMIT};
use super::Stores;

/// The family granted and rotated once at the clock's now (`t`), so its window opened at `t`
/// with one refresh; returns the stored session and `t`.
async fn rotated_once<S: Stores>(store: &S, clock: &ManualClock) -> (Session, i64) {
    let session = granted(store, clock).await;
    let t = clock.now();
    let first = store.rotate(&rotation("a", "b", t)).await;
    assert_eq!(first.expect("answers"), WriteOutcome::Written);
    (rotated(&session, "a", "b", t), t)
}

/// The grace reissue of `b` (the current hash after [`rotated_once`]) at `now`.
fn grace(now: i64, count: RefreshCount) -> Reissue {
    reissue("b", 1, now, count)
}

/// In an open window each write adds one; the write that would pass the limit changes
/// nothing and is told to look again.
pub async fn a_window_counts_up_to_its_limit_and_no_further<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let (after_rotation, t) = rotated_once(store, clock).await;
    for hits in 2..=LIMIT {
        let outcome = store.reissue_current(&grace(t + 1, within(t))).await;
        assert_eq!(
            outcome.expect("answers"),
            WriteOutcome::Written,
            "hit {hits}"
        );
    }
    let full = stored(store).await;

    let over = store.reissue_current(&grace(t + 2, within(t))).await;

    assert_eq!(over.expect("answers"), WriteOutcome::SessionChanged);
    let expected = Session {
        last_used_at: t + 1,
        window_hits: LIMIT,
        ..after_rotation
    };
    assert_eq!(full, Some(expected.clone()));
    assert_eq!(stored(store).await, Some(expected), "nothing was written");
}

/// A write that opens a new window commits only if the stored window is still the one its
/// read showed; a write counted in a window that is not the stored one changes nothing.
pub async fn a_count_decided_from_a_window_that_moved_on_changes_nothing<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let (after_rotation, t) = rotated_once(store, clock).await;
    clock.advance(100);
    let later = clock.now();

    // Decided from the read before the rotation (no window yet): the window has moved on.
    let stale_opening = store
        .reissue_current(&grace(later, opening(later, 0)))
        .await;
    // Counted in a window that was never stored.
    let wrong_window = store.reissue_current(&grace(later, within(t + 1))).await;

    assert_eq!(
        [stale_opening, wrong_window].map(|o| o.expect("answers")),
        [WriteOutcome::SessionChanged; 2]
    );
    assert_eq!(stored(store).await, Some(after_rotation.clone()));
    let next = store
        .reissue_current(&grace(later, opening(later, t)))
        .await;
    assert_eq!(next.expect("answers"), WriteOutcome::Written);
    let expected = Session {
        last_used_at: later,
        window_start: later,
        window_hits: 1,
        ..after_rotation
    };
    assert_eq!(stored(store).await, Some(expected));
}

/// Twenty refreshes racing in one window with room for nine more: exactly nine commit and
/// the count stops at the limit.
pub async fn twenty_racing_refreshes_in_one_window_stop_at_the_limit<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let (after_rotation, t) = rotated_once(store, clock).await;
    let writes: Vec<Reissue> = (0..20).map(|_| grace(t + 1, within(t))).collect();

    let outcomes = futures::future::join_all(writes.iter().map(|r| store.reissue_current(r))).await;

    let written = outcomes
        .into_iter()
        .map(|o| o.expect("answers"))
        .filter(|o| *o == WriteOutcome::Written)
        .count();
    assert_eq!(written as u64, LIMIT - 1);
    let expected = Session {
        last_used_at: t + 1,
        window_hits: LIMIT,
        ..after_rotation
    };
    assert_eq!(stored(store).await, Some(expected));
}

/// Two refreshes that both open the next window: one commits, the other is told to look
/// again (and would then count in the window the first opened).
pub async fn of_two_refreshes_opening_one_window_one_commits<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let (after_rotation, t) = rotated_once(store, clock).await;
    clock.advance(100);
    let later = clock.now();
    let rotate = Rotation {
        count: opening(later, t),
        ..rotation("b", "c", later)
    };
    let touch = grace(later, opening(later, t));

    let (rotated_first, touched) =
        tokio::join!(store.rotate(&rotate), store.reissue_current(&touch));

    let outcomes = [rotated_first, touched].map(|o| o.expect("answers"));
    let written = outcomes
        .iter()
        .filter(|o| **o == WriteOutcome::Written)
        .count();
    assert_eq!(written, 1, "exactly one opens the window: {outcomes:?}");
    let session = stored(store).await.expect("the family exists");
    assert_eq!(
        (session.window_start, session.window_hits),
        (later, 1),
        "one window, one refresh"
    );
    assert_eq!(session.family_hash, after_rotation.family_hash);
}
