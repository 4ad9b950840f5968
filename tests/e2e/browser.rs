//! The browser demo as a cross-origin app (the stack's app origin) against the API under the
//! stage prefix (the stack's `/v1` gateway), driven in headless Chromium by
//! `tests/browser/demo.test.mjs` (cookie stored with Path=/v1/auth and invisible to script, no
//! access token in script-visible storage, automatic refresh on 401, logout clears the cookie
//! and ends access, another origin can neither read nor refresh). `tests/browser/setup.sh`
//! installs Chromium and the pinned driver package first.

use crate::stack::Stack;

pub async fn browser_demo_in_headless_chromium(stack: &Stack) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let setup = tokio::process::Command::new("tests/browser/setup.sh")
        .current_dir(root)
        .status()
        .await
        .expect("tests/browser/setup.sh runs");
    assert!(setup.success(), "browser test setup failed");
    // `localhost`, not 127.0.0.1: browsers treat it as a secure context, so the `Secure`
    // refresh cookie works over plain HTTP as it does over HTTPS when deployed.
    let on_localhost = |url: &str| url.replacen("127.0.0.1", "localhost", 1);
    let run = tokio::process::Command::new("node")
        .arg("tests/browser/demo.test.mjs")
        .current_dir(root)
        .env("TOKENGATE_API_URL", on_localhost(&stack.stage_url))
        .env("TOKENGATE_APP_URL", on_localhost(&stack.app_url))
        .status()
        .await
        .expect("node runs");
    assert!(run.success(), "the browser demo test failed (output above)");
}
