//! The revocation feed on DynamoDB ([`RevocationFeed`]): a table of its own (hash key `pk`, the
//! shard `feed#0`; range key `at`, the writer's milliseconds and a random suffix), one item
//! appended in the transaction of every revoking write, so an entry exists exactly when its
//! revocation committed, and read by the authorizer with one strongly consistent `Query`.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use tokengate_domain::ports::{FeedEntry, RevocationFeed, Revoked};
use tokengate_domain::PortResult;

use super::codec::{feed_entry_from, feed_item, feed_since, s, FEED_SHARD};
use super::transact::{build_err, FailedConditions};
use super::DynamoStore;
use crate::errors::classify;

/// A suffix no other entry of the same millisecond has: a counter hashed with SipHash under
/// keys std draws from the OS's randomness once per process, so two instances (or two writes
/// of one instance) collide with odds of 2⁻⁶⁴. Uniqueness is all it needs; nothing secret.
fn suffix() -> u64 {
    static KEYS: OnceLock<RandomState> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    KEYS.get_or_init(RandomState::new)
        .hash_one(COUNTER.fetch_add(1, Ordering::Relaxed))
}

impl DynamoStore {
    /// The put of the entry recording `revoked`, stamped now by the store's clock; it lives
    /// until `until` (a token's) or, for a principal or a session, [`FeedLife::until`] of this
    /// second.
    ///
    /// [`FeedLife::until`]: tokengate_domain::revocation_feed::FeedLife::until
    fn feed_put(&self, revoked: Revoked, until: Option<i64>) -> PortResult<TransactWriteItem> {
        let at_ms = self.clock.now_ms();
        let until = until.unwrap_or_else(|| self.feed_life.until(at_ms.div_euclid(1000)));
        let entry = FeedEntry {
            at_ms,
            until,
            revoked,
        };
        let put = Put::builder()
            .table_name(&self.tables.feed)
            .set_item(Some(feed_item(&entry, suffix())))
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Runs `items` and, last, the feed entry recording `revoked` as one transaction, within
    /// the revoking writes' time cap (`crate::config::REVOKING_WRITE_TIMEOUT`): the entry is
    /// stamped just before the send, so it commits at most that long after its `at_ms`. The
    /// answer is [`Self::transact`]'s; the entry's put has no condition, so a cancellation's
    /// reasons index `items` as given.
    pub(super) async fn transact_revoking(
        &self,
        mut items: Vec<TransactWriteItem>,
        revoked: Revoked,
        until: Option<i64>,
        op: &'static str,
    ) -> PortResult<Result<(), FailedConditions>> {
        items.push(self.feed_put(revoked, until)?);
        self.transact_capped(items, op, true).await
    }
}

#[async_trait]
impl RevocationFeed for DynamoStore {
    async fn read_feed(&self, since_ms: i64) -> PortResult<Vec<FeedEntry>> {
        let mut entries = Vec::new();
        let mut start = None;
        // One page of up to 1 MB holds ~10,000 entries: a catch-up is one request unless a
        // cold start reads a busy window (Query, Amazon DynamoDB API Reference).
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.tables.feed)
                .consistent_read(true)
                .key_condition_expression("pk = :shard AND #at >= :since")
                .expression_attribute_names("#at", "at")
                .expression_attribute_values(":shard", s(FEED_SHARD))
                .expression_attribute_values(":since", s(feed_since(since_ms)))
                .set_limit(self.feed_page_limit)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| classify(e, "read revocation feed"))?;
            for item in out.items() {
                entries.push(feed_entry_from(item)?);
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(entries),
            }
        }
    }
}
