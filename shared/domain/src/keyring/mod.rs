//! The signing keyring: every access-token signing key tokengate knows, with its state, kept in
//! one DynamoDB item (`keyring#signing`). The functions read it at cold start and re-read it
//! periodically ([`LiveKeyring`]), so a key rotation needs no deploy and no restart; the admin
//! CLI changes it with conditional writes ([`change_keyring`]), so two admins never lose each
//! other's update.
//!
//! States, and what each means to the functions:
//!
//! | state | signs | verified | in the JWKS |
//! |---|---|---|---|
//! | `next` | no | yes | yes (verifiers learn it before it signs) |
//! | `current` (exactly one, once there is any) | yes | yes | yes |
//! | `retiring` until *t* | no | until *t* | until *t* |
//! | `retired` | no | no | no |
//!
//! Transitions: a new key enters as `next` ([`Keyring::add_next`]) or, into an empty keyring,
//! as `current` ([`Keyring::adopt`]); [`Keyring::promote`] makes a `next` (or a still-listed
//! `retiring`) key `current` and the old `current` `retiring`; [`Keyring::retire`] ends a
//! `next` or `retiring` key. The `current` key cannot be retired: promote another first, so
//! signing never stops.

mod live;
#[cfg(test)]
mod tests;

use tokengate_claims::{Algorithm, VerifyingKey};

use crate::error::PortError;
use crate::ports::KeyringStore;

pub use live::{KeySet, LiveKeyring};

/// The partition key of the keyring item. Fixed: the template's IAM conditions
/// (`dynamodb:LeadingKeys`) name it.
pub const KEYRING_PK: &str = "keyring#signing";

/// Where a key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published and trusted, not yet signing.
    Next,
    /// The one signing key.
    Current,
    /// Trusted and published until `until` (unix seconds), no longer signing.
    Retiring {
        /// First second at which the key is no longer trusted.
        until: i64,
    },
    /// Neither trusted nor published; kept in the list as a record.
    Retired,
}

impl KeyState {
    /// Stored form of the state's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Next => "next",
            Self::Current => "current",
            Self::Retiring { .. } => "retiring",
            Self::Retired => "retired",
        }
    }

    /// Parses the stored form; `until` is required for, and only for, `retiring`.
    pub fn parse(name: &str, until: Option<i64>) -> Option<Self> {
        match (name, until) {
            ("next", None) => Some(Self::Next),
            ("current", None) => Some(Self::Current),
            ("retiring", Some(until)) => Some(Self::Retiring { until }),
            ("retired", None) => Some(Self::Retired),
            _ => None,
        }
    }

    /// Whether a key in this state verifies tokens (and is published) at `now`.
    pub fn trusted_at(self, now: i64) -> bool {
        match self {
            Self::Next | Self::Current => true,
            Self::Retiring { until } => now < until,
            Self::Retired => false,
        }
    }
}

/// One signing key of the keyring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyringKey {
    /// `kid` of the tokens it signs: the KMS key id (the UUID at the end of its ARN).
    pub kid: String,
    /// The JWS algorithm, pinned to the key (ES256 for `ECC_NIST_P256`, RS256 for RSA).
    pub alg: Algorithm,
    /// The public key as SubjectPublicKeyInfo DER, fetched from KMS `GetPublicKey` once, by
    /// the admin CLI, when the key joined the keyring.
    pub public_key: Vec<u8>,
    /// The KMS key ARN: what login and refresh name in `Sign`.
    pub key_arn: String,
    /// Its state.
    pub state: KeyState,
    /// When it joined the keyring (unix seconds).
    pub added_at: i64,
}

impl KeyringKey {
    /// The verifying key of this entry.
    pub fn verifying_key(&self) -> Result<VerifyingKey, tokengate_claims::KeyError> {
        VerifyingKey::from_spki_der(self.kid.clone(), self.alg, &self.public_key)
    }
}

/// A key about to join the keyring, as the admin CLI fetched it from KMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    /// `kid` (the KMS key id).
    pub kid: String,
    /// Algorithm of its key spec.
    pub alg: Algorithm,
    /// SubjectPublicKeyInfo DER from KMS `GetPublicKey`.
    pub public_key: Vec<u8>,
    /// The KMS key ARN.
    pub key_arn: String,
}

