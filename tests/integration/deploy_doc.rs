//! docs/deploy.md's post-deploy commands, run as written: every fenced block of the page whose
//! first line is `# post-deploy` is extracted and run by bash, with the built `tokengate` on
//! `PATH`, in a directory holding the `samconfig.toml` a guided deploy leaves, against a
//! CloudFormation stack in the emulator (`tokengate_tests::deployed`, which says what moto
//! cannot model). The page and this test cannot drift apart.

use tokengate_domain::keyring::KeyState;
use tokengate_domain::login::LoginAttempt;
use tokengate_domain::ports::{KeyringStore, UserStatus, UserStore};
use tokengate_domain::{Clock, Password, SystemClock, Username};
use tokengate_tests::binaries::{build_cli, debug_binary};
use tokengate_tests::deployed::{
    create_stack, doc_blocks, emulator_template, run, template_block, text, Deployed, ScratchDir,
    REGION, STACK,
};
use tokengate_tests::{Bootstrapped, Emulator};

use crate::stack::{Stack, SOURCE_IP};

/// The first line of a block of docs/deploy.md this test runs.
const MARKER: &str = "# post-deploy";
/// The outputs the CLI reads (tools/admin/src/stack.rs).
const OUTPUTS_READ: [&str; 3] = ["TableName", "FeedTableName", "SigningKeyArn"];
/// What the person deploying types when the page asks for the first admin's password.
const ADMIN_PASSWORD: &str = "violet staple orbit canyon 42";

#[test]
fn the_outputs_the_cli_reads_are_in_the_template_under_the_same_names() {
    for output in OUTPUTS_READ {
        let block = template_block("Outputs", output);
        assert!(block.contains("Value:"), "{block}");
    }
    assert!(emulator_template().contains("  TableName:\n"));
    assert!(emulator_template().contains("  FeedTableName:\n"));
}

#[tokio::test]
async fn the_documented_post_deploy_commands_adopt_the_stacks_key_and_make_an_admin_who_can_log_in()
{
    let deployed = Deployed::start("deploy-doc", &[]).await;
    let script = doc_blocks(MARKER);
    assert_eq!(script.matches("tokengate ").count(), 3, "{script}");
    std::fs::write(deployed.dir.join("post-deploy.sh"), script).unwrap();

    let out = run(
        &deployed.dir,
        &deployed.emulator.url,
        "bash",
        &["-euo", "pipefail", "post-deploy.sh"],
        &format!("{ADMIN_PASSWORD}\n"),
    )
    .await;

    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{}\n{stderr}", text(&out.stdout));
    assert!(
        stderr.contains(&format!(
            "tokengate: stack {STACK} (samconfig.toml), region {REGION} (samconfig.toml), \
             table {} (stack output TableName)",
            deployed.table
        )),
        "{stderr}"
    );
    let store = deployed.store().await;
    let ring = store.read_keyring().await.unwrap();
    let current = ring.current().expect("the stack's key is current").clone();
    assert_eq!(current.key_arn, deployed.key_arn);
    assert_eq!(ring.keys().len(), 1);
    let admin = store
        .find_user(&Username::parse("admin").unwrap())
        .await
        .unwrap()
        .expect("the first admin exists");
    assert_eq!(admin.roles, ["admin"]);
    assert_eq!(admin.status, UserStatus::Active);
    // The admin logs in through the functions' own wiring, on the table and key the page set up.
    let boot = Bootstrapped {
        table: deployed.table.clone(),
        feed_table: deployed.feed_table.clone(),
        signing_key: current.kid.clone(),
        mac_key: deployed.mac_key.clone(),
    };
    let url = deployed.emulator.url.clone();
    let Deployed { emulator, .. } = deployed;
    let stack = Stack::wire(emulator, boot, &url).await;
    let grant = stack
        .login
        .login(LoginAttempt {
            ask: Default::default(),
            username: "admin".into(),
            password: Password::new(ADMIN_PASSWORD),
            source_ip: SOURCE_IP.into(),
            device: None,
        })
        .await
        .expect("the first admin logs in");
    let claims = stack
        .verifier
        .verify(&grant.access.token, stack.now())
        .unwrap();
    assert_eq!(claims.roles, ["admin"]);
    assert_eq!(claims.sub, admin.user_id);
}

