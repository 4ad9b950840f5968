//! The authorizer as the deployed function builds it — `tokengate_aws::connect` for
//! `Function::Authorizer`, then `App::build(..).authorizer()` — on the AWS emulator over
//! loopback. Whatever the production composition root gives the authorizer (today the
//! per-request `BatchGetItem`; with the revocation feed, the in-memory view and its catch-ups)
//! is what gets measured, with no change here.
//!
//! The emulator is the test harness's `emulator-stack` (`tests/src/bin/emulator-stack.rs`,
//! built by `make bench` beside this bench): moto bootstrapped as `tokengate bootstrap` does it,
//! behind the harness's proxy, which lists every AWS call it forwarded — the read count.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;

use anyhow::Context;
use serde_json::Value;
use tokengate_aws::{connect, Clients, Function};
use tokengate_domain::config::Env;
use tokengate_domain::keyring::change_keyring;
use tokengate_domain::{Config, ManualClock};
use tokengate_handlers::app::App;
use tokengate_handlers::authorizer::Authorizer;

use crate::cases::{self, Case, NOW};

/// The running `emulator-stack` child; it stops the emulator when its stdin closes.
pub struct EmulatorStack {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    /// The proxy in front of the emulator: the SDK's endpoint.
    pub proxy: String,
    /// `TOKENGATE_*` settings of the bootstrapped stack (the table).
    pub settings: HashMap<String, String>,
}

impl Drop for EmulatorStack {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// Where `emulator-stack` is: `$TOKENGATE_EMULATOR_STACK`, else beside this bench's profile
/// directory (`target/release/deps/authorizer-*` → `target/release/emulator-stack`).
fn stack_binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("TOKENGATE_EMULATOR_STACK") {
        return Ok(path.into());
    }
    let exe = std::env::current_exe()?;
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .context("bench binary outside target/<profile>/deps")?;
    let path = profile_dir.join("emulator-stack");
    anyhow::ensure!(
        path.exists(),
        "{} not built (`cargo build --release -p tokengate-tests --bin emulator-stack`; \
         `make bench` builds it)",
        path.display()
    );
    Ok(path)
}

impl EmulatorStack {
    /// Starts the emulator, bootstrapped, behind the counting proxy.
    pub fn start() -> anyhow::Result<Self> {
        let mut child = Command::new(stack_binary()?)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting emulator-stack")?;
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().context("piped stdout")?);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let ready: Value = serde_json::from_str(&line).context("emulator-stack's first line")?;
        let settings = ready["settings"]
            .as_object()
            .context("settings")?
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
        Ok(Self {
            child,
            stdin,
            stdout,
            proxy: ready["proxy"].as_str().context("proxy")?.to_owned(),
            settings,
        })
    }

    /// The AWS operations forwarded since the last call (e.g. `DynamoDB_20120810.Query`),
    /// counted by operation name without the service prefix.
    pub fn forwarded(&mut self) -> anyhow::Result<HashMap<String, u64>> {
        let stdin = self.stdin.as_mut().context("stdin")?;
        writeln!(stdin, "forwarded")?;
        stdin.flush()?;
        let mut line = String::new();
        self.stdout.read_line(&mut line)?;
        let calls: Vec<Value> = serde_json::from_str(&line)?;
        let mut counts = HashMap::new();
        for call in calls {
            let op = call["operation"].as_str().unwrap_or("unknown");
            let op = op.rsplit('.').next().unwrap_or(op).to_owned();
            *counts.entry(op).or_default() += 1;
        }
        Ok(counts)
    }

    /// Points this process's AWS SDK at the proxy, with the emulator's dummy credentials, so
    /// that `Clients::from_env` — the deployed functions' client construction, with their
    /// timeouts and retries — is what the bench uses. Call before any thread starts.
    pub fn export_sdk_env(&self) {
        for name in [
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_ENDPOINT_URL_DYNAMODB",
            "AWS_ENDPOINT_URL_KMS",
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        ] {
            std::env::remove_var(name);
        }
        for (name, value) in [
            ("AWS_ENDPOINT_URL", self.proxy.as_str()),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ] {
            std::env::set_var(name, value);
        }
    }

    /// The authorizer of the deployed function on this stack, its clock `clock`. Before it is
    /// built (its cold start reads the keyring, and with the feed the feed's window): the
    /// bench's keys join the keyring as `next` keys, the tokens' user exists, and 100 other
    /// tokens are logged out (what a busy stack's denylist and feed hold).
    pub async fn authorizer(
        &self,
        es: &Case,
        rs: &Case,
        clock: Arc<ManualClock>,
    ) -> anyhow::Result<Authorizer> {
        let mut settings = self.settings.clone();
        settings.insert("TOKENGATE_ISSUER".into(), "https://auth.bench".into());
        settings.insert("TOKENGATE_AUDIENCE".into(), "api".into());
        settings.insert("TOKENGATE_ROUTE_ROLES".into(), cases::ROUTE_ROLES.into());
        let config = Config::read(&Env::from_fn(|name| settings.get(name).cloned()))?;
        let clients = Clients::from_env().await;
        // The setup writes through the adapters a revoking function (logout) is given.
        let setup = connect(&clients, &config, Function::Logout, clock.clone()).await?;
        let store = setup.store.context("logout's adapters have the store")?;
        store.create_user(&cases::user()).await?;
        change_keyring(&*store, |ring| {
            ring.add_next(es.keyring_entry(), NOW)?;
            ring.add_next(rs.keyring_entry(), NOW)
        })
        .await?;
        for i in 0..100 {
            store
                .deny(&format!("logged-out-{i:03}"), NOW + 900 + 31)
                .await?;
        }
        let adapters = connect(&clients, &config, Function::Authorizer, clock).await?;
        App::build(config, adapters).authorizer()
    }
}