/// A change the keyring's rules refuse. Nothing is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    /// No key with this `kid`.
    #[error("no key {0} in the keyring")]
    UnknownKid(String),
    /// The `kid` or the key ARN is already in the keyring.
    #[error("key {0} is already in the keyring")]
    AlreadyPresent(String),
    /// `adopt` into a keyring that already has a current key.
    #[error("the keyring already has a current key ({0}); add keys with `keys create` and `keys promote`")]
    HasCurrent(String),
    /// The key is already the current one.
    #[error("key {0} is already current")]
    AlreadyCurrent(String),
    /// A retired key never signs again (it may have been disabled in KMS since).
    #[error("key {0} is retired; create a new key instead")]
    Retired(String),
    /// The current key cannot be retired: signing would stop.
    #[error("key {0} is current; promote another key first")]
    RetiringCurrent(String),
    /// The key was made `next` too recently: verifiers that have not re-read the keyring yet
    /// would refuse the tokens it signs.
    #[error("key {kid} became next at {added_at}; verifiers learn it by {ready_at}, promote it then (or force it)")]
    NotYetKnown {
        /// The key.
        kid: String,
        /// When it was added.
        added_at: i64,
        /// From when it may be promoted.
        ready_at: i64,
    },
    /// A stored keyring that breaks the rules (two current keys, a repeated `kid`).
    #[error("the stored keyring is inconsistent: {0}")]
    Inconsistent(&'static str),
}

/// The keyring as read at one version. Every change goes through its methods, which keep the
/// rules: unique `kid`s and ARNs, at most one `current` key, and once there is one, always one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Keyring {
    version: u64,
    keys: Vec<KeyringKey>,
}

impl Keyring {
    /// A keyring as stored at `version` (0: there is no item), checked against the rules.
    pub fn from_stored(version: u64, keys: Vec<KeyringKey>) -> Result<Self, KeyringError> {
        let currents = keys.iter().filter(|k| k.state == KeyState::Current).count();
        if currents > 1 {
            return Err(KeyringError::Inconsistent("more than one current key"));
        }
        for (i, k) in keys.iter().enumerate() {
            if keys[..i]
                .iter()
                .any(|o| o.kid == k.kid || o.key_arn == k.key_arn)
            {
                return Err(KeyringError::Inconsistent("a key is listed twice"));
            }
        }
        Ok(Self { version, keys })
    }

    /// The stored version this keyring was read at (0: no item yet). A write succeeds only
    /// while the stored version is still this one.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Every key, in the order they joined.
    pub fn keys(&self) -> &[KeyringKey] {
        &self.keys
    }

    /// The signing key, if there is one.
    pub fn current(&self) -> Option<&KeyringKey> {
        self.keys.iter().find(|k| k.state == KeyState::Current)
    }

    /// The keys verifiers accept and the JWKS publishes at `now`: `next`, `current`, and
    /// `retiring` before its time.
    pub fn trusted_at(&self, now: i64) -> impl Iterator<Item = &KeyringKey> {
        self.keys.iter().filter(move |k| k.state.trusted_at(now))
    }

    /// The first moment after `now` at which the trusted set changes by itself (a `retiring`
    /// key's time), if any.
    pub fn next_change_after(&self, now: i64) -> Option<i64> {
        self.keys
            .iter()
            .filter_map(|k| match k.state {
                KeyState::Retiring { until } if until > now => Some(until),
                _ => None,
            })
            .min()
    }

    fn position(&self, kid: &str) -> Result<usize, KeyringError> {
        self.keys
            .iter()
            .position(|k| k.kid == kid)
            .ok_or_else(|| KeyringError::UnknownKid(kid.to_owned()))
    }

    fn insert(&mut self, key: NewKey, state: KeyState, now: i64) -> Result<(), KeyringError> {
        if self
            .keys
            .iter()
            .any(|k| k.kid == key.kid || k.key_arn == key.key_arn)
        {
            return Err(KeyringError::AlreadyPresent(key.kid));
        }
        self.keys.push(KeyringKey {
            kid: key.kid,
            alg: key.alg,
            public_key: key.public_key,
            key_arn: key.key_arn,
            state,
            added_at: now,
        });
        Ok(())
    }

