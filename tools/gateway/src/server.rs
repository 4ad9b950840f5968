//! The HTTP side: accept requests, find the stage and route, run the authorizer, invoke the
//! function, and answer as API Gateway would.

use std::collections::HashMap;
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

use crate::authorize::{Authorizer, Gate, Refusal};
use crate::event::{proxy_event, proxy_response, ProxyResponse};
use crate::event_v2;
use crate::invoke::{Invocation, Invoker};
use crate::request::{Flavor, Incoming, Site};
use crate::responses::{ErrorContext, GatewayResponses, ResponseType};
use crate::routes::{Resolution, RouteTable};

/// API Gateway's payload limit.
const MAX_PAYLOAD: usize = 10 * 1024 * 1024;

/// Everything the gateway serves with.
pub struct Gateway {
    /// Where and as what the API is served.
    pub site: Site,
    /// Routes from the template.
    pub routes: RouteTable,
    /// Gateway responses from the template (REST API).
    pub responses: GatewayResponses,
    /// Invokes functions.
    pub invoker: Invoker,
    /// Authorizers by the name routes use.
    pub authorizers: HashMap<String, Authorizer>,
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

type Reply = Response<Full<Bytes>>;

fn json_reply(status: u16, headers: &[(String, String)], body: String) -> Reply {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let has_type = headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    if !has_type {
        resp.headers_mut().insert(
            "content-type",
            "application/json".parse().expect("static header"),
        );
    }
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_str(v),
        ) {
            resp.headers_mut().append(k, v);
        }
    }
    resp
}

/// `{"message": text}`: the shape of every answer API Gateway makes itself.
fn message(status: u16, text: &str) -> Reply {
    json_reply(status, &[], json!({ "message": text }).to_string())
}

fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl Gateway {
    /// API Gateway's own answer of `kind`: the template's gateway response on a REST API; the
    /// fixed answers of an HTTP API, which has no gateway responses.
    fn refuse(
        &self,
        kind: ResponseType,
        req_headers: &[(String, String)],
        request_id: &str,
    ) -> Reply {
        match self.site.flavor {
            Flavor::Rest => {
                let ctx = ErrorContext {
                    headers: req_headers,
                    request_id,
                };
                let r = self.responses.render(kind, &ctx);
                json_reply(r.status, &r.headers, r.body)
            }
            Flavor::Http => match kind {
                ResponseType::Unauthorized => message(401, "Unauthorized"),
                ResponseType::AccessDenied | ResponseType::ExplicitDeny => {
                    message(403, "Forbidden")
                }
                ResponseType::MissingAuthenticationToken => message(404, "Not Found"),
                ResponseType::RequestTooLarge => message(413, "Request Entity Too Large"),
                ResponseType::AuthorizerConfigurationError | ResponseType::AuthorizerFailure => {
                    message(500, "Internal Server Error")
                }
            },
        }
    }

    async fn handle(&self, req: Request<Body>, peer: SocketAddr) -> Reply {
        let request_id = format!("local-{}", REQUEST_IDS.fetch_add(1, Ordering::Relaxed));
        // As sent: HTTP methods are case-sensitive, and so is API Gateway (`get` is not `GET`).
        let method = req.method().as_str().to_owned();
        let raw_path = req.uri().path().to_owned();
        let raw_query = req.uri().query().unwrap_or_default().to_owned();
        let headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let Ok(body) = Limited::new(req.into_body(), MAX_PAYLOAD).collect().await else {
            return self.refuse(ResponseType::RequestTooLarge, &headers, &request_id);
        };

        // The demo page is the local stack's, not the API's: only where the API is at the root.
        if self.site.custom_domain.is_some()
            && method == "GET"
            && (raw_path == "/" || raw_path == "/index.html")
        {
            return crate::app::demo_page("");
        }
        let Some(path) = self.site.api_path(&raw_path) else {
            // Outside every stage of the execute-api host: no API answers, API Gateway does.
            return match self.site.flavor {
                Flavor::Rest => message(403, "Forbidden"),
                Flavor::Http => message(404, "Not Found"),
            };
        };
        let incoming = Incoming {
            method,
            path,
            raw_query,
            headers,
            body: body.to_bytes(),
            source_ip: peer.ip().to_string(),
            request_id,
            time_epoch_ms: now_millis(),
        };
        let (route, params) = match self.routes.resolve(&incoming.method, &incoming.path) {
            Resolution::Matched(r, p) => (r, p),
            Resolution::NoRoute => {
                return self.refuse(
                    ResponseType::MissingAuthenticationToken,
                    &incoming.headers,
                    &incoming.request_id,
                )
            }
        };
        let mut context = None;
        if let Some(name) = &route.authorizer {
            let Some(authorizer) = self.authorizers.get(name) else {
                // Checked when the template was read.
                return self.refuse(
                    ResponseType::AuthorizerConfigurationError,
                    &incoming.headers,
                    &incoming.request_id,
                );
            };
            match authorizer.gate(&incoming, &self.site, route, &params).await {
                Gate::Allow(ctx) => context = Some(ctx),
                Gate::Refuse(refusal) => {
                    let kind = match refusal {
                        Refusal::Unauthorized => ResponseType::Unauthorized,
                        Refusal::Forbidden => ResponseType::AccessDenied,
                        Refusal::ExplicitDeny => ResponseType::ExplicitDeny,
                        Refusal::ConfigurationError => ResponseType::AuthorizerConfigurationError,
                        Refusal::Failure => ResponseType::AuthorizerFailure,
                    };
                    return self.refuse(kind, &incoming.headers, &incoming.request_id);
                }
            }
        }
        let event = match self.site.flavor {
            Flavor::Rest => proxy_event(&incoming, &self.site, route, &params, context.as_ref()),
            Flavor::Http => {
                event_v2::function_event(&incoming, &self.site, route, &params, context.as_ref())
            }
        };
        // What API Gateway answers when the function fails or answers nonsense.
        let function_failed = || match self.site.flavor {
            Flavor::Rest => message(502, "Internal server error"),
            Flavor::Http => message(500, "Internal Server Error"),
        };
        match self.invoker.invoke(&route.function, &event).await {
            Ok(Invocation::Ok(v)) => {
                let decoded = match self.site.flavor {
                    Flavor::Rest => proxy_response(&v),
                    Flavor::Http => event_v2::function_response(&v),
                };
                match decoded {
                    Ok(ProxyResponse {
                        status,
                        headers,
                        body,
                    }) => {
                        let mut resp = json_reply(status, &headers, String::new());
                        *resp.body_mut() = Full::new(Bytes::from(body));
                        resp
                    }
                    Err(e) => {
                        tracing::error!(function = %route.function, error = %e, "malformed function response");
                        function_failed()
                    }
                }
            }
            Ok(Invocation::FunctionError(m)) => {
                tracing::error!(function = %route.function, error = %m, "function failed");
                function_failed()
            }
            Err(e) => {
                // Local only: `cargo lambda watch` is not there. Say so to the developer.
                tracing::error!(error = %e);
                message(502, &e.to_string())
            }
        }
    }
}
