//! A fault-injecting HTTP proxy between the SDK and the emulator: throttles chosen
//! operations, or forwards them and then drops the response (the write committed, the caller
//! never hears), the two failures an auth service must survive without partial state. It also
//! logs every request it passed on, so that another process's AWS calls can be counted and timed
//! (`make bench` counts each function's calls at cold start through it: `emulator-stack`), and
//! by which caller when a caller is given an entrance of its own ([`FaultProxy::entrance`]: the
//! e2e load case counts the authorizer's DynamoDB reads so).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use tokio::task::JoinHandle;

/// What to do to requests whose `X-Amz-Target` contains `operation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Forward everything.
    None,
    /// Answer with the service's throttling error, the next `times` matching requests.
    Throttle {
        /// e.g. `TransactWriteItems`, `Sign`.
        operation: String,
        /// How many requests to throttle.
        times: usize,
    },
    /// Answer every request with 503 `ServiceUnavailable`, until another fault is set: the
    /// service is down.
    Unavailable,
    /// Forward, let the emulator commit, then drop the connection without an answer.
    DropResponse {
        /// e.g. `TransactWriteItems`.
        operation: String,
        /// How many requests to treat so.
        times: usize,
    },
}

/// One request the proxy forwarded and got the emulator's answer to.
#[derive(Debug, Clone)]
pub struct ForwardedCall {
    /// Who sent it: the name of the [`FaultProxy::entrance`] it came through, or `None` for
    /// the proxy's own address.
    pub caller: Option<String>,
    /// The AWS operation (`X-Amz-Target`, e.g. `TrentService.GetPublicKey`), or method and
    /// path for a request without one.
    pub operation: String,
    /// When the proxy received the request.
    pub received: Instant,
    /// When it had the emulator's whole answer.
    pub answered: Instant,
}

/// A running proxy; stops on drop.
pub struct FaultProxy {
    /// `http://127.0.0.1:PORT`, to give the SDK as endpoint.
    pub url: String,
    fault: Arc<Mutex<Fault>>,
    forwarded: Arc<Mutex<Vec<ForwardedCall>>>,
    upstream: String,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        for task in self.tasks.lock().expect("tasks lock").iter() {
            task.abort();
        }
    }
}

enum Action {
    Forward,
    Throttle,
    Unavailable,
    Drop,
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream`.
    pub async fn start(upstream: &str) -> Self {
        let mut proxy = Self {
            url: String::new(),
            fault: Arc::new(Mutex::new(Fault::None)),
            forwarded: Arc::new(Mutex::new(Vec::new())),
            upstream: upstream.to_owned(),
            tasks: Mutex::new(Vec::new()),
        };
        proxy.url = proxy.listen(None).await;
        proxy
    }

    /// Another address of this proxy, for one caller: the same faults apply, and the calls it
    /// forwards are logged with `caller`'s name, so that one function's AWS calls can be told
    /// from the others'.
    pub async fn entrance(&self, caller: &str) -> String {
        self.listen(Some(caller.to_owned())).await
    }

    async fn listen(&self, caller: Option<String>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let client: Client<HttpConnector, Full<Bytes>> =
            Client::builder(TokioExecutor::new()).build_http();
        let upstream = self.upstream.clone();
        let (f, log) = (self.fault.clone(), self.forwarded.clone());
        let task = crate::serve::serve(listener, move |req: Request<Incoming>| {
            let (client, upstream, caller) = (client.clone(), upstream.clone(), caller.clone());
            let (f, log) = (f.clone(), log.clone());
            async move { handle(req, &client, &upstream, &f, &log, caller).await }
        });
        self.tasks.lock().expect("tasks lock").push(task);
        url
    }

    /// Sets the fault for the following requests.
    pub fn set(&self, fault: Fault) {
        *self.fault.lock().expect("fault lock") = fault;
    }

    /// Whether the last fault has been used up.
    pub fn exhausted(&self) -> bool {
        *self.fault.lock().expect("fault lock") == Fault::None
    }

    /// The requests forwarded since the last call, oldest first (throttled or refused ones are
    /// not forwarded and not listed).
    pub fn take_forwarded(&self) -> Vec<ForwardedCall> {
        std::mem::take(&mut *self.forwarded.lock().expect("call log lock"))
    }
}

fn decide(fault: &Mutex<Fault>, target: &str) -> Action {
    let mut f = fault.lock().expect("fault lock");
    let (action, left) = match &mut *f {
        Fault::Unavailable => return Action::Unavailable,
        Fault::Throttle { operation, times } if target.ends_with(&format!(".{operation}")) => {
            *times -= 1;
            (Action::Throttle, *times)
        }
        Fault::DropResponse { operation, times } if target.ends_with(&format!(".{operation}")) => {
            *times -= 1;
            (Action::Drop, *times)
        }
        _ => return Action::Forward,
    };
    if left == 0 {
        *f = Fault::None;
    }
    action
}

async fn handle(
    req: Request<Incoming>,
    client: &Client<HttpConnector, Full<Bytes>>,
    upstream: &str,
    fault: &Mutex<Fault>,
    forwarded: &Mutex<Vec<ForwardedCall>>,
    caller: Option<String>,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let received = Instant::now();
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let action = decide(fault, &target);
    if let Action::Throttle = action {
        let (ty, ct) = if target.starts_with("DynamoDB") {
            (
                "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                "application/x-amz-json-1.0",
            )
        } else {
            ("ThrottlingException", "application/x-amz-json-1.1")
        };
        let body = format!(r#"{{"__type":"{ty}","message":"Rate exceeded"}}"#);
        let mut resp = Response::new(Full::new(Bytes::from(body)));
        *resp.status_mut() = hyper::StatusCode::BAD_REQUEST;
        resp.headers_mut()
            .insert("content-type", ct.parse().expect("header"));
        return Ok(resp);
    }
    if let Action::Unavailable = action {
        let ct = if target.starts_with("DynamoDB") {
            "application/x-amz-json-1.0"
        } else {
            "application/x-amz-json-1.1"
        };
        let mut resp = Response::new(Full::new(Bytes::from_static(
            br#"{"__type":"ServiceUnavailableException","message":"Service unavailable"}"#,
        )));
        *resp.status_mut() = hyper::StatusCode::SERVICE_UNAVAILABLE;
        resp.headers_mut()
            .insert("content-type", ct.parse().expect("header"));
        return Ok(resp);
    }
    let (parts, body) = req.into_parts();
    let operation = if target.is_empty() {
        format!("{} {}", parts.method, parts.uri.path())
    } else {
        target
    };
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let uri = format!(
        "{upstream}{}",
        parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
    );
    let mut fwd = Request::builder().method(parts.method).uri(uri);
    for (k, v) in &parts.headers {
        if k != "host" {
            fwd = fwd.header(k, v);
        }
    }
    let fwd = fwd.body(Full::new(body)).map_err(std::io::Error::other)?;
    let resp = client.request(fwd).await.map_err(std::io::Error::other)?;
    let (parts, body) = resp.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    forwarded
        .lock()
        .expect("call log lock")
        .push(ForwardedCall {
            caller,
            operation,
            received,
            answered: Instant::now(),
        });
    if let Action::Drop = action {
        // The emulator committed; the caller gets a dead connection instead of the answer.
        return Err(std::io::Error::other("fault injected: response dropped"));
    }
    Ok(Response::from_parts(parts, Full::new(body)))
}
