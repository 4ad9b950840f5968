//! The stack of `make dev` (`scripts/dev.sh`: the emulator, `cargo lambda watch` with every
//! function, the local API gateway running the authorizer) on free ports, and an HTTP client
//! that remembers every secret it was handed, so the log check can look for all of them.

use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderMap;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use serde_json::{json, Value};
use tokengate_tests::faults::FaultProxy;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Access tokens live this long in the e2e stack, so expiry can be watched.
pub const ACCESS_TTL: u64 = 4;
/// Grace window of the e2e stack.
pub const GRACE: u64 = 1;
/// The seeded demo users (`tokengate seed-demo`).
pub const ALICE: (&str, &str) = ("alice", "alice-demo-password");
pub const ADMIN: (&str, &str) = ("admin", "admin-demo-password");

pub struct DevStack {
    child: Mutex<Option<Child>>,
    /// Where dev.sh keeps the stack's state and logs.
    pub state: String,
    /// Base URL of the gateway (serving at the root, as a custom domain).
    pub url: String,
    /// Base URL of the second gateway, serving under the stage as the execute-api URL does
    /// (`http://127.0.0.1:PORT/v1`).
    pub stage_url: String,
    /// Origin of the browser demo served as an app of its own (`http://127.0.0.1:PORT`), the
    /// first of the stack's allowed origins.
    pub app_url: String,
    /// Where `cargo lambda watch` serves the Invoke API.
    pub lambda_url: String,
    /// Between the functions and the emulator: takes AWS services down on demand.
    pub faults: FaultProxy,
    client: Client<HttpConnector, Full<Bytes>>,
    /// Every token, refresh token and password this run handled.
    secrets: Mutex<Vec<String>>,
    /// The function binaries and their modification times when the stack said it was ready.
    pub built_at_ready: Vec<(String, Option<SystemTime>)>,
}

/// The functions of the stack, as `cargo lambda watch` names them.
pub const FUNCTIONS: [&str; 7] = [
    "login",
    "refresh",
    "logout",
    "password",
    "authorizer",
    "jwks",
    "me",
];

/// Each function's debug binary and its modification time (`None` if it is missing).
pub fn function_binaries() -> Vec<(String, Option<SystemTime>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/debug");
    FUNCTIONS
        .iter()
        .map(|f| {
            let path = format!("{dir}/{f}");
            let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
            (path, modified)
        })
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    /// `name=value` of the `Set-Cookie` header, if any.
    pub cookie: Option<String>,
    pub body: Value,
}

