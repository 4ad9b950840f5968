//! What the gateway reads from `template.yaml` as CloudFormation deploys it — the JSON
//! `scripts/sam_transform.py` writes (AWS::LanguageExtensions, then SAM's own transform, for the
//! parameter values given there): the REST API's OpenAPI body (paths with their
//! `x-amazon-apigateway-integration` and `security`, the `x-amazon-apigateway-authorizer`
//! security schemes, `x-amazon-apigateway-gateway-responses`) and its one stage. No SAM is
//! interpreted here: SAM's transform did that.

use std::collections::BTreeMap;

use anyhow::{bail, ensure, Context};
use serde_json::{Map, Value};

use crate::responses::GatewayResponses;
use crate::routes::{Route, RouteTable};

/// Where an identity source value is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySource {
    /// A request header (names compare case-insensitively).
    Header(String),
    /// A query string parameter.
    Query(String),
    /// A stage variable (the local API has none, so such a source is always missing).
    StageVariable(String),
    /// A `$context` variable, e.g. `httpMethod`, `path`.
    Context(String),
}

impl IdentitySource {
    /// Parses an HTTP API selection expression (`$request.header.Authorization`,
    /// `$request.querystring.q`, `$context.httpMethod`, `$stageVariables.v`).
    pub fn parse_http(expr: &str) -> anyhow::Result<Self> {
        Self::parse(
            expr,
            "$request.header.",
            "$request.querystring.",
            "$context.",
            "$stageVariables.",
        )
    }

    /// Parses a REST API identity source as the `x-amazon-apigateway-authorizer` object's
    /// `identitySource` spells it (`method.request.header.Authorization`,
    /// `method.request.querystring.q`, `context.httpMethod`, `stageVariables.v`).
    pub fn parse_rest(expr: &str) -> anyhow::Result<Self> {
        Self::parse(
            expr,
            "method.request.header.",
            "method.request.querystring.",
            "context.",
            "stageVariables.",
        )
    }

    fn parse(
        expr: &str,
        header: &str,
        query: &str,
        context: &str,
        stage: &str,
    ) -> anyhow::Result<Self> {
        let expr = expr.trim();
        let parsed = if let Some(h) = expr.strip_prefix(header) {
            Self::Header(h.to_owned())
        } else if let Some(q) = expr.strip_prefix(query) {
            Self::Query(q.to_owned())
        } else if let Some(c) = expr.strip_prefix(context) {
            Self::Context(c.to_owned())
        } else if let Some(v) = expr.strip_prefix(stage) {
            Self::StageVariable(v.to_owned())
        } else {
            bail!("identity source {expr:?} is not {header}X, {query}X, {context}X or {stage}X");
        };
        if let Self::Context(name) = &parsed {
            ensure!(
                crate::request::CONTEXT_VARIABLES.contains(&name.as_str()),
                "context variable {name:?} is not modelled by the local gateway (known: {})",
                crate::request::CONTEXT_VARIABLES.join(", ")
            );
        }
        Ok(parsed)
    }
}

/// How API Gateway calls the authorizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizerKind {
    /// REST TOKEN authorizer: the value of one header, cached per that value.
    Token {
        /// The header carrying the token.
        header: String,
    },
    /// REST REQUEST authorizer: the whole request, cached per the identity source values.
    Request {
        /// Identity sources; every one must be present or API Gateway answers 401 itself.
        identity: Vec<IdentitySource>,
    },
}

/// A Lambda authorizer of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerSpec {
    /// Binary name of the authorizer function.
    pub function: String,
    /// TOKEN or REQUEST.
    pub kind: AuthorizerKind,
    /// Seconds API Gateway caches a result (`authorizerResultTtlInSeconds`; 0: no caching).
    pub cache_ttl_secs: u64,
}

/// Everything the gateway needs from the deployed template.
#[derive(Debug, Clone)]
pub struct Api {
    /// The stage's `StageName` (`v1`).
    pub stage: String,
    /// Routes.
    pub routes: RouteTable,
    /// Authorizers by name (the security scheme's).
    pub authorizers: BTreeMap<String, AuthorizerSpec>,
    /// The gateway responses, with API Gateway's defaults behind them.
    pub responses: GatewayResponses,
}

/// OpenAPI's operation keys and the method each is (`x-amazon-apigateway-any-method`: ANY).
const METHODS: [(&str, &str); 8] = [
    ("get", "GET"),
    ("put", "PUT"),
    ("post", "POST"),
    ("delete", "DELETE"),
    ("options", "OPTIONS"),
    ("head", "HEAD"),
    ("patch", "PATCH"),
    ("x-amazon-apigateway-any-method", "ANY"),
];

