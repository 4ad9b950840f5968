//! One execution environment's Runtime API (AWS Lambda Developer Guide, "Using the Lambda
//! runtime API for custom runtimes"): the function's process asks for its `next` invocation,
//! then reports its `response` or `error`.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};

use super::{reply, Environment, Outcome, ACCOUNT, RUNTIME_API};

/// One environment's Runtime API: `next`, then the invocation's `response` or `error`.
pub(super) async fn runtime(
    env: Arc<Environment>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let path = req.uri().path().to_owned();
    let function = &env.function;
    if req.method() == Method::GET && path == format!("{RUNTIME_API}/invocation/next") {
        // A pinned invocation first; else the next one any environment may take (both
        // receivers lose nothing when the other branch wins).
        let next = {
            let mut own = env.own.lock().await;
            tokio::select! {
                biased;
                Some(inv) = own.recv() => Some(inv),
                inv = async { function.next.lock().await.recv().await } => inv,
            }
        };
        let Some(inv) = next else {
            return Err(std::io::Error::other("the service stopped"));
        };
        {
            let mut c = function.counts.lock().expect("counts");
            c.free -= 1;
            c.queued -= 1;
            *c.handed.entry(env.id).or_default() += 1;
        }
        *env.current.lock().expect("current") = Some((inv.request_id.clone(), inv.reply));
        let arn = format!(
            "arn:aws:lambda:{}:{ACCOUNT}:function:{}",
            function.region, function.config.name
        );
        let deadline = inv.deadline_ms.to_string();
        return Ok(reply(
            StatusCode::OK,
            &[
                ("lambda-runtime-aws-request-id", &inv.request_id),
                ("lambda-runtime-deadline-ms", &deadline),
                ("lambda-runtime-invoked-function-arn", &arn),
                ("content-type", "application/json"),
            ],
            inv.event,
        ));
    }
    let answer = path
        .strip_prefix(&format!("{RUNTIME_API}/invocation/"))
        .and_then(|rest| rest.rsplit_once('/'));
    let body = req
        .into_body()
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let accepted = || {
        reply(
            StatusCode::ACCEPTED,
            &[("content-type", "application/json")],
            Bytes::from_static(br#"{"status":"OK"}"#),
        )
    };
    match answer {
        Some((id, kind @ ("response" | "error"))) => {
            let mut current = env.current.lock().expect("current");
            let Some((_, reply_to)) = current.take_if(|(held, _)| held == id) else {
                let body =
                    br#"{"errorType":"InvalidRequestID","errorMessage":"Invalid request ID"}"#;
                return Ok(reply(
                    StatusCode::BAD_REQUEST,
                    &[],
                    Bytes::from_static(body),
                ));
            };
            function.counts.lock().expect("counts").free += 1;
            let _ = reply_to.send(match kind {
                "response" => Outcome::Response(body),
                _ => Outcome::Error(body),
            });
            Ok(accepted())
        }
        // The process exits after reporting; the reaper fails what it held.
        _ if path == format!("{RUNTIME_API}/init/error") => Ok(accepted()),
        _ => Ok(reply(StatusCode::NOT_FOUND, &[], Bytes::new())),
    }
}
