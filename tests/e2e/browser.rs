//! The browser demo served by the gateway at `/`, driven in headless Chromium by
//! `tests/browser/demo.test.mjs` (cookie invisible to script, automatic refresh on 401,
//! logout ends access, another origin cannot refresh). `tests/browser/setup.sh` installs
//! Chromium and the pinned driver package first.

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
    let port = stack.url.rsplit(':').next().unwrap();
    let run = tokio::process::Command::new("node")
        .arg("tests/browser/demo.test.mjs")
        .current_dir(root)
        .env("TOKENGATE_GATEWAY_URL", format!("http://localhost:{port}"))
        .status()
        .await
        .expect("node runs");
    assert!(run.success(), "the browser demo test failed (output above)");
}
