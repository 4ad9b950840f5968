//! [`SessionStore`] contract: a family is granted once and reads back as written; a rotation
//! commits only from the current hash of a live family whose owner is unchanged, and of two
//! racing rotations exactly one commits; the grace reissue touches nothing but `last_used_at`
//! and the refresh count; revocation is idempotent and creates nothing; only the family's own
//! hash revokes it on reuse. The refresh count's own rules are in [`super::session_counts`].

use tokengate_domain::ports::{
    RefreshCount, Reissue, Rotation, Session, SessionStore, UserStatus, WriteOutcome,
};
use tokengate_domain::{Clock, ManualClock, PortError, TokenHash, Username};

use super::{create, Stores};

pub(crate) const SID: &str = "sid-contract";
/// Refreshes per window in these cases.
pub(crate) const LIMIT: u64 = 10;

pub(crate) fn hash(label: &str) -> TokenHash {
    TokenHash::from_stored(format!("hash-{label}"))
}

/// A refresh that opens a new window at `now`, the read having shown the window `seen`.
pub(crate) fn opening(now: i64, seen: i64) -> RefreshCount {
    RefreshCount {
        window_start: now,
        seen_window_start: seen,
        limit: LIMIT,
    }
}

/// A refresh counted in the open window that started at `start`.
pub(crate) fn within(start: i64) -> RefreshCount {
    RefreshCount {
        window_start: start,
        seen_window_start: start,
        limit: LIMIT,
    }
}

/// A live family of the owner `u-1` (version 1) whose current hash is `hash("a")`, no refresh
/// counted yet.
pub(crate) fn family(now: i64) -> Session {
    Session {
        sid: SID.to_owned(),
        user_id: "u-1".to_owned(),
        roles: vec!["reader".to_owned(), "admin".to_owned()],
        token_version: 1,
        created_at: now,
        expires_at: now + 7 * 24 * 3600,
        last_used_at: now,
        family_hash: hash("family"),
        current_hash: hash("a"),
        previous_hash: None,
        rotated_at: now,
        generation: 0,
        revoked: false,
        window_start: 0,
        window_hits: 0,
        // The grant round-trips: the store keeps what the login granted.
        grant: tokengate_domain::clients::Granted {
            client_id: "web".to_owned(),
            scopes: vec!["orders:read".to_owned(), "orders:write".to_owned()],
            resource: "https://orders.example.com".to_owned(),
        },
    }
}

/// The owner `u-1` and its granted family.
pub(crate) async fn granted<S: Stores>(store: &S, clock: &ManualClock) -> Session {
    create(store, "owner", "u-1").await;
    let session = family(clock.now());
    store.grant(&session).await.expect("the store answers");
    session
}

/// The rotation `from` → `to` at `now`, the first refresh of a granted family (it opens the
/// window at `now`).
pub(crate) fn rotation(from: &str, to: &str, now: i64) -> Rotation {
    Rotation {
        sid: SID.to_owned(),
        user_id: "u-1".to_owned(),
        token_version: 1,
        from: hash(from),
        to: hash(to),
        now,
        count: opening(now, 0),
    }
}

pub(crate) fn reissue(current: &str, token_version: u64, now: i64, count: RefreshCount) -> Reissue {
    Reissue {
        sid: SID.to_owned(),
        user_id: "u-1".to_owned(),
        token_version,
        current: hash(current),
        now,
        count,
    }
}

pub(crate) async fn stored<S: SessionStore + ?Sized>(store: &S) -> Option<Session> {
    store.find_session(SID).await.expect("the store answers")
}

/// `session` (never refreshed) after the rotation `from` → `to` at `now`, which opened the
/// refresh window.
pub(crate) fn rotated(session: &Session, from: &str, to: &str, now: i64) -> Session {
    Session {
        current_hash: hash(to),
        previous_hash: Some(hash(from)),
        rotated_at: now,
        last_used_at: now,
        generation: session.generation + 1,
        window_start: now,
        window_hits: 1,
        ..session.clone()
    }
}

/// Every field of a granted family reads back as written, roles in their order.
pub async fn a_granted_session_reads_back_exactly<S: Stores>(store: &S, clock: &ManualClock) {
    let session = granted(store, clock).await;

    assert_eq!(stored(store).await, Some(session));
    let other = store.find_session("sid-other").await.expect("answers");
    assert_eq!(other, None);
}

/// A second grant under a taken session id is an error and the first family stays as it was.
pub async fn a_session_id_is_granted_once<S: Stores>(store: &S, clock: &ManualClock) {
    let session = granted(store, clock).await;

    let again = Session {
        current_hash: hash("x"),
        ..family(clock.now())
    };
    let result = store.grant(&again).await;

    assert!(
        matches!(result, Err(PortError::Unexpected(_))),
        "a taken session id is an error, got {result:?}"
    );
    assert_eq!(stored(store).await, Some(session));
}

