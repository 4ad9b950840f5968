//! The keyring's rules: states, transitions and the one current key.

use super::*;

const NOW: i64 = 1_800_000_000;

fn key(kid: &str) -> NewKey {
    NewKey {
        kid: kid.to_owned(),
        alg: Algorithm::ES256,
        public_key: vec![1, 2, 3],
        key_arn: format!("arn:aws:kms:us-east-1:123456789012:key/{kid}"),
    }
}

fn states(k: &Keyring) -> Vec<(&str, KeyState)> {
    k.keys().iter().map(|k| (k.kid.as_str(), k.state)).collect()
}

fn trusted(k: &Keyring, now: i64) -> Vec<&str> {
    k.trusted_at(now).map(|k| k.kid.as_str()).collect()
}

fn ring_with_current(kid: &str) -> Keyring {
    let mut ring = Keyring::default();
    ring.adopt(key(kid), NOW).unwrap();
    ring
}

#[test]
fn adopting_into_an_empty_keyring_makes_the_key_current() {
    let ring = ring_with_current("a");
    assert_eq!(states(&ring), [("a", KeyState::Current)]);
    assert_eq!(ring.current().map(|k| k.kid.as_str()), Some("a"));
    assert_eq!(ring.keys()[0].added_at, NOW);
}

#[test]
fn adopting_again_the_current_key_changes_nothing_and_another_key_is_refused() {
    let mut ring = ring_with_current("a");
    ring.adopt(key("a"), NOW + 5).unwrap();
    assert_eq!(states(&ring), [("a", KeyState::Current)]);
    assert_eq!(
        ring.adopt(key("b"), NOW),
        Err(KeyringError::HasCurrent("a".into()))
    );
    assert_eq!(ring.keys().len(), 1, "nothing added");
}

#[test]
fn a_created_key_is_next_trusted_and_not_signing() {
    let mut ring = ring_with_current("a");
    ring.add_next(key("b"), NOW).unwrap();
    assert_eq!(
        states(&ring),
        [("a", KeyState::Current), ("b", KeyState::Next)]
    );
    assert_eq!(ring.current().unwrap().kid, "a");
    assert_eq!(trusted(&ring, NOW), ["a", "b"]);
}

#[test]
fn a_kid_or_key_arn_joins_the_keyring_once() {
    let mut ring = ring_with_current("a");
    assert_eq!(
        ring.add_next(key("a"), NOW),
        Err(KeyringError::AlreadyPresent("a".into()))
    );
    let same_arn = NewKey {
        kid: "other".into(),
        ..key("a")
    };
    assert_eq!(
        ring.add_next(same_arn, NOW),
        Err(KeyringError::AlreadyPresent("other".into()))
    );
}

#[test]
fn promotion_makes_exactly_one_current_and_the_old_one_retiring_until_its_time() {
    let mut ring = ring_with_current("a");
    ring.add_next(key("b"), NOW).unwrap();
    ring.promote("b", NOW + 100, 1050, Some(60)).unwrap();
    assert_eq!(
        states(&ring),
        [
            (
                "a",
                KeyState::Retiring {
                    until: NOW + 100 + 1050
                }
            ),
            ("b", KeyState::Current)
        ]
    );
    assert_eq!(ring.current().unwrap().kid, "b");
    assert_eq!(trusted(&ring, NOW + 1149), ["a", "b"]);
    assert_eq!(
        trusted(&ring, NOW + 1150),
        ["b"],
        "retiring ends at its time"
    );
    assert_eq!(ring.next_change_after(NOW + 100), Some(NOW + 1150));
    assert_eq!(ring.next_change_after(NOW + 1150), None);
}

