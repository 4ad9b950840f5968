//! Third-party clients against the running stack: `tests/interop/interop.test.mjs` runs
//! `oauth4webapi` (discovery and its validation, the refresh_token grant and revocation at the
//! advertised endpoints) and `aws-jwt-verify` (issuer, audience, scope, JWKS) against the root gateway,
//! whose URL is the functions' `TOKENGATE_ISSUER`. `tests/interop/setup.sh` installs the pinned
//! packages first. PyJWT's check is the deploy check's (`deploy_check.rs`).

use crate::stack::{Stack, ALICE};

pub async fn oauth_clients_discover_refresh_verify_and_revoke(stack: &Stack) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let setup = tokio::process::Command::new("tests/interop/setup.sh")
        .current_dir(root)
        .status()
        .await
        .expect("tests/interop/setup.sh runs");
    assert!(setup.success(), "interop test setup failed");
    // The issuer exactly as the functions have it (local_api.rs): `localhost`, the root gateway.
    let issuer = stack.url.replacen("127.0.0.1", "localhost", 1);
    let run = tokio::process::Command::new("node")
        .args([
            "--dns-result-order=ipv4first",
            "tests/interop/interop.test.mjs",
        ])
        .current_dir(root)
        .env("TOKENGATE_ISSUER", issuer)
        .env("TOKENGATE_USERNAME", ALICE.0)
        .env("TOKENGATE_PASSWORD", ALICE.1)
        .status()
        .await
        .expect("node runs");
    assert!(run.success(), "the interop test failed (output above)");
}
