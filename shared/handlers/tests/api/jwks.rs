//! `GET /.well-known/jwks.json` (`events/jwks.json`).

use tokengate_handlers::jwks;
use tokengate_testing::memory::MemoryRig;

use crate::support::*;

#[tokio::test]
async fn jwks_event() {
    // Arrange
    let rig = MemoryRig::new().await;
    request(event!("jwks.json"));

    // Act
    let resp = jwks::response(&rig.keyring).await;

    // Assert
    assert_eq!(resp.status(), 200);
    assert_eq!(body_json(&resp)["keys"][0]["kid"], "test-key");
}
