//! CORS for the browser apps of `TOKENGATE_ALLOWED_ORIGINS`, on every route such an app calls:
//! the preflight `OPTIONS` is answered here (the template routes it to the function with no
//! authorizer, so the handler behind never runs for it), and every other answer gets
//! `Access-Control-Allow-Origin` echoing the request's `Origin` — only when that origin is in
//! the list. Any other origin gets no grant at all: the browser then keeps the answer from the
//! page's script. CORS only decides what a page may *read*; the CSRF check (`http::check_origin`)
//! still decides what a cookie-carrying request may *do*.
//!
//! API Gateway's own answers (401, 403, 503 from the authorizer) never reach a function; the
//! template's `GatewayResponses` give them CORS headers (docs/browser-apps.md).

use std::future::Future;

use lambda_http::http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use lambda_http::http::{HeaderMap, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};

/// How long a browser may reuse a preflight answer. Short, so that removing an origin from the
/// list takes effect within minutes (Chromium caps it at 2 hours anyway).
pub const PREFLIGHT_MAX_AGE_SECS: u32 = 600;
/// Request headers an app may send: the bearer token and the JSON content type.
pub const ALLOWED_HEADERS: &str = "authorization, content-type";
/// Response headers an app's script may read beyond the CORS-safelisted ones: when to retry
/// (429, 423, 503) and the bearer challenge of API Gateway's 401.
pub const EXPOSED_HEADERS: &str = "retry-after, www-authenticate";

/// What a route lets a cross-origin page do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorsRoute {
    /// `Access-Control-Allow-Methods` of the preflight answer.
    pub methods: &'static str,
    /// `Access-Control-Allow-Credentials: true`: the route sets, reads or clears the refresh
    /// cookie, so the app calls it with `credentials: "include"` (the browser neither sends
    /// nor stores a cookie on a cross-origin request without it, and refuses the answer to
    /// such a request unless the server allows credentials).
    pub credentials: bool,
}

impl CorsRoute {
    /// Login, refresh, logout and the password change: `POST` with the refresh cookie.
    pub const COOKIE: Self = Self {
        methods: "POST",
        credentials: true,
    };
    /// The OAuth token and revocation endpoints: `POST` of a form, the token in the form, never
    /// a cookie (a page that could read the answer of a credentialed request could not do
    /// more with it, but the endpoints have nothing to do with cookies).
    pub const OAUTH: Self = Self {
        methods: "POST",
        credentials: false,
    };
    /// The JWKS: a public `GET`, no cookie.
    pub const PUBLIC_GET: Self = Self {
        methods: "GET",
        credentials: false,
    };
    /// The demo routes behind the authorizer (`GET /api/me`, `ANY /api/admin…`): the bearer
    /// token in `Authorization`, no cookie.
    pub const BEARER: Self = Self {
        methods: "GET, POST, PUT, PATCH, DELETE",
        credentials: false,
    };
}

/// The CORS policy of one route for the configured origins.
#[derive(Debug, Clone, Copy)]
pub struct Cors<'a> {
    allowed_origins: &'a [String],
    route: CorsRoute,
}

impl<'a> Cors<'a> {
    /// The policy of `route` for `allowed_origins` (`TOKENGATE_ALLOWED_ORIGINS`).
    pub fn new(allowed_origins: &'a [String], route: CorsRoute) -> Self {
        Self {
            allowed_origins,
            route,
        }
    }

    /// Answers `req`: an `OPTIONS` request here (never by `handler`: the OPTIONS routes have no
    /// authorizer), anything else by `handler`, with the CORS headers added.
    pub async fn answer<F, Fut>(
        &self,
        req: Request,
        handler: F,
    ) -> Result<Response<Body>, lambda_http::Error>
    where
        F: FnOnce(Request) -> Fut,
        Fut: Future<Output = Result<Response<Body>, lambda_http::Error>>,
    {
        if req.method() == Method::OPTIONS {
            return Ok(self.preflight(req.headers()));
        }
        let origin = self.allowed_origin(req.headers());
        let mut resp = handler(req).await?;
        self.grant(origin, resp.headers_mut());
        Ok(resp)
    }

    /// The answer to an `OPTIONS` request: 204, and for a preflight (`Origin` and
    /// `Access-Control-Request-Method`) from an allowed origin the methods, headers, credentials
    /// and cache lifetime the route allows. Any other `OPTIONS` gets 204 with no grant.
    pub fn preflight(&self, headers: &HeaderMap) -> Response<Body> {
        let mut resp = Response::new(Body::Empty);
        *resp.status_mut() = StatusCode::NO_CONTENT;
        let origin = self.allowed_origin(headers);
        let is_preflight = headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD);
        if origin.is_none() && headers.contains_key(ORIGIN) {
            tracing::info!(event = "cors_origin_refused", origin = ?headers.get(ORIGIN));
        }
        let h = resp.headers_mut();
        h.append(VARY, HeaderValue::from_static("Origin"));
        if let (Some(origin), true) = (origin, is_preflight) {
            self.allow(origin, h);
            h.insert(
                ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(self.route.methods),
            );
            h.insert(
                ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOWED_HEADERS),
            );
            h.insert(
                ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from(PREFLIGHT_MAX_AGE_SECS),
            );
        }
        resp
    }

    /// The request's `Origin` if it is one of the allowed origins (compared exactly, as the
    /// browser serialises it: scheme, host and port).
    fn allowed_origin(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        let origin = headers.get(ORIGIN)?;
        let text = origin.to_str().ok()?;
        self.allowed_origins
            .iter()
            .any(|a| a == text)
            .then(|| origin.clone())
    }

    /// Adds the grant for `origin` (if allowed) to an actual answer. `Vary: Origin` always:
    /// the answer differs by origin, so no cache may serve one origin's copy to another (the
    /// JWKS is cacheable).
    fn grant(&self, origin: Option<HeaderValue>, h: &mut HeaderMap) {
        h.append(VARY, HeaderValue::from_static("Origin"));
        let Some(origin) = origin else { return };
        self.allow(origin, h);
        h.insert(
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED_HEADERS),
        );
    }

    /// The grant itself, on preflights and answers alike: the origin, and credentials on the
    /// cookie routes.
    fn allow(&self, origin: HeaderValue, h: &mut HeaderMap) {
        h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if self.route.credentials {
            h.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
    }
}
