//! HTTP plumbing shared by the token endpoints: body limits and JSON parsing, the error
//! mapper, the token responses, the CSRF origin check and the caller's source IP. The cookies
//! are in [`crate::cookies`] (re-exported here).

use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE, ORIGIN, RETRY_AFTER};
use lambda_http::http::{HeaderMap, HeaderValue, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokengate_domain::device::{IssuedDevice, DEVICE_COOKIE};
use tokengate_domain::login::Grant;
use tokengate_domain::origin::{
    parse_viewer_address, OriginSecret, ORIGIN_SECRET_HEADER, VIEWER_ADDRESS_HEADER,
};
use tokengate_domain::{AuthError, ErrorCode, IssuedAccessToken};

pub use crate::cookies::{
    cleared_refresh_cookie, cookie, cookie_path, presented_device, refresh_cookie,
    refresh_cookie_value, set_cookie, REFRESH_COOKIE,
};

/// Largest accepted body (DESIGN.md): larger gets 413.
pub const MAX_BODY_BYTES: usize = 8 * 1024;

/// The one error mapper: stable code, fixed message, `Retry-After` where it applies. No
/// internal detail ever reaches the body.
pub fn error_response(err: AuthError) -> Response<Body> {
    #[derive(Serialize)]
    struct ErrorResponse {
        error: &'static str,
        message: &'static str,
    }
    crate::telemetry::record_outcome(err.code.code());
    let body = ErrorResponse {
        error: err.code.code(),
        message: err.code.message(),
    };
    let mut resp = json_response(err.code.status(), &body);
    if let Some(secs) = err.retry_after {
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// A JSON response that no cache may store (it carries tokens or errors about them).
pub fn json_response<T: Serialize>(status: u16, body: &T) -> Response<Body> {
    // Serialising our own plain structs cannot fail.
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".to_owned());
    let mut resp = Response::new(Body::Text(text));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The body of a token response (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The granted scopes, space-separated; always present, so a narrowed grant is never
    /// missed (RFC 6749 §3.3, §5.1), empty when none.
    pub scope: String,
    /// The refresh token, only for native clients (body channel).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// A fresh device credential, only for native clients and only from login and the password
    /// change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

/// Where the refresh token travels: cookie for browsers, body for native clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// `__Secure-refresh_token` cookie.
    Cookie,
    /// `refresh_token` field of the JSON body.
    Body,
}

/// A 200 token response; the refresh token goes back on the channel it came in (a cookie
/// scoped to `cookie_path`, see [`cookie_path`]).
pub fn token_response(
    access: IssuedAccessToken,
    refresh: &tokengate_domain::RefreshToken,
    refresh_max_age: i64,
    channel: Channel,
    cookie_path: &str,
) -> Response<Body> {
    respond(access, refresh, refresh_max_age, None, channel, cookie_path)
}

/// Login's and the password change's 200: [`token_response`] plus the grant's device
/// credential on the same channel (the `__Secure-device` cookie beside the refresh cookie, or
/// `device` in the body).
pub fn grant_response(grant: Grant, channel: Channel, cookie_path: &str) -> Response<Body> {
    respond(
        grant.access,
        &grant.refresh,
        grant.refresh_max_age,
        grant.device.as_ref(),
        channel,
        cookie_path,
    )
}

fn respond(
    access: IssuedAccessToken,
    refresh: &tokengate_domain::RefreshToken,
    refresh_max_age: i64,
    device: Option<&IssuedDevice>,
    channel: Channel,
    cookie_path: &str,
) -> Response<Body> {
    let in_body = channel == Channel::Body;
    let body = TokenResponse {
        access_token: access.token,
        token_type: "Bearer",
        expires_in: access.expires_in,
        scope: access.scope,
        refresh_token: in_body.then(|| refresh.expose()),
        device: device
            .filter(|_| in_body)
            .map(|d| d.credential.expose().to_owned()),
    };
    let mut resp = json_response(200, &body);
    if !in_body {
        // The refresh cookie first: clients that read one `Set-Cookie` read it.
        set_cookie(
            &mut resp,
            &refresh_cookie(&refresh.expose(), refresh_max_age, cookie_path),
        );
        if let Some(d) = device {
            set_cookie(
                &mut resp,
                &cookie(DEVICE_COOKIE, d.credential.expose(), d.max_age, cookie_path),
            );
        }
    }
    resp
}

/// CSRF check for cookie-carried requests: the browser-set `Origin` must be allowed; without
/// `Origin`, `Sec-Fetch-Site: same-origin` is accepted. Anything else is refused: the cookie
/// would be sent by any page, so only the origin tells a cross-site forgery apart.
pub fn check_origin(headers: &HeaderMap, allowed: &[String]) -> Result<(), AuthError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let ok = match header(ORIGIN.as_str()) {
        Some(origin) => allowed.iter().any(|a| a == origin),
        None => header("sec-fetch-site") == Some("same-origin"),
    };
    if ok {
        Ok(())
    } else {
        tracing::warn!(event = "csrf_refused", origin = ?header(ORIGIN.as_str()));
        Err(ErrorCode::CsrfRejected.into())
    }
}

/// Parses a JSON body into `T` (whose fields are validated by serde: wrong types, unknown
/// fields, non-UTF-8 all fail). Over 8 KiB → 413; not `application/json` → 400.
pub fn parse_json<T: DeserializeOwned>(req: &Request) -> Result<T, AuthError> {
    let bytes = body_bytes(req)?;
    let is_json = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ErrorCode::InvalidRequest.into());
    }
    serde_json::from_slice(bytes).map_err(|_| ErrorCode::InvalidRequest.into())
}

/// Like [`parse_json`], but an empty body is `T::default()` (refresh and logout by cookie).
pub fn parse_optional_json<T: DeserializeOwned + Default>(req: &Request) -> Result<T, AuthError> {
    if body_bytes(req)?.is_empty() {
        return Ok(T::default());
    }
    parse_json(req)
}

fn body_bytes(req: &Request) -> Result<&[u8], AuthError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ErrorCode::PayloadTooLarge.into());
    }
    Ok(bytes)
}

