//! Test harness: a private AWS API emulator (`scripts/emulator.py`, moto handling one request
//! at a time) per test binary or test, SDK clients pointed at it, an SDK call counter, a
//! fault-injecting proxy, and the whole local API of `make dev` started piece by piece
//! ([`local_api::LocalApi`]: the functions on a local Lambda service, the local gateway).
//!
//! The emulator runs on the project's virtual environment (`.venv/bin/python3`, made by
//! `make venv`), or on `python3` from `PATH` if there is none; `$TOKENGATE_MOTO_SERVER` names
//! another emulator command taking `-H HOST -p PORT` instead.

pub mod binaries;
pub mod deployed;
pub mod faults;
pub mod gateway;
pub mod lambda;
pub mod local_api;
mod serve;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_kms::config::Credentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use tokengate_claims::Algorithm;

/// A running emulator on a loopback port of its own; killed on drop.
pub struct Emulator {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resources created by [`Emulator::bootstrap`].
#[derive(Debug, Clone)]
pub struct Bootstrapped {
    /// Table name.
    pub table: String,
    /// The revocation feed's table name.
    pub feed_table: String,
    /// The keyring's current signing key: its key id (`kid`).
    pub signing_key: String,
    /// MAC key id.
    pub mac_key: String,
}

impl Bootstrapped {
    /// Both tables, as a [`tokengate_aws::DynamoStore`] takes them.
    pub fn tables(&self) -> tokengate_aws::Tables {
        tokengate_aws::Tables {
            main: self.table.clone(),
            feed: self.feed_table.clone(),
        }
    }
}

/// The emulator command, before its `-H HOST -p PORT` arguments.
fn emulator_command() -> Command {
    if let Ok(command) = std::env::var("TOKENGATE_MOTO_SERVER") {
        return Command::new(command);
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let venv_python = root.join(".venv/bin/python3");
    let python = if venv_python.exists() {
        venv_python
    } else {
        "python3".into()
    };
    let mut command = Command::new(python);
    command.arg(root.join("scripts/emulator.py"));
    command
}

impl Emulator {
    /// Starts the emulator and waits until it answers.
    ///
    /// The emulator binds port 0 and reports the port the kernel gave it: a port picked by the
    /// test and handed over later could meanwhile be taken by another test's emulator, and the
    /// readiness check would then talk to the wrong one.
    pub async fn start() -> Self {
        Self::start_logging_to(None).await
    }

    /// [`Self::start`], keeping the emulator's request log in `log`.
    pub async fn start_logging_to(log: Option<std::path::PathBuf>) -> Self {
        let mut log = log.map(|path| std::fs::File::create(path).expect("emulator log file"));
        let mut command = emulator_command();
        // moto reads AWS_* and MOTO_* settings from its environment: they must not come from
        // whoever runs the tests. Only PATH stays, to find Python and what it starts.
        command.env_clear();
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        let mut child = command
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start the AWS emulator {command:?} ({e}); run `make venv` or set TOKENGATE_MOTO_SERVER")
            });
        let stderr = child.stderr.take().expect("piped stderr");
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        // The emulator logs every request to stderr: keep reading it until it exits, so it
        // never blocks on a full pipe.
        std::thread::spawn(move || {
            let prefix = " * Running on http://127.0.0.1:";
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(file) = log.as_mut() {
                    let _ = writeln!(file, "{line}");
                }
                if let Some(port) = line.strip_prefix(prefix) {
                    let _ = port_tx.send(port.trim().parse::<u16>().ok());
                }
            }
        });
        let port =
            tokio::task::spawn_blocking(move || port_rx.recv_timeout(Duration::from_secs(20)))
                .await
                .expect("port reader");
        // Owned from here on, so a failed start below stops the process (`Drop`).
        let mut emulator = Self {
            child,
            url: String::new(),
        };
        let Ok(Some(port)) = port else {
            panic!("the AWS emulator did not report its port within 20 s");
        };
        emulator.url = format!("http://127.0.0.1:{port}");
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return emulator;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the AWS emulator did not answer on port {port} within 20 s");
    }

    /// SDK configuration pointed at `url` (the emulator or a proxy in front of it).
    pub async fn sdk_config_for(url: &str) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(url)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .operation_attempt_timeout(Duration::from_secs(5))
                    .build(),
            )
            .load()
            .await
    }

    /// SDK configuration pointed at this emulator.
    pub async fn sdk_config(&self) -> SdkConfig {
        Self::sdk_config_for(&self.url).await
    }

    /// Creates the tables (as `tokengate bootstrap` does: `tokengate` and `tokengate-feed`)
    /// and returns their names: all a test of the DynamoDB adapter alone needs.
    pub async fn tables(&self) -> tokengate_aws::Tables {
        let ddb = aws_sdk_dynamodb::Client::new(&self.sdk_config().await);
        let tables = tokengate_aws::Tables::local("tokengate");
        tokengate_aws::bootstrap::ensure_tables(&ddb, &tables)
            .await
            .expect("tables created");
        tables
    }

    /// Creates the tables, the KMS keys and the keyring (an ES256 signing key, current, unless
    /// `alg` says otherwise), as `tokengate bootstrap` does.
    pub async fn bootstrap(&self, alg: Algorithm) -> Bootstrapped {
        let tables = self.tables().await;
        let sdk = self.sdk_config().await;
        let kms = aws_sdk_kms::Client::new(&sdk);
        let store = tokengate_aws::DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            tables.clone(),
            tokengate_domain::revocation_feed::FeedLife::default(),
            Arc::new(tokengate_domain::SystemClock),
        );
        let mac_key = tokengate_aws::bootstrap::ensure_mac_key(&kms)
            .await
            .expect("MAC key created");
        let now = tokengate_domain::Clock::now(&tokengate_domain::SystemClock);
        let ring = tokengate_aws::bootstrap::ensure_signing_key(&kms, &store, alg, "tests", now)
            .await
            .expect("signing key created and adopted");
        let signing_key = ring.current().expect("a current key").kid.clone();
        Bootstrapped {
            table: tables.main,
            feed_table: tables.feed,
            signing_key,
            mac_key,
        }
    }
}

