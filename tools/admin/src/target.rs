//! Which stack, region and table a command works on, and where each came from.
//!
//! Precedence, for each: a flag, then an environment variable, then `samconfig.toml` in the
//! current directory (what `sam deploy --guided` saved), then the AWS SDK's own default chain
//! (`~/.aws/config` for the region). The table: `--table` / `TOKENGATE_TABLE` (the emulator,
//! scripts), else the stack's `TableName` output. The answer goes to stderr, so that nobody
//! changes a production table thinking it is a test one.

use std::fmt;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::samconfig::{self, SamConfig};

/// Where a setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag.
    Flag(&'static str),
    /// An environment variable.
    Env(&'static str),
    /// `samconfig.toml` in the current directory.
    SamConfig,
    /// The AWS SDK's default chain (the profile in `~/.aws/config`).
    SdkDefault,
    /// An output of the stack.
    StackOutput(&'static str),
    /// The local emulator's default.
    LocalDefault,
    /// Named after the main table (`<table>-feed`), as `tokengate bootstrap` names it.
    BesideTable,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(name) | Source::Env(name) => f.write_str(name),
            Source::SamConfig => f.write_str(samconfig::FILE),
            Source::SdkDefault => f.write_str("AWS SDK default: profile / ~/.aws/config"),
            Source::StackOutput(name) => write!(f, "stack output {name}"),
            Source::LocalDefault => f.write_str("the local emulator's default"),
            Source::BesideTable => f.write_str("named after the table"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced {
    /// The value.
    pub value: String,
    /// Where it came from.
    pub source: Source,
}

impl Sourced {
    pub(crate) fn new(value: impl Into<String>, source: Source) -> Self {
        Self {
            value: value.into(),
            source,
        }
    }
}

/// What the command line says.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    /// `--stack`.
    pub stack: Option<String>,
    /// `--table`.
    pub table: Option<String>,
    /// `--region`.
    pub region: Option<String>,
}

/// The choices made before anything is asked of AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The stack, if named anywhere.
    pub stack: Option<Sourced>,
    /// The table, if given explicitly (then no stack output is needed for it).
    pub table: Option<Sourced>,
    /// A region the SDK is told to use; `None` leaves it to the SDK (environment, profile).
    pub region: Option<Sourced>,
    /// A profile the SDK is told to use; `None` leaves it to the SDK (`AWS_PROFILE`).
    pub profile: Option<Sourced>,
    /// Where the SDK's own region comes from when `region` is `None`.
    pub sdk_region_source: Source,
}

/// Applies the precedence: flag > environment > `samconfig.toml` > SDK default.
pub fn choose(
    flags: &Flags,
    env: impl Fn(&str) -> Option<String>,
    sam: Option<&SamConfig>,
) -> Choice {
    let env = |name: &'static str| env(name).filter(|v| !v.trim().is_empty());
    let sam = sam.cloned().unwrap_or_default();
    let stack = flags
        .stack
        .clone()
        .map(|v| Sourced::new(v, Source::Flag("--stack")))
        .or_else(|| env("TOKENGATE_STACK").map(|v| Sourced::new(v, Source::Env("TOKENGATE_STACK"))))
        .or_else(|| sam.stack_name.map(|v| Sourced::new(v, Source::SamConfig)));
    let table = flags
        .table
        .clone()
        .map(|v| Sourced::new(v, Source::Flag("--table")))
        .or_else(|| {
            env("TOKENGATE_TABLE").map(|v| Sourced::new(v, Source::Env("TOKENGATE_TABLE")))
        });
    // The SDK reads AWS_REGION, then AWS_DEFAULT_REGION, itself; only when neither is set does
    // samconfig.toml's region come before the profile's.
    let env_region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .into_iter()
        .find(|name| env(name).is_some());
    let region = match (&flags.region, env_region) {
        (Some(r), _) => Some(Sourced::new(r.clone(), Source::Flag("--region"))),
        (None, Some(_)) => None,
        (None, None) => sam.region.map(|v| Sourced::new(v, Source::SamConfig)),
    };
    let profile = match env("AWS_PROFILE") {
        Some(_) => None,
        None => sam.profile.map(|v| Sourced::new(v, Source::SamConfig)),
    };
    Choice {
        stack,
        table,
        region,
        profile,
        sdk_region_source: env_region.map_or(Source::SdkDefault, Source::Env),
    }
}

impl Choice {
    /// Where the region the SDK ended up with came from.
    pub fn region_source(&self) -> Source {
        self.region
            .as_ref()
            .map_or(self.sdk_region_source, |r| r.source)
    }
}

/// The SDK configuration for `choice`: its region and profile if it names them, otherwise the
/// SDK's default chain. `AWS_ENDPOINT_URL` (the emulator) is honoured as the SDK honours it.
///
/// Timeouts suit a person at a terminal, not a Lambda behind API Gateway: a slow network gets
/// 30 s per call; the standard retry mode retries throttling.
pub async fn sdk_config(choice: &Choice) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(3));
    if let Some(region) = &choice.region {
        loader = loader.region(Region::new(region.value.clone()));
    }
    if let Some(profile) = &choice.profile {
        loader = loader.profile_name(profile.value.clone());
    }
    loader.load().await
}

