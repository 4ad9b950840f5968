//! `GET /.well-known/jwks.json`: every key a verifier must currently trust.

use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use lambda_http::http::HeaderValue;
use lambda_http::{Body, Request, Response};
use tokengate_claims::Jwks;

use crate::cors::{Cors, CorsRoute};

/// How long verifiers may cache the key set. Short enough that a newly trusted key (added
/// before it signs anything, see the rotation procedure) is picked up well within a rotation.
pub const JWKS_MAX_AGE_SECS: u32 = 300;

/// Handles `GET /.well-known/jwks.json` for a page of one of `allowed_origins` (a browser app
/// verifying tokens itself), its CORS preflight included.
pub async fn handle(
    jwks: &Jwks,
    allowed_origins: &[String],
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    Cors::new(allowed_origins, CorsRoute::PUBLIC_GET)
        .answer(req, |_| async { Ok(response(jwks)) })
        .await
}

/// The JWKS response, built once at cold start and served as is.
pub fn response(jwks: &Jwks) -> Response<Body> {
    let text = serde_json::to_string(jwks).unwrap_or_else(|_| r#"{"keys":[]}"#.to_owned());
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