/// Counts SDK requests sent (attempts, so retries count), per operation name.
#[derive(Debug, Default, Clone)]
pub struct CallCounter {
    calls: Arc<Mutex<HashMap<String, usize>>>,
}

impl CallCounter {
    /// Total requests sent so far.
    pub fn total(&self) -> usize {
        self.calls.lock().map(|c| c.values().sum()).unwrap_or(0)
    }
    /// Requests per operation.
    pub fn by_operation(&self) -> HashMap<String, usize> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
    /// Forgets everything counted.
    pub fn reset(&self) {
        if let Ok(mut c) = self.calls.lock() {
            c.clear();
        }
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_transmit(
        &self,
        _ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = cfg
            .load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
            .map(|m| m.name().to_owned())
            .unwrap_or_else(|| "unknown".to_owned());
        if let Ok(mut c) = self.calls.lock() {
            *c.entry(op).or_default() += 1;
        }
        Ok(())
    }
}

/// A DynamoDB client with `counter` attached.
pub fn counted_ddb(sdk: &SdkConfig, counter: &CallCounter) -> aws_sdk_dynamodb::Client {
    let conf = aws_sdk_dynamodb::config::Builder::from(sdk)
        .interceptor(counter.clone())
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

/// A KMS client with `counter` attached.
pub fn counted_kms(sdk: &SdkConfig, counter: &CallCounter) -> aws_sdk_kms::Client {
    let conf = aws_sdk_kms::config::Builder::from(sdk)
        .interceptor(counter.clone())
        .build();
    aws_sdk_kms::Client::from_conf(conf)
}
