//! The authorizer over real event shapes (REST TOKEN, REST REQUEST, HTTP API 2.0) on the
//! in-memory twins: allow with context, the 401 path, the 403 path, fail closed (the revocation
//! feed's reader: `revocation_feed.rs`).

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayV2CustomAuthorizerV2Request,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::{json, Value};
use tokengate_domain::ports::Denylist;
use tokengate_domain::revocation_feed::CATCH_UP_INTERVAL_MS;
use tokengate_handlers::authorizer::AuthorizerError;
use tokengate_testing::keys::ecdsa_twin;
use tokengate_testing::memory::MemoryRig;

use crate::support::{
    fill, gateway_allows, login_tokens, refusal, setup, token_event, v2_event, ARN,
};

/// The REST policy refuses every admin route of this API, bare prefix included, and allows
/// the others: whichever route API Gateway serves it for from its cache.
fn denies_the_admin_routes(resp: &Value) -> bool {
    let admin = [
        ("GET", "/api/admin"),
        ("POST", "/api/admin/users"),
        ("DELETE", "/api/admin/x:a/b/c"),
    ];
    admin.iter().all(|(m, p)| !gateway_allows(resp, m, p))
        && gateway_allows(resp, "GET", "/api/me")
        && gateway_allows(resp, "GET", "/api/items/7")
}

#[tokio::test]
async fn rest_token_allow_passes_the_context_and_a_cache_safe_policy() {
    let (_rig, auth, token) = setup().await;
    let resp = auth
        .handle(token_event(&token, "GET", "/api/me"))
        .await
        .unwrap();
    assert_eq!(resp["principalId"], "u-alice");
    assert_eq!(resp["context"]["sub"], "u-alice");
    assert_eq!(resp["context"]["roles"], "reader");
    assert!(resp["context"]["sid"].as_str().unwrap().len() >= 22);
    assert!(resp["context"]["jti"].as_str().unwrap().len() >= 22);
    let statements = resp["policyDocument"]["Statement"].as_array().unwrap();
    assert_eq!(statements[0]["Effect"], "Allow");
    assert_eq!(statements[0]["Resource"], json!([format!("{ARN}/*")]));
    // The admin routes are denied explicitly, so a cached policy cannot leak them.
    assert_eq!(statements[1]["Effect"], "Deny");
    assert!(denies_the_admin_routes(&resp), "{resp}");
}

#[tokio::test]
async fn an_exception_before_a_wider_rule_is_answered_for_the_route_alone() {
    // `GET /api/admin/health` needs no role although `/api/admin/*` does: no set of IAM
    // patterns says that, so the answer covers the one route asked about.
    let rig = MemoryRig::new().await;
    let token = rig.login_alice().await.access.token;
    let auth = rig.authorizer("GET /api/admin/health=; * /api/admin/*=admin");
    let health = auth
        .handle(token_event(&token, "GET", "/api/admin/health"))
        .await
        .unwrap();
    assert!(gateway_allows(&health, "GET", "/api/admin/health"));
    // Served from the cache for another route, it refuses rather than guesses.
    assert!(!gateway_allows(&health, "GET", "/api/admin/users"));
    assert!(!gateway_allows(&health, "GET", "/api/me"));
    let users = auth
        .handle(token_event(&token, "GET", "/api/admin/users"))
        .await
        .unwrap();
    assert!(!gateway_allows(&users, "GET", "/api/admin/users"));
}

#[tokio::test]
async fn rest_token_without_the_route_role_is_denied_403() {
    let (_rig, auth, token) = setup().await;
    let resp = auth
        .handle(token_event(&token, "POST", "/api/admin/users"))
        .await
        .unwrap();
    assert!(denies_the_admin_routes(&resp), "{resp}");
}

#[tokio::test]
async fn a_colon_in_the_path_cannot_move_the_deny_off_the_route() {
    // API Gateway puts the raw path into methodArn. The Deny must still be built on the
    // API's own ARN, so it matches this request (and every admin route) for a token without
    // the role.
    let (_rig, auth, token) = setup().await;
    let resp = auth
        .handle(token_event(&token, "GET", "/api/admin/x:a/b/c"))
        .await
        .unwrap();
    assert!(!gateway_allows(&resp, "GET", "/api/admin/x:a/b/c"));
    assert!(denies_the_admin_routes(&resp), "{resp}");
}

