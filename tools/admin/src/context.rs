//! What a command runs against: the SDK clients for the chosen region, the table, and the
//! deployed stack when one is needed — resolved once, announced on stderr.

use std::sync::Arc;

use aws_config::SdkConfig;
use tokengate_aws::{DynamoStore, Tables};
use tokengate_domain::config::{Env, RotationTiming};
use tokengate_domain::revocation_feed::FeedLife;

use crate::samconfig::SamConfig;
use crate::stack::{self, DeployedStack};
use crate::target::{self, Choice, Flags, Source, Sourced};
use crate::users;

/// How much of the deployment a command needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// `bootstrap`: the emulator's own table; no stack, no `samconfig.toml`.
    Bootstrap,
    /// The table: given explicitly, else the stack's `TableName` output.
    Table,
    /// The stack's outputs, whatever the table.
    Stack,
}

/// The resolved target of a command.
pub struct Context {
    /// The SDK configuration (region, credentials, endpoint).
    pub sdk: SdkConfig,
    /// DynamoDB, on the endpoint the SDK resolved.
    pub ddb: aws_sdk_dynamodb::Client,
    /// KMS.
    pub kms: aws_sdk_kms::Client,
    /// The tables.
    pub store: DynamoStore,
    choice: Choice,
    stack: Option<DeployedStack>,
}

fn no_stack() -> anyhow::Error {
    anyhow::anyhow!(
        "which stack? Pass --stack NAME, set TOKENGATE_STACK, or run in the directory where \
         `sam deploy --guided` wrote samconfig.toml (or name the table: --table / TOKENGATE_TABLE)"
    )
}

impl Context {
    /// Resolves stack, region and table (`target::choose`), reads the stack's outputs if
    /// `needs` them, and prints what it uses on stderr.
    pub async fn open(flags: &Flags, needs: Needs) -> anyhow::Result<Self> {
        let sam = match needs {
            Needs::Bootstrap => None,
            _ => SamConfig::read(&std::env::current_dir()?)?,
        };
        let choice = target::choose(flags, |name| std::env::var(name).ok(), sam.as_ref());
        let sdk = target::sdk_config(&choice).await;
        let region = sdk
            .region()
            .map(|r| r.to_string())
            .ok_or_else(target::no_region)?;
        let ddb = tokengate_aws::config::dynamodb_client(&sdk);
        let endpoint = tokengate_aws::config::dynamodb_endpoint_url(&sdk);
        let lookup = match needs {
            Needs::Bootstrap => false,
            Needs::Table => choice.table.is_none() && choice.stack.is_some(),
            Needs::Stack => true,
        };
        let stack = if lookup {
            let name = choice.stack.as_ref().ok_or_else(no_stack)?;
            let cfn = aws_sdk_cloudformation::Client::new(&sdk);
            Some(DeployedStack::describe(&cfn, &name.value, &region).await?)
        } else {
            None
        };
        let table = match (&choice.table, &stack) {
            (Some(table), _) => table.clone(),
            (None, Some(stack)) => Sourced {
                value: stack.output(stack::TABLE_OUTPUT)?.to_owned(),
                source: Source::StackOutput(stack::TABLE_OUTPUT),
            },
            // What `make dev` bootstraps; never guessed for a table on AWS.
            (None, None)
                if needs == Needs::Bootstrap || users::is_local_endpoint(endpoint.as_deref()) =>
            {
                Sourced {
                    value: "tokengate".to_owned(),
                    source: Source::LocalDefault,
                }
            }
            (None, None) => return Err(no_stack()),
        };
        let feed = feed_table(&table, stack.as_ref());
        let mut announce = String::from("tokengate:");
        // The stack is named when it was read; a table given explicitly reads none.
        if let (Some(name), Some(_)) = (&choice.stack, &stack) {
            announce += &format!(" stack {} ({}),", name.value, name.source);
        }
        announce += &format!(" region {region} ({}),", choice.region_source());
        announce += &format!(" table {} ({})", table.value, table.source);
        announce += &format!(", feed table {} ({})", feed.value, feed.source);
        if let Some(endpoint) = &endpoint {
            announce += &format!(", DynamoDB endpoint {endpoint}");
        }
        eprintln!("{announce}");
        // The feed entries the CLI writes (set-roles, disable, revoke-sessions…) live as long
        // as the functions' tokens: the stack's parameters say how long.
        let timing = timing(stack.as_ref())?;
        let life = FeedLife {
            access_ttl_secs: timing.access_ttl_secs,
            leeway_secs: timing.leeway_secs,
        };
        let tables = Tables {
            main: table.value,
            feed: feed.value,
        };
        let store = DynamoStore::new(
            ddb.clone(),
            tables,
            life,
            Arc::new(tokengate_domain::SystemClock),
        );
        Ok(Self {
            kms: aws_sdk_kms::Client::new(&sdk),
            sdk,
            ddb,
            store,
            choice,
            stack,
        })
    }

    /// The stack's name, if one is named anywhere.
    pub fn stack_name(&self) -> Option<&str> {
        self.choice.stack.as_ref().map(|s| s.value.as_str())
    }

    /// Output `key` of the stack (read by [`Self::open`] when a command needs the stack).
    pub fn output(&self, key: &str) -> anyhow::Result<&str> {
        self.stack.as_ref().ok_or_else(no_stack)?.output(key)
    }

    /// Prints every output as `NAME=VALUE`, or the value of `name` alone.
    pub fn print_outputs(&self, name: Option<&str>) -> anyhow::Result<()> {
        let stack = self.stack.as_ref().ok_or_else(no_stack)?;
        match name {
            Some(name) => println!("{}", stack.output(name)?),
            None => {
                for (key, value) in &stack.outputs {
                    println!("{key}={value}");
                }
            }
        }
        Ok(())
    }

    /// The rotation timing: the CLI's environment first (as before), then the parameters the
    /// stack was deployed with, then the functions' defaults.
    pub fn timing(&self) -> anyhow::Result<RotationTiming> {
        timing(self.stack.as_ref())
    }
}

fn timing(stack: Option<&DeployedStack>) -> anyhow::Result<RotationTiming> {
    RotationTiming::from_env(&Env::from_fn(|name| {
        std::env::var(name)
            .ok()
            .or_else(|| stack.and_then(|s| s.timing_variable(name)))
    }))
}

/// The revocation feed's table: `TOKENGATE_FEED_TABLE`, else the stack's `FeedTableName`
/// output when the stack was read, else `<table>-feed`, as `tokengate bootstrap` names it.
fn feed_table(table: &Sourced, stack: Option<&DeployedStack>) -> Sourced {
    const VAR: &str = "TOKENGATE_FEED_TABLE";
    if let Ok(value) = std::env::var(VAR) {
        return Sourced::new(value, Source::Env(VAR));
    }
    if let Some(value) = stack.and_then(|s| s.output(stack::FEED_TABLE_OUTPUT).ok()) {
        return Sourced {
            value: value.to_owned(),
            source: Source::StackOutput(stack::FEED_TABLE_OUTPUT),
        };
    }
    Sourced {
        value: Tables::local(table.value.clone()).feed,
        source: Source::BesideTable,
    }
}
