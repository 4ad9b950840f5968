//! The API as deployed, through gateways of their own in front of the stack's functions: a REST
//! API under the execute-api URL's stage prefix (`/v1`) and the same routes as an HTTP API,
//! both with the authorizer cache on. A token without `admin` is refused on every admin route
//! (the bare prefix, a path with colons, another method), the admin token gets through, and an
//! answer served from the cache is the one a fresh decision gives — also for spellings of the
//! admin routes a backend reads as them (a trailing slash, an empty segment, a `;` parameter,
//! an escaped letter; dot segments never leave the client, whose URL parser removes them).
//! The template's `AuthorizerCache=route` switch gives a REQUEST authorizer keyed per route.
//! DynamoDB down fails closed with the template's 503 + `Retry-After` (within the revocation
//! bound: an authorizer that caught up less than its interval ago still answers from memory).

use std::time::Instant;

use serde_json::{json, Value};
use tokengate_tests::faults::Fault;

use tokengate_tests::gateway::Gateway;

use crate::stack::{access, Stack, ADMIN, ALICE, REVOCATION_BOUND};

/// The admin routes of the template, and one every valid token may call.
const ADMIN_ROUTES: [(&str, &str); 3] = [
    ("GET", "/v1/api/admin"),
    ("GET", "/v1/api/admin/x:a/b/c"),
    ("DELETE", "/v1/api/admin/users/7"),
];
/// Spellings of admin routes a backend behind `{proxy+}` reads as `/api/admin/users`: they
/// reach the authorizer through the greedy route, and are refused to a token without `admin`.
const SPELLED_ADMIN_ROUTES: [(&str, &str); 4] = [
    ("GET", "/v1/api/admin/users/"),
    ("DELETE", "/v1/api/admin//users"),
    ("POST", "/v1/api/admin/users;x"),
    ("GET", "/v1/api/admin/%75sers"),
];
const ME: (&str, &str) = ("GET", "/v1/api/me");

async fn login_at(stack: &Stack, gw: &Gateway, who: (&str, &str)) -> String {
    let r = stack
        .call_at(
            &gw.url,
            "POST",
            "/v1/auth/login",
            &[],
            Some(json!({ "username": who.0, "password": who.1 })),
        )
        .await;
    assert_eq!(r.status, 200, "login under the stage: {}", r.body);
    access(&r)
}

/// Calls `routes` in order with `token` and checks each answer (status and, for refusals,
/// API Gateway's body; for a pass, the caller the authorizer described).
async fn expect(
    stack: &Stack,
    gw: &Gateway,
    token: &str,
    routes: &[((&str, &str), u16)],
    refusal: &Value,
    roles: &Value,
) {
    let bearer = format!("Bearer {token}");
    for ((method, path), want) in routes {
        let r = stack
            .call_at(&gw.url, method, path, &[("authorization", &bearer)], None)
            .await;
        assert_eq!(r.status, *want, "{method} {path}: {}", r.body);
        if *want == 200 {
            assert_eq!(&r.body["roles"], roles, "{method} {path}");
            assert!(r.body["sub"].as_str().is_some_and(|s| !s.is_empty()));
        } else {
            assert_eq!(&r.body, refusal, "{method} {path}");
        }
    }
}

fn count(log: &str, event: &str) -> usize {
    // The value alone: the field name may carry colour codes.
    log.matches(&format!("\"{event}\"")).count()
}

