//! The method ARN of a REST API authorizer event, split the way IAM will match it.

use tokengate_domain::policy::METHODS;

use super::{unsupported, AuthorizerError};

/// `arn:PARTITION:execute-api:REGION:ACCOUNT:API_ID/STAGE/METHOD/PATH…`
#[derive(Debug, PartialEq, Eq)]
pub(super) struct MethodArn {
    /// `arn:…:API_ID/STAGE`
    pub(super) base: String,
    /// `arn:PARTITION:execute-api:`, the start of every method ARN of the partition.
    pub(super) service: String,
    pub(super) method: String,
    pub(super) path: String,
}

impl MethodArn {
    pub(super) fn parse(arn: &str) -> Result<Self, AuthorizerError> {
        // API Gateway puts the raw request path into the ARN, colons included, so the ARN
        // splits at its first five colons only: splitting at the last one would let a path
        // like `/api/admin/x:a/b/c` choose the base every Deny is built on.
        let fields: Vec<&str> = arn.splitn(6, ':').collect();
        let [scheme, partition, service, region, account, resource] = fields[..] else {
            return Err(unsupported());
        };
        if scheme != "arn" || service != "execute-api" || partition.is_empty() {
            return Err(unsupported());
        }
        let prefix = format!("arn:{partition}:{service}:{region}:{account}");
        let mut parts = resource.splitn(4, '/');
        let api = parts
            .next()
            .filter(|s| !s.is_empty())
            .ok_or_else(unsupported)?;
        let stage = parts
            .next()
            .filter(|s| !s.is_empty())
            .ok_or_else(unsupported)?;
        // A method ARN only ever names one of API Gateway's methods; anything else is no
        // event of ours, and the policy's Denies spell out exactly those methods.
        let method = parts
            .next()
            .filter(|m| METHODS.contains(m))
            .ok_or_else(unsupported)?;
        let path = parts.next().unwrap_or("");
        Ok(Self {
            base: format!("{prefix}:{api}/{stage}"),
            service: format!("arn:{partition}:{service}:"),
            method: method.to_owned(),
            path: format!("/{path}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_method_arns() {
        let a = MethodArn::parse("arn:aws:execute-api:us-east-1:123456789012:abc123/v1/GET/api/me")
            .unwrap();
        assert_eq!(
            a.base,
            "arn:aws:execute-api:us-east-1:123456789012:abc123/v1"
        );
        assert_eq!(a.method, "GET");
        assert_eq!(a.path, "/api/me");
        assert!(MethodArn::parse("garbage").is_err());
        assert!(MethodArn::parse("arn:aws:lambda:us-east-1:1:abc/v1/GET/x").is_err());
        assert!(MethodArn::parse("arn:aws:execute-api:r:a:abc/v1").is_err());
    }

    #[test]
    fn colons_percent_signs_and_empty_segments_stay_in_the_path() {
        let base = "arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:abc123/v1";
        for path in [
            "/api/admin/x:a/b/c",
            "/a:b:c:d:e:f",
            "/api/%3A/*/?",
            "/api//admin/",
            "/",
        ] {
            let a = MethodArn::parse(&format!("{base}/DELETE{path}")).unwrap();
            assert_eq!((a.base.as_str(), a.method.as_str()), (base, "DELETE"));
            assert_eq!(a.path, path);
        }
    }
}
