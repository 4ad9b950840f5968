//! The local API of `make dev` (`tokengate_tests::local_api`: the emulator, every function on
//! the local Lambda service, the local API gateway running the authorizer) on ports the kernel
//! picks, and an HTTP client that remembers every secret it was handed, so the log check can
//! look for all of them.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderMap;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use serde_json::{json, Value};
use tokengate_tests::binaries::workspace_root;
use tokengate_tests::gateway::Gateway;
use tokengate_tests::local_api::{LocalApi, Settings};

/// Access tokens live this long in the e2e stack, so expiry can be watched.
pub const ACCESS_TTL: u64 = 4;
/// Grace window of the e2e stack.
pub const GRACE: u64 = 1;
/// The seeded demo users (`tokengate seed-demo`).
pub const ALICE: (&str, &str) = ("alice", "alice-demo-password");
pub const ADMIN: (&str, &str) = ("admin", "admin-demo-password");

/// A revocation is refused by every authorizer instance within this long of the revoking
/// write's answer: each catches up with the revocation feed at most every 0.9 s of requests
/// (issue 25; the gateway's authorizer cache, off here, would add its TTL).
pub const REVOCATION_BOUND: Duration = Duration::from_secs(1);

/// The local API and a client of it.
pub struct Stack {
    /// Stopped by [`Self::stop`] (the stack lives in a static, which is never dropped).
    api: Mutex<Option<LocalApi>>,
    /// Where the logs are.
    pub state: PathBuf,
    /// Base URL of the gateway (serving at the root, as a custom domain).
    pub url: String,
    /// Base URL of the second gateway, serving under the stage as the execute-api URL does
    /// (`http://127.0.0.1:PORT/v1`).
    pub stage_url: String,
    /// Origin of the browser demo served as an app of its own (`http://127.0.0.1:PORT`), the
    /// first of the stack's allowed origins.
    pub app_url: String,
    /// Where the functions' Invoke API is.
    pub lambda_url: String,
    client: Client<HttpConnector, Full<Bytes>>,
    /// Every token, refresh token and password this run handled.
    secrets: Mutex<Vec<String>>,
}

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    /// `name=value` of the `Set-Cookie` header, if any.
    pub cookie: Option<String>,
    pub body: Value,
}

impl Stack {
    pub async fn start() -> Self {
        let state = workspace_root().join(format!("target/e2e-state-{}", std::process::id()));
        let api = LocalApi::start(Settings {
            access_ttl: ACCESS_TTL,
            grace: GRACE,
            leeway: 0,
            keyring_refresh: crate::rotation::KEYRING_REFRESH_SECS,
            // Every request comes from 127.0.0.1: the per-IP login limit is not under test here.
            ip_limit: 10_000,
            authorizer_cache_ttl: 0,
            state: state.clone(),
        })
        .await;
        Self {
            state,
            url: api.gateway.url.clone(),
            stage_url: format!("{}/v1", api.stage_gateway.url),
            app_url: api.app_url.clone(),
            lambda_url: api.lambda.url.clone(),
            api: Mutex::new(Some(api)),
            client: Client::builder(hyper_util::rt::TokioExecutor::new()).build_http(),
            secrets: Mutex::new(vec![ALICE.1.to_owned(), ADMIN.1.to_owned()]),
        }
    }

    /// Stops every process; keeps the logs if `keep_logs`.
    pub fn stop(&self, keep_logs: bool) {
        drop(self.api.lock().unwrap().take());
        if keep_logs {
            eprintln!("e2e: the stack's logs are in {}", self.state.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.state);
        }
    }

    /// Runs `f` on the running API (its fault proxy, its Lambda service).
    pub fn with_api<T>(&self, f: impl FnOnce(&LocalApi) -> T) -> T {
        f(self.api.lock().unwrap().as_ref().expect("the stack runs"))
    }

    /// The concatenated logs of every process of the stack, the extra gateways' included.
    pub fn logs(&self) -> String {
        let files = std::fs::read_dir(&self.state)
            .into_iter()
            .flatten()
            .flatten();
        files
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .collect()
    }

    /// Another gateway in front of the stack's functions (see [`LocalApi::extra_gateway`]).
    pub async fn extra_gateway(&self, name: &str, settings: &[(&str, &str)]) -> Gateway {
        let lambda = self.lambda_url.clone();
        let log = self.state.join(format!("gateway-{name}.log"));
        Gateway::start(&lambda, settings, &log).await
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
        // A cold start of a debug function takes a moment; a build would take minutes.
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
        for field in ["access_token", "refresh_token", "device"] {
            if let Some(t) = body[field].as_str() {
                secrets.push(t.to_owned());
            }
        }
        // Every cookie set: the refresh cookie and the device cookie.
        for set in headers.get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            if let Some((_, value)) = pair.split_once('=') {
                if !value.is_empty() {
                    secrets.push(value.to_owned());
                }
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

    /// Polls `/api/me` with the revoked `token` until an authorizer refuses it (401); `since`
    /// is when the revoking write answered. A request sent [`REVOCATION_BOUND`] after it or
    /// later must not be accepted, and the token must not have expired by the refusal (which
    /// would prove only its expiry). Returns when the refused request was sent, after `since`.
    pub async fn refused_after_revocation(&self, token: &str, since: Instant) -> Duration {
        let expires = Duration::from_secs(expiry(token));
        loop {
            let sent = Instant::now();
            let me = self.me(token).await;
            let after = sent.duration_since(since);
            match me.status {
                200 => assert!(
                    after < REVOCATION_BOUND,
                    "a revoked token was accepted {} ms after the revocation's answer",
                    after.as_millis()
                ),
                401 => {
                    assert!(
                        unix_now() < expires,
                        "the token expired before it was refused: too slow to tell revocation \
                         from expiry (access tokens live {ACCESS_TTL} s here)"
                    );
                    return after;
                }
                other => panic!("a revoked token got {other}: {}", me.body),
            }
        }
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

/// The access token of a token response.
pub fn access(r: &Reply) -> String {
    r.body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("access token in {} {}", r.status, r.body))
        .to_owned()
}

/// The access token's `exp`.
pub fn expiry(token: &str) -> u64 {
    let claims = token.split('.').nth(1).expect("a JWT");
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims)
        .expect("base64url claims");
    let claims: Value = serde_json::from_slice(&claims).expect("JSON claims");
    claims["exp"].as_u64().expect("exp")
}

/// The system clock, as `exp` counts.
pub fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
}
