//! The API Gateway Lambda authorizer: REST API TOKEN and REQUEST events (IAM policy output)
//! and HTTP API payload 2.0 events (simple responses), told apart by the event itself.
//!
//! It never panics and never allows on doubt: an invalid, expired, revoked or missing token is
//! the 401 path (`Unauthorized`), a valid token lacking the route's role is an explicit Deny
//! (403), and an internal error (DynamoDB down) is an error, never an Allow.
//!
//! Revocation is decided from memory caught up from the revocation feed at most every 0.9 s,
//! or, while that memory is not fresh, by the exact per-request read
//! ([`RevocationWatch`], docs/revocation.md).

use std::sync::Arc;

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayV2CustomAuthorizerV2Request,
};
use serde_json::value::RawValue;
use serde_json::Value;
use tokengate_claims::AccessClaims;
use tokengate_domain::keyring::LiveKeyring;
use tokengate_domain::policy::RoutePolicy;
use tokengate_domain::revocation_feed::RevocationWatch;
use tokengate_domain::{Clock, PortError};

use crate::http::strip_bearer;
use crate::iam;
use crate::telemetry::record_outcome;

mod answer;
#[cfg(test)]
mod answer_tests;
mod cache;
mod method_arn;
mod rule_sets;
use answer::{Context, Effect, PolicyDocument, RestAnswer, SimpleAnswer};
pub use cache::{CacheAdvice, CacheKind};
use method_arn::MethodArn;
use rule_sets::{token_scopes, RuleSets};

/// Why the authorizer did not answer with a policy.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizerError {
    /// The 401 path: API Gateway turns exactly this message into 401.
    #[error("Unauthorized")]
    Unauthorized,
    /// A dependency failed: fail closed (API Gateway answers 500, mapped to 503 in the template).
    #[error("authorizer dependency unavailable")]
    Unavailable,
    /// The event is of no shape we know.
    #[error("unsupported authorizer event")]
    UnsupportedEvent,
}

