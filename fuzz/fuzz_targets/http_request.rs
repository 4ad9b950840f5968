//! Login, refresh and logout on arbitrary requests: the JSON body parser, the refresh cookie
//! parser, the CSRF origin check and the bearer header, behind the real API Gateway proxy
//! event parsing of `lambda_http`.
//!
//! Oracles: never a panic, never a 5xx (the in-memory stores do not fail), every error is one
//! of DESIGN.md's codes with its status, and no response echoes the password.

#![no_main]

use arbitrary::Arbitrary;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use tokengate_fuzz::{fill_placeholders, harness, ERROR_CODES};
use tokengate_handlers::{login, logout, refresh};

#[derive(Arbitrary, Debug)]
enum Endpoint {
    Login,
    Refresh,
    Logout,
}

#[derive(Arbitrary, Debug)]
struct Input {
    endpoint: Endpoint,
    /// Header names and values; `REFRESH_TOKEN` / `ACCESS_TOKEN` become genuine tokens.
    headers: Vec<(String, String)>,
    body: String,
    /// Send the body base64-encoded, as API Gateway does for binary media types. (API Gateway
    /// does the encoding: a client cannot make it send invalid base64.)
    base64: bool,
}

fuzz_target!(|input: Input| {
    let h = harness();
    let path = match input.endpoint {
        Endpoint::Login => "/auth/login",
        Endpoint::Refresh => "/auth/refresh",
        Endpoint::Logout => "/auth/logout",
    };
    let mut headers = serde_json::Map::new();
    let mut multi = serde_json::Map::new();
    for (name, value) in &input.headers {
        let value = fill_placeholders(value);
        headers.insert(name.clone(), json!(value));
        multi.insert(name.clone(), json!([value]));
    }
    let body = fill_placeholders(&input.body);
    let body = if input.base64 {
        base64::engine::general_purpose::STANDARD.encode(body)
    } else {
        body
    };
    let event = json!({
        "resource": path, "path": path, "httpMethod": "POST",
        "headers": headers, "multiValueHeaders": multi,
        "body": body, "isBase64Encoded": input.base64,
        "requestContext": {
            "accountId": "123456789012", "apiId": "a1b2c3d4e5", "stage": "v1",
            "requestId": "fuzz", "httpMethod": "POST", "resourcePath": path,
            "identity": { "sourceIp": "203.0.113.7" }
        }
    });
    let Ok(req) = lambda_http::request::from_str(&event.to_string()) else {
        return;
    };
    let resp = h
        .runtime
        .block_on(async {
            match input.endpoint {
                Endpoint::Login => login::handle(&h.rig.login, req).await,
                Endpoint::Refresh => refresh::handle(&h.rig.refresh, req).await,
                Endpoint::Logout => {
                    let origins = &h.rig.refresh.config.allowed_origins;
                    logout::handle(&h.rig.logout, origins, req).await
                }
            }
        })
        .expect("handlers answer every request");
    let status = resp.status().as_u16();
    assert!(status < 500, "status {status}");
    let body = std::str::from_utf8(resp.body().as_ref()).expect("UTF-8 body");
    assert!(!body.contains("correct horse"), "password echoed");
    if status >= 400 {
        let err: Value = serde_json::from_str(body).expect("JSON error body");
        let code = err["error"].as_str().expect("error code");
        assert!(ERROR_CODES.contains(&code), "unknown code {code}");
    }
});