    /// Adds a key as `next`: published and trusted, not signing.
    pub fn add_next(&mut self, key: NewKey, now: i64) -> Result<(), KeyringError> {
        self.insert(key, KeyState::Next, now)
    }

    /// Makes `key` the current key of a keyring without one (the stack's own key after its
    /// first deploy, or the emulator's after bootstrap). Adopting the key that is already
    /// current changes nothing, so bootstrap can run again.
    pub fn adopt(&mut self, key: NewKey, now: i64) -> Result<(), KeyringError> {
        match self.current() {
            Some(c) if c.kid == key.kid && c.key_arn == key.key_arn => Ok(()),
            Some(c) => Err(KeyringError::HasCurrent(c.kid.clone())),
            None => self.insert(key, KeyState::Current, now),
        }
    }

    /// Makes `kid` the signing key at `now`; the previous current key turns `retiring` until
    /// `now + retiring_secs`. `known_after_secs` is how long a key must have been in the
    /// keyring before it signs (the functions' re-read interval: until every verifier has read
    /// it, its tokens would be refused somewhere); `None` skips that check.
    pub fn promote(
        &mut self,
        kid: &str,
        now: i64,
        retiring_secs: i64,
        known_after_secs: Option<i64>,
    ) -> Result<(), KeyringError> {
        let at = self.position(kid)?;
        let key = &self.keys[at];
        match key.state {
            KeyState::Current => return Err(KeyringError::AlreadyCurrent(kid.to_owned())),
            KeyState::Retired => return Err(KeyringError::Retired(kid.to_owned())),
            KeyState::Next | KeyState::Retiring { .. } => {}
        }
        if let Some(wait) = known_after_secs {
            let ready_at = key.added_at + wait;
            if key.state == KeyState::Next && now < ready_at {
                return Err(KeyringError::NotYetKnown {
                    kid: kid.to_owned(),
                    added_at: key.added_at,
                    ready_at,
                });
            }
        }
        for k in &mut self.keys {
            if k.state == KeyState::Current {
                k.state = KeyState::Retiring {
                    until: now + retiring_secs,
                };
            }
        }
        self.keys[at].state = KeyState::Current;
        Ok(())
    }

    /// Ends a `next` or `retiring` key at once: tokens it signed are refused from the next
    /// re-read of the keyring on.
    pub fn retire(&mut self, kid: &str) -> Result<(), KeyringError> {
        let at = self.position(kid)?;
        match self.keys[at].state {
            KeyState::Current => Err(KeyringError::RetiringCurrent(kid.to_owned())),
            KeyState::Retired => Err(KeyringError::Retired(kid.to_owned())),
            KeyState::Next | KeyState::Retiring { .. } => {
                self.keys[at].state = KeyState::Retired;
                Ok(())
            }
        }
    }
}

/// Why [`change_keyring`] did not write.
#[derive(Debug, thiserror::Error)]
pub enum KeyringChangeError {
    /// The change breaks a rule (against the keyring as it is now).
    #[error(transparent)]
    Refused(#[from] KeyringError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] PortError),
}

/// How often [`change_keyring`] reads again after a concurrent write before giving up.
const CHANGE_ATTEMPTS: usize = 8;

/// Applies `change` to the stored keyring with a conditional write on its version: read,
/// change, write if nobody wrote in between; otherwise read again and apply the change to what
/// the other writer left (so neither update is lost, and a change that no longer fits is
/// refused). Returns the keyring as written.
pub async fn change_keyring(
    store: &dyn KeyringStore,
    change: impl Fn(&mut Keyring) -> Result<(), KeyringError>,
) -> Result<Keyring, KeyringChangeError> {
    for _ in 0..CHANGE_ATTEMPTS {
        let mut keyring = store.read_keyring().await?;
        change(&mut keyring)?;
        if store.replace_keyring(&keyring).await? {
            keyring.version += 1;
            return Ok(keyring);
        }
    }
    Err(PortError::Unavailable(anyhow::anyhow!(
        "the keyring kept changing concurrently ({CHANGE_ATTEMPTS} attempts)"
    ))
    .into())
}
