//! The authorizer's answers, written straight to JSON bytes: the REST API policy, the HTTP API
//! simple response and the context passed to the protected function. Each is a `Serialize`
//! view borrowing from the claims, the method ARN and the rule sets' patterns, written with one
//! `serde_json` writer into one buffer: no `String` per Deny pattern, no `serde_json::Value`
//! tree, and nothing left for the Lambda runtime to do but copy the bytes (see
//! [`write`]). The field names and values are those of `aws_lambda_events`'
//! `ApiGatewayCustomAuthorizerResponse` and `ApiGatewayV2CustomAuthorizerSimpleResponse`, which
//! built the answers before (`answer_tests.rs` holds that builder and checks every shape
//! against it).

use std::fmt::{self, Display, Write as _};

use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;
use serde_json::value::RawValue;
use tokengate_claims::AccessClaims;

use super::method_arn::MethodArn;
use super::AuthorizerError;

/// Writes an answer as the bytes the Lambda runtime sends. lambda_runtime 1.5
/// (`requests.rs`, `EventCompletionRequest::into_req`) answers an invocation with
/// `serde_json::to_vec(&output)`; for a `RawValue` that copies its text as is, so what is
/// written here is exactly what API Gateway reads. `to_raw_value` is `serde_json::to_writer`
/// into one `Vec` taken as the `RawValue`'s text without parsing it again (serde_json 1.0,
/// `value::to_raw_value`).
pub(super) fn write(answer: &impl Serialize) -> Result<Box<RawValue>, AuthorizerError> {
    serde_json::value::to_raw_value(answer).map_err(|_| AuthorizerError::Unavailable)
}

/// The REST API answer (API Gateway, "Output from an API Gateway Lambda authorizer").
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RestAnswer<'a> {
    pub principal_id: &'a str,
    pub policy_document: PolicyDocument<'a>,
    pub context: Context<'a>,
    /// Always `null`, as `ApiGatewayCustomAuthorizerResponse` wrote it: the authorizer names
    /// no usage-plan API key.
    pub usage_identifier_key: Option<&'a str>,
}

/// The IAM policy of a REST answer.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PolicyDocument<'a> {
    pub version: &'static str,
    pub statement: Statements<'a>,
}

impl<'a> PolicyDocument<'a> {
    /// Allow the whole stage, Deny each of `denied` (no Deny statement when it is empty).
    pub fn whole_api(arn: MethodArn<'a>, denied: &'a [&'a str]) -> Self {
        let deny = (!denied.is_empty())
            .then(|| Statement::new(Effect::Deny, Resources::Denied(arn, denied)));
        Self::of(Statement::new(Effect::Allow, Resources::Stage(arn)), deny)
    }

    /// `effect` for this one method ARN.
    pub fn route(arn: MethodArn<'a>, effect: Effect) -> Self {
        Self::of(Statement::new(effect, Resources::Route(arn)), None)
    }

    fn of(first: Statement<'a>, deny: Option<Statement<'a>>) -> Self {
        Self {
            version: "2012-10-17",
            statement: Statements { first, deny },
        }
    }
}

/// One or two statements: the Allow (or the one route's answer), then the Deny if any.
pub(super) struct Statements<'a> {
    first: Statement<'a>,
    deny: Option<Statement<'a>>,
}

impl Serialize for Statements<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(1 + usize::from(self.deny.is_some())))?;
        seq.serialize_element(&self.first)?;
        if let Some(deny) = &self.deny {
            seq.serialize_element(deny)?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Statement<'a> {
    action: [&'static str; 1],
    effect: Effect,
    resource: Resources<'a>,
}

impl<'a> Statement<'a> {
    fn new(effect: Effect, resource: Resources<'a>) -> Self {
        Self {
            action: ["execute-api:Invoke"],
            effect,
            resource,
        }
    }
}

/// Written as `"Allow"` / `"Deny"`.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Effect {
    Allow,
    Deny,
}

