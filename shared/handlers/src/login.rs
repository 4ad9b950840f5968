//! `POST /auth/login`.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use tokengate_domain::clients::{ClientKind as RegisteredKind, Clients, GrantRequest};
use tokengate_domain::login::{Login, LoginAttempt};
use tokengate_domain::{ErrorCode, Password};

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
    client: Option<ClientKind>,
    /// A native client's device credential (browsers send the `__Secure-device` cookie).
    #[serde(default)]
    device: Option<String>,
    /// A registered client (absent: the default client).
    #[serde(default)]
    client_id: Option<String>,
    /// Space-separated scopes (absent: the client's default set).
    #[serde(default)]
    scope: Option<String>,
    /// The resource server the token is for (RFC 8707; absent: the client's first).
    #[serde(default)]
    resource: Option<String>,
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

/// Where the refresh token goes: a registered client's kind decides (a contradicting
/// `"client"` is `invalid_request`); the default client's requests say it themselves, as
/// before clients existed.
fn channel(
    clients: &Clients,
    ask: &GrantRequest,
    said: Option<ClientKind>,
) -> Result<Channel, ErrorCode> {
    let registered = match clients.client(ask.client_id.as_deref())?.kind {
        Some(RegisteredKind::Browser) => ClientKind::Web,
        Some(RegisteredKind::Native) => ClientKind::Native,
        None => return Ok(said.unwrap_or_default().channel()),
    };
    match said {
        Some(kind) if kind != registered => Err(ErrorCode::InvalidRequest),
        _ => Ok(registered.channel()),
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
    let ask = GrantRequest {
        client_id: body.client_id,
        scope: body.scope,
        resource: body.resource,
    };
    let channel = match channel(&login.config.clients, &ask, body.client) {
        Ok(c) => c,
        Err(e) => return Ok(error_response(e.into())),
    };
    let attempt = LoginAttempt {
        username: body.username,
        password: Password::new(body.password),
        source_ip: source_ip(&req, login.config.origin_secret.as_ref()),
        device: presented_device(req.headers(), body.device),
        ask,
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
