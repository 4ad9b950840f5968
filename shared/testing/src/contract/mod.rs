//! Contract tests: one suite per port, each case one test body written once and run against the
//! in-memory twin (`shared/testing/tests/memory_twin.rs`) and against the DynamoDB adapter on
//! the AWS API emulator (`tests/integration/contract.rs`), both through [`port_contracts!`](crate::port_contracts),
//! which lists every case, so neither runner can leave one out. A twin is only worth having if
//! it behaves as the adapter does; the adapter on the emulator is the reference.
//!
//! Every case gets a fresh, empty store and the [`ManualClock`] that store reads, and moves it;
//! none depends on the wall clock. Each panics with a message naming the broken rule. Races are
//! run with `tokio::join!`: on the emulator the requests are in flight together, on the twin
//! they interleave at its lock, and either way the outcome must be the conditional write's.
//!
//! [`flow`] holds the one contract that spans ports and the services (login, logout and the
//! authorizer on one set of stores); it needs the whole wiring, so each side runs it by hand.

pub mod denylist;
pub mod flow;
pub mod keyring;
pub mod lockout;
pub mod lockout_device;
pub mod rate_limiter;
pub mod revocation;
pub mod revocation_feed;
pub mod session_counts;
pub mod sessions;
pub mod users;

use std::sync::Arc;

use tokengate_domain::ports::{
    Denylist, KeyringStore, LockoutStore, RateLimiter, RevocationFeed, RevocationSource,
    SessionStore, User, UserStatus, UserStore,
};
use tokengate_domain::{Clock, ManualClock, Username};

pub use flow::{a_logged_out_token_stays_refused_until_exp_plus_leeway, TokenFlow};

/// Every store port: what one store type under contract test implements.
pub trait Stores:
    UserStore
    + SessionStore
    + LockoutStore
    + RateLimiter
    + Denylist
    + RevocationSource
    + RevocationFeed
    + KeyringStore
{
}

impl<T> Stores for T where
    T: UserStore
        + SessionStore
        + LockoutStore
        + RateLimiter
        + Denylist
        + RevocationSource
        + RevocationFeed
        + KeyringStore
{
}

/// A fresh, empty store for one case, the clock it reads, and whatever must live as long as it
/// (the emulator process, for the adapter).
pub struct Fixture<S, G = ()> {
    /// The store under test.
    pub store: Arc<S>,
    /// The clock the store reads.
    pub clock: Arc<ManualClock>,
    /// Kept alive until the case ends.
    pub guard: G,
}

/// Moves `clock` forward to `at` (tests only ever move time forward, as the clock can).
pub(crate) fn move_to(clock: &ManualClock, at: i64) {
    let now = clock.now();
    assert!(at >= now, "the clock only moves forward ({now} → {at})");
    clock.advance(at - now);
}

/// An active user `name` with id `user_id`, token version 1 and role `reader`.
pub(crate) fn user(name: &str, user_id: &str) -> User {
    User {
        username: Username::parse(name).expect("valid name"),
        user_id: user_id.to_owned(),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$hash-of-{name}"),
        roles: vec!["reader".to_owned()],
        status: UserStatus::Active,
        token_version: 1,
    }
}

/// Creates [`user`]`(name, user_id)`, which must be new.
pub(crate) async fn create<S: UserStore + ?Sized>(store: &S, name: &str, user_id: &str) -> User {
    let user = user(name, user_id);
    assert!(
        store.create_user(&user).await.expect("the store answers"),
        "{name} is new"
    );
    user
}

