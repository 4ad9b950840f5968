//! The token endpoint (`POST /oauth/token`): RFC 6749 §6, the refresh grant of a public client
//! (`token_endpoint_auth_methods_supported: none`). The password login is not an OAuth grant
//! (it is `POST /auth/login`, a JSON API with lockout and device credentials); a client gets
//! its first refresh token there and rotates it here or at `/auth/refresh` alike.

use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tokengate_domain::clients::GrantRequest;
use tokengate_domain::refresh::Refresh;

use super::{oauth_error, oauth_json, Form, OAuthError};
use crate::cors::{Cors, CorsRoute};
use crate::http::source_ip;

/// The §5.1 success body.
#[derive(Debug, Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    refresh_token: String,
    /// The granted scopes, space-separated; absent while none is granted (an empty string is
    /// not a scope value, RFC 6749 §3.3).
    #[serde(skip_serializing_if = "String::is_empty")]
    scope: String,
}

/// Handles `POST /oauth/token` and its CORS preflight.
pub async fn handle(refresh: &Refresh, req: Request) -> Result<Response<Body>, lambda_http::Error> {
    Cors::new(&refresh.config.allowed_origins, CorsRoute::OAUTH)
        .answer(req, |req| async move {
            Ok(match run(refresh, &req).await {
                Ok(resp) => resp,
                Err(e) => oauth_error(e),
            })
        })
        .await
}

async fn run(refresh: &Refresh, req: &Request) -> Result<Response<Body>, OAuthError> {
    let form = Form::parse(req)?;
    let grant_type = form.get("grant_type").ok_or(OAuthError::INVALID_REQUEST)?;
    let client_id = form.get("client_id").ok_or(OAuthError::INVALID_REQUEST)?;
    if !refresh.config.knows_client(client_id) {
        return Err(OAuthError::INVALID_CLIENT);
    }
    if grant_type != "refresh_token" {
        return Err(OAuthError::UNSUPPORTED_GRANT_TYPE);
    }
    let token = form
        .get("refresh_token")
        .ok_or(OAuthError::INVALID_REQUEST)?;
    // The domain checks client, scope and resource before the rotation (and before KMS): a
    // refused scope does not spend the presented token.
    let ask = GrantRequest {
        client_id: Some(client_id.to_owned()),
        scope: form.get("scope").map(str::to_owned),
        resource: form.get("resource").map(str::to_owned),
    };
    let source_ip = source_ip(req, refresh.config.origin_secret.as_ref());
    let grant = refresh.refresh_as(token, &source_ip, &ask).await?;
    Ok(oauth_json(
        200,
        &TokenResponse {
            access_token: grant.access.token,
            token_type: "Bearer",
            expires_in: grant.access.expires_in,
            refresh_token: grant.refresh.expose(),
            scope: grant.access.scope,
        },
    ))
}
