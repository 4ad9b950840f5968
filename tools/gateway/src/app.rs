//! The browser demo (`demo.html`): not part of the deployed API, served by the local stack only,
//! in the two layouts a user deploys (docs/browser-apps.md):
//!
//! - on the API's own origin at `/`, when the gateway serves at the root as a custom domain
//!   (the page calls `/auth/...` on its own origin);
//! - as an app on an origin of its own (`TOKENGATE_APP_ADDR`, another port), calling the API
//!   on the gateway's origin — under the stage prefix on the execute-api layout — with
//!   `credentials: "include"`, as an app at `https://app.example.com` calls the API. That
//!   listener serves the page at `/` and nothing else.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming as Body;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

type Reply = Response<Full<Bytes>>;

const PAGE: &str = include_str!("demo.html");
/// Where the page reads the API's base URL from.
const API_BASE_SLOT: &str = "<meta name=\"tokengate-api\" content=\"\">";

/// The demo page calling the API at `api_base` (empty: its own origin, at the root). The
/// Content-Security-Policy lets its script talk to that API and nothing else.
pub fn demo_page(api_base: &str) -> Reply {
    let page = PAGE.replace(
        API_BASE_SLOT,
        &format!("<meta name=\"tokengate-api\" content=\"{api_base}\">"),
    );
    let api_origin = api_base
        .find("://")
        .and_then(|i| api_base[i + 3..].find('/').map(|j| &api_base[..i + 3 + j]))
        .unwrap_or(api_base);
    let mut resp = Response::new(Full::new(Bytes::from(page)));
    let h = resp.headers_mut();
    h.insert(
        "content-type",
        "text/html; charset=utf-8".parse().expect("static header"),
    );
    // The page runs no third-party code; a strict CSP keeps it that way.
    let connect = if api_origin.is_empty() {
        "'self'".to_owned()
    } else {
        format!("'self' {api_origin}")
    };
    let csp = format!(
        "default-src 'self'; connect-src {connect}; script-src 'unsafe-inline'; \
         style-src 'unsafe-inline'"
    );
    if let Ok(v) = csp.parse() {
        h.insert("content-security-policy", v);
    }
    resp
}

/// The API base the app page at `host` (the `Host` it was requested with) calls: the same host
/// name — `localhost` and `127.0.0.1` are different sites to a browser — on the gateway's port,
/// under `prefix` (`/v1` on the execute-api layout). A host that is not a plain name or
/// address falls back to `localhost`.
pub fn api_base(host: Option<&str>, api_port: u16, prefix: &str) -> String {
    let name = host
        .map(|h| h.rsplit_once(':').map_or(h, |(name, _)| name))
        .filter(|n| {
            !n.is_empty()
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        })
        .unwrap_or("localhost");
    format!("http://{name}:{api_port}{prefix}")
}

/// Serves the demo app on its own origin until the process ends.
pub async fn serve_app(
    listener: tokio::net::TcpListener,
    api_port: u16,
    prefix: String,
) -> anyhow::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let prefix = prefix.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req: Request<Body>| {
                let reply = if req.method() == "GET" && req.uri().path() == "/" {
                    let host = req.headers().get("host").and_then(|h| h.to_str().ok());
                    demo_page(&api_base(host, api_port, &prefix))
                } else {
                    let mut r = Response::new(Full::new(Bytes::from_static(b"not found\n")));
                    *r.status_mut() = StatusCode::NOT_FOUND;
                    r
                };
                async move { Ok::<_, Infallible>(reply) }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await
            {
                tracing::debug!(error = %e, "app connection ended");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_calls_the_api_on_its_own_host_name_and_the_gateway_port() {
        assert_eq!(
            api_base(Some("localhost:3001"), 3002, "/v1"),
            "http://localhost:3002/v1"
        );
        assert_eq!(
            api_base(Some("127.0.0.1:3001"), 3002, ""),
            "http://127.0.0.1:3002"
        );
        for hostile in [None, Some("a\"b:1"), Some(":1"), Some("x/y")] {
            assert_eq!(api_base(hostile, 3002, "/v1"), "http://localhost:3002/v1");
        }
    }

    #[test]
    fn the_page_knows_its_api_and_may_connect_only_there() {
        let page = demo_page("http://localhost:3002/v1");
        let csp = page.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("connect-src 'self' http://localhost:3002;"),
            "{csp}"
        );
        assert!(PAGE.contains(API_BASE_SLOT), "demo.html has the API slot");
        let root = demo_page("");
        let csp = root.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("connect-src 'self';"), "{csp}");
    }
}
