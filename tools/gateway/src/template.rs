//! What the gateway reads from `template.yaml`, so the local API is the deployed one: the stage
//! name, every `Api` event of every function (path, method, which authorizer guards it), the
//! Lambda authorizers with their identity sources and cache TTL, and the gateway responses.

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use serde_yaml::Value;

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
        let expr = expr.trim();
        let parsed = if let Some(h) = expr.strip_prefix("$request.header.") {
            Self::Header(h.to_owned())
        } else if let Some(q) = expr.strip_prefix("$request.querystring.") {
            Self::Query(q.to_owned())
        } else if let Some(c) = expr.strip_prefix("$context.") {
            Self::Context(c.to_owned())
        } else if let Some(v) = expr.strip_prefix("$stageVariables.") {
            Self::StageVariable(v.to_owned())
        } else {
            bail!("identity source {expr:?} is not $request.header.X, $request.querystring.X, $context.X or $stageVariables.X");
        };
        parsed.check()
    }

    fn check(self) -> anyhow::Result<Self> {
        if let Self::Context(name) = &self {
            anyhow::ensure!(
                crate::request::CONTEXT_VARIABLES.contains(&name.as_str()),
                "context variable {name:?} is not modelled by the local gateway (known: {})",
                crate::request::CONTEXT_VARIABLES.join(", ")
            );
        }
        Ok(self)
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
    /// Seconds API Gateway caches a result (`ReauthorizeEvery`; 0 turns caching off).
    pub cache_ttl_secs: u64,
}

/// Everything the gateway needs from the template.
#[derive(Debug, Clone)]
pub struct Api {
    /// `StageName` of the API (`v1`).
    pub stage: String,
    /// Routes.
    pub routes: RouteTable,
    /// Authorizers by name.
    pub authorizers: BTreeMap<String, AuthorizerSpec>,
    /// `GatewayResponses`, with API Gateway's defaults behind them.
    pub responses: GatewayResponses,
}

impl Api {
    /// Reads a SAM template with one `AWS::Serverless::Api`, parameters at their defaults.
    #[cfg(test)]
    pub fn from_template(text: &str) -> anyhow::Result<Self> {
        Self::deployed_with(text, "")
    }

    /// Reads a SAM template with one `AWS::Serverless::Api` as deployed with the parameter
    /// overrides `overrides` (`Name=Value …`, as `sam deploy --parameter-overrides`).
    pub fn deployed_with(text: &str, overrides: &str) -> anyhow::Result<Self> {
        let doc: Value = serde_yaml::from_str(text).context("template.yaml is not valid YAML")?;
        let resources = doc
            .get("Resources")
            .and_then(Value::as_mapping)
            .context("template.yaml has no Resources")?;
        let params = &Parameters::new(doc.get("Parameters"), overrides)?;

        let apis: Vec<(&str, &Value)> = resources
            .iter()
            .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some("AWS::Serverless::Api"))
            .map(|(id, r)| (id.as_str().unwrap_or_default(), r))
            .collect();
        let [(api_id, api)] = apis[..] else {
            bail!(
                "template.yaml must have exactly one AWS::Serverless::Api (it has {})",
                apis.len()
            );
        };
        let props = api.get("Properties");
        let stage = props
            .and_then(|p| p.get("StageName"))
            .and_then(Value::as_str)
            .context("the API has no literal StageName")?
            .to_owned();
        let auth = props.and_then(|p| p.get("Auth"));
        let default_authorizer = auth
            .and_then(|a| a.get("DefaultAuthorizer"))
            .and_then(Value::as_str)
            .filter(|d| *d != "NONE")
            .map(str::to_owned);
        let mut authorizers = BTreeMap::new();
        let specs = auth
            .and_then(|a| a.get("Authorizers"))
            .and_then(Value::as_mapping);
        for (name, spec) in specs.into_iter().flatten() {
            let name = name.as_str().unwrap_or_default().to_owned();
            // The template switches its authorizer with `!If` (parameter AuthorizerCache).
            let spec = crate::conditions::choose(spec, doc.get("Conditions"), params)
                .with_context(|| format!("authorizer {name}"))?;
            let spec = authorizer(&name, spec, resources, params)?;
            authorizers.insert(name, spec);
        }
        let responses =
            GatewayResponses::from_template(props.and_then(|p| p.get("GatewayResponses")), params)?;

