//! [`RevocationFeed`](tokengate_domain::ports::RevocationFeed) contract: every write that
//! revokes appends exactly one entry, in its own transaction (none when a conditional write is
//! refused), and `read_feed(since)` returns every entry written at or after `since`, in order,
//! however many pages that takes.

use std::collections::HashSet;

use tokengate_domain::ports::{FeedEntry, RevocationFeed, Revoked, UserStatus};
use tokengate_domain::revocation_feed::FeedLife;
use tokengate_domain::{Clock, ManualClock, Username};

use super::sessions::{granted, hash, SID};
use super::{create, Stores};

/// The adapter's feed page size in the contract runs (`DynamoStore::with_feed_page_limit`):
/// small, so [`many_entries_all_come_back_across_pages`] reads several pages.
pub const PAGE_LIMIT: i32 = 7;

async fn feed<S: RevocationFeed + ?Sized>(store: &S, since_ms: i64) -> Vec<FeedEntry> {
    store.read_feed(since_ms).await.expect("the feed reads")
}

/// The entries written since `since_ms`, which must be exactly one, at the clock's now.
async fn only_entry<S: RevocationFeed + ?Sized>(
    store: &S,
    clock: &ManualClock,
    since_ms: i64,
    what: &str,
) -> FeedEntry {
    let entries = feed(store, since_ms).await;
    assert_eq!(
        entries.len(),
        1,
        "{what} appends exactly one entry: {entries:?}"
    );
    let entry = entries[0].clone();
    assert_eq!(
        entry.at_ms,
        clock.now_ms(),
        "{what}: stamped by the store's clock"
    );
    entry
}

/// A principal's entry for `user_id` at `min_version`, living as long as the writers' tokens
/// (the contract stores use the default [`FeedLife`]) from the second it was written.
fn principal_entry(clock: &ManualClock, user_id: &str, min_version: u64) -> FeedEntry {
    FeedEntry {
        at_ms: clock.now_ms(),
        until: FeedLife::default().until(clock.now()),
        revoked: Revoked::Principal {
            user_id: user_id.to_owned(),
            min_version,
        },
    }
}

fn name(raw: &str) -> Username {
    Username::parse(raw).expect("valid name")
}

/// Every token-version bump (role change, disable, sign-out everywhere, from a version, password
/// change) appends one principal entry with the new version as the minimum, living past the
/// longest access token written before it.
pub async fn every_token_version_bump_appends_one_principal_entry<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    create(store, "alice", "u-alice").await;
    let roles = ["admin".to_owned()];
    let mut expected = Vec::new();
    for step in 0..5 {
        clock.advance_ms(1_234);
        let since = clock.now_ms();
        let (what, version) = match step {
            0 => ("set_roles", store.set_roles(&name("alice"), &roles).await),
            1 => (
                "set_status",
                store.set_status(&name("alice"), UserStatus::Disabled).await,
            ),
            2 => (
                "set_status back",
                store.set_status(&name("alice"), UserStatus::Active).await,
            ),
            3 => (
                "sign_out_everywhere",
                store.sign_out_everywhere("u-alice").await,
            ),
            _ => (
                "sign_out_everywhere_from",
                store.sign_out_everywhere_from("u-alice", 5).await,
            ),
        };
        let version = version
            .expect("the store answers")
            .expect("the bump commits");
        assert_eq!(version, step + 2, "{what} bumps once");
        let entry = only_entry(store, clock, since, what).await;
        assert_eq!(entry, principal_entry(clock, "u-alice", version), "{what}");
        expected.push(entry);
    }
    clock.advance_ms(1_000);
    let since = clock.now_ms();
    let version = store
        .change_password(&name("alice"), "$argon2id$new", 6)
        .await
        .expect("the store answers")
        .expect("the change commits");
    let entry = only_entry(store, clock, since, "change_password").await;
    assert_eq!(entry, principal_entry(clock, "u-alice", version));
    expected.push(entry);
    assert_eq!(feed(store, 0).await, expected, "nothing else was appended");
}

/// Revoking a session's family (logout) and revoking it on reuse each append one session
/// entry living past the longest access token of the session.
pub async fn a_revoked_session_appends_one_session_entry<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let session = granted(store, clock).await;
    let session_entry = |clock: &ManualClock| FeedEntry {
        at_ms: clock.now_ms(),
        until: FeedLife::default().until(clock.now()),
        revoked: Revoked::Session {
            sid: SID.to_owned(),
        },
    };
    assert_eq!(feed(store, 0).await, [], "a login revokes nothing");

    clock.advance_ms(1_500);
    let since = clock.now_ms();
    let revoked = store
        .revoke_family_on_reuse(SID, &session.family_hash)
        .await
        .expect("the store answers");
    assert!(revoked, "the family's own hash revokes it");
    let entry = only_entry(store, clock, since, "revoke_family_on_reuse").await;
    assert_eq!(entry, session_entry(clock));

    clock.advance_ms(700);
    let since = clock.now_ms();
    store.revoke_family(SID).await.expect("the store answers");
    let entry = only_entry(store, clock, since, "revoke_family").await;
    assert_eq!(entry, session_entry(clock));
}

