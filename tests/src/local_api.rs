//! The whole API on this machine, what `make dev` runs, started piece by piece from the tests:
//! the emulator with the table and keys, the demo users (`tokengate seed-demo`), a fault proxy
//! between the functions and the emulator, every function on the local Lambda service, and the
//! local API gateway — each on a port the kernel picks and configured explicitly.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokengate_claims::Algorithm;

use crate::binaries::{build, debug_binary, FUNCTIONS};
use crate::faults::FaultProxy;
use crate::gateway::{Gateway, PARAMETERS};
use crate::lambda::{FunctionConfig, Lambda};
use crate::{Bootstrapped, Emulator};

const REGION: &str = "us-east-1";

/// The authorizer function; its AWS calls reach the fault proxy through an entrance of this
/// name ([`FaultProxy::entrance`]).
pub const AUTHORIZER: &str = "authorizer";

/// What differs from `make dev`'s settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `TOKENGATE_ACCESS_TTL_SECONDS`.
    pub access_ttl: u64,
    /// `TOKENGATE_REFRESH_GRACE_SECONDS`.
    pub grace: u64,
    /// `TOKENGATE_LEEWAY_SECONDS`.
    pub leeway: u64,
    /// `TOKENGATE_IP_LIMIT`.
    pub ip_limit: u64,
    /// `TOKENGATE_KEYRING_REFRESH_SECONDS`.
    pub keyring_refresh: u64,
    /// The main gateway's `TOKENGATE_AUTHORIZER_CACHE_TTL`.
    pub authorizer_cache_ttl: u64,
    /// Logs go here, one file per process (per function: its log group).
    pub state: PathBuf,
}

/// The running API; every process stops on drop.
pub struct LocalApi {
    /// The gateway, at the root as a custom domain serves the API (`http://127.0.0.1:PORT`).
    pub gateway: Gateway,
    /// A second gateway under the stage prefix, as the execute-api URL serves the API, which
    /// also serves the browser demo as an app of its own at [`Self::app_url`].
    pub stage_gateway: Gateway,
    /// The demo app's origin (`http://localhost:PORT`), the first allowed origin.
    pub app_url: String,
    /// The functions' Invoke API.
    pub lambda: Lambda,
    /// Between the functions and the emulator: takes AWS services down on demand, and logs
    /// every call it forwarded (the authorizer's by the caller [`AUTHORIZER`]).
    pub faults: FaultProxy,
    /// The table and keys.
    pub boot: Bootstrapped,
    /// Where the logs are.
    pub state: PathBuf,
    /// Last, so it stops after everything that talks to it.
    pub emulator: Emulator,
}

