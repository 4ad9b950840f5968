//! Argon2id password hashing. Parameters are configuration; hashes made with weaker parameters
//! are upgraded on the next successful login.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// A password as typed. Never logged: `Debug` prints nothing of it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Wraps a plaintext password.
    pub fn new(plain: impl Into<String>) -> Self {
        Self(plain.into())
    }
    fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Longest accepted password in bytes; bounds hashing work per request.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    /// Memory in KiB (OWASP minimum 19 MiB = 19456).
    pub memory_kib: u32,
    /// Iterations (OWASP minimum 2 at 19 MiB).
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for HashParams {
    /// OWASP's recommended minimum: m=19 MiB, t=2, p=1.
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// What login asks of password hashing. [`PasswordHasher`] (Argon2id) is the one
/// implementation the product uses; the trait is the seam through which a test can watch the
/// costly step, e.g. count how many guesses the lockout let through to Argon2.
pub trait PasswordHashing: Send + Sync {
    /// See [`PasswordHasher::verify`].
    fn verify(&self, password: &Password, stored: Option<&str>) -> bool;
    /// See [`PasswordHasher::hash`].
    fn hash(&self, password: &Password) -> anyhow::Result<String>;
    /// See [`PasswordHasher::needs_rehash`].
    fn needs_rehash(&self, stored: &str) -> bool;
}

impl PasswordHashing for PasswordHasher {
    fn verify(&self, password: &Password, stored: Option<&str>) -> bool {
        PasswordHasher::verify(self, password, stored)
    }
    fn hash(&self, password: &Password) -> anyhow::Result<String> {
        PasswordHasher::hash(self, password)
    }
    fn needs_rehash(&self, stored: &str) -> bool {
        PasswordHasher::needs_rehash(self, stored)
    }
}

/// Hashes and verifies passwords with Argon2id.
#[derive(Clone)]
pub struct PasswordHasher {
    argon: Argon2<'static>,
    params: HashParams,
    /// A PHC string with the configured parameters, verified when the user does not exist so
    /// that unknown users cost the same time as wrong passwords.
    dummy_hash: String,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new(HashParams::default()).expect("default Argon2 parameters are valid")
    }
}

/// The dummy hash: the configured parameters, a fixed salt and a fixed 32-byte "output".
/// Verifying against it costs exactly one Argon2id hash at those parameters — the cost depends
/// on the parameters and output length, not on what the output is — and never matches in
/// practice (that would be a preimage), while `verify` returns `false` for it regardless.
/// Written out rather than hashed, so a cold start does not pay a whole Argon2id hash (and the
/// first draw from the random generator) before its first request.
fn dummy_hash(params: HashParams) -> anyhow::Result<String> {
    let b64 = |bytes: &[u8]| {
        SaltString::encode_b64(bytes)
            .map(|s| s.as_str().to_owned())
            .map_err(|e| anyhow::anyhow!("failed to encode the dummy hash: {e}"))
    };
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.memory_kib,
        params.iterations,
        params.parallelism,
        b64(b"tokengate-dummy!")?,
        b64(&[0x5a; 32])?,
    ))
}

impl PasswordHasher {
    /// A hasher with `params`; error if Argon2 rejects them.
    pub fn new(params: HashParams) -> anyhow::Result<Self> {
        let p = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|e| anyhow::anyhow!("invalid Argon2 parameters: {e}"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, p);
        Ok(Self {
            argon,
            params,
            dummy_hash: dummy_hash(params)?,
        })
    }

    /// The configured parameters.
    pub fn params(&self) -> HashParams {
        self.params
    }

    /// A PHC string for `password` with a fresh random salt.
    pub fn hash(&self, password: &Password) -> anyhow::Result<String> {
        let salt_bytes = crate::refresh_token::random_bytes::<16>();
        let salt = SaltString::encode_b64(&salt_bytes)
            .map_err(|e| anyhow::anyhow!("failed to encode salt: {e}"))?;
        self.argon
            .hash_password(password.bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("failed to hash password: {e}"))
    }

    /// Checks `password` against a stored PHC string (the parameters in the string are used).
    /// With `None` it checks against the dummy hash and returns `false`, taking the same time.
    pub fn verify(&self, password: &Password, stored: Option<&str>) -> bool {
        let (phc, real) = match stored {
            Some(s) => (s, true),
            None => (self.dummy_hash.as_str(), false),
        };
        let Ok(parsed) = PasswordHash::new(phc) else {
            // A corrupt stored hash still costs a full hash, then fails.
            let _ = self.argon.verify_password(
                password.bytes(),
                &PasswordHash::new(&self.dummy_hash).expect("dummy hash parses"),
            );
            return false;
        };
        let ok = self
            .argon
            .verify_password(password.bytes(), &parsed)
            .is_ok();
        ok && real
    }

    /// Whether a stored hash was made with weaker (or other) parameters than configured.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return true;
        };
        let Ok(p) = Params::try_from(&parsed) else {
            return true;
        };
        parsed.algorithm != Algorithm::Argon2id.ident()
            || p.m_cost() < self.params.memory_kib
            || p.t_cost() < self.params.iterations
            || p.p_cost() != self.params.parallelism
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(HashParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    #[test]
    fn verifies_the_right_password_only() {
        let h = cheap();
        let stored = h.hash(&Password::new("correct horse")).unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert!(h.verify(&Password::new("correct horse"), Some(&stored)));
        assert!(!h.verify(&Password::new("correct horsE"), Some(&stored)));
    }

    #[test]
    fn dummy_hash_costs_what_a_stored_hash_at_the_configured_parameters_costs() {
        let h = cheap();
        // Same algorithm, parameters and output length as a fresh hash: same work to verify.
        assert!(!h.needs_rehash(&h.dummy_hash));
        let dummy = PasswordHash::new(&h.dummy_hash).unwrap();
        let real = h.hash(&Password::new("pw")).unwrap();
        let real = PasswordHash::new(&real).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.params, real.params);
        assert_eq!(dummy.hash.unwrap().len(), real.hash.unwrap().len());
    }

    #[test]
    fn unknown_user_never_verifies() {
        let h = cheap();
        assert!(!h.verify(&Password::new("anything"), None));
    }

    #[test]
    fn default_parameters_meet_owasp_minimum() {
        let p = HashParams::default();
        assert!(p.memory_kib >= 19 * 1024 && p.iterations >= 2 && p.parallelism == 1);
    }

    #[test]
    fn weaker_hashes_need_rehash() {
        let weak = cheap().hash(&Password::new("pw")).unwrap();
        let strong = PasswordHasher::new(HashParams {
            memory_kib: 2048,
            iterations: 2,
            parallelism: 1,
        })
        .unwrap();
        assert!(strong.needs_rehash(&weak));
        let fresh = strong.hash(&Password::new("pw")).unwrap();
        assert!(!strong.needs_rehash(&fresh));
        assert!(strong.needs_rehash("not a phc string"));
    }

    #[test]
    fn corrupt_stored_hash_fails_closed() {
        assert!(!cheap().verify(&Password::new("pw"), Some("$argon2id$garbage")));
    }

    #[test]
    fn debug_redacts_password() {
        assert_eq!(
            format!("{:?}", Password::new("hunter2")),
            "Password(<redacted>)"
        );
    }
}
