//! The feed items' codec and size, as DynamoDB counts it.

use super::*;

/// An item's size as DynamoDB counts it for capacity ("DynamoDB item sizes and formats",
/// Amazon DynamoDB Developer Guide): each attribute's name plus its value — a string's UTF-8
/// bytes; a number's 1 byte per two significant digits plus 1. Only the types feed items use.
fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| {
            name.len()
                + match value {
                    AttributeValue::S(v) => v.len(),
                    AttributeValue::N(v) => {
                        let digits = v.trim_start_matches(['-', '0']).trim_end_matches('0');
                        digits.len().div_ceil(2) + 1
                    }
                    other => panic!("no size rule here for {other:?}"),
                }
        })
        .sum()
}

fn entry(revoked: Revoked) -> FeedEntry {
    FeedEntry {
        at_ms: 1_765_000_000_123,
        until: 1_765_000_990,
        revoked,
    }
}

#[test]
fn every_feed_entry_reads_back_from_its_item() {
    for revoked in [
        Revoked::Token { jti: "j-1".into() },
        Revoked::Principal {
            user_id: "u-1".into(),
            min_version: 7,
        },
        Revoked::Session { sid: "s-1".into() },
    ] {
        let e = entry(revoked);
        assert_eq!(feed_entry_from(&feed_item(&e, 0xabc)).unwrap(), e);
    }
}

#[test]
fn a_feed_item_that_does_not_decode_is_an_error() {
    let good = feed_item(&entry(Revoked::Session { sid: "s".into() }), 1);
    for (attr, bad) in [
        ("at", s("12345")),
        ("at", s("x#1")),
        ("revoked", s("everything")),
        ("ttl", s("soon")),
    ] {
        let mut item = good.clone();
        item.insert(attr.to_owned(), bad);
        assert!(feed_entry_from(&item).is_err(), "{attr}");
    }
    let mut no_version = feed_item(
        &entry(Revoked::Principal {
            user_id: "u".into(),
            min_version: 2,
        }),
        1,
    );
    no_version.remove("min_version");
    assert!(feed_entry_from(&no_version).is_err());
}

#[test]
fn feed_keys_sort_by_time_and_a_millisecond_keeps_all_its_entries() {
    let since = feed_since(1_765_000_000_123);
    assert!(feed_at(1_765_000_000_122, u64::MAX) < since);
    assert!(feed_at(1_765_000_000_123, 0) >= since);
    assert!(feed_at(1_765_000_000_123, u64::MAX) < feed_at(1_765_000_000_124, 0));
    assert!(
        feed_at(999, 0) < feed_at(1_000, 0),
        "zero-padded: numeric order"
    );
}

/// The figures src/dynamo/mod.rs and docs/scaling.md quote, for ids of
/// `tokengate_domain::refresh_token::random_id`'s 22 characters and a 10-digit `ttl`: the
/// feed item of a principal is the largest (its `min_version` too).
#[test]
fn feed_items_are_85_to_102_bytes() {
    let id = "Zm9vYmFyYmF6cXV4cXV1eA".to_owned();
    let size = |revoked| {
        let e = FeedEntry {
            at_ms: 1_765_000_000_123,
            until: 1_765_000_987,
            revoked,
        };
        item_size(&feed_item(&e, u64::MAX))
    };
    assert_eq!(size(Revoked::Token { jti: id.clone() }), 85);
    assert_eq!(size(Revoked::Session { sid: id.clone() }), 87);
    let principal = Revoked::Principal {
        user_id: id,
        min_version: 12,
    };
    assert_eq!(size(principal), 102);
}
