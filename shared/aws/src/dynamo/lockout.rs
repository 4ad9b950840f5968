//! [`LockoutStore`] on DynamoDB: two counter items per attempt — `lock-src#<network>#<username>`
//! (per account and source network) and `lock#<username>` (per account) — or, for an attempt
//! with a valid device credential, one: `lock-dev#<device id>#<username>`; all read as absent
//! from their TTL on.
//!
//! An attempt is admitted by one transaction that writes both counters as the domain's rule
//! says ([`LockStates::admit`]), each conditioned on still holding what was read. The lock a
//! failure starts grows exponentially with the count, which an update expression cannot
//! compute; and an `ADD` conditioned on "not locked" would let every attempt waiting for a lock
//! to end through at once, since none of them sets the next lock. Writing the exact next state
//! on the condition that nothing moved closes both: of concurrent attempts exactly one writes
//! each state, and the others read again and find the counter further on, or locked.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::TransactWriteItem;
use tokengate_domain::lockout::{
    Admission, Counters, DeviceCounter, DeviceReservation, LockState, LockStates, Reservation,
};
use tokengate_domain::ports::LockoutStore;
use tokengate_domain::{PortError, PortResult};

use super::codec::{live, lock_from, n};
use super::transact::build_err;
use super::DynamoStore;

/// Reads and conditional writes one reservation may take before it gives up with 503. Each
/// lost round means another attempt was counted, so contention ends after at most the
/// threshold's worth of rounds for one source; a burst from many networks on one account can
/// exhaust it, and then the surplus attempts are refused, never admitted.
const MAX_ROUNDS: usize = 16;

/// The keys of an attempt's (source, account) counters. The prefixes differ and the network
/// (an IP address or `…/64`, never a `#`) comes first, so no name, however chosen, makes one
/// account's account-wide key equal another's per-source key.
fn keys(c: &Counters) -> (String, String) {
    (
        format!("lock-src#{}#{}", c.network, c.username),
        format!("lock#{}", c.username),
    )
}

/// The key of a device's counter: its own prefix, and the device id (base64url, never a `#`)
/// before the name, as in the per-source key.
fn device_key(c: &DeviceCounter) -> String {
    format!("lock-dev#{}#{}", c.device_id, c.username)
}

impl DynamoStore {
    async fn lock_state(&self, pk: String, now: i64) -> PortResult<LockState> {
        let item = live(self.get(pk, "read lockout").await?, now);
        item.map_or(Ok(LockState::default()), |i| lock_from(&i))
    }

    async fn lock_states_at(&self, counters: &Counters, now: i64) -> PortResult<LockStates> {
        let (source, account) = keys(counters);
        let (source, account) =
            tokio::try_join!(self.lock_state(source, now), self.lock_state(account, now))?;
        Ok(LockStates { source, account })
    }

    /// The write of one counter from `seen` to `next`, if it still holds `seen` at `at`.
    fn counter_write(
        &self,
        pk: String,
        seen: LockState,
        next: LockState,
        at: i64,
        memory_secs: i64,
    ) -> PortResult<TransactWriteItem> {
        let update = self
            .update(pk)
            .update_expression(
                "SET failures = :f, last_failure_at = :last, locked_until = :until, #ttl = :ttl",
            )
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":f", n(next.failures))
            .expression_attribute_values(":last", n(next.last_failure_at))
            .expression_attribute_values(":until", n(next.locked_until))
            .expression_attribute_values(":ttl", n(next.keep_until(memory_secs)))
            .expression_attribute_values(":at", n(at));
        // A live record always has a count of at least 1, so 0 means "read as absent". Count
        // and time of the last failure together pin the state: a record cleared and counted
        // up again in between differs in one of them.
        let update = if seen.failures == 0 {
            update.condition_expression("attribute_not_exists(pk) OR #ttl <= :at")
        } else {
            update
                .condition_expression(
                    "failures = :seen_f AND last_failure_at = :seen_last AND #ttl > :at",
                )
                .expression_attribute_values(":seen_f", n(seen.failures))
                .expression_attribute_values(":seen_last", n(seen.last_failure_at))
        };
        let update = update.build().map_err(build_err)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

#[async_trait]
impl LockoutStore for DynamoStore {
    async fn lock_states(&self, counters: &Counters) -> PortResult<LockStates> {
        self.lock_states_at(counters, self.clock.now()).await
    }

    async fn reserve_attempt(&self, r: &Reservation) -> PortResult<Admission> {
        let (source_pk, account_pk) = keys(&r.counters);
        let mut seen = r.seen;
        // Only what this store read itself may refuse: the caller's read may be stale.
        let mut read_here = false;
        for _ in 0..MAX_ROUNDS {
            let next = match seen.admit(&r.rules, r.at) {
                Ok(next) => next,
                Err(until) if read_here => return Ok(Admission::Locked { until }),
                Err(_) => {
                    seen = self.lock_states_at(&r.counters, r.at).await?;
                    read_here = true;
                    continue;
                }
            };
            let memory = r.rules.memory_secs;
            let items = vec![
                self.counter_write(source_pk.clone(), seen.source, next.source, r.at, memory)?,
                self.counter_write(account_pk.clone(), seen.account, next.account, r.at, memory)?,
            ];
            if self
                .transact_if_unchanged(items, "reserve a login attempt")
                .await?
            {
                return Ok(Admission::Admitted(next));
            }
            seen = self.lock_states_at(&r.counters, r.at).await?;
            read_here = true;
        }
        Err(PortError::Unavailable(anyhow::anyhow!(
            "failed to reserve a login attempt: its lockout counters moved {MAX_ROUNDS} times"
        )))
    }

    async fn clear_failures(&self, counters: &Counters) -> PortResult<()> {
        let (source, account) = keys(counters);
        tokio::try_join!(
            self.delete(source, "clear lockout"),
            self.delete(account, "clear lockout")
        )?;
        Ok(())
    }

    async fn device_lock_state(&self, counter: &DeviceCounter) -> PortResult<LockState> {
        self.lock_state(device_key(counter), self.clock.now()).await
    }

    /// `reserve_attempt`'s loop on the device's one item: write the exact next state on the
    /// condition that nothing moved, else read again and decide again. A transaction of one
    /// item (2 WRU) rather than a conditional `UpdateItem` (1 WRU), so that both reservations
    /// share the write builder and the classification of cancellations.
    async fn reserve_device_attempt(
        &self,
        r: &DeviceReservation,
    ) -> PortResult<Admission<LockState>> {
        let pk = device_key(&r.counter);
        let backoff = r.rules.source;
        let mut seen = r.seen;
        let mut read_here = false;
        for _ in 0..MAX_ROUNDS {
            let next = match seen.admit(backoff, r.at) {
                Ok(next) => next,
                Err(until) if read_here => return Ok(Admission::Locked { until }),
                Err(_) => {
                    seen = self.lock_state(pk.clone(), r.at).await?;
                    read_here = true;
                    continue;
                }
            };
            let write = self.counter_write(pk.clone(), seen, next, r.at, r.rules.memory_secs)?;
            if self
                .transact_if_unchanged(vec![write], "reserve a device's login attempt")
                .await?
            {
                return Ok(Admission::Admitted(next));
            }
            seen = self.lock_state(pk.clone(), r.at).await?;
            read_here = true;
        }
        Err(PortError::Unavailable(anyhow::anyhow!(
            "failed to reserve a device's login attempt: its counter moved {MAX_ROUNDS} times"
        )))
    }

    async fn clear_device_failures(&self, counter: &DeviceCounter) -> PortResult<()> {
        self.delete(device_key(counter), "clear device lockout")
            .await
    }
}
