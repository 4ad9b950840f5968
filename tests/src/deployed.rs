//! A tokengate stack in the emulator, as far as moto's CloudFormation can hold one, with the
//! project directory a guided `sam deploy` leaves (`samconfig.toml`), for tests that run the
//! admin CLI as a person does after a deploy (`tests/integration/deploy_doc.rs`).
//!
//! What the emulator cannot model: moto 5.2.1 creates every `AWS::KMS::Key` of a template as a
//! symmetric ENCRYPT_DECRYPT key, whatever its `KeySpec` and `KeyUsage`
//! (`moto/kms/models.py`, `Key.create_from_cloudformation_json`), and runs no SAM transform. So
//! the stack holds the template's tables and its `AccessTokenTtlSeconds` parameter, copied from
//! template.yaml, and the signing key is made as the template makes it (ECC_NIST_P256,
//! SIGN_VERIFY, tagged `tokengate:stack`) with KMS directly and handed to the stack as a
//! parameter for its `SigningKeyArn` output. The outputs keep template.yaml's names.

use std::path::{Path, PathBuf};
use std::process::Output;

use tokengate_aws::bootstrap::{create_signing_key, ensure_mac_key};
use tokengate_aws::{DynamoStore, Tables};
use tokengate_claims::Algorithm;
use tokengate_domain::revocation_feed::FeedLife;
use tokengate_domain::SystemClock;
use tokio::io::AsyncWriteExt;

use crate::binaries::{build_cli, debug_binary};
use crate::Emulator;

const TEMPLATE: &str = include_str!("../../template.yaml");
/// The stack's name.
pub const STACK: &str = "tokengate-doc";
/// Its region, as `samconfig.toml` names it.
pub const REGION: &str = "us-east-1";

/// The block of `key` (two-space indent) under the top-level `section` of template.yaml, as
/// written there.
pub fn template_block(section: &str, key: &str) -> String {
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

/// The emulator's stack: template.yaml's tables and their `TableName` and `FeedTableName`
/// outputs as written there;
/// the signing key from a parameter (see the module comment).
pub fn emulator_template() -> String {
    format!(
        "AWSTemplateFormatVersion: \"2010-09-09\"\nParameters:\n  SigningKeyArn:\n    Type: \
         String\n{}Resources:\n{}{}Outputs:\n{}{}  SigningKeyArn:\n    Value: !Ref SigningKeyArn\n",
        template_block("Parameters", "AccessTokenTtlSeconds"),
        template_block("Resources", "TokengateTable"),
        template_block("Resources", "RevocationFeedTable"),
        template_block("Outputs", "TableName"),
        template_block("Outputs", "FeedTableName"),
    )
}

/// A fresh directory under the system's temporary one, removed on drop.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(name: &str) -> Self {
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
pub async fn run(dir: &Path, endpoint: &str, program: &str, args: &[&str], stdin: &str) -> Output {
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
            ("AWS_ENDPOINT_URL", endpoint),
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

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub async fn create_stack(endpoint: &str, name: &str, body: &str, parameters: &[(&str, &str)]) {
    let cfn = aws_sdk_cloudformation::Client::new(&Emulator::sdk_config_for(endpoint).await);
    let parameters = parameters
        .iter()
        .map(|(key, value)| {
            aws_sdk_cloudformation::types::Parameter::builder()
                .parameter_key(*key)
                .parameter_value(*value)
                .build()
        })
        .collect();
    // CreateStack is not idempotent: a retry of an attempt that timed out but committed (the
    // emulator creates the table inside the call, which takes longer than the harness's 5 s
    // attempt timeout on a loaded machine) would fail with AlreadyExistsException. One
    // attempt, with time enough.
    let once = aws_sdk_cloudformation::config::Builder::default()
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(std::time::Duration::from_secs(120))
                .build(),
        );
    cfn.create_stack()
        .stack_name(name)
        .template_body(body)
        .set_parameters(Some(parameters))
        .customize()
        .config_override(once)
        .send()
        .await
        .expect("the emulator creates the stack");
}

/// Writes `samconfig.toml` into `dir` as `sam deploy --guided` saves its answers for
/// [`STACK`] in [`REGION`].
pub fn write_samconfig(dir: &Path) {
    std::fs::write(
        dir.join("samconfig.toml"),
        format!(
            "version = 0.1\n[default.deploy.parameters]\nstack_name = \"{STACK}\"\n\
             resolve_s3 = true\ns3_prefix = \"{STACK}\"\nregion = \"{REGION}\"\n\
             confirm_changeset = true\ncapabilities = \"CAPABILITY_IAM\"\n"
        ),
    )
    .expect("samconfig.toml written");
}

/// docs/deploy.md.
const DOC: &str = include_str!("../../docs/deploy.md");

/// The fenced `sh`/`bash` blocks of docs/deploy.md whose first line starts with `marker`, in
/// order, as one bash script: what a test runs is what the page says.
pub fn doc_blocks(marker: &str) -> String {
    let mut script = String::new();
    let mut lines = DOC.lines();
    while let Some(line) = lines.next() {
        let fence = line.trim_start();
        if !(fence.starts_with("```sh") || fence.starts_with("```bash")) {
            continue;
        }
        let block: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.trim_start().starts_with("```"))
            .collect();
        if block.first().is_some_and(|l| l.trim().starts_with(marker)) {
            script.push_str(&block.join("\n"));
            script.push('\n');
        }
    }
    assert!(!script.is_empty(), "docs/deploy.md has no `{marker}` block");
    script
}

