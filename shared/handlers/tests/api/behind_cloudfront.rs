//! Behind CloudFront (`TOKENGATE_ORIGIN_SECRET`): with the origin secret in `X-Origin-Secret`,
//! the per-source controls count the viewer of `CloudFront-Viewer-Address`, so viewers behind
//! one edge server are counted apart; without it (or with a wrong one, or with the setting
//! off) that header is ignored and API Gateway's `sourceIp` counts, as it does for everyone.

use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use tokengate_domain::lockout::Counters;
use tokengate_domain::origin::OriginSecret;
use tokengate_domain::ports::LockoutStore;
use tokengate_domain::{RefreshToken, Username};
use tokengate_handlers::{login, logout, refresh};
use tokengate_testing::memory::MemoryRig;

use crate::refresh::{error_code, LIMIT};

const SECRET: &str = "origin-secret-0123456789abcdef";
/// A CloudFront edge server: API Gateway's `sourceIp` of every request through CloudFront.
const EDGE: &str = "130.176.88.10";

/// A rig whose functions know the origin secret (or not: `None`), with the refresh and logout
/// limit at [`LIMIT`].
async fn rig(secret: Option<&str>) -> MemoryRig {
    let mut rig = MemoryRig::new().await;
    let secret = secret.map(|s| OriginSecret::parse(s).unwrap().expect("a secret"));
    rig.login.config.origin_secret = secret.clone();
    rig.refresh.config.origin_secret = secret.clone();
    rig.refresh.config.refresh_ip_limit = LIMIT;
    rig.logout.config.origin_secret = secret;
    rig.logout.config.refresh_ip_limit = LIMIT;
    rig
}

/// The sample event `text` from `source_ip`, with `headers` added.
fn from(text: &str, source_ip: &str, headers: Value) -> Request {
    let mut ev: Value = serde_json::from_str(text).expect("the sample event is JSON");
    ev["requestContext"]["identity"]["sourceIp"] = source_ip.into();
    for (name, value) in headers.as_object().expect("headers") {
        ev["headers"][name] = value.clone();
        ev["multiValueHeaders"][name] = json!([value]);
    }
    lambda_http::request::from_str(&ev.to_string()).expect("lambda_http request")
}

/// The headers of the i-th attempt.
type Headers = fn(usize) -> Value;

/// What CloudFront adds to a request from `viewer` (`address:port`).
fn through_cloudfront(viewer: &str) -> Value {
    json!({ "X-Origin-Secret": SECRET, "CloudFront-Viewer-Address": viewer })
}

/// A login of alice with `password` from `source_ip` with `headers`.
async fn login_with(rig: &MemoryRig, password: &str, source_ip: &str, headers: Value) -> u16 {
    let body = json!({ "username": "alice", "password": password }).to_string();
    let mut ev: Value = serde_json::from_str(event!("login.json")).unwrap();
    ev["body"] = body.into();
    let req = from(&ev.to_string(), source_ip, headers);
    let resp: Response<Body> = login::handle(&rig.login, req).await.unwrap();
    resp.status().as_u16()
}

/// Five wrong passwords (the default threshold) with these headers each; the sixth attempt,
/// even with the right password, is refused (423) for that source.
async fn lock_out(rig: &MemoryRig, source_ip: &str, headers: impl Fn(usize) -> Value) {
    for i in 0..5 {
        let status = login_with(rig, "not the password", source_ip, headers(i)).await;
        assert_eq!(status, 401, "wrong password {i}");
    }
}

async fn source_failures(rig: &MemoryRig, network: &str) -> u32 {
    let counters = Counters {
        username: Username::parse("alice").unwrap(),
        network: network.to_owned(),
    };
    rig.store
        .lock_states(&counters)
        .await
        .unwrap()
        .source
        .failures
}

#[tokio::test]
async fn behind_cloudfront_with_the_origin_secret_the_lockout_counts_each_viewer_apart() {
    let rig = rig(Some(SECRET)).await;

    lock_out(&rig, EDGE, |_| through_cloudfront("198.51.100.7:40001")).await;

    let attacker = through_cloudfront("198.51.100.7:40002");
    assert_eq!(
        login_with(&rig, MemoryRig::PASSWORD, EDGE, attacker).await,
        423
    );
    let owner = through_cloudfront("203.0.113.9:51000");
    assert_eq!(
        login_with(&rig, MemoryRig::PASSWORD, EDGE, owner).await,
        200,
        "another viewer behind the same edge is not locked"
    );
    assert_eq!(source_failures(&rig, "198.51.100.7").await, 5);
    assert_eq!(
        source_failures(&rig, EDGE).await,
        0,
        "the edge counts nothing"
    );
}

#[tokio::test]
async fn behind_cloudfront_ipv6_viewers_count_per_slash_64() {
    let rig = rig(Some(SECRET)).await;

    lock_out(&rig, EDGE, |i| {
        through_cloudfront(&format!("2001:db8:1:2::{i}:4431{i}"))
    })
    .await;

    let same_64 = through_cloudfront("2001:db8:1:2:ffff:ffff:ffff:ffff:443");
    assert_eq!(
        login_with(&rig, MemoryRig::PASSWORD, EDGE, same_64).await,
        423
    );
    let next_64 = through_cloudfront("2001:db8:1:3::1:443");
    assert_eq!(
        login_with(&rig, MemoryRig::PASSWORD, EDGE, next_64).await,
        200
    );
    assert_eq!(source_failures(&rig, "2001:db8:1:2::/64").await, 5);
}

