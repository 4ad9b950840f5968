//! Bootstrap and the signing keyring (`keyring#signing`): create, promote, retire, list and
//! adopt keys. Every change is a conditional write on the keyring's version
//! (`tokengate_domain::keyring::change_keyring`), so two admins never lose each other's update,
//! and no CloudFormation-owned resource (alias, key policy) is touched: a rotation needs no
//! deploy and no restart (docs/key-rotation.md).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use tokengate_aws::bootstrap::{self, MAC_ALIAS, STACK_TAG};
use tokengate_aws::{fetch_public_key, DynamoStore};
use tokengate_claims::Algorithm;
use tokengate_domain::config::RotationTiming;
use tokengate_domain::keyring::{change_keyring, KeyState, Keyring};
use tokengate_domain::ports::KeyringStore;
use tokengate_domain::{Clock, SystemClock};

/// What a keys command works on: the keyring's table, KMS, and the clock.
pub struct Keys<'a> {
    /// The table holding `keyring#signing`.
    pub store: &'a DynamoStore,
    /// KMS (create keys, fetch public keys).
    pub kms: &'a aws_sdk_kms::Client,
}

fn now() -> i64 {
    SystemClock.now()
}

/// The stack name signing keys are tagged with (`--stack` / `TOKENGATE_STACK`).
fn stack_name(stack: Option<&str>) -> anyhow::Result<&str> {
    stack.filter(|s| !s.is_empty()).context(
        "name the stack with --stack or TOKENGATE_STACK: new signing keys are tagged \
         tokengate:stack=<stack>, and the functions may sign only with their own stack's keys",
    )
}

impl Keys<'_> {
    /// Creates the tables and keys if missing, adopts the signing key into an empty keyring; prints
    /// (and optionally writes) the settings.
    pub async fn bootstrap(
        &self,
        ddb: &aws_sdk_dynamodb::Client,
        alg: Algorithm,
        stack: &str,
        env_file: Option<PathBuf>,
    ) -> anyhow::Result<()> {
        let tables = self.store.tables();
        bootstrap::ensure_tables(ddb, tables).await?;
        bootstrap::ensure_mac_key(self.kms).await?;
        bootstrap::ensure_signing_key(self.kms, self.store, alg, stack, now()).await?;
        let settings = format!(
            "TOKENGATE_TABLE={}\nTOKENGATE_FEED_TABLE={}\nTOKENGATE_REFRESH_MAC_KEY={MAC_ALIAS}\n",
            tables.main, tables.feed
        );
        print!("{settings}");
        if let Some(path) = env_file {
            let mut f = std::fs::File::create(&path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            f.write_all(settings.as_bytes())?;
        }
        Ok(())
    }

    /// Prints every key of the keyring with its state and times.
    pub async fn list(&self) -> anyhow::Result<()> {
        let ring = self.store.read_keyring().await?;
        print!("{}", describe(&ring, now()));
        Ok(())
    }

    /// Creates a KMS key of `stack`, fetches its public key once and adds it as `next`.
    pub async fn create(
        &self,
        alg: Algorithm,
        stack: Option<&str>,
        timing: RotationTiming,
    ) -> anyhow::Result<()> {
        let stack = stack_name(stack)?;
        let id = bootstrap::create_signing_key(self.kms, alg, stack).await?;
        let key = fetch_public_key(self.kms, &id).await?;
        let at = now();
        change_keyring(self.store, |ring| ring.add_next(key.clone(), at)).await?;
        println!(
            "added {} ({}, tagged {STACK_TAG}={stack}) as next: published and trusted, not \
             signing yet. Every function knows it within {} s; on AWS the tag lets them sign \
             with it within 5 minutes. Promote it after that (and after the JWKS max-age, \
             300 s, if other services verify with the JWKS): tokengate keys promote {}",
            key.kid,
            key.alg.as_str(),
            timing.keyring_refresh_secs,
            key.kid
        );
        Ok(())
    }

    /// Makes `kid` current; the old current key turns `retiring` for the timing's
    /// `retiring_secs`. Refused for a key added less than one re-read interval ago, unless
    /// `force`.
    pub async fn promote(
        &self,
        kid: &str,
        force: bool,
        timing: RotationTiming,
    ) -> anyhow::Result<()> {
        let at = now();
        let known_after = (!force).then_some(timing.keyring_refresh_secs);
        let ring = change_keyring(self.store, |ring| {
            ring.promote(kid, at, timing.retiring_secs(), known_after)
        })
        .await?;
        println!(
            "{kid} is current: every function signs with it within {} s.",
            timing.keyring_refresh_secs
        );
        for k in ring.keys() {
            if let KeyState::Retiring { until } = k.state {
                println!(
                    "{} is retiring: trusted until {until} (in {} s); then `tokengate keys \
                     retire {}`",
                    k.kid,
                    until - at,
                    k.kid
                );
            }
        }
        Ok(())
    }

    /// Retires `kid` (a `next` or `retiring` key): its tokens are refused within one re-read
    /// interval.
    pub async fn retire(&self, kid: &str) -> anyhow::Result<()> {
        let at = now();
        let before = self.store.read_keyring().await?;
        change_keyring(self.store, |ring| ring.retire(kid)).await?;
        if let Some(KeyState::Retiring { until }) =
            before.keys().iter().find(|k| k.kid == kid).map(|k| k.state)
        {
            if until > at {
                eprintln!(
                    "warning: {kid} was trusted until {until} ({} s from now); tokens it signed \
                     that have not expired yet are refused from now on",
                    until - at
                );
            }
        }
        println!("{kid} is retired: no function trusts it after its next keyring re-read.");
        Ok(())
    }

    /// Registers an existing KMS key (the stack's own, made by the template: its
    /// `SigningKeyArn` output) as the current key of an empty keyring. Adopting the key that is
    /// already current changes nothing.
    pub async fn adopt(&self, key_id: &str) -> anyhow::Result<()> {
        let key = fetch_public_key(self.kms, key_id).await?;
        let at = now();
        change_keyring(self.store, |ring| ring.adopt(key.clone(), at)).await?;
        println!(
            "{} ({}) is the current signing key",
            key.kid,
            key.alg.as_str()
        );
        Ok(())
    }
}

/// `keys list` output: one line per key, newest state first in the table's order.
pub fn describe(ring: &Keyring, now: i64) -> String {
    let mut out = format!(
        "keyring version {}\n{:<38} {:<6} {:<9} {:<24} {:<11} key ARN\n",
        ring.version(),
        "kid",
        "alg",
        "state",
        "until",
        "added"
    );
    for k in ring.keys() {
        let until = match k.state {
            KeyState::Retiring { until } if until > now => {
                format!("{until} (in {} s)", until - now)
            }
            KeyState::Retiring { until } => format!("{until} (passed)"),
            _ => "-".to_owned(),
        };
        out.push_str(&format!(
            "{:<38} {:<6} {:<9} {:<24} {:<11} {}\n",
            k.kid,
            k.alg.as_str(),
            k.state.as_str(),
            until,
            k.added_at,
            k.key_arn
        ));
    }
    if ring.keys().is_empty() {
        out.push_str("(empty: `tokengate keys adopt` after the first deploy)\n");
    }
    out
}
