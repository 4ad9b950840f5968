//! `POST /auth/login`.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use tokengate_domain::login::{Login, LoginAttempt};
use tokengate_domain::Password;

use crate::cors::{Cors, CorsRoute};
use crate::http::{
    cookie_path, error_response, grant_response, parse_json, presented_device, source_ip, Channel,
};

/// The login body. Unknown fields (say, `roles`) are refused, not ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    username: String,
    password: String,
    #[serde(default)]
    client: ClientKind,
    /// A native client's device credential (browsers send the `__Secure-device` cookie).
    #[serde(default)]
    device: Option<String>,
}

/// Browsers get the refresh token and the device credential as HttpOnly cookies; native
/// clients in the body.
#[derive(Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ClientKind {
    #[default]
    Web,
    Native,
}

impl ClientKind {
    /// Where this client gets its refresh token.
    pub(crate) fn channel(&self) -> Channel {
        match self {
            ClientKind::Web => Channel::Cookie,
            ClientKind::Native => Channel::Body,
        }
    }
}

/// Handles a login request (and its CORS preflight).
pub async fn handle(login: &Login, req: Request) -> Result<Response<Body>, lambda_http::Error> {
    Cors::new(&login.config.allowed_origins, CorsRoute::COOKIE)
        .answer(req, |req| run(login, req))
        .await
}

async fn run(login: &Login, req: Request) -> Result<Response<Body>, lambda_http::Error> {
    let body: LoginRequest = match parse_json(&req) {
        Ok(b) => b,
        Err(e) => return Ok(error_response(e)),
    };
    let channel = body.client.channel();
    let attempt = LoginAttempt {
        username: body.username,
        password: Password::new(body.password),
        source_ip: source_ip(&req, login.config.origin_secret.as_ref()),
        device: presented_device(req.headers(), body.device),
    };
    Ok(match login.login(attempt).await {
        Ok(g) => grant_response(
            g,
            channel,
            &cookie_path(&req, login.config.cookie_path.as_deref()),
        ),
        Err(e) => error_response(e),
    })
}
