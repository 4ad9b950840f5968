//! How login admits an attempt before the password hash runs: on the (account, source network)
//! counter and the account-wide ceiling, or — for a valid device credential of the account — on
//! that device's counter alone (see [`crate::lockout`] and [`crate::device`]); and the answer a
//! lock gets.

use crate::error::{AuthError, ErrorCode};
use crate::lockout::{
    locked_retry_after, Admission, Counters, DeviceCounter, DeviceReservation, LockState,
    LockStates, Reservation,
};
use crate::login::Login;

impl Login {
    /// Admits an attempt without a valid device credential: its (account, source network)
    /// counter and the account-wide ceiling.
    pub(crate) async fn admit_from_network(
        &self,
        counters: Counters,
        seen: LockStates,
        now: i64,
    ) -> Result<Counted, AuthError> {
        // A locked counter is answered from the read, with no write: refused guesses cost the
        // attacker a request and the table nothing.
        if let Some(secs) = seen.locked_for(now) {
            return Err(locked(&counters.network, secs, seen.account.failures));
        }
        let reservation = Reservation {
            counters,
            rules: self.config.lockout_rules(),
            at: now,
            seen,
        };
        match self.lockout.reserve_attempt(&reservation).await? {
            Admission::Admitted(states) => Ok(Counted::Network {
                counters: reservation.counters,
                states,
            }),
            // Another attempt got the last admission between our read and our write.
            Admission::Locked { until } => Err(locked(
                &reservation.counters.network,
                until - now,
                reservation.seen.account.failures,
            )),
        }
    }

    /// Admits an attempt with a valid device credential of the account: the device's own
    /// counter only, so no lock held elsewhere refuses it.
    pub(crate) async fn admit_device(
        &self,
        counter: DeviceCounter,
        seen: LockState,
        now: i64,
    ) -> Result<Counted, AuthError> {
        if let Some(secs) = seen.locked_for(now) {
            return Err(device_locked(secs));
        }
        let reservation = DeviceReservation {
            counter,
            rules: self.config.lockout_rules(),
            at: now,
            seen,
        };
        match self.lockout.reserve_device_attempt(&reservation).await? {
            Admission::Admitted(state) => Ok(Counted::Device {
                counter: reservation.counter,
                state,
            }),
            Admission::Locked { until } => Err(device_locked(until - now)),
        }
    }
}

/// Which counters admitted an attempt, as they stood after it: what a success clears and a
/// failure logs.
#[derive(Debug)]
pub(crate) enum Counted {
    /// The (account, source network) counter and the account-wide ceiling.
    Network {
        counters: Counters,
        states: LockStates,
    },
    /// A device's counter.
    Device {
        counter: DeviceCounter,
        state: LockState,
    },
}

impl Counted {
    pub(crate) fn log_failure(&self) {
        match self {
            Counted::Network { states, .. } => tracing::info!(
                event = "login_failed",
                source_failures = states.source.failures,
                account_failures = states.account.failures,
            ),
            Counted::Device { state, .. } => {
                tracing::info!(event = "login_failed", device_failures = state.failures,)
            }
        }
    }
}

/// The answer to an attempt a lock refused (either counter's: the answer does not say which, nor
/// whether the account exists, nor the second the lock ends).
fn locked(network: &str, secs: i64, account_failures: u32) -> AuthError {
    tracing::warn!(
        event = "login_account_locked",
        source_network = %network,
        account_failures,
    );
    AuthError::retry_after(ErrorCode::AccountLocked, locked_retry_after(secs))
}

/// The answer to a device whose own failures locked it: the same answer as any lock.
fn device_locked(secs: i64) -> AuthError {
    tracing::warn!(event = "login_device_locked");
    AuthError::retry_after(ErrorCode::AccountLocked, locked_retry_after(secs))
}
