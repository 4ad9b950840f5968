//! The fuzz targets' oracles, one function per target of `fuzz/fuzz_targets/`. Each takes the
//! target's raw input bytes, exactly as libFuzzer hands them over, and panics when an oracle
//! fails; the coverage-guided run (`make fuzz`) and the replay test call the same functions.

use std::sync::OnceLock;

use crate::memory::MemoryRig;
use crate::paths::backend_reading;
use crate::rule_oracle::RouteOracle;
use arbitrary::{Arbitrary, Unstructured};
use base64::Engine;
use serde_json::{json, Value};
use tokengate_claims::Verifier;
use tokengate_handlers::authorizer::Authorizer;
use tokengate_handlers::http::strip_bearer;
use tokengate_handlers::iam::{self, Decision, Reading};
use tokengate_handlers::{login, logout, refresh};

/// A fuzz target's oracles: panics if the input breaks one.
pub type Oracle = fn(&Harness, &[u8]);

/// The fuzz targets, by the name of their directory under `fuzz/seeds/`.
pub const TARGETS: &[(&str, Oracle)] = &[
    ("token", token),
    ("http_request", http_request),
    ("authorizer_event", authorizer_event),
];

/// Every stable error code of DESIGN.md; a response may carry no other.
pub const ERROR_CODES: &[&str] = &[
    "invalid_request",
    "payload_too_large",
    "invalid_credentials",
    "account_locked",
    "rate_limited",
    "invalid_refresh_token",
    "refresh_token_reused",
    "session_expired",
    "csrf_rejected",
    "service_unavailable",
    "weak_password",
    "invalid_client",
    "invalid_scope",
    "invalid_target",
    "invalid_grant",
];

/// One in-memory tokengate (the twins the unit tests use), the authorizer over it, and one
/// genuine token of each kind.
pub struct Harness {
    /// Runs the async handlers; current-thread so a run is one deterministic sequence.
    pub runtime: tokio::runtime::Runtime,
    /// Login, refresh, logout and their stores.
    pub rig: MemoryRig,
    /// The authorizer trusting the rig's signer, with [`ROUTE_RULES`] and [`ROUTE_SCOPES`].
    pub authorizer: Authorizer,
    /// [`ROUTE_RULES`] and [`ROUTE_SCOPES`] as the reference implementation reads them: the
    /// oracle's judge of what the authorizer may allow (never the authorizer's own
    /// `RoutePolicy`).
    pub rules: RouteOracle,
    /// A valid access token for `alice`.
    pub access_token: String,
    /// A valid refresh token of `alice`'s session (it rotates as inputs use it).
    pub refresh_token: String,
}

impl Harness {
    /// A fresh harness: its own stores, clock and keys.
    pub fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (rig, grant) = runtime.block_on(async {
            let rig = MemoryRig::new().await;
            let grant = rig.login_alice().await;
            (rig, grant)
        });
        let authorizer = rig.authorizer_scoped(ROUTE_RULES, ROUTE_SCOPES);
        let rules =
            RouteOracle::parse(ROUTE_RULES, ROUTE_SCOPES).expect("the harness's rules parse");
        Self {
            runtime,
            access_token: grant.access.token,
            refresh_token: grant.refresh.expose(),
            rig,
            authorizer,
            rules,
        }
    }

    /// Replaces the placeholders `ACCESS_TOKEN` / `REFRESH_TOKEN` (as in `events/`) with genuine
    /// tokens, so that mutations of a seed reach the code behind a valid token.
    pub fn fill_placeholders(&self, text: &str) -> String {
        text.replace("ACCESS_TOKEN", &self.access_token)
            .replace("REFRESH_TOKEN", &self.refresh_token)
    }
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

/// The route rules of the harness's authorizer.
pub const ROUTE_RULES: &str = "GET /api/me=; GET /api/report=admin; * /api/admin/*=admin";

/// The route scopes of the harness's authorizer: `alice`'s token (the default client) has no
/// scope, so they refuse her the orders routes.
pub const ROUTE_SCOPES: &str = "GET /api/orders/{id}=orders:read; * /api/orders/*=orders:write";

/// The harness of a fuzzing process, built on first use and kept for every input.
pub fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(Harness::new)
}

