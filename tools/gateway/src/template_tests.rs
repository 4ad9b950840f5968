//! The reader against small hand-written CloudFormation, and against `template.yaml` as
//! `scripts/sam_transform.py` transforms it (SAM's own transform, run here from `.venv`, which
//! `make test` installs first).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Value};

use super::*;
use crate::routes::Resolution;

/// One transform's output: the JSON, or its error.
type Run = Arc<OnceLock<Result<String, String>>>;

/// `template.yaml` through `scripts/sam_transform.py` with `overrides`: the JSON, or its error.
fn transform(overrides: &str) -> Result<String, String> {
    // One run per parameter set for the whole test binary (a run takes about a second).
    static RUNS: OnceLock<Mutex<HashMap<String, Run>>> = OnceLock::new();
    let run = RUNS
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(overrides.to_owned())
        .or_default()
        .clone();
    run.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let out = std::process::Command::new(root.join(".venv/bin/python3"))
            .arg(root.join("scripts/sam_transform.py"))
            .args(["--parameter-overrides", overrides])
            .arg(root.join("template.yaml"))
            .output()
            .expect("the .venv's Python runs scripts/sam_transform.py (make venv)");
        match out.status.success() {
            true => Ok(String::from_utf8(out.stdout).unwrap()),
            false => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
        }
    })
    .clone()
}

/// The API of `template.yaml` as deployed with `overrides` (`Name=Value …`).
pub(crate) fn deployed(overrides: &str) -> Api {
    let text = transform(overrides).unwrap_or_else(|e| panic!("transform {overrides}: {e}"));
    Api::from_cloudformation(&text).unwrap()
}

fn invocation(function: &str) -> Value {
    json!({"Fn::Sub": format!(
        "arn:aws:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{{function}.Arn}}/invocations"
    )})
}

fn operation(function: &str, security: Option<&str>) -> Value {
    let mut op = json!({
        "x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST", "uri": invocation(function)},
        "responses": {},
    });
    if let Some(name) = security {
        op["security"] = json!([{ name: [] }]);
    }
    op
}

/// A transformed template of the shape SAM makes: two authorizers, three resources.
fn template() -> Value {
    let authorizer_uri = json!({"Fn::Sub": [
        "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${__FunctionArn__}/invocations",
        {"__FunctionArn__": {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}},
    ]});
    let function = |binary: Option<&str>| {
        let mut f = json!({"Type": "AWS::Lambda::Function", "Properties": {}});
        if let Some(b) = binary {
            f["Metadata"] = json!({"BuildProperties": {"Binary": b}});
        }
        f
    };
    json!({"Resources": {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Body": {
            "openapi": "3.0.1",
            "paths": {
                "/auth/login": {"post": operation("LoginFunction", None)},
                "/api/items/{id}": {"get": operation("MeFunction", Some("ByToken"))},
                "/api/other": {"x-amazon-apigateway-any-method": operation("MeFunction", Some("ByRequest"))},
            },
            "components": {"securitySchemes": {
                "ByToken": {"type": "apiKey", "name": "Authorization", "in": "header",
                    "x-amazon-apigateway-authorizer": {"type": "token", "authorizerUri": authorizer_uri,
                        "authorizerResultTtlInSeconds": 60}},
                "ByRequest": {"type": "apiKey", "name": "Unused", "in": "header",
                    "x-amazon-apigateway-authorizer": {"type": "request", "authorizerUri": authorizer_uri,
                        "identitySource": "method.request.header.Authorization, context.httpMethod, context.path"}},
            }},
        }}},
        "ApiDeployment": {"Type": "AWS::ApiGateway::Deployment", "Properties": {"RestApiId": {"Ref": "Api"}}},
        "ApiStage": {"Type": "AWS::ApiGateway::Stage",
            "Properties": {"RestApiId": {"Ref": "Api"}, "StageName": "v1"}},
        "AuthorizerFunction": function(Some("authorizer")),
        "LoginFunction": function(None),
        "MeFunction": function(Some("me")),
    }})
}

fn body(t: &mut Value) -> &mut Value {
    &mut t["Resources"]["Api"]["Properties"]["Body"]
}

fn read(t: &Value) -> anyhow::Result<Api> {
    Api::from_cloudformation(&t.to_string())
}