/// From the current hash: the successor becomes current, the presented hash the predecessor,
/// and the generation counts.
pub async fn rotation_from_the_current_hash_installs_the_successor<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let session = granted(store, clock).await;
    clock.advance(5);
    let now = clock.now();

    let outcome = store.rotate(&rotation("a", "b", now)).await;

    assert_eq!(outcome.expect("answers"), WriteOutcome::Written);
    assert_eq!(stored(store).await, Some(rotated(&session, "a", "b", now)));
}

/// From a hash that is no longer current (or of a family that does not exist): nothing is
/// written and the caller is told to look again.
pub async fn rotation_from_a_stale_hash_changes_nothing<S: Stores>(store: &S, clock: &ManualClock) {
    let session = granted(store, clock).await;
    let now = clock.now();
    let first = store.rotate(&rotation("a", "b", now)).await;
    assert_eq!(first.expect("answers"), WriteOutcome::Written);
    clock.advance(1);

    // Counted in the window the first rotation opened, so only the hash is stale.
    let stale = Rotation {
        count: within(now),
        ..rotation("a", "c", now + 1)
    };
    let stale = store.rotate(&stale).await;

    assert_eq!(stale.expect("answers"), WriteOutcome::SessionChanged);
    assert_eq!(stored(store).await, Some(rotated(&session, "a", "b", now)));
    let missing = Rotation {
        sid: "sid-missing".to_owned(),
        ..rotation("a", "b", now + 1)
    };
    let outcome = store.rotate(&missing).await.expect("answers");
    assert_eq!(outcome, WriteOutcome::SessionChanged);
    let created = store.find_session("sid-missing").await.expect("answers");
    assert_eq!(created, None, "a rotation creates no family");
}

/// A revoked family does not rotate, even from its current hash.
pub async fn rotation_of_a_revoked_family_changes_nothing<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let session = granted(store, clock).await;
    store.revoke_family(SID).await.expect("answers");

    let outcome = store.rotate(&rotation("a", "b", clock.now())).await;

    assert_eq!(outcome.expect("answers"), WriteOutcome::SessionChanged);
    let revoked = Session {
        revoked: true,
        ..session
    };
    assert_eq!(stored(store).await, Some(revoked));
}

/// After the owner signed out everywhere, or was disabled, the rotation reports the principal
/// and writes nothing.
pub async fn rotation_after_the_owner_changed_reports_the_principal<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let session = granted(store, clock).await;
    let now = clock.now();
    store.sign_out_everywhere("u-1").await.expect("answers");

    let old_version = store.rotate(&rotation("a", "b", now)).await;

    assert_eq!(
        old_version.expect("answers"),
        WriteOutcome::PrincipalChanged
    );
    let owner = Username::parse("owner").expect("valid name");
    let version = store.set_status(&owner, UserStatus::Disabled).await;
    assert_eq!(version.expect("answers"), Some(3));
    let disabled = Rotation {
        token_version: 3,
        ..rotation("a", "b", now)
    };
    let outcome = store.rotate(&disabled).await.expect("answers");
    assert_eq!(outcome, WriteOutcome::PrincipalChanged, "disabled owner");
    assert_eq!(stored(store).await, Some(session));
}

/// The grace reissue of the current hash marks the family used, counts the refresh and
/// changes nothing else.
pub async fn reissue_marks_the_current_token_used_and_nothing_else<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let session = granted(store, clock).await;
    let t = clock.now();
    let first = store.rotate(&rotation("a", "b", t)).await;
    assert_eq!(first.expect("answers"), WriteOutcome::Written);
    clock.advance(3);

    let outcome = store
        .reissue_current(&reissue("b", 1, t + 3, within(t)))
        .await;

    assert_eq!(outcome.expect("answers"), WriteOutcome::Written);
    let touched = Session {
        last_used_at: t + 3,
        window_hits: 2,
        ..rotated(&session, "a", "b", t)
    };
    assert_eq!(stored(store).await, Some(touched));
}

/// The reissue is refused when its hash is not current, when the family is revoked (both:
/// look again) and when the owner moved on (the principal).
pub async fn reissue_refuses_a_stale_hash_a_revoked_family_and_a_changed_owner<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let session = granted(store, clock).await;
    let now = clock.now();

    let count = opening(now + 1, 0);
    let stale = store
        .reissue_current(&reissue("b", 1, now + 1, count))
        .await;
    assert_eq!(stale.expect("answers"), WriteOutcome::SessionChanged);
    store.sign_out_everywhere("u-1").await.expect("answers");
    let old_owner = store
        .reissue_current(&reissue("a", 1, now + 1, count))
        .await;
    assert_eq!(old_owner.expect("answers"), WriteOutcome::PrincipalChanged);
    store.revoke_family(SID).await.expect("answers");
    let revoked = store
        .reissue_current(&reissue("a", 2, now + 1, count))
        .await;
    assert_eq!(revoked.expect("answers"), WriteOutcome::SessionChanged);

    let expected = Session {
        revoked: true,
        ..session
    };
    assert_eq!(stored(store).await, Some(expected), "nothing but revoked");
}