/// The token parser and verifier on hostile input. Two modes, by the first byte:
/// - odd: the rest is the token text, as an attacker would send it;
/// - even: the rest is XORed over a genuine token, exploring near-valid tokens (header and
///   claim tweaks, signature malleability, base64 edge cases).
///
/// Oracles: never a panic; a token that differs from the genuine one is never accepted.
pub fn token(h: &Harness, data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    // The keyring's trusted set on the rig is exactly the signer's key: this verifier.
    let verifier: &Verifier = &h.rig.verifier;
    let now = h.rig.clock_now();
    if mode % 2 == 1 {
        if let Ok(text) = std::str::from_utf8(rest) {
            if let Ok(claims) = verifier.verify(text, now) {
                assert_eq!(
                    text, h.access_token,
                    "accepted a token we never issued: {claims:?}"
                );
            }
        }
        return;
    }
    let mut bytes = h.access_token.clone().into_bytes();
    for (b, x) in bytes.iter_mut().zip(rest) {
        *b ^= x;
    }
    let Ok(text) = String::from_utf8(bytes) else {
        return;
    };
    if verifier.verify(&text, now).is_ok() {
        assert_eq!(text, h.access_token, "accepted an altered token");
    }
}

#[derive(Arbitrary, Debug)]
enum Endpoint {
    Login,
    Refresh,
    Logout,
}

/// What the `http_request` target builds a proxy event from.
#[derive(Arbitrary, Debug)]
struct HttpInput {
    endpoint: Endpoint,
    /// Header names and values; `REFRESH_TOKEN` / `ACCESS_TOKEN` become genuine tokens.
    headers: Vec<(String, String)>,
    body: String,
    /// Send the body base64-encoded, as API Gateway does for binary media types. (API Gateway
    /// does the encoding: a client cannot make it send invalid base64.)
    base64: bool,
}

/// Login, refresh and logout on arbitrary requests: the JSON body parser, the refresh cookie
/// parser, the CSRF origin check and the bearer header, behind the real API Gateway proxy
/// event parsing of `lambda_http`. The bytes are decoded as libFuzzer's `fuzz_target!` decodes
/// a typed input (`arbitrary_take_rest`).
///
/// Oracles: never a panic, never a 5xx (the in-memory stores do not fail), every error is one
/// of DESIGN.md's codes with its status, CORS granted to no origin outside the allowed list,
/// and no response echoes the password.
pub fn http_request(h: &Harness, data: &[u8]) {
    let Ok(input) = HttpInput::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let path = match input.endpoint {
        Endpoint::Login => "/auth/login",
        Endpoint::Refresh => "/auth/refresh",
        Endpoint::Logout => "/auth/logout",
    };
    let mut headers = serde_json::Map::new();
    let mut multi = serde_json::Map::new();
    for (name, value) in &input.headers {
        let value = h.fill_placeholders(value);
        headers.insert(name.clone(), json!(value));
        multi.insert(name.clone(), json!([value]));
    }
    let body = h.fill_placeholders(&input.body);
    let body = if input.base64 {
        base64::engine::general_purpose::STANDARD.encode(body)
    } else {
        body
    };
    let event = json!({
        "resource": path, "path": path, "httpMethod": "POST",
        "headers": headers, "multiValueHeaders": multi,
        "body": body, "isBase64Encoded": input.base64,
        "requestContext": {
            "accountId": "123456789012", "apiId": "a1b2c3d4e5", "stage": "v1",
            "requestId": "fuzz", "httpMethod": "POST", "resourcePath": path,
            "identity": { "sourceIp": "203.0.113.7" }
        }
    });
    let Ok(req) = lambda_http::request::from_str(&event.to_string()) else {
        return;
    };
    let resp = h
        .runtime
        .block_on(async {
            match input.endpoint {
                Endpoint::Login => login::handle(&h.rig.login, req).await,
                Endpoint::Refresh => refresh::handle(&h.rig.refresh, req).await,
                Endpoint::Logout => {
                    let origins = &h.rig.refresh.config.allowed_origins;
                    logout::handle(&h.rig.logout, origins, req).await
                }
            }
        })
        .expect("handlers answer every request");
    let status = resp.status().as_u16();
    assert!(status < 500, "status {status}");
    // CORS grants only an allowed origin, whatever the request says.
    if let Some(granted) = resp.headers().get("access-control-allow-origin") {
        let allowed = &h.rig.refresh.config.allowed_origins;
        assert!(
            allowed.iter().any(|a| a.as_bytes() == granted.as_bytes()),
            "CORS granted {granted:?}"
        );
    }
    let body = std::str::from_utf8(resp.body().as_ref()).expect("UTF-8 body");
    assert!(!body.contains("correct horse"), "password echoed");
    if status >= 400 {
        let err: Value = serde_json::from_str(body).expect("JSON error body");
        let code = err["error"].as_str().expect("error code");
        assert!(ERROR_CODES.contains(&code), "unknown code {code}");
    }
}

