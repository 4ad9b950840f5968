//! KMS adapters: the access-token signer, the public-key source and the refresh MAC.

use async_trait::async_trait;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MacAlgorithmSpec, MessageType, SigningAlgorithmSpec};
use aws_sdk_kms::Client;
use tokengate_claims::{ecdsa_der_to_jws, Algorithm, VerifyingKey};
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

/// A resolved key: ARN, kid, algorithm and public key.
struct ResolvedKey {
    arn: String,
    kid: String,
    alg: Algorithm,
    spki: Vec<u8>,
}

/// One `GetPublicKey`: resolves an id, ARN or alias to the concrete key.
async fn resolve(kms: &Client, key: &str) -> anyhow::Result<ResolvedKey> {
    let out = kms
        .get_public_key()
        .key_id(key)
        .send()
        .await
        .map_err(|e| anyhow::Error::new(classify(e, "get public key")))
        .map_err(|e| e.context(format!("KMS key {key}")))?;
    let arn = out
        .key_id
        .ok_or_else(|| anyhow::anyhow!("KMS GetPublicKey for {key} returned no key id"))?;
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
    let spki = out
        .public_key
        .ok_or_else(|| anyhow::anyhow!("KMS key {key} returned no public key"))?
        .into_inner();
    Ok(ResolvedKey {
        kid: kid_from_key_arn(&arn).to_owned(),
        arn,
        alg,
        spki,
    })
}

/// Signs access tokens with a KMS asymmetric key.
#[derive(Debug, Clone)]
pub struct KmsSigner {
    kms: Client,
    arn: String,
    kid: String,
    alg: Algorithm,
}

impl KmsSigner {
    /// Resolves `key` (id, ARN or alias) once. Signing then names the concrete key ARN, not
    /// the alias, so the `kid` header always matches the key that signed, even while an alias
    /// is being switched to a new key.
    pub async fn connect(kms: Client, key: &str) -> anyhow::Result<Self> {
        let r = resolve(&kms, key).await?;
        Ok(Self {
            kms,
            arn: r.arn,
            kid: r.kid,
            alg: r.alg,
        })
    }
}

#[async_trait]
impl TokenSigner for KmsSigner {
    fn kid(&self) -> &str {
        &self.kid
    }

    fn alg(&self) -> Algorithm {
        self.alg
    }

    async fn sign(&self, signing_input: &[u8]) -> PortResult<Vec<u8>> {
        if signing_input.len() > MAX_RAW_MESSAGE {
            return Err(PortError::Unexpected(anyhow::anyhow!(
                "signing input of {} bytes exceeds KMS's raw limit of {MAX_RAW_MESSAGE}",
                signing_input.len()
            )));
        }
        let algorithm = match self.alg {
            Algorithm::ES256 => SigningAlgorithmSpec::EcdsaSha256,
            Algorithm::RS256 => SigningAlgorithmSpec::RsassaPkcs1V15Sha256,
        };
        let out = self
            .kms
            .sign()
            .key_id(&self.arn)
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
        match self.alg {
            // KMS returns ECDSA signatures as DER; JWS wants the fixed 64-byte r‖s.
            Algorithm::ES256 => ecdsa_der_to_jws(&sig)
                .map(|raw| raw.to_vec())
                .map_err(|e| PortError::Unexpected(anyhow::Error::new(e))),
            Algorithm::RS256 => Ok(sig),
        }
    }
}

/// Fetches the public key of every trusted key id once (concurrently), pinned to the
/// algorithm of its key spec.
pub async fn load_verifying_keys(
    kms: &Client,
    key_ids: &[String],
) -> anyhow::Result<Vec<VerifyingKey>> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, id) in key_ids.iter().enumerate() {
        let (kms, id) = (kms.clone(), id.clone());
        tasks.spawn(async move { (i, resolve(&kms, &id).await) });
    }
    let mut keys = Vec::with_capacity(key_ids.len());
    while let Some(joined) = tasks.join_next().await {
        let (i, resolved) = joined?;
        let r = resolved?;
        let key = VerifyingKey::from_spki_der(r.kid, r.alg, &r.spki)
            .map_err(|e| anyhow::anyhow!("KMS key {}: {e}", key_ids[i]))?;
        keys.push((i, key));
    }
    keys.sort_by_key(|(i, _)| *i);
    Ok(keys.into_iter().map(|(_, k)| k).collect())
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
