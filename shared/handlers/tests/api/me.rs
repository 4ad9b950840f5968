//! `GET /api/me` (`events/me.json`), the demo route behind the authorizer.

use tokengate_handlers::me;

use crate::support::*;

#[tokio::test]
async fn me_event() {
    // Act
    let resp = me::handle(&[], request(event!("me.json"))).await.unwrap();

    // Assert
    assert_eq!(resp.status(), 200);
    assert_eq!(body_json(&resp)["sub"], "u-alice");
    assert_eq!(body_json(&resp)["roles"], serde_json::json!(["reader"]));
}

#[tokio::test]
async fn preflight_events() {
    let rig = tokengate_testing::memory::MemoryRig::new().await;
    let allowed = rig.refresh.config.allowed_origins.clone();
    let refresh_preflight = tokengate_handlers::refresh::handle(
        &rig.refresh,
        request(event!("preflight-refresh.json")),
    )
    .await
    .unwrap();
    let me_preflight = me::handle(&allowed, request(event!("preflight-me.json")))
        .await
        .unwrap();
    for (resp, credentials) in [(refresh_preflight, Some("true")), (me_preflight, None)] {
        assert_eq!(resp.status(), 204);
        let h = resp.headers();
        assert_eq!(h["access-control-allow-origin"], "https://app.example.com");
        assert_eq!(
            h.get("access-control-allow-credentials")
                .map(|v| v.to_str().unwrap()),
            credentials
        );
    }
}
