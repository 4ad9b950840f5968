//! The signing keyring on the emulator, with the functions' own wiring (`connect` +
//! `App::build`) kept running across a rotation made with the admin CLI's steps: a KMS key
//! tagged with the stack, its public key fetched once, conditional writes of the keyring item.
//! DynamoDB and KMS requests are counted.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::json;
use tokengate_aws::bootstrap::{create_signing_key, STACK_TAG};
use tokengate_aws::{connect, fetch_public_key, Clients, Function};
use tokengate_claims::Algorithm;
use tokengate_domain::keyring::change_keyring;
use tokengate_domain::ErrorCode;
use tokengate_handlers::app::App;
use tokengate_handlers::authorizer::Verdict;

use crate::stack::Stack;

const REFRESH: i64 = 60;

fn kid_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header: serde_json::Value = serde_json::from_slice(&B64.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

async fn allowed(stack: &Stack, token: &str) -> bool {
    let verdict = stack
        .authorizer
        .decide(Some(&format!("Bearer {token}")), "GET", "/api/me")
        .await
        .expect("the stores answer");
    matches!(verdict, Verdict::Allow(_))
}

async fn published(stack: &Stack) -> Vec<String> {
    let keys = stack.jwks.keys().await.verifier().jwks().keys;
    keys.into_iter().map(|k| k.kid).collect()
}

#[tokio::test]
async fn a_rotation_reaches_the_running_functions_and_none_calls_kms_but_to_sign() {
    let stack = Stack::start().await;
    let kms = aws_sdk_kms::Client::new(&stack.emulator.sdk_config().await);
    let old_kid = stack.boot.signing_key.clone();
    let old_token = stack.login_alice().await.access.token;
    assert_eq!(kid_of(&old_token), old_kid);

    // `tokengate keys create`: a KMS key tagged with the stack, added as next.
    let new_kid = create_signing_key(&kms, Algorithm::ES256, "integration")
        .await
        .unwrap();
    let tags = kms
        .list_resource_tags()
        .key_id(&new_kid)
        .send()
        .await
        .unwrap();
    let tag = tags.tags().iter().find(|t| t.tag_key() == STACK_TAG);
    assert_eq!(tag.map(|t| t.tag_value()), Some("integration"));
    let new = fetch_public_key(&kms, &new_kid).await.unwrap();
    change_keyring(&*stack.store, |r| r.add_next(new.clone(), stack.now()))
        .await
        .unwrap();
    stack.clock.advance(REFRESH);
    let mut both = vec![old_kid.clone(), new_kid.clone()];
    both.sort();
    assert_eq!(published(&stack).await, both);

    // `tokengate keys promote`.
    let now = stack.now();
    change_keyring(&*stack.store, |r| {
        r.promote(&new_kid, now, 1050, Some(REFRESH))
    })
    .await
    .unwrap();
    stack.clock.advance(REFRESH);
    stack.kms_calls.reset();
    let new_token = stack.login_alice().await.access.token;
    assert_eq!(kid_of(&new_token), new_kid);
    assert_eq!(
        stack.kms_calls.by_operation(),
        [("Sign".to_owned(), 1)].into(),
        "login asks KMS only to sign, with the new key's ARN"
    );
    assert!(
        allowed(&stack, &old_token).await,
        "the retiring key verifies"
    );
    assert!(allowed(&stack, &new_token).await);
    assert_eq!(published(&stack).await, both);

    // `tokengate keys retire`.
    change_keyring(&*stack.store, |r| r.retire(&old_kid))
        .await
        .unwrap();
    stack.clock.advance(REFRESH);
    assert!(!allowed(&stack, &old_token).await, "retired");
    assert!(allowed(&stack, &new_token).await);
    assert_eq!(published(&stack).await, [new_kid.as_str()]);
    assert_eq!(stack.kms_calls.by_operation().get("GetPublicKey"), None);
}

#[tokio::test]
async fn hostile_tokens_with_random_kids_cost_no_dynamodb_read_beyond_the_interval() {
    let stack = Stack::start().await;
    let hostile = |i: usize| {
        let header = format!(r#"{{"alg":"ES256","typ":"at+jwt","kid":"random-{i}"}}"#);
        json!({
            "type": "TOKEN",
            "authorizationToken": format!(
                "Bearer {}.{}.{}",
                B64.encode(header),
                B64.encode(r#"{"sub":"x"}"#),
                B64.encode([7u8; 64])
            ),
            "methodArn": "arn:aws:execute-api:us-east-1:123456789012:api/v1/GET/api/me",
        })
    };
    stack.ddb_calls.reset();
    for i in 0..200 {
        assert!(stack.authorizer.handle(hostile(i)).await.is_err());
    }
    let within = stack.ddb_calls.total();
    stack.clock.advance(REFRESH);
    for i in 200..400 {
        assert!(stack.authorizer.handle(hostile(i)).await.is_err());
    }
    let after = stack.ddb_calls.by_operation();
    assert_eq!(within, 0);
    assert_eq!(
        after,
        [("GetItem".to_owned(), 1)].into(),
        "one keyring read"
    );
}

#[tokio::test]
async fn a_function_whose_keyring_cannot_be_read_starts_and_answers_503() {
    let stack = Stack::start().await;
    let sdk = stack.emulator.sdk_config().await;
    let clients = Clients {
        dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
        kms: aws_sdk_kms::Client::new(&sdk),
    };
    let mut config = stack.config.clone();
    config.table = Some("no-such-table".to_owned());

    let adapters = connect(&clients, &config, Function::Login, stack.clock.clone())
        .await
        .expect("an unreadable keyring is not fatal at init");
    let login = App::build(config, adapters).login().unwrap();
    let err = login
        .login(tokengate_domain::login::LoginAttempt {
            ask: Default::default(),
            username: "alice".into(),
            password: tokengate_domain::Password::new("correct horse"),
            source_ip: crate::stack::SOURCE_IP.into(),
            device: None,
        })
        .await
        .expect_err("no table, no keyring");
    assert_eq!(err.code, ErrorCode::ServiceUnavailable);
}
