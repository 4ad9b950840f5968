//! [`KeyringStore`](tokengate_domain::ports::KeyringStore) contract: the keyring item reads back
//! exactly, every write is conditional on the version it was read at, and two admins changing
//! it at once both land (or the later one is refused by the rules), never overwrite each other.

use tokengate_claims::Algorithm;
use tokengate_domain::keyring::{change_keyring, KeyState, Keyring, KeyringKey, NewKey};
use tokengate_domain::{Clock, ManualClock};

use super::Stores;

fn new_key(kid: &str, alg: Algorithm) -> NewKey {
    NewKey {
        kid: kid.to_owned(),
        alg,
        public_key: format!("spki-of-{kid}").into_bytes(),
        key_arn: format!("arn:aws:kms:us-east-1:123456789012:key/{kid}"),
    }
}

fn kids_in(ring: &Keyring, state: &str) -> Vec<String> {
    ring.keys()
        .iter()
        .filter(|k| k.state.as_str() == state)
        .map(|k| k.kid.clone())
        .collect()
}

/// No item: an empty keyring at version 0.
pub async fn an_absent_keyring_reads_as_empty_at_version_zero<S: Stores>(
    store: &S,
    _clock: &ManualClock,
) {
    let ring = store.read_keyring().await.expect("the store answers");
    assert_eq!(ring, Keyring::default());
    assert_eq!(ring.version(), 0);
}

/// Every state, both algorithms, the retiring time and the public key bytes come back as
/// written, at the next version.
pub async fn a_written_keyring_reads_back_exactly_at_the_next_version<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let now = clock.now();
    let mut ring = Keyring::default();
    ring.adopt(new_key("k-old", Algorithm::ES256), now).unwrap();
    ring.add_next(new_key("k-new", Algorithm::RS256), now + 1)
        .unwrap();
    ring.add_next(new_key("k-spare", Algorithm::ES256), now + 2)
        .unwrap();
    ring.promote("k-new", now + 100, 1050, Some(60)).unwrap();
    ring.retire("k-spare").unwrap();

    assert!(store.replace_keyring(&ring).await.expect("written"));
    let back = store.read_keyring().await.expect("the store answers");

    assert_eq!(back.version(), 1);
    assert_eq!(back.keys(), ring.keys());
    assert_eq!(
        back.keys()[0],
        KeyringKey {
            kid: "k-old".into(),
            alg: Algorithm::ES256,
            public_key: b"spki-of-k-old".to_vec(),
            key_arn: "arn:aws:kms:us-east-1:123456789012:key/k-old".into(),
            state: KeyState::Retiring {
                until: now + 100 + 1050
            },
            added_at: now,
        }
    );
}

/// A keyring read at an older version is not written over a newer one; nor is a first write
/// over an existing item.
pub async fn a_write_from_a_stale_version_changes_nothing<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let now = clock.now();
    let mut first = Keyring::default();
    first.adopt(new_key("a", Algorithm::ES256), now).unwrap();
    assert!(store.replace_keyring(&first).await.expect("written"));
    let mut stale = Keyring::default();
    stale.adopt(new_key("b", Algorithm::ES256), now).unwrap();

    let written = store.replace_keyring(&stale).await.expect("answered");

    assert!(!written, "a version-0 write over an existing keyring");
    let back = store.read_keyring().await.expect("the store answers");
    assert_eq!(
        (back.version(), kids_in(&back, "current")),
        (1, vec!["a".into()])
    );
}

/// Two writes from the same version: exactly one lands.
pub async fn two_writes_from_one_version_race_and_exactly_one_wins<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let now = clock.now();
    let mut base = Keyring::default();
    base.adopt(new_key("a", Algorithm::ES256), now).unwrap();
    assert!(store.replace_keyring(&base).await.expect("written"));
    let read = store.read_keyring().await.expect("read");
    let (mut one, mut two) = (read.clone(), read);
    one.add_next(new_key("b", Algorithm::ES256), now).unwrap();
    two.add_next(new_key("c", Algorithm::ES256), now).unwrap();

    let (w1, w2) = tokio::join!(store.replace_keyring(&one), store.replace_keyring(&two));

    let (w1, w2) = (w1.expect("answered"), w2.expect("answered"));
    assert!(w1 ^ w2, "exactly one write lands ({w1}, {w2})");
    let back = store.read_keyring().await.expect("read");
    assert_eq!(back.version(), 2);
    let winner = if w1 { "b" } else { "c" };
    assert_eq!(kids_in(&back, "next"), vec![winner.to_owned()]);
}

/// Two admins adding a key each at the same time: both keys are in the keyring afterwards
/// (the loser of the race reads again and re-applies its change).
pub async fn two_admins_changing_at_once_both_land<S: Stores>(store: &S, clock: &ManualClock) {
    let now = clock.now();
    change_keyring(store, |r| r.adopt(new_key("a", Algorithm::ES256), now))
        .await
        .expect("adopted");

    let (one, two) = tokio::join!(
        change_keyring(store, |r| r.add_next(new_key("b", Algorithm::ES256), now)),
        change_keyring(store, |r| r.add_next(new_key("c", Algorithm::RS256), now)),
    );

    one.expect("the first admin's change lands");
    two.expect("the second admin's change lands");
    let back = store.read_keyring().await.expect("read");
    let mut next = kids_in(&back, "next");
    next.sort();
    assert_eq!(next, ["b", "c"]);
    assert_eq!(back.version(), 3);
}

/// Two admins promoting different keys at the same time: both promotions apply in some order,
/// and exactly one key is current afterwards (the other retiring).
pub async fn concurrent_promotions_leave_exactly_one_current<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    let now = clock.now();
    change_keyring(store, |r| {
        r.adopt(new_key("a", Algorithm::ES256), now)?;
        r.add_next(new_key("b", Algorithm::ES256), now)?;
        r.add_next(new_key("c", Algorithm::ES256), now)
    })
    .await
    .expect("set up");

    let (one, two) = tokio::join!(
        change_keyring(store, |r| r.promote("b", now, 600, None)),
        change_keyring(store, |r| r.promote("c", now, 600, None)),
    );

    one.expect("promoted");
    two.expect("promoted");
    let back = store.read_keyring().await.expect("read");
    assert_eq!(kids_in(&back, "current").len(), 1, "{back:?}");
    assert_eq!(kids_in(&back, "retiring").len(), 2, "{back:?}");
    assert_eq!(back.version(), 3);
}
