//! docs/deploy.md's "Check that it answers" block, run as written by bash against this local
//! API: `tokengate outputs ApiUrl` finds the API from a stack in the emulator whose outputs
//! point here (the execute-api layout, under the stage), then login and `/api/me` with curl.

use tokengate_tests::deployed::{
    create_stack, doc_blocks, run, write_samconfig, ScratchDir, STACK,
};

use crate::stack::{Stack, ADMIN};

/// A stack holding only what the block reads: its outputs. (CloudFormation needs one
/// resource; moto models a wait-condition handle as nothing.)
const OUTPUTS_ONLY: &str = "AWSTemplateFormatVersion: \"2010-09-09\"\nParameters:\n  ApiUrl:\n    \
                            Type: String\n  TableName:\n    Type: String\nResources:\n  Nothing:\n    \
                            Type: AWS::CloudFormation::WaitConditionHandle\nOutputs:\n  ApiUrl:\n    \
                            Value: !Ref ApiUrl\n  TableName:\n    Value: !Ref TableName\n";

pub async fn the_documented_check_answers_through_the_stage(stack: &'static Stack) {
    let (endpoint, table) =
        stack.with_api(|api| (api.emulator.url.clone(), api.boot.table.clone()));
    let outputs = [("ApiUrl", stack.stage_url.as_str()), ("TableName", &table)];
    create_stack(&endpoint, STACK, OUTPUTS_ONLY, &outputs).await;
    let dir = ScratchDir::new("deploy-check");
    write_samconfig(&dir);
    std::fs::write(dir.join("check.sh"), doc_blocks("# check")).unwrap();

    let out = run(
        &dir,
        &endpoint,
        "bash",
        &["-euo", "pipefail", "check.sh"],
        &format!("{}\n", ADMIN.1),
    )
    .await;

    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // The empty line is the `echo` after the silent password prompt.
    let mut answers = stdout.lines().filter(|l| !l.trim().is_empty());
    let me: serde_json::Value = serde_json::from_str(answers.next().unwrap_or_default()).unwrap();
    assert_eq!(me["roles"], serde_json::json!(["admin"]), "{stdout}");
    let jwks: serde_json::Value = serde_json::from_str(answers.next().unwrap_or_default()).unwrap();
    assert!(!jwks["keys"].as_array().unwrap().is_empty(), "{stdout}");
}
