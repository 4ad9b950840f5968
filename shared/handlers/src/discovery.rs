//! `GET /.well-known/oauth-authorization-server` (RFC 8414) and
//! `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4): one metadata
//! document at both, served by the JWKS function and cached like the JWKS.
//!
//! # Where the endpoints are
//! Every URL is `TOKENGATE_ISSUER` followed by the route's path: the issuer must be the URL the
//! API is reached at — `https://<custom domain>` (the base path mapping is at the root) or the
//! stage URL `https://<api>.execute-api.<region>.amazonaws.com/v1`. That is no extra
//! assumption: clients fetch this document *from* the issuer (RFC 8414 §3, OIDC Discovery
//! §4), so a deployment whose issuer is not its API's URL has no discoverable metadata anyway.
//!
//! # What is published, and why
//! tokengate is an OAuth 2.0 authorization server without an authorization endpoint: the only
//! grant is `refresh_token` (the password login is `POST /auth/login`, a JSON API, not an
//! OAuth grant), clients are public (`none`), `response_types_supported` is empty. It issues
//! no ID tokens. OIDC Discovery §3 still makes `subject_types_supported` and
//! `id_token_signing_alg_values_supported` REQUIRED, and strict parsers of the
//! `openid-configuration` document refuse it without them; both are published with values
//! true of every token tokengate signs (`sub` is the same user id for every client: `public`;
//! the keyring's algorithm). Without an `openid` scope, an authorization endpoint or a
//! response type, no client can be led to expect an ID token.

use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use lambda_http::http::HeaderValue;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tokengate_domain::error::UNAVAILABLE_RETRY_AFTER_SECS;
use tokengate_domain::keyring::LiveKeyring;
use tokengate_domain::{AuthConfig, AuthError, ErrorCode};

use crate::cors::{Cors, CorsRoute};
use crate::http::error_response;
use crate::jwks::JWKS_MAX_AGE_SECS;

/// The RFC 8414 well-known path.
pub const OAUTH_METADATA_PATH: &str = "/.well-known/oauth-authorization-server";
/// The OpenID Connect Discovery well-known path.
pub const OPENID_CONFIGURATION_PATH: &str = "/.well-known/openid-configuration";
/// The token endpoint's path below the issuer.
pub const TOKEN_PATH: &str = "/oauth/token";
/// The revocation endpoint's path below the issuer.
pub const REVOCATION_PATH: &str = "/oauth/revoke";
/// The JWKS path below the issuer.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// The metadata document.
#[derive(Debug, Serialize)]
pub struct Metadata {
    issuer: String,
    jwks_uri: String,
    token_endpoint: String,
    revocation_endpoint: String,
    scopes_supported: Vec<String>,
    response_types_supported: [&'static str; 0],
    grant_types_supported: [&'static str; 1],
    token_endpoint_auth_methods_supported: [&'static str; 1],
    revocation_endpoint_auth_methods_supported: [&'static str; 1],
    subject_types_supported: [&'static str; 1],
    id_token_signing_alg_values_supported: Vec<String>,
}

impl Metadata {
    /// The document for `config`, the keyring's algorithms as `algorithms`.
    pub fn new(config: &AuthConfig, algorithms: Vec<String>) -> Self {
        // RFC 8414 §2: the issuer has no query or fragment; a trailing slash is the deployer's
        // typo, not a path segment, and would double the endpoints' slashes.
        let base = config.issuer.trim_end_matches('/');
        Self {
            issuer: config.issuer.clone(),
            jwks_uri: format!("{base}{JWKS_PATH}"),
            token_endpoint: format!("{base}{TOKEN_PATH}"),
            revocation_endpoint: format!("{base}{REVOCATION_PATH}"),
            scopes_supported: config.scopes_supported(),
            response_types_supported: [],
            grant_types_supported: ["refresh_token"],
            token_endpoint_auth_methods_supported: ["none"],
            revocation_endpoint_auth_methods_supported: ["none"],
            subject_types_supported: ["public"],
            id_token_signing_alg_values_supported: algorithms,
        }
    }
}

/// Whether the JWKS function's request is for the metadata (by the template's resource path,
/// which neither the stage prefix nor a custom domain changes).
pub fn is_metadata_request(req: &Request) -> bool {
    let path = crate::http::resource_path(req);
    path == OAUTH_METADATA_PATH || path == OPENID_CONFIGURATION_PATH
}

/// Handles a metadata request and its CORS preflight.
pub async fn handle(
    keyring: &LiveKeyring,
    config: &AuthConfig,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    Cors::new(&config.allowed_origins, CorsRoute::PUBLIC_GET)
        .answer(req, |_| async { Ok(response(keyring, config).await) })
        .await
}

/// The document, `Cache-Control` as the JWKS. While the keyring could never be read, 503: the
/// algorithms are not known.
pub async fn response(keyring: &LiveKeyring, config: &AuthConfig) -> Response<Body> {
    let keys = keyring.keys().await;
    if !keys.is_known() {
        return error_response(AuthError::retry_after(
            ErrorCode::ServiceUnavailable,
            UNAVAILABLE_RETRY_AFTER_SECS,
        ));
    }
    let mut algorithms: Vec<String> = keys
        .verifier()
        .jwks()
        .keys
        .into_iter()
        .map(|k| k.alg)
        .collect();
    algorithms.sort();
    algorithms.dedup();
    let text = serde_json::to_string(&Metadata::new(config, algorithms))
        .unwrap_or_else(|_| "{}".to_owned());
    let mut resp = Response::new(Body::Text(text));
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={JWKS_MAX_AGE_SECS}")) {
        h.insert(CACHE_CONTROL, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_sit_under_a_stage_prefixed_issuer_and_a_trailing_slash_is_not_doubled() {
        let stage = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1";
        for issuer in [stage.to_owned(), format!("{stage}/")] {
            let m = Metadata::new(
                &AuthConfig::new(issuer.clone(), "api"),
                vec!["RS256".into()],
            );
            assert_eq!(m.issuer, issuer, "the issuer exactly as configured");
            assert_eq!(m.token_endpoint, format!("{stage}/oauth/token"));
            assert_eq!(m.revocation_endpoint, format!("{stage}/oauth/revoke"));
            assert_eq!(m.jwks_uri, format!("{stage}/.well-known/jwks.json"));
        }
    }
}
