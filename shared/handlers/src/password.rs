//! `POST /auth/password`: change the caller's password. The route sits behind the authorizer,
//! which identifies the caller (its context's `sub`); the current password proves it is still
//! them. The answer is login's: a fresh token pair on the client's channel.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use tokengate_domain::password_change::{PasswordChange, PasswordChangeRequest};
use tokengate_domain::{AuthError, ErrorCode, Password};

use crate::cors::{Cors, CorsRoute};
use crate::http::{
    cookie_path, error_response, grant_response, parse_json, presented_device, source_ip,
};
use crate::login::ClientKind;
use crate::me::caller;

/// The password-change body. Unknown fields are refused, not ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChangeBody {
    current_password: String,
    new_password: String,
    #[serde(default)]
    client: ClientKind,
    /// A native client's device credential (browsers send the `__Secure-device` cookie, whose
    /// path covers this route).
    #[serde(default)]
    device: Option<String>,
}

/// Handles a password change (and its CORS preflight).
pub async fn handle(
    change: &PasswordChange,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    Cors::new(&change.login.config.allowed_origins, CorsRoute::COOKIE)
        .answer(req, |req| async move {
            Ok(match run(change, &req).await {
                Ok(resp) => resp,
                Err(e) => error_response(e),
            })
        })
        .await
}

async fn run(change: &PasswordChange, req: &Request) -> Result<Response<Body>, AuthError> {
    // No authorizer context: the route was deployed without the authorizer. Nobody is
    // identified, so nobody's password changes.
    let caller = caller(req).ok_or(ErrorCode::InvalidCredentials)?;
    let body: PasswordChangeBody = parse_json(req)?;
    let grant = change
        .change(PasswordChangeRequest {
            user_id: caller.sub,
            current_password: Password::new(body.current_password),
            new_password: body.new_password,
            source_ip: source_ip(req, change.login.config.origin_secret.as_ref()),
            device: presented_device(req.headers(), body.device),
            client_id: caller.client_id,
            scope: caller.scope,
        })
        .await?;
    Ok(grant_response(
        grant,
        body.client.channel(),
        &cookie_path(req, change.login.config.cookie_path.as_deref()),
    ))
}