impl From<AuthorizerError> for lambda_http::lambda_runtime::Diagnostic {
    /// API Gateway matches `errorMessage` exactly: `Unauthorized` becomes a 401.
    fn from(e: AuthorizerError) -> Self {
        let error_type = match e {
            AuthorizerError::Unauthorized => "Unauthorized",
            AuthorizerError::Unavailable => "DependencyUnavailable",
            AuthorizerError::UnsupportedEvent => "UnsupportedEvent",
        };
        Self {
            error_type: error_type.to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// The decision for one token and route.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Valid and allowed.
    Allow(AccessClaims),
    /// Valid but lacking the route's role.
    Forbidden(AccessClaims),
    /// Missing, invalid, expired or revoked.
    Unauthorized,
}

/// Everything the authorizer needs, built once at cold start.
#[derive(Clone)]
pub struct Authorizer {
    /// The trusted keys (the keyring's `next`, `current`, `retiring`, read at cold start and
    /// re-read at most every refresh interval) and the validation rules.
    pub keyring: Arc<LiveKeyring>,
    /// Revoked tokens, sessions and token versions: memory caught up from the feed, the
    /// per-request read when it is not fresh.
    pub revocations: Arc<RevocationWatch>,
    /// Route → roles.
    pub policy: RoutePolicy,
    /// Route → scopes (`TOKENGATE_ROUTE_SCOPES`): a request must pass both rule sets.
    pub scope_policy: RoutePolicy,
    /// Clock.
    pub clock: Arc<dyn Clock>,
    /// Cache advice already logged by this instance.
    pub advice: Arc<CacheAdvice>,
}

impl Authorizer {
    /// Decides for a token (the `Authorization` header value) and a route.
    pub async fn decide(
        &self,
        authorization: Option<&str>,
        method: &str,
        path: &str,
    ) -> Result<Verdict, PortError> {
        self.decide_for(authorization, method, path, false).await
    }

    /// [`decide`](Self::decide), for an answer that may also be served for any other route
    /// (`for_any_route`: an HTTP API cache not keyed by the route): then only a token no rule
    /// refuses anywhere is allowed, whatever this one route would allow.
    async fn decide_for(
        &self,
        authorization: Option<&str>,
        method: &str,
        path: &str,
        for_any_route: bool,
    ) -> Result<Verdict, PortError> {
        let Some(token) = authorization.and_then(strip_bearer) else {
            record_outcome("unauthorized");
            return Ok(Verdict::Unauthorized);
        };
        // All local checks first: a bad token costs no DynamoDB call (nor a catch-up). (The
        // keyring is re-read at most once per refresh interval, whatever the token says.)
        let keys = self.keyring.keys().await;
        if !keys.has_trusted_keys() {
            // Fail closed, loudly: with no key to trust every token would be refused, and a
            // 401 would send every client to refresh, which cannot sign either.
            tracing::error!(
                event = "authorizer_keyring_empty",
                keyring_read = keys.is_known(),
                "no trusted signing key: the keyring (keyring#signing) is unreadable, empty or \
                 all retired"
            );
            return Err(PortError::Unavailable(anyhow::anyhow!(
                "no trusted signing key in the keyring"
            )));
        }
        let claims = match keys.verifier().verify(token, self.clock.now()) {
            Ok(c) => c,
            Err(e) => {
                tracing::info!(event = "authorizer_token_invalid", reason = %e);
                record_outcome("unauthorized");
                return Ok(Verdict::Unauthorized);
            }
        };
        let decision = self.revocations.check(&claims).await?;
        if let Some(refusal) = decision.refusal {
            tracing::warn!(
                event = "authorizer_denied_revoked",
                jti = %claims.jti,
                revoked = refusal.as_str(),
                known_from = ?decision.from,
            );
            record_outcome("revoked");
            return Ok(Verdict::Unauthorized);
        }
        let permitted = self
            .rule_sets()
            .permits(method, path, &claims, for_any_route);
        if permitted {
            record_outcome("allow");
            Ok(Verdict::Allow(claims))
        } else {
            tracing::info!(event = "authorizer_forbidden", jti = %claims.jti, method, path);
            record_outcome("forbidden");
            Ok(Verdict::Forbidden(claims))
        }
    }

    fn rule_sets(&self) -> RuleSets<'_> {
        RuleSets {
            roles: &self.policy,
            scopes: &self.scope_policy,
        }
    }

    /// Answers any supported authorizer event with the JSON the function returns: what
    /// production sends (functions/authorizer), written straight to bytes (`answer.rs`).
    pub async fn answer(&self, event: Value) -> Result<Box<RawValue>, AuthorizerError> {
        let kind = event.get("type").and_then(Value::as_str).unwrap_or("");
        let version = event.get("version").and_then(Value::as_str).unwrap_or("");
        match (kind, version) {
            ("TOKEN", _) => {
                let ev: ApiGatewayCustomAuthorizerRequest =
                    serde_json::from_value(event).map_err(|_| unsupported())?;
                let arn = MethodArn::parse(ev.method_arn.as_deref().unwrap_or(""))?;
                let verdict = self
                    .decide(ev.authorization_token.as_deref(), arn.method, arn.path)
                    .await;
                self.rest_response(verdict, arn)
            }
            ("REQUEST", "2.0") => {
                let ev: ApiGatewayV2CustomAuthorizerV2Request =
                    serde_json::from_value(event).map_err(|_| unsupported())?;
                let (method, path) = http_api_route(&ev).ok_or_else(unsupported)?;
                let header = ev
                    .headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok());
                let keyed_by_route = cache::keyed_by_route(&ev);
                if !keyed_by_route {
                    if let Some(advice) = self.advice.note(CacheKind::HttpApi) {
                        tracing::warn!(event = "authorizer_cache_not_keyed_by_route", "{advice}");
                    }
                }
                let verdict = self
                    .decide_for(header, &method, &path, !keyed_by_route)
                    .await;
                simple_response(verdict)
            }
            ("REQUEST", _) => {
                let ev: ApiGatewayCustomAuthorizerRequestTypeRequest =
                    serde_json::from_value(event).map_err(|_| unsupported())?;
                let arn = MethodArn::parse(ev.method_arn.as_deref().unwrap_or(""))?;
                let header = ev
                    .headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok());
                let verdict = self.decide(header, arn.method, arn.path).await;
                self.rest_response(verdict, arn)
            }
            _ => Err(unsupported()),
        }
    }

    /// [`answer`](Self::answer), read back as a JSON value: what the tests judge is exactly the
    /// bytes production sends.
    pub async fn handle(&self, event: Value) -> Result<Value, AuthorizerError> {
        let answer = self.answer(event).await?;
        serde_json::from_str(answer.get()).map_err(|_| AuthorizerError::Unavailable)
    }

    /// REST API answer. API Gateway caches it per identity source (the token, for a TOKEN
    /// authorizer) and evaluates the cached policy for every route the token calls next, so
    /// whenever the route rules can be said as whole-API patterns the policy covers the whole
    /// API: Allow the stage, Deny exactly the routes the token's roles do not reach. When they
    /// cannot ([`RoutePolicy::api_wide_denials`]), it answers for this one method ARN only: a
    /// cached copy then refuses (403) other routes until it expires, which is safe but needs
    /// authorizer caching keyed by route or off (docs/route-rules.md, "What the authorizer
    /// answers").
    fn rest_response(
        &self,
        verdict: Result<Verdict, PortError>,
        arn: MethodArn,
    ) -> Result<Box<RawValue>, AuthorizerError> {
        let (claims, allowed) = match verdict {
            Ok(Verdict::Allow(c)) => (c, true),
            Ok(Verdict::Forbidden(c)) => (c, false),
            Ok(Verdict::Unauthorized) => return Err(AuthorizerError::Unauthorized),
            Err(e) => return Err(fail_closed(e)),
        };
        let scopes = token_scopes(&claims);
        let denied = self.rule_sets().api_wide_denials(&claims.roles, &scopes);
        if denied.is_none() {
            if let Some(advice) = self.advice.note(CacheKind::RestRouteScoped) {
                tracing::warn!(event = "authorizer_answer_scoped_to_route", "{advice}");
            }
        }
        rest_answer(&claims, allowed, arn, denied.as_deref())
    }
}

