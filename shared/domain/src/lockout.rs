//! The lockout's rules, as data the stores apply: which counters a login attempt is counted in,
//! when a counter locks and for how long, and how an attempt is admitted *before* the password
//! hash runs.
//!
//! Every attempt is counted in two counters: one per (account, source network), whose back-off
//! is answered to that network only, so an attacker elsewhere cannot lock the owner out; and
//! one per account across all sources, the ceiling against guessing spread over many networks
//! (NIST SP 800-63B §5.2.2: at most 100 consecutive failures). Unknown names are counted
//! exactly like known ones, so lockout answers nothing about whether an account exists.
//!
//! An attempt is *reserved* before Argon2 runs: the store writes both counters as if the
//! attempt had already failed (the count, and the lock that failure would start), atomically and
//! only if neither counter is locked. So however many guesses arrive together, no more are
//! hashed than the threshold allows. A right password then clears the counters again
//! ([`crate::ports::LockoutStore::clear_failures`]); a process that dies between reservation
//! and verification leaves its reservation counted as a failure: one extra count per crash.

use crate::username::Username;

/// `Retry-After` of a 423 is the lock's remaining time rounded up to whole minutes: never
/// earlier than the lock ends, and without the second at which it ends, which an attacker
/// holding a lock would use to send the next guess the moment it is admitted.
pub const LOCKED_RETRY_AFTER_GRANULARITY_SECS: i64 = 60;

/// The `Retry-After` of a lock that has `secs` left (see
/// [`LOCKED_RETRY_AFTER_GRANULARITY_SECS`]).
pub fn locked_retry_after(secs: i64) -> i64 {
    let g = LOCKED_RETRY_AFTER_GRANULARITY_SECS;
    (secs.max(1) + g - 1) / g * g
}

/// How long a counter is remembered after its last failure (then it reads as absent, and
/// counting starts again at 1). Long enough that back-off carries over a slow attacker's pauses.
pub const FAILURE_MEMORY_SECS: i64 = 24 * 3600;

/// When a counter locks and for how long: the `threshold`-th failure locks it for `base_secs`,
/// each further one for twice as long as the one before, at most `max_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Failures that start the first lock.
    pub threshold: u32,
    /// The first lock's length.
    pub base_secs: i64,
    /// The longest lock.
    pub max_secs: i64,
}

impl Backoff {
    /// The lock a counter at `failures` carries: none below the threshold, then
    /// `base · 2^(failures − threshold)`, capped at `max_secs`.
    pub fn lock_secs(&self, failures: u32) -> i64 {
        if failures < self.threshold {
            return 0;
        }
        let doublings = (failures - self.threshold).min(20);
        (self.base_secs << doublings).min(self.max_secs)
    }
}

/// The rules of both counters (from [`crate::AuthConfig::lockout_rules`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutRules {
    /// Per (account, source network): `TOKENGATE_LOCKOUT_THRESHOLD` / `_BASE_SECONDS` /
    /// `_MAX_SECONDS`.
    pub source: Backoff,
    /// Per account, across sources: `TOKENGATE_ACCOUNT_FAILURE_CEILING` failures lock it for
    /// `TOKENGATE_LOCKOUT_MAX_SECONDS`, and so does every failure after that.
    pub account: Backoff,
    /// How long a counter is kept after its last failure ([`FAILURE_MEMORY_SECS`]).
    pub memory_secs: i64,
}

/// One counter's state. Counters are kept apart from the user record and for unknown names too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LockState {
    /// Failures counted (reservations included) since the counter was last cleared or expired.
    pub failures: u32,
    /// Unix time of the last counted failure.
    pub last_failure_at: i64,
    /// No attempt is admitted before this Unix time; 0 when the counter never locked.
    pub locked_until: i64,
}

impl LockState {
    /// Seconds the counter stays locked after `now`, if it is locked.
    pub fn locked_for(&self, now: i64) -> Option<i64> {
        (self.locked_until > now).then(|| self.locked_until - now)
    }

    /// The state after one more failure at `at` under `backoff`.
    pub fn after_failure(&self, backoff: Backoff, at: i64) -> Self {
        let failures = self.failures.saturating_add(1);
        let lock = backoff.lock_secs(failures);
        Self {
            failures,
            last_failure_at: at,
            locked_until: if lock > 0 { at + lock } else { 0 },
        }
    }

    /// What the store writes to admit one attempt at `at` on this one counter (a device's):
    /// the state after a failure; `Err(until)` when it is locked.
    pub fn admit(&self, backoff: Backoff, at: i64) -> Result<Self, i64> {
        match self.locked_for(at) {
            Some(secs) => Err(at + secs),
            None => Ok(self.after_failure(backoff, at)),
        }
    }

    /// The record's TTL: remembered `memory_secs` after the last failure, and never forgotten
    /// while still locked.
    pub fn keep_until(&self, memory_secs: i64) -> i64 {
        (self.last_failure_at + memory_secs).max(self.locked_until)
    }
}

/// The two counters of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counters {
    /// The normalised account name (known or not).
    pub username: Username,
    /// The source network ([`crate::network::source_network`]).
    pub network: String,
}

/// Both counters' states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LockStates {
    /// The (account, source network) counter.
    pub source: LockState,
    /// The account-wide counter.
    pub account: LockState,
}

