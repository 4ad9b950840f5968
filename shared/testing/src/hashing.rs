//! [`CountingHasher`]: Argon2id as login uses it, counting the verifications, so a test can
//! show how many guesses reached the costly step.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokengate_domain::password::{Password, PasswordHasher, PasswordHashing};

/// A [`PasswordHasher`] that counts how often it verified a password (each one an Argon2id
/// run, real or against the dummy hash). Install it as `Login::hasher`.
#[derive(Debug)]
pub struct CountingHasher {
    inner: PasswordHasher,
    verifications: AtomicUsize,
}

impl CountingHasher {
    /// Counts the verifications of `inner`.
    pub fn new(inner: PasswordHasher) -> Self {
        Self {
            inner,
            verifications: AtomicUsize::new(0),
        }
    }

    /// Verifications so far.
    pub fn verifications(&self) -> usize {
        self.verifications.load(Ordering::SeqCst)
    }
}

impl PasswordHashing for CountingHasher {
    fn verify(&self, password: &Password, stored: Option<&str>) -> bool {
        self.verifications.fetch_add(1, Ordering::SeqCst);
        self.inner.verify(password, stored)
    }
    fn hash(&self, password: &Password) -> anyhow::Result<String> {
        self.inner.hash(password)
    }
    fn needs_rehash(&self, stored: &str) -> bool {
        self.inner.needs_rehash(stored)
    }
}