/// The REST answer for a valid token: the whole-API policy when the rule sets can say their
/// refusals as `denied` patterns, else `allowed` for this one method ARN.
fn rest_answer(
    claims: &AccessClaims,
    allowed: bool,
    arn: MethodArn,
    denied: Option<&[&str]>,
) -> Result<Box<RawValue>, AuthorizerError> {
    let policy_document = match denied {
        Some(denied) => PolicyDocument::whole_api(arn, denied),
        None => {
            // IAM would read a `*` or `?` in the path as a wildcard, and a cached Allow of
            // it would then reach other routes: such a path is refused instead.
            let effect = if allowed && !iam::has_wildcard(arn.path) {
                Effect::Allow
            } else {
                if allowed {
                    tracing::info!(event = "authorizer_wildcard_path_refused", path = %arn.path);
                }
                Effect::Deny
            };
            PolicyDocument::route(arn, effect)
        }
    };
    answer::write(&RestAnswer {
        principal_id: &claims.sub,
        policy_document,
        context: Context::of(claims),
        usage_identifier_key: None,
    })
}

/// The request an HTTP API (payload 2.0) authorizer event is about: the method and path the
/// client sent, never the matched route template — `ANY /api/{proxy+}` says nothing about
/// whether `/api/admin/users` is an admin route. On the execute-api domain a named stage is the
/// first segment of the path (the `$default` stage and custom domains add none) and is removed,
/// so the rules see the same path as for a REST API. Behind a custom domain the path is judged
/// as it arrives: an API mapping key stays in it (docs/route-rules.md, "HTTP APIs"). `None`
/// when a named stage's event lacks what tells the two apart.
fn http_api_route(ev: &ApiGatewayV2CustomAuthorizerV2Request) -> Option<(String, String)> {
    let ctx = &ev.request_context;
    let method = ctx.http.method.as_str().to_ascii_uppercase();
    let path = ctx.http.path.clone().or_else(|| ev.raw_path.clone())?;
    let stage = ctx.stage.as_deref().unwrap_or("$default");
    if stage == "$default" {
        return Some((method, path));
    }
    // A named stage is in the path on the execute-api domain and not behind a custom domain:
    // without the API id and domain to tell which, the path cannot be judged (never guessed).
    let (api, domain) = (ctx.apiid.as_deref()?, ctx.domain_name.as_deref()?);
    if !domain.starts_with(&format!("{api}.execute-api.")) {
        return Some((method, path));
    }
    let rest = path.strip_prefix(&format!("/{stage}"))?;
    match rest {
        "" => Some((method, "/".to_owned())),
        r if r.starts_with('/') => Some((method, r.to_owned())),
        // `/v1x/...` is not under the stage `v1`: API Gateway would not have sent it.
        _ => None,
    }
}

/// HTTP API simple response. HTTP APIs cannot answer 401 from a Lambda authorizer: every
/// refusal is `isAuthorized: false` (403); that is why the template uses a REST API. A
/// dependency failure is an error, never a refusal: HTTP API answers it with 500, which a
/// client retries, where a 403 would tell it the token lacks a role.
fn simple_response(verdict: Result<Verdict, PortError>) -> Result<Box<RawValue>, AuthorizerError> {
    match verdict {
        Ok(Verdict::Allow(c)) => answer::write(&SimpleAnswer::allowed(&c)),
        Ok(_) => answer::write(&SimpleAnswer::refused()),
        Err(e) => Err(fail_closed(e)),
    }
}

fn fail_closed(err: PortError) -> AuthorizerError {
    tracing::error!(event = "authorizer_fail_closed", error = %err, "denying: revocation state unavailable");
    record_outcome("fail_closed");
    AuthorizerError::Unavailable
}

/// An event we cannot read: refused (API Gateway answers 500), never guessed at.
fn unsupported() -> AuthorizerError {
    tracing::warn!(event = "authorizer_unsupported_event");
    record_outcome("unsupported_event");
    AuthorizerError::UnsupportedEvent
}