/// The caller's address, which every per-source control counts (login lockout and limit,
/// refresh and logout limits): API Gateway's `sourceIp`, never `X-Forwarded-For` (the client
/// writes that). Behind CloudFront, with `origin_secret` configured and presented by the
/// request, the viewer's address from `CloudFront-Viewer-Address` instead (see
/// [`tokengate_domain::origin`]); a wrong or missing secret, or a malformed viewer address,
/// leaves `sourceIp`.
pub fn source_ip(req: &Request, origin_secret: Option<&OriginSecret>) -> String {
    if let Some(viewer) = origin_secret.and_then(|s| viewer_address(req.headers(), s)) {
        return viewer;
    }
    let ip = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.identity.source_ip.clone(),
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        _ => None,
    };
    ip.unwrap_or_else(|| "unknown".to_owned())
}

/// `CloudFront-Viewer-Address` of a request that carries the origin secret. The warnings name
/// what was wrong, never a header's value.
fn viewer_address(headers: &HeaderMap, secret: &OriginSecret) -> Option<String> {
    match one_value(headers, ORIGIN_SECRET_HEADER) {
        // Not through CloudFront (or not configured there): `sourceIp` is the caller's own.
        Ok(None) => return None,
        Ok(Some(presented)) if secret.admits(presented) => {}
        // CloudFront sends its custom header once, overwriting a viewer's.
        Ok(Some(_)) | Err(Repeated) => {
            tracing::warn!(event = "origin_secret_refused");
            return None;
        }
    }
    let viewer = match one_value(headers, VIEWER_ADDRESS_HEADER) {
        Ok(Some(v)) => std::str::from_utf8(v).ok().and_then(parse_viewer_address),
        // The origin request policy does not forward it: every viewer counts as its edge.
        Ok(None) => {
            tracing::warn!(event = "viewer_address_missing");
            return None;
        }
        Err(Repeated) => None,
    };
    if viewer.is_none() {
        tracing::warn!(event = "viewer_address_malformed");
    }
    viewer.map(|ip| ip.to_string())
}

