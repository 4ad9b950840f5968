//! HTTP request → the API Gateway REST proxy event the deployed API would send, and the
//! function's proxy response → HTTP response.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::template::Route;

/// What the gateway knows about an incoming request.
pub struct Incoming<'a> {
    /// Method.
    pub method: &'a str,
    /// Path without query.
    pub path: &'a str,
    /// Query string pairs.
    pub query: Vec<(String, String)>,
    /// Headers, names lower-case, in arrival order.
    pub headers: Vec<(String, String)>,
    /// Raw body.
    pub body: &'a [u8],
    /// Peer address: what API Gateway reports as `sourceIp`.
    pub source_ip: String,
    /// Request id.
    pub request_id: String,
}

/// Stage name the local API pretends to have.
pub const STAGE: &str = "local";
/// Fake account and API id used in ARNs.
pub const ARN_BASE: &str = "arn:aws:execute-api:us-east-1:000000000000:local";

/// The method ARN API Gateway gives the authorizer.
pub fn method_arn(method: &str, path: &str) -> String {
    format!("{ARN_BASE}/{STAGE}/{method}{path}")
}

/// The REST API proxy event for `route`, with the authorizer context if one was produced.
pub fn proxy_event(
    req: &Incoming<'_>,
    route: &Route,
    path_params: &[(String, String)],
    authorizer: Option<&Value>,
) -> Value {
    let mut headers = Map::new();
    let mut multi: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (k, v) in &req.headers {
        headers.insert(k.clone(), Value::String(v.clone()));
        multi
            .entry(k.clone())
            .or_default()
            .push(Value::String(v.clone()));
    }
    let mut query = Map::new();
    let mut multi_query: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (k, v) in &req.query {
        query.insert(k.clone(), Value::String(v.clone()));
        multi_query
            .entry(k.clone())
            .or_default()
            .push(Value::String(v.clone()));
    }
    let (body, is_b64) = match std::str::from_utf8(req.body) {
        _ if req.body.is_empty() => (Value::Null, false),
        Ok(text) => (Value::String(text.to_owned()), false),
        Err(_) => (Value::String(B64.encode(req.body)), true),
    };
    let params: Map<String, Value> = path_params
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "resource": route.path,
        "path": req.path,
        "httpMethod": req.method,
        "headers": headers,
        "multiValueHeaders": multi,
        "queryStringParameters": if query.is_empty() { Value::Null } else { Value::Object(query) },
        "multiValueQueryStringParameters": if multi_query.is_empty() { Value::Null } else { json!(multi_query) },
        "pathParameters": if params.is_empty() { Value::Null } else { Value::Object(params) },
        "stageVariables": null,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "resourceId": "local",
            "stage": STAGE,
            "requestId": req.request_id,
            "httpMethod": req.method,
            "resourcePath": route.path,
            "path": format!("/{STAGE}{}", req.path),
            "protocol": "HTTP/1.1",
            "requestTimeEpoch": now_millis(),
            "identity": { "sourceIp": req.source_ip, "userAgent": header(req, "user-agent") },
            "authorizer": authorizer.cloned().unwrap_or(Value::Null),
        },
        "body": body,
        "isBase64Encoded": is_b64,
    })
}

fn header<'a>(req: &'a Incoming<'_>, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn now_millis() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// A function's proxy response, decoded.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ProxyResponse {
    /// Status code.
    pub status: u16,
    /// Headers (single and multi-value merged; `Set-Cookie` may repeat).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// Decodes `{statusCode, headers, multiValueHeaders, body, isBase64Encoded}`.
pub fn proxy_response(v: &Value) -> anyhow::Result<ProxyResponse> {
    let status = v
        .get("statusCode")
        .and_then(Value::as_u64)
        .ok_or_else(|| anyhow::anyhow!("function response has no statusCode"))?;
    let mut headers = Vec::new();
    let mut seen = std::collections::HashSet::new();
    if let Some(m) = v.get("multiValueHeaders").and_then(Value::as_object) {
        for (k, vals) in m {
            for val in vals.as_array().into_iter().flatten() {
                if let Some(s) = val.as_str() {
                    headers.push((k.clone(), s.to_owned()));
                    seen.insert(k.to_ascii_lowercase());
                }
            }
        }
    }
    if let Some(m) = v.get("headers").and_then(Value::as_object) {
        for (k, val) in m {
            if let (false, Some(s)) = (seen.contains(&k.to_ascii_lowercase()), val.as_str()) {
                headers.push((k.clone(), s.to_owned()));
            }
        }
    }
    let body = match v.get("body").and_then(Value::as_str) {
        None => Vec::new(),
        Some(s) if v.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) => {
            B64.decode(s)?
        }
        Some(s) => s.as_bytes().to_vec(),
    };
    Ok(ProxyResponse {
        status: u16::try_from(status)?,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_response_keeps_every_set_cookie() {
        let v = json!({
            "statusCode": 204,
            "headers": {"cache-control": "no-store"},
            "multiValueHeaders": {"set-cookie": ["a=1", "b=2"]},
            "body": ""
        });
        let r = proxy_response(&v).unwrap();
        assert_eq!(r.status, 204);
        assert_eq!(
            r.headers.iter().filter(|(k, _)| k == "set-cookie").count(),
            2
        );
    }

    #[test]
    fn binary_bodies_are_base64_in_the_event() {
        let route = Route {
            method: "POST".into(),
            path: "/x".into(),
            function: "f".into(),
            authorized: false,
        };
        let req = Incoming {
            method: "POST",
            path: "/x",
            query: vec![],
            headers: vec![],
            body: &[0xff, 0x00],
            source_ip: "127.0.0.1".into(),
            request_id: "r".into(),
        };
        let ev = proxy_event(&req, &route, &[], None);
        assert_eq!(ev["isBase64Encoded"], true);
        assert_eq!(ev["body"], "/wA=");
        assert_eq!(ev["requestContext"]["identity"]["sourceIp"], "127.0.0.1");
    }
}