/// REST API under `/v1`, TOKEN authorizer, cache on: one authorizer invocation per token, and
/// its policy answers every route as the rules do.
pub async fn rest_api_under_the_stage_refuses_admin_routes_without_the_role(stack: &Stack) {
    let gw = stack
        .extra_gateway("rest", &[("TOKENGATE_AUTHORIZER_CACHE_TTL", "300")])
        .await;
    // What API Gateway answers outside the stage, for a route it lacks, and without a token.
    let outside = stack
        .call_at(&gw.url, "POST", "/auth/login", &[], None)
        .await;
    assert_eq!(
        (outside.status, outside.body),
        (403, json!({"message": "Forbidden"}))
    );
    let unknown = stack.call_at(&gw.url, "GET", "/v1/nope", &[], None).await;
    assert_eq!(
        (unknown.status, unknown.body),
        (403, json!({"message": "Missing Authentication Token"}))
    );
    let anonymous = stack
        .call_at(&gw.url, "GET", "/v1/api/admin", &[], None)
        .await;
    assert_eq!(
        (anonymous.status, &anonymous.body),
        (401, &json!({"message": "Unauthorized"}))
    );
    assert_eq!(anonymous.headers["www-authenticate"], "Bearer");

    // The policy's Deny statements refuse the admin routes: an explicit deny, which API
    // Gateway words apart from an implicit one (AWS Knowledge Center, "How do I troubleshoot
    // HTTP 403 Forbidden errors when using a Lambda authorizer with an API Gateway REST API?").
    let denied =
        json!({"message": "User is not authorized to access this resource with an explicit deny"});
    // Alice's first call is allowed and caches her policy; the admin routes after it are
    // answered from that cached policy, and must be refused as a fresh decision would.
    let alice = login_at(stack, &gw, ALICE).await;
    let mut routes = vec![(ME, 200)];
    routes.extend(ADMIN_ROUTES.iter().map(|r| (*r, 403)));
    routes.extend(SPELLED_ADMIN_ROUTES.iter().map(|r| (*r, 403)));
    routes.push((ME, 200));
    expect(stack, &gw, &alice, &routes, &denied, &json!([])).await;
    // The admin token, starting with an admin route: every route passes, /api/me included.
    let admin = login_at(stack, &gw, ADMIN).await;
    let mut routes: Vec<_> = ADMIN_ROUTES.iter().rev().map(|r| (*r, 200)).collect();
    routes.extend(SPELLED_ADMIN_ROUTES.iter().map(|r| (*r, 200)));
    routes.push((ME, 200));
    expect(stack, &gw, &admin, &routes, &denied, &json!(["admin"])).await;

    let log = gw.log_text();
    assert_eq!(
        count(&log, "authorizer_invoked"),
        2,
        "one per token (and none without a token)\n{log}"
    );
    assert_eq!(count(&log, "authorizer_cache_hit"), 15, "{log}");
}

/// REST API deployed with `AuthorizerCache=route` (the template's switch, through SAM's
/// transform): a REQUEST authorizer keyed by token, method and path, so each route's answer is
/// its own, fresh or cached.
pub async fn route_keyed_authorizer_cache_answers_each_route_on_its_own(stack: &Stack) {
    let gw = stack
        .extra_gateway(
            "rest-route",
            &[
                ("TOKENGATE_GATEWAY_PARAMETERS", "AuthorizerCache=route"),
                ("TOKENGATE_AUTHORIZER_CACHE_TTL", "300"),
            ],
        )
        .await;
    let anonymous = stack
        .call_at(&gw.url, "GET", "/v1/api/admin", &[], None)
        .await;
    assert_eq!(
        (anonymous.status, anonymous.body),
        (401, json!({"message": "Unauthorized"}))
    );
    let alice = login_at(stack, &gw, ALICE).await;
    let bearer = format!("Bearer {alice}");
    let mut routes = vec![(ME, 200)];
    routes.extend(ADMIN_ROUTES.iter().map(|r| (*r, 403)));
    routes.extend(SPELLED_ADMIN_ROUTES.iter().map(|r| (*r, 403)));
    routes.push((ME, 200));
    // Twice: the second round is answered from the cache, the same way.
    for _ in 0..2 {
        for ((method, path), want) in &routes {
            let r = stack
                .call_at(&gw.url, method, path, &[("authorization", &bearer)], None)
                .await;
            assert_eq!(r.status, *want, "{method} {path}: {}", r.body);
            if *want == 403 {
                // API Gateway's ACCESS_DENIED message (the explicit-deny wording aside).
                let message = r.body["message"].as_str().unwrap_or_default();
                assert!(
                    message.starts_with("User is not authorized to access this resource"),
                    "{method} {path}: {}",
                    r.body
                );
            }
        }
    }
    let log = gw.log_text();
    assert_eq!(
        count(&log, "authorizer_invoked"),
        8,
        "one per route (and none without a token)\n{log}"
    );
    assert_eq!(count(&log, "authorizer_cache_hit"), 10, "{log}");
}

