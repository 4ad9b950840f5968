//! [`KeyringStore`] on DynamoDB: the one item `keyring#signing` with `version` (N) and `keys`
//! (L of M: `kid`, `alg`, `public_key` (B, SubjectPublicKeyInfo DER), `key_arn`, `state`,
//! `until` (N, `retiring` only), `added_at`). Every write is a `PutItem` conditioned on the
//! version it was read at.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use tokengate_claims::Algorithm;
use tokengate_domain::keyring::{KeyState, Keyring, KeyringKey, KEYRING_PK};
use tokengate_domain::ports::KeyringStore;
use tokengate_domain::{PortError, PortResult};

use super::codec::{corrupt, get_n, get_s, n, s, Item};
use super::DynamoStore;
use crate::errors::{classify, service_code};

fn encode_key(k: &KeyringKey) -> AttributeValue {
    let mut m: Item = HashMap::from([
        ("kid".to_owned(), s(&k.kid)),
        ("alg".to_owned(), s(k.alg.as_str())),
        (
            "public_key".to_owned(),
            AttributeValue::B(Blob::new(k.public_key.clone())),
        ),
        ("key_arn".to_owned(), s(&k.key_arn)),
        ("state".to_owned(), s(k.state.as_str())),
        ("added_at".to_owned(), n(k.added_at)),
    ]);
    if let KeyState::Retiring { until } = k.state {
        m.insert("until".to_owned(), n(until));
    }
    AttributeValue::M(m)
}

fn decode_key(v: &AttributeValue) -> PortResult<KeyringKey> {
    let m = v.as_m().map_err(|_| corrupt("keys"))?;
    let until = match m.get("until") {
        None => None,
        Some(_) => Some(get_n(m, "until")?),
    };
    let state = KeyState::parse(&get_s(m, "state")?, until).ok_or_else(|| corrupt("state"))?;
    let alg = match get_s(m, "alg")?.as_str() {
        "ES256" => Algorithm::ES256,
        "RS256" => Algorithm::RS256,
        _ => return Err(corrupt("alg")),
    };
    let public_key = match m.get("public_key") {
        Some(AttributeValue::B(b)) => b.as_ref().to_vec(),
        _ => return Err(corrupt("public_key")),
    };
    Ok(KeyringKey {
        kid: get_s(m, "kid")?,
        alg,
        public_key,
        key_arn: get_s(m, "key_arn")?,
        state,
        added_at: get_n(m, "added_at")?,
    })
}

fn decode(item: &Item) -> PortResult<Keyring> {
    let keys = match item.get("keys") {
        Some(AttributeValue::L(keys)) => keys.iter().map(decode_key).collect::<PortResult<_>>()?,
        _ => return Err(corrupt("keys")),
    };
    Keyring::from_stored(get_n(item, "version")?, keys)
        .map_err(|e| PortError::Unexpected(anyhow::Error::new(e)))
}

#[async_trait]
impl KeyringStore for DynamoStore {
    async fn read_keyring(&self) -> PortResult<Keyring> {
        match self.get(KEYRING_PK.to_owned(), "read the keyring").await? {
            Some(item) => decode(&item),
            None => Ok(Keyring::default()),
        }
    }

    async fn replace_keyring(&self, keyring: &Keyring) -> PortResult<bool> {
        let put = self
            .client
            .put_item()
            .table_name(&self.tables.main)
            .item("pk", s(KEYRING_PK))
            .item("version", n(keyring.version() + 1))
            .item(
                "keys",
                AttributeValue::L(keyring.keys().iter().map(encode_key).collect()),
            );
        let put = if keyring.version() == 0 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("#version = :read")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":read", n(keyring.version()))
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if service_code(&e) == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(classify(e, "write the keyring")),
        }
    }
}
