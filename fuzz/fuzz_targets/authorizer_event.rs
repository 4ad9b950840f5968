//! The authorizer on arbitrary events: any JSON API Gateway could (or could not) send,
//! seeded with `events/authorizer-*.json` (placeholders filled with a genuine token).
//!
//! Oracles: never a panic; never an allowing answer (`isAuthorized: true`, or a REST policy
//! with a principal) unless the event carries a token that verifies.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tokengate_fuzz::{fill_placeholders, harness};
use tokengate_handlers::http::strip_bearer;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(event) = serde_json::from_str::<Value>(&fill_placeholders(text)) else {
        return;
    };
    let h = harness();
    let presented = presented_tokens(&event);
    let answer = h.runtime.block_on(h.authorizer.handle(event));
    if let Ok(resp) = answer {
        let allowed = resp["isAuthorized"] == Value::Bool(true) || resp["principalId"].is_string();
        if allowed {
            let now = h.rig.clock_now();
            assert!(
                presented
                    .iter()
                    .any(|t| h.authorizer.verifier.verify(t, now).is_ok()),
                "allowed without a valid token: {resp}"
            );
        }
    }
});

/// Every bearer token the event carries, wherever an authorizer could read it: the TOKEN
/// event's `authorizationToken` and any `Authorization` header, in any letter case.
fn presented_tokens(event: &Value) -> Vec<String> {
    let mut values: Vec<&Value> = event.get("authorizationToken").into_iter().collect();
    for map in ["headers", "multiValueHeaders"] {
        if let Some(headers) = event.get(map).and_then(Value::as_object) {
            for (name, value) in headers {
                if name.eq_ignore_ascii_case("authorization") {
                    values.push(value);
                    values.extend(value.as_array().into_iter().flatten());
                }
            }
        }
    }
    values
        .into_iter()
        .filter_map(Value::as_str)
        .filter_map(strip_bearer)
        .map(str::to_owned)
        .collect()
}