#[tokio::test]
async fn missing_garbage_expired_and_revoked_tokens_take_the_401_path() {
    let (rig, auth, token) = setup().await;
    for bad in ["", "garbage", "a.b.c", &token[..token.len() - 2]] {
        let err = refusal(&auth, bad).await;
        assert!(matches!(err, AuthorizerError::Unauthorized), "{bad:?}");
        assert_eq!(err.to_string(), "Unauthorized");
    }
    let no_header = json!({ "type": "TOKEN", "methodArn": format!("{ARN}/GET/api/me") });
    assert!(matches!(
        auth.handle(no_header).await,
        Err(AuthorizerError::Unauthorized)
    ));

    let claims = rig.verifier.verify(&token, rig.clock_now()).unwrap();
    rig.store.deny(&claims.jti, claims.exp).await.unwrap();
    let err = refusal(&auth, &token).await;
    assert!(matches!(err, AuthorizerError::Unauthorized));
}

/// The denylist keys on `jti`, never on token bytes: the (r, n−s) twin of a revoked token is as
/// revoked as the token itself.
#[tokio::test]
async fn the_reencoded_signature_of_a_revoked_token_is_refused() {
    // Arrange: the twin verifies as long as the token does.
    let (rig, auth, token) = setup().await;
    let (head, sig) = token.rsplit_once('.').unwrap();
    let twin = format!(
        "{head}.{}",
        B64.encode(ecdsa_twin(&B64.decode(sig).unwrap()))
    );
    assert_ne!(twin, token);
    let allowed = auth.handle(token_event(&twin, "GET", "/api/me")).await;
    assert!(allowed.is_ok(), "the twin of a live token passes");
    let claims = rig.verifier.verify(&token, rig.clock_now()).unwrap();

    // Act: logout's denylisting, seen at the authorizer's next catch-up.
    rig.store.deny(&claims.jti, claims.exp).await.unwrap();
    rig.clock.advance_ms(CATCH_UP_INTERVAL_MS);

    // Assert
    for t in [&token, &twin] {
        let err = refusal(&auth, t).await;
        assert!(matches!(err, AuthorizerError::Unauthorized));
    }
}

/// Only `Bearer <one token>` is a credential: a second token after it, or a token without the
/// scheme, takes the 401 path.
#[tokio::test]
async fn two_tokens_or_no_bearer_scheme_take_the_401_path() {
    let (_rig, auth, token) = setup().await;
    for header in [
        format!("Bearer {token} {token}"),
        format!("{token} {token}"),
        token.clone(),
    ] {
        let event = json!({
            "type": "TOKEN",
            "authorizationToken": header,
            "methodArn": format!("{ARN}/GET/api/me"),
        });
        let err = auth.handle(event).await.unwrap_err();
        assert!(matches!(err, AuthorizerError::Unauthorized), "{header}");
    }
}

#[tokio::test]
async fn tokens_of_an_older_token_version_are_refused() {
    let (rig, auth, token) = setup().await;
    use tokengate_domain::ports::UserStore;
    rig.store.sign_out_everywhere("u-alice").await.unwrap();
    let err = refusal(&auth, &token).await;
    assert!(matches!(err, AuthorizerError::Unauthorized));
}

#[tokio::test]
async fn expired_token_takes_the_401_path() {
    let (rig, auth, token) = setup().await;
    rig.clock.advance(900 + 61);
    let err = refusal(&auth, &token).await;
    assert!(matches!(err, AuthorizerError::Unauthorized));
}

