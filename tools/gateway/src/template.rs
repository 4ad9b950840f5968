//! The route table, read from `template.yaml` so the local API is the deployed one: every
//! `Api` event of every function (path, method, whether the authorizer guards it), and the
//! authorizer with its result-cache TTL.

use anyhow::{bail, Context};
use serde_yaml::Value;

/// One API route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// HTTP method, upper case, or `ANY`.
    pub method: String,
    /// Resource path as in the template, e.g. `/api/items/{id}`.
    pub path: String,
    /// Binary name of the function (what `cargo lambda watch` serves).
    pub function: String,
    /// Whether the Lambda authorizer runs first.
    pub authorized: bool,
}

/// The Lambda authorizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerSpec {
    /// Binary name of the authorizer function.
    pub function: String,
    /// Seconds API Gateway caches a result per token (`ReauthorizeEvery`).
    pub cache_ttl_secs: u64,
}

/// Everything the gateway needs from the template.
#[derive(Debug, Clone)]
pub struct Api {
    /// Routes in template order.
    pub routes: Vec<Route>,
    /// The authorizer, if the API has one.
    pub authorizer: Option<AuthorizerSpec>,
}

impl Api {
    /// Reads a SAM template.
    pub fn from_template(text: &str) -> anyhow::Result<Self> {
        let doc: Value = serde_yaml::from_str(text).context("template.yaml is not valid YAML")?;
        let resources = doc
            .get("Resources")
            .and_then(Value::as_mapping)
            .context("template.yaml has no Resources")?;
        let params = doc.get("Parameters");

        let mut authorizer = None;
        let mut default_authorizer = None;
        for (_, res) in resources {
            if res.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Api") {
                continue;
            }
            let Some(auth) = res.get("Properties").and_then(|p| p.get("Auth")) else {
                continue;
            };
            default_authorizer = auth
                .get("DefaultAuthorizer")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if let Some(map) = auth.get("Authorizers").and_then(Value::as_mapping) {
                if let Some((_, spec)) = map.iter().next() {
                    let arn = spec
                        .get("FunctionArn")
                        .context("authorizer without FunctionArn")?;
                    let logical = referenced_resource(arn)
                        .context("authorizer FunctionArn must be !GetAtt <Function>.Arn")?;
                    let function = binary_name(&logical, resources.get(logical.as_str()));
                    let ttl = spec
                        .get("Identity")
                        .and_then(|i| i.get("ReauthorizeEvery"))
                        .map(|v| resolve_number(v, params))
                        .transpose()?
                        .unwrap_or(300);
                    authorizer = Some(AuthorizerSpec {
                        function,
                        cache_ttl_secs: ttl,
                    });
                }
            }
        }

        let mut routes = Vec::new();
        for (id, res) in resources {
            if res.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
                continue;
            }
            let id = id.as_str().unwrap_or_default();
            let function = binary_name(id, Some(res));
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
                let authorized = match explicit {
                    Some("NONE") => false,
                    Some(_) => true,
                    None => default_authorizer.as_deref().is_some_and(|d| d != "NONE"),
                };
                routes.push(Route {
                    method: method.to_ascii_uppercase(),
                    path: path.to_owned(),
                    function: function.clone(),
                    authorized,
                });
            }
        }
        if routes.iter().any(|r| r.authorized) && authorizer.is_none() {
            bail!("template.yaml guards a route but defines no Lambda authorizer");
        }
        Ok(Self { routes, authorizer })
    }

    /// The route for a request and its path parameters; `None` if no route matches.
    pub fn route(&self, method: &str, path: &str) -> Option<(&Route, Vec<(String, String)>)> {
        self.routes.iter().find_map(|r| {
            if r.method != "ANY" && !r.method.eq_ignore_ascii_case(method) {
                return None;
            }
            match_path(&r.path, path).map(|params| (r, params))
        })
    }
}

fn match_path(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let mut params = Vec::new();
    let mut t = template.split('/');
    let mut p = path.split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some(params),
            (Some(ts), Some(ps)) if ts.starts_with('{') && ts.ends_with('}') && !ps.is_empty() => {
                params.push((ts[1..ts.len() - 1].to_owned(), ps.to_owned()));
            }
            (Some(ts), Some(ps)) if ts == ps => {}
            _ => return None,
        }
    }
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

/// `!GetAtt X.Arn`, `{"Fn::GetAtt": [X, Arn]}` or `!Sub ...${X.Arn}...` → `X`.
fn referenced_resource(v: &Value) -> Option<String> {
    match v {
        Value::Tagged(t) if t.tag == "GetAtt" || t.tag == "!GetAtt" => match &t.value {
            Value::String(s) => s.split('.').next().map(str::to_owned),
            Value::Sequence(seq) => seq.first()?.as_str().map(str::to_owned),
            _ => None,
        },
        Value::Tagged(t) if t.tag == "Sub" || t.tag == "!Sub" => {
            let s = t.value.as_str()?;
            let start = s.find("${")? + 2;
            let inner = &s[start..];
            inner.split(['.', '}']).next().map(str::to_owned)
        }
        Value::Mapping(m) => {
            let seq = m.get("Fn::GetAtt")?;
            match seq {
                Value::Sequence(s) => s.first()?.as_str().map(str::to_owned),
                Value::String(s) => s.split('.').next().map(str::to_owned),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A number, or `!Ref Param` resolved to the parameter's default.
fn resolve_number(v: &Value, params: Option<&Value>) -> anyhow::Result<u64> {
    let name = match v {
        Value::Number(n) => return n.as_u64().context("negative number"),
        Value::String(s) => return s.parse().context("not a number"),
        Value::Tagged(t) if t.tag == "Ref" || t.tag == "!Ref" => t.value.as_str(),
        Value::Mapping(m) => m.get("Ref").and_then(Value::as_str),
        _ => None,
    }
    .context("expected a number or !Ref to a parameter")?;
    let default = params
        .and_then(|p| p.get(name))
        .and_then(|p| p.get("Default"))
        .with_context(|| format!("parameter {name} has no Default"))?;
    resolve_number(default, None)
}

#[cfg(test)]
mod tests {
    use super::*;

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
"#;

    #[test]
    fn reads_routes_and_the_authorizer_from_the_template() {
        let api = Api::from_template(TEMPLATE).unwrap();
        assert_eq!(
            api.authorizer,
            Some(AuthorizerSpec {
                function: "authorizer".into(),
                cache_ttl_secs: 60
            })
        );
        let (login, _) = api.route("POST", "/auth/login").unwrap();
        assert_eq!(login.function, "login");
        assert!(!login.authorized);
        let (me, params) = api.route("GET", "/api/items/42").unwrap();
        assert!(me.authorized);
        assert_eq!(params, vec![("id".to_owned(), "42".to_owned())]);
        assert!(api.route("GET", "/auth/login").is_none());
        assert!(api.route("GET", "/api/items/").is_none());
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
    fn reads_the_project_template() {
        let text = include_str!("../../../template.yaml");
        let api = Api::from_template(text).unwrap();
        assert!(api.route("POST", "/auth/login").is_some());
        assert!(api.route("GET", "/api/me").unwrap().0.authorized);
        assert!(api.authorizer.is_some());
    }
}