/// The same routes as an HTTP API (payload 2.0, simple responses), cache on and keyed on the
/// token, method and path: each route's answer is its own, fresh or cached.
pub async fn http_api_under_the_stage_refuses_admin_routes_without_the_role(stack: &Stack) {
    let gw = stack
        .extra_gateway(
            "http",
            &[
                ("TOKENGATE_GATEWAY_API", "http"),
                ("TOKENGATE_AUTHORIZER_CACHE_TTL", "300"),
            ],
        )
        .await;
    let outside = stack.call_at(&gw.url, "GET", "/api/me", &[], None).await;
    assert_eq!(
        (outside.status, outside.body),
        (404, json!({"message": "Not Found"}))
    );
    let anonymous = stack
        .call_at(&gw.url, "GET", "/v1/api/admin", &[], None)
        .await;
    assert_eq!(
        (anonymous.status, anonymous.body),
        (401, json!({"message": "Unauthorized"}))
    );

    let forbidden = json!({"message": "Forbidden"});
    let alice = login_at(stack, &gw, ALICE).await;
    let mut routes = vec![(ME, 200)];
    routes.extend(ADMIN_ROUTES.iter().map(|r| (*r, 403)));
    routes.extend(SPELLED_ADMIN_ROUTES.iter().map(|r| (*r, 403)));
    // Twice: the second round is answered from the cache, the same way.
    for _ in 0..2 {
        expect(stack, &gw, &alice, &routes, &forbidden, &json!([])).await;
    }
    let admin = login_at(stack, &gw, ADMIN).await;
    let mut routes: Vec<_> = ADMIN_ROUTES.iter().map(|r| (*r, 200)).collect();
    routes.extend(SPELLED_ADMIN_ROUTES.iter().map(|r| (*r, 200)));
    routes.push((ME, 200));
    for _ in 0..2 {
        expect(stack, &gw, &admin, &routes, &forbidden, &json!(["admin"])).await;
    }

    let log = gw.log_text();
    assert_eq!(
        count(&log, "authorizer_invoked"),
        16,
        "one per token and route\n{log}"
    );
    assert_eq!(count(&log, "authorizer_cache_hit"), 16, "{log}");
}

/// DynamoDB down: the authorizer fails closed, and the REST API answers with the template's
/// gateway response for an authorizer error — 503, `Retry-After`, the API's error shape.
pub async fn dynamodb_down_fails_closed_with_503_and_retry_after(stack: &Stack) {
    let gw = stack
        .extra_gateway("rest-down", &[("TOKENGATE_AUTHORIZER_CACHE_TTL", "0")])
        .await;
    let alice = login_at(stack, &gw, ALICE).await;
    let bearer = format!("Bearer {alice}");
    stack.with_api(|api| api.faults.set(Fault::Unavailable));
    let went_down = Instant::now();
    // An instance that caught up with the revocation feed less than its interval ago still
    // answers from memory (it is within the revocation bound); once its catch-up is due, the
    // catch-up and the per-request read both fail, and it refuses.
    let down = loop {
        let sent = Instant::now();
        let r = stack
            .call_at(
                &gw.url,
                "GET",
                "/v1/api/me",
                &[("authorization", &bearer)],
                None,
            )
            .await;
        if r.status != 200 {
            break r;
        }
        let after = sent.duration_since(went_down);
        assert!(
            after < REVOCATION_BOUND,
            "allowed {} ms into the outage: past the revocation bound it must fail closed",
            after.as_millis()
        );
    };
    stack.with_api(|api| api.faults.set(Fault::None));
    assert_eq!(down.status, 503, "{}", down.body);
    assert_eq!(down.headers["retry-after"], "2");
    assert_eq!(
        down.body,
        json!({
            "error": "service_unavailable",
            "message": "The service is temporarily unavailable. Try again later.",
        })
    );
    // A token of its own: the SDK's retries against the outage (the keyring and the revocation
    // reads) can outlast the stack's 4 s access tokens.
    let bearer = format!("Bearer {}", login_at(stack, &gw, ALICE).await);
    let back = stack
        .call_at(
            &gw.url,
            "GET",
            "/v1/api/me",
            &[("authorization", &bearer)],
            None,
        )
        .await;
    assert_eq!(back.status, 200, "DynamoDB is back: {}", back.body);
}

