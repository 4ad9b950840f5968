//! `POST /auth/refresh`.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use tokengate_domain::clients::GrantRequest;
use tokengate_domain::refresh::Refresh;
use tokengate_domain::{AuthError, ErrorCode};

use crate::cors::{Cors, CorsRoute};
use crate::http::{
    check_origin, cookie_path, error_response, parse_optional_json, refresh_cookie_value,
    source_ip, token_response, Channel,
};

/// Optional body: native clients send their refresh token here.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshRequest {
    #[serde(default)]
    pub(crate) refresh_token: Option<String>,
    /// The client the session was started by (absent: the session's own).
    #[serde(default)]
    pub(crate) client_id: Option<String>,
    /// A subset of the session's original scopes (absent: all of them).
    #[serde(default)]
    pub(crate) scope: Option<String>,
    /// The session's resource (absent: the same).
    #[serde(default)]
    pub(crate) resource: Option<String>,
}

/// Finds the presented refresh token and its channel. A body token needs no CSRF check (a
/// forging page cannot know it); a cookie does.
pub(crate) fn presented_token(
    req: &Request,
    body_token: Option<String>,
    allowed_origins: &[String],
) -> Result<Option<(String, Channel)>, AuthError> {
    if let Some(t) = body_token {
        return Ok(Some((t, Channel::Body)));
    }
    match refresh_cookie_value(req.headers())? {
        Some(t) => {
            check_origin(req.headers(), allowed_origins)?;
            Ok(Some((t, Channel::Cookie)))
        }
        None => Ok(None),
    }
}

/// The refresh function's two routes: `POST /oauth/token` (the same rotation behind an RFC 6749
/// face, [`crate::oauth::token`]) and `POST /auth/refresh`.
pub async fn route(refresh: &Refresh, req: Request) -> Result<Response<Body>, lambda_http::Error> {
    if crate::http::resource_path(&req) == crate::discovery::TOKEN_PATH {
        crate::oauth::token::handle(refresh, req).await
    } else {
        handle(refresh, req).await
    }
}

/// Handles a refresh request (and its CORS preflight).
pub async fn handle(refresh: &Refresh, req: Request) -> Result<Response<Body>, lambda_http::Error> {
    Cors::new(&refresh.config.allowed_origins, CorsRoute::COOKIE)
        .answer(req, |req| async move {
            Ok(match run(refresh, &req).await {
                Ok(resp) => resp,
                Err(e) => error_response(e),
            })
        })
        .await
}

async fn run(refresh: &Refresh, req: &Request) -> Result<Response<Body>, AuthError> {
    let body: RefreshRequest = parse_optional_json(req)?;
    let (token, channel) =
        presented_token(req, body.refresh_token, &refresh.config.allowed_origins)?
            .ok_or(ErrorCode::InvalidRefreshToken)?;
    let source_ip = source_ip(req, refresh.config.origin_secret.as_ref());
    let ask = GrantRequest {
        client_id: body.client_id,
        scope: body.scope,
        resource: body.resource,
    };
    let grant = refresh.refresh_as(&token, &source_ip, &ask).await?;
    Ok(token_response(
        grant.access,
        &grant.refresh,
        grant.refresh_max_age,
        channel,
        &cookie_path(req, refresh.config.cookie_path.as_deref()),
    ))
}