#[test]
fn reads_stage_routes_and_authorizers_from_the_openapi_body() {
    let api = read(&template()).unwrap();
    assert_eq!(api.stage, "v1");
    assert_eq!(
        api.authorizers["ByToken"],
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
            // API Gateway's default.
            cache_ttl_secs: 300
        }
    );
    let Resolution::Matched(login, _) = api.routes.resolve("POST", "/auth/login") else {
        panic!("login route")
    };
    assert_eq!(
        login.function, "login",
        "no Binary: the logical id without Function"
    );
    assert_eq!(login.authorizer, None);
    let Resolution::Matched(me, params) = api.routes.resolve("GET", "/api/items/42") else {
        panic!("item route")
    };
    assert_eq!(me.function, "me");
    assert_eq!(me.authorizer.as_deref(), Some("ByToken"));
    assert_eq!(params, vec![("id".to_owned(), "42".to_owned())]);
    let Resolution::Matched(other, _) = api.routes.resolve("PATCH", "/api/other") else {
        panic!("ANY route")
    };
    assert_eq!(other.authorizer.as_deref(), Some("ByRequest"));
}

#[test]
fn what_the_gateway_does_not_model_is_refused() {
    type Break = fn(&mut Value);
    let breaks: [(&str, Break); 6] = [
        ("Nobody", |t| {
            body(t)["paths"]["/api/other"]["x-amazon-apigateway-any-method"]["security"] =
                json!([{"Nobody": []}]);
        }),
        ("nonsense", |t| {
            body(t)["components"]["securitySchemes"]["ByRequest"]
                ["x-amazon-apigateway-authorizer"]["identitySource"] =
                json!("method.request.header.Authorization, context.nonsense");
        }),
        ("mock", |t| {
            body(t)["paths"]["/auth/login"]["post"]["x-amazon-apigateway-integration"]["type"] =
                json!("mock");
        }),
        ("one stage", |t| {
            t["Resources"]["ApiDeployment"]["Properties"]["StageName"] = json!("Stage");
        }),
        ("identityValidationExpression", |t| {
            body(t)["components"]["securitySchemes"]["ByToken"]["x-amazon-apigateway-authorizer"]
                ["identityValidationExpression"] = json!("^Bearer ");
        }),
        ("NoSuchFunction", |t| {
            body(t)["paths"]["/auth/login"]["post"]["x-amazon-apigateway-integration"]["uri"] =
                invocation("NoSuchFunction");
        }),
    ];
    for (expected, breaks) in breaks {
        let mut t = template();
        breaks(&mut t);
        let err = format!("{:#}", read(&t).unwrap_err());
        assert!(err.contains(expected), "{expected}: {err}");
    }
    let err = Api::from_cloudformation("Resources: {}")
        .unwrap_err()
        .to_string();
    assert!(err.contains("sam_transform.py"), "{err}");
    assert!(IdentitySource::parse_http("$context.nonsense").is_err());
    assert!(IdentitySource::parse_http("Authorization").is_err());
    assert_eq!(
        IdentitySource::parse_http(" $request.header.Authorization").unwrap(),
        IdentitySource::Header("Authorization".into())
    );
    assert_eq!(
        IdentitySource::parse_rest("method.request.querystring.q").unwrap(),
        IdentitySource::Query("q".into())
    );
}

#[test]
fn a_literal_function_arn_names_the_function() {
    let mut t = template();
    t["Resources"]["Api"]["Properties"]["Body"]["paths"]["/auth/login"]["post"]
        ["x-amazon-apigateway-integration"]["uri"] = json!(
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:elsewhere:live/invocations"
    );
    let api = read(&t).unwrap();
    let Resolution::Matched(login, _) = api.routes.resolve("POST", "/auth/login") else {
        panic!("login route")
    };
    assert_eq!(login.function, "elsewhere");
}

