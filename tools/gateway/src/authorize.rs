//! Runs a Lambda authorizer before a guarded route and applies its answer as API Gateway does.
//!
//! - REST TOKEN: invoked with the token header's value and the request's method ARN; the IAM
//!   policy is evaluated by [`tokengate_handlers::iam`] (explicit Deny wins). Cached per token
//!   value: a cached policy is evaluated again for every later method ARN, as on AWS.
//! - REST REQUEST: invoked with the request; cached per the identity source values.
//! - HTTP API: invoked with a format 2.0 REQUEST event; simple responses (`isAuthorized`),
//!   cached per the identity source values.
//!
//! A missing identity source is a 401 without invoking the authorizer. `Unauthorized` from a
//! REST authorizer is a 401; any other error, or an answer API Gateway cannot use, is
//! `AUTHORIZER_CONFIGURATION_ERROR`; an authorizer that cannot be reached is
//! `AUTHORIZER_FAILURE`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokengate_handlers::iam::{self, Decision};

use crate::event;
use crate::event_v2;
use crate::invoke::{Invocation, Invoker};
use crate::request::{context_value, Incoming, Site};
use crate::routes::Route;
use crate::template::{AuthorizerKind, AuthorizerSpec, IdentitySource};

/// Why a guarded request does not reach its function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Missing identity, or the authorizer said `Unauthorized` (401).
    Unauthorized,
    /// No statement of the policy allows, or the simple response is `false` (403).
    Forbidden,
    /// A `Deny` statement of the policy applies (403, with API Gateway's explicit-deny message).
    ExplicitDeny,
    /// The authorizer returned an error or an unusable answer (REST
    /// `AUTHORIZER_CONFIGURATION_ERROR`; HTTP API 500).
    ConfigurationError,
    /// The authorizer could not be invoked (REST `AUTHORIZER_FAILURE`; HTTP API 500).
    Failure,
}

/// The gateway's decision for a guarded request.
#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    /// Pass on, with this authorizer context (REST: the context plus `principalId`; HTTP API:
    /// the simple response's context, for `requestContext.authorizer.lambda`).
    Allow(Value),
    /// Answer for the gateway.
    Refuse(Refusal),
}

/// How the authorizer is called and its answer read.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    RestToken { header: String },
    RestRequest { identity: Vec<IdentitySource> },
    Http { identity: Vec<IdentitySource> },
}

/// An authorizer and its result cache.
pub struct Authorizer {
    function: String,
    shape: Shape,
    ttl: Duration,
    invoker: Invoker,
    cache: Mutex<HashMap<String, (Instant, Value)>>,
}

/// Entries kept at most; the cache is a local convenience, not a memory sink.
const CACHE_CAPACITY: usize = 10_000;

impl Authorizer {
    /// A REST API authorizer as the template declares it.
    pub fn rest(spec: &AuthorizerSpec, invoker: Invoker) -> Self {
        let shape = match &spec.kind {
            AuthorizerKind::Token { header } => Shape::RestToken {
                header: header.clone(),
            },
            AuthorizerKind::Request { identity } => Shape::RestRequest {
                identity: identity.clone(),
            },
        };
        Self::new(&spec.function, shape, spec.cache_ttl_secs, invoker)
    }

    /// An HTTP API Lambda authorizer (payload 2.0, simple responses).
    pub fn http(
        function: &str,
        identity: Vec<IdentitySource>,
        cache_ttl_secs: u64,
        invoker: Invoker,
    ) -> Self {
        Self::new(function, Shape::Http { identity }, cache_ttl_secs, invoker)
    }

