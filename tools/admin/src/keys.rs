//! Bootstrap and signing-key rotation.
//!
//! Rotation without downtime: `keys create` (new key), add its kid to
//! `TOKENGATE_TRUSTED_KEYS` and deploy (verifiers and JWKS trust both), `keys promote <kid>`
//! and deploy (new tokens use it), and after the access-token lifetime remove the old kid.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use tokengate_aws::bootstrap::{self, MAC_ALIAS, SIGNING_ALIAS};
use tokengate_claims::Algorithm;

/// Creates table and keys if missing; prints (and optionally writes) the settings.
pub async fn bootstrap(
    ddb: &aws_sdk_dynamodb::Client,
    kms: &aws_sdk_kms::Client,
    table: &str,
    alg: Algorithm,
    env_file: Option<PathBuf>,
) -> anyhow::Result<()> {
    bootstrap::ensure_table(ddb, table).await?;
    let (signing, _mac) = bootstrap::ensure_keys(kms, alg).await?;
    let settings = format!(
        "TOKENGATE_TABLE={table}\nTOKENGATE_SIGNING_KEY={SIGNING_ALIAS}\nTOKENGATE_TRUSTED_KEYS={signing}\nTOKENGATE_REFRESH_MAC_KEY={MAC_ALIAS}\n"
    );
    print!("{settings}");
    if let Some(path) = env_file {
        let mut f = std::fs::File::create(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        f.write_all(settings.as_bytes())?;
    }
    Ok(())
}

/// Lists signing keys: kid, spec, state and aliases.
pub async fn list(kms: &aws_sdk_kms::Client) -> anyhow::Result<()> {
    let aliases = kms
        .list_aliases()
        .send()
        .await
        .context("failed to list aliases")?;
    let keys = kms
        .list_keys()
        .send()
        .await
        .context("failed to list keys")?;
    println!("{:<38} {:<14} {:<10} aliases", "kid", "spec", "state");
    for k in keys.keys() {
        let Some(id) = k.key_id() else { continue };
        let d = kms
            .describe_key()
            .key_id(id)
            .send()
            .await
            .with_context(|| format!("failed to describe {id}"))?;
        let Some(m) = d.key_metadata else { continue };
        if m.key_usage.as_ref().map(|u| u.as_str()) != Some("SIGN_VERIFY") {
            continue;
        }
        let names: Vec<&str> = aliases
            .aliases()
            .iter()
            .filter(|a| a.target_key_id() == Some(id))
            .filter_map(|a| a.alias_name())
            .collect();
        println!(
            "{:<38} {:<14} {:<10} {}",
            id,
            m.key_spec.as_ref().map(|s| s.as_str()).unwrap_or("?"),
            m.key_state.as_ref().map(|s| s.as_str()).unwrap_or("?"),
            names.join(",")
        );
    }
    Ok(())
}

/// Creates a new signing key without switching the alias.
pub async fn create(kms: &aws_sdk_kms::Client, alg: Algorithm) -> anyhow::Result<()> {
    let id = bootstrap::create_signing_key(kms, alg).await?;
    println!("created signing key {id}; add it to TOKENGATE_TRUSTED_KEYS, deploy, then `tokengate keys promote {id}`");
    Ok(())
}

/// Points the signing alias at `kid`.
pub async fn promote(kms: &aws_sdk_kms::Client, kid: &str) -> anyhow::Result<()> {
    bootstrap::point_alias(kms, SIGNING_ALIAS, kid).await?;
    println!("{SIGNING_ALIAS} now points at {kid}; redeploy login and refresh so new instances sign with it");
    Ok(())
}