/// The authorizer on arbitrary events: any JSON API Gateway could (or could not) send,
/// seeded with `events/authorizer-*.json` (placeholders filled with a genuine token).
///
/// Oracles: never a panic; never an allowing answer (`isAuthorized: true`, or a REST policy
/// with a principal) unless the event carries a token that verifies; a REST policy that API
/// Gateway ([`iam::evaluate_as`], either reading) reads as an Allow of the event's own method ARN only when the
/// route rules ([`RuleOracle`]) allow that route, and the route a backend reads it as
/// ([`backend_reading`]), to the token's roles; the same policy, served from the cache for
/// other spellings of the admin routes, allows none a backend reads as a refused route; an
/// HTTP API `true` only when the rules allow the request to the token's roles, and, when its
/// identity sources lack the method and path, only for a token no rule refuses.
pub fn authorizer_event(h: &Harness, data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(event) = serde_json::from_str::<Value>(&h.fill_placeholders(text)) else {
        return;
    };
    let presented = presented_tokens(&event);
    let event_arn = event["methodArn"].as_str().unwrap_or_default().to_owned();
    let keyed = keyed_by_route(&event);
    let request = http_api_request(&event);
    let answer = h.runtime.block_on(h.authorizer.handle(event));
    if let Ok(resp) = answer {
        let allowed = resp["isAuthorized"] == Value::Bool(true) || resp["principalId"].is_string();
        if allowed {
            let now = h.rig.clock_now();
            assert!(
                presented
                    .iter()
                    .any(|t| h.rig.verifier.verify(t, now).is_ok()),
                "allowed without a valid token: {resp}"
            );
        }
        if let Some((method, path)) = event_route(&event_arn) {
            let path = path.as_str();
            if allowed_by_policy(&resp, &event_arn) {
                let (roles, scopes) = (answer_roles(&resp), answer_scopes(&resp));
                assert!(
                    h.rules.allows(method, path, &roles, &scopes),
                    "policy allows {method} {path} to roles {roles:?}: {resp}"
                );
                let (rm, rp) = backend_reading(method, path);
                assert!(
                    h.rules.allows(&rm, &rp, &roles, &scopes),
                    "policy allows {method} {path}, read as {rm} {rp}, to roles {roles:?}: {resp}"
                );
            }
            if let Some(base) = event_base(&event_arn) {
                let (roles, scopes) = (answer_roles(&resp), answer_scopes(&resp));
                for (m, p) in SPELLINGS {
                    let cached = allowed_by_policy(&resp, &format!("{base}/{m}{p}"));
                    let (rm, rp) = backend_reading(m, p);
                    assert!(
                        !cached || h.rules.allows(&rm, &rp, &roles, &scopes),
                        "cached policy allows {m} {p} (read as {rm} {rp}) to {roles:?}: {resp}"
                    );
                }
            }
        }
        if resp["isAuthorized"] == Value::Bool(true) {
            let (roles, scopes) = (answer_roles(&resp), answer_scopes(&resp));
            assert!(
                keyed || h.rules.refuses_nowhere(&roles, &scopes),
                "HTTP API true, cached by token alone, for roles {roles:?}: {resp}"
            );
            if let Some((method, path)) = &request {
                assert!(
                    h.rules.allows(method, path, &roles, &scopes),
                    "HTTP API true for {method} {path} to roles {roles:?}: {resp}"
                );
            }
        }
    }
}

