//! The HTTP side: accept requests, route them, run the authorizer, invoke the function.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming as Body;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::json;

use crate::authorize::{Authorizer, Gate};
use crate::event::{proxy_event, proxy_response, Incoming};
use crate::invoke::{Invocation, Invoker};
use crate::template::Api;

/// API Gateway's payload limit.
const MAX_PAYLOAD: usize = 10 * 1024 * 1024;

/// Routes, the function invoker and the authorizer.
pub struct Gateway {
    /// Routes from the template.
    pub api: Api,
    /// Invokes functions.
    pub invoker: Invoker,
    /// The Lambda authorizer, if the template has one.
    pub authorizer: Option<Authorizer>,
}

/// Serves connections until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, gw: Arc<Gateway>) -> anyhow::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let gw = gw.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let gw = gw.clone();
                async move { Ok::<_, Infallible>(gw.handle(req, peer).await) }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await
            {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
}

static REQUEST_IDS: AtomicU64 = AtomicU64::new(1);

fn message(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(
        json!({ "message": text }).to_string(),
    )));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        "content-type",
        "application/json".parse().expect("static header"),
    );
    resp
}

/// The browser demo: not part of the deployed API, served by the local gateway only.
fn demo_page() -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from_static(include_bytes!("demo.html"))));
    let h = resp.headers_mut();
    h.insert(
        "content-type",
        "text/html; charset=utf-8".parse().expect("static header"),
    );
    // The page runs no third-party code; a strict CSP keeps it that way.
    h.insert(
        "content-security-policy",
        "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'"
            .parse()
            .expect("static header"),
    );
    resp
}

impl Gateway {
    async fn handle(&self, req: Request<Body>, peer: SocketAddr) -> Response<Full<Bytes>> {
        let method = req.method().as_str().to_owned();
        let path = req.uri().path().to_owned();
        let query: Vec<(String, String)> = req
            .uri()
            .query()
            .map(|q| {
                q.split('&')
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        let (k, v) = p.split_once('=').unwrap_or((p, ""));
                        (k.to_owned(), v.to_owned())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let Ok(body) = Limited::new(req.into_body(), MAX_PAYLOAD).collect().await else {
            return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Too Long");
        };
        let body = body.to_bytes();

        if method == "GET" && (path == "/" || path == "/index.html") {
            return demo_page();
        }
        let Some((route, params)) = self.api.route(&method, &path) else {
            // What a REST API answers for a route it does not have.
            return message(StatusCode::FORBIDDEN, "Missing Authentication Token");
        };
        let auth_header = headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.as_str());
        let context = match (&self.authorizer, route.authorized) {
            (Some(a), true) => match a.gate(auth_header, &method, &path).await {
                Gate::Allow(ctx) => Some(ctx),
                Gate::Unauthorized => {
                    let mut r = message(StatusCode::UNAUTHORIZED, "Unauthorized");
                    r.headers_mut()
                        .insert("www-authenticate", "Bearer".parse().expect("static header"));
                    return r;
                }
                Gate::Forbidden => {
                    return message(
                        StatusCode::FORBIDDEN,
                        "User is not authorized to access this resource",
                    )
                }
                Gate::Failure => {
                    return message(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
                }
            },
            _ => None,
        };
        let incoming = Incoming {
            method: &method,
            path: &path,
            query,
            headers,
            body: &body,
            source_ip: peer.ip().to_string(),
            request_id: format!("local-{}", REQUEST_IDS.fetch_add(1, Ordering::Relaxed)),
        };
        let event = proxy_event(&incoming, route, &params, context.as_ref());
        match self.invoker.invoke(&route.function, &event).await {
            Ok(Invocation::Ok(v)) => match proxy_response(&v) {
                Ok(p) => {
                    let mut resp = Response::new(Full::new(Bytes::from(p.body)));
                    *resp.status_mut() =
                        StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_GATEWAY);
                    for (k, v) in p.headers {
                        if let (Ok(k), Ok(v)) = (
                            hyper::header::HeaderName::from_bytes(k.as_bytes()),
                            hyper::header::HeaderValue::from_str(&v),
                        ) {
                            resp.headers_mut().append(k, v);
                        }
                    }
                    resp
                }
                Err(e) => {
                    tracing::error!(function = %route.function, error = %e, "malformed function response");
                    message(StatusCode::BAD_GATEWAY, "Internal server error")
                }
            },
            Ok(Invocation::FunctionError(m)) => {
                tracing::error!(function = %route.function, error = %m, "function failed");
                message(StatusCode::BAD_GATEWAY, "Internal server error")
            }
            Err(e) => {
                tracing::error!(error = %e);
                message(StatusCode::BAD_GATEWAY, &e.to_string())
            }
        }
    }
}
