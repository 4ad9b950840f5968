//! What `sam deploy --guided` left in `samconfig.toml`: the stack's name, its region and the
//! profile, so that `tokengate` run in the project directory after a deploy finds the stack
//! with no flag.
//!
//! SAM CLI saves the guided answers under `[default.deploy.parameters]` (`stack_name`, `region`,
//! and `profile` when one was used); `[default.global.parameters]` applies to every command
//! (AWS SAM Developer Guide, "AWS SAM CLI configuration file"). Only the `default` environment
//! is read (SAM's `--config-env` default), and only these string keys: a full TOML parser
//! would be a dependency for three values that SAM writes as plain `key = "value"` lines.

use std::path::Path;

/// The file `sam deploy --guided` writes in the project directory.
pub const FILE: &str = "samconfig.toml";

/// The values of `samconfig.toml` the CLI uses.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SamConfig {
    /// `stack_name`.
    pub stack_name: Option<String>,
    /// `region`.
    pub region: Option<String>,
    /// `profile`.
    pub profile: Option<String>,
}

impl SamConfig {
    /// `samconfig.toml` in `dir`, if there is one.
    pub fn read(dir: &Path) -> anyhow::Result<Option<Self>> {
        let path = dir.join(FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(Self::parse(&text))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(anyhow::Error::new(e).context(format!("cannot read {}", path.display()))),
        }
    }

    /// The `default` environment's deploy parameters, falling back to its global ones.
    pub fn parse(text: &str) -> Self {
        let (mut deploy, mut global) = (Self::default(), Self::default());
        let mut section = String::new();
        for line in text.lines().map(str::trim) {
            if let Some(header) = line.strip_prefix('[') {
                let header = header.split(']').next().unwrap_or_default();
                section = header
                    .split('.')
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join(".");
                continue;
            }
            let target = match section.as_str() {
                "default.deploy.parameters" => &mut deploy,
                "default.global.parameters" => &mut global,
                _ => continue,
            };
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let Some(value) = string_value(value.trim()) else {
                continue;
            };
            match key.trim() {
                "stack_name" => target.stack_name = Some(value),
                "region" => target.region = Some(value),
                "profile" => target.profile = Some(value),
                _ => {}
            }
        }
        Self {
            stack_name: deploy.stack_name.or(global.stack_name),
            region: deploy.region.or(global.region),
            profile: deploy.profile.or(global.profile),
        }
        .without_empty()
    }

    fn without_empty(self) -> Self {
        let keep = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
        Self {
            stack_name: keep(self.stack_name),
            region: keep(self.region),
            profile: keep(self.profile),
        }
    }
}

/// A TOML basic (`"…"`, with `\"` and `\\` escapes) or literal (`'…'`) string, then at most a
/// comment; anything else (numbers, booleans, arrays) is `None`.
fn string_value(raw: &str) -> Option<String> {
    if let Some(rest) = raw.strip_prefix('\'') {
        return rest.split_once('\'').map(|(v, _)| v.to_owned());
    }
    let rest = raw.strip_prefix('"')?;
    let mut value = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => match chars.next()? {
                '"' => value.push('"'),
                '\\' => value.push('\\'),
                // Other escapes (\n, \u…) never occur in a stack name, region or profile.
                _ => return None,
            },
            c => value.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As `sam deploy --guided` writes it.
    const GUIDED: &str = r#"# More information about the configuration file can be found here:
# https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-sam-cli-config.html
version = 0.1

[default.global.parameters]
stack_name = "from-global"

[default.deploy.parameters]
stack_name = "tokengate-prod"
resolve_s3 = true
s3_prefix = "tokengate-prod"
region = "eu-west-1"
confirm_changeset = true
capabilities = "CAPABILITY_IAM"
parameter_overrides = "Issuer=\"https://auth.example.com\" Audience=\"api\""
image_repositories = []

[prod.deploy.parameters]
stack_name = "other-env"
region = "us-west-2"
"#;

    #[test]
    fn the_guided_deploy_answers_name_the_stack_and_region() {
        assert_eq!(
            SamConfig::parse(GUIDED),
            SamConfig {
                stack_name: Some("tokengate-prod".into()),
                region: Some("eu-west-1".into()),
                profile: None,
            }
        );
    }

    #[test]
    fn global_parameters_fill_in_what_deploy_parameters_leave_out() {
        let text = "[default.global.parameters]\nregion = 'ap-south-1' # literal\n\
                    profile = \"ops\"\n[default.deploy.parameters]\nstack_name = \"s\"\n";
        assert_eq!(
            SamConfig::parse(text),
            SamConfig {
                stack_name: Some("s".into()),
                region: Some("ap-south-1".into()),
                profile: Some("ops".into()),
            }
        );
    }

    #[test]
    fn other_environments_empty_values_and_non_strings_are_ignored() {
        let text = "[prod.deploy.parameters]\nstack_name = \"p\"\n\
                    [default.deploy.parameters]\nregion = \"\"\nstack_name = 42\n";
        assert_eq!(SamConfig::parse(text), SamConfig::default());
    }
}
