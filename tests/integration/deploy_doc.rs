//! docs/deploy.md's post-deploy commands, run as written: every fenced block of the page whose
//! first line is `# post-deploy` is extracted and run by bash, with the built `tokengate` on
//! `PATH`, in a directory holding the `samconfig.toml` a guided deploy leaves, against a
//! CloudFormation stack in the emulator. The page and this test cannot drift apart.
//!
//! What the emulator cannot model: moto 5.2.1 creates every `AWS::KMS::Key` of a template as a
//! symmetric ENCRYPT_DECRYPT key, whatever its `KeySpec` and `KeyUsage`
//! (`moto/kms/models.py`, `Key.create_from_cloudformation_json`), and runs no SAM transform. So
//! the stack here holds the template's table, copied from template.yaml, and the signing key is
//! made as the template makes it (ECC_NIST_P256, SIGN_VERIFY, tagged `tokengate:stack`) with
//! KMS directly and handed to the stack as a parameter for its `SigningKeyArn` output. The
//! outputs keep template.yaml's names, which a separate test checks.

use std::path::{Path, PathBuf};
use std::process::Output;

use tokengate_aws::bootstrap::{create_signing_key, ensure_mac_key};
use tokengate_aws::DynamoStore;
use tokengate_claims::Algorithm;
use tokengate_domain::keyring::KeyState;
use tokengate_domain::login::LoginAttempt;
use tokengate_domain::ports::{KeyringStore, UserStatus, UserStore};
use tokengate_domain::{Clock, Password, SystemClock, Username};
use tokengate_tests::binaries::{build_cli, debug_binary};
use tokengate_tests::{Bootstrapped, Emulator};
use tokio::io::AsyncWriteExt;

use crate::stack::{Stack, SOURCE_IP};

const DOC: &str = include_str!("../../docs/deploy.md");
const TEMPLATE: &str = include_str!("../../template.yaml");
/// The first line of a block of docs/deploy.md this test runs.
const MARKER: &str = "# post-deploy";
/// The outputs the CLI reads (tools/admin/src/stack.rs).
const OUTPUTS_READ: [&str; 2] = ["TableName", "SigningKeyArn"];
const STACK: &str = "tokengate-doc";
const REGION: &str = "us-east-1";
/// What the person deploying types when the page asks for the first admin's password.
const ADMIN_PASSWORD: &str = "violet staple orbit canyon 42";

/// The page's `# post-deploy` blocks, in order, as one bash script.
fn post_deploy_script() -> String {
    let mut script = String::new();
    let mut lines = DOC.lines();
    let mut blocks = 0;
    while let Some(line) = lines.next() {
        let fence = line.trim_start();
        if !(fence.starts_with("```sh") || fence.starts_with("```bash")) {
            continue;
        }
        let block: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.trim_start().starts_with("```"))
            .collect();
        if block.first().is_some_and(|l| l.trim().starts_with(MARKER)) {
            blocks += 1;
            script.push_str(&block.join("\n"));
            script.push('\n');
        }
    }
    assert!(blocks >= 2, "docs/deploy.md lost its `{MARKER}` blocks");
    script
}

/// The block of `key` (two-space indent) under the top-level `section` of template.yaml, as
/// written there.
fn template_block(section: &str, key: &str) -> String {
    let start = TEMPLATE
        .find(&format!("\n{section}:\n"))
        .unwrap_or_else(|| panic!("template.yaml has no {section}"));
    let body = &TEMPLATE[start + section.len() + 3..];
    let head = format!("  {key}:\n");
    let at = body
        .find(&head)
        .unwrap_or_else(|| panic!("template.yaml has no {section}.{key}"));
    let mut block = String::new();
    for (i, line) in body[at..].lines().enumerate() {
        let nested = line.is_empty() || line.starts_with("   ") || line.starts_with("  #");
        if i > 0 && !nested {
            break;
        }
        block.push_str(line);
        block.push('\n');
    }
    block
}

/// The emulator's stack: template.yaml's table and its `TableName` output as written there;
/// the signing key from a parameter (see the module comment).
fn emulator_template() -> String {
    format!(
        "AWSTemplateFormatVersion: \"2010-09-09\"\nParameters:\n  SigningKeyArn:\n    Type: \
         String\n{}Resources:\n{}Outputs:\n{}  SigningKeyArn:\n    Value: !Ref SigningKeyArn\n",
        template_block("Parameters", "AccessTokenTtlSeconds"),
        template_block("Resources", "TokengateTable"),
        template_block("Outputs", "TableName"),
    )
}

