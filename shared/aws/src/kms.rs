//! KMS adapters: the access-token signer, the public-key fetch of the admin CLI and the
//! refresh MAC.

use async_trait::async_trait;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MacAlgorithmSpec, MessageType, SigningAlgorithmSpec};
use aws_sdk_kms::Client;
use tokengate_claims::{ecdsa_der_to_jws, Algorithm, VerifyingKey};
use tokengate_domain::keyring::{KeyringKey, NewKey};
use tokengate_domain::ports::{RefreshMac, TokenSigner};
use tokengate_domain::{PortError, PortResult};

use crate::errors::classify;

/// KMS `Sign` accepts at most 4096 bytes with `MessageType::Raw`.
const MAX_RAW_MESSAGE: usize = 4096;

/// The key id (UUID) at the end of a key ARN (`arn:aws:kms:…:key/<uuid>`); a bare id is
/// returned as is. It is the `kid` of tokens signed with that key.
pub fn kid_from_key_arn(arn: &str) -> &str {
    arn.rsplit_once("key/").map_or(arn, |(_, id)| id)
}

/// The JWS algorithm of a KMS key spec (`ECC_NIST_P256`, `RSA_2048`…), if supported.
pub fn algorithm_of(spec: &str) -> Option<Algorithm> {
    match spec {
        "ECC_NIST_P256" => Some(Algorithm::ES256),
        "RSA_2048" | "RSA_3072" | "RSA_4096" => Some(Algorithm::RS256),
        _ => None,
    }
}

/// One `GetPublicKey`: what a key joining the keyring needs — ARN, `kid`, algorithm and public
/// key — for a key id, ARN or alias. Only the admin CLI calls it (the functions read the
/// keyring); the public key is checked to parse as a key of its algorithm before it is used.
pub async fn fetch_public_key(kms: &Client, key: &str) -> anyhow::Result<NewKey> {
    let out = kms
        .get_public_key()
        .key_id(key)
        .send()
        .await
        .map_err(|e| anyhow::Error::new(classify(e, "get public key")))
        .map_err(|e| e.context(format!("KMS key {key}")))?;
    let id = out
        .key_id
        .ok_or_else(|| anyhow::anyhow!("KMS GetPublicKey for {key} returned no key id"))?;
    // KMS answers with the key ARN; the emulator with the bare key id, whose ARN DescribeKey
    // gives. Login and refresh sign with the stored ARN, and IAM scopes `kms:Sign` by it.
    let arn = if id.starts_with("arn:") {
        id
    } else {
        kms.describe_key()
            .key_id(&id)
            .send()
            .await
            .map_err(|e| anyhow::Error::new(classify(e, "describe key")))
            .map_err(|e| e.context(format!("KMS key {key}")))?
            .key_metadata
            .and_then(|m| m.arn)
            .ok_or_else(|| anyhow::anyhow!("KMS DescribeKey for {key} returned no ARN"))?
    };
    // `KeySpec` is the current field; `CustomerMasterKeySpec` its deprecated twin, which some
    // implementations (the emulator among them) still return alone.
    #[allow(deprecated)]
    let spec = out
        .key_spec
        .map(|s| s.as_str().to_owned())
        .or_else(|| out.customer_master_key_spec.map(|s| s.as_str().to_owned()))
        .ok_or_else(|| anyhow::anyhow!("KMS key {key} has no key spec"))?;
    let alg = algorithm_of(&spec).ok_or_else(|| {
        anyhow::anyhow!("KMS key {key} has spec {spec}; use ECC_NIST_P256 or RSA_2048+")
    })?;
    let public_key = out
        .public_key
        .ok_or_else(|| anyhow::anyhow!("KMS key {key} returned no public key"))?
        .into_inner();
    let kid = kid_from_key_arn(&arn).to_owned();
    VerifyingKey::from_spki_der(kid.clone(), alg, &public_key)
        .map_err(|e| anyhow::anyhow!("KMS key {key}: {e}"))?;
    Ok(NewKey {
        kid,
        alg,
        public_key,
        key_arn: arn,
    })
}