/// The `/v1` gateway of the stack with the demo app's origin first in `AllowedOrigins`:
/// preflights reach each function without a token and grant the app exactly; API Gateway's own
/// 401 and 403 carry the template's CORS headers for the app; a foreign origin is granted
/// nothing, neither by the functions nor by the gateway responses.
pub async fn cors_under_the_stage_grants_the_app_origin_only(stack: &Stack) {
    // As a browser names it: `localhost`, the first allowed origin.
    let app = &stack.app_url.replacen("127.0.0.1", "localhost", 1);
    let app = app.as_str();
    let cors = |r: &crate::stack::Reply| -> Vec<(String, String)> {
        let mut v: Vec<_> = r
            .headers
            .iter()
            .filter(|(k, _)| k.as_str().starts_with("access-control-") || k.as_str() == "vary")
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        v.sort();
        v
    };
    let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
        let mut v: Vec<_> = p
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        v.sort();
        v
    };
    let base = stack.stage_url.trim_end_matches("/v1");
    for (path, methods, credentials) in [
        ("/v1/auth/refresh", "POST", true),
        ("/v1/auth/password", "POST", true),
        (
            "/v1/api/admin/users/7",
            "GET, POST, PUT, PATCH, DELETE",
            false,
        ),
    ] {
        let headers = [
            ("origin", app),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization, content-type",
            ),
        ];
        let r = stack.call_at(base, "OPTIONS", path, &headers, None).await;
        assert_eq!(r.status, 204, "{path}: {}", r.body);
        let mut want = vec![
            (
                "access-control-allow-headers",
                "authorization, content-type",
            ),
            ("access-control-allow-methods", methods),
            ("access-control-allow-origin", app),
            ("access-control-max-age", "600"),
            ("vary", "Origin"),
        ];
        if credentials {
            want.push(("access-control-allow-credentials", "true"));
        }
        assert_eq!(cors(&r), pairs(&want), "{path}");
        let foreign = [("origin", "http://evil.test"), headers[1]];
        let r = stack.call_at(base, "OPTIONS", path, &foreign, None).await;
        assert_eq!(r.status, 204, "{path}");
        assert_eq!(cors(&r), pairs(&[("vary", "Origin")]), "{path}");
    }
    let gateway_grant = pairs(&[
        ("access-control-allow-credentials", "true"),
        ("access-control-allow-origin", app),
        (
            "access-control-expose-headers",
            "retry-after, www-authenticate",
        ),
        ("vary", "Origin"),
    ]);
    // API Gateway's 401 (no token) and 403 (a token without `admin`), as the app sees them.
    let r = stack
        .call_at(base, "GET", "/v1/api/me", &[("origin", app)], None)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(cors(&r), gateway_grant);
    let login = stack
        .call_at(
            base,
            "POST",
            "/v1/auth/login",
            &[("origin", app)],
            Some(json!({ "username": ALICE.0, "password": ALICE.1 })),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let cookie = login.cookie.clone().expect("refresh cookie");
    let set = login.headers["set-cookie"].to_str().unwrap();
    assert!(set.contains("; Path=/v1/auth;"), "{set}");
    let bearer = format!("Bearer {}", access(&login));
    let r = stack
        .call_at(
            base,
            "DELETE",
            "/v1/api/admin/users/7",
            &[("origin", app), ("authorization", &bearer)],
            None,
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(cors(&r), gateway_grant);
    // A foreign origin: the gateway's answer names the app, never the foreign origin; the
    // function grants nothing and the CSRF check refuses its cookie.
    let r = stack
        .call_at(
            base,
            "GET",
            "/v1/api/me",
            &[("origin", "http://evil.test")],
            None,
        )
        .await;
    assert_eq!(r.headers["access-control-allow-origin"], app);
    let r = stack
        .call_at(
            base,
            "POST",
            "/v1/auth/refresh",
            &[("origin", "http://evil.test"), ("cookie", &cookie)],
            None,
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body["error"], "csrf_rejected");
    assert_eq!(cors(&r), pairs(&[("vary", "Origin")]));
}