    fn new(function: &str, shape: Shape, ttl: u64, invoker: Invoker) -> Self {
        Self {
            function: function.to_owned(),
            shape,
            ttl: Duration::from_secs(ttl),
            invoker,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Decides for a request to `route`.
    pub async fn gate(
        &self,
        req: &Incoming,
        site: &Site,
        route: &Route,
        params: &[(String, String)],
    ) -> Gate {
        let route_key = event_v2::route_key(route);
        let identity = match &self.shape {
            Shape::RestToken { header } => vec![IdentitySource::Header(header.clone())],
            Shape::RestRequest { identity } | Shape::Http { identity } => identity.clone(),
        };
        // API Gateway answers 401 itself when an identity source is missing or empty.
        let mut values = Vec::new();
        for source in &identity {
            let value = match source {
                IdentitySource::Header(h) => req.header(h).map(str::to_owned),
                IdentitySource::Query(q) => req.query_param(q),
                IdentitySource::StageVariable(_) => None,
                IdentitySource::Context(c) => context_value(c, req, site, &route.path, &route_key),
            };
            match value.filter(|v| !v.trim().is_empty()) {
                Some(v) => values.push(v),
                None => return Gate::Refuse(Refusal::Unauthorized),
            }
        }
        // The identity values, unambiguously joined, are the cache key (the token alone for a
        // TOKEN authorizer): a cached answer serves every route the same values reach.
        let key = serde_json::to_string(&values).unwrap_or_default();
        let answer = match self.cached(&key) {
            Some(v) => {
                tracing::info!(event = "authorizer_cache_hit", function = %self.function);
                v
            }
            None => {
                let event = match &self.shape {
                    Shape::RestToken { .. } => json!({
                        "type": "TOKEN",
                        "authorizationToken": values[0],
                        "methodArn": site.method_arn(&req.method, &req.path),
                    }),
                    Shape::RestRequest { .. } => {
                        event::request_authorizer_event(req, site, route, params)
                    }
                    Shape::Http { .. } => {
                        event_v2::authorizer_event(req, site, route, params, &values)
                    }
                };
                tracing::info!(event = "authorizer_invoked", function = %self.function);
                match self.invoker.invoke(&self.function, &event).await {
                    Ok(Invocation::Ok(v)) => {
                        self.store(key, &v);
                        v
                    }
                    // Only REST authorizers turn this exact message into a 401.
                    Ok(Invocation::FunctionError(m))
                        if m == "Unauthorized" && !matches!(self.shape, Shape::Http { .. }) =>
                    {
                        return Gate::Refuse(Refusal::Unauthorized)
                    }
                    Ok(Invocation::FunctionError(m)) => {
                        tracing::warn!(event = "authorizer_error", function = %self.function, error = %m);
                        return Gate::Refuse(Refusal::ConfigurationError);
                    }
                    Err(e) => {
                        tracing::error!(event = "authorizer_unreachable", function = %self.function, error = %e);
                        return Gate::Refuse(Refusal::Failure);
                    }
                }
            }
        };
        match self.shape {
            Shape::Http { .. } => simple_response(&answer),
            _ => policy_response(&answer, &site.method_arn(&req.method, &req.path)),
        }
    }

    fn cached(&self, key: &str) -> Option<Value> {
        let cache = self.cache.lock().ok()?;
        let (at, v) = cache.get(key)?;
        (at.elapsed() < self.ttl).then(|| v.clone())
    }

    fn store(&self, key: String, v: &Value) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
            cache.insert(key, (Instant::now(), v.clone()));
        }
    }
}

/// A REST authorizer's answer for `method_arn`: the policy decides; an answer without a
/// `principalId`, a readable policy, or with a context value that is not a string, number or
/// boolean is a configuration error, as on AWS.
fn policy_response(answer: &Value, method_arn: &str) -> Gate {
    let Some(principal) = answer.get("principalId").filter(|p| p.is_string()) else {
        return Gate::Refuse(Refusal::ConfigurationError);
    };
    let context = match answer.get("context") {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(m)) if m.values().all(is_primitive) => m.clone(),
        Some(_) => return Gate::Refuse(Refusal::ConfigurationError),
    };
    match iam::evaluate(answer, method_arn) {
        None => Gate::Refuse(Refusal::ConfigurationError),
        Some(Decision::ExplicitDeny) => Gate::Refuse(Refusal::ExplicitDeny),
        Some(Decision::ImplicitDeny) => Gate::Refuse(Refusal::Forbidden),
        Some(Decision::Allow) => {
            let mut ctx = context;
            ctx.insert("principalId".to_owned(), principal.clone());
            Gate::Allow(Value::Object(ctx))
        }
    }
}

