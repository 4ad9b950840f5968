//! Invokes functions through the Lambda Invoke API that `cargo lambda watch` serves.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use serde_json::Value;

/// What an invocation returned.
#[derive(Debug)]
pub enum Invocation {
    /// The function's result payload.
    Ok(Value),
    /// The function returned an error; its `errorMessage`.
    FunctionError(String),
}

/// A client for `POST /2015-03-31/functions/{name}/invocations`.
#[derive(Clone)]
pub struct Invoker {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Invoker {
    /// Invokes functions served at `base` (e.g. `http://127.0.0.1:9000`).
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into().trim_end_matches('/').to_owned(),
            client: Client::builder(hyper_util::rt::TokioExecutor::new()).build_http(),
        }
    }

    /// Invokes `function` with `event`. Errors name the function and say how to start it.
    pub async fn invoke(&self, function: &str, event: &Value) -> anyhow::Result<Invocation> {
        let uri = format!("{}/2015-03-31/functions/{function}/invocations", self.base);
        let req = hyper::Request::post(&uri)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(serde_json::to_vec(event)?)))?;
        let resp = self.client.request(req).await.map_err(|e| {
            anyhow::anyhow!(
                "function {function} is not reachable at {} ({e}); is `cargo lambda watch` running?",
                self.base
            )
        })?;
        let function_error = resp.headers().contains_key("x-amz-function-error");
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        let value: Value = serde_json::from_slice(&body).map_err(|_| {
            anyhow::anyhow!(
                "function {function} answered {status} with a non-JSON body: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            )
        })?;
        let message = value.get("errorMessage").and_then(Value::as_str);
        match message {
            Some(m) if function_error || value.get("statusCode").is_none() => {
                Ok(Invocation::FunctionError(m.to_owned()))
            }
            _ if !status.is_success() => {
                anyhow::bail!("invoking {function} failed with {status}: {value}")
            }
            _ => Ok(Invocation::Ok(value)),
        }
    }
}