/// Revoking twice leaves one revoked family; revoking an unknown family creates none.
pub async fn revoking_a_family_is_idempotent_and_creates_nothing<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let session = granted(store, clock).await;

    store.revoke_family(SID).await.expect("answers");
    store.revoke_family(SID).await.expect("answers");
    store.revoke_family("sid-unknown").await.expect("answers");

    let expected = Session {
        revoked: true,
        ..session
    };
    assert_eq!(stored(store).await, Some(expected));
    let unknown = store.find_session("sid-unknown").await.expect("answers");
    assert_eq!(unknown, None);
}

/// Reuse revokes a family only under its own family hash: another hash (a made-up token's)
/// changes nothing, an unknown session stays absent, and the family's hash revokes it, however
/// often it rotated.
pub async fn only_the_familys_own_hash_revokes_it_on_reuse<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let session = granted(store, clock).await;
    let now = clock.now();
    let first = store.rotate(&rotation("a", "b", now)).await;
    assert_eq!(first.expect("answers"), WriteOutcome::Written);

    let foreign = store.revoke_family_on_reuse(SID, &hash("made-up")).await;
    let current = store.revoke_family_on_reuse(SID, &hash("b")).await;
    let elsewhere = store
        .revoke_family_on_reuse("sid-unknown", &hash("family"))
        .await;
    assert_eq!(
        [foreign, current, elsewhere].map(|r| r.expect("answers")),
        [false; 3]
    );
    assert_eq!(stored(store).await, Some(rotated(&session, "a", "b", now)));
    let reused = store.revoke_family_on_reuse(SID, &hash("family")).await;

    assert!(reused.expect("answers"), "the family's own hash is reuse");
    let expected = Session {
        revoked: true,
        ..rotated(&session, "a", "b", now)
    };
    assert_eq!(stored(store).await, Some(expected));
    let unknown = store.find_session("sid-unknown").await.expect("answers");
    assert_eq!(unknown, None, "no family was created");
}

/// A cancelled grant reads as absent, cancelling again is no error, and the id can be granted.
pub async fn a_cancelled_grant_is_gone<S: Stores>(store: &S, clock: &ManualClock) {
    let session = granted(store, clock).await;

    store.cancel_grant(SID).await.expect("answers");
    store.cancel_grant(SID).await.expect("answers");

    assert_eq!(stored(store).await, None);
    store.grant(&session).await.expect("the id is free again");
    assert_eq!(stored(store).await, Some(session));
}

/// Two rotations from one hash to different successors, in flight together: exactly one
/// commits, the other is told the family changed, and the winner's successor is current.
pub async fn two_rotations_from_one_hash_race_and_exactly_one_wins<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let session = granted(store, clock).await;
    let now = clock.now();

    let (to_b, to_c) = (rotation("a", "b", now), rotation("a", "c", now));

    let (b, c) = tokio::join!(store.rotate(&to_b), store.rotate(&to_c));

    let outcomes = (b.expect("answers"), c.expect("answers"));
    let winner = match outcomes {
        (WriteOutcome::Written, WriteOutcome::SessionChanged) => "b",
        (WriteOutcome::SessionChanged, WriteOutcome::Written) => "c",
        other => panic!("exactly one rotation commits, got {other:?}"),
    };
    assert_eq!(
        stored(store).await,
        Some(rotated(&session, "a", winner, now))
    );
}

/// The same rotation twice (an SDK retry, or two refreshes deriving the same successor): one
/// write commits; the other finds the successor installed and writes nothing.
pub async fn a_retried_rotation_to_the_same_successor_is_written_once<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let session = granted(store, clock).await;
    let now = clock.now();
    let to_b = rotation("a", "b", now);

    let (first, second) = tokio::join!(store.rotate(&to_b), store.rotate(&to_b));

    let mut outcomes = [first, second].map(|o| o.expect("answers"));
    outcomes.sort_by_key(|o| *o != WriteOutcome::Written);
    assert_eq!(
        outcomes,
        [WriteOutcome::Written, WriteOutcome::SessionChanged]
    );
    assert_eq!(stored(store).await, Some(rotated(&session, "a", "b", now)));
}

/// A rotation and a revocation in flight together: the family ends revoked either way, and
/// rotated only if the rotation committed first.
pub async fn a_rotation_racing_a_revocation_leaves_the_family_revoked<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let session = granted(store, clock).await;
    let now = clock.now();
    let to_b = rotation("a", "b", now);

    let (rotated_first, revoked) = tokio::join!(store.rotate(&to_b), store.revoke_family(SID));

    revoked.expect("answers");
    let base = match rotated_first.expect("answers") {
        WriteOutcome::Written => rotated(&session, "a", "b", now),
        WriteOutcome::SessionChanged => session,
        WriteOutcome::PrincipalChanged => panic!("the owner did not change"),
    };
    let expected = Session {
        revoked: true,
        ..base
    };
    assert_eq!(stored(store).await, Some(expected));
}
