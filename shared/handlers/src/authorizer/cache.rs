//! What API Gateway's authorizer cache does with an answer, and the advice a deployer needs
//! when the answer could be served for a route it was not given for.
//!
//! An HTTP API caches `isAuthorized` per identity-source values and serves it for every route
//! those values reach, without evaluating anything per route ("Working with AWS Lambda
//! authorizers for HTTP APIs", Authorizer caching). Unless the values include the request's
//! method and path, a `true` given for `GET /api/me` is served for `DELETE /api/admin/users`.
//! The event lists the values it was keyed by (`identitySource`), so the authorizer can tell.

use std::sync::atomic::{AtomicBool, Ordering};

use aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;

/// Whether an HTTP API event's identity-source values include the request's method and path
/// (identity sources `$context.httpMethod` and `$context.path`), so a cached answer is only
/// ever served for this same method and path. A named stage's path may come with or without
/// the stage: either spelling of the request's own path counts.
pub(super) fn keyed_by_route(ev: &ApiGatewayV2CustomAuthorizerV2Request) -> bool {
    let Some(values) = ev.identity_source.as_deref() else {
        return false;
    };
    let http = &ev.request_context.http;
    let method = http.method.as_str();
    let paths = [http.path.as_deref(), ev.raw_path.as_deref()];
    values.iter().any(|v| v == method)
        && values
            .iter()
            .any(|v| paths.iter().flatten().any(|p| p == v))
}

/// Which cache a piece of advice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheKind {
    /// An HTTP API whose identity sources lack the method and path.
    HttpApi,
    /// A REST API answer scoped to one method ARN (the rules cannot be said API-wide for the
    /// token), which a cache keyed by token alone serves as 403 for the token's other routes.
    RestRouteScoped,
}

/// Advice given once per instance (cold start), not once per request: the deployer needs it
/// once, and a log line per request would cost more than the decision.
#[derive(Debug, Default)]
pub struct CacheAdvice {
    http_api: AtomicBool,
    rest: AtomicBool,
}

impl CacheAdvice {
    /// The advice for `kind` the first time it applies in this instance, `None` afterwards.
    /// (Returned rather than logged here, so a test can see it without a global subscriber.)
    pub fn note(&self, kind: CacheKind) -> Option<&'static str> {
        let (flag, advice) = match kind {
            CacheKind::HttpApi => (
                &self.http_api,
                "HTTP API authorizer cache is not keyed by route: add the identity sources \
                 $context.httpMethod and $context.path (SAM: Identity.Context: [httpMethod, \
                 path]) or set the cache TTL to 0; until then only tokens that no route rule \
                 refuses are allowed (docs/route-rules.md)",
            ),
            CacheKind::RestRouteScoped => (
                &self.rest,
                "this token's answer covers the called route only (a {param} or an exception \
                 in TOKENGATE_ROUTE_ROLES): a cache keyed by token alone answers 403 for its \
                 other routes; set the template parameter AuthorizerCache=route (a REQUEST \
                 authorizer keyed by token, method and path) or the cache TTL to 0",
            ),
        };
        (!flag.swap(true, Ordering::Relaxed)).then_some(advice)
    }
}
