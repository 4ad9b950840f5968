//! The revocation endpoint (`POST /oauth/revoke`): RFC 7009. A refresh token ends its session
//! (the whole rotation family); an access token (a JWT our keys verify, unexpired) goes on the
//! denylist until `exp` + leeway and, as RFC 7009 §2.1 allows, its session ends too. The same
//! operation as `/auth/logout` (local), so the same limits and the same liveness rules apply.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tokengate_domain::logout::{Logout, LogoutRequest};

use super::{oauth_error, oauth_json, Form, OAuthError};
use crate::cors::{Cors, CorsRoute};
use crate::http::source_ip;

/// Handles `POST /oauth/revoke` and its CORS preflight.
pub async fn handle(
    logout: &Logout,
    allowed_origins: &[String],
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    Cors::new(allowed_origins, CorsRoute::OAUTH)
        .answer(req, |req| async move {
            Ok(match run(logout, &req).await {
                // §2.2: 200, and the content of the body is ignored by the client.
                Ok(()) => oauth_json(StatusCode::OK.as_u16(), &serde_json::json!({})),
                Err(e) => oauth_error(e),
            })
        })
        .await
}

async fn run(logout: &Logout, req: &Request) -> Result<(), OAuthError> {
    let form = Form::parse(req)?;
    let token = form.get("token").ok_or(OAuthError::INVALID_REQUEST)?;
    // A public client identifies itself, if at all, with `client_id` (§2.1): one the
    // deployment does not know is refused as at the token endpoint.
    if form
        .get("client_id")
        .is_some_and(|id| !logout.config.knows_client(id))
    {
        return Err(OAuthError::INVALID_CLIENT);
    }
    // `token_type_hint` is only a hint (§2.1): a refresh token and a JWT cannot be mistaken for
    // each other, so the token is offered as both and each reading ignores what it cannot
    // parse. An unknown hint value is ignored too, and `unsupported_token_type` never needed.
    let source_ip = source_ip(req, logout.config.origin_secret.as_ref());
    logout
        .logout(LogoutRequest {
            refresh_token: Some(token),
            access_token: Some(token),
            global: false,
            source_ip: &source_ip,
        })
        .await?;
    Ok(())
}