#[tokio::test]
async fn a_forged_viewer_address_without_the_origin_secret_is_ignored() {
    // Sent to the execute-api URL past CloudFront: no secret, a wrong one, the secret and a
    // guess (as an HTTP API joins a repeated header), each with a new viewer address each time.
    let forged: [(&str, Headers); 3] = [
        (
            "no secret",
            |i| json!({ "CloudFront-Viewer-Address": format!("198.51.100.{i}:443") }),
        ),
        ("wrong secret", |i| {
            json!({
                "X-Origin-Secret": "origin-secret-0123456789abcdeF",
                "CloudFront-Viewer-Address": format!("198.51.100.{i}:443"),
            })
        }),
        ("secret and a guess", |i| {
            json!({
                "X-Origin-Secret": format!("{SECRET},origin-secret-guess-0123456789"),
                "CloudFront-Viewer-Address": format!("198.51.100.{i}:443"),
            })
        }),
    ];
    for (case, headers) in forged {
        let rig = rig(Some(SECRET)).await;

        lock_out(&rig, EDGE, headers).await;

        let next = headers(99);
        assert_eq!(
            login_with(&rig, MemoryRig::PASSWORD, EDGE, next).await,
            423,
            "{case}: every attempt counted on sourceIp"
        );
        assert_eq!(source_failures(&rig, EDGE).await, 5, "{case}");
        assert_eq!(source_failures(&rig, "198.51.100.0").await, 0, "{case}");
    }
}

#[tokio::test]
async fn without_an_origin_secret_configured_cloudfront_headers_are_ignored() {
    let rig = rig(None).await;

    lock_out(&rig, EDGE, |i| {
        through_cloudfront(&format!("198.51.100.{i}:443"))
    })
    .await;

    let next = through_cloudfront("203.0.113.9:443");
    assert_eq!(login_with(&rig, MemoryRig::PASSWORD, EDGE, next).await, 423);
    assert_eq!(source_failures(&rig, EDGE).await, 5);
}

#[tokio::test]
async fn a_malformed_viewer_address_with_the_secret_counts_on_source_ip() {
    let rig = rig(Some(SECRET)).await;
    let malformed = [
        json!({ "X-Origin-Secret": SECRET, "CloudFront-Viewer-Address": "[2001:db8::1]:443" }),
        json!({ "X-Origin-Secret": SECRET, "CloudFront-Viewer-Address": "198.51.100.7" }),
        json!({ "X-Origin-Secret": SECRET }),
        json!({ "X-Origin-Secret": SECRET, "CloudFront-Viewer-Address": "198.51.100.7:99999" }),
        json!({
            "X-Origin-Secret": SECRET,
            "CloudFront-Viewer-Address": "198.51.100.7:443,203.0.113.9:443",
        }),
    ];

    lock_out(&rig, EDGE, |i| malformed[i].clone()).await;

    assert_eq!(source_failures(&rig, EDGE).await, 5);
    let good = through_cloudfront("198.51.100.7:443");
    assert_eq!(login_with(&rig, MemoryRig::PASSWORD, EDGE, good).await, 200);
}

#[tokio::test]
async fn behind_cloudfront_two_viewers_behind_one_edge_have_separate_refresh_limits() {
    let rig = rig(Some(SECRET)).await;
    let refresh_from = |viewer: &str| {
        let made_up = RefreshToken::generate().expose();
        let text = event!("refresh-body.json").replace("REFRESH_TOKEN", &made_up);
        from(&text, EDGE, through_cloudfront(viewer))
    };
    for i in 0..LIMIT {
        let resp = refresh::handle(&rig.refresh, refresh_from(&format!("198.51.100.7:{i}")));
        let resp = resp.await.unwrap();
        assert_eq!(error_code(&resp), "invalid_refresh_token");
    }

    let over = refresh::handle(&rig.refresh, refresh_from("198.51.100.7:999"));
    let other = refresh::handle(&rig.refresh, refresh_from("203.0.113.9:999"));

    let (over, other) = (over.await.unwrap(), other.await.unwrap());
    assert_eq!(
        (over.status().as_u16(), error_code(&over)),
        (429, "rate_limited".to_owned())
    );
    assert_eq!(
        (other.status().as_u16(), error_code(&other)),
        (401, "invalid_refresh_token".to_owned()),
        "the other viewer behind the same edge is not limited"
    );
}

#[tokio::test]
async fn behind_cloudfront_two_viewers_behind_one_edge_have_separate_logout_limits() {
    let rig = rig(Some(SECRET)).await;
    let allowed = rig.logout.config.allowed_origins.clone();
    let logout_from = |viewer: &str| {
        let made_up = RefreshToken::generate().expose();
        let text = event!("logout.json")
            .replace("ACCESS_TOKEN", "")
            .replace("REFRESH_TOKEN", &made_up);
        from(&text, EDGE, through_cloudfront(viewer))
    };
    for i in 0..LIMIT {
        let req = logout_from(&format!("2001:db8:7:7::{i}:443"));
        let resp = logout::handle(&rig.logout, &allowed, req).await.unwrap();
        assert_eq!(resp.status(), 204);
    }

    let same_64 = logout_from("2001:db8:7:7:abcd::9:443");
    let over = logout::handle(&rig.logout, &allowed, same_64)
        .await
        .unwrap();
    let other = logout_from("2001:db8:7:8::1:443");
    let other = logout::handle(&rig.logout, &allowed, other).await.unwrap();

    assert_eq!(
        (over.status().as_u16(), error_code(&over)),
        (429, "rate_limited".to_owned())
    );
    assert_eq!(
        other.status(),
        204,
        "another /64 behind the same edge is not limited"
    );
}