/// The error when no region is configured anywhere.
pub fn no_region() -> anyhow::Error {
    anyhow::anyhow!(
        "no AWS region: pass --region, set AWS_REGION, run in the directory of the \
         samconfig.toml that `sam deploy --guided` wrote (its `region`), or set `region` for \
         your profile in ~/.aws/config"
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn sam() -> SamConfig {
        SamConfig {
            stack_name: Some("from-sam".into()),
            region: Some("eu-west-1".into()),
            profile: Some("sam-profile".into()),
        }
    }

    fn choose_with(flags: &Flags, vars: &[(&str, &str)], sam: Option<&SamConfig>) -> Choice {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        choose(flags, |name| vars.get(name).cloned(), sam)
    }

    #[test]
    fn a_flag_beats_the_environment_which_beats_samconfig() {
        let flags = Flags {
            stack: Some("from-flag".into()),
            table: None,
            region: Some("us-west-2".into()),
        };
        let vars = [
            ("TOKENGATE_STACK", "from-env"),
            ("AWS_REGION", "ap-south-1"),
        ];
        let c = choose_with(&flags, &vars, Some(&sam()));
        assert_eq!(
            c.stack,
            Some(Sourced::new("from-flag", Source::Flag("--stack")))
        );
        assert_eq!(
            c.region,
            Some(Sourced::new("us-west-2", Source::Flag("--region")))
        );

        let c = choose_with(&Flags::default(), &vars, Some(&sam()));
        assert_eq!(
            c.stack,
            Some(Sourced::new("from-env", Source::Env("TOKENGATE_STACK")))
        );
        // The SDK reads AWS_REGION itself: nothing overrides it.
        assert_eq!(c.region, None);
        assert_eq!(c.region_source(), Source::Env("AWS_REGION"));
    }

    #[test]
    fn samconfig_names_stack_region_and_profile_when_nothing_else_does() {
        let c = choose_with(&Flags::default(), &[], Some(&sam()));
        assert_eq!(c.stack, Some(Sourced::new("from-sam", Source::SamConfig)));
        assert_eq!(c.region, Some(Sourced::new("eu-west-1", Source::SamConfig)));
        assert_eq!(
            c.profile,
            Some(Sourced::new("sam-profile", Source::SamConfig))
        );
        assert_eq!(c.table, None);
    }

    #[test]
    fn aws_default_region_and_aws_profile_keep_samconfig_out() {
        let vars = [("AWS_DEFAULT_REGION", "sa-east-1"), ("AWS_PROFILE", "mine")];
        let c = choose_with(&Flags::default(), &vars, Some(&sam()));
        assert_eq!(c.region, None);
        assert_eq!(c.profile, None);
        assert_eq!(c.region_source(), Source::Env("AWS_DEFAULT_REGION"));
    }

    #[test]
    fn without_samconfig_the_region_is_the_sdks_default() {
        let c = choose_with(&Flags::default(), &[("TOKENGATE_TABLE", "t")], None);
        assert_eq!(c.stack, None);
        assert_eq!(c.region_source(), Source::SdkDefault);
        assert_eq!(
            c.table,
            Some(Sourced::new("t", Source::Env("TOKENGATE_TABLE")))
        );
    }

    #[test]
    fn empty_variables_count_as_unset() {
        let vars = [("TOKENGATE_STACK", ""), ("AWS_REGION", " ")];
        let c = choose_with(&Flags::default(), &vars, Some(&sam()));
        assert_eq!(c.stack, Some(Sourced::new("from-sam", Source::SamConfig)));
        assert_eq!(c.region, Some(Sourced::new("eu-west-1", Source::SamConfig)));
    }
}
