//! The deployed stack as CloudFormation describes it (`DescribeStacks`): its outputs (the
//! table, the signing key, the API URL) and the parameters it was deployed with (the timing a
//! key rotation must respect), so that nothing is copied from the console by hand.

use std::collections::BTreeMap;

use aws_sdk_cloudformation::error::ProvideErrorMetadata;

/// The output naming the table (template.yaml, Outputs).
pub const TABLE_OUTPUT: &str = "TableName";
/// The output naming the revocation feed's table (template.yaml, Outputs).
pub const FEED_TABLE_OUTPUT: &str = "FeedTableName";
/// The output naming the template's signing key, the one `keys adopt` registers.
pub const SIGNING_KEY_OUTPUT: &str = "SigningKeyArn";

/// Template parameters that set a rotation-timing variable of the functions
/// (template.yaml's `Globals` and authorizer settings), for `keys create` and `keys promote`.
const TIMING_PARAMETERS: [(&str, &str); 2] = [
    ("TOKENGATE_ACCESS_TTL_SECONDS", "AccessTokenTtlSeconds"),
    (
        "TOKENGATE_AUTHORIZER_CACHE_TTL",
        "AuthorizerCacheTtlSeconds",
    ),
];

/// One stack's status, outputs and parameters.
#[derive(Debug, Clone)]
pub struct DeployedStack {
    /// The stack's name.
    pub name: String,
    /// `CREATE_COMPLETE`, `UPDATE_IN_PROGRESS`, …
    pub status: String,
    /// Output key → value.
    pub outputs: BTreeMap<String, String>,
    /// Parameter key → value (`****` for `NoEcho` ones).
    pub parameters: BTreeMap<String, String>,
}

impl DeployedStack {
    /// Describes `name`; a stack that does not exist is an error that says what to check.
    pub async fn describe(
        cfn: &aws_sdk_cloudformation::Client,
        name: &str,
        region: &str,
    ) -> anyhow::Result<Self> {
        let out = match cfn.describe_stacks().stack_name(name).send().await {
            Ok(out) => out,
            // CloudFormation answers a missing stack with a ValidationError "Stack with id
            // NAME does not exist" (DescribeStacks, AWS CloudFormation API Reference).
            Err(e)
                if e.code() == Some("ValidationError")
                    && e.message().is_some_and(|m| m.contains("does not exist")) =>
            {
                anyhow::bail!(
                    "no stack named {name} in region {region} for these credentials' account: \
                     check the name (--stack, TOKENGATE_STACK or stack_name in samconfig.toml) \
                     and the region (--region, AWS_REGION or region in samconfig.toml), or \
                     deploy it first (docs/deploy.md)"
                )
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "failed to describe stack {name} in region {region} (are AWS credentials \
                     configured? `aws configure` or AWS_PROFILE)"
                )))
            }
        };
        let stack = out
            .stacks
            .unwrap_or_default()
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("CloudFormation described no stack {name}"))?;
        Ok(Self {
            name: stack.stack_name.unwrap_or_else(|| name.to_owned()),
            status: stack
                .stack_status
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            outputs: stack
                .outputs
                .unwrap_or_default()
                .into_iter()
                .filter_map(|o| Some((o.output_key?, o.output_value?)))
                .collect(),
            parameters: stack
                .parameters
                .unwrap_or_default()
                .into_iter()
                .filter_map(|p| Some((p.parameter_key?, p.parameter_value?)))
                .collect(),
        })
    }

    /// The value of output `key`, or an error naming the stack's status and what to do.
    pub fn output(&self, key: &str) -> anyhow::Result<&str> {
        if let Some(value) = self.outputs.get(key) {
            return Ok(value);
        }
        let hint = if self.status.ends_with("_IN_PROGRESS") {
            "wait until it is CREATE_COMPLETE or UPDATE_COMPLETE"
        } else if self.status.contains("ROLLBACK") || self.status.ends_with("_FAILED") {
            "its last deploy failed: see its events (`sam deploy` prints them), fix, deploy again"
        } else {
            "is it a tokengate stack? Deploy this project's template.yaml to it (sam deploy)"
        };
        anyhow::bail!(
            "stack {} ({}) has no output {key}: {hint}",
            self.name,
            if self.status.is_empty() {
                "status unknown"
            } else {
                &self.status
            }
        )
    }

    /// The rotation-timing variable `name` as the stack sets it for its functions, if a
    /// template parameter sets it.
    pub fn timing_variable(&self, name: &str) -> Option<String> {
        let (_, parameter) = TIMING_PARAMETERS.iter().find(|(var, _)| *var == name)?;
        self.parameters.get(*parameter).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(status: &str, outputs: &[(&str, &str)]) -> DeployedStack {
        DeployedStack {
            name: "s".into(),
            status: status.into(),
            outputs: outputs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            parameters: [("AccessTokenTtlSeconds", "600"), ("Issuer", "x")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn a_missing_output_names_the_stack_status_and_what_to_do() {
        let s = stack("CREATE_IN_PROGRESS", &[]);
        let err = s.output(TABLE_OUTPUT).unwrap_err().to_string();
        assert!(err.contains("stack s (CREATE_IN_PROGRESS) has no output TableName"));
        assert!(err.contains("wait until it is CREATE_COMPLETE"));
        let err = stack("ROLLBACK_COMPLETE", &[])
            .output(TABLE_OUTPUT)
            .unwrap_err();
        assert!(err.to_string().contains("its last deploy failed"));
        let err = stack("CREATE_COMPLETE", &[])
            .output(TABLE_OUTPUT)
            .unwrap_err();
        assert!(err.to_string().contains("is it a tokengate stack?"));
        let s = stack("CREATE_COMPLETE", &[(TABLE_OUTPUT, "t")]);
        assert_eq!(s.output(TABLE_OUTPUT).unwrap(), "t");
    }

    #[test]
    fn timing_variables_come_from_the_parameters_that_set_them() {
        let s = stack("CREATE_COMPLETE", &[]);
        assert_eq!(
            s.timing_variable("TOKENGATE_ACCESS_TTL_SECONDS").as_deref(),
            Some("600")
        );
        // Not a parameter of this stack (the template's default applies: the CLI's too).
        assert_eq!(s.timing_variable("TOKENGATE_AUTHORIZER_CACHE_TTL"), None);
        assert_eq!(s.timing_variable("TOKENGATE_ISSUER"), None);
    }
}