impl Api {
    /// Reads the CloudFormation JSON of a template with one `AWS::ApiGateway::RestApi`.
    pub fn from_cloudformation(text: &str) -> anyhow::Result<Self> {
        let doc: Value = serde_json::from_str(text)
            .context("not JSON: the gateway reads the output of scripts/sam_transform.py")?;
        let resources = doc
            .get("Resources")
            .and_then(Value::as_object)
            .context("no Resources")?;
        let apis: Vec<(&String, &Value)> = resources
            .iter()
            .filter(|(_, r)| r["Type"] == "AWS::ApiGateway::RestApi")
            .collect();
        let [(api_id, api)] = apis[..] else {
            bail!(
                "exactly one AWS::ApiGateway::RestApi is served (found {})",
                apis.len()
            );
        };
        let body = api["Properties"]["Body"]
            .as_object()
            .with_context(|| format!("{api_id} has no OpenAPI Body"))?;
        let stage = stage(resources, api_id)?;

        let empty = Map::new();
        let schemes = body
            .get("components")
            .and_then(|c| c.get("securitySchemes"))
            .or_else(|| body.get("securityDefinitions"))
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut authorizers = BTreeMap::new();
        for (name, scheme) in schemes {
            if scheme.get("x-amazon-apigateway-authorizer").is_some() {
                let spec =
                    authorizer(scheme, resources).with_context(|| format!("authorizer {name}"))?;
                authorizers.insert(name.clone(), spec);
            }
        }

        let mut routes = Vec::new();
        let paths = body
            .get("paths")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for (path, item) in paths {
            for (key, method) in METHODS {
                let Some(op) = item.get(key) else { continue };
                let at = || format!("{method} {path}");
                let integration = &op["x-amazon-apigateway-integration"];
                // The local gateway invokes Lambda functions the way a proxy integration does.
                ensure!(
                    integration["type"]
                        .as_str()
                        .is_some_and(|t| t.eq_ignore_ascii_case("aws_proxy")),
                    "{}: integration type {} is not modelled (only Lambda proxy, aws_proxy)",
                    at(),
                    integration["type"]
                );
                let function = function_of(&integration["uri"], resources).with_context(at)?;
                // An operation without `security` falls back to the API's (OpenAPI).
                let security = op.get("security").or_else(|| body.get("security"));
                let authorizer = route_authorizer(security, &authorizers).with_context(at)?;
                routes.push(Route::new(method, path, &function, authorizer)?);
            }
        }
        let responses =
            GatewayResponses::from_openapi(body.get("x-amazon-apigateway-gateway-responses"))?;
        Ok(Self {
            stage,
            routes: RouteTable::new(routes),
            authorizers,
            responses,
        })
    }
}

/// The one stage of the API: its `AWS::ApiGateway::Stage`, or a deployment's `StageName` (how
/// SAM adds the extra stage `Stage` when `OpenApiVersion` is not set).
fn stage(resources: &Map<String, Value>, api_id: &str) -> anyhow::Result<String> {
    let mut stages = Vec::new();
    for r in resources.values() {
        let props = &r["Properties"];
        if props["RestApiId"]["Ref"] != api_id {
            continue;
        }
        let kind = r["Type"].as_str().unwrap_or_default();
        if kind == "AWS::ApiGateway::Stage" || kind == "AWS::ApiGateway::Deployment" {
            if let Some(name) = props.get("StageName") {
                stages.push(
                    name.as_str()
                        .context("a StageName that is not a literal")?
                        .to_owned(),
                );
            }
        }
    }
    match &stages[..] {
        [one] => Ok(one.clone()),
        _ => bail!("the local gateway serves one stage; {api_id} has {stages:?}"),
    }
}

/// The authorizer named by an operation's `security`, if any.
fn route_authorizer(
    security: Option<&Value>,
    authorizers: &BTreeMap<String, AuthorizerSpec>,
) -> anyhow::Result<Option<String>> {
    let names: Vec<&String> = security
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(Map::keys)
        .collect();
    match names[..] {
        [] => Ok(None),
        [name] if authorizers.contains_key(name) => Ok(Some(name.clone())),
        [name] => bail!("security {name} is not a Lambda authorizer of the API (the only kind modelled)"),
        _ => bail!("more than one security requirement ({names:?}); API Gateway takes one authorizer per method"),
    }
}

