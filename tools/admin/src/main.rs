//! `tokengate`: day-to-day operation without the AWS console. Finds the deployed stack's table
//! and keys from its CloudFormation outputs (docs/deploy.md); honours `AWS_ENDPOINT_URL` and
//! `AWS_ENDPOINT_URL_DYNAMODB` (the local emulator).

mod context;
mod keys;
mod samconfig;
mod stack;
mod target;
mod users;

use clap::{Parser, Subcommand, ValueEnum};
use tokengate_claims::Algorithm;

#[derive(Parser)]
#[command(name = "tokengate", about = "tokengate admin: users, sessions, keys")]
struct Cli {
    /// The deployed stack (else TOKENGATE_STACK, else `stack_name` in ./samconfig.toml): its
    /// outputs name the table and the signing key, and `keys create` tags new keys
    /// `tokengate:stack=<stack>` (IAM lets a stack's functions sign only with its own keys).
    #[arg(long, global = true)]
    stack: Option<String>,
    /// The DynamoDB table, instead of the stack's `TableName` output (else TOKENGATE_TABLE;
    /// for the emulator and scripts). With a table given, nothing is read from CloudFormation
    /// unless a command needs another output.
    #[arg(long, global = true)]
    table: Option<String>,
    /// The AWS region (else AWS_REGION / AWS_DEFAULT_REGION, else `region` in
    /// ./samconfig.toml, else the profile's region in ~/.aws/config).
    #[arg(long, global = true)]
    region: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the table, the KMS keys and the keyring if missing (for the emulator; in AWS the
    /// template makes table and keys, and `keys adopt` registers its signing key).
    Bootstrap {
        /// Algorithm of a newly created signing key.
        #[arg(long, value_enum, default_value = "es256")]
        signing_alg: Alg,
        /// Also write the resulting TOKENGATE_* settings to this file.
        #[arg(long)]
        env_file: Option<std::path::PathBuf>,
    },
    /// Create the demo users `alice` (no role) and `admin` (role admin); prints their passwords.
    /// Refused unless the DynamoDB endpoint (AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL)
    /// is a local emulator: the passwords are public.
    SeedDemo {
        /// Seed a table that is not on a local emulator anyway.
        #[arg(long = "i-know-this-is-not-production")]
        not_production: bool,
    },
    /// Users.
    #[command(subcommand)]
    User(UserCommand),
    /// The signing keyring.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The stack's CloudFormation outputs as NAME=VALUE lines, or one output's value
    /// (e.g. `tokengate outputs ApiUrl`).
    Outputs { name: Option<String> },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user. The password is read from TOKENGATE_NEW_PASSWORD or stdin, never argv.
    Add {
        name: String,
        #[arg(long = "role")]
        roles: Vec<String>,
    },
    /// Replace a user's roles (ends their sessions: tokens carry roles).
    Roles { name: String, roles: Vec<String> },
    /// Disable a user and end every session.
    Disable { name: String },
    /// Enable a disabled user.
    Enable { name: String },
    /// End every session and access token of a user.
    RevokeSessions { name: String },
    /// Reset a user's password (read from TOKENGATE_NEW_PASSWORD or stdin, never argv) and end
    /// every session and access token of theirs.
    Password { name: String },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// List the keyring: kid, algorithm, state, retiring time, when added, key ARN.
    List,
    /// Create a KMS signing key tagged with the stack and add it as `next` (published and
    /// trusted, not signing yet).
    Create {
        #[arg(long, value_enum, default_value = "es256")]
        alg: Alg,
    },
    /// Make a key current; the old current key stays trusted (`retiring`) for one keyring
    /// re-read + the access-token lifetime + the leeway + the authorizer cache TTL
    /// (TOKENGATE_KEYRING_REFRESH_SECONDS, TOKENGATE_ACCESS_TTL_SECONDS,
    /// TOKENGATE_LEEWAY_SECONDS, TOKENGATE_AUTHORIZER_CACHE_TTL; defaults 60, 900, 30, 60).
    Promote {
        kid: String,
        /// Promote even if the key was added less than one keyring re-read ago (verifiers that
        /// have not read it yet refuse its tokens until they do).
        #[arg(long)]
        force: bool,
    },
    /// Retire a next or retiring key: its tokens are refused within one keyring re-read.
    Retire { kid: String },
    /// Register an existing KMS key as the current key of an empty keyring: by default the
    /// stack's own signing key (its `SigningKeyArn` output), after the first deploy.
    Adopt { key: Option<String> },
}

#[derive(Clone, Copy, ValueEnum)]
enum Alg {
    Es256,
    Rs256,
}

impl From<Alg> for Algorithm {
    fn from(a: Alg) -> Self {
        match a {
            Alg::Es256 => Algorithm::ES256,
            Alg::Rs256 => Algorithm::RS256,
        }
    }
}

/// The stack name `bootstrap` tags its signing key with when none is given (the emulator).
const LOCAL_STACK: &str = "tokengate-local";

#[tokio::main]
async fn main() {
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let flags = target::Flags {
        stack: cli.stack,
        table: cli.table,
        region: cli.region,
    };
    let needs = match &cli.command {
        // The emulator's own setup: never a deployed stack, never samconfig.toml.
        Command::Bootstrap { .. } => context::Needs::Bootstrap,
        Command::Outputs { .. } | Command::Keys(KeysCommand::Adopt { key: None }) => {
            context::Needs::Stack
        }
        _ => context::Needs::Table,
    };
    let cx = context::Context::open(&flags, needs).await?;
    let keys = keys::Keys {
        store: &cx.store,
        kms: &cx.kms,
    };
    match cli.command {
        Command::Bootstrap {
            signing_alg,
            env_file,
        } => {
            let stack = cx.stack_name().unwrap_or(LOCAL_STACK);
            keys.bootstrap(&cx.ddb, signing_alg.into(), stack, env_file)
                .await
        }
        Command::SeedDemo { not_production } => {
            // Where the client built above talks to, as the SDK resolved it: the DynamoDB
            // setting before the global one, none at all with the ignore flag.
            let endpoint = tokengate_aws::config::dynamodb_endpoint_url(&cx.sdk);
            anyhow::ensure!(
                not_production || users::is_local_endpoint(endpoint.as_deref()),
                "seed-demo creates users with published passwords: it only runs against a local \
                 emulator (the DynamoDB endpoint — AWS_ENDPOINT_URL_DYNAMODB, else \
                 AWS_ENDPOINT_URL, neither with AWS_IGNORE_CONFIGURED_ENDPOINT_URLS — on \
                 localhost, 127.0.0.0/8 or [::1]; now {}); pass --i-know-this-is-not-production \
                 to seed this table anyway",
                endpoint.as_deref().unwrap_or("none: real AWS")
            );
            users::seed_demo(&cx.store).await
        }
        Command::User(UserCommand::Add { name, roles }) => {
            let password = users::read_new_password()?;
            users::add(&cx.store, &name, &password, roles).await
        }
        Command::User(UserCommand::Roles { name, roles }) => {
            users::set_roles(&cx.store, &name, roles).await
        }
        Command::User(UserCommand::Disable { name }) => {
            users::set_enabled(&cx.store, &name, false).await
        }
        Command::User(UserCommand::Enable { name }) => {
            users::set_enabled(&cx.store, &name, true).await
        }
        Command::User(UserCommand::RevokeSessions { name }) => {
            users::revoke_sessions(&cx.store, &name).await
        }
        Command::User(UserCommand::Password { name }) => {
            let password = users::read_new_password()?;
            users::set_password(&cx.store, &name, &password).await
        }
        Command::Keys(KeysCommand::List) => keys.list().await,
        Command::Keys(KeysCommand::Create { alg }) => {
            keys.create(alg.into(), cx.stack_name(), cx.timing()?).await
        }
        Command::Keys(KeysCommand::Promote { kid, force }) => {
            keys.promote(&kid, force, cx.timing()?).await
        }
        Command::Keys(KeysCommand::Retire { kid }) => keys.retire(&kid).await,
        Command::Keys(KeysCommand::Adopt { key }) => {
            let key = match key {
                Some(key) => key,
                None => cx.output(stack::SIGNING_KEY_OUTPUT)?.to_owned(),
            };
            keys.adopt(&key).await
        }
        Command::Outputs { name } => cx.print_outputs(name.as_deref()),
    }
}
