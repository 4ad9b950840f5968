//! The cookies of the auth routes: the one cookie builder, the one `Path` rule, and reading
//! the refresh cookie and the device credential from a request.

use lambda_http::http::header::{COOKIE, SET_COOKIE};
use lambda_http::http::{HeaderMap, HeaderValue};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use tokengate_domain::config::is_plain_cookie_path;
use tokengate_domain::device::{DeviceCredential, DEVICE_COOKIE};
use tokengate_domain::{AuthError, ErrorCode};

/// Name of the refresh cookie. `__Secure-` makes browsers refuse it without `Secure`.
pub const REFRESH_COOKIE: &str = "__Secure-refresh_token";

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
}
