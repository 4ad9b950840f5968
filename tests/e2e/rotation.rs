//! A signing-key rotation on the running stack, with the admin CLI, while every function keeps
//! running (no restart, no redeploy): `tokengate keys create` → the JWKS publishes the new key;
//! `keys promote` → new tokens carry the new `kid` within the keyring re-read interval (1 s in
//! this stack) while tokens of the old key keep working; `keys retire` → the old key's tokens
//! get 401 and the JWKS drops it.
//!
//! The old key's tokens used after the promotion are signed by that key through KMS with
//! alice's genuine claims and a later `exp` ([`Forge`]): the stack's access tokens live 4 s,
//! and a refusal must come from the retirement, not from expiry.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::forge::{decode, Forge};
use crate::stack::{access, Stack, ALICE};

/// How long the stack's functions keep a keyring before reading it again (dev.sh's setting
/// in this stack).
pub const KEYRING_REFRESH_SECS: u64 = 1;

/// Runs the admin CLI against the stack's table and emulator, with the functions' settings:
/// whether it succeeded, and its output.
async fn run_cli(stack: &Stack, args: &[&str]) -> (bool, String) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let env = std::fs::read_to_string(stack.state.join("env")).expect("the env file");
    let mut cmd = tokio::process::Command::new(format!("{root}/target/debug/tokengate"));
    for line in env.lines() {
        if let Some((k, v)) = line.split_once('=') {
            cmd.env(k, v.trim_matches('"'));
        }
    }
    // The CLI takes the old key's retiring time from these, as the functions use them.
    let out = cmd
        .env("TOKENGATE_AUTHORIZER_CACHE_TTL", "0")
        .env("TOKENGATE_STACK", "tokengate-e2e")
        .args(args)
        .output()
        .await
        .expect("the admin CLI runs (dev.sh built it)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let errors = String::from_utf8_lossy(&out.stderr);
    (out.status.success(), format!("{text}{errors}"))
}

/// [`run_cli`], which must succeed; its output.
async fn tokengate(stack: &Stack, args: &[&str]) -> String {
    let (ok, text) = run_cli(stack, args).await;
    assert!(ok, "tokengate {args:?}: {text}");
    text
}

async fn published(stack: &Stack) -> Vec<String> {
    let jwks = stack.call("GET", "/.well-known/jwks.json", &[], None).await;
    assert_eq!(jwks.status, 200, "{}", jwks.body);
    let mut kids: Vec<String> = jwks.body["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect();
    kids.sort();
    kids
}

/// When a change must have reached every function: a few re-read intervals from now (each
/// function reads at the first request after its interval, and the machine is shared).
fn refresh_deadline() -> Instant {
    Instant::now() + Duration::from_secs(KEYRING_REFRESH_SECS * 5 + 5)
}

/// Polls `check` until it holds, for at most a few re-read intervals.
async fn within_refresh<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = refresh_deadline();
    while !check().await {
        assert!(
            Instant::now() < deadline,
            "not within the refresh interval: {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn me_status(stack: &Stack, token: &str) -> u16 {
    stack.me(token).await.status
}

/// A token of alice signed by `forge`'s key, valid for ten minutes.
async fn long_lived(stack: &Stack, forge: &Forge, genuine: &str) -> String {
    let mut header: Value = decode(genuine, 0);
    header["kid"] = Value::from(forge.kid());
    let mut claims: Value = decode(genuine, 1);
    claims["exp"] = Value::from(claims["iat"].as_i64().expect("iat") + 600);
    let token = forge.sign(&header, &claims).await;
    stack.remember(&token);
    token
}

pub async fn keys_rotate_without_a_restart(stack: &'static Stack) {
    let login = stack.login(ALICE).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let genuine = access(&login);
    let old_kid = decode(&genuine, 0)["kid"].as_str().unwrap().to_owned();
    assert_eq!(published(stack).await, [old_kid.as_str()]);
    let old_forge = Forge::connect_with(&stack.state, Some(&old_kid)).await;
    let old_token = long_lived(stack, &old_forge, &genuine).await;
    assert_eq!(
        me_status(stack, &old_token).await,
        200,
        "the old key's token"
    );

    // 1. `keys create`: the new key is published before it signs.
    let created = tokengate(stack, &["keys", "create"]).await;
    let new_kid = created
        .strip_prefix("added ")
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("a kid in {created:?}"))
        .to_owned();
    let mut both = vec![old_kid.clone(), new_kid.clone()];
    both.sort();
    within_refresh("the JWKS publishes the next key", || async {
        published(stack).await == both
    })
    .await;
    let listed = tokengate(stack, &["keys", "list"]).await;
    let line = listed.lines().find(|l| l.starts_with(&new_kid));
    assert!(line.is_some_and(|l| l.contains(" next ")), "{listed}");
    let login = stack.login(ALICE).await;
    assert_eq!(
        decode(&access(&login), 0)["kid"],
        old_kid.as_str(),
        "next does not sign"
    );

    // 2. `keys promote`: login signs with the new key within the interval; the old key's
    //    tokens keep working (retiring).
    // `promote` refuses a key every function may not have read yet (added less than one
    // interval ago): ask until it agrees.
    let deadline = refresh_deadline();
    let promoted = loop {
        let (ok, text) = run_cli(stack, &["keys", "promote", &new_kid]).await;
        if ok {
            break text;
        }
        assert!(text.contains("promote it then"), "{text}");
        assert!(Instant::now() < deadline, "promote kept refusing: {text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        promoted.contains(&format!("{old_kid} is retiring")),
        "{promoted}"
    );
    let deadline = refresh_deadline();
    let new_token = loop {
        let login = stack.login(ALICE).await;
        assert_eq!(login.status, 200, "{}", login.body);
        let token = access(&login);
        if decode(&token, 0)["kid"] == new_kid.as_str() {
            break token;
        }
        assert!(
            Instant::now() < deadline,
            "new tokens still carry {old_kid}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        me_status(stack, &new_token).await,
        200,
        "the new key's token"
    );
    assert_eq!(
        me_status(stack, &old_token).await,
        200,
        "retiring still verifies"
    );
    assert_eq!(published(stack).await, both, "retiring is still published");

    // 3. `keys retire`: the old key's tokens are refused, the JWKS drops it.
    tokengate(stack, &["keys", "retire", &old_kid]).await;
    within_refresh("the retired key's tokens get 401", || async {
        me_status(stack, &old_token).await == 401
    })
    .await;
    // The JWKS function re-reads the keyring on its own schedule, not the authorizer's.
    within_refresh("the JWKS drops the retired key", || async {
        published(stack).await == [new_kid.as_str()]
    })
    .await;
    assert_eq!(me_status(stack, &new_token).await, 200);
    let refreshed = stack.login(ALICE).await;
    assert_eq!(decode(&access(&refreshed), 0)["kid"], new_kid.as_str());
}
