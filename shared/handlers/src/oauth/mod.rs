//! The OAuth 2.0 endpoints beside the JSON API: the token endpoint's refresh grant
//! ([`token`], RFC 6749 §6) and token revocation ([`revoke`], RFC 7009). Both take an
//! `application/x-www-form-urlencoded` body, parsed strictly here, and answer errors in the
//! RFC 6749 §5.2 shape (`error`, `error_description`). They call the same domain operations as
//! `/auth/refresh` and `/auth/logout`, so rotation, reuse detection and the limits are one code.

pub mod revoke;
pub mod token;

use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA, RETRY_AFTER};
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tokengate_domain::{AuthError, ErrorCode};

use crate::http::MAX_BODY_BYTES;

/// An RFC 6749 §5.2 error (or the two answers §5.2 has no code for: 429 and 503).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OAuthError {
    /// `error`.
    pub code: &'static str,
    /// HTTP status.
    pub status: u16,
    /// `Retry-After` seconds (429, 503).
    pub retry_after: Option<u64>,
}

impl OAuthError {
    const fn bad(code: &'static str) -> Self {
        Self {
            code,
            status: 400,
            retry_after: None,
        }
    }
    /// Malformed: missing or repeated parameter, wrong content type, body over 8 KiB.
    pub const INVALID_REQUEST: Self = Self::bad("invalid_request");
    /// The refresh token is unknown, expired, revoked or reused.
    pub const INVALID_GRANT: Self = Self::bad("invalid_grant");
    /// The `client_id` is not one this deployment knows.
    pub const INVALID_CLIENT: Self = Self::bad("invalid_client");
    /// A malformed scope, or one outside the refresh token's original grant (§6).
    pub const INVALID_SCOPE: Self = Self::bad("invalid_scope");
    /// A `resource` other than the session's (RFC 8707 §2).
    pub const INVALID_TARGET: Self = Self::bad("invalid_target");
    /// A `grant_type` other than `refresh_token`.
    pub const UNSUPPORTED_GRANT_TYPE: Self = Self::bad("unsupported_grant_type");

    fn description(&self) -> &'static str {
        match self.code {
            "invalid_request" => "The request is malformed.",
            "invalid_grant" => "The refresh token is invalid, expired or revoked.",
            "invalid_client" => "The client is unknown.",
            "invalid_scope" => "A requested scope was not granted to this refresh token.",
            "invalid_target" => "The requested resource is not this refresh token's.",
            "unsupported_grant_type" => "Only the refresh_token grant is supported here.",
            "rate_limited" => "Too many requests. Try again later.",
            _ => "The service is temporarily unavailable. Try again later.",
        }
    }
}

/// How the domain's refusals read at the OAuth endpoints: every reason a refresh token is not
/// accepted is `invalid_grant` (§5.2: "invalid, expired, revoked"), the limits keep their 429
/// with `Retry-After` (§5.2 has no code for them; RFC 6585), and the rest is a 503.
impl From<AuthError> for OAuthError {
    fn from(e: AuthError) -> Self {
        let (code, status) = match e.code {
            // `InvalidGrant`: issued to another client (§5.2).
            ErrorCode::InvalidRefreshToken
            | ErrorCode::RefreshTokenReused
            | ErrorCode::SessionExpired
            | ErrorCode::InvalidGrant => return Self::INVALID_GRANT,
            ErrorCode::InvalidScope => return Self::INVALID_SCOPE,
            ErrorCode::InvalidClient => return Self::INVALID_CLIENT,
            ErrorCode::InvalidTarget => return Self::INVALID_TARGET,
            ErrorCode::InvalidRequest | ErrorCode::PayloadTooLarge => return Self::INVALID_REQUEST,
            ErrorCode::RateLimited => ("rate_limited", 429),
            _ => ("temporarily_unavailable", 503),
        };
        Self {
            code,
            status,
            retry_after: e.retry_after,
        }
    }
}

/// A JSON answer of an OAuth endpoint: never stored by a cache (§5.1: `Cache-Control:
/// no-store`, `Pragma: no-cache`).
pub fn oauth_json<T: Serialize>(status: u16, body: &T) -> Response<Body> {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".to_owned());
    let mut resp = Response::new(Body::Text(text));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// The §5.2 error answer.
pub fn oauth_error(err: OAuthError) -> Response<Body> {
    #[derive(Serialize)]
    struct ErrorBody {
        error: &'static str,
        error_description: &'static str,
    }
    crate::telemetry::record_outcome(err.code);
    let mut resp = oauth_json(
        err.status,
        &ErrorBody {
            error: err.code,
            error_description: err.description(),
        },
    );
    if let Some(secs) = err.retry_after {
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// A parsed `application/x-www-form-urlencoded` body: each parameter at most once.
#[derive(Debug, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// Parses the request body. `invalid_request` when it is over 8 KiB, is not a form, is not
    /// UTF-8 once decoded, or names a parameter twice (RFC 6749 §3.1 and §3.2: "MUST NOT be
    /// included more than once"). A parameter sent without a value counts as absent (§3.1).
    pub fn parse(req: &Request) -> Result<Self, OAuthError> {
        let is_form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        let bytes: &[u8] = req.body().as_ref();
        if !is_form || bytes.len() > MAX_BODY_BYTES {
            return Err(OAuthError::INVALID_REQUEST);
        }
        Self::decode(bytes).ok_or(OAuthError::INVALID_REQUEST)
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in bytes.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match part.iter().position(|&b| b == b'=') {
                Some(i) => (&part[..i], &part[i + 1..]),
                None => (part, &part[part.len()..]),
            };
            let name = percent_decode(name)?;
            if pairs.iter().any(|(n, _)| *n == name) {
                return None;
            }
            pairs.push((name, percent_decode(value)?));
        }
        Some(Self(pairs))
    }

    /// The value of `name`, `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// `+` is a space, `%XX` a byte; anything else malformed (a lone `%`, bad hex, not UTF-8) is
/// refused rather than guessed at.
fn percent_decode(raw: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = raw.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(body: &str) -> Option<Vec<(String, String)>> {
        Form::decode(body.as_bytes()).map(|f| f.0)
    }

    #[test]
    fn form_decoding_is_strict() {
        assert_eq!(
            pairs("a=1+2&b=%2Fx%3D&c").unwrap(),
            [("a", "1 2"), ("b", "/x="), ("c", "")].map(|(n, v)| (n.to_owned(), v.to_owned()))
        );
        assert!(pairs("a=1&a=2").is_none(), "a repeated parameter");
        assert!(pairs("a=1&a").is_none(), "repeated without a value");
        assert!(pairs("a=%zz").is_none());
        assert!(pairs("a=%4").is_none());
        assert!(pairs("a=%ff").is_none(), "not UTF-8");
        assert_eq!(Form::decode(b"a=&b=2").unwrap().get("a"), None);
    }
}
