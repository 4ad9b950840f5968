//! `seed-demo` publishes its passwords, so it refuses any DynamoDB endpoint but a local one —
//! the endpoint the SDK's client actually talks to, not what `AWS_ENDPOINT_URL` alone says. The
//! CLI runs as a subprocess with an environment of its own (no AWS profile, no process-global
//! variable of the test binary touched).

use std::process::{Command, Output};

const REFUSAL: &str = "seed-demo creates users with published passwords";

/// `tokengate seed-demo` with only `vars` (and a fake region and credentials) set.
fn seed_demo(vars: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tokengate"))
        .arg("seed-demo")
        .env_clear()
        .envs([
            ("HOME", "/nonexistent"),
            ("AWS_CONFIG_FILE", "/nonexistent/config"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("TOKENGATE_TABLE", "tokengate-guard-test"),
        ])
        .envs(vars.iter().copied())
        .output()
        .expect("the CLI runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn seed_demo_refuses_a_remote_dynamodb_endpoint_behind_a_local_global_one() {
    let out = seed_demo(&[
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        (
            "AWS_ENDPOINT_URL_DYNAMODB",
            "https://dynamodb.us-east-1.amazonaws.com",
        ),
    ]);

    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(REFUSAL), "{err}");
    assert!(
        err.contains("now https://dynamodb.us-east-1.amazonaws.com"),
        "{err}"
    );
}

#[test]
fn seed_demo_refuses_when_configured_endpoints_are_ignored() {
    let out = seed_demo(&[
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9"),
        ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
    ]);

    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(REFUSAL), "{err}");
    assert!(err.contains("now none: real AWS"), "{err}");
}

#[test]
fn seed_demo_passes_its_guard_for_a_local_dynamodb_endpoint_behind_a_remote_global_one() {
    // Nothing listens on port 9: past the guard, the first DynamoDB call fails to connect.
    let out = seed_demo(&[
        ("AWS_ENDPOINT_URL", "https://example.com"),
        ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9"),
    ]);

    let err = stderr(&out);
    assert!(!err.contains(REFUSAL), "{err}");
    assert_eq!(out.status.code(), Some(1), "{err}");
}