impl LocalApi {
    /// Builds what is not built yet, then starts everything.
    pub async fn start(settings: Settings) -> Self {
        build().await;
        std::fs::create_dir_all(&settings.state).expect("state directory");
        let state = settings.state.clone();
        let emulator = Emulator::start_logging_to(Some(state.join("emulator.log"))).await;
        let boot = emulator.bootstrap(Algorithm::ES256).await;
        seed_demo_users(&aws_settings(&emulator.url, &boot), &state).await;
        let faults = FaultProxy::start(&emulator.url).await;
        let lambda = Lambda::start(&state, REGION).await;
        let cache_ttl = settings.authorizer_cache_ttl.to_string();
        // The app's origin must be known before anything starts (it is the first allowed
        // origin, which the gateway responses grant): a port the kernel handed out and took
        // back, free again unless another process grabs it in between.
        let app_port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let app_url = format!("http://localhost:{app_port}");
        let parameters = format!("AllowedOrigins={app_url}");
        let gateway = Gateway::start(
            &lambda.url,
            &[
                ("TOKENGATE_GATEWAY_CUSTOM_DOMAIN", "localhost"),
                ("TOKENGATE_AUTHORIZER_CACHE_TTL", &cache_ttl),
                (PARAMETERS, &parameters),
            ],
            &state.join("gateway.log"),
        )
        .await;
        let stage_gateway = Gateway::start(
            &lambda.url,
            &[
                ("TOKENGATE_APP_ADDR", &format!("127.0.0.1:{app_port}")),
                ("TOKENGATE_AUTHORIZER_CACHE_TTL", &cache_ttl),
                (PARAMETERS, &parameters),
            ],
            &state.join("gateway-v1.log"),
        )
        .await;
        let port = gateway.url.rsplit(':').next().expect("port").to_owned();
        // The functions reach AWS through the fault proxy; everything else as `make dev` sets it.
        let mut environment = aws_settings(&faults.url, &boot);
        for (k, v) in [
            (
                "TOKENGATE_REFRESH_MAC_KEY",
                tokengate_aws::bootstrap::MAC_ALIAS,
            ),
            (
                "TOKENGATE_KEYRING_REFRESH_SECONDS",
                &settings.keyring_refresh.to_string(),
            ),
            ("TOKENGATE_ISSUER", &format!("http://localhost:{port}")),
            ("TOKENGATE_AUDIENCE", "api"),
            (
                "TOKENGATE_ACCESS_TTL_SECONDS",
                &settings.access_ttl.to_string(),
            ),
            (
                "TOKENGATE_REFRESH_GRACE_SECONDS",
                &settings.grace.to_string(),
            ),
            ("TOKENGATE_LEEWAY_SECONDS", &settings.leeway.to_string()),
            ("TOKENGATE_IP_LIMIT", &settings.ip_limit.to_string()),
            (
                "TOKENGATE_ALLOWED_ORIGINS",
                // As `make dev`: the app first, then the root gateway's own origin.
                &format!(
                    "{app_url},http://127.0.0.1:{app_port},http://localhost:{port},http://127.0.0.1:{port}"
                ),
            ),
            ("TOKENGATE_ROUTE_ROLES", "GET /api/me=;* /api/admin/*=admin"),
            // As `make dev`: scopes and a native client the interop test logs in with; requests
            // without `client_id` keep the built-in default client.
            ("TOKENGATE_SCOPES", "profile:read=;orders:read=;orders:write=admin"),
            (
                "TOKENGATE_CLIENTS",
                "id=cli,kind=native,scopes=profile:read orders:read orders:write,\
                 default=profile:read,resources=api",
            ),
            ("RUST_LOG", "info"),
        ] {
            environment.push((k.to_owned(), v.to_owned()));
        }
        // The functions' settings, as `make dev` keeps them in `.dev/env`: what the admin CLI and
        // the tests' signing forge need to reach the same table and keys.
        let env_file: String = environment
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect();
        std::fs::write(state.join("env"), env_file).expect("the env file");
        // The authorizer reaches the same proxy through an entrance of its own, so that its
        // DynamoDB reads can be counted apart from the other functions' (the e2e load case).
        let authorizer_aws = faults.entrance(AUTHORIZER).await;
        for name in FUNCTIONS {
            let mut environment = environment.clone();
            if name == AUTHORIZER {
                for (k, v) in &mut environment {
                    if k == "AWS_ENDPOINT_URL" {
                        v.clone_from(&authorizer_aws);
                    }
                }
            }
            lambda.deploy(FunctionConfig {
                name: name.to_owned(),
                binary: debug_binary(name),
                memory_mb: 128,
                // Debug builds, two shared cores: far more than the template's 10 s.
                timeout: Duration::from_secs(60),
                environment,
            });
        }
        Self {
            gateway,
            stage_gateway,
            app_url,
            lambda,
            faults,
            boot,
            state,
            emulator,
        }
    }
}

/// Where AWS is, and the tables.
fn aws_settings(endpoint: &str, boot: &Bootstrapped) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("TOKENGATE_TABLE", &boot.table),
        ("TOKENGATE_FEED_TABLE", &boot.feed_table),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec()
}

/// `tokengate seed-demo`, as `make dev` runs it.
async fn seed_demo_users(aws: &[(String, String)], state: &Path) {
    let out = std::fs::File::create(state.join("demo-users.txt")).expect("seed output");
    let status = tokio::process::Command::new(debug_binary("tokengate"))
        .arg("seed-demo")
        .env_clear()
        .envs(aws.iter().map(|(k, v)| (k, v)))
        .stdout(out)
        .status()
        .await
        .expect("the admin CLI runs");
    assert!(status.success(), "tokengate seed-demo failed");
}