/// A statement's resources, each written as one JSON string from its parts.
enum Resources<'a> {
    /// Every route of the stage: `BASE/*`.
    Stage(MethodArn<'a>),
    /// The one method ARN asked about: `BASE/METHOD/PATH`.
    Route(MethodArn<'a>),
    /// The whole-API Deny patterns. One that starts with `*` matches only paths wherever it is
    /// anchored (see `policy::canonical::iam_patterns`): the short anchor keeps a token's
    /// policy well under 8 KB. It is `…:execute-api:*:`, not `…:execute-api:`, because only a
    /// `*` that ends an ARN segment may match across `:` (IAM, "Policy elements: Resource"):
    /// the first `*` spans region, account and any `:` of the path, the pattern's own `*` the
    /// rest of the path after the last `:` before the defect. The others hang off `BASE/`.
    Denied(MethodArn<'a>, &'a [&'a str]),
}

impl Serialize for Resources<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Resources::Stage(arn) => s.collect_seq([Concat([arn.base, "/*"])]),
            Resources::Route(arn) => s.collect_seq([Concat([arn.base, "/", arn.method, arn.path])]),
            Resources::Denied(arn, denied) => {
                // Each pattern is put together in one reused buffer and written with
                // `serialize_str`: through `collect_str`'s formatting machinery a reader's
                // answer (35 patterns) took 1.9 µs instead of 1.6 (measured once, release).
                let mut seq = s.serialize_seq(Some(denied.len()))?;
                let mut resource = String::with_capacity(arn.base.len() + 64);
                for d in denied {
                    resource.clear();
                    let [anchor, sep] = match d.starts_with('*') {
                        true => [arn.service, "*:"],
                        false => [arn.base, "/"],
                    };
                    resource.extend([anchor, sep, d]);
                    seq.serialize_element(resource.as_str())?;
                }
                seq.end()
            }
        }
    }
}

/// Strings written one after the other as one JSON string (serde_json's `collect_str` escapes
/// what `Display` writes straight into the output: no `String` is built).
struct Concat<'a, const N: usize>([&'a str; N]);

impl<const N: usize> Display for Concat<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|part| f.write_str(part))
    }
}

impl<const N: usize> Serialize for Concat<'_, N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Context passed to the protected function (values must be strings, numbers or booleans).
#[derive(Serialize)]
pub(super) struct Context<'a> {
    sub: &'a str,
    roles: Roles<'a>,
    sid: &'a str,
    jti: &'a str,
    scope: &'a str,
    client_id: &'a str,
}

impl<'a> Context<'a> {
    pub fn of(claims: &'a AccessClaims) -> Self {
        Self {
            sub: &claims.sub,
            roles: Roles(&claims.roles),
            sid: claims.sid.as_deref().unwrap_or_default(),
            jti: &claims.jti,
            scope: claims.scope.as_deref().unwrap_or_default(),
            client_id: claims.client_id.as_deref().unwrap_or_default(),
        }
    }
}

/// The token's roles as one comma-separated string.
struct Roles<'a>(&'a [String]);

impl Display for Roles<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, role) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_char(',')?;
            }
            f.write_str(role)?;
        }
        Ok(())
    }
}

impl Serialize for Roles<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The HTTP API simple response: the context when allowed, `{}` otherwise.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SimpleAnswer<'a> {
    is_authorized: bool,
    context: SimpleContext<'a>,
}

impl<'a> SimpleAnswer<'a> {
    pub fn allowed(claims: &'a AccessClaims) -> Self {
        Self {
            is_authorized: true,
            context: SimpleContext::Claims(Context::of(claims)),
        }
    }

    pub fn refused() -> Self {
        Self {
            is_authorized: false,
            context: SimpleContext::Empty {},
        }
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum SimpleContext<'a> {
    Claims(Context<'a>),
    /// Written as `{}`.
    Empty {},
}