/// One `x-amazon-apigateway-authorizer` security scheme (Lambda TOKEN or REQUEST).
fn authorizer(scheme: &Value, resources: &Map<String, Value>) -> anyhow::Result<AuthorizerSpec> {
    let spec = &scheme["x-amazon-apigateway-authorizer"];
    let function = function_of(&spec["authorizerUri"], resources)?;
    // API Gateway's default when the TTL is not set ("AWS::ApiGateway::Authorizer",
    // AuthorizerResultTtlInSeconds: "If this field is not set, the default value is 300").
    let cache_ttl_secs = match spec.get("authorizerResultTtlInSeconds") {
        None => 300,
        Some(Value::Number(n)) => n.as_u64().context("authorizerResultTtlInSeconds")?,
        Some(v) => v
            .as_str()
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("authorizerResultTtlInSeconds {v} is not a number"))?,
    };
    // A regular expression API Gateway checks before invoking; not modelled, so refused rather
    // than silently skipped.
    ensure!(
        spec.get("identityValidationExpression").is_none(),
        "identityValidationExpression is not supported by the local gateway"
    );
    let sources = spec["identitySource"].as_str().unwrap_or_default();
    let kind = match spec["type"]
        .as_str()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("token") => {
            // The header: the identity source if given, else the scheme's `name` (`in: header`).
            let header = match sources {
                "" => scheme["name"]
                    .as_str()
                    .context("a TOKEN authorizer names no header")?
                    .to_owned(),
                s => match IdentitySource::parse_rest(s)? {
                    IdentitySource::Header(h) => h,
                    other => bail!("a TOKEN authorizer reads a header, not {other:?}"),
                },
            };
            AuthorizerKind::Token { header }
        }
        Some("request") => {
            let identity = sources
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(IdentitySource::parse_rest)
                .collect::<anyhow::Result<Vec<_>>>()?;
            // API Gateway refuses a cached REQUEST authorizer without identity sources.
            ensure!(
                !(identity.is_empty() && cache_ttl_secs > 0),
                "a REQUEST authorizer with caching needs identity sources"
            );
            AuthorizerKind::Request { identity }
        }
        other => bail!("authorizer type {other:?} is not modelled (token or request)"),
    };
    Ok(AuthorizerSpec {
        function,
        kind,
        cache_ttl_secs,
    })
}

/// The function a Lambda invocation URI names (`arn:aws:apigateway:…:lambda:path/2015-03-31/
/// functions/<function ARN>/invocations`): the template's `AWS::Lambda::Function` its `Fn::Sub`
/// refers to (`${X.Arn}`, or a variable bound to `Fn::GetAtt [X, Arn]`), as its binary; or a
/// literal ARN's function name.
fn function_of(uri: &Value, resources: &Map<String, Value>) -> anyhow::Result<String> {
    let target = |pattern: &str| -> Option<String> {
        let (_, rest) = pattern.split_once("/functions/")?;
        Some(rest.strip_suffix("/invocations")?.to_owned())
    };
    let (pattern, vars) = match uri.get("Fn::Sub") {
        Some(Value::String(p)) => (p.as_str(), None),
        Some(Value::Array(a)) if a.len() == 2 => {
            (a[0].as_str().unwrap_or_default(), a[1].as_object())
        }
        _ => {
            let arn = uri
                .as_str()
                .and_then(target)
                .with_context(|| format!("invocation URI {uri}"))?;
            // `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:ALIAS]`.
            let name = arn
                .split(':')
                .nth(6)
                .with_context(|| format!("function ARN {arn}"))?;
            return Ok(name.to_owned());
        }
    };
    let var = target(pattern)
        .and_then(|t| Some(t.strip_prefix("${")?.strip_suffix('}')?.to_owned()))
        .with_context(|| format!("invocation URI {pattern} names no function"))?;
    let logical = match var.strip_suffix(".Arn") {
        Some(id) => id.to_owned(),
        None => {
            let bound = vars
                .and_then(|v| v.get(&var))
                .with_context(|| format!("${{{var}}} is unbound"))?;
            match &bound["Fn::GetAtt"] {
                Value::Array(a) if a.get(1) == Some(&Value::from("Arn")) => a[0].as_str(),
                Value::String(s) => s.strip_suffix(".Arn"),
                _ => None,
            }
            .with_context(|| format!("${{{var}}} = {bound} is not a function's Arn"))?
            .to_owned()
        }
    };
    let resource = &resources
        .get(&logical)
        .with_context(|| format!("no resource {logical}"))?;
    ensure!(
        resource["Type"] == "AWS::Lambda::Function",
        "{logical} is not an AWS::Lambda::Function"
    );
    // `Metadata.BuildProperties.Binary` (what `sam build` and `cargo lambda` name it), else
    // the logical id without `Function`, lower-cased.
    Ok(resource["Metadata"]["BuildProperties"]["Binary"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| logical.trim_end_matches("Function").to_ascii_lowercase()))
}

#[cfg(test)]
#[path = "template_tests.rs"]
pub(crate) mod tests;
