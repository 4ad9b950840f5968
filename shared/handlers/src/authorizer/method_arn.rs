//! The method ARN of a REST API authorizer event, split the way IAM will match it.

use tokengate_domain::policy::METHODS;

use super::{unsupported, AuthorizerError};

/// `arn:PARTITION:execute-api:REGION:ACCOUNT:API_ID/STAGE/METHOD/PATH…`, each part borrowed
/// from the event's ARN (a decision allocates nothing for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct MethodArn<'a> {
    /// `arn:…:API_ID/STAGE`
    pub(super) base: &'a str,
    /// `arn:PARTITION:execute-api:`, the start of every method ARN of the partition.
    pub(super) service: &'a str,
    pub(super) method: &'a str,
    /// From the `/` before it; `/` when the ARN ends at the method.
    pub(super) path: &'a str,
}

impl<'a> MethodArn<'a> {
    pub(super) fn parse(arn: &'a str) -> Result<Self, AuthorizerError> {
        // API Gateway puts the raw request path into the ARN, colons included, so the ARN
        // splits at its first five colons only: splitting at the last one would let a path
        // like `/api/admin/x:a/b/c` choose the base every Deny is built on.
        let mut fields = arn.splitn(6, ':');
        let (Some(scheme), Some(partition), Some(service), Some(_region), Some(_account)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return Err(unsupported());
        };
        let Some(resource) = fields.next() else {
            return Err(unsupported());
        };
        if scheme != "arn" || service != "execute-api" || partition.is_empty() {
            return Err(unsupported());
        }
        // `resource` is the ARN's tail, and each part below a piece of it.
        let resource_at = arn.len() - resource.len();
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
        let path = match parts.next() {
            Some(rest) => &arn[arn.len() - rest.len() - 1..],
            None => "/",
        };
        Ok(Self {
            base: &arn[..resource_at + api.len() + 1 + stage.len()],
            service: &arn[..scheme.len() + partition.len() + service.len() + 3],
            method,
            path,
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
            let arn = format!("{base}/DELETE{path}");
            let a = MethodArn::parse(&arn).unwrap();
            assert_eq!((a.base, a.method), (base, "DELETE"));
            assert_eq!(a.path, path);
        }
    }
}