impl DevStack {
    pub async fn start() -> Self {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let gateway = format!("127.0.0.1:{}", free_port());
        let stage_gateway = format!("127.0.0.1:{}", free_port());
        let app = format!("127.0.0.1:{}", free_port());
        let state = format!("{root}/target/e2e-state-{}", std::process::id());
        let moto_port = free_port();
        let lambda_port = free_port();
        let faults = FaultProxy::start(&format!("http://127.0.0.1:{moto_port}")).await;
        let mut dev = Command::new("scripts/dev.sh");
        // Cargo gives this test process the variables of the package under test
        // (`CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`, …). Build scripts such as ring's declare
        // `rerun-if-env-changed` on them, so dev.sh's `cargo build` would see them changed and
        // rebuild ring, rustls and the AWS SDK's HTTP stack that `cargo test` just built. Start
        // dev.sh with the environment a user's shell has.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("CARGO_PKG_")
                || name.starts_with("CARGO_MANIFEST_")
                || [
                    "CARGO_CRATE_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                ]
                .contains(&name.as_ref())
            {
                dev.env_remove(name.as_ref());
            }
        }
        let mut child = dev
            .current_dir(root)
            .env("MOTO_PORT", moto_port.to_string())
            .env("LAMBDA_PORT", lambda_port.to_string())
            .env("FUNCTIONS_AWS_ENDPOINT_URL", &faults.url)
            .env("GATEWAY_ADDR", &gateway)
            .env("STAGE_GATEWAY_ADDR", &stage_gateway)
            .env("APP_ADDR", &app)
            .env("DEV_STATE", &state)
            .env("TOKENGATE_ACCESS_TTL_SECONDS", ACCESS_TTL.to_string())
            .env("TOKENGATE_REFRESH_GRACE_SECONDS", GRACE.to_string())
            .env("TOKENGATE_LEEWAY_SECONDS", "0")
            .env("TOKENGATE_AUTHORIZER_CACHE_TTL", "0")
            .env(
                "TOKENGATE_KEYRING_REFRESH_SECONDS",
                crate::rotation::KEYRING_REFRESH_SECS.to_string(),
            )
            // Every request comes from 127.0.0.1: the per-IP login limit is not under test here.
            .env("TOKENGATE_IP_LIMIT", "10000")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .expect("scripts/dev.sh starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(Duration::from_secs(900), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.starts_with("Press Ctrl-C") {
                    return true;
                }
            }
            false
        })
        .await;
        if ready != Ok(true) {
            // Stop whatever did start (dev.sh's group) before giving up.
            if let Some(pid) = child.id() {
                let _ = std::process::Command::new("kill")
                    .args(["-TERM", "--", &format!("-{pid}")])
                    .status();
            }
            panic!("the dev stack did not come up (logs in {state})");
        }
        // Keep draining dev.sh's output so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            child: Mutex::new(Some(child)),
            state,
            url: format!("http://{gateway}"),
            stage_url: format!("http://{stage_gateway}/v1"),
            app_url: format!("http://{app}"),
            lambda_url: format!("http://127.0.0.1:{lambda_port}"),
            faults,
            client: Client::builder(hyper_util::rt::TokioExecutor::new()).build_http(),
            secrets: Mutex::new(vec![ALICE.1.to_owned(), ADMIN.1.to_owned()]),
            built_at_ready: function_binaries(),
        }
    }

    /// Stops dev.sh and its children; keeps the logs if `keep_logs`.
    pub fn stop(&self, keep_logs: bool) {
        // dev.sh runs in its own process group; it stops its children on TERM.
        if let Some(pid) = self.child.lock().unwrap().take().and_then(|c| c.id()) {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", "--", &format!("-{pid}")])
                .status();
            // Give dev.sh's trap a moment to stop its children before the group is gone.
            std::thread::sleep(Duration::from_millis(500));
        }
        if keep_logs {
            eprintln!("e2e: the stack's logs are in {}", self.state);
        } else {
            let _ = std::fs::remove_dir_all(&self.state);
        }
    }
}

impl Drop for DevStack {
    /// Reached only when starting failed half-way (the shared stack lives in a static and is
    /// stopped by `main`): stop what did start.
    fn drop(&mut self) {
        self.stop(true);
    }
}

