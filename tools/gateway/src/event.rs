//! REST API payload 1.0: the proxy event API Gateway sends a function (and the REQUEST
//! authorizer event built from the same fields), and the function's proxy response.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::request::{Incoming, Site};
use crate::routes::Route;

/// The REST API proxy event for `route`, with `requestContext.authorizer` if the authorizer
/// produced one. `path` is the path within the API (no stage), `requestContext.path` the path
/// the stage saw (with `/<stage>` on the execute-api URL), `resource` the template path.
pub fn proxy_event(
    req: &Incoming,
    site: &Site,
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
    for (k, v) in req.query() {
        query.insert(k.clone(), Value::String(v.clone()));
        multi_query.entry(k).or_default().push(Value::String(v));
    }
    let (body, is_b64) = body_field(&req.body);
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
            "accountId": site.account,
            "apiId": site.api_id,
            "resourceId": resource_id(&route.path),
            "stage": site.stage,
            "domainName": site.domain_name(),
            "domainPrefix": site.domain_prefix(),
            "requestId": req.request_id,
            "extendedRequestId": req.request_id,
            "httpMethod": req.method,
            "resourcePath": route.path,
            "path": site.stage_path(&req.path),
            "protocol": "HTTP/1.1",
            "requestTimeEpoch": req.time_epoch_ms,
            "identity": { "sourceIp": req.source_ip, "userAgent": req.header("user-agent") },
            "authorizer": authorizer.cloned().unwrap_or(Value::Null),
        },
        "body": body,
        "isBase64Encoded": is_b64,
    })
}

/// The REST REQUEST authorizer event: the proxy event's request fields (no body), `type` and
/// `methodArn`.
pub fn request_authorizer_event(
    req: &Incoming,
    site: &Site,
    route: &Route,
    path_params: &[(String, String)],
) -> Value {
    let mut ev = proxy_event(req, site, route, path_params, None);
    if let Some(obj) = ev.as_object_mut() {
        obj.remove("body");
        obj.remove("isBase64Encoded");
        obj.insert("type".to_owned(), json!("REQUEST"));
        obj.insert(
            "methodArn".to_owned(),
            json!(site.method_arn(&req.method, &req.path)),
        );
        if let Some(ctx) = obj.get_mut("requestContext").and_then(Value::as_object_mut) {
            ctx.remove("authorizer");
        }
    }
    ev
}

/// A stable made-up resource id per resource path (API Gateway's are 6 characters).
fn resource_id(path: &str) -> String {
    let h = path.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("{:06x}", h & 0xff_ffff)
}

/// `body` and `isBase64Encoded`: text as is, anything else base64.
pub fn body_field(body: &[u8]) -> (Value, bool) {
    match std::str::from_utf8(body) {
        _ if body.is_empty() => (Value::Null, false),
        Ok(text) => (Value::String(text.to_owned()), false),
        Err(_) => (Value::String(B64.encode(body)), true),
    }
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
    Ok(ProxyResponse {
        status: u16::try_from(status)?,
        headers,
        body: response_body(v)?,
    })
}

