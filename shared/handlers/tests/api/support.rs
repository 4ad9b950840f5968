//! What the endpoint tests share: API Gateway events built from the samples in `events/` (as
//! AWS sends them, with the test's method, path, headers and body), and what the tests read
//! from an answer.

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use lambda_http::http::header::SET_COOKIE;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use tokengate_handlers::authorizer::{Authorizer, AuthorizerError};
use tokengate_handlers::iam::{self, Decision};
use tokengate_handlers::login;
use tokengate_testing::memory::MemoryRig;

/// A sample event as Lambda hands it over: the real REST API proxy event type must accept it,
/// and lambda_http parses it exactly as in Lambda.
pub fn request(text: &str) -> Request {
    serde_json::from_str::<ApiGatewayProxyRequest>(text).expect("ApiGatewayProxyRequest");
    lambda_http::request::from_str(text).expect("lambda_http request")
}

/// A sample event with its placeholders (`ACCESS_TOKEN`, `REFRESH_TOKEN`, `SESSION_ID`) filled.
pub fn fill(text: &str, access: &str, refresh: &str) -> String {
    let sid = refresh.split('.').next().unwrap_or("");
    text.replace("ACCESS_TOKEN", access)
        .replace("REFRESH_TOKEN", refresh)
        .replace("SESSION_ID", sid)
}

/// The sample event of the route at `path` (`events/login.json`, `refresh-body.json`,
/// `logout.json`) with this method, path, headers and body, reached at the root (a custom
/// domain: `requestContext.path` is `path`).
pub fn event(method: &str, path: &str, headers: Value, body: Option<&str>) -> Request {
    let sample = match path {
        "/auth/login" => include_str!("../../../../events/login.json"),
        "/auth/refresh" => include_str!("../../../../events/refresh-body.json"),
        "/auth/logout" | "/oauth/revoke" => include_str!("../../../../events/logout.json"),
        "/oauth/token" => include_str!("../../../../events/refresh-body.json"),
        "/.well-known/jwks.json"
        | "/.well-known/openid-configuration"
        | "/.well-known/oauth-authorization-server" => {
            include_str!("../../../../events/jwks.json")
        }
        other => panic!("no sample event for {other}"),
    };
    let mut ev: Value = serde_json::from_str(sample).expect("the sample event is JSON");
    let multi: serde_json::Map<String, Value> = headers
        .as_object()
        .expect("headers")
        .iter()
        .map(|(k, v)| (k.clone(), json!([v])))
        .collect();
    ev["resource"] = json!(path);
    ev["path"] = json!(path);
    ev["httpMethod"] = json!(method);
    ev["headers"] = headers;
    ev["multiValueHeaders"] = Value::Object(multi);
    ev["requestContext"]["httpMethod"] = json!(method);
    ev["requestContext"]["resourcePath"] = json!(path);
    ev["requestContext"]["path"] = json!(path);
    ev["body"] = json!(body);
    request(&ev.to_string())
}

pub fn json_headers() -> Value {
    json!({ "content-type": "application/json" })
}

pub fn body_json(resp: &Response<Body>) -> Value {
    serde_json::from_slice(resp.body().as_ref()).expect("JSON body")
}

/// The status, the error code, a message, and nothing else.
pub fn assert_error(resp: &Response<Body>, status: u16, code: &str) {
    assert_eq!(resp.status().as_u16(), status, "body: {:?}", resp.body());
    let b = body_json(resp);
    assert_eq!(b["error"], code);
    assert!(b["message"].is_string());
    assert_eq!(
        b.as_object().unwrap().len(),
        2,
        "no extra detail in error bodies"
    );
}

/// The value of the `Set-Cookie` header's cookie.
pub fn cookie_value(resp: &Response<Body>) -> String {
    let c = resp.headers().get(SET_COOKIE).unwrap().to_str().unwrap();
    let pair = c.split(';').next().unwrap();
    pair.split_once('=').unwrap().1.to_owned()
}

/// The `Path` attribute of the `Set-Cookie` header.
pub fn cookie_path_of(resp: &Response<Body>) -> String {
    let c = resp.headers().get(SET_COOKIE).unwrap().to_str().unwrap();
    let path = c.split("; ").find_map(|a| a.strip_prefix("Path="));
    path.expect("a Path attribute").to_owned()
}

/// Alice's browser login: the answer.
pub async fn web_login(rig: &MemoryRig) -> Response<Body> {
    let req = event(
        "POST",
        "/auth/login",
        json_headers(),
        Some(r#"{"username":"alice","password":"correct horse"}"#),
    );
    login::handle(&rig.login, req).await.unwrap()
}

/// Alice's native-client login (`"client":"native"`): the answer, refresh token in the body.
pub async fn native_login(rig: &MemoryRig) -> Response<Body> {
    let req = event(
        "POST",
        "/auth/login",
        json_headers(),
        Some(r#"{"username":"alice","password":"correct horse","client":"native"}"#),
    );
    login::handle(&rig.login, req).await.unwrap()
}

/// Logs in through `events/login.json` as it is: (access token, refresh token from the cookie).
pub async fn login_tokens(rig: &MemoryRig) -> (String, String) {
    let resp = login::handle(&rig.login, request(event!("login.json")))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    (
        body_json(&resp)["access_token"]
            .as_str()
            .unwrap()
            .to_owned(),
        cookie_value(&resp),
    )
}

/// The REST API stage the authorizer tests' method ARNs belong to.
/// Alice logged in, an authorizer whose rules reserve `/api/admin/*` for admins, and her
/// access token.
pub async fn setup() -> (MemoryRig, Authorizer, String) {
    let rig = MemoryRig::new().await;
    let grant = rig.login_alice().await;
    let authorizer = rig.authorizer("GET /api/me=; * /api/admin/*=admin");
    (rig, authorizer, grant.access.token)
}

/// Why the authorizer refuses `token` for `GET /api/me` (it must refuse).
pub async fn refusal(auth: &Authorizer, token: &str) -> AuthorizerError {
    auth.handle(token_event(token, "GET", "/api/me"))
        .await
        .unwrap_err()
}

pub const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:api123/v1";

/// A REST TOKEN authorizer event for `method path` with `token` as the bearer.
pub fn token_event(token: &str, method: &str, path: &str) -> Value {
    json!({
        "type": "TOKEN",
        "authorizationToken": format!("Bearer {token}"),
        "methodArn": format!("{ARN}/{method}{path}"),
    })
}

/// An HTTP API (payload 2.0) authorizer event for `method path` on the `$default` stage,
/// matched by a greedy route and cached by `identity` (the identity-source values API Gateway
/// lists in the event).
pub fn v2_event(token: &str, method: &str, path: &str, identity: &[&str]) -> Value {
    let route = "ANY /{proxy+}";
    json!({
        "version": "2.0", "type": "REQUEST",
        "routeArn": format!("{ARN}/{method}{path}"),
        "identitySource": identity,
        "routeKey": route, "rawPath": path, "rawQueryString": "",
        "headers": { "authorization": format!("Bearer {token}") },
        "requestContext": {
            "accountId": "123456789012", "apiId": "api123",
            "domainName": "api123.execute-api.us-east-1.amazonaws.com", "domainPrefix": "api123",
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "t" },
            "requestId": "r", "routeKey": route, "stage": "$default", "time": "t", "timeEpoch": 0
        }
    })
}

/// What API Gateway decides for `method path` from the authorizer's (possibly cached) answer.
pub fn gateway_allows(resp: &Value, method: &str, path: &str) -> bool {
    iam::evaluate(resp, &format!("{ARN}/{method}{path}")) == Some(Decision::Allow)
}
