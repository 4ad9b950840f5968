//! `POST /auth/logout`.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use tokengate_domain::logout::{Logout, LogoutRequest};
use tokengate_domain::AuthError;

use crate::cors::{Cors, CorsRoute};
use crate::http::{
    bearer_token, cleared_refresh_cookie, cookie_path, error_response, parse_optional_json,
    set_cookie, source_ip,
};
use crate::refresh::presented_token;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LogoutBody {
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    scope: Option<Scope>,
}

#[derive(Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Scope {
    Local,
    Global,
}

/// The logout function's two routes: `POST /oauth/revoke` (RFC 7009, the same operation,
/// [`crate::oauth::revoke`]) and `POST /auth/logout`.
pub async fn route(
    logout: &Logout,
    allowed_origins: &[String],
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    if crate::http::resource_path(&req) == crate::discovery::REVOCATION_PATH {
        crate::oauth::revoke::handle(logout, allowed_origins, req).await
    } else {
        handle(logout, allowed_origins, req).await
    }
}

/// Handles a logout request: 204 and a cleared cookie, whether or not anything was ended (and
/// its CORS preflight).
pub async fn handle(
    logout: &Logout,
    allowed_origins: &[String],
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    Cors::new(allowed_origins, CorsRoute::COOKIE)
        .answer(req, |req| answer(logout, allowed_origins, req))
        .await
}

async fn answer(
    logout: &Logout,
    allowed_origins: &[String],
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let path = cookie_path(&req, logout.config.cookie_path.as_deref());
    Ok(match run(logout, allowed_origins, &req).await {
        Ok(()) => {
            let mut resp = Response::new(Body::Empty);
            *resp.status_mut() = lambda_http::http::StatusCode::NO_CONTENT;
            resp.headers_mut().insert(
                lambda_http::http::header::CACHE_CONTROL,
                lambda_http::http::HeaderValue::from_static("no-store"),
            );
            set_cookie(&mut resp, &cleared_refresh_cookie(&path));
            resp
        }
        Err(e) => error_response(e),
    })
}

async fn run(logout: &Logout, allowed_origins: &[String], req: &Request) -> Result<(), AuthError> {
    let body: LogoutBody = parse_optional_json(req)?;
    let refresh = presented_token(req, body.refresh_token, allowed_origins)?;
    let source_ip = source_ip(req, logout.config.origin_secret.as_ref());
    logout
        .logout(LogoutRequest {
            refresh_token: refresh.as_ref().map(|(t, _)| t.as_str()),
            access_token: bearer_token(req.headers()),
            global: body.scope == Some(Scope::Global),
            source_ip: &source_ip,
        })
        .await
}