impl LockStates {
    /// Seconds until neither counter is locked, if one is.
    pub fn locked_for(&self, now: i64) -> Option<i64> {
        match (self.source.locked_for(now), self.account.locked_for(now)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// What the store writes to admit one attempt at `at` from these states: each counter as
    /// if the attempt failed. `Err(until)` when a counter is locked: nothing may be written.
    pub fn admit(&self, rules: &LockoutRules, at: i64) -> Result<Self, i64> {
        match self.locked_for(at) {
            Some(secs) => Err(at + secs),
            None => Ok(Self {
                source: self.source.after_failure(rules.source, at),
                account: self.account.after_failure(rules.account, at),
            }),
        }
    }
}

/// A request to admit one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// The attempt's counters.
    pub counters: Counters,
    /// The rules.
    pub rules: LockoutRules,
    /// Now: the failure's time, and the instant locks and TTLs are judged at.
    pub at: i64,
    /// The states the caller last read. A store that writes conditionally on what it expects
    /// tries these first (saving a read); if they are stale it reads again. Never trusted for
    /// the decision.
    pub seen: LockStates,
}

/// The counter of an attempt that presented a valid device credential of the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCounter {
    /// The normalised account name.
    pub username: Username,
    /// The credential's device id (base64url: never a `#`).
    pub device_id: String,
}

/// A request to admit one attempt of a device: counted in its own counter only, under
/// `rules.source` (the per-source back-off).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceReservation {
    /// The device's counter.
    pub counter: DeviceCounter,
    /// The rules.
    pub rules: LockoutRules,
    /// Now.
    pub at: i64,
    /// The state the caller last read (a first guess, never trusted; see [`Reservation`]).
    pub seen: LockState,
}

/// A store's answer to a [`Reservation`] (`S` = [`LockStates`]) or a [`DeviceReservation`]
/// (`S` = [`LockState`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission<S = LockStates> {
    /// Admitted: the counters now hold these states, the attempt counted as a failure in each.
    Admitted(S),
    /// Refused: a counter is locked until this Unix time; nothing was counted.
    Locked {
        /// When the longer of the locks in force ends.
        until: i64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: Backoff = Backoff {
        threshold: 5,
        base_secs: 30,
        max_secs: 900,
    };

    #[test]
    fn locked_answers_round_retry_after_up_to_a_whole_minute() {
        assert_eq!(locked_retry_after(1), 60);
        assert_eq!(locked_retry_after(30), 60);
        assert_eq!(locked_retry_after(60), 60);
        assert_eq!(locked_retry_after(61), 120);
        assert_eq!(locked_retry_after(899), 900);
        assert_eq!(locked_retry_after(900), 900);
        assert_eq!(locked_retry_after(0), 60, "never 0: the lock is still on");
    }

    #[test]
    fn a_single_counter_admits_as_a_pair_does() {
        let locked = LockState {
            failures: 5,
            last_failure_at: 0,
            locked_until: 30,
        };
        assert_eq!(locked.admit(SOURCE, 10), Err(30));
        assert_eq!(
            locked.admit(SOURCE, 30),
            Ok(LockState {
                failures: 6,
                last_failure_at: 30,
                locked_until: 90,
            })
        );
    }

    #[test]
    fn back_off_doubles_from_the_threshold_with_a_cap() {
        assert_eq!(SOURCE.lock_secs(4), 0);
        assert_eq!(SOURCE.lock_secs(5), 30);
        assert_eq!(SOURCE.lock_secs(6), 60);
        assert_eq!(SOURCE.lock_secs(9), 480);
        assert_eq!(SOURCE.lock_secs(10), 900);
        assert_eq!(SOURCE.lock_secs(u32::MAX), 900);
    }

    #[test]
    fn the_threshold_th_failure_starts_the_lock_and_it_is_kept_while_locked() {
        let four = LockState {
            failures: 4,
            last_failure_at: 100,
            locked_until: 0,
        };
        let five = four.after_failure(SOURCE, 200);
        assert_eq!(
            five,
            LockState {
                failures: 5,
                last_failure_at: 200,
                locked_until: 230,
            }
        );
        assert_eq!(five.locked_for(229), Some(1));
        assert_eq!(five.locked_for(230), None);
        let short_memory = five.keep_until(10);
        assert_eq!(short_memory, 230, "a record outlives its lock");
        assert_eq!(five.keep_until(FAILURE_MEMORY_SECS), 200 + 24 * 3600);
    }

    #[test]
    fn a_locked_counter_admits_nothing_and_the_longer_lock_is_answered() {
        let rules = LockoutRules {
            source: SOURCE,
            account: Backoff {
                threshold: 100,
                base_secs: 900,
                max_secs: 900,
            },
            memory_secs: FAILURE_MEMORY_SECS,
        };
        let states = LockStates {
            source: LockState {
                failures: 5,
                last_failure_at: 0,
                locked_until: 30,
            },
            account: LockState {
                failures: 100,
                last_failure_at: 0,
                locked_until: 900,
            },
        };
        assert_eq!(states.admit(&rules, 10), Err(900));
        let admitted = states.admit(&rules, 900).expect("both locks over");
        assert_eq!(admitted.source.locked_until, 900 + 60);
        assert_eq!(admitted.account.locked_until, 900 + 900);
    }
}