impl DevStack {
    /// The concatenated logs of every process of the stack, the extra gateways' included.
    pub fn logs(&self) -> String {
        let mut files: Vec<String> = ["functions.log", "gateway.log", "emulator.log"]
            .iter()
            .map(|f| format!("{}/{f}", self.state))
            .collect();
        let extra = std::fs::read_dir(&self.state)
            .into_iter()
            .flatten()
            .flatten();
        files.extend(
            extra
                .map(|e| e.path().to_string_lossy().into_owned())
                .filter(|p| p.contains("/gateway-") && p.ends_with(".log")),
        );
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap_or_default())
            .collect()
    }

    /// Another gateway in front of the stack's functions, on a port the kernel picks, with
    /// `settings` (e.g. `TOKENGATE_GATEWAY_API=http`); it serves under the stage prefix unless
    /// they say otherwise. Logs to `<state>/gateway-<name>.log`; stopped on drop.
    pub async fn extra_gateway(&self, name: &str, settings: &[(&str, &str)]) -> ExtraGateway {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let log = format!("{}/gateway-{name}.log", self.state);
        let out = std::fs::File::create(&log).expect("gateway log file");
        let mut cmd = std::process::Command::new(format!("{root}/target/debug/tokengate-gateway"));
        cmd.current_dir(root)
            .env("TOKENGATE_GATEWAY_ADDR", "127.0.0.1:0")
            .env("TOKENGATE_LAMBDA_URL", &self.lambda_url)
            .env("TOKENGATE_TEMPLATE", format!("{root}/template.yaml"))
            .env_remove("TOKENGATE_GATEWAY_CUSTOM_DOMAIN")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log handle"))
            .stderr(out);
        for (k, v) in settings {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .expect("the gateway binary starts (dev.sh built it)");
        let mut gw = ExtraGateway {
            child,
            log,
            url: String::new(),
        };
        // The gateway prints the address the kernel gave it once it listens.
        for _ in 0..200 {
            let text = gw.log_text();
            if let Some(addr) = text
                .lines()
                .find_map(|l| l.strip_prefix("tokengate gateway listening on "))
                .and_then(|l| l.split_whitespace().next())
            {
                gw.url = addr.to_owned();
                return gw;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("gateway {name} did not start: {}", gw.log_text());
    }

    /// Every secret handed out or sent so far.
    pub fn secrets(&self) -> Vec<String> {
        self.secrets.lock().unwrap().clone()
    }

    /// Remembers a secret the run created outside [`Self::call`] (say, a forged token).
    pub fn remember(&self, secret: &str) {
        self.secrets.lock().unwrap().push(secret.to_owned());
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let body = body.map(|b| ("application/json", Bytes::from(b.to_string())));
        self.send(method, path, headers, body).await
    }

    /// A request with a raw body of the given content type.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, Bytes)>,
    ) -> Reply {
        self.send_to(&self.url, method, path, headers, body).await
    }

    /// A JSON request to the gateway at `base`.
    pub async fn call_at(
        &self,
        base: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let body = body.map(|b| ("application/json", Bytes::from(b.to_string())));
        self.send_to(base, method, path, headers, body).await
    }

    async fn send_to(
        &self,
        base: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, Bytes)>,
    ) -> Reply {
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(format!("{base}{path}"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = match body {
            Some((content_type, bytes)) => {
                req = req.header("content-type", content_type);
                bytes
            }
            None => Bytes::new(),
        };
        // dev.sh starts every function before it says it is ready: no call waits for a build.
        let resp = tokio::time::timeout(
            Duration::from_secs(60),
            self.client.request(req.body(Full::new(body)).unwrap()),
        )
        .await
        .expect("gateway answers")
        .expect("gateway reachable");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let cookie = headers
            .get("set-cookie")
            .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned());
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let mut secrets = self.secrets.lock().unwrap();
        for field in ["access_token", "refresh_token"] {
            if let Some(t) = body[field].as_str() {
                secrets.push(t.to_owned());
            }
        }
        if let Some((_, value)) = cookie.as_deref().and_then(|c| c.split_once('=')) {
            if !value.is_empty() {
                secrets.push(value.to_owned());
            }
        }
        drop(secrets);
        Reply {
            status,
            headers,
            cookie,
            body,
        }
    }

    pub async fn login(&self, (user, password): (&str, &str)) -> Reply {
        self.call(
            "POST",
            "/auth/login",
            &[],
            Some(json!({ "username": user, "password": password })),
        )
        .await
    }

    pub async fn me(&self, access: &str) -> Reply {
        let bearer = format!("Bearer {access}");
        self.call("GET", "/api/me", &[("authorization", &bearer)], None)
            .await
    }

    pub async fn refresh(&self, cookie: &str, origin: &str) -> Reply {
        self.call(
            "POST",
            "/auth/refresh",
            &[("cookie", cookie), ("origin", origin)],
            None,
        )
        .await
    }
}

/// A gateway process of its own in front of the stack's functions.
pub struct ExtraGateway {
    child: std::process::Child,
    log: String,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl ExtraGateway {
    /// What the gateway logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ExtraGateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The access token of a token response.
pub fn access(r: &Reply) -> String {
    r.body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("access token in {} {}", r.status, r.body))
        .to_owned()
}
