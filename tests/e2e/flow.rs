//! The seed flow of the README, as a client drives it, and what operators see of it.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::stack::{access, Stack, ACCESS_TTL, ADMIN, ALICE, GRACE};

/// login → `/api/me` 200 → expiry → 401 → refresh with the cookie → 200 → logout → 401 (within
/// the revocation bound) and refresh refused.
pub async fn the_whole_flow_over_http(stack: &Stack) {
    let origin = stack.url.clone();

    // login → /api/me 200
    let login = stack.login(ALICE).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let cookie = login.cookie.clone().expect("refresh cookie");
    assert!(cookie.starts_with("__Secure-refresh_token="));
    let me = stack.me(&access(&login)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["roles"], json!([]));

    // wait for expiry → 401
    tokio::time::sleep(Duration::from_secs(ACCESS_TTL + 2)).await;
    assert_eq!(stack.me(&access(&login)).await.status, 401);

    // refresh with the cookie → retry 200
    let refreshed = stack.refresh(&cookie, &origin).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let cookie2 = refreshed.cookie.clone().expect("rotated cookie");
    assert_ne!(cookie2, cookie);
    assert_eq!(stack.me(&access(&refreshed)).await.status, 200);

    // logout → 401 and refresh refused
    let bearer = format!("Bearer {}", access(&refreshed));
    let logout = stack
        .call(
            "POST",
            "/auth/logout",
            &[
                ("cookie", &cookie2),
                ("origin", &origin),
                ("authorization", &bearer),
            ],
            None,
        )
        .await;
    assert_eq!(logout.status, 204);
    let logged_out = Instant::now();
    assert!(logout.cookie.as_deref() == Some("__Secure-refresh_token="));
    // Denylisted: refused by every authorizer instance within the revocation bound.
    stack
        .refused_after_revocation(&access(&refreshed), logged_out)
        .await;
    let dead = stack.refresh(&cookie2, &origin).await;
    assert_eq!(dead.status, 401);
    assert_eq!(dead.body["error"], "invalid_refresh_token");

    // the gateway answers like API Gateway for what it does not route
    assert_eq!(stack.call("GET", "/nope", &[], None).await.status, 403);
    assert_eq!(stack.call("GET", "/api/me", &[], None).await.status, 401);
}

/// Replaying a rotated refresh token after the grace window ends the whole family, and the
/// session's access tokens with it (RFC 7009 §2.1: revoking a refresh token should also
/// invalidate the access tokens of the same grant; here it stops the thief's access token too).
pub async fn refresh_token_reuse_revokes_the_family(stack: &Stack) {
    let origin = &stack.url;
    let login = stack.login(ALICE).await;
    let c0 = login.cookie.clone().unwrap();
    let r1 = stack.refresh(&c0, origin).await;
    assert_eq!(r1.status, 200);
    // Past the grace window: the window is whole seconds since the rotation, so GRACE + 1
    // seconds later the replay is reuse.
    tokio::time::sleep(Duration::from_secs(GRACE + 1)).await;
    // The session's newest token, whose access token (ACCESS_TTL seconds, from a whole-second
    // `iat`) outlives the revocation bound after the replay.
    let r2 = stack.refresh(&r1.cookie.clone().unwrap(), origin).await;
    assert_eq!(r2.status, 200, "{}", r2.body);
    assert_eq!(stack.me(&access(&r2)).await.status, 200);
    let replay = stack.refresh(&c0, origin).await;
    let replayed = Instant::now();
    assert_eq!(replay.status, 401);
    assert_eq!(replay.body["error"], "refresh_token_reused");
    stack.refused_after_revocation(&access(&r2), replayed).await;
    let newest = stack.refresh(&r2.cookie.clone().unwrap(), origin).await;
    assert_eq!(newest.status, 401);
    assert_eq!(newest.body["error"], "invalid_refresh_token");
}

/// `{"scope":"global"}` ends every session of the user, and their access tokens.
pub async fn global_logout_ends_every_session(stack: &Stack) {
    let origin = &stack.url;
    let a = stack.login(ADMIN).await;
    let b = stack.login(ADMIN).await;
    assert_eq!(stack.me(&access(&b)).await.body["roles"], json!(["admin"]));
    let global = stack
        .call(
            "POST",
            "/auth/logout",
            &[("cookie", a.cookie.as_deref().unwrap()), ("origin", origin)],
            Some(json!({ "scope": "global" })),
        )
        .await;
    assert_eq!(global.status, 204);
    let signed_out = Instant::now();
    stack
        .refused_after_revocation(&access(&b), signed_out)
        .await;
    let b_refresh = stack.refresh(b.cookie.as_deref().unwrap(), origin).await;
    assert_eq!(b_refresh.status, 401);
    assert_eq!(b_refresh.body["error"], "session_expired");
}

/// Every function logged JSON lines naming its request and outcome, and one metrics record
/// per invocation; security events appear by name.
pub async fn logs_and_metrics_describe_every_request(stack: &Stack) {
    let logs = stack.logs();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| l.find('{').map(|i| &l[i..]))
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let finished = |function: &str, outcome: &str| {
        lines.iter().any(|l| {
            l["fields"]["event"] == "request_finished"
                && l["span"]["function"] == function
                && l["fields"]["outcome"] == outcome
                && l["span"]["request_id"]
                    .as_str()
                    .is_some_and(|id| !id.is_empty())
                && l["fields"]["latency_ms"].is_number()
        })
    };
    for (function, outcome) in [
        ("login", "ok"),
        ("refresh", "ok"),
        ("refresh", "refresh_token_reused"),
        ("logout", "ok"),
        ("me", "ok"),
        ("jwks", "ok"),
        ("authorizer", "allow"),
        ("authorizer", "revoked"),
        ("authorizer", "unauthorized"),
    ] {
        assert!(
            finished(function, outcome),
            "no request_finished {function}/{outcome}"
        );
    }
    let metric = |function: &str, outcome: &str| {
        lines.iter().any(|l| {
            l["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "tokengate"
                && l["Function"] == function
                && l["Outcome"] == outcome
                && l["Requests"] == 1
        })
    };
    assert!(
        metric("refresh", "refresh_token_reused"),
        "the reuse alarm's metric"
    );
    assert!(metric("authorizer", "allow"));
    assert!(metric("login", "ok"));
    for event in [
        "login_succeeded",
        "refresh_token_reused",
        "csrf_refused",
        "authorizer_denied_revoked",
    ] {
        assert!(
            logs.contains(event),
            "security event {event} is logged by name"
        );
    }
}

/// No secret reached a log line: not a token, refresh token, cookie or password seen in this
/// run, nor anything shaped like a JWT. Runs last, over the logs of the whole run.
pub async fn no_secret_reaches_the_logs(stack: &Stack) {
    let logs = stack.logs();
    assert!(
        logs.contains("login_succeeded"),
        "the functions' logs were captured"
    );
    let secrets = stack.secrets();
    assert!(secrets.len() > 20, "the run handed out tokens");
    for secret in &secrets {
        // A refresh token is `<sid>.<secret>`: the session id alone is not secret.
        let needle = secret.rsplit('.').next().unwrap();
        assert!(needle.len() >= 16, "too short to search for");
        assert!(!logs.contains(needle), "a secret reached the logs");
    }
    // A JWT header or claims set starts `{"`, which base64url-encodes to `eyJ`.
    assert!(
        !logs.contains("eyJ"),
        "something JWT-shaped reached the logs"
    );
    assert!(
        !logs.contains("refresh_token="),
        "a cookie reached the logs"
    );
}
