//! [`LiveKeyring`]: a function's view of the keyring, read at cold start and re-read at most
//! every `TOKENGATE_KEYRING_REFRESH_SECONDS`, lazily, by the first request that finds it stale.
//!
//! Nothing a request carries makes it read sooner: an unknown `kid` is just an unknown key
//! until the next scheduled read, so hostile tokens with random `kid`s cannot amplify DynamoDB
//! reads. A failed read keeps the last keyring and is tried again after
//! [`RETRY_AFTER_FAILURE_SECS`] at the earliest (never per request). A `retiring` key's time
//! needs no read: the trusted set is rebuilt from the keyring in memory when it passes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokengate_claims::{Validation, Verifier};

use super::{Keyring, KeyringKey};
use crate::clock::Clock;
use crate::config::AuthConfig;
use crate::ports::KeyringStore;

/// After a failed read, the next attempt waits at least this long (or the refresh interval,
/// if shorter): a DynamoDB outage costs one read per interval, not one per request.
pub const RETRY_AFTER_FAILURE_SECS: i64 = 2;

/// What one request works with: the keyring as last read, its trusted keys as a verifier, and
/// the signing key.
#[derive(Debug, Clone)]
pub struct KeySet {
    keyring: Option<Arc<Keyring>>,
    verifier: Verifier,
}

impl KeySet {
    fn build(keyring: Option<Arc<Keyring>>, validation: &Validation, now: i64) -> Self {
        let keys = keyring
            .iter()
            .flat_map(|k| k.trusted_at(now))
            .filter_map(|k| {
                k.verifying_key()
                    .map_err(|e| {
                        // The CLI checked the key when it joined; a bad one is skipped, not fatal.
                        tracing::error!(event = "keyring_key_unusable", kid = %k.kid, error = %e);
                    })
                    .ok()
            });
        Self {
            verifier: Verifier::new(keys, validation.clone()),
            keyring,
        }
    }

    /// Whether the keyring was ever read: `false` only while every read so far failed.
    pub fn is_known(&self) -> bool {
        self.keyring.is_some()
    }

    /// A verifier of the trusted keys (`next`, `current`, `retiring` before its time). Empty
    /// while the keyring is unknown or holds no trusted key.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Whether any key is trusted.
    pub fn has_trusted_keys(&self) -> bool {
        self.verifier.keys().next().is_some()
    }

    /// The key to sign with (`current`), if the keyring has one.
    pub fn signing_key(&self) -> Option<&KeyringKey> {
        self.keyring.as_deref().and_then(Keyring::current)
    }
}

struct Snapshot {
    keys: Arc<KeySet>,
    /// From this second on, the next request reads the keyring again.
    read_due: i64,
    /// From this second on, the trusted set changes by itself (a `retiring` key's time).
    rebuild_due: i64,
}

/// The keyring of one function instance: see the module documentation.
pub struct LiveKeyring {
    store: Arc<dyn KeyringStore>,
    clock: Arc<dyn Clock>,
    refresh_secs: i64,
    validation: Validation,
    snapshot: Mutex<Snapshot>,
    reading: AtomicBool,
}

impl std::fmt::Debug for LiveKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveKeyring")
            .field("refresh_secs", &self.refresh_secs)
            .finish_non_exhaustive()
    }
}

/// Clears the "a read is under way" flag when the read ends, also if its request is dropped.
struct ReadingGuard<'a>(&'a AtomicBool);

impl Drop for ReadingGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl LiveKeyring {
    /// Reads the keyring once (at cold start) and keeps it for the configuration's
    /// `keyring_refresh_secs`; its trusted keys verify under the configuration's issuer,
    /// audience and leeway. A failed read is logged and leaves the keyring unknown; requests
    /// then try again as described above.
    pub async fn load(
        store: Arc<dyn KeyringStore>,
        clock: Arc<dyn Clock>,
        auth: &AuthConfig,
    ) -> Self {
        let (refresh_secs, validation) = (auth.keyring_refresh_secs, auth.validation());
        let now = clock.now();
        let live = Self {
            snapshot: Mutex::new(Snapshot {
                keys: Arc::new(KeySet::build(None, &validation, now)),
                read_due: now,
                rebuild_due: i64::MAX,
            }),
            store,
            clock,
            refresh_secs: refresh_secs.max(1),
            validation,
            reading: AtomicBool::new(false),
        };
        live.read(now).await;
        live
    }

    /// The keys to use for this request: re-read first if the last read is older than the
    /// refresh interval (unless another request of this instance is reading right now).
    pub async fn keys(&self) -> Arc<KeySet> {
        let now = self.clock.now();
        let (keys, read_due, rebuild_due) = {
            let s = self.lock();
            (s.keys.clone(), s.read_due, s.rebuild_due)
        };
        if now >= read_due && !self.reading.swap(true, Ordering::SeqCst) {
            let _guard = ReadingGuard(&self.reading);
            self.read(now).await;
            return self.lock().keys.clone();
        }
        if now >= rebuild_due {
            let mut s = self.lock();
            let keyring = s.keys.keyring.clone();
            s.rebuild_due = next_change(keyring.as_deref(), now);
            s.keys = Arc::new(KeySet::build(keyring, &self.validation, now));
            return s.keys.clone();
        }
        keys
    }

    async fn read(&self, now: i64) {
        match self.store.read_keyring().await {
            Ok(keyring) => {
                if keyring.current().is_none() {
                    tracing::error!(
                        event = "keyring_without_current_key",
                        keys = keyring.keys().len(),
                        "the keyring (keyring#signing) has no current key: login and refresh \
                         answer 503 until one is adopted or promoted (docs/key-rotation.md)"
                    );
                }
                let keyring = Arc::new(keyring);
                let mut s = self.lock();
                s.rebuild_due = next_change(Some(&keyring), now);
                s.keys = Arc::new(KeySet::build(Some(keyring), &self.validation, now));
                s.read_due = now + self.refresh_secs;
            }
            Err(e) => {
                tracing::warn!(event = "keyring_read_failed", error = %e);
                self.lock().read_due = now + self.refresh_secs.min(RETRY_AFTER_FAILURE_SECS);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Snapshot> {
        self.snapshot.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn next_change(keyring: Option<&Keyring>, now: i64) -> i64 {
    keyring
        .and_then(|k| k.next_change_after(now))
        .unwrap_or(i64::MAX)
}
