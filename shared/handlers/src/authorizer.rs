//! The API Gateway Lambda authorizer: REST API TOKEN and REQUEST events (IAM policy output)
//! and HTTP API payload 2.0 events (simple responses), told apart by the event itself.
//!
//! It never panics and never allows on doubt: an invalid, expired, revoked or missing token is
//! the 401 path (`Unauthorized`), a valid token lacking the route's role is an explicit Deny
//! (403), and an internal error (DynamoDB down) is an error, never an Allow.

use std::sync::Arc;

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequest,
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayCustomAuthorizerResponse,
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use serde_json::{json, Value};
use tokengate_claims::{AccessClaims, Verifier};
use tokengate_domain::memory::MemoryRig;
use tokengate_domain::ports::{RevocationSource, UserStatus};
use tokengate_domain::{Clock, PortError};

use crate::http::strip_bearer;
use crate::policy::RoutePolicy;
use crate::telemetry::record_outcome;

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
    /// Trusted keys and validation rules (public keys fetched from KMS at cold start).
    pub verifier: Arc<Verifier>,
    /// Denylist + token version, in one round trip.
    pub revocations: Arc<dyn RevocationSource>,
    /// Route → roles.
    pub policy: RoutePolicy,
    /// Clock.
    pub clock: Arc<dyn Clock>,
}

impl Authorizer {
    /// An authorizer over a [`MemoryRig`]'s verifier, stores and clock, with the route policy
    /// `policy` (`TOKENGATE_ROUTE_ROLES` syntax): what the tests, benches and fuzz harness run.
    pub fn on_memory_rig(rig: &MemoryRig, policy: &str) -> Self {
        Self {
            verifier: Arc::new(rig.verifier.clone()),
            revocations: rig.store.clone(),
            policy: RoutePolicy::parse(policy).expect("valid route policy"),
            clock: rig.clock.clone(),
        }
    }

    /// Decides for a token (the `Authorization` header value) and a route.
    pub async fn decide(
        &self,
        authorization: Option<&str>,
        method: &str,
        path: &str,
    ) -> Result<Verdict, PortError> {
        let Some(token) = authorization.and_then(strip_bearer) else {
            record_outcome("unauthorized");
            return Ok(Verdict::Unauthorized);
        };
        // All local checks first: a bad token costs no DynamoDB call.
        let claims = match self.verifier.verify(token, self.clock.now()) {
            Ok(c) => c,
            Err(e) => {
                tracing::info!(event = "authorizer_token_invalid", reason = %e);
                record_outcome("unauthorized");
                return Ok(Verdict::Unauthorized);
            }
        };
        let status = self
            .revocations
            .revocation_status(&claims.jti, &claims.sub)
            .await?;
        let current = status
            .principal
            .is_some_and(|p| p.status == UserStatus::Active && p.token_version == claims.ver);
        if status.jti_denied || !current {
            tracing::warn!(
                event = "authorizer_denied_revoked",
                jti = %claims.jti,
                denylisted = status.jti_denied,
            );
            record_outcome("revoked");
            return Ok(Verdict::Unauthorized);
        }
        if self.policy.permits(method, path, &claims.roles) {
            record_outcome("allow");
            Ok(Verdict::Allow(claims))
        } else {
            tracing::info!(event = "authorizer_forbidden", jti = %claims.jti, method, path);
            record_outcome("forbidden");
            Ok(Verdict::Forbidden(claims))
        }
    }

    /// Handles any supported authorizer event.
    pub async fn handle(&self, event: Value) -> Result<Value, AuthorizerError> {
        let kind = event.get("type").and_then(Value::as_str).unwrap_or("");
        let version = event.get("version").and_then(Value::as_str).unwrap_or("");
        match (kind, version) {
            ("TOKEN", _) => {
                let ev: ApiGatewayCustomAuthorizerRequest =
                    serde_json::from_value(event).map_err(|_| unsupported())?;
                let arn = MethodArn::parse(ev.method_arn.as_deref().unwrap_or(""))?;
                let verdict = self
                    .decide(ev.authorization_token.as_deref(), &arn.method, &arn.path)
                    .await;
                self.rest_response(verdict, &arn)
            }
            ("REQUEST", "2.0") => {
                let ev: ApiGatewayV2CustomAuthorizerV2Request =
                    serde_json::from_value(event).map_err(|_| unsupported())?;
                let (method, path) = match ev.route_key.as_deref().and_then(|k| k.split_once(' ')) {
                    Some((m, p)) => (m.to_owned(), p.to_owned()),
                    None => (
                        ev.request_context.http.method.to_string(),
                        ev.request_context.http.path.clone().unwrap_or_default(),
                    ),
                };
                let header = ev
                    .headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok());
                let verdict = self.decide(header, &method, &path).await;
                Ok(simple_response(verdict))
            }
            ("REQUEST", _) => {
                let ev: ApiGatewayCustomAuthorizerRequestTypeRequest =
                    serde_json::from_value(event).map_err(|_| unsupported())?;
                let arn = MethodArn::parse(ev.method_arn.as_deref().unwrap_or(""))?;
                let header = ev
                    .headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok());
                let verdict = self.decide(header, &arn.method, &arn.path).await;
                self.rest_response(verdict, &arn)
            }
            _ => Err(unsupported()),
        }
    }

    /// REST API answer. The policy covers every route of the API (Allow `*/*`, Deny the routes
    /// the token's roles do not reach), so a cached policy is right for any route the same
    /// token calls next — a policy for the one method ARN would wrongly 403 the next route.
    fn rest_response(
        &self,
        verdict: Result<Verdict, PortError>,
        arn: &MethodArn,
    ) -> Result<Value, AuthorizerError> {
        let claims = match verdict {
            Ok(Verdict::Allow(c) | Verdict::Forbidden(c)) => c,
            Ok(Verdict::Unauthorized) => return Err(AuthorizerError::Unauthorized),
            Err(e) => return Err(fail_closed(e)),
        };
        let mut statements = vec![statement(
            IamPolicyEffect::Allow,
            vec![format!("{}/*/*", arn.base)],
        )];
        let denied: Vec<String> = self
            .policy
            .forbidden_resources(&claims.roles)
            .into_iter()
            .map(|(method, path)| format!("{}/{}/{}", arn.base, method, path))
            .collect();
        if !denied.is_empty() {
            statements.push(statement(IamPolicyEffect::Deny, denied));
        }
        let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
        policy.version = Some("2012-10-17".to_owned());
        policy.statement = statements;
        let mut resp: ApiGatewayCustomAuthorizerResponse<Value> =
            ApiGatewayCustomAuthorizerResponse::default();
        resp.principal_id = Some(claims.sub.clone());
        resp.policy_document = policy;
        resp.context = context(&claims);
        serde_json::to_value(resp).map_err(|_| AuthorizerError::Unavailable)
    }
}

