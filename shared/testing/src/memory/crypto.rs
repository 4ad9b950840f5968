//! The twins of the KMS signer and MAC: keys generated in process.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use tokengate_claims::{Algorithm, VerifyingKey};
use tokengate_domain::error::{PortError, PortResult};
use tokengate_domain::keyring::{KeyringKey, NewKey};
use tokengate_domain::ports::{RefreshMac, TokenSigner};

/// ES256 signing keys generated in process (the twin of KMS and the keyring's key ARNs): it
/// signs with the key a keyring entry names, as KMS `Sign` does with its ARN.
pub struct MemorySigner {
    first_kid: String,
    keys: Mutex<HashMap<String, Arc<EcdsaKeyPair>>>,
    rng: SystemRandom,
    unavailable: AtomicBool,
    calls: AtomicUsize,
}

/// The made-up key ARN of an in-process key.
fn arn(kid: &str) -> String {
    format!("arn:aws:kms:us-east-1:123456789012:key/{kid}")
}

impl MemorySigner {
    /// A signer with one fresh P-256 key, `kid`.
    pub fn generate(kid: impl Into<String>) -> Self {
        let signer = Self {
            first_kid: kid.into(),
            keys: Mutex::default(),
            rng: SystemRandom::new(),
            unavailable: AtomicBool::new(false),
            calls: AtomicUsize::new(0),
        };
        signer.generate_key(&signer.first_kid.clone());
        signer
    }

    /// Generates another P-256 key, `kid`, and returns it as it would join the keyring (what
    /// `tokengate keys create` fetches from KMS).
    pub fn generate_key(&self, kid: &str) -> NewKey {
        let pair =
            EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("P-256 key generation");
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(kid.to_owned(), Arc::new(pair));
        self.new_key(kid)
    }

    /// The keyring entry of the key `kid` (the first key's, for the signer's own `kid`).
    pub fn new_key(&self, kid: &str) -> NewKey {
        let public_key = self
            .pair(kid)
            .expect("a key of this signer")
            .public_key()
            .as_der()
            .expect("public key encodes as SPKI")
            .as_ref()
            .to_vec();
        NewKey {
            kid: kid.to_owned(),
            alg: Algorithm::ES256,
            public_key,
            key_arn: arn(kid),
        }
    }

    /// The `kid` of the key the signer was made with.
    pub fn kid(&self) -> &str {
        &self.first_kid
    }

    /// The verifying key of the key the signer was made with.
    pub fn verifying_key(&self) -> VerifyingKey {
        let key = self.new_key(&self.first_kid);
        VerifyingKey::from_spki_der(key.kid, Algorithm::ES256, &key.public_key)
            .expect("generated key is a valid P-256 key")
    }

    /// Signatures asked for so far (KMS `Sign` requests, in production).
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Makes signing fail as throttled KMS would (or succeed again).
    pub fn set_unavailable(&self, on: bool) {
        self.unavailable.store(on, Ordering::SeqCst);
    }

    fn pair(&self, kid: &str) -> Option<Arc<EcdsaKeyPair>> {
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(kid)
            .cloned()
    }
}

#[async_trait]
impl TokenSigner for MemorySigner {
    async fn sign(&self, key: &KeyringKey, signing_input: &[u8]) -> PortResult<Vec<u8>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(PortError::Unavailable(anyhow::anyhow!(
                "simulated KMS ThrottlingException"
            )));
        }
        // KMS signs with the key the ARN names, or fails (NotFoundException).
        let pair = self
            .pair(&key.kid)
            .filter(|_| key.key_arn == arn(&key.kid))
            .ok_or_else(|| PortError::Unexpected(anyhow::anyhow!("no KMS key {}", key.key_arn)))?;
        let sig = pair
            .sign(&self.rng, signing_input)
            .map_err(|_| PortError::Unexpected(anyhow::anyhow!("ECDSA signing failed")))?;
        Ok(sig.as_ref().to_vec())
    }
}

/// HMAC-SHA-256 with a random in-process key (the twin of the KMS MAC key). Counts its calls:
/// each is a KMS `GenerateMac` request in production.
pub struct MemoryMac {
    key: hmac::Key,
    calls: AtomicUsize,
    unavailable: AtomicBool,
}

impl MemoryMac {
    /// MACs computed so far (KMS `GenerateMac` requests, in production).
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Makes every following call fail as a throttled KMS call would (or succeed again).
    pub fn set_unavailable(&self, on: bool) {
        self.unavailable.store(on, Ordering::SeqCst);
    }
}

impl Default for MemoryMac {
    fn default() -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &{
                let mut key = [0u8; 32];
                aws_lc_rs::rand::fill(&mut key).expect("system randomness");
                key
            }),
            calls: AtomicUsize::new(0),
            unavailable: AtomicBool::new(false),
        }
    }
}

#[async_trait]
impl RefreshMac for MemoryMac {
    async fn mac(&self, message: &[u8]) -> PortResult<[u8; 32]> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(PortError::Unavailable(anyhow::anyhow!(
                "simulated KMS ThrottlingException"
            )));
        }
        let tag = hmac::sign(&self.key, message);
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }
}
