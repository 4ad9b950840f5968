//! [`UserStore`] contract: a name and a user id are each taken once, every change of roles or
//! status and every sign-out everywhere bumps the token version of the user and of the
//! principal the authorizer reads, together, and concurrent bumps each count.

use tokengate_domain::ports::{Principal, RevocationSource, User, UserStatus, UserStore};
use tokengate_domain::{ManualClock, Username};

use super::{create, user, Stores};

fn name(raw: &str) -> Username {
    Username::parse(raw).expect("valid name")
}

async fn principal<S: RevocationSource + ?Sized>(store: &S, user_id: &str) -> Option<Principal> {
    store
        .revocation_status("jti-none", user_id, None)
        .await
        .expect("the store answers")
        .principal
}

async fn find<S: UserStore + ?Sized>(store: &S, raw: &str) -> Option<User> {
    store
        .find_user(&name(raw))
        .await
        .expect("the store answers")
}

/// A second user under a taken name is refused and the first stays as it was.
pub async fn a_name_is_created_once<S: Stores>(store: &S, _clock: &ManualClock) {
    let first = create(store, "alice", "u-1").await;

    let second = user("alice", "u-2");
    let created = store.create_user(&second).await.expect("the store answers");

    assert!(!created, "a taken name is refused");
    assert_eq!(find(store, "alice").await, Some(first));
    assert_eq!(principal(store, "u-2").await, None, "nothing of it is kept");
}

/// A second user under a taken id is refused: the id is the principal's key, and two users
/// sharing it would share one token version.
pub async fn a_user_id_is_created_once<S: Stores>(store: &S, _clock: &ManualClock) {
    create(store, "bob", "u-1").await;
    let bumped = store.set_roles(&name("bob"), &[]).await.expect("answers");
    assert_eq!(bumped, Some(2));

    let created = store
        .create_user(&user("carol", "u-1"))
        .await
        .expect("the store answers");

    assert!(!created, "a taken user id is refused");
    assert_eq!(find(store, "carol").await, None, "no user item is left");
    assert_eq!(
        principal(store, "u-1").await,
        Some(Principal {
            token_version: 2,
            status: UserStatus::Active,
        }),
        "the principal is still bob's"
    );
}

/// Reads and changes of a user that does not exist find nothing and create nothing; a re-hash
/// of it writes nothing (the adapter's update is conditional on the hash read).
pub async fn an_unknown_user_reads_as_absent_and_nothing_is_created<S: Stores>(
    store: &S,
    _clock: &ManualClock,
) {
    let nobody = name("nobody");

    assert_eq!(find(store, "nobody").await, None);
    assert_eq!(store.set_roles(&nobody, &[]).await.expect("answers"), None);
    let disabled = store.set_status(&nobody, UserStatus::Disabled).await;
    assert_eq!(disabled.expect("answers"), None);
    let signed_out = store.sign_out_everywhere("u-nobody").await;
    assert_eq!(signed_out.expect("answers"), None);
    let rehashed = store
        .upgrade_password_hash(&user("nobody", "u-nobody"), "$argon2id$x")
        .await;
    assert!(
        !rehashed.expect("the store answers"),
        "a re-hash of an unknown user writes nothing"
    );
    assert_eq!(find(store, "nobody").await, None, "no user was created");
}

/// New roles bump the token version (so tokens with the old roles die), on the user and on the
/// principal at once; nothing else changes.
pub async fn setting_roles_bumps_the_token_version_of_user_and_principal<S: Stores>(
    store: &S,
    _clock: &ManualClock,
) {
    let before = create(store, "alice", "u-1").await;
    let roles = vec!["admin".to_owned(), "reader".to_owned()];

    let version = store.set_roles(&name("alice"), &roles).await;

    assert_eq!(version.expect("answers"), Some(2));
    let expected = User {
        roles,
        token_version: 2,
        ..before
    };
    assert_eq!(find(store, "alice").await, Some(expected));
    assert_eq!(
        principal(store, "u-1").await,
        Some(Principal {
            token_version: 2,
            status: UserStatus::Active,
        })
    );
}

