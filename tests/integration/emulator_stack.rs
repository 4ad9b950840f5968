//! `emulator-stack`, the harness as a process for `make bench`'s cold-start script: its
//! settings name what it bootstrapped, its proxy logs exactly the calls sent through it, and
//! closing its stdin ends it (and with it the emulator, which `Emulator`'s drop kills).

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
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
    let settings = &ready["settings"];
    assert_eq!(settings["TOKENGATE_TABLE"], "tokengate");
    assert_eq!(settings["TOKENGATE_SIGNING_KEY"], "alias/tokengate-signing");
    assert_eq!(
        settings["TOKENGATE_REFRESH_MAC_KEY"],
        "alias/tokengate-refresh-mac"
    );
    let proxy = ready["proxy"].as_str().unwrap();
    let sdk = Emulator::sdk_config_for(proxy).await;

    let table = aws_sdk_dynamodb::Client::new(&sdk)
        .describe_table()
        .table_name("tokengate")
        .send()
        .await
        .expect("the bootstrapped table, through the proxy");
    let key = aws_sdk_kms::Client::new(&sdk)
        .get_public_key()
        .key_id("alias/tokengate-signing")
        .send()
        .await
        .expect("the bootstrapped signing key, through the proxy");
    stdin.write_all(b"forwarded\n").await.unwrap();
    let calls: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();

    assert!(table.table.is_some());
    assert_eq!(
        key.key_id.as_deref(),
        settings["TOKENGATE_TRUSTED_KEYS"].as_str()
    );
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
            "TrentService.GetPublicKey"
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