#[test]
fn a_key_is_not_promoted_before_every_instance_has_read_it() {
    let mut ring = ring_with_current("a");
    ring.add_next(key("b"), NOW).unwrap();
    assert_eq!(
        ring.promote("b", NOW + 59, 100, Some(60)),
        Err(KeyringError::NotYetKnown {
            kid: "b".into(),
            added_at: NOW,
            ready_at: NOW + 60
        })
    );
    assert_eq!(ring.current().unwrap().kid, "a", "nothing changed");
    ring.promote("b", NOW + 1, 100, None).unwrap();
    assert_eq!(ring.current().unwrap().kid, "b", "forced");
}

#[test]
fn promoting_the_current_a_retired_or_an_unknown_key_is_refused() {
    let mut ring = ring_with_current("a");
    ring.add_next(key("b"), NOW).unwrap();
    ring.retire("b").unwrap();
    let before = ring.clone();
    assert_eq!(
        ring.promote("a", NOW, 1, None),
        Err(KeyringError::AlreadyCurrent("a".into()))
    );
    assert_eq!(
        ring.promote("b", NOW, 1, None),
        Err(KeyringError::Retired("b".into()))
    );
    assert_eq!(
        ring.promote("zz", NOW, 1, None),
        Err(KeyringError::UnknownKid("zz".into()))
    );
    assert_eq!(ring, before);
}

#[test]
fn a_retiring_key_can_be_promoted_back() {
    let mut ring = ring_with_current("a");
    ring.add_next(key("b"), NOW).unwrap();
    ring.promote("b", NOW + 60, 500, Some(60)).unwrap();
    ring.promote("a", NOW + 70, 500, Some(60)).unwrap();
    assert_eq!(
        states(&ring),
        [
            ("a", KeyState::Current),
            ("b", KeyState::Retiring { until: NOW + 570 })
        ]
    );
}

#[test]
fn the_current_key_cannot_be_retired() {
    let mut ring = ring_with_current("a");
    assert_eq!(
        ring.retire("a"),
        Err(KeyringError::RetiringCurrent("a".into()))
    );
    assert_eq!(ring.current().unwrap().kid, "a");
}

#[test]
fn a_retired_key_is_neither_trusted_nor_retired_twice() {
    let mut ring = ring_with_current("a");
    ring.add_next(key("b"), NOW).unwrap();
    ring.promote("b", NOW + 60, 500, Some(60)).unwrap();
    ring.retire("a").unwrap();
    assert_eq!(trusted(&ring, NOW + 61), ["b"], "retired before its time");
    assert_eq!(ring.retire("a"), Err(KeyringError::Retired("a".into())));
    assert_eq!(ring.next_change_after(NOW + 61), None);
}

#[test]
fn a_stored_keyring_with_two_current_keys_or_a_repeated_kid_is_refused() {
    let entry = |kid: &str, state| KeyringKey {
        kid: kid.into(),
        alg: Algorithm::ES256,
        public_key: vec![],
        key_arn: format!("arn:{kid}"),
        state,
        added_at: NOW,
    };
    assert_eq!(
        Keyring::from_stored(
            3,
            vec![entry("a", KeyState::Current), entry("b", KeyState::Current)]
        ),
        Err(KeyringError::Inconsistent("more than one current key"))
    );
    assert_eq!(
        Keyring::from_stored(
            3,
            vec![entry("a", KeyState::Next), entry("a", KeyState::Retired)]
        ),
        Err(KeyringError::Inconsistent("a key is listed twice"))
    );
    let ok = Keyring::from_stored(3, vec![entry("a", KeyState::Current)]).unwrap();
    assert_eq!(ok.version(), 3);
}

#[test]
fn states_round_trip_through_their_stored_form() {
    for state in [
        KeyState::Next,
        KeyState::Current,
        KeyState::Retiring { until: NOW },
        KeyState::Retired,
    ] {
        let until = match state {
            KeyState::Retiring { until } => Some(until),
            _ => None,
        };
        assert_eq!(KeyState::parse(state.as_str(), until), Some(state));
    }
    assert_eq!(KeyState::parse("retiring", None), None);
    assert_eq!(KeyState::parse("current", Some(NOW)), None);
    assert_eq!(KeyState::parse("revoked", None), None);
}