#[test]
fn the_project_template_guards_the_admin_routes_with_the_admin_rule() {
    let api = deployed("");
    assert_eq!(api.stage, "v1");
    let routes = [
        ("GET", "/api/admin"),
        ("GET", "/api/admin/x:a/b/c"),
        ("DELETE", "/api/admin/users/7"),
    ];
    for (method, path) in routes {
        let Resolution::Matched(route, _) = api.routes.resolve(method, path) else {
            panic!("{method} {path} is routed")
        };
        assert_eq!(route.function, "me", "{method} {path}");
        let authorizer = route.authorizer.as_deref();
        assert_eq!(authorizer, Some("TokengateAuthorizer"), "{method} {path}");
    }
    let Resolution::Matched(login, _) = api.routes.resolve("POST", "/auth/login") else {
        panic!("login is routed")
    };
    assert_eq!(login.authorizer, None);
    // The rule the authorizer enforces by default is the one protecting those routes.
    let output: Value = serde_json::from_str(&transform("").unwrap()).unwrap();
    let rules = output["Resources"]["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
        ["TOKENGATE_ROUTE_ROLES"]
        .as_str()
        .unwrap();
    let policy = tokengate_domain::policy::RoutePolicy::parse(rules).unwrap();
    let admin = ["admin".to_owned()];
    for (method, path) in routes {
        assert!(!policy.permits(method, path, &[]), "{method} {path}");
        assert!(policy.permits(method, path, &admin), "{method} {path}");
    }
    assert!(policy.permits("GET", "/api/me", &[]));
}

#[test]
fn preflights_reach_each_routes_function_without_the_authorizer() {
    let api = deployed("");
    for (path, function) in [
        ("/auth/login", "login"),
        ("/auth/refresh", "refresh"),
        ("/auth/logout", "logout"),
        ("/auth/password", "password"),
        ("/.well-known/jwks.json", "jwks"),
        ("/.well-known/openid-configuration", "jwks"),
        ("/.well-known/oauth-authorization-server", "jwks"),
        ("/oauth/token", "refresh"),
        ("/oauth/revoke", "logout"),
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
fn the_authorizer_cache_switch_keys_the_cache_by_token_or_by_route() {
    let by_token = &deployed("").authorizers["TokengateAuthorizer"];
    let header = "Authorization".to_owned();
    assert_eq!(by_token.kind, AuthorizerKind::Token { header });
    assert_eq!(by_token.cache_ttl_secs, 60);
    let by_route = &deployed("AuthorizerCache=route").authorizers["TokengateAuthorizer"];
    let identity = vec![
        IdentitySource::Header("Authorization".into()),
        IdentitySource::Context("httpMethod".into()),
        IdentitySource::Context("path".into()),
    ];
    assert_eq!(by_route.kind, AuthorizerKind::Request { identity });
    assert_eq!(by_route.function, "authorizer");
    // The TTL parameter reaches the API through SAM's transform.
    let off = &deployed("AuthorizerCache=route AuthorizerCacheTtlSeconds=0").authorizers
        ["TokengateAuthorizer"];
    assert_eq!(off.cache_ttl_secs, 0);
    // CloudFormation refuses a value outside AllowedValues, and so does the transform.
    let err = transform("AuthorizerCache=nonsense").unwrap_err();
    assert!(err.contains("AuthorizerCache"), "{err}");
}

#[test]
fn project_template_declares_ttl_and_an_asymmetric_signing_key() {
    let output: Value = serde_json::from_str(&transform("").unwrap()).unwrap();
    let res = &output["Resources"];
    let ttl = &res["TokengateTable"]["Properties"]["TimeToLiveSpecification"];
    assert_eq!(ttl["AttributeName"], "ttl");
    assert_eq!(ttl["Enabled"], true);
    let pitr = &res["TokengateTable"]["Properties"]["PointInTimeRecoverySpecification"];
    assert_eq!(pitr["PointInTimeRecoveryEnabled"], true);
    let key = &res["SigningKey"]["Properties"];
    assert_eq!(key["KeyUsage"], "SIGN_VERIFY");
    assert_eq!(key["KeySpec"], "ECC_NIST_P256");
    // The authorizer may never sign: its role, as SAM generates it from its Policies.
    let role = &res["AuthorizerFunctionRole"];
    assert_eq!(role["Type"], "AWS::IAM::Role");
    let policies = role["Properties"].to_string();
    assert!(policies.contains("dynamodb:BatchGetItem"), "{policies}");
    assert!(!policies.contains("kms:Sign"), "{policies}");
}

#[test]
fn reuse_alarm_watches_the_metric_the_refresh_function_emits() {
    let output: Value = serde_json::from_str(&transform("").unwrap()).unwrap();
    let alarm = &output["Resources"]["ReuseDetectedAlarm"]["Properties"];
    let emitted = tokengate_handlers::telemetry::metrics_record(
        "refresh",
        tokengate_domain::ErrorCode::RefreshTokenReused.code(),
        1.0,
        0,
    );
    assert_eq!(
        alarm["Namespace"],
        tokengate_handlers::telemetry::METRICS_NAMESPACE
    );
    assert_eq!(alarm["MetricName"], "Requests");
    assert_eq!(emitted["Requests"], 1);
    for dim in alarm["Dimensions"].as_array().unwrap() {
        let name = dim["Name"].as_str().unwrap();
        assert_eq!(dim["Value"].as_str(), emitted[name].as_str(), "{name}");
    }
}
