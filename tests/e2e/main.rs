//! End to end over HTTP, exactly as deployed: `scripts/dev.sh` (the stack of `make dev`: the
//! emulator, `cargo lambda watch` with every function, the local API gateway running the
//! authorizer) on free ports, driven like a client would.

use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Access tokens live this long in the e2e stack, so expiry can be watched.
const ACCESS_TTL: u64 = 4;
/// Grace window of the e2e stack.
const GRACE: u64 = 1;

struct DevStack {
    child: Child,
    state: String,
    url: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Drop for DevStack {
    fn drop(&mut self) {
        // dev.sh runs in its own process group; it stops its children on TERM.
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", "--", &format!("-{pid}")])
                .status();
            // Give dev.sh's trap a moment to stop its children before the group is gone.
            std::thread::sleep(Duration::from_millis(500));
        }
        // Keep the logs of a failed run for inspection.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.state);
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Reply {
    status: u16,
    cookie: Option<String>,
    body: Value,
}

impl DevStack {
    async fn start() -> Self {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let gateway = format!("127.0.0.1:{}", free_port());
        let state = format!("{root}/target/e2e-state-{}", std::process::id());
        let mut child = Command::new("scripts/dev.sh")
            .current_dir(root)
            .env("MOTO_PORT", free_port().to_string())
            .env("LAMBDA_PORT", free_port().to_string())
            .env("GATEWAY_ADDR", &gateway)
            .env("DEV_STATE", &state)
            .env("TOKENGATE_ACCESS_TTL_SECONDS", ACCESS_TTL.to_string())
            .env("TOKENGATE_REFRESH_GRACE_SECONDS", GRACE.to_string())
            .env("TOKENGATE_LEEWAY_SECONDS", "0")
            .env("TOKENGATE_AUTHORIZER_CACHE_TTL", "0")
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
        assert_eq!(
            ready,
            Ok(true),
            "the dev stack did not come up (logs in {state})"
        );
        // Keep draining dev.sh's output so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            child,
            state,
            url: format!("http://{gateway}"),
            client: Client::builder(hyper_util::rt::TokioExecutor::new()).build_http(),
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                Bytes::from(b.to_string())
            }
            None => Bytes::new(),
        };
        // The first call to each function compiles it under `cargo lambda watch`.
        let resp = tokio::time::timeout(
            Duration::from_secs(600),
            self.client.request(req.body(Full::new(body)).unwrap()),
        )
        .await
        .expect("gateway answers")
        .expect("gateway reachable");
        let status = resp.status().as_u16();
        let cookie = resp
            .headers()
            .get("set-cookie")
            .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned());
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            cookie,
            body,
        }
    }

    async fn login(&self, user: &str, password: &str) -> Reply {
        self.call(
            "POST",
            "/auth/login",
            &[],
            Some(json!({ "username": user, "password": password })),
        )
        .await
    }

    async fn me(&self, access: &str) -> Reply {
        let bearer = format!("Bearer {access}");
        self.call("GET", "/api/me", &[("authorization", &bearer)], None)
            .await
    }

    async fn refresh(&self, cookie: &str, origin: &str) -> Reply {
        self.call(
            "POST",
            "/auth/refresh",
            &[("cookie", cookie), ("origin", origin)],
            None,
        )
        .await
    }
}

fn access(r: &Reply) -> String {
    r.body["access_token"]
        .as_str()
        .expect("access token")
        .to_owned()
}

