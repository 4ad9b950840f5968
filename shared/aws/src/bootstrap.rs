//! Creates what tokengate needs on an AWS account or the local emulator: the tables (the main
//! one and the revocation feed's, with TTL),
//! the refresh MAC key with its alias, and a signing key adopted as the keyring's current key.
//! Idempotent: existing resources are reused. In AWS, `template.yaml` creates the table and
//! keys, and `tokengate keys adopt` registers the template's signing key; this is for the
//! emulator and tests.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification,
};
use aws_sdk_kms::types::{KeySpec, KeyUsageType, Tag};
use tokengate_claims::Algorithm;
use tokengate_domain::keyring::{change_keyring, Keyring};
use tokengate_domain::ports::KeyringStore;

use crate::errors::service_code;

/// The tag naming the stack a signing key belongs to; IAM grants `kms:Sign` on keys with the
/// function's own stack in it.
pub const STACK_TAG: &str = "tokengate:stack";
/// Alias of the refresh MAC key.
pub const MAC_ALIAS: &str = "alias/tokengate-refresh-mac";

/// Creates the table if missing (key `pk`, on-demand) and enables TTL on `ttl`.
pub async fn ensure_table(ddb: &aws_sdk_dynamodb::Client, name: &str) -> anyhow::Result<()> {
    ensure_keyed_table(ddb, name, None).await
}

/// Creates the revocation feed's table if missing (hash key `pk`, the shard; range key `at`,
/// the time an entry was written; on-demand) and enables TTL on `ttl`, as template.yaml's
/// `RevocationFeedTable`.
pub async fn ensure_feed_table(ddb: &aws_sdk_dynamodb::Client, name: &str) -> anyhow::Result<()> {
    ensure_keyed_table(ddb, name, Some("at")).await
}

/// Both tables of `tables`.
pub async fn ensure_tables(
    ddb: &aws_sdk_dynamodb::Client,
    tables: &crate::Tables,
) -> anyhow::Result<()> {
    ensure_table(ddb, &tables.main).await?;
    ensure_feed_table(ddb, &tables.feed).await
}

/// A table of string hash key `pk` and, if named, a string range key; on-demand, TTL on `ttl`.
async fn ensure_keyed_table(
    ddb: &aws_sdk_dynamodb::Client,
    name: &str,
    range: Option<&str>,
) -> anyhow::Result<()> {
    match ddb.describe_table().table_name(name).send().await {
        Ok(_) => return Ok(()),
        Err(e) if service_code(&e) == Some("ResourceNotFoundException") => {}
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!("failed to describe table {name}")))
        }
    }
    let string = |attr: &str| {
        AttributeDefinition::builder()
            .attribute_name(attr)
            .attribute_type(ScalarAttributeType::S)
            .build()
    };
    let key = |attr: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(attr)
            .key_type(kind)
            .build()
    };
    let mut create = ddb
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string("pk")?)
        .key_schema(key("pk", KeyType::Hash)?);
    if let Some(range) = range {
        create = create
            .attribute_definitions(string(range)?)
            .key_schema(key(range, KeyType::Range)?);
    }
    create
        .send()
        .await
        .map_err(|e| anyhow::Error::new(e).context(format!("failed to create table {name}")))?;
    for _ in 0..60 {
        let t = ddb.describe_table().table_name(name).send().await?;
        if t.table.and_then(|t| t.table_status) == Some(TableStatus::Active) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    ddb.update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("ttl")
                .enabled(true)
                .build()?,
        )
        .send()
        .await
        .map_err(|e| anyhow::Error::new(e).context(format!("failed to enable TTL on {name}")))?;
    Ok(())
}

/// Creates a new signing key of `stack` (tagged [`STACK_TAG`]` = stack`; no alias). Returns
/// its key id.
pub async fn create_signing_key(
    kms: &aws_sdk_kms::Client,
    alg: Algorithm,
    stack: &str,
) -> anyhow::Result<String> {
    let spec = match alg {
        Algorithm::ES256 => KeySpec::EccNistP256,
        Algorithm::RS256 => KeySpec::Rsa2048,
    };
    let tag = Tag::builder().tag_key(STACK_TAG).tag_value(stack).build()?;
    create_key(
        kms,
        spec,
        KeyUsageType::SignVerify,
        &format!("tokengate access-token signing key of stack {stack}"),
        Some(tag),
    )
    .await
}

async fn create_key(
    kms: &aws_sdk_kms::Client,
    spec: KeySpec,
    usage: KeyUsageType,
    description: &str,
    tag: Option<Tag>,
) -> anyhow::Result<String> {
    let out = kms
        .create_key()
        .key_spec(spec)
        .key_usage(usage)
        .description(description)
        .set_tags(tag.map(|t| vec![t]))
        .send()
        .await
        .map_err(|e| anyhow::Error::new(e).context("failed to create KMS key"))?;
    out.key_metadata
        .map(|m| m.key_id)
        .ok_or_else(|| anyhow::anyhow!("KMS CreateKey returned no key id"))
}

/// The key id an alias points at, if the alias exists.
pub async fn alias_target(
    kms: &aws_sdk_kms::Client,
    alias: &str,
) -> anyhow::Result<Option<String>> {
    match kms.describe_key().key_id(alias).send().await {
        Ok(out) => Ok(out.key_metadata.map(|m| m.key_id)),
        Err(e) if service_code(&e) == Some("NotFoundException") => Ok(None),
        Err(e) => Err(anyhow::Error::new(e).context(format!("failed to describe {alias}"))),
    }
}

/// Points `alias` at `key_id`, creating the alias if needed.
pub async fn point_alias(
    kms: &aws_sdk_kms::Client,
    alias: &str,
    key_id: &str,
) -> anyhow::Result<()> {
    if alias_target(kms, alias).await?.is_some() {
        kms.update_alias()
            .alias_name(alias)
            .target_key_id(key_id)
            .send()
            .await
            .map_err(|e| anyhow::Error::new(e).context(format!("failed to update {alias}")))?;
    } else {
        kms.create_alias()
            .alias_name(alias)
            .target_key_id(key_id)
            .send()
            .await
            .map_err(|e| anyhow::Error::new(e).context(format!("failed to create {alias}")))?;
    }
    Ok(())
}

/// The key id of the refresh MAC key, creating it (with its alias) if missing.
pub async fn ensure_mac_key(kms: &aws_sdk_kms::Client) -> anyhow::Result<String> {
    if let Some(id) = alias_target(kms, MAC_ALIAS).await? {
        return Ok(id);
    }
    let id = create_key(
        kms,
        KeySpec::Hmac256,
        KeyUsageType::GenerateVerifyMac,
        "tokengate refresh-token successor key",
        None,
    )
    .await?;
    point_alias(kms, MAC_ALIAS, &id).await?;
    Ok(id)
}

/// The keyring's current signing key; if the keyring has none, a new key of `stack` (algorithm
/// `alg`) fetched once from KMS and adopted as current. Returns the keyring as it is now.
pub async fn ensure_signing_key(
    kms: &aws_sdk_kms::Client,
    keyring: &dyn KeyringStore,
    alg: Algorithm,
    stack: &str,
    now: i64,
) -> anyhow::Result<Keyring> {
    let ring = keyring.read_keyring().await?;
    if ring.current().is_some() {
        return Ok(ring);
    }
    let id = create_signing_key(kms, alg, stack).await?;
    let key = crate::fetch_public_key(kms, &id).await?;
    Ok(change_keyring(keyring, |ring| ring.adopt(key.clone(), now)).await?)
}
