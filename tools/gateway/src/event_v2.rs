//! HTTP API payload 2.0: the event API Gateway sends a function, the REQUEST authorizer event
//! (format 2.0), and the function's response read the 2.0 way.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::event::{body_field, response_body, ProxyResponse};
use crate::request::{Incoming, Site};
use crate::routes::Route;

/// `METHOD /template/path`, e.g. `ANY /api/admin/{proxy+}`.
pub fn route_key(route: &Route) -> String {
    format!("{} {}", route.method, route.path)
}

/// Headers the 2.0 way: names lower-case, repeated headers joined with commas, cookies apart.
fn headers(req: &Incoming) -> (Map<String, Value>, Vec<String>) {
    let mut joined: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut cookies = Vec::new();
    for (k, v) in &req.headers {
        let k = k.to_ascii_lowercase();
        if k == "cookie" {
            cookies.extend(
                v.split(';')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned),
            );
        } else {
            joined.entry(k).or_default().push(v);
        }
    }
    let map = joined
        .into_iter()
        .map(|(k, v)| (k, Value::String(v.join(","))))
        .collect();
    (map, cookies)
}

/// Query parameters the 2.0 way: repeated parameters joined with commas.
fn query(req: &Incoming) -> Value {
    let mut joined: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in req.query() {
        joined.entry(k).or_default().push(v);
    }
    if joined.is_empty() {
        return Value::Null;
    }
    Value::Object(
        joined
            .into_iter()
            .map(|(k, v)| (k, Value::String(v.join(","))))
            .collect(),
    )
}

fn path_parameters(params: &[(String, String)]) -> Value {
    if params.is_empty() {
        return Value::Null;
    }
    Value::Object(
        params
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// `requestContext` of both 2.0 events. `http.path` and the event's `rawPath` are the path the
/// stage saw: with `/<stage>` for a named stage on the execute-api URL, without behind a custom
/// domain.
fn request_context(req: &Incoming, site: &Site, route: &Route) -> Value {
    json!({
        "accountId": site.account,
        "apiId": site.api_id,
        "domainName": site.domain_name(),
        "domainPrefix": site.domain_prefix(),
        "http": {
            "method": req.method,
            "path": site.stage_path(&req.path),
            "protocol": "HTTP/1.1",
            "sourceIp": req.source_ip,
            "userAgent": req.header("user-agent").unwrap_or_default(),
        },
        "requestId": req.request_id,
        "routeKey": route_key(route),
        "stage": site.stage,
        "time": http_date(req.time_epoch_ms),
        "timeEpoch": req.time_epoch_ms,
    })
}

/// The payload 2.0 event for a function, with `requestContext.authorizer.lambda` set to the
/// simple response's context when an authorizer ran.
pub fn function_event(
    req: &Incoming,
    site: &Site,
    route: &Route,
    path_params: &[(String, String)],
    authorizer_context: Option<&Value>,
) -> Value {
    let (headers, cookies) = headers(req);
    let (body, is_b64) = body_field(&req.body);
    let mut ctx = request_context(req, site, route);
    if let (Some(obj), Some(lambda)) = (ctx.as_object_mut(), authorizer_context) {
        obj.insert("authorizer".to_owned(), json!({ "lambda": lambda }));
    }
    let mut ev = json!({
        "version": "2.0",
        "routeKey": route_key(route),
        "rawPath": site.stage_path(&req.path),
        "rawQueryString": req.raw_query,
        "headers": headers,
        "queryStringParameters": query(req),
        "pathParameters": path_parameters(path_params),
        "stageVariables": null,
        "requestContext": ctx,
        "body": body,
        "isBase64Encoded": is_b64,
    });
    if !cookies.is_empty() {
        ev["cookies"] = json!(cookies);
    }
    ev
}

/// The format 2.0 REQUEST authorizer event (`identitySource` holds the identity values).
pub fn authorizer_event(
    req: &Incoming,
    site: &Site,
    route: &Route,
    path_params: &[(String, String)],
    identity: &[String],
) -> Value {
    let (headers, cookies) = headers(req);
    let mut ev = json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": site.method_arn(&req.method, &req.path),
        "identitySource": identity,
        "routeKey": route_key(route),
        "rawPath": site.stage_path(&req.path),
        "rawQueryString": req.raw_query,
        "headers": headers,
        "queryStringParameters": query(req),
        "pathParameters": path_parameters(path_params),
        "stageVariables": null,
        "requestContext": request_context(req, site, route),
    });
    if !cookies.is_empty() {
        ev["cookies"] = json!(cookies);
    }
    ev
}

