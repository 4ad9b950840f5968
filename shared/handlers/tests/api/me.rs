//! `GET /api/me` (`events/me.json`), the demo route behind the authorizer.

use tokengate_handlers::me;

use crate::support::*;

#[tokio::test]
async fn me_event() {
    // Act
    let resp = me::handle(request(event!("me.json"))).await.unwrap();

    // Assert
    assert_eq!(resp.status(), 200);
    assert_eq!(body_json(&resp)["sub"], "u-alice");
    assert_eq!(body_json(&resp)["roles"], serde_json::json!(["reader"]));
}