#[tokio::test]
async fn the_whole_flow_over_http() {
    let stack = DevStack::start().await;
    let origin = stack.url.clone();

    // Warm-up: `cargo lambda watch` starts each function on its first invocation, which can
    // take longer than the short token lifetime of this stack. Touch every function once.
    let mut warm = stack.login("admin", "admin-demo-password").await;
    for _ in 0..2 {
        warm = stack.login("admin", "admin-demo-password").await;
        assert_eq!(warm.status, 200, "{}", warm.body);
        stack.me(&access(&warm)).await;
    }
    let warm_cookie = warm.cookie.clone().unwrap();
    stack.refresh(&warm_cookie, &origin).await;
    stack
        .call(
            "POST",
            "/auth/logout",
            &[],
            Some(json!({ "refresh_token": "x" })),
        )
        .await;

    // login → /api/me 200
    let login = stack.login("alice", "alice-demo-password").await;
    assert_eq!(login.status, 200, "{}", login.body);
    let cookie = login.cookie.clone().expect("refresh cookie");
    assert!(cookie.starts_with("__Secure-refresh_token="));
    let me = stack.me(&access(&login)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["roles"], json!([]));

    // wait for expiry → 401
    tokio::time::sleep(Duration::from_secs(ACCESS_TTL + 2)).await;
    assert_eq!(stack.me(&access(&login)).await.status, 401);

    // a foreign page cannot refresh with the cookie
    let csrf = stack.refresh(&cookie, "https://evil.example").await;
    assert_eq!(csrf.status, 403);
    assert_eq!(csrf.body["error"], "csrf_rejected");

    // refresh with the cookie → retry 200
    let refreshed = stack.refresh(&cookie, &origin).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let cookie2 = refreshed.cookie.clone().expect("rotated cookie");
    assert_ne!(cookie2, cookie);
    assert_eq!(stack.me(&access(&refreshed)).await.status, 200);

    // logout → 401 and refresh refused
    let bearer = format!("Bearer {}", access(&refreshed));
    let logout = stack
        .call(
            "POST",
            "/auth/logout",
            &[
                ("cookie", &cookie2),
                ("origin", &origin),
                ("authorization", &bearer),
            ],
            None,
        )
        .await;
    assert_eq!(logout.status, 204);
    assert!(logout.cookie.as_deref() == Some("__Secure-refresh_token="));
    assert_eq!(
        stack.me(&access(&refreshed)).await.status,
        401,
        "denylisted"
    );
    let dead = stack.refresh(&cookie2, &origin).await;
    assert_eq!(dead.status, 401);
    assert_eq!(dead.body["error"], "invalid_refresh_token");

    // reuse detection: replaying a rotated token after the grace window kills the family
    let login = stack.login("alice", "alice-demo-password").await;
    let c0 = login.cookie.clone().unwrap();
    let r1 = stack.refresh(&c0, &origin).await;
    assert_eq!(r1.status, 200);
    tokio::time::sleep(Duration::from_secs(GRACE + 2)).await;
    let replay = stack.refresh(&c0, &origin).await;
    assert_eq!(replay.status, 401);
    assert_eq!(replay.body["error"], "refresh_token_reused");
    let newest = stack.refresh(&r1.cookie.clone().unwrap(), &origin).await;
    assert_eq!(newest.body["error"], "invalid_refresh_token");

    // global logout ends every session of the user
    let a = stack.login("admin", "admin-demo-password").await;
    let b = stack.login("admin", "admin-demo-password").await;
    assert_eq!(stack.me(&access(&b)).await.body["roles"], json!(["admin"]));
    let global = stack
        .call(
            "POST",
            "/auth/logout",
            &[
                ("cookie", a.cookie.as_deref().unwrap()),
                ("origin", &origin),
            ],
            Some(json!({ "scope": "global" })),
        )
        .await;
    assert_eq!(global.status, 204);
    assert_eq!(stack.me(&access(&b)).await.status, 401);
    let b_refresh = stack.refresh(b.cookie.as_deref().unwrap(), &origin).await;
    assert_eq!(b_refresh.body["error"], "session_expired");

    // the gateway answers like API Gateway for what it does not route
    assert_eq!(stack.call("GET", "/nope", &[], None).await.status, 403);
    assert_eq!(stack.call("GET", "/api/me", &[], None).await.status, 401);

    // No secret reached a log line: tokens, refresh cookies, passwords.
    let mut secrets = vec![
        "alice-demo-password".to_owned(),
        "admin-demo-password".to_owned(),
        access(&refreshed),
        access(&a),
        access(&b),
    ];
    for c in [
        &cookie,
        &cookie2,
        &c0,
        a.cookie.as_ref().unwrap(),
        b.cookie.as_ref().unwrap(),
    ] {
        secrets.push(c.split_once('=').unwrap().1.to_owned());
    }
    let mut logs = String::new();
    for file in ["functions.log", "gateway.log", "emulator.log"] {
        logs.push_str(
            &std::fs::read_to_string(format!("{}/{file}", stack.state)).unwrap_or_default(),
        );
    }
    assert!(
        logs.contains("login_succeeded"),
        "the functions' logs were captured"
    );
    assert!(
        logs.contains("refresh_token_reused"),
        "security events are logged by name"
    );
    for secret in &secrets {
        // The refresh secret is the part after the session id; the id itself is not secret.
        let needle = secret.rsplit('.').next().unwrap();
        assert!(!logs.contains(needle), "a secret reached the logs");
    }
}