/// Signs access tokens with KMS `Sign`, naming the concrete key ARN of the keyring entry (never
/// an alias), so the `kid` header always matches the key that signed.
#[derive(Debug, Clone)]
pub struct KmsSigner {
    kms: Client,
}

impl KmsSigner {
    /// A signer on `kms`. It makes no call until it signs.
    pub fn new(kms: Client) -> Self {
        Self { kms }
    }
}

#[async_trait]
impl TokenSigner for KmsSigner {
    async fn sign(&self, key: &KeyringKey, signing_input: &[u8]) -> PortResult<Vec<u8>> {
        if signing_input.len() > MAX_RAW_MESSAGE {
            return Err(PortError::Unexpected(anyhow::anyhow!(
                "signing input of {} bytes exceeds KMS's raw limit of {MAX_RAW_MESSAGE}",
                signing_input.len()
            )));
        }
        let algorithm = match key.alg {
            Algorithm::ES256 => SigningAlgorithmSpec::EcdsaSha256,
            Algorithm::RS256 => SigningAlgorithmSpec::RsassaPkcs1V15Sha256,
        };
        let out = self
            .kms
            .sign()
            .key_id(&key.key_arn)
            .message(Blob::new(signing_input))
            .message_type(MessageType::Raw)
            .signing_algorithm(algorithm)
            .send()
            .await
            .map_err(|e| classify(e, "sign access token"))?;
        let sig = out
            .signature
            .ok_or_else(|| {
                PortError::Unexpected(anyhow::anyhow!("KMS Sign returned no signature"))
            })?
            .into_inner();
        match key.alg {
            // KMS returns ECDSA signatures as DER; JWS wants the fixed 64-byte r‖s.
            Algorithm::ES256 => ecdsa_der_to_jws(&sig)
                .map(|raw| raw.to_vec())
                .map_err(|e| PortError::Unexpected(anyhow::Error::new(e))),
            Algorithm::RS256 => Ok(sig),
        }
    }
}

/// HMAC-SHA-256 with a KMS `HMAC_256` key: derives refresh-token successors.
#[derive(Debug, Clone)]
pub struct KmsRefreshMac {
    kms: Client,
    key: String,
}

impl KmsRefreshMac {
    /// MACs with `key` (id, ARN or alias).
    pub fn new(kms: Client, key: impl Into<String>) -> Self {
        Self {
            kms,
            key: key.into(),
        }
    }
}

#[async_trait]
impl RefreshMac for KmsRefreshMac {
    async fn mac(&self, message: &[u8]) -> PortResult<[u8; 32]> {
        let out = self
            .kms
            .generate_mac()
            .key_id(&self.key)
            .message(Blob::new(message))
            .mac_algorithm(MacAlgorithmSpec::HmacSha256)
            .send()
            .await
            .map_err(|e| classify(e, "derive refresh token"))?;
        let mac = out
            .mac
            .ok_or_else(|| {
                PortError::Unexpected(anyhow::anyhow!("KMS GenerateMac returned no MAC"))
            })?
            .into_inner();
        mac.try_into()
            .map_err(|_| PortError::Unexpected(anyhow::anyhow!("KMS MAC is not 32 bytes")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_kms::types::KeySpec;

    #[test]
    fn kid_is_the_key_uuid() {
        assert_eq!(
            kid_from_key_arn(
                "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
            ),
            "1234abcd-12ab-34cd-56ef-1234567890ab"
        );
        assert_eq!(kid_from_key_arn("1234abcd"), "1234abcd");
    }

    #[test]
    fn only_p256_and_rsa_specs_are_supported() {
        assert_eq!(
            algorithm_of(KeySpec::EccNistP256.as_str()),
            Some(Algorithm::ES256)
        );
        assert_eq!(
            algorithm_of(KeySpec::Rsa2048.as_str()),
            Some(Algorithm::RS256)
        );
        assert_eq!(
            algorithm_of(KeySpec::Rsa4096.as_str()),
            Some(Algorithm::RS256)
        );
        assert_eq!(algorithm_of(KeySpec::EccNistP384.as_str()), None);
        assert_eq!(algorithm_of(KeySpec::Hmac256.as_str()), None);
    }
}
