//! The twins of the KMS signer and MAC: keys generated in process.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use tokengate_claims::{Algorithm, VerifyingKey};
use tokengate_domain::error::{PortError, PortResult};
use tokengate_domain::ports::{RefreshMac, TokenSigner};

/// An ES256 signer with a key generated in process (the twin of the KMS signer).
pub struct MemorySigner {
    kid: String,
    key: EcdsaKeyPair,
    rng: SystemRandom,
    unavailable: AtomicBool,
    calls: AtomicUsize,
}

impl MemorySigner {
    /// A signer with a fresh P-256 key.
    pub fn generate(kid: impl Into<String>) -> Self {
        Self {
            kid: kid.into(),
            key: EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .expect("P-256 key generation"),
            rng: SystemRandom::new(),
            unavailable: AtomicBool::new(false),
            calls: AtomicUsize::new(0),
        }
    }

    /// The matching verifying key.
    pub fn verifying_key(&self) -> VerifyingKey {
        let der = self
            .key
            .public_key()
            .as_der()
            .expect("public key encodes as SPKI");
        VerifyingKey::from_spki_der(self.kid.clone(), Algorithm::ES256, der.as_ref())
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
}

#[async_trait]
impl TokenSigner for MemorySigner {
    fn kid(&self) -> &str {
        &self.kid
    }
    fn alg(&self) -> Algorithm {
        Algorithm::ES256
    }
    async fn sign(&self, signing_input: &[u8]) -> PortResult<Vec<u8>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(PortError::Unavailable(anyhow::anyhow!(
                "simulated KMS ThrottlingException"
            )));
        }
        let sig = self
            .key
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
}

impl MemoryMac {
    /// MACs computed so far (KMS `GenerateMac` requests, in production).
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
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
        }
    }
}

#[async_trait]
impl RefreshMac for MemoryMac {
    async fn mac(&self, message: &[u8]) -> PortResult<[u8; 32]> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let tag = hmac::sign(&self.key, message);
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }
}