#[tokio::test]
async fn store_outage_fails_closed() {
    let (rig, auth, token) = setup().await;
    rig.store.set_unavailable(true);
    let err = refusal(&auth, &token).await;
    assert!(matches!(err, AuthorizerError::Unavailable));
    // HTTP API answers an authorizer error with 500, never the 403 of a refusal.
    let bearer = format!("Bearer {token}");
    let v2 = auth
        .handle(v2_event(
            &token,
            "GET",
            "/api/me",
            &[&bearer, "GET", "/api/me"],
        ))
        .await;
    assert!(matches!(v2, Err(AuthorizerError::Unavailable)), "{v2:?}");
}

#[tokio::test]
async fn rest_request_event_is_supported() {
    let (_rig, auth, token) = setup().await;
    let ev = json!({
        "type": "REQUEST",
        "methodArn": format!("{ARN}/GET/api/me"),
        "resource": "/api/me", "path": "/api/me", "httpMethod": "GET",
        "headers": { "authorization": format!("Bearer {token}") },
        "queryStringParameters": {}, "pathParameters": {}, "stageVariables": {},
        "requestContext": { "accountId": "123456789012", "apiId": "api123", "httpMethod": "GET",
            "path": "/v1/api/me", "stage": "v1", "requestId": "r", "resourceId": "x", "resourcePath": "/api/me",
            "identity": { "sourceIp": "192.0.2.1" } }
    });
    let resp = auth.handle(ev).await.unwrap();
    assert_eq!(resp["context"]["sub"], "u-alice");
}

#[tokio::test]
async fn http_api_v2_simple_responses() {
    let (_rig, auth, token) = setup().await;
    let bearer = format!("Bearer {token}");
    let ok = auth
        .handle(v2_event(
            &token,
            "GET",
            "/api/me",
            &[&bearer, "GET", "/api/me"],
        ))
        .await
        .unwrap();
    assert_eq!(ok["isAuthorized"], true);
    assert_eq!(ok["context"]["sub"], "u-alice");
    // Judged on the request, not on the greedy route `ANY /{proxy+}` that matched it.
    let forbidden = auth
        .handle(v2_event(
            &token,
            "DELETE",
            "/api/admin/users",
            &[&bearer, "DELETE", "/api/admin/users"],
        ))
        .await
        .unwrap();
    assert_eq!(forbidden["isAuthorized"], false);
    let bad = auth
        .handle(v2_event(
            "nope",
            "GET",
            "/api/me",
            &["Bearer nope", "GET", "/api/me"],
        ))
        .await
        .unwrap();
    assert_eq!(bad["isAuthorized"], false);
}

#[tokio::test]
async fn unknown_event_shapes_are_refused_not_panicked_on() {
    let (_rig, auth, _) = setup().await;
    for ev in [
        json!(null),
        json!({}),
        json!({"type": "TOKEN"}),
        json!({"type": 7}),
        json!([1, 2]),
    ] {
        assert!(auth.handle(ev).await.is_err());
    }
}

#[tokio::test]
async fn authorizer_sample_events() {
    let rig = MemoryRig::new().await;
    let (access, refresh_token) = login_tokens(&rig).await;
    let auth = rig.authorizer("GET /api/me=");
    let token = fill(event!("authorizer-token.json"), &access, &refresh_token);
    serde_json::from_str::<ApiGatewayCustomAuthorizerRequest>(&token).unwrap();
    let request_ev = fill(event!("authorizer-request.json"), &access, &refresh_token);
    serde_json::from_str::<ApiGatewayCustomAuthorizerRequestTypeRequest>(&request_ev).unwrap();
    let v2 = fill(event!("authorizer-http-v2.json"), &access, &refresh_token);
    serde_json::from_str::<ApiGatewayV2CustomAuthorizerV2Request>(&v2).unwrap();

    for text in [token, request_ev] {
        let resp = auth
            .handle(serde_json::from_str(&text).unwrap())
            .await
            .unwrap();
        assert_eq!(resp["context"]["sub"], "u-alice");
        assert_eq!(resp["policyDocument"]["Statement"][0]["Effect"], "Allow");
    }
    let resp = auth
        .handle(serde_json::from_str(&v2).unwrap())
        .await
        .unwrap();
    assert_eq!(resp["isAuthorized"], true);
}