/// The bytes of a function response's `body`, base64-decoded when `isBase64Encoded` (the same
/// in payload formats 1.0 and 2.0).
pub fn response_body(v: &Value) -> anyhow::Result<Vec<u8>> {
    Ok(match v.get("body").and_then(Value::as_str) {
        None => Vec::new(),
        Some(s) if v.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) => {
            B64.decode(s)?
        }
        Some(s) => s.as_bytes().to_vec(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::request::{Flavor, ACCOUNT, API_ID};

    pub(crate) fn site(custom_domain: Option<&str>) -> Site {
        Site {
            flavor: Flavor::Rest,
            stage: "v1".into(),
            custom_domain: custom_domain.map(str::to_owned),
            region: "us-east-1".into(),
            account: ACCOUNT.into(),
            api_id: API_ID.into(),
        }
    }

    pub(crate) fn request(method: &str, path: &str, body: &[u8]) -> Incoming {
        Incoming {
            method: method.into(),
            path: path.into(),
            raw_query: "a=1&a=2&b=".into(),
            headers: vec![
                ("authorization".into(), "Bearer t".into()),
                ("cookie".into(), "x=1; y=2".into()),
                ("user-agent".into(), "curl/8".into()),
                ("accept".into(), "a".into()),
                ("accept".into(), "b".into()),
            ],
            body: bytes::Bytes::copy_from_slice(body),
            source_ip: "127.0.0.1".into(),
            request_id: "r-1".into(),
            time_epoch_ms: 1_800_000_000_000,
        }
    }

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
            r.headers,
            vec![
                ("set-cookie".to_owned(), "a=1".to_owned()),
                ("set-cookie".to_owned(), "b=2".to_owned()),
                ("cache-control".to_owned(), "no-store".to_owned()),
            ]
        );
        assert!(proxy_response(&json!({"body": "x"})).is_err());
    }

    #[test]
    fn binary_bodies_are_base64_in_the_event() {
        let route = Route::new("POST", "/x", "f", None).unwrap();
        let ev = proxy_event(
            &request("POST", "/x", &[0xff, 0x00]),
            &site(None),
            &route,
            &[],
            None,
        );
        assert_eq!(ev["isBase64Encoded"], true);
        assert_eq!(ev["body"], "/wA=");
    }

    #[test]
    fn the_event_under_the_stage_is_what_the_execute_api_url_sends() {
        let route = Route::new("ANY", "/api/admin/{proxy+}", "me", None).unwrap();
        let params = vec![("proxy".to_owned(), "x:a/b/c".to_owned())];
        let ctx = json!({"principalId": "u1", "sub": "u1"});
        let req = request("DELETE", "/api/admin/x:a/b/c", b"{}");
        let ev = proxy_event(&req, &site(None), &route, &params, Some(&ctx));
        assert_eq!(ev["resource"], "/api/admin/{proxy+}");
        assert_eq!(ev["path"], "/api/admin/x:a/b/c");
        assert_eq!(ev["httpMethod"], "DELETE");
        assert_eq!(ev["pathParameters"], json!({"proxy": "x:a/b/c"}));
        assert_eq!(ev["queryStringParameters"], json!({"a": "2", "b": ""}));
        assert_eq!(
            ev["multiValueQueryStringParameters"],
            json!({"a": ["1", "2"], "b": [""]})
        );
        assert_eq!(ev["multiValueHeaders"]["accept"], json!(["a", "b"]));
        assert_eq!(ev["body"], "{}");
        assert_eq!(ev["isBase64Encoded"], false);
        let rc = &ev["requestContext"];
        assert_eq!(rc["path"], "/v1/api/admin/x:a/b/c");
        assert_eq!(rc["stage"], "v1");
        assert_eq!(rc["resourcePath"], "/api/admin/{proxy+}");
        assert_eq!(rc["httpMethod"], "DELETE");
        assert_eq!(rc["apiId"], API_ID);
        assert_eq!(rc["accountId"], ACCOUNT);
        assert_eq!(
            rc["domainName"],
            "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
        );
        assert_eq!(rc["domainPrefix"], "a1b2c3d4e5");
        assert_eq!(rc["identity"]["sourceIp"], "127.0.0.1");
        assert_eq!(rc["identity"]["userAgent"], "curl/8");
        assert_eq!(rc["authorizer"], ctx);
        assert_eq!(rc["requestTimeEpoch"], 1_800_000_000_000_u64);
    }

    #[test]
    fn behind_a_custom_domain_no_path_has_the_stage() {
        let route = Route::new("GET", "/api/me", "me", None).unwrap();
        let req = request("GET", "/api/me", b"");
        let ev = proxy_event(&req, &site(Some("localhost")), &route, &[], None);
        assert_eq!(ev["path"], "/api/me");
        assert_eq!(ev["requestContext"]["path"], "/api/me");
        assert_eq!(ev["requestContext"]["stage"], "v1");
        assert_eq!(ev["requestContext"]["domainName"], "localhost");
        assert_eq!(ev["pathParameters"], Value::Null);
        assert_eq!(ev["body"], Value::Null);
    }

    #[test]
    fn lambda_http_reads_the_event_as_api_gateway_v1() {
        use lambda_http::request::RequestContext;
        use lambda_http::RequestExt;
        let route = Route::new("ANY", "/api/admin/{proxy+}", "me", None).unwrap();
        let params = vec![("proxy".to_owned(), "users/7".to_owned())];
        let ctx = json!({"principalId": "u1", "sub": "u1", "roles": "admin"});
        let req = request("DELETE", "/api/admin/users/7", b"");
        let ev = proxy_event(&req, &site(None), &route, &params, Some(&ctx));
        let http = lambda_http::request::from_str(&ev.to_string()).unwrap();
        assert_eq!(http.method(), "DELETE");
        assert_eq!(http.path_parameters().first("proxy"), Some("users/7"));
        let Some(RequestContext::ApiGatewayV1(rc)) = http.request_context_ref() else {
            panic!("a REST API event")
        };
        assert_eq!(rc.authorizer.fields["roles"], "admin");
    }

    #[test]
    fn the_request_authorizer_event_has_the_method_arn_and_no_body() {
        let route = Route::new("GET", "/api/me", "me", None).unwrap();
        let ev =
            request_authorizer_event(&request("GET", "/api/me", b"x"), &site(None), &route, &[]);
        assert_eq!(ev["type"], "REQUEST");
        assert_eq!(
            ev["methodArn"],
            "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/v1/GET/api/me"
        );
        assert_eq!(ev["headers"]["authorization"], "Bearer t");
        assert!(ev.get("body").is_none());
        assert!(ev["requestContext"].get("authorizer").is_none());
    }
}
