//! The answers written straight to bytes say exactly what the answers built before did: the
//! builder they replaced (an `aws_lambda_events` response holding a `serde_json::Value`, kept
//! here only as the oracle) against [`rest_answer`] and [`simple_response`], parsed, over a
//! spread of tokens, method ARNs and rule sets. The event kinds end to end are judged by the
//! suites that read [`Authorizer::handle`], which parses these same bytes.

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerResponse,
    ApiGatewayV2CustomAuthorizerSimpleResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use serde_json::{json, Value};
use tokengate_claims::AccessClaims;
use tokengate_domain::policy::RoutePolicy;

use super::method_arn::MethodArn;
use super::rule_sets::{token_scopes, RuleSets};
use super::*;

/// The REST answer as the authorizer built it before (its `rest_response`, less the logging).
fn old_rest_answer(
    claims: &AccessClaims,
    allowed: bool,
    arn: MethodArn,
    denials: Option<Vec<&str>>,
) -> Value {
    let mut deny = None;
    let statements = match denials {
        Some(denied) => {
            let base = arn.base;
            if !denied.is_empty() {
                let service = arn.service;
                let resources = denied
                    .iter()
                    .map(|d| {
                        Value::String(match d.starts_with('*') {
                            true => [service, "*:", d].concat(),
                            false => [base, "/", d].concat(),
                        })
                    })
                    .collect();
                deny = Some(json!({
                    "Action": ["execute-api:Invoke"],
                    "Effect": "Deny",
                    "Resource": Value::Array(resources),
                }));
            }
            vec![old_statement(
                IamPolicyEffect::Allow,
                vec![[base, "/*"].concat()],
            )]
        }
        None => {
            let resource = format!("{}/{}{}", arn.base, arn.method, arn.path);
            let effect = if allowed && !iam::has_wildcard(arn.path) {
                IamPolicyEffect::Allow
            } else {
                IamPolicyEffect::Deny
            };
            vec![old_statement(effect, vec![resource])]
        }
    };
    let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
    policy.version = Some("2012-10-17".to_owned());
    policy.statement = statements;
    let mut resp: ApiGatewayCustomAuthorizerResponse<Value> =
        ApiGatewayCustomAuthorizerResponse::default();
    resp.principal_id = Some(claims.sub.clone());
    resp.policy_document = policy;
    resp.context = old_context(claims);
    let mut answer = serde_json::to_value(resp).unwrap();
    if let (Some(deny), Some(list)) = (deny, answer["policyDocument"]["Statement"].as_array_mut()) {
        list.push(deny);
    }
    answer
}

/// The HTTP API simple response as built before.
fn old_simple_answer(allowed: Option<&AccessClaims>) -> Value {
    let mut resp: ApiGatewayV2CustomAuthorizerSimpleResponse<Value> =
        ApiGatewayV2CustomAuthorizerSimpleResponse::default();
    match allowed {
        Some(c) => {
            resp.is_authorized = true;
            resp.context = old_context(c);
        }
        None => resp.context = json!({}),
    }
    serde_json::to_value(resp).unwrap()
}

fn old_context(claims: &AccessClaims) -> Value {
    json!({
        "sub": claims.sub,
        "roles": claims.roles.join(","),
        "sid": claims.sid.clone().unwrap_or_default(),
        "jti": claims.jti,
        "scope": claims.scope.clone().unwrap_or_default(),
        "client_id": claims.client_id.clone().unwrap_or_default(),
    })
}

fn old_statement(effect: IamPolicyEffect, resource: Vec<String>) -> IamPolicyStatement {
    let mut s = IamPolicyStatement::default();
    s.action = vec!["execute-api:Invoke".to_owned()];
    s.effect = effect;
    s.resource = resource;
    s
}

fn claims(sub: &str, roles: &[&str], scope: Option<&str>, sid: Option<&str>) -> AccessClaims {
    AccessClaims {
        iss: "https://auth.example".into(),
        aud: "api".into(),
        sub: sub.into(),
        client_id: sid.map(|_| "web".into()),
        exp: 2_000,
        iat: 1_000,
        nbf: 1_000,
        jti: "j\u{00e9}ti-0123456789abcdef".into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        ver: 1,
        scope: scope.map(str::to_owned),
        sid: sid.map(str::to_owned),
    }
}

fn parsed(answer: Result<Box<RawValue>, AuthorizerError>) -> Value {
    serde_json::from_str(answer.unwrap().get()).unwrap()
}

