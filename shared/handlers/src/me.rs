//! `GET /api/me`: the demo protected function. It trusts the authorizer context that API
//! Gateway passes on — this is the example other teams copy to read who is calling.

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde_json::Value;

use crate::cors::{Cors, CorsRoute};
use crate::http::json_response;

/// The caller as the authorizer described them.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Caller {
    /// `sub` of the access token.
    pub sub: String,
    /// Roles of the access token.
    pub roles: Vec<String>,
    /// Session id.
    pub sid: String,
    /// The client the token was issued to (empty from an authorizer of before clients).
    pub client_id: String,
    /// The token's scopes, space-separated (RFC 8693 §4.2), empty when none.
    pub scope: String,
}

/// Reads the authorizer context of a REST (v1) or HTTP API (v2) request.
pub fn caller(req: &Request) -> Option<Caller> {
    let fields = match req.request_context_ref()? {
        RequestContext::ApiGatewayV1(ctx) => ctx.authorizer.fields.clone(),
        RequestContext::ApiGatewayV2(ctx) => ctx.authorizer.as_ref()?.fields.clone(),
        _ => return None,
    };
    let text = |k: &str| match fields.get(k) {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    Some(Caller {
        sub: text("sub")?,
        roles: text("roles")
            .map(|r| {
                r.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        sid: text("sid").unwrap_or_default(),
        client_id: text("client_id").unwrap_or_default(),
        scope: text("scope").unwrap_or_default(),
    })
}

/// Handles `GET /api/me` (and the admin routes) for a page of one of `allowed_origins`, its
/// CORS preflight included. Without an authorizer context (a misconfigured route) it refuses.
pub async fn handle(
    allowed_origins: &[String],
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    Cors::new(allowed_origins, CorsRoute::BEARER)
        .answer(req, |req| async move {
            Ok(match caller(&req) {
                Some(c) => json_response(200, &c),
                None => crate::http::error_response(tokengate_domain::AuthError::new(
                    tokengate_domain::ErrorCode::InvalidRequest,
                )),
            })
        })
        .await
}
