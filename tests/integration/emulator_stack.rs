//! `emulator-stack`, the harness as a process for `make bench`'s cold-start script: its
//! settings are what `tokengate bootstrap` prints and name what it bootstrapped (the table, the
//! MAC key, a keyring whose current key is in KMS), its proxy logs exactly the calls sent
//! through it, and closing its stdin ends it (and with it the emulator, which `Emulator`'s drop
//! kills).

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokengate_domain::ports::KeyringStore;
use tokengate_tests::Emulator;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn emulator_stack_logs_each_forwarded_call_once_and_exits_when_stdin_closes() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_emulator-stack"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("emulator-stack starts");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let ready: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    assert_eq!(
        ready["settings"],
        json!({
            "TOKENGATE_TABLE": "tokengate",
            "TOKENGATE_FEED_TABLE": "tokengate-feed",
            "TOKENGATE_REFRESH_MAC_KEY": "alias/tokengate-refresh-mac",
        })
    );
    let proxy = ready["proxy"].as_str().unwrap();
    let sdk = Emulator::sdk_config_for(proxy).await;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);

    let table = ddb
        .describe_table()
        .table_name("tokengate")
        .send()
        .await
        .expect("the bootstrapped table, through the proxy");
    let keyring = tokengate_aws::DynamoStore::new(
        ddb,
        tokengate_aws::Tables::local("tokengate"),
        tokengate_domain::revocation_feed::FeedLife::default(),
        Arc::new(tokengate_domain::SystemClock),
    )
    .read_keyring()
    .await
    .expect("the bootstrapped keyring, through the proxy");
    let current = keyring.current().expect("a current signing key").clone();
    let public_key = aws_sdk_kms::Client::new(&sdk)
        .get_public_key()
        .key_id(&current.key_arn)
        .send()
        .await
        .expect("the current key in KMS, through the proxy");
    let mac_key = aws_sdk_kms::Client::new(&sdk)
        .describe_key()
        .key_id("alias/tokengate-refresh-mac")
        .send()
        .await
        .expect("the MAC key's alias, through the proxy");
    stdin.write_all(b"forwarded\n").await.unwrap();
    let calls: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();

    assert_eq!(
        table.table.and_then(|t| t.table_name).as_deref(),
        Some("tokengate")
    );
    assert_eq!(keyring.keys().len(), 1);
    assert_eq!(ready["signing_kid"].as_str(), Some(current.kid.as_str()));
    assert_eq!(
        public_key.public_key.map(|k| k.into_inner()),
        Some(current.public_key.clone())
    );
    assert!(mac_key.key_metadata.is_some_and(|m| m.enabled));
    let operations: Vec<_> = calls
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["operation"].as_str().unwrap())
        .collect();
    assert_eq!(
        operations,
        [
            "DynamoDB_20120810.DescribeTable",
            "DynamoDB_20120810.GetItem",
            "TrentService.GetPublicKey",
            "TrentService.DescribeKey",
        ]
    );
    for call in calls.as_array().unwrap() {
        assert!(call["received_ns"].as_u64().unwrap() <= call["answered_ns"].as_u64().unwrap());
    }
    // Taken calls are not listed again.
    stdin.write_all(b"forwarded\n").await.unwrap();
    assert_eq!(lines.next_line().await.unwrap().unwrap(), "[]");

    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exits once stdin closes")
        .unwrap();
    assert!(status.success());
}