/// A header sent more than once where one value is expected.
struct Repeated;

/// The value of header `name` if it was sent once, `None` if not at all.
fn one_value<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h [u8]>, Repeated> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (first, None) => Ok(first.map(HeaderValue::as_bytes)),
        _ => Err(Repeated),
    }
}

/// The template's path of the route a request came in on (`requestContext.resourcePath`, e.g.
/// `/oauth/token`): neither the stage prefix nor a custom domain's base path changes it, so a
/// function serving two routes tells them apart by it. Outside API Gateway, the URI's path.
pub fn resource_path(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.resource_path.clone(),
        _ => None,
    }
    .filter(|p| !p.is_empty())
    .unwrap_or_else(|| req.uri().path().to_owned())
}

/// The bearer token of an `Authorization` header, if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    strip_bearer(value)
}

/// `Bearer <token>` → `<token>` (scheme case-insensitive, RFC 7235).
pub fn strip_bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_requires_an_allowed_origin_or_same_origin_fetch() {
        let allowed = vec!["https://app.example.com".to_owned()];
        let mut h = HeaderMap::new();
        assert!(check_origin(&h, &allowed).is_err());
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(check_origin(&h, &allowed).is_err());
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(check_origin(&h, &allowed).is_ok());
        h.insert(ORIGIN, HeaderValue::from_static("https://evil.example"));
        assert!(check_origin(&h, &allowed).is_err());
        // A sandboxed or privacy-sensitive context sends `Origin: null`.
        h.insert(ORIGIN, HeaderValue::from_static("null"));
        assert!(check_origin(&h, &allowed).is_err());
        h.insert(ORIGIN, HeaderValue::from_static("https://app.example.com"));
        assert!(check_origin(&h, &allowed).is_ok());
    }

    #[test]
    fn a_repeated_origin_secret_or_viewer_address_is_not_believed() {
        let secret = "origin-secret-0123456789abcdef";
        let origin = OriginSecret::parse(secret).unwrap().unwrap();
        let headers = |secrets: &[&'static str], viewers: &[&'static str]| {
            let mut h = HeaderMap::new();
            for s in secrets {
                h.append(ORIGIN_SECRET_HEADER, HeaderValue::from_static(s));
            }
            for v in viewers {
                h.append(VIEWER_ADDRESS_HEADER, HeaderValue::from_static(v));
            }
            h
        };
        let once = headers(&["origin-secret-0123456789abcdef"], &["192.0.2.7:443"]);
        assert_eq!(viewer_address(&once, &origin).as_deref(), Some("192.0.2.7"));
        let twice = [
            "origin-secret-0123456789abcdef",
            "origin-secret-0123456789abcdef",
        ];
        assert_eq!(
            viewer_address(&headers(&twice, &["192.0.2.7:443"]), &origin),
            None
        );
        let viewers = ["192.0.2.7:443", "198.51.100.1:443"];
        assert_eq!(
            viewer_address(&headers(&[twice[0]], &viewers), &origin),
            None
        );
        assert_eq!(
            viewer_address(&headers(&[], &["192.0.2.7:443"]), &origin),
            None
        );
        assert!(origin.admits(secret.as_bytes()));
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_required() {
        assert_eq!(strip_bearer("Bearer abc"), Some("abc"));
        assert_eq!(strip_bearer("bearer abc"), Some("abc"));
        assert_eq!(strip_bearer("Basic abc"), None);
        assert_eq!(strip_bearer("Bearer "), None);
        assert_eq!(strip_bearer("abc"), None);
    }
}