        let mut routes = Vec::new();
        for (id, res) in resources {
            if res.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
                continue;
            }
            let function = binary_name(id.as_str().unwrap_or_default(), Some(res));
            let events = res
                .get("Properties")
                .and_then(|p| p.get("Events"))
                .and_then(Value::as_mapping);
            for (_, ev) in events.into_iter().flatten() {
                if ev.get("Type").and_then(Value::as_str) != Some("Api") {
                    continue;
                }
                let p = ev
                    .get("Properties")
                    .context("Api event without Properties")?;
                if let Some(rest_api) = p.get("RestApiId") {
                    let target = referenced_resource(rest_api);
                    anyhow::ensure!(
                        target.as_deref() == Some(api_id),
                        "an Api event of {function} names another API than {api_id}"
                    );
                }
                let path = p
                    .get("Path")
                    .and_then(Value::as_str)
                    .context("Api event without Path")?;
                let method = p
                    .get("Method")
                    .and_then(Value::as_str)
                    .context("Api event without Method")?;
                let explicit = p
                    .get("Auth")
                    .and_then(|a| a.get("Authorizer"))
                    .and_then(Value::as_str);
                let authorizer = match explicit {
                    Some("NONE") => None,
                    Some(name) => Some(name.to_owned()),
                    None => default_authorizer.clone(),
                };
                if let Some(name) = &authorizer {
                    anyhow::ensure!(
                        authorizers.contains_key(name),
                        "route {method} {path} names authorizer {name}, which the API does not define"
                    );
                }
                routes.push(Route::new(method, path, &function, authorizer)?);
            }
        }
        Ok(Self {
            stage,
            routes: RouteTable::new(routes),
            authorizers,
            responses,
        })
    }
}

