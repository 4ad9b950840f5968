//! HTTP plumbing shared by the token endpoints: body limits and JSON parsing, the error
//! mapper, the refresh cookie, the CSRF origin check and the caller's source IP.

use lambda_http::http::header::{
    CACHE_CONTROL, CONTENT_TYPE, COOKIE, ORIGIN, RETRY_AFTER, SET_COOKIE,
};
use lambda_http::http::{HeaderMap, HeaderValue, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokengate_domain::config::is_plain_cookie_path;
use tokengate_domain::device::{DeviceCredential, IssuedDevice, DEVICE_COOKIE};
use tokengate_domain::login::Grant;
use tokengate_domain::{AuthError, ErrorCode, IssuedAccessToken};

/// Largest accepted body (DESIGN.md): larger gets 413.
pub const MAX_BODY_BYTES: usize = 8 * 1024;
/// Name of the refresh cookie. `__Secure-` makes browsers refuse it without `Secure`.
pub const REFRESH_COOKIE: &str = "__Secure-refresh_token";

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

/// The one cookie builder: `HttpOnly` (no script access), `Secure`, `SameSite=Strict` and a
/// `Path` of the auth routes, so the cookie is sent to them only. The refresh cookie and the
/// device cookie are both built here, with one path.
pub fn cookie(name: &str, value: &str, max_age: i64, path: &str) -> String {
    format!(
        "{name}={value}; HttpOnly; Secure; SameSite=Strict; Path={path}; Max-Age={}",
        max_age.max(0)
    )
}

/// The refresh cookie ([`cookie`] named [`REFRESH_COOKIE`]).
pub fn refresh_cookie(value: &str, max_age: i64, path: &str) -> String {
    cookie(REFRESH_COOKIE, value, max_age, path)
}

/// A cookie that deletes the refresh cookie: same name and path, no value, no age.
pub fn cleared_refresh_cookie(path: &str) -> String {
    refresh_cookie("", 0, path)
}

/// The refresh cookie's `Path`: the configured one (`TOKENGATE_COOKIE_PATH`) if set, else where
/// the browser reached the auth routes — the request's path as API Gateway saw it
/// (`requestContext.path` for REST, `requestContext.http.path` for HTTP APIs) without its last
/// segment: `/v1/auth` on the execute-api URL (stage prefix), `/auth` behind a custom domain
/// with a root mapping, `/identity/auth` under a base path. Login, refresh and logout all sit
/// under it, so the cookie they set, send and clear is one. Falls back to `/auth` when the path
/// is missing or holds anything but plain path characters (a cookie attribute must not be
/// writable by the request).
pub fn cookie_path(req: &Request, configured: Option<&str>) -> String {
    if let Some(path) = configured {
        return path.to_owned();
    }
    let path = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.path.clone(),
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.path.clone(),
        _ => None,
    };
    path.as_deref()
        .and_then(|p| p.rsplit_once('/'))
        .map(|(parent, _)| parent)
        .filter(|parent| is_plain_cookie_path(parent))
        .unwrap_or("/auth")
        .to_owned()
}

/// Appends a `Set-Cookie` header.
pub fn set_cookie(resp: &mut Response<Body>, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
}

/// The refresh cookie's value, if sent. Two cookies of that name (cookie tossing from a
/// sibling domain) are refused rather than guessed between.
pub fn refresh_cookie_value(headers: &HeaderMap) -> Result<Option<String>, AuthError> {
    cookie_values(headers, REFRESH_COOKIE).and_then(|values| match values.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.clone()).filter(|v| !v.is_empty())),
        _ => Err(ErrorCode::InvalidRequest.into()),
    })
}

/// The device credential a login or password change presents: the body's `device`, else the
/// `__Secure-device` cookie. Never an error: two device cookies (one tossed from a sibling
/// domain) or an unreadable `Cookie` header only mean "no credential", so that a planted
/// cookie cannot stop a login — the attempt is then counted as one without a credential.
pub fn presented_device(headers: &HeaderMap, body: Option<String>) -> Option<DeviceCredential> {
    let value = match body {
        Some(v) => Some(v),
        None => match cookie_values(headers, DEVICE_COOKIE).ok()?.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        },
    };
    value.filter(|v| !v.is_empty()).map(DeviceCredential::new)
}

/// Every value of the cookie `name` in the `Cookie` headers, in order; an error for a header
/// that is not text.
fn cookie_values(headers: &HeaderMap, name: &str) -> Result<Vec<String>, AuthError> {
    let mut found = Vec::new();
    for header in headers.get_all(COOKIE) {
        let Ok(text) = header.to_str() else {
            return Err(ErrorCode::InvalidRequest.into());
        };
        for pair in text.split(';') {
            if let Some((n, value)) = pair.trim().split_once('=') {
                if n == name {
                    found.push(value.to_owned());
                }
            }
        }
    }
    Ok(found)
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

/// API Gateway's view of the caller's IP. Never `X-Forwarded-For`: the client writes that.
pub fn source_ip(req: &Request) -> String {
    let ip = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.identity.source_ip.clone(),
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        _ => None,
    };
    ip.unwrap_or_else(|| "unknown".to_owned())
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
    fn refresh_cookie_has_every_protective_attribute() {
        assert_eq!(
            refresh_cookie("tok", 604800, "/auth"),
            "__Secure-refresh_token=tok; HttpOnly; Secure; SameSite=Strict; Path=/auth; Max-Age=604800"
        );
        assert!(cleared_refresh_cookie("/auth").ends_with("Max-Age=0"));
    }

    #[test]
    fn the_device_cookie_is_built_as_the_refresh_cookie_is() {
        assert_eq!(
            cookie(DEVICE_COOKIE, "dv1.a.b", 7776000, "/v1/auth"),
            "__Secure-device=dv1.a.b; HttpOnly; Secure; SameSite=Strict; Path=/v1/auth; Max-Age=7776000"
        );
    }

    #[test]
    fn a_duplicated_or_absent_device_cookie_is_no_credential_and_no_error() {
        let mut h = HeaderMap::new();
        assert_eq!(presented_device(&h, None), None);
        h.insert(
            COOKIE,
            HeaderValue::from_static("__Secure-device=a; __Secure-refresh_token=r"),
        );
        assert_eq!(presented_device(&h, None), Some(DeviceCredential::new("a")));
        assert_eq!(
            presented_device(&h, Some("b".into())),
            Some(DeviceCredential::new("b")),
            "the body's wins"
        );
        h.append(COOKIE, HeaderValue::from_static("__Secure-device=c"));
        assert_eq!(presented_device(&h, None), None);
        assert_eq!(refresh_cookie_value(&h).unwrap(), Some("r".to_owned()));
    }

    #[test]
    fn duplicate_refresh_cookies_are_refused() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_static("__Secure-refresh_token=a; __Secure-refresh_token=b"),
        );
        assert_eq!(
            refresh_cookie_value(&h).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
    }

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
    fn bearer_scheme_is_case_insensitive_and_required() {
        assert_eq!(strip_bearer("Bearer abc"), Some("abc"));
        assert_eq!(strip_bearer("bearer abc"), Some("abc"));
        assert_eq!(strip_bearer("Basic abc"), None);
        assert_eq!(strip_bearer("Bearer "), None);
        assert_eq!(strip_bearer("abc"), None);
    }
}