/// HTTP API simple response. HTTP APIs cannot answer 401 from a Lambda authorizer: every
/// refusal is `isAuthorized: false` (403); that is why the template uses a REST API.
fn simple_response(verdict: Result<Verdict, PortError>) -> Value {
    let mut resp: ApiGatewayV2CustomAuthorizerSimpleResponse<Value> =
        ApiGatewayV2CustomAuthorizerSimpleResponse::default();
    match verdict {
        Ok(Verdict::Allow(c)) => {
            resp.is_authorized = true;
            resp.context = context(&c);
        }
        Ok(_) => resp.context = json!({}),
        Err(e) => {
            fail_closed(e);
            resp.context = json!({});
        }
    }
    serde_json::to_value(resp).unwrap_or_else(|_| json!({ "isAuthorized": false }))
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

/// Context passed to the protected function (values must be strings, numbers or booleans).
fn context(claims: &AccessClaims) -> Value {
    json!({
        "sub": claims.sub,
        "roles": claims.roles.join(","),
        "sid": claims.sid.clone().unwrap_or_default(),
        "jti": claims.jti,
    })
}

fn statement(effect: IamPolicyEffect, resource: Vec<String>) -> IamPolicyStatement {
    let mut s = IamPolicyStatement::default();
    s.action = vec!["execute-api:Invoke".to_owned()];
    s.effect = effect;
    s.resource = resource;
    s
}

/// `arn:PARTITION:execute-api:REGION:ACCOUNT:API_ID/STAGE/METHOD/PATH…`
#[derive(Debug, PartialEq, Eq)]
struct MethodArn {
    /// `arn:…:API_ID/STAGE`
    base: String,
    method: String,
    path: String,
}

impl MethodArn {
    fn parse(arn: &str) -> Result<Self, AuthorizerError> {
        // API Gateway puts the raw request path into the ARN, colons included, so the ARN
        // splits at its first five colons only: splitting at the last one would let a path
        // like `/api/admin/x:a/b/c` choose the base every Deny is built on.
        let fields: Vec<&str> = arn.splitn(6, ':').collect();
        let [scheme, partition, service, region, account, resource] = fields[..] else {
            return Err(unsupported());
        };
        if scheme != "arn" || service != "execute-api" || partition.is_empty() {
            return Err(unsupported());
        }
        let prefix = format!("arn:{partition}:{service}:{region}:{account}");
        let mut parts = resource.splitn(4, '/');
        let api = parts
            .next()
            .filter(|s| !s.is_empty())
            .ok_or_else(unsupported)?;
        let stage = parts
            .next()
            .filter(|s| !s.is_empty())
            .ok_or_else(unsupported)?;
        let method = parts
            .next()
            .filter(|s| !s.is_empty())
            .ok_or_else(unsupported)?;
        let path = parts.next().unwrap_or("");
        Ok(Self {
            base: format!("{prefix}:{api}/{stage}"),
            method: method.to_owned(),
            path: format!("/{path}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_method_arns() {
        let a = MethodArn::parse("arn:aws:execute-api:us-east-1:123456789012:abc123/v1/GET/api/me")
            .unwrap();
        assert_eq!(
            a.base,
            "arn:aws:execute-api:us-east-1:123456789012:abc123/v1"
        );
        assert_eq!(a.method, "GET");
        assert_eq!(a.path, "/api/me");
        assert!(MethodArn::parse("garbage").is_err());
        assert!(MethodArn::parse("arn:aws:lambda:us-east-1:1:abc/v1/GET/x").is_err());
        assert!(MethodArn::parse("arn:aws:execute-api:r:a:abc/v1").is_err());
    }

    #[test]
    fn colons_percent_signs_and_empty_segments_stay_in_the_path() {
        let base = "arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:abc123/v1";
        for path in [
            "/api/admin/x:a/b/c",
            "/a:b:c:d:e:f",
            "/api/%3A/*/?",
            "/api//admin/",
            "/",
        ] {
            let a = MethodArn::parse(&format!("{base}/DELETE{path}")).unwrap();
            assert_eq!((a.base.as_str(), a.method.as_str()), (base, "DELETE"));
            assert_eq!(a.path, path);
        }
    }
}
