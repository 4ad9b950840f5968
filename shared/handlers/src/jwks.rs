//! `GET /.well-known/jwks.json`: every key a verifier must currently trust — the keyring's
//! `next`, `current` and `retiring` keys, as this instance last read them.

use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use lambda_http::http::HeaderValue;
use lambda_http::{Body, Request, Response};
use tokengate_domain::error::UNAVAILABLE_RETRY_AFTER_SECS;
use tokengate_domain::keyring::LiveKeyring;
use tokengate_domain::{AuthError, ErrorCode};

use crate::cors::{Cors, CorsRoute};
use crate::http::error_response;

/// How long verifiers may cache the key set. Short enough that a `next` key (published before
/// it signs anything) reaches other verifiers well within a rotation: the procedure of
/// docs/key-rotation.md waits this long between `keys create` and `keys promote`.
pub const JWKS_MAX_AGE_SECS: u32 = 300;

/// The JWKS function's routes: the key set, and the discovery metadata
/// ([`crate::discovery`]), which changes with the keyring only and is cached alike.
pub async fn route(
    keyring: &LiveKeyring,
    config: &tokengate_domain::AuthConfig,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    if crate::discovery::is_metadata_request(&req) {
        crate::discovery::handle(keyring, config, req).await
    } else {
        handle(keyring, &config.allowed_origins, req).await
    }
}

/// Handles `GET /.well-known/jwks.json` for a page of one of `allowed_origins` (a browser app
/// verifying tokens itself), its CORS preflight included.
pub async fn handle(
    keyring: &LiveKeyring,
    allowed_origins: &[String],
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    Cors::new(allowed_origins, CorsRoute::PUBLIC_GET)
        .answer(req, |_| async { Ok(response(keyring).await) })
        .await
}

/// The JWKS response from the keyring as last read (re-read at most every refresh interval).
/// While the keyring could never be read, 503 `service_unavailable`: an empty key set would be
/// cached by verifiers as the truth.
pub async fn response(keyring: &LiveKeyring) -> Response<Body> {
    let keys = keyring.keys().await;
    if !keys.is_known() {
        return error_response(AuthError::retry_after(
            ErrorCode::ServiceUnavailable,
            UNAVAILABLE_RETRY_AFTER_SECS,
        ));
    }
    let jwks = keys.verifier().jwks();
    let text = serde_json::to_string(&jwks).unwrap_or_else(|_| r#"{"keys":[]}"#.to_owned());
    let mut resp = Response::new(Body::Text(text));
    let h = resp.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/jwk-set+json"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={JWKS_MAX_AGE_SECS}")) {
        h.insert(CACHE_CONTROL, v);
    }
    resp
}