fn is_primitive(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

/// An HTTP API simple response: `isAuthorized` must be a boolean.
fn simple_response(answer: &Value) -> Gate {
    match answer.get("isAuthorized").and_then(Value::as_bool) {
        Some(true) => Gate::Allow(
            answer
                .get("context")
                .filter(|c| c.is_object())
                .cloned()
                .unwrap_or_else(|| json!({})),
        ),
        Some(false) => Gate::Refuse(Refusal::Forbidden),
        None => Gate::Refuse(Refusal::ConfigurationError),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::tests::{request, site};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/v1/GET/api/me";
    const BASE: &str = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/v1";

    fn policy(statements: Value) -> Value {
        json!({ "principalId": "u1", "policyDocument": { "Version": "2012-10-17", "Statement": statements }, "context": { "sub": "u1" } })
    }

    #[test]
    fn allow_passes_context_with_principal() {
        let p = policy(
            json!([{ "Effect": "Allow", "Action": ["execute-api:Invoke"], "Resource": [format!("{BASE}/*/*")] }]),
        );
        assert_eq!(
            policy_response(&p, ARN),
            Gate::Allow(json!({ "sub": "u1", "principalId": "u1" }))
        );
    }

    #[test]
    fn explicit_deny_wins_and_no_allow_is_forbidden() {
        let p = policy(json!([
            { "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": format!("{BASE}/*/*") },
            { "Effect": "Deny", "Action": "execute-api:Invoke", "Resource": [format!("{BASE}/*/api/*")] }
        ]));
        assert_eq!(
            policy_response(&p, ARN),
            Gate::Refuse(Refusal::ExplicitDeny)
        );
        let post_only = policy(
            json!([{ "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": format!("{BASE}/POST/*") }]),
        );
        assert_eq!(
            policy_response(&post_only, ARN),
            Gate::Refuse(Refusal::Forbidden)
        );
    }

    #[test]
    fn unusable_policies_are_configuration_errors() {
        let allow = json!([{ "Effect": "Allow", "Action": "*", "Resource": "*" }]);
        let mut no_principal = policy(allow.clone());
        no_principal.as_object_mut().unwrap().remove("principalId");
        let mut nested_context = policy(allow);
        nested_context["context"] = json!({ "roles": ["admin"] });
        for answer in [
            json!({ "principalId": "u1" }),
            json!({ "principalId": "u1", "policyDocument": { "Statement": 3 } }),
            no_principal,
            nested_context,
            json!("Allow"),
        ] {
            assert_eq!(
                policy_response(&answer, ARN),
                Gate::Refuse(Refusal::ConfigurationError),
                "{answer}"
            );
        }
    }

    #[test]
    fn simple_responses_allow_deny_or_are_configuration_errors() {
        assert_eq!(
            simple_response(&json!({"isAuthorized": true, "context": {"sub": "u1"}})),
            Gate::Allow(json!({"sub": "u1"}))
        );
        assert_eq!(
            simple_response(&json!({"isAuthorized": true})),
            Gate::Allow(json!({}))
        );
        assert_eq!(
            simple_response(&json!({"isAuthorized": false})),
            Gate::Refuse(Refusal::Forbidden)
        );
        assert_eq!(
            simple_response(&json!({"isAuthorized": "yes"})),
            Gate::Refuse(Refusal::ConfigurationError)
        );
    }

    /// A Lambda Invoke API answering every invocation with `answer`, counting invocations and
    /// keeping the last event.
    async fn fake_lambda(answer: Value) -> (Invoker, Arc<AtomicUsize>, Arc<Mutex<Value>>) {
        use bytes::Bytes;
        use http_body_util::{BodyExt, Full};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let count = Arc::new(AtomicUsize::new(0));
        let last = Arc::new(Mutex::new(Value::Null));
        let (c, l) = (count.clone(), last.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (c, l, answer) = (c.clone(), l.clone(), answer.clone());
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            let (c, l, answer) = (c.clone(), l.clone(), answer.clone());
                            async move {
                                let body = req.into_body().collect().await.unwrap().to_bytes();
                                *l.lock().unwrap() = serde_json::from_slice(&body).unwrap();
                                c.fetch_add(1, Ordering::SeqCst);
                                Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                                    Bytes::from(answer.to_string()),
                                )))
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        (Invoker::new(url), count, last)
    }

    fn spec(kind: AuthorizerKind, ttl: u64) -> AuthorizerSpec {
        AuthorizerSpec {
            function: "authorizer".into(),
            kind,
            cache_ttl_secs: ttl,
        }
    }

    fn with_auth(method: &str, path: &str, token: &str) -> Incoming {
        let mut r = request(method, path, b"");
        r.headers[0].1 = token.to_owned();
        r
    }

    #[tokio::test]
    async fn a_token_authorizer_caches_per_token_and_evaluates_each_method_arn() {
        // Allow everything but DELETE: a cached policy must still deny the DELETE.
        let answer = policy(json!([
            { "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": format!("{BASE}/*") },
            { "Effect": "Deny", "Action": "execute-api:Invoke", "Resource": format!("{BASE}/DELETE/*") }
        ]));
        let (invoker, count, last) = fake_lambda(answer).await;
        let token = AuthorizerKind::Token {
            header: "Authorization".into(),
        };
        let a = Authorizer::rest(&spec(token, 300), invoker);
        let route = Route::new("ANY", "/api/{proxy+}", "me", None).unwrap();
        let s = site(None);
        let get = a
            .gate(&with_auth("GET", "/api/x", "Bearer A"), &s, &route, &[])
            .await;
        assert!(matches!(get, Gate::Allow(_)), "{get:?}");
        assert_eq!(
            *last.lock().unwrap(),
            json!({"type": "TOKEN", "authorizationToken": "Bearer A", "methodArn": format!("{BASE}/GET/api/x")})
        );
        let delete = a
            .gate(&with_auth("DELETE", "/api/x", "Bearer A"), &s, &route, &[])
            .await;
        assert_eq!(delete, Gate::Refuse(Refusal::ExplicitDeny));
        assert_eq!(
            count.load(Ordering::SeqCst),
            1,
            "the second decision came from the cache"
        );
        a.gate(&with_auth("GET", "/api/x", "Bearer B"), &s, &route, &[])
            .await;
        assert_eq!(
            count.load(Ordering::SeqCst),
            2,
            "another token is another cache entry"
        );
        let missing = a
            .gate(&with_auth("GET", "/api/x", " "), &s, &route, &[])
            .await;
        assert_eq!(missing, Gate::Refuse(Refusal::Unauthorized));
        assert_eq!(
            count.load(Ordering::SeqCst),
            2,
            "no invocation without the token"
        );
    }

    #[tokio::test]
    async fn without_a_ttl_nothing_is_cached() {
        let answer = policy(json!([{ "Effect": "Allow", "Action": "*", "Resource": "*" }]));
        let (invoker, count, _) = fake_lambda(answer).await;
        let token = AuthorizerKind::Token {
            header: "Authorization".into(),
        };
        let a = Authorizer::rest(&spec(token, 0), invoker);
        let route = Route::new("GET", "/api/me", "me", None).unwrap();
        for _ in 0..2 {
            a.gate(
                &with_auth("GET", "/api/me", "Bearer A"),
                &site(None),
                &route,
                &[],
            )
            .await;
        }
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn http_api_caches_per_identity_values_so_routes_do_not_share_answers() {
        let (invoker, count, last) =
            fake_lambda(json!({"isAuthorized": true, "context": {"sub": "u1"}})).await;
        let identity = vec![
            IdentitySource::Header("Authorization".into()),
            IdentitySource::Context("httpMethod".into()),
            IdentitySource::Context("path".into()),
        ];
        let a = Authorizer::http("authorizer", identity, 300, invoker);
        let route = Route::new("ANY", "/api/admin/{proxy+}", "me", None).unwrap();
        let s = site(None);
        let first = a
            .gate(
                &with_auth("GET", "/api/admin/a", "Bearer A"),
                &s,
                &route,
                &[],
            )
            .await;
        assert_eq!(first, Gate::Allow(json!({"sub": "u1"})));
        assert_eq!(
            last.lock().unwrap()["identitySource"],
            json!(["Bearer A", "GET", "/v1/api/admin/a"])
        );
        a.gate(
            &with_auth("GET", "/api/admin/a", "Bearer A"),
            &s,
            &route,
            &[],
        )
        .await;
        assert_eq!(count.load(Ordering::SeqCst), 1, "same values: cached");
        a.gate(
            &with_auth("DELETE", "/api/admin/a", "Bearer A"),
            &s,
            &route,
            &[],
        )
        .await;
        a.gate(
            &with_auth("GET", "/api/admin/b", "Bearer A"),
            &s,
            &route,
            &[],
        )
        .await;
        assert_eq!(
            count.load(Ordering::SeqCst),
            3,
            "another method or path: asked again"
        );
    }

    #[tokio::test]
    async fn authorizer_errors_and_unreachable_authorizers_are_told_apart() {
        // Nothing listens on a port we bound and dropped.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let token = AuthorizerKind::Token {
            header: "Authorization".into(),
        };
        let a = Authorizer::rest(
            &spec(token.clone(), 0),
            Invoker::new(format!("http://127.0.0.1:{port}")),
        );
        let route = Route::new("GET", "/api/me", "me", None).unwrap();
        let req = with_auth("GET", "/api/me", "Bearer A");
        assert_eq!(
            a.gate(&req, &site(None), &route, &[]).await,
            Gate::Refuse(Refusal::Failure)
        );
        let (invoker, _, _) =
            fake_lambda(json!({"errorMessage": "Unauthorized", "errorType": "Unauthorized"})).await;
        let a = Authorizer::rest(&spec(token.clone(), 0), invoker);
        assert_eq!(
            a.gate(&req, &site(None), &route, &[]).await,
            Gate::Refuse(Refusal::Unauthorized)
        );
        let (invoker, _, _) = fake_lambda(json!({"errorMessage": "authorizer dependency unavailable", "errorType": "DependencyUnavailable"})).await;
        let a = Authorizer::rest(&spec(token, 0), invoker);
        assert_eq!(
            a.gate(&req, &site(None), &route, &[]).await,
            Gate::Refuse(Refusal::ConfigurationError)
        );
    }
}