/// Disabling bumps the version and the principal reads disabled; enabling bumps again.
pub async fn setting_the_status_bumps_the_token_version<S: Stores>(
    store: &S,
    _clock: &ManualClock,
) {
    let before = create(store, "alice", "u-1").await;

    let disabled = store.set_status(&name("alice"), UserStatus::Disabled).await;

    assert_eq!(disabled.expect("answers"), Some(2));
    let expected = User {
        status: UserStatus::Disabled,
        token_version: 2,
        ..before.clone()
    };
    assert_eq!(find(store, "alice").await, Some(expected));
    assert_eq!(
        principal(store, "u-1").await,
        Some(Principal {
            token_version: 2,
            status: UserStatus::Disabled,
        })
    );
    let enabled = store.set_status(&name("alice"), UserStatus::Active).await;
    assert_eq!(enabled.expect("answers"), Some(3));
    assert_eq!(
        principal(store, "u-1").await,
        Some(Principal {
            token_version: 3,
            status: UserStatus::Active,
        })
    );
}

/// Signing out everywhere is addressed by user id and bumps the version each time.
pub async fn signing_out_everywhere_bumps_the_token_version<S: Stores>(
    store: &S,
    _clock: &ManualClock,
) {
    let before = create(store, "alice", "u-1").await;

    let first = store.sign_out_everywhere("u-1").await.expect("answers");
    let second = store.sign_out_everywhere("u-1").await.expect("answers");

    assert_eq!((first, second), (Some(2), Some(3)));
    let expected = User {
        token_version: 3,
        ..before
    };
    assert_eq!(find(store, "alice").await, Some(expected));
    assert_eq!(
        principal(store, "u-1").await.map(|p| p.token_version),
        Some(3)
    );
}

/// A re-hash replaces the hash only: no version bump, no token dies.
pub async fn a_new_password_hash_changes_nothing_else<S: Stores>(store: &S, _clock: &ManualClock) {
    let before = create(store, "alice", "u-1").await;
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$bmV3$stronger";

    let written = store
        .upgrade_password_hash(&before, hash)
        .await
        .expect("the store answers");

    assert!(written, "a re-hash of the user as read is written");

    let expected = User {
        password_hash: hash.to_owned(),
        ..before
    };
    assert_eq!(find(store, "alice").await, Some(expected));
    assert_eq!(
        principal(store, "u-1").await.map(|p| p.token_version),
        Some(1)
    );
}

/// The rehash race: a login reads the user, a password change commits, then the login's re-hash
/// of the *old* password arrives. The change wins: the re-hash writes nothing (the old password
/// must not come back), and so does a second re-hash from one read after the first landed.
pub async fn a_rehash_never_overwrites_a_password_change_committed_after_the_login_read<
    S: Stores,
>(
    store: &S,
    _clock: &ManualClock,
) {
    let read = create(store, "alice", "u-1").await;
    let changed = store
        .change_password(&name("alice"), "$argon2id$new-password", read.token_version)
        .await
        .expect("the store answers");
    assert_eq!(changed, Some(read.token_version + 1));

    let rehashed = store
        .upgrade_password_hash(&read, "$argon2id$old-password-stronger")
        .await
        .expect("the store answers");

    assert!(
        !rehashed,
        "the re-hash from before the change writes nothing"
    );
    let after = find(store, "alice").await.expect("still there");
    assert_eq!(after.password_hash, "$argon2id$new-password");
    assert_eq!(after.token_version, read.token_version + 1);

    // Same version, hash moved (another login's re-hash landed first): also nothing.
    let read = after;
    let first = store.upgrade_password_hash(&read, "$argon2id$first").await;
    let second = store.upgrade_password_hash(&read, "$argon2id$second").await;
    assert_eq!(
        (first.expect("answers"), second.expect("answers")),
        (true, false)
    );
    let after = find(store, "alice").await.expect("still there");
    assert_eq!(after.password_hash, "$argon2id$first");
}

/// Three bumps racing from one read version all count: each gets its own new version and the
/// user ends three versions on (the adapter retries a bump whose condition lost the race).
pub async fn concurrent_version_bumps_each_count_once<S: Stores>(store: &S, _clock: &ManualClock) {
    create(store, "alice", "u-1").await;
    let (alice, admin) = (name("alice"), ["admin".to_owned()]);

    let (a, b, c) = tokio::join!(
        store.sign_out_everywhere("u-1"),
        store.set_roles(&alice, &admin),
        store.set_status(&alice, UserStatus::Active),
    );

    let mut versions = [a, b, c].map(|v| v.expect("answers").expect("the user exists"));
    versions.sort_unstable();
    assert_eq!(versions, [2, 3, 4]);
    let user = find(store, "alice").await.expect("still there");
    assert_eq!(
        (user.token_version, user.roles),
        (4, vec!["admin".to_owned()])
    );
    assert_eq!(
        principal(store, "u-1").await.map(|p| p.token_version),
        Some(4)
    );
}