#[tokio::test]
async fn the_cli_says_what_to_do_about_a_missing_stack_missing_outputs_or_no_region() {
    build_cli().await;
    let emulator = Emulator::start().await;
    // A stack, but not a tokengate one: no outputs.
    let bare = "Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      \
                BillingMode: PAY_PER_REQUEST\n      AttributeDefinitions:\n        - \
                AttributeName: pk\n          AttributeType: S\n      KeySchema:\n        - \
                AttributeName: pk\n          KeyType: HASH\n";
    create_stack(&emulator.url, "not-tokengate", bare, &[]).await;
    let dir = ScratchDir::new("deploy-errors");
    let tokengate = debug_binary("tokengate");
    let tokengate = tokengate.to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--region", REGION, "--stack", "nowhere", "keys", "list"],
            "no stack named nowhere in region us-east-1",
        ),
        (
            &[
                "--region",
                REGION,
                "--stack",
                "not-tokengate",
                "keys",
                "list",
            ],
            "stack not-tokengate (CREATE_COMPLETE) has no output TableName: is it a tokengate \
             stack?",
        ),
        (
            &[
                "--region",
                REGION,
                "--stack",
                "not-tokengate",
                "--table",
                "t",
                "keys",
                "adopt",
            ],
            "stack not-tokengate (CREATE_COMPLETE) has no output SigningKeyArn",
        ),
        (
            &["--stack", "anything", "keys", "list"],
            "no AWS region: pass --region",
        ),
        (
            &["--region", REGION, "outputs"],
            "which stack? Pass --stack NAME",
        ),
    ];

    for (args, expected) in cases {
        let out = run(&dir, &emulator.url, tokengate, args, "").await;

        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn a_table_given_explicitly_reads_nothing_from_cloudformation() {
    build_cli().await;
    let emulator = Emulator::start().await;
    let table = emulator.tables().await.main;
    let dir = ScratchDir::new("deploy-override");
    let tokengate = debug_binary("tokengate");
    // No stack of that name exists: a DescribeStacks would fail.
    let args = [
        "--region", REGION, "--stack", "nowhere", "--table", &table, "keys", "list",
    ];

    let out = run(&dir, &emulator.url, tokengate.to_str().unwrap(), &args, "").await;

    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "tokengate: region {REGION} (--region), table {table} (--table)"
        )),
        "{stderr}"
    );
}

#[tokio::test]
async fn keys_promote_keeps_the_old_key_trusted_as_long_as_the_stacks_parameters_say() {
    // The stack was deployed with 10-minute access tokens; the CLI's environment says nothing.
    let deployed = Deployed::start("deploy-timing", &[("AccessTokenTtlSeconds", "600")]).await;
    deployed.tokengate(&["keys", "adopt"]).await;
    deployed.tokengate(&["keys", "create"]).await;
    let store = deployed.store().await;
    let ring = store.read_keyring().await.unwrap();
    let old = ring.current().unwrap().kid.clone();
    let new = ring
        .keys()
        .iter()
        .find(|k| k.kid != old)
        .unwrap()
        .kid
        .clone();
    let before = SystemClock.now();

    deployed
        .tokengate(&["keys", "promote", &new, "--force"])
        .await;

    let after = SystemClock.now();
    let ring = store.read_keyring().await.unwrap();
    let Some(KeyState::Retiring { until }) =
        ring.keys().iter().find(|k| k.kid == old).map(|k| k.state)
    else {
        panic!("the old key is retiring: {ring:?}");
    };
    // One keyring re-read (60) + the stack's access-token lifetime (600) + the leeway (30) +
    // the authorizer cache TTL (the template's default, 60).
    let retiring = 60 + 600 + 30 + 60;
    assert!(
        (before + retiring..=after + retiring).contains(&until),
        "until {until}, promoted between {before} and {after}"
    );
    assert_eq!(ring.current().unwrap().kid, new);
}