#[test]
fn the_answers_written_as_bytes_say_what_the_built_answers_said() {
    let role_rules = [
        // Whole-API: a reader's policy Denies the admin routes (`*`-anchored patterns too).
        "GET /api/me=; * /api/admin/*=admin",
        "GET /api/me=; * /api/admin/*=admin; POST /api/items/*=writer; DELETE /api/*=admin",
        // Reaches every route: no Deny statement.
        "* /api/*=",
        // An exception before a wider rule: answered for the route alone.
        "GET /api/admin/health=; * /api/admin/*=admin",
    ];
    let scope_rules = ["", "GET /api/items/*=items:read"];
    let tokens = [
        claims("u-alice", &["reader"], None, Some("s-1")),
        claims(
            "u-root",
            &["reader", "admin"],
            Some("items:read openid"),
            None,
        ),
        claims("u-\"q\"\\\n\u{7f}\u{2028}", &[], Some(""), Some("s\t2")),
    ];
    let partitions = [
        "arn:aws:execute-api:us-east-1:123456789012:abc123/v1",
        "arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:abc123/$default",
    ];
    let routes = [
        "GET/api/me",
        "GET/api/admin/health",
        "DELETE/api/admin/x:a/b/c",
        "POST/api/items/7",
        "GET/api/*/x?",
        "PUT/api/\"quoted\"\\/%3A",
        "GET",
    ];
    let mut compared = 0;
    for (roles, scopes) in role_rules.iter().flat_map(|r| scope_rules.map(|s| (r, s))) {
        let (roles, scopes) = (
            RoutePolicy::parse(roles).unwrap(),
            scope_rules_or_none(scopes),
        );
        let sets = RuleSets {
            roles: &roles,
            scopes: &scopes,
        };
        for (token, base, route) in tokens
            .iter()
            .flat_map(|t| partitions.map(|p| (t, p)))
            .flat_map(|(t, p)| routes.map(|r| (t, p, r)))
        {
            let text = format!("{base}/{route}");
            let arn = MethodArn::parse(&text).unwrap();
            let allowed = sets.permits(arn.method, arn.path, token, false);
            let denied = sets.api_wide_denials(&token.roles, &token_scopes(token));
            let new = parsed(rest_answer(token, allowed, arn, denied.as_deref()));
            assert_eq!(new, old_rest_answer(token, allowed, arn, denied), "{arn:?}");
            // Forbidden as well as allowed, whatever the rules say of this route.
            let denied = sets.api_wide_denials(&token.roles, &token_scopes(token));
            let new = parsed(rest_answer(token, !allowed, arn, denied.as_deref()));
            assert_eq!(new, old_rest_answer(token, !allowed, arn, denied));
            compared += 2;
        }
    }
    assert_eq!(compared, 4 * 2 * 3 * 2 * 7 * 2);
    for token in &tokens {
        let allow = parsed(simple_response(Ok(Verdict::Allow(token.clone()))));
        assert_eq!(allow, old_simple_answer(Some(token)));
        let forbidden = parsed(simple_response(Ok(Verdict::Forbidden(token.clone()))));
        assert_eq!(forbidden, old_simple_answer(None));
    }
    assert_eq!(
        parsed(simple_response(Ok(Verdict::Unauthorized))),
        old_simple_answer(None)
    );
}

fn scope_rules_or_none(spec: &str) -> RoutePolicy {
    match spec {
        "" => RoutePolicy::default(),
        spec => RoutePolicy::parse(spec).unwrap(),
    }
}

#[test]
fn the_answers_keep_every_field_of_the_built_answers() {
    // Parsed values compare equal whatever the key order; this is the answer as written.
    let arn = MethodArn::parse("arn:aws:execute-api:eu-west-1:1:api/v1/GET/api/me").unwrap();
    let token = claims("u-1", &["reader", "audit"], Some("a b"), Some("s-1"));
    let written = rest_answer(&token, true, arn, Some(&["*/admin", "GET/x"])).unwrap();
    assert_eq!(
        written.get(),
        concat!(
            r#"{"principalId":"u-1","policyDocument":{"Version":"2012-10-17","Statement":["#,
            r#"{"Action":["execute-api:Invoke"],"Effect":"Allow","#,
            r#""Resource":["arn:aws:execute-api:eu-west-1:1:api/v1/*"]},"#,
            r#"{"Action":["execute-api:Invoke"],"Effect":"Deny","Resource":["#,
            r#""arn:aws:execute-api:*:*/admin","arn:aws:execute-api:eu-west-1:1:api/v1/GET/x"]}]},"#,
            r#""context":{"sub":"u-1","roles":"reader,audit","sid":"s-1","#,
            r#""jti":"jéti-0123456789abcdef","scope":"a b","client_id":"web"},"#,
            r#""usageIdentifierKey":null}"#
        )
    );
    let refused = simple_response(Ok(Verdict::Unauthorized)).unwrap();
    assert_eq!(refused.get(), r#"{"isAuthorized":false,"context":{}}"#);
}