/// One `#[tokio::test]` per contract case, each on a fresh fixture from `$fresh` (an `async fn`
/// in the invoking module returning a [`Fixture`]), grouped in one module per port.
#[macro_export]
macro_rules! port_contracts {
    ($fresh:ident) => {
        $crate::port_contracts!(@port $fresh, users: [
            a_name_is_created_once,
            a_user_id_is_created_once,
            an_unknown_user_reads_as_absent_and_nothing_is_created,
            setting_roles_bumps_the_token_version_of_user_and_principal,
            setting_the_status_bumps_the_token_version,
            signing_out_everywhere_bumps_the_token_version,
            signing_out_everywhere_from_a_version_bumps_only_that_version,
            two_sign_outs_from_one_version_race_and_one_bumps,
            a_new_password_hash_changes_nothing_else,
            a_rehash_never_overwrites_a_password_change_committed_after_the_login_read,
            a_password_change_sets_the_hash_and_bumps_the_version_together,
            the_username_of_a_user_id_is_found,
            concurrent_version_bumps_each_count_once,
        ]);
        $crate::port_contracts!(@port $fresh, sessions: [
            a_granted_session_reads_back_exactly,
            a_session_id_is_granted_once,
            rotation_from_the_current_hash_installs_the_successor,
            rotation_from_a_stale_hash_changes_nothing,
            rotation_of_a_revoked_family_changes_nothing,
            rotation_after_the_owner_changed_reports_the_principal,
            reissue_marks_the_current_token_used_and_nothing_else,
            reissue_refuses_a_stale_hash_a_revoked_family_and_a_changed_owner,
            revoking_a_family_is_idempotent_and_creates_nothing,
            only_the_familys_own_hash_revokes_it_on_reuse,
            a_cancelled_grant_is_gone,
            two_rotations_from_one_hash_race_and_exactly_one_wins,
            a_retried_rotation_to_the_same_successor_is_written_once,
            a_rotation_racing_a_revocation_leaves_the_family_revoked,
        ]);
        $crate::port_contracts!(@port $fresh, session_counts: [
            a_window_counts_up_to_its_limit_and_no_further,
            a_count_decided_from_a_window_that_moved_on_changes_nothing,
            twenty_racing_refreshes_in_one_window_stop_at_the_limit,
            of_two_refreshes_opening_one_window_one_commits,
        ]);
        $crate::port_contracts!(@port $fresh, denylist: [
            a_denylist_entry_reads_as_absent_from_its_ttl,
            a_later_deny_of_the_same_jti_extends_it,
            an_entry_whose_ttl_has_passed_never_denies,
        ]);
        $crate::port_contracts!(@port $fresh, lockout: [
            an_admitted_attempt_counts_in_its_source_and_its_account,
            the_threshold_locks_one_source_and_refuses_it_without_counting,
            the_account_ceiling_locks_every_source,
            a_stale_expectation_is_read_again_never_written_over,
            counters_read_as_absent_from_their_ttl,
            clearing_forgets_the_source_and_the_account_only,
            twenty_concurrent_reservations_against_a_threshold_of_five_admit_five,
        ]);
        $crate::port_contracts!(@port $fresh, lockout_device: [
            a_device_attempt_counts_in_its_own_counter_only,
            a_device_locks_with_the_source_back_off_and_is_forgotten_when_cleared,
            a_stale_device_expectation_is_read_again_never_written_over,
            twenty_concurrent_device_reservations_against_a_threshold_of_five_admit_five,
        ]);
        $crate::port_contracts!(@port $fresh, rate_limiter: [
            hits_count_per_key_and_window,
            concurrent_hits_each_count_once,
        ]);
        $crate::port_contracts!(@port $fresh, keyring: [
            an_absent_keyring_reads_as_empty_at_version_zero,
            a_written_keyring_reads_back_exactly_at_the_next_version,
            a_write_from_a_stale_version_changes_nothing,
            two_writes_from_one_version_race_and_exactly_one_wins,
            two_admins_changing_at_once_both_land,
            concurrent_promotions_leave_exactly_one_current,
        ]);
        $crate::port_contracts!(@port $fresh, revocation: [
            an_unknown_principal_reads_as_absent,
            a_principal_and_a_denied_jti_come_back_in_one_answer,
            the_principal_follows_disable_and_sign_out,
            a_revoked_session_comes_back_with_the_principal,
        ]);
        $crate::port_contracts!(@port $fresh, revocation_feed: [
            every_token_version_bump_appends_one_principal_entry,
            a_revoked_session_appends_one_session_entry,
            a_denied_token_appends_one_token_entry_until_the_denys_until,
            a_refused_conditional_write_appends_nothing,
            the_feed_since_a_time_holds_exactly_the_entries_at_or_after_it_in_order,
            many_entries_all_come_back_across_pages,
        ]);
    };
    (@port $fresh:ident, $port:ident: [$($case:ident),* $(,)?]) => {
        mod $port {
            $(
                #[tokio::test]
                async fn $case() {
                    let fixture = super::$fresh().await;
                    $crate::contract::$port::$case(&*fixture.store, &fixture.clock).await;
                }
            )*
        }
    };
}
