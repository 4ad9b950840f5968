//! Paths as backends read them, and answers safe to cache: every spelling a backend behind
//! `{proxy+}` could read as a refused route is refused — on a REST API by the policy for that
//! request and by a policy cached for another route (both evaluated as API Gateway does,
//! `iam::evaluate`), and on an HTTP API — and an HTTP API answer cached without the route in
//! its key allows only a token that no rule refuses.

use serde_json::Value;
use tokengate_handlers::authorizer::{Authorizer, CacheKind};
use tokengate_testing::memory::MemoryRig;

use crate::support::{gateway_allows, token_event, v2_event};

const RULES: &str =
    "GET /api/me=; * /api/admin/*=admin; DELETE /api/items=admin; GET /api/report=admin";

/// Each normalisation a backend may apply, as a refused request spelled that way (alice has
/// the role `reader` only, so every plain spelling here is refused to her).
const SPELLINGS: [(&str, &str, &str); 12] = [
    ("trailing slash", "DELETE", "/api/items/"),
    ("empty segment", "GET", "/api//admin/users"),
    ("dot segment", "GET", "/api/./admin/users"),
    ("dot-dot segment", "GET", "/api/me/../admin/users"),
    ("escaped dot-dot", "GET", "/api/me/%2e%2E/admin/users"),
    ("path parameter", "GET", "/api/admin;x/users"),
    ("escaped letter", "GET", "/api/%61dmin/users"),
    ("escaped letter, lower hex", "GET", "/api/adm%69n"),
    ("mixed case", "GET", "/API/Admin/users"),
    ("mixed case, literal rule", "DELETE", "/api/Items"),
    ("HEAD as GET", "HEAD", "/api/report"),
    ("HEAD as GET, mixed case", "HEAD", "/Api/REPORT"),
];

async fn http_api(auth: &Authorizer, token: &str, method: &str, path: &str) -> Value {
    let bearer = format!("Bearer {token}");
    let keyed = v2_event(token, method, path, &[&bearer, method, path]);
    auth.handle(keyed).await.unwrap()["isAuthorized"].clone()
}

#[tokio::test]
async fn non_canonical_spellings_of_a_refused_route_are_refused_on_rest_fresh_and_cached_and_on_http_api(
) {
    let rig = MemoryRig::new().await;
    let token = rig.login_alice().await.access.token;
    let auth = rig.authorizer(RULES);
    // The policy API Gateway caches for alice's token after `GET /api/me`.
    let cached = auth
        .handle(token_event(&token, "GET", "/api/me"))
        .await
        .unwrap();
    for (what, method, path) in SPELLINGS {
        let fresh = auth
            .handle(token_event(&token, method, path))
            .await
            .unwrap();
        assert!(!gateway_allows(&fresh, method, path), "{what}: REST");
        assert!(!gateway_allows(&cached, method, path), "{what}: REST cache");
        assert_eq!(
            http_api(&auth, &token, method, path).await,
            false,
            "{what}: HTTP API"
        );
    }
    // No over-deny of the canonical routes another rule allows, fresh or cached.
    for (method, path) in [
        ("GET", "/api/me"),
        ("GET", "/api/items/7"),
        ("DELETE", "/api/items/7"),
        ("HEAD", "/api/me"),
        ("GET", "/"),
    ] {
        let fresh = auth
            .handle(token_event(&token, method, path))
            .await
            .unwrap();
        assert!(gateway_allows(&fresh, method, path), "REST {method} {path}");
        assert!(
            gateway_allows(&cached, method, path),
            "cache {method} {path}"
        );
        assert_eq!(http_api(&auth, &token, method, path).await, true);
    }
}

#[tokio::test]
async fn a_token_no_rule_refuses_may_call_any_spelling() {
    // Every reading is allowed to such a token, so refusing a spelling would protect nothing;
    // it also keeps its answer the same for every route (cacheable by token alone).
    let rig = MemoryRig::new().await;
    let token = rig.login_alice().await.access.token;
    let auth = rig.authorizer("* /api/admin/*=reader");
    let policy = auth
        .handle(token_event(&token, "GET", "/api/admin/"))
        .await
        .unwrap();
    let statements = policy["policyDocument"]["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "an Allow of the stage, nothing denied");
    assert!(gateway_allows(&policy, "GET", "/API/Admin//x;y"));
}

/// The acceptance case: with the token alone as identity source, the HTTP API would serve a
/// `true` for `GET /api/me` to the same token's `DELETE /api/admin/users`.
#[tokio::test]
async fn http_api_answer_cached_by_token_alone_allows_only_a_token_no_rule_refuses() {
    let rig = MemoryRig::new().await;
    let token = rig.login_alice().await.access.token;
    let bearer = format!("Bearer {token}");
    let auth = rig.authorizer(RULES);
    let by_token = v2_event(&token, "GET", "/api/me", &[&bearer]);
    let answer = auth.handle(by_token.clone()).await.unwrap();
    assert_eq!(answer["isAuthorized"], false, "{answer}");
    let by_route = v2_event(&token, "GET", "/api/me", &[&bearer, "GET", "/api/me"]);
    let answer = auth.handle(by_route).await.unwrap();
    assert_eq!(answer["isAuthorized"], true, "{answer}");
    assert_eq!(answer["context"]["sub"], "u-alice");
    // A method and path of another request in the key do not count.
    let other = v2_event(&token, "GET", "/api/me", &[&bearer, "GET", "/api/other"]);
    assert_eq!(auth.handle(other).await.unwrap()["isAuthorized"], false);

    // A token no rule refuses gets `true` whatever the key: it fits every route.
    let everything = rig.authorizer("GET /api/me=; * /api/admin/*=reader");
    let answer = everything.handle(by_token).await.unwrap();
    assert_eq!(answer["isAuthorized"], true, "{answer}");
}

#[tokio::test]
async fn the_cache_advice_is_given_once_per_instance() {
    let rig = MemoryRig::new().await;
    let token = rig.login_alice().await.access.token;
    let bearer = format!("Bearer {token}");
    let auth = rig.authorizer(RULES);
    for _ in 0..3 {
        let ev = v2_event(&token, "GET", "/api/me", &[&bearer]);
        auth.handle(ev).await.unwrap();
    }
    // The three events above used the advice up: a fourth request would log nothing.
    assert_eq!(auth.advice.note(CacheKind::HttpApi), None);
    let fresh = rig.authorizer(RULES);
    let advice = fresh.advice.note(CacheKind::HttpApi).unwrap();
    assert!(advice.contains("$context.httpMethod and $context.path"));
    // A REST answer scoped to one route names the template's switch.
    let scoped = rig.authorizer("DELETE /api/items/{id}=admin");
    scoped
        .handle(token_event(&token, "GET", "/api/items/7"))
        .await
        .unwrap();
    assert_eq!(scoped.advice.note(CacheKind::RestRouteScoped), None);
    let advice = rig
        .authorizer("DELETE /api/items/{id}=admin")
        .advice
        .note(CacheKind::RestRouteScoped)
        .unwrap();
    assert!(advice.contains("AuthorizerCache=route"), "{advice}");
}