/// A function's answer read as HTTP API reads payload 2.0: an object with `statusCode` is a
/// structured response (`headers`, `cookies` → `Set-Cookie`, `body`, `isBase64Encoded`); any
/// other JSON is the body of a 200 `application/json` answer.
pub fn function_response(v: &Value) -> anyhow::Result<ProxyResponse> {
    let Some(status) = v.get("statusCode") else {
        let body = match v {
            Value::String(s) => s.clone().into_bytes(),
            other => other.to_string().into_bytes(),
        };
        return Ok(ProxyResponse {
            status: 200,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body,
        });
    };
    let status = status
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("statusCode is not a number"))?;
    let mut headers = Vec::new();
    for (k, val) in v
        .get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(s) = val.as_str() {
            headers.push((k.clone(), s.to_owned()));
        }
    }
    for c in v
        .get("cookies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(s) = c.as_str() {
            headers.push(("set-cookie".to_owned(), s.to_owned()));
        }
    }
    Ok(ProxyResponse {
        status: u16::try_from(status)?,
        headers,
        body: response_body(v)?,
    })
}

/// `dd/Mon/yyyy:HH:mm:ss +0000`, the format of `requestContext.time`.
fn http_date(epoch_ms: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = epoch_ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{day:02}/{}/{year}:{:02}:{:02}:{:02} +0000",
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::tests::{request, site};

    fn admin_route() -> Route {
        Route::new("ANY", "/api/admin/{proxy+}", "me", None).unwrap()
    }

    #[test]
    fn the_function_event_is_payload_2_0_with_the_stage_in_raw_path() {
        let req = request("DELETE", "/api/admin/users/7", b"hi");
        let params = vec![("proxy".to_owned(), "users/7".to_owned())];
        let ctx = json!({"sub": "u1", "roles": "admin"});
        let ev = function_event(&req, &site(None), &admin_route(), &params, Some(&ctx));
        assert_eq!(ev["version"], "2.0");
        assert_eq!(ev["routeKey"], "ANY /api/admin/{proxy+}");
        assert_eq!(ev["rawPath"], "/v1/api/admin/users/7");
        assert_eq!(ev["rawQueryString"], "a=1&a=2&b=");
        assert_eq!(ev["queryStringParameters"], json!({"a": "1,2", "b": ""}));
        assert_eq!(ev["cookies"], json!(["x=1", "y=2"]));
        assert_eq!(ev["headers"]["accept"], "a,b");
        assert!(ev["headers"].get("cookie").is_none());
        assert_eq!(ev["pathParameters"], json!({"proxy": "users/7"}));
        assert_eq!(ev["body"], "hi");
        let rc = &ev["requestContext"];
        assert_eq!(rc["http"]["method"], "DELETE");
        assert_eq!(rc["http"]["path"], "/v1/api/admin/users/7");
        assert_eq!(rc["http"]["sourceIp"], "127.0.0.1");
        assert_eq!(rc["http"]["userAgent"], "curl/8");
        assert_eq!(rc["http"]["protocol"], "HTTP/1.1");
        assert_eq!(rc["stage"], "v1");
        assert_eq!(rc["routeKey"], "ANY /api/admin/{proxy+}");
        assert_eq!(
            rc["domainName"],
            "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
        );
        assert_eq!(rc["domainPrefix"], "a1b2c3d4e5");
        assert_eq!(rc["apiId"], "a1b2c3d4e5");
        assert_eq!(rc["authorizer"]["lambda"], ctx);
        assert_eq!(rc["time"], "15/Jan/2027:08:00:00 +0000");
    }

    #[test]
    fn behind_a_custom_domain_raw_path_has_no_stage() {
        let req = request("GET", "/api/admin/x", b"");
        let ev = function_event(&req, &site(Some("localhost")), &admin_route(), &[], None);
        assert_eq!(ev["rawPath"], "/api/admin/x");
        assert_eq!(ev["requestContext"]["http"]["path"], "/api/admin/x");
        assert_eq!(ev["requestContext"]["domainName"], "localhost");
        assert!(ev["requestContext"].get("authorizer").is_none());
    }

    #[test]
    fn lambda_http_reads_the_event_as_api_gateway_v2() {
        use lambda_http::request::RequestContext;
        use lambda_http::RequestExt;
        let req = request("DELETE", "/api/admin/users/7", b"");
        let params = vec![("proxy".to_owned(), "users/7".to_owned())];
        let ctx = json!({"sub": "u1", "roles": "admin", "sid": "s"});
        let ev = function_event(&req, &site(None), &admin_route(), &params, Some(&ctx));
        let http = lambda_http::request::from_str(&ev.to_string()).unwrap();
        assert_eq!(http.method(), "DELETE");
        assert_eq!(http.headers()["cookie"], "x=1; y=2");
        let Some(RequestContext::ApiGatewayV2(rc)) = http.request_context_ref() else {
            panic!("an HTTP API event")
        };
        assert_eq!(rc.authorizer.as_ref().unwrap().fields["roles"], "admin");
    }

    #[test]
    fn the_authorizer_event_is_the_2_0_request_format() {
        let req = request("GET", "/api/admin/x:a/b/c", b"");
        let identity = vec!["Bearer t".to_owned(), "GET".to_owned()];
        let ev = authorizer_event(&req, &site(None), &admin_route(), &[], &identity);
        assert_eq!(ev["type"], "REQUEST");
        assert_eq!(ev["version"], "2.0");
        assert_eq!(ev["routeKey"], "ANY /api/admin/{proxy+}");
        assert_eq!(ev["rawPath"], "/v1/api/admin/x:a/b/c");
        assert_eq!(
            ev["requestContext"]["http"]["path"],
            "/v1/api/admin/x:a/b/c"
        );
        assert_eq!(ev["identitySource"], json!(identity));
        assert_eq!(ev["headers"]["authorization"], "Bearer t");
        assert_eq!(
            ev["routeArn"],
            "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/v1/GET/api/admin/x:a/b/c"
        );
        let parsed: aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request =
            serde_json::from_value(ev).unwrap();
        assert_eq!(
            parsed.request_context.http.path.as_deref(),
            Some("/v1/api/admin/x:a/b/c")
        );
    }

    #[test]
    fn responses_are_read_the_2_0_way() {
        let r = function_response(&json!({
            "statusCode": 200,
            "headers": {"content-type": "application/json"},
            "cookies": ["a=1; Path=/auth", "b=2"],
            "body": "{}",
        }))
        .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(
            r.headers,
            vec![
                ("content-type".to_owned(), "application/json".to_owned()),
                ("set-cookie".to_owned(), "a=1; Path=/auth".to_owned()),
                ("set-cookie".to_owned(), "b=2".to_owned()),
            ]
        );
        let plain = function_response(&json!({"hello": "world"})).unwrap();
        assert_eq!(plain.status, 200);
        assert_eq!(plain.body, br#"{"hello":"world"}"#);
        let b64 =
            function_response(&json!({"statusCode": 201, "body": "/wA=", "isBase64Encoded": true}))
                .unwrap();
        assert_eq!((b64.status, b64.body), (201, vec![0xff, 0x00]));
    }
}