/// One entry of `Auth.Authorizers` (SAM's Lambda TOKEN or REQUEST authorizer).
fn authorizer(
    name: &str,
    spec: &Value,
    resources: &serde_yaml::Mapping,
    params: &Parameters,
) -> anyhow::Result<AuthorizerSpec> {
    let arn = spec
        .get("FunctionArn")
        .with_context(|| format!("authorizer {name} has no FunctionArn"))?;
    let logical = referenced_resource(arn).with_context(|| {
        format!("authorizer {name}: FunctionArn must be !GetAtt <Function>.Arn")
    })?;
    let function = binary_name(&logical, resources.get(logical.as_str()));
    let identity = spec.get("Identity");
    // SAM's default, as API Gateway's.
    let cache_ttl_secs = identity
        .and_then(|i| i.get("ReauthorizeEvery"))
        .map(|v| resolve_number(v, params))
        .transpose()?
        .unwrap_or(300);
    let list = |key: &str| -> Vec<String> {
        identity
            .and_then(|i| i.get(key))
            .and_then(Value::as_sequence)
            .map(|s| {
                s.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let kind = match spec.get("FunctionPayloadType").and_then(Value::as_str) {
        None | Some("TOKEN") => {
            // A regular expression API Gateway checks before invoking; not modelled, so refused
            // rather than silently skipped.
            anyhow::ensure!(
                identity.and_then(|i| i.get("ValidationExpression")).is_none(),
                "authorizer {name}: Identity.ValidationExpression is not supported by the local gateway"
            );
            AuthorizerKind::Token {
                header: identity
                    .and_then(|i| i.get("Header"))
                    .and_then(Value::as_str)
                    .unwrap_or("Authorization")
                    .to_owned(),
            }
        }
        Some("REQUEST") => {
            let mut sources: Vec<IdentitySource> = Vec::new();
            sources.extend(list("Headers").into_iter().map(IdentitySource::Header));
            sources.extend(list("QueryStrings").into_iter().map(IdentitySource::Query));
            sources.extend(
                list("StageVariables")
                    .into_iter()
                    .map(IdentitySource::StageVariable),
            );
            for c in list("Context") {
                sources.push(IdentitySource::Context(c).check()?);
            }
            // API Gateway refuses a cached REQUEST authorizer without identity sources.
            anyhow::ensure!(
                !(sources.is_empty() && cache_ttl_secs > 0),
                "authorizer {name}: a REQUEST authorizer with caching needs Identity sources"
            );
            AuthorizerKind::Request { identity: sources }
        }
        Some(other) => bail!("authorizer {name}: FunctionPayloadType {other} is unknown"),
    };
    Ok(AuthorizerSpec {
        function,
        kind,
        cache_ttl_secs,
    })
}

/// `Metadata.BuildProperties.Binary`, else the logical id without `Function`, lower-cased.
fn binary_name(logical_id: &str, resource: Option<&Value>) -> String {
    resource
        .and_then(|r| r.get("Metadata"))
        .and_then(|m| m.get("BuildProperties"))
        .and_then(|b| b.get("Binary"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| logical_id.trim_end_matches("Function").to_ascii_lowercase())
}

/// `!GetAtt X.Arn`, `!Ref X`, `{"Fn::GetAtt": [X, Arn]}`, `{"Ref": X}` or `!Sub ...${X.Arn}...`
/// → `X`.
fn referenced_resource(v: &Value) -> Option<String> {
    match v {
        Value::Tagged(t) if t.tag == "GetAtt" || t.tag == "Ref" => match &t.value {
            Value::String(s) => s.split('.').next().map(str::to_owned),
            Value::Sequence(seq) => seq.first()?.as_str().map(str::to_owned),
            _ => None,
        },
        Value::Tagged(t) if t.tag == "Sub" => {
            let s = t.value.as_str()?;
            let start = s.find("${")? + 2;
            s[start..].split(['.', '}']).next().map(str::to_owned)
        }
        Value::Mapping(m) => match m.get("Fn::GetAtt").or_else(|| m.get("Ref"))? {
            Value::Sequence(s) => s.first()?.as_str().map(str::to_owned),
            Value::String(s) => s.split('.').next().map(str::to_owned),
            _ => None,
        },
        _ => None,
    }
}

/// The template's parameter values: each `Default`, overridden as `sam deploy
/// --parameter-overrides 'Name=Value …'` overrides them (the gateway's
/// `TOKENGATE_GATEWAY_PARAMETERS`).
#[derive(Debug, Clone, Default)]
pub struct Parameters {
    values: BTreeMap<String, String>,
}

impl Parameters {
    /// The `Parameters` section's defaults with `overrides` (`Name=Value`, separated by
    /// whitespace; a value may hold commas) on top. An override of a parameter the template
    /// does not declare is refused, as SAM refuses it.
    pub fn new(section: Option<&Value>, overrides: &str) -> anyhow::Result<Self> {
        let mut values = BTreeMap::new();
        for (name, spec) in section.and_then(Value::as_mapping).into_iter().flatten() {
            let name = name.as_str().context("parameter name")?.to_owned();
            if let Some(default) = spec.get("Default") {
                let text = match default {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => bail!("parameter {name}: Default must be a string or a number"),
                };
                values.insert(name, text);
            }
        }
        for pair in overrides.split_whitespace() {
            let (name, value) = pair
                .split_once('=')
                .with_context(|| format!("parameter override {pair:?} is not Name=Value"))?;
            let declared = section.and_then(|s| s.get(name)).is_some();
            anyhow::ensure!(
                declared,
                "parameter override {name}: the template has no such parameter"
            );
            values.insert(name.to_owned(), value.to_owned());
        }
        Ok(Self { values })
    }

    fn get(&self, name: &str) -> anyhow::Result<&str> {
        self.values
            .get(name)
            .map(String::as_str)
            .with_context(|| format!("parameter {name} has no Default and no override"))
    }
}

/// A value as CloudFormation resolves it: a literal, `!Ref Param`, `!Sub` over parameters and
/// its own variables, `!Select` of `!Split` (what the template's header values use). Other
/// intrinsics are refused: the gateway cannot know what they resolve to on AWS.
pub fn resolve_string(v: &Value, params: &Parameters) -> anyhow::Result<String> {
    match resolve(v, params, &BTreeMap::new())? {
        Resolved::Text(t) => Ok(t),
        Resolved::List(_) => bail!("expected a string, found a list"),
    }
}

/// A number, resolved as [`resolve_string`].
pub fn resolve_number(v: &Value, params: &Parameters) -> anyhow::Result<u64> {
    resolve_string(v, params)?
        .parse()
        .context("expected a non-negative number")
}

enum Resolved {
    Text(String),
    List(Vec<String>),
}

fn resolve(
    v: &Value,
    params: &Parameters,
    vars: &BTreeMap<String, String>,
) -> anyhow::Result<Resolved> {
    let text = |v: &Value| match resolve(v, params, vars)? {
        Resolved::Text(t) => Ok(t),
        Resolved::List(_) => bail!("expected a string, found a list"),
    };
    let (tag, arg) = match v {
        Value::String(s) => return Ok(Resolved::Text(s.clone())),
        Value::Number(n) => return Ok(Resolved::Text(n.to_string())),
        Value::Tagged(t) => (
            t.tag.to_string().trim_start_matches('!').to_owned(),
            &t.value,
        ),
        Value::Mapping(m) if m.len() == 1 => {
            let (k, arg) = m.iter().next().context("one key")?;
            let k = k.as_str().unwrap_or_default();
            let tag = if k == "Ref" {
                k
            } else {
                k.strip_prefix("Fn::").unwrap_or(k)
            };
            (tag.to_owned(), arg)
        }
        _ => bail!("expected a literal or an intrinsic function, found {v:?}"),
    };
    match (tag.as_str(), arg) {
        ("Ref", Value::String(name)) => Ok(Resolved::Text(params.get(name)?.to_owned())),
        ("Sub", Value::String(pattern)) => Ok(Resolved::Text(substitute(pattern, params, vars)?)),
        ("Sub", Value::Sequence(seq)) if seq.len() == 2 => {
            let pattern = seq[0].as_str().context("!Sub pattern")?;
            let mut own = vars.clone();
            for (k, v) in seq[1].as_mapping().context("!Sub variables")? {
                own.insert(
                    k.as_str().context("!Sub variable name")?.to_owned(),
                    text(v)?,
                );
            }
            Ok(Resolved::Text(substitute(pattern, params, &own)?))
        }
        ("Split", Value::Sequence(seq)) if seq.len() == 2 => {
            let sep = seq[0].as_str().context("!Split delimiter")?;
            let whole = text(&seq[1])?;
            Ok(Resolved::List(
                whole.split(sep).map(str::to_owned).collect(),
            ))
        }
        ("Select", Value::Sequence(seq)) if seq.len() == 2 => {
            let index: usize = text(&seq[0])?.parse().context("!Select index")?;
            let Resolved::List(list) = resolve(&seq[1], params, vars)? else {
                bail!("!Select needs a list");
            };
            list.into_iter()
                .nth(index)
                .map(Resolved::Text)
                .context("!Select index out of range")
        }
        (other, _) => bail!("intrinsic {other} is not modelled by the local gateway"),
    }
}

/// `${Name}` from the `!Sub` variables or the parameters; `${!Literal}` stays `${Literal}`.
fn substitute(
    pattern: &str,
    params: &Parameters,
    vars: &BTreeMap<String, String>,
) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').context("!Sub: unclosed ${")?;
        let name = &after[..end];
        match name.strip_prefix('!') {
            Some(literal) => {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            }
            None => match vars.get(name) {
                Some(v) => out.push_str(v),
                None => out.push_str(params.get(name)?),
            },
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::Resolution;

    const TEMPLATE: &str = r#"
Parameters:
  CacheTtl:
    Type: Number
    Default: 60
Resources:
  TokengateApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      Auth:
        Authorizers:
          TokengateAuthorizer:
            FunctionArn: !GetAtt AuthorizerFunction.Arn
            Identity:
              Header: Authorization
              ReauthorizeEvery: !Ref CacheTtl
          ByRequest:
            FunctionPayloadType: REQUEST
            FunctionArn: !GetAtt AuthorizerFunction.Arn
            Identity:
              Headers: [Authorization]
              Context: [httpMethod, path]
  AuthorizerFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
      BuildProperties:
        Binary: authorizer
  LoginFunction:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Login:
          Type: Api
          Properties: { Path: /auth/login, Method: post, RestApiId: !Ref TokengateApi }
  MeFunction:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Me:
          Type: Api
          Properties:
            Path: /api/items/{id}
            Method: get
            Auth: { Authorizer: TokengateAuthorizer }
        Other:
          Type: Api
          Properties:
            Path: /api/other
            Method: any
            Auth: { Authorizer: ByRequest }
"#;

    #[test]
    fn reads_stage_routes_and_authorizers_from_the_template() {
        let api = Api::from_template(TEMPLATE).unwrap();
        assert_eq!(api.stage, "v1");
        assert_eq!(
            api.authorizers["TokengateAuthorizer"],
            AuthorizerSpec {
                function: "authorizer".into(),
                kind: AuthorizerKind::Token {
                    header: "Authorization".into()
                },
                cache_ttl_secs: 60
            }
        );
        assert_eq!(
            api.authorizers["ByRequest"],
            AuthorizerSpec {
                function: "authorizer".into(),
                kind: AuthorizerKind::Request {
                    identity: vec![
                        IdentitySource::Header("Authorization".into()),
                        IdentitySource::Context("httpMethod".into()),
                        IdentitySource::Context("path".into()),
                    ]
                },
                cache_ttl_secs: 300
            }
        );
        let Resolution::Matched(login, _) = api.routes.resolve("POST", "/auth/login") else {
            panic!("login route")
        };
        assert_eq!(login.function, "login");
        assert_eq!(login.authorizer, None);
        let Resolution::Matched(me, params) = api.routes.resolve("GET", "/api/items/42") else {
            panic!("item route")
        };
        assert_eq!(me.authorizer.as_deref(), Some("TokengateAuthorizer"));
        assert_eq!(params, vec![("id".to_owned(), "42".to_owned())]);
        let Resolution::Matched(other, _) = api.routes.resolve("PATCH", "/api/other") else {
            panic!("ANY route")
        };
        assert_eq!(other.authorizer.as_deref(), Some("ByRequest"));
    }

    #[test]
    fn a_route_naming_an_undefined_authorizer_is_refused() {
        let bad = TEMPLATE.replace("Authorizer: ByRequest", "Authorizer: Nobody");
        let err = Api::from_template(&bad).unwrap_err().to_string();
        assert!(err.contains("Nobody"), "{err}");
    }

    #[test]
    fn unknown_context_identity_sources_are_refused() {
        let bad = TEMPLATE.replace("[httpMethod, path]", "[httpMethod, nonsense]");
        let err = Api::from_template(&bad).unwrap_err().to_string();
        assert!(err.contains("nonsense"), "{err}");
        assert!(IdentitySource::parse_http("$context.nonsense").is_err());
        assert!(IdentitySource::parse_http("Authorization").is_err());
        assert_eq!(
            IdentitySource::parse_http(" $request.header.Authorization").unwrap(),
            IdentitySource::Header("Authorization".into())
        );
    }

    #[test]
    fn project_template_declares_ttl_and_an_asymmetric_signing_key() {
        let doc: Value = serde_yaml::from_str(include_str!("../../../template.yaml")).unwrap();
        let res = &doc["Resources"];
        let ttl = &res["TokengateTable"]["Properties"]["TimeToLiveSpecification"];
        assert_eq!(ttl["AttributeName"], Value::from("ttl"));
        assert_eq!(ttl["Enabled"], Value::from(true));
        let pitr = &res["TokengateTable"]["Properties"]["PointInTimeRecoverySpecification"];
        assert_eq!(pitr["PointInTimeRecoveryEnabled"], Value::from(true));
        let key = &res["SigningKey"]["Properties"];
        assert_eq!(key["KeyUsage"], Value::from("SIGN_VERIFY"));
        assert_eq!(key["KeySpec"], Value::from("ECC_NIST_P256"));
        // The authorizer may never sign.
        let policies =
            serde_yaml::to_string(&res["AuthorizerFunction"]["Properties"]["Policies"]).unwrap();
        assert!(!policies.contains("kms:Sign"), "{policies}");
    }

    #[test]
    fn the_authorizer_cache_switch_keys_the_cache_by_token_or_by_route() {
        let template = include_str!("../../../template.yaml");
        let by_token = Api::deployed_with(template, "").unwrap();
        assert_eq!(
            by_token.authorizers["TokengateAuthorizer"].kind,
            AuthorizerKind::Token {
                header: "Authorization".into()
            }
        );
        let by_route = Api::deployed_with(template, "AuthorizerCache=route").unwrap();
        let spec = &by_route.authorizers["TokengateAuthorizer"];
        assert_eq!(
            spec.kind,
            AuthorizerKind::Request {
                identity: vec![
                    IdentitySource::Header("Authorization".into()),
                    IdentitySource::Context("httpMethod".into()),
                    IdentitySource::Context("path".into()),
                ]
            }
        );
        assert_eq!(spec.cache_ttl_secs, 60);
        assert!(
            Api::deployed_with(template, "AuthorizerCache=nonsense").is_ok_and(|api| {
                // CloudFormation refuses a value outside AllowedValues; the condition is false.
                matches!(
                    api.authorizers["TokengateAuthorizer"].kind,
                    AuthorizerKind::Token { .. }
                )
            })
        );
    }

    #[test]
    fn reuse_alarm_watches_the_metric_the_refresh_function_emits() {
        let doc: Value = serde_yaml::from_str(include_str!("../../../template.yaml")).unwrap();
        let alarm = &doc["Resources"]["ReuseDetectedAlarm"]["Properties"];
        let emitted = tokengate_handlers::telemetry::metrics_record(
            "refresh",
            tokengate_domain::ErrorCode::RefreshTokenReused.code(),
            1.0,
            0,
        );
        assert_eq!(
            alarm["Namespace"],
            Value::from(tokengate_handlers::telemetry::METRICS_NAMESPACE)
        );
        assert_eq!(alarm["MetricName"], Value::from("Requests"));
        assert_eq!(emitted["Requests"], 1);
        for dim in alarm["Dimensions"].as_sequence().unwrap() {
            let name = dim["Name"].as_str().unwrap();
            assert_eq!(dim["Value"].as_str(), emitted[name].as_str(), "{name}");
        }
    }

    #[test]
    fn the_project_template_guards_the_admin_routes_with_the_admin_rule() {
        let text = include_str!("../../../template.yaml");
        let api = Api::from_template(text).unwrap();
        assert_eq!(api.stage, "v1");
        for (method, path) in [
            ("GET", "/api/admin"),
            ("GET", "/api/admin/x:a/b/c"),
            ("DELETE", "/api/admin/users/7"),
        ] {
            let Resolution::Matched(route, _) = api.routes.resolve(method, path) else {
                panic!("{method} {path} is routed")
            };
            assert_eq!(route.function, "me", "{method} {path}");
            assert_eq!(
                route.authorizer.as_deref(),
                Some("TokengateAuthorizer"),
                "{method} {path}"
            );
        }
        let Resolution::Matched(login, _) = api.routes.resolve("POST", "/auth/login") else {
            panic!("login is routed")
        };
        assert_eq!(login.authorizer, None);
        // The rule the authorizer enforces by default is the one protecting those routes.
        let doc: Value = serde_yaml::from_str(text).unwrap();
        let rules = doc["Parameters"]["RouteRoles"]["Default"].as_str().unwrap();
        let policy = tokengate_domain::policy::RoutePolicy::parse(rules).unwrap();
        let admin = ["admin".to_owned()];
        for (method, path) in [
            ("GET", "/api/admin"),
            ("GET", "/api/admin/x:a/b/c"),
            ("DELETE", "/api/admin/users/7"),
        ] {
            assert!(!policy.permits(method, path, &[]), "{method} {path}");
            assert!(policy.permits(method, path, &admin), "{method} {path}");
        }
        assert!(policy.permits("GET", "/api/me", &[]));
    }

    #[test]
    fn preflights_reach_each_routes_function_without_the_authorizer() {
        let api = Api::from_template(include_str!("../../../template.yaml")).unwrap();
        for (path, function) in [
            ("/auth/login", "login"),
            ("/auth/refresh", "refresh"),
            ("/auth/logout", "logout"),
            ("/auth/password", "password"),
            ("/.well-known/jwks.json", "jwks"),
            ("/api/me", "me"),
            ("/api/admin", "me"),
            ("/api/admin/users/7", "me"),
        ] {
            let Resolution::Matched(route, _) = api.routes.resolve("OPTIONS", path) else {
                panic!("OPTIONS {path} is routed")
            };
            assert_eq!(route.method, "OPTIONS", "{path}: its own method, not ANY");
            assert_eq!(route.function, function, "{path}");
            assert_eq!(route.authorizer, None, "{path}");
        }
        // Everything else a browser app calls stays behind the authorizer.
        let Resolution::Matched(admin, _) = api.routes.resolve("POST", "/api/admin/users") else {
            panic!("POST /api/admin/users is routed")
        };
        assert_eq!(admin.authorizer.as_deref(), Some("TokengateAuthorizer"));
    }

    #[test]
    fn parameters_resolve_as_cloudformation_resolves_them() {
        let section: Value = serde_yaml::from_str(
            "Origins: {Type: String, Default: 'https://a.test,https://b.test'}\nTtl: {Type: Number, Default: 60}",
        )
        .unwrap();
        let defaults = Parameters::new(Some(&section), "").unwrap();
        let first: Value =
            serde_yaml::from_str("!Sub [\"'${O}'\", {O: !Select [0, !Split [',', !Ref Origins]]}]")
                .unwrap();
        assert_eq!(
            resolve_string(&first, &defaults).unwrap(),
            "'https://a.test'"
        );
        let long: Value =
            serde_yaml::from_str("{'Fn::Select': [1, {'Fn::Split': [',', {Ref: Origins}]}]}")
                .unwrap();
        assert_eq!(resolve_string(&long, &defaults).unwrap(), "https://b.test");
        let sub: Value = serde_yaml::from_str("!Sub 'ttl=${Ttl} ${!Literal}'").unwrap();
        assert_eq!(
            resolve_string(&sub, &defaults).unwrap(),
            "ttl=60 ${Literal}"
        );

        let deployed = Parameters::new(
            Some(&section),
            "Origins=http://localhost:3001,http://x Ttl=0",
        )
        .unwrap();
        assert_eq!(
            resolve_string(&first, &deployed).unwrap(),
            "'http://localhost:3001'"
        );
        assert_eq!(resolve_number(&Value::from(7), &deployed).unwrap(), 7);
        let ttl: Value = serde_yaml::from_str("!Ref Ttl").unwrap();
        assert_eq!(resolve_number(&ttl, &deployed).unwrap(), 0);

        assert!(Parameters::new(Some(&section), "Nope=1").is_err());
        assert!(Parameters::new(Some(&section), "Origins").is_err());
        let unknown: Value = serde_yaml::from_str("!GetAtt X.Arn").unwrap();
        assert!(resolve_string(&unknown, &defaults).is_err());
        let split: Value = serde_yaml::from_str("!Split [',', 'a,b']").unwrap();
        assert!(
            resolve_string(&split, &defaults).is_err(),
            "a list is no string"
        );
    }
}