/// A fresh directory under the system's temporary one, removed on drop.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("tokengate-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl std::ops::Deref for ScratchDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `program args` in `dir`, with an environment of its own: the emulator's endpoint and test
/// credentials, no region (only `samconfig.toml` may name one), no AWS configuration files.
async fn run(dir: &Path, emulator: &Emulator, program: &str, args: &[&str], stdin: &str) -> Output {
    let bin = debug_binary("tokengate");
    let path = format!(
        "{}:/usr/local/bin:/usr/bin:/bin",
        bin.parent().unwrap().display()
    );
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs([
            ("PATH", path.as_str()),
            ("HOME", dir.to_str().unwrap()),
            ("AWS_CONFIG_FILE", "/nonexistent/config"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_ENDPOINT_URL", emulator.url.as_str()),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the command starts");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    child.wait_with_output().await.unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn create_stack(emulator: &Emulator, name: &str, body: &str, parameters: &[(&str, &str)]) {
    let cfn = aws_sdk_cloudformation::Client::new(&emulator.sdk_config().await);
    let parameters = parameters
        .iter()
        .map(|(key, value)| {
            aws_sdk_cloudformation::types::Parameter::builder()
                .parameter_key(*key)
                .parameter_value(*value)
                .build()
        })
        .collect();
    cfn.create_stack()
        .stack_name(name)
        .template_body(body)
        .set_parameters(Some(parameters))
        .send()
        .await
        .expect("the emulator creates the stack");
}

/// The stack after `sam deploy --guided`, as far as the emulator can hold it, and the project
/// directory with the `samconfig.toml` the guided deploy saved.
struct Deployed {
    emulator: Emulator,
    dir: ScratchDir,
    /// The template's signing key (`SigningKeyArn`).
    key_arn: String,
    /// The stack's `TableName` output.
    table: String,
    /// The functions' MAC key (what `bootstrap` makes; not the CLI's business).
    mac_key: String,
}

impl Deployed {
    async fn start(name: &str, parameters: &[(&str, &str)]) -> Self {
        build_cli().await;
        let emulator = Emulator::start().await;
        let sdk = emulator.sdk_config().await;
        let kms = aws_sdk_kms::Client::new(&sdk);
        let key_id = create_signing_key(&kms, Algorithm::ES256, STACK)
            .await
            .unwrap();
        let key = kms.describe_key().key_id(&key_id).send().await.unwrap();
        let key_arn = key.key_metadata.unwrap().arn.unwrap();
        let mac_key = ensure_mac_key(&kms).await.unwrap();
        let mut all = vec![("SigningKeyArn", key_arn.as_str())];
        all.extend_from_slice(parameters);
        create_stack(&emulator, STACK, &emulator_template(), &all).await;
        let described = aws_sdk_cloudformation::Client::new(&sdk)
            .describe_stacks()
            .stack_name(STACK)
            .send()
            .await
            .unwrap();
        let table = described.stacks.unwrap()[0]
            .outputs
            .iter()
            .flatten()
            .find(|o| o.output_key.as_deref() == Some("TableName"))
            .and_then(|o| o.output_value.clone())
            .expect("the stack's TableName output");
        let dir = ScratchDir::new(name);
        // As `sam deploy --guided` saves its answers.
        std::fs::write(
            dir.join("samconfig.toml"),
            format!(
                "version = 0.1\n[default.deploy.parameters]\nstack_name = \"{STACK}\"\n\
                 resolve_s3 = true\ns3_prefix = \"{STACK}\"\nregion = \"{REGION}\"\n\
                 confirm_changeset = true\ncapabilities = \"CAPABILITY_IAM\"\n"
            ),
        )
        .unwrap();
        Self {
            emulator,
            dir,
            key_arn,
            table,
            mac_key,
        }
    }

    /// `tokengate args` in the project directory.
    async fn tokengate(&self, args: &[&str]) -> Output {
        let bin = debug_binary("tokengate");
        let out = run(&self.dir, &self.emulator, bin.to_str().unwrap(), args, "").await;
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        out
    }

    async fn store(&self) -> DynamoStore {
        let ddb = aws_sdk_dynamodb::Client::new(&self.emulator.sdk_config().await);
        DynamoStore::new(ddb, self.table.clone(), std::sync::Arc::new(SystemClock))
    }
}

#[test]
fn the_outputs_the_cli_reads_are_in_the_template_under_the_same_names() {
    for output in OUTPUTS_READ {
        let block = template_block("Outputs", output);
        assert!(block.contains("Value:"), "{block}");
    }
    assert!(emulator_template().contains("  TableName:\n"));
}

#[tokio::test]
async fn the_documented_post_deploy_commands_adopt_the_stacks_key_and_make_an_admin_who_can_log_in()
{
    let deployed = Deployed::start("deploy-doc", &[]).await;
    std::fs::write(deployed.dir.join("post-deploy.sh"), post_deploy_script()).unwrap();

    let out = run(
        &deployed.dir,
        &deployed.emulator,
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
        signing_key: current.kid.clone(),
        mac_key: deployed.mac_key.clone(),
    };
    let url = deployed.emulator.url.clone();
    let Deployed { emulator, .. } = deployed;
    let stack = Stack::wire(emulator, boot, &url).await;
    let grant = stack
        .login
        .login(LoginAttempt {
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
    create_stack(&emulator, "not-tokengate", bare, &[]).await;
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
        let out = run(&dir, &emulator, tokengate, args, "").await;

        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
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