/// A password change replaces the hash and bumps the version of user and principal in one
/// write, only from the version the caller checked: tokens and sessions of the old password
/// die with it. A moved version or an unknown user changes nothing.
pub async fn a_password_change_sets_the_hash_and_bumps_the_version_together<S: Stores>(
    store: &S,
    _clock: &ManualClock,
) {
    let before = create(store, "dora", "u-4").await;

    let stale = store
        .change_password(&name("dora"), "$argon2id$stale", before.token_version + 1)
        .await
        .expect("the store answers");
    let changed = store
        .change_password(&name("dora"), "$argon2id$new", before.token_version)
        .await
        .expect("the store answers");

    assert_eq!(stale, None, "a version that moved refuses the change");

    assert_eq!(changed, Some(before.token_version + 1));
    let after = find(store, "dora").await.expect("still there");
    assert_eq!(after.password_hash, "$argon2id$new");
    assert_eq!(after.token_version, before.token_version + 1);
    assert_eq!((after.roles, after.status), (before.roles, before.status));
    assert_eq!(
        principal(store, "u-4").await.map(|p| p.token_version),
        Some(before.token_version + 1)
    );
    let unknown = store
        .change_password(&name("nobody"), "$argon2id$x", 1)
        .await
        .expect("the store answers");
    assert_eq!(unknown, None);
    assert_eq!(find(store, "nobody").await, None, "nothing is created");
}

/// The login name behind a `sub` is found from the principal; an unknown id has none.
pub async fn the_username_of_a_user_id_is_found<S: Stores>(store: &S, _clock: &ManualClock) {
    create(store, "erin", "u-5").await;

    let found = store.find_username("u-5").await.expect("the store answers");
    let unknown = store
        .find_username("u-404")
        .await
        .expect("the store answers");

    assert_eq!(found, Some(name("erin")));
    assert_eq!(unknown, None);
}

/// A sign-out from the version a credential proves bumps it once; the same proof again (the
/// credential is now of an old version), a proof of another version, a disabled user and an
/// unknown id change nothing and create nothing.
pub async fn signing_out_everywhere_from_a_version_bumps_only_that_version<S: Stores>(
    store: &S,
    _clock: &ManualClock,
) {
    let before = create(store, "alice", "u-1").await;

    let first = store
        .sign_out_everywhere_from("u-1", 1)
        .await
        .expect("answers");
    let replayed = store
        .sign_out_everywhere_from("u-1", 1)
        .await
        .expect("answers");
    let future = store
        .sign_out_everywhere_from("u-1", 7)
        .await
        .expect("answers");
    let unknown = store
        .sign_out_everywhere_from("u-nobody", 1)
        .await
        .expect("answers");

    assert_eq!(
        (first, replayed, future, unknown),
        (Some(2), None, None, None)
    );
    let expected = User {
        token_version: 2,
        ..before
    };
    assert_eq!(find(store, "alice").await, Some(expected));
    assert_eq!(
        principal(store, "u-1").await.map(|p| p.token_version),
        Some(2)
    );
    assert_eq!(principal(store, "u-nobody").await, None, "nothing created");

    store
        .set_status(&name("alice"), UserStatus::Disabled)
        .await
        .expect("answers");
    let disabled = store
        .sign_out_everywhere_from("u-1", 3)
        .await
        .expect("answers");
    assert_eq!(disabled, None);
    assert_eq!(
        principal(store, "u-1").await,
        Some(Principal {
            token_version: 3,
            status: UserStatus::Disabled,
        })
    );
}

/// Two sign-outs racing from one proven version: exactly one bumps, the other changes nothing
/// (it does not retry from the newer version, which its credential does not prove).
pub async fn two_sign_outs_from_one_version_race_and_one_bumps<S: Stores>(
    store: &S,
    _clock: &ManualClock,
) {
    create(store, "alice", "u-1").await;

    let (a, b) = tokio::join!(
        store.sign_out_everywhere_from("u-1", 1),
        store.sign_out_everywhere_from("u-1", 1),
    );

    let mut outcomes = [a.expect("answers"), b.expect("answers")];
    outcomes.sort_unstable();
    assert_eq!(outcomes, [None, Some(2)]);
    assert_eq!(
        principal(store, "u-1").await.map(|p| p.token_version),
        Some(2)
    );
}