/// Denylisting a token appends one token entry whose `until` is the deny's own (the first
/// second no verifier accepts the token).
pub async fn a_denied_token_appends_one_token_entry_until_the_denys_until<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    clock.advance_ms(321);
    let until = clock.now() + 930;

    store
        .deny("jti-feed", until)
        .await
        .expect("the store answers");

    let entry = only_entry(store, clock, 0, "deny").await;
    assert_eq!(
        entry,
        FeedEntry {
            at_ms: clock.now_ms(),
            until,
            revoked: Revoked::Token {
                jti: "jti-feed".to_owned()
            },
        }
    );
}

/// A conditional write that is refused revokes nothing and appends nothing: a password change
/// or a sign-out from a stale version, reuse of another family's hash, the revocation of a
/// session that does not exist, a role change of an unknown user.
pub async fn a_refused_conditional_write_appends_nothing<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    granted(store, clock).await;
    let stale = store
        .change_password(&name("owner"), "$argon2id$new", 7)
        .await
        .expect("the store answers");
    assert_eq!(
        stale, None,
        "a password change from a stale version is refused"
    );
    let stale = store
        .sign_out_everywhere_from("u-1", 7)
        .await
        .expect("the store answers");
    assert_eq!(stale, None, "a sign-out from a stale version is refused");
    let reused = store
        .revoke_family_on_reuse(SID, &hash("another family"))
        .await
        .expect("the store answers");
    assert!(!reused, "another family's hash revokes nothing");
    store
        .revoke_family("sid-nobody")
        .await
        .expect("revoking an absent session is no error");
    let unknown = store
        .set_roles(&name("nobody"), &["admin".to_owned()])
        .await
        .expect("the store answers");
    assert_eq!(unknown, None, "an unknown user's roles are not set");

    assert_eq!(
        feed(store, 0).await,
        [],
        "nothing was revoked, nothing appended"
    );
}

/// `read_feed(since)` returns exactly the entries written at or after `since` (the one
/// written at `since` itself included), in the order they were written.
pub async fn the_feed_since_a_time_holds_exactly_the_entries_at_or_after_it_in_order<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let mut stamps = Vec::new();
    for i in 0..6 {
        // Steps of 1 ms and of whole seconds: the order holds across both.
        clock.advance_ms(if i % 2 == 0 { 1 } else { 1_000 });
        stamps.push(clock.now_ms());
        store
            .deny(&format!("jti-{i}"), clock.now() + 100)
            .await
            .expect("the store answers");
    }

    for (i, &since) in stamps.iter().enumerate() {
        let jtis: Vec<Revoked> = feed(store, since)
            .await
            .into_iter()
            .map(|e| e.revoked)
            .collect();
        let expected: Vec<Revoked> = (i..6)
            .map(|j| Revoked::Token {
                jti: format!("jti-{j}"),
            })
            .collect();
        assert_eq!(jtis, expected, "since the {i}th entry's millisecond");
    }
    let after_last = stamps[5] + 1;
    assert_eq!(feed(store, after_last).await, [], "nothing after the last");
    let all = feed(store, 0).await;
    assert_eq!(
        all.iter().map(|e| e.at_ms).collect::<Vec<_>>(),
        stamps,
        "every entry, at its own time"
    );
}

/// Many entries — several of the same millisecond among them — all come back, however many
/// pages the store reads them in, each once.
pub async fn many_entries_all_come_back_across_pages<S: Stores>(store: &S, clock: &ManualClock) {
    let count = PAGE_LIMIT as usize * 5 + 3;
    for i in 0..count {
        // Three writes per millisecond: entries of one millisecond never overwrite each other.
        if i % 3 == 0 {
            clock.advance_ms(1);
        }
        store
            .deny(&format!("jti-{i:03}"), clock.now() + 100)
            .await
            .expect("the store answers");
    }

    let entries = feed(store, 0).await;

    assert_eq!(entries.len(), count, "every entry, none twice");
    let jtis: HashSet<_> = entries.iter().map(|e| e.revoked.clone()).collect();
    assert_eq!(jtis.len(), count, "each entry once");
    assert!(
        entries.windows(2).all(|w| w[0].at_ms <= w[1].at_ms),
        "in time order across pages"
    );
}