/// The stack after `sam deploy --guided`, as far as the emulator can hold it, and the project
/// directory with the `samconfig.toml` the guided deploy saved.
pub struct Deployed {
    pub emulator: Emulator,
    pub dir: ScratchDir,
    /// The template's signing key (`SigningKeyArn`).
    pub key_arn: String,
    /// The stack's `TableName` output.
    pub table: String,
    /// The stack's `FeedTableName` output.
    pub feed_table: String,
    /// The functions' MAC key (what `bootstrap` makes; not the CLI's business).
    pub mac_key: String,
}

impl Deployed {
    pub async fn start(name: &str, parameters: &[(&str, &str)]) -> Self {
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
        create_stack(&emulator.url, STACK, &emulator_template(), &all).await;
        let described = aws_sdk_cloudformation::Client::new(&sdk)
            .describe_stacks()
            .stack_name(STACK)
            .send()
            .await
            .unwrap();
        let outputs = described.stacks.unwrap()[0]
            .outputs
            .clone()
            .unwrap_or_default();
        let output = |key: &str| {
            outputs
                .iter()
                .find(|o| o.output_key.as_deref() == Some(key))
                .and_then(|o| o.output_value.clone())
                .unwrap_or_else(|| panic!("the stack's {key} output"))
        };
        let (table, feed_table) = (output("TableName"), output("FeedTableName"));
        let dir = ScratchDir::new(name);
        write_samconfig(&dir);
        Self {
            emulator,
            dir,
            key_arn,
            table,
            feed_table,
            mac_key,
        }
    }

    /// `tokengate args` in the project directory.
    pub async fn tokengate(&self, args: &[&str]) -> Output {
        let bin = debug_binary("tokengate");
        let out = run(
            &self.dir,
            &self.emulator.url,
            bin.to_str().unwrap(),
            args,
            "",
        )
        .await;
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        out
    }

    pub async fn store(&self) -> DynamoStore {
        let ddb = aws_sdk_dynamodb::Client::new(&self.emulator.sdk_config().await);
        let tables = Tables {
            main: self.table.clone(),
            feed: self.feed_table.clone(),
        };
        DynamoStore::new(
            ddb,
            tables,
            FeedLife::default(),
            std::sync::Arc::new(SystemClock),
        )
    }
}