/// Whether API Gateway would read `resp` as allowing `arn` under either reading of IAM's
/// wildcards that AWS's documentation leaves open (see `iam`'s module docs).
fn allowed_by_policy(resp: &Value, arn: &str) -> bool {
    [Reading::Documented, Reading::Widest]
        .into_iter()
        .any(|r| iam::evaluate_as(resp, arn, r) == Some(Decision::Allow))
}

/// Spellings of the harness's refused admin and orders routes a backend reads as them.
const SPELLINGS: [(&str, &str); 11] = [
    ("GET", "/api/Orders/7"),
    ("POST", "/api/orders//7"),
    ("GET", "/API/Admin/users"),
    ("HEAD", "/api/admin"),
    ("DELETE", "/api/admin/"),
    ("GET", "/api//admin"),
    ("GET", "/api/me/../admin"),
    ("GET", "/api/admin;x"),
    ("GET", "/api/%61dmin"),
    ("POST", "/api/%2e%2E/api/admin/x"),
    ("GET", "/api/./admin/users"),
];

/// The scopes an allowing answer's context passes on (`scope`, space-separated).
fn answer_scopes(resp: &Value) -> Vec<String> {
    resp["context"]["scope"]
        .as_str()
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The roles an allowing answer's context passes on.
fn answer_roles(resp: &Value) -> Vec<String> {
    resp["context"]["roles"]
        .as_str()
        .unwrap_or_default()
        .split(',')
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether an HTTP API event's identity-source values hold its method and its path (read from
/// the JSON, apart from the authorizer's own parsing).
fn keyed_by_route(event: &Value) -> bool {
    let values: Vec<&str> = event["identitySource"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let http = &event["requestContext"]["http"];
    let has = |v: &Value| v.as_str().is_some_and(|s| values.contains(&s));
    has(&http["method"]) && (has(&http["path"]) || has(&event["rawPath"]))
}

/// The request an HTTP API event is about, read from the JSON apart from the authorizer's own
/// parsing (`docs/route-rules.md`, HTTP APIs): the client's method and path, less a named stage's first
/// segment on the execute-api domain. `None` when the event does not say.
fn http_api_request(event: &Value) -> Option<(String, String)> {
    let ctx = &event["requestContext"];
    let method = ctx["http"]["method"].as_str()?.to_ascii_uppercase();
    let path = ctx["http"]["path"].as_str().or(event["rawPath"].as_str())?;
    let stage = ctx["stage"].as_str().unwrap_or("$default");
    if stage == "$default" {
        return Some((method, path.to_owned()));
    }
    let (api, domain) = (ctx["apiId"].as_str()?, ctx["domainName"].as_str()?);
    if !domain.starts_with(&format!("{api}.execute-api.")) {
        return Some((method, path.to_owned()));
    }
    match path.strip_prefix(&format!("/{stage}"))? {
        "" => Some((method, "/".to_owned())),
        rest if rest.starts_with('/') => Some((method, rest.to_owned())),
        _ => None,
    }
}

/// Method and path of a REST method ARN (`arn:…:API/STAGE/METHOD/path`, the path holding any
/// characters), read independently of the authorizer's own parser.
fn event_route(arn: &str) -> Option<(&str, String)> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let route = resource.splitn(3, '/').nth(2)?;
    let (method, path) = route.split_once('/').unwrap_or((route, ""));
    Some((method, format!("/{path}")))
}

/// The stage ARN of a REST method ARN (`arn:…:API/STAGE`), split as [`event_route`] splits.
fn event_base(arn: &str) -> Option<&str> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let route = resource.splitn(3, '/').nth(2)?;
    arn.get(..arn.len() - route.len() - 1)
}

/// Every bearer token the event carries, wherever an authorizer could read it: the TOKEN
/// event's `authorizationToken` and any `Authorization` header, in any letter case.
fn presented_tokens(event: &Value) -> Vec<String> {
    let mut values: Vec<&Value> = event.get("authorizationToken").into_iter().collect();
    for map in ["headers", "multiValueHeaders"] {
        if let Some(headers) = event.get(map).and_then(Value::as_object) {
            for (name, value) in headers {
                if name.eq_ignore_ascii_case("authorization") {
                    values.push(value);
                    values.extend(value.as_array().into_iter().flatten());
                }
            }
        }
    }
    values
        .into_iter()
        .filter_map(Value::as_str)
        .filter_map(strip_bearer)
        .map(str::to_owned)
        .collect()
}
