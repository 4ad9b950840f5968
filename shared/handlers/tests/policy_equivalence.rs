//! The authorizer's answer means on API Gateway exactly what the route rules say.
//!
//! For random rule sets (literals in either case, `{param}`, a final `*`, method `*`, empty-role
//! exceptions before wider rules), random token roles and random requests (colons, bare
//! prefixes, extra segments, and the spellings a backend reads as another path: letter case,
//! trailing and doubled `/`, dot segments plain and escaped, `;`, escapes, HEAD), the decision
//! API Gateway takes from the authorizer's answer — the IAM policy evaluated by
//! [`iam::evaluate`], or the HTTP API simple response keyed by the route or by the token alone
//! — must be what the route rules say for the request: no bypass and no over-deny. A REST policy
//! is also evaluated for *other* routes, as API Gateway does when it serves the token's cached
//! policy: it may never allow what the rules forbid, and when it claims to cover the whole API
//! (`Allow …/*`) it must answer every route exactly, but for paths with an upper-case letter,
//! which it may refuse (docs/route-rules.md). A reference reading of each request
//! ([`backend_reading`]) must be allowed wherever its spelling is.
//!
//! The rules are both sets (docs/route-rules.md): random role rules and random scope rules
//! (`TOKENGATE_ROUTE_SCOPES`), judged against tokens of every combination of role set and
//! granted scopes; a request must pass both.
//!
//! What "the route rules say" is decided by [`RouteOracle`], a plain reference implementation of
//! the documented grammar kept in `tokengate-testing`, never by `RoutePolicy::permits`: the
//! authorizer's own decision cannot be its judge.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};
use tokengate_domain::clients::Clients;
use tokengate_domain::login::LoginAttempt;
use tokengate_domain::password::{HashParams, Password, PasswordHasher};
use tokengate_domain::ports::{User, UserStatus, UserStore};
use tokengate_domain::username::Username;
use tokengate_handlers::iam::{self, Decision, Reading};
use tokengate_testing::memory::MemoryRig;
use tokengate_testing::paths::backend_reading;
use tokengate_testing::rule_oracle::RouteOracle;

/// The readings of IAM's wildcards a REST policy is evaluated under.
const READINGS: [Reading; 2] = [Reading::Documented, Reading::Widest];
const BASE: &str = "arn:aws:execute-api:eu-west-1:123456789012:api123/v1";
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
/// Path segments requests are made of: rule literals, colons, IAM wildcards, and the spellings
/// a backend may read as another path — other letter case, an empty segment (inside: `//`; at
/// the end: a trailing `/`), dot segments plain and escaped, a `;` parameter, escaped
/// unreserved characters (either hex case), an escape that is no such spelling (`%2F`).
const REQUEST_SEGMENTS: [&str; 20] = [
    "api", "admin", "users", "health", "7", "x:a", "", "b*", "a?", "API", "Admin", "uSERS", ".",
    "..", "%2e%2E", "admin;x", "%61dmin", "%55sers", "us%65rs", "a%2Fb",
];
const RULE_LITERALS: [&str; 7] = ["api", "admin", "users", "health", "7", "x:a", "Users"];
/// Role sets of the tokens the rig hands out (each a user of its own).
/// HTTP API routes a request may have matched: greedy ones, the default route, a literal.
const ROUTE_KEYS: [&str; 4] = [
    "ANY /{proxy+}",
    "ANY /api/{proxy+}",
    "$default",
    "GET /api/me",
];
const TOKEN_ROLES: [&[&str]; 4] = [&["reader"], &["admin"], &["ops"], &["admin", "ops"]];
/// Scope sets granted to the tokens: each role set logs in once with each.
const TOKEN_SCOPES: [&[&str]; 4] = [&[], &["a"], &["b"], &["a", "b"]];
/// Tokens of the fixture: every role set with every scope set.
const TOKENS: usize = TOKEN_ROLES.len() * TOKEN_SCOPES.len();

/// A method, a rule path and the roles it needs, in `TOKENGATE_ROUTE_ROLES` syntax.
fn rule() -> impl Strategy<Value = String> {
    let method = prop_oneof![
        Just("*".to_owned()),
        proptest::sample::select(&METHODS[..]).prop_map(str::to_owned)
    ];
    let segment = prop_oneof![
        4 => proptest::sample::select(&RULE_LITERALS[..]).prop_map(str::to_owned),
        1 => Just("{id}".to_owned()),
    ];
    let path =
        (proptest::collection::vec(segment, 0..4), any::<bool>()).prop_map(|(segs, rest)| {
            let mut segs = segs;
            if rest {
                segs.push("*".to_owned());
            }
            format!("/{}", segs.join("/"))
        });
    let roles = prop_oneof![Just(""), Just("admin"), Just("ops"), Just("admin|ops")];
    (method, path, roles).prop_map(|(m, p, r)| format!("{m} {p}={r}"))
}

/// A scope rule: a role rule's route with scopes where the roles stand.
fn scope_rule() -> impl Strategy<Value = String> {
    rule().prop_map(|r| {
        let (route, roles) = r.split_once('=').expect("a rule has '='");
        let scopes = roles.replace("admin", "a").replace("ops", "b");
        format!("{route}={scopes}")
    })
}

fn request() -> impl Strategy<Value = (String, String)> {
    let method = proptest::sample::select(&METHODS[..]).prop_map(str::to_owned);
    let path = proptest::collection::vec(proptest::sample::select(&REQUEST_SEGMENTS[..]), 0..5)
        .prop_map(|segs| format!("/{}", segs.join("/")));
    (method, path)
}

/// Role rules, scope rules, the token, the requests.
type Case = (Vec<String>, Vec<String>, usize, Vec<(String, String)>);

fn case() -> impl Strategy<Value = Case> {
    (
        proptest::collection::vec(rule(), 1..6),
        proptest::collection::vec(scope_rule(), 0..3),
        0..TOKENS,
        proptest::collection::vec(request(), 1..24),
    )
}

/// The in-memory tokengate with one logged-in user per role set of [`TOKEN_ROLES`].
struct Fixture {
    runtime: tokio::runtime::Runtime,
    rig: MemoryRig,
    tokens: Vec<String>,
}

impl Fixture {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (rig, tokens) = runtime.block_on(async {
            // Scopes `a` and `b` for anyone, through the default client: a login asking for
            // a set gets exactly it, one asking for none gets none.
            let rig = MemoryRig::configured(|auth| {
                auth.clients = Clients::parse("a=;b=", "id=default,scopes=a b", &auth.audience)
                    .expect("valid clients");
            })
            .await;
            let hasher = PasswordHasher::new(HashParams {
                memory_kib: 1024,
                iterations: 1,
                parallelism: 1,
            })
            .expect("valid parameters");
            let mut tokens = Vec::new();
            for (i, roles) in TOKEN_ROLES.iter().enumerate() {
                let name = format!("user{i}");
                rig.store
                    .create_user(&User {
                        username: Username::parse(&name).expect("valid name"),
                        user_id: format!("u-{i}"),
                        password_hash: hasher.hash(&Password::new("pw")).expect("hash"),
                        roles: roles.iter().map(|r| r.to_string()).collect(),
                        status: UserStatus::Active,
                        token_version: 1,
                    })
                    .await
                    .expect("new user");
                for (j, scopes) in TOKEN_SCOPES.iter().enumerate() {
                    let grant = rig
                        .login
                        .login(LoginAttempt {
                            ask: tokengate_domain::clients::GrantRequest {
                                scope: Some(scopes.join(" ")),
                                ..Default::default()
                            },
                            username: name.clone(),
                            password: Password::new("pw"),
                            source_ip: format!("192.0.2.{}", 10 + i * TOKEN_SCOPES.len() + j),
                            device: None,
                        })
                        .await
                        .expect("login");
                    assert_eq!(grant.access.scope, scopes.join(" "));
                    tokens.push(grant.access.token);
                }
            }
            (rig, tokens)
        });
        Self {
            runtime,
            rig,
            tokens,
        }
    }

    fn roles(who: usize) -> Vec<String> {
        let i = who / TOKEN_SCOPES.len();
        TOKEN_ROLES[i].iter().map(|r| r.to_string()).collect()
    }

    fn scopes(who: usize) -> Vec<String> {
        let j = who % TOKEN_SCOPES.len();
        TOKEN_SCOPES[j].iter().map(|r| r.to_string()).collect()
    }
}

fn arn(method: &str, path: &str) -> String {
    format!("{BASE}/{method}{path}")
}

fn runner() -> TestRunner {
    // Enough cases to find each of the bypasses the old Deny-list construction had (bare
    // prefix, `{param}` crossing `/`, ignored first-match exceptions) within a few seconds.
    TestRunner::new(Config {
        cases: 1500,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn the_rest_policy_is_exactly_the_route_rules_fresh_and_cached() {
    let fx = Fixture::new();
    let (api_wide, cases) = (std::cell::Cell::new(0usize), std::cell::Cell::new(0usize));
    let (over_denied, checked) = (std::cell::Cell::new(0usize), std::cell::Cell::new(0usize));
    runner()
        .run(&case(), |(rules, scope_rules, who, requests)| {
            let spec = rules.join("; ");
            let scope_spec = scope_rules.join("; ");
            let rules = RouteOracle::parse(&spec, &scope_spec).expect("generated rules parse");
            let authorizer = fx.rig.authorizer_scoped(&spec, &scope_spec);
            let (roles, scopes) = (Fixture::roles(who), Fixture::scopes(who));
            let spec = format!("{spec} | scopes {scope_spec}");
            let (method, path) = &requests[0];
            let event = json!({
                "type": "TOKEN",
                "authorizationToken": format!("Bearer {}", fx.tokens[who]),
                "methodArn": arn(method, path),
            });
            let answer = fx
                .runtime
                .block_on(authorizer.handle(event))
                .map_err(|e| TestCaseError::fail(format!("{spec}: {method} {path}: {e}")))?;
            let covers_api = allows_every_route(&answer);
            cases.set(cases.get() + 1);
            api_wide.set(api_wide.get() + usize::from(covers_api));
            // Under each reading of IAM's wildcards that AWS's page leaves open (module docs of
            // `iam`): the policy must mean the same whichever AWS implements.
            let readings = READINGS
                .iter()
                .flat_map(|r| requests.iter().enumerate().map(|x| (*r, x)));
            for (reading, (i, (m, p))) in readings {
                let decided =
                    iam::evaluate_as(&answer, &arn(m, p), reading) == Some(Decision::Allow);
                let permitted = rules.allows(m, p, &roles, &scopes);
                let context = format!(
                    "rules {spec:?}, roles {roles:?}, scopes {scopes:?}, policy for {method} {path}, request {m} {p}: \
                     gateway ({reading:?}) {decided}, rules {permitted}\n{answer:#}"
                );
                // No bypass, ever: not for this route, not from the cache for another one.
                prop_assert!(!decided || permitted, "bypass: {}", context);
                if i == 0 || covers_api {
                    // The route asked about is answered exactly; so is every route when the
                    // policy claims the whole API. The exceptions (docs/route-rules.md) may
                    // only refuse: a route-scoped answer for a path holding an IAM wildcard,
                    // and a whole-API answer for a path holding an upper-case letter (IAM
                    // cannot say "this literal in any case" without 2^n patterns).
                    let scoped_wildcard = !covers_api && iam::has_wildcard(p);
                    let upper_case = covers_api && p.bytes().any(|b| b.is_ascii_uppercase());
                    prop_assert!(
                        decided == permitted || ((scoped_wildcard || upper_case) && !decided),
                        "over-deny: {}",
                        context
                    );
                    if decided != permitted {
                        over_denied.set(over_denied.get() + 1);
                    }
                }
                checked.set(checked.get() + 1);
                // A spelling a backend reads as a refused request
                // is refused, fresh and (for a whole-API policy) from the cache.
                let (pm, pp) = backend_reading(m, p);
                if (pm.as_str(), pp.as_str()) != (m.as_str(), p.as_str()) {
                    prop_assert!(
                        !permitted || rules.allows(&pm, &pp, &roles, &scopes),
                        "{} reads as {} {}, which the rules refuse: {}",
                        p,
                        pm,
                        pp,
                        context
                    );
                    let plain_allowed =
                        iam::evaluate_as(&answer, &arn(&pm, &pp), reading) == Some(Decision::Allow);
                    prop_assert!(
                        !covers_api || !decided || plain_allowed,
                        "cache: {} reads as {} {}, which the policy refuses: {}",
                        p,
                        pm,
                        pp,
                        context
                    );
                }
            }
            Ok(())
        })
        .unwrap();
    // The exact whole-API policy must be the common answer, or caching is worth little.
    let (api_wide, cases) = (api_wide.get(), cases.get());
    assert!(
        api_wide * 2 > cases,
        "only {api_wide} of {cases} policies covered the whole API"
    );
    // The tolerated refusals beyond the rules stay rare, even on these case-mixing requests.
    let (over_denied, checked) = (over_denied.get(), checked.get());
    assert!(
        over_denied * 20 < checked,
        "{over_denied} of {checked} decisions refused beyond the rules"
    );
}

#[test]
fn the_http_api_answer_is_the_route_rules_for_the_request_not_the_route_template() {
    let fx = Fixture::new();
    runner()
        .run(
            &(
                case(),
                proptest::sample::select(&ROUTE_KEYS[..]),
                any::<bool>(),
            ),
            |((rules, scope_rules, who, requests), route_key, named_stage)| {
                let spec = rules.join("; ");
                let scope_spec = scope_rules.join("; ");
                let rules = RouteOracle::parse(&spec, &scope_spec).expect("generated rules parse");
                let authorizer = fx.rig.authorizer_scoped(&spec, &scope_spec);
                let (roles, scopes) = (Fixture::roles(who), Fixture::scopes(who));
                let spec = format!("{spec} | scopes {scope_spec}");
                for (m, p) in &requests {
                    let stage = if named_stage { "v1" } else { "$default" };
                    let raw_path = if named_stage {
                        format!("/v1{p}")
                    } else {
                        p.clone()
                    };
                    // Keyed by token, method and path, the answer is the rules' for the request;
                    // keyed by the token alone, it must fit every route the token calls.
                    let keyed_by_route = (m.len() + p.len()) % 2 == 0;
                    let event = v2_event(
                        &fx.tokens[who],
                        route_key,
                        stage,
                        m,
                        &raw_path,
                        keyed_by_route,
                    );
                    let answer = fx
                        .runtime
                        .block_on(authorizer.handle(event))
                        .map_err(|e| TestCaseError::fail(format!("{spec}: {m} {p}: {e}")))?;
                    let expected = rules.allows(m, p, &roles, &scopes)
                        && (keyed_by_route || rules.refuses_nowhere(&roles, &scopes));
                    prop_assert_eq!(
                        answer["isAuthorized"].as_bool(),
                        Some(expected),
                        "rules {:?}, roles {:?}, route {} on stage {}, request {} {}, keyed {}",
                        spec,
                        roles,
                        route_key,
                        stage,
                        m,
                        raw_path,
                        keyed_by_route
                    );
                }
                Ok(())
            },
        )
        .unwrap();
}

/// The whole-API policy's Denies of non-canonical spellings are written so that they match
/// whether IAM lets a mid-segment `*` cross `:` or not (IAM, "Policy elements: Resource": only a
/// `*` that ends an ARN segment is said to cross colons): as first written, after the anchor
/// `arn:aws:execute-api:`, they matched nothing under the page's reading.
#[test]
fn a_cached_policy_refuses_every_non_canonical_spelling_under_either_reading_of_iam_wildcards() {
    let fx = Fixture::new();
    let authorizer = fx.rig.authorizer("* /api/admin/*=admin");
    let event = json!({
        "type": "TOKEN",
        "authorizationToken": format!("Bearer {}", fx.tokens[0]),
        "methodArn": arn("GET", "/api/me"),
    });
    let answer = fx
        .runtime
        .block_on(authorizer.handle(event))
        .expect("answer");
    assert!(allows_every_route(&answer), "{answer:#}");
    for (m, p) in [
        ("GET", "/api//admin"),
        ("GET", "/x:y/api//admin"),
        ("GET", "/api/me/../admin"),
        ("DELETE", "/x:y/./admin"),
        ("GET", "/api/admin;x"),
        ("GET", "/api/%61dmin"),
        ("GET", "/x:a/"),
        ("GET", "/x:a/b:c/"),
        ("GET", "/api/me/"),
    ] {
        for reading in READINGS {
            assert_ne!(
                iam::evaluate_as(&answer, &arn(m, p), reading),
                Some(Decision::Allow),
                "{m} {p} ({reading:?})\n{answer:#}"
            );
        }
    }
    for reading in READINGS {
        let me = iam::evaluate_as(&answer, &arn("GET", "/api/me"), reading);
        assert_eq!(me, Some(Decision::Allow), "{reading:?}");
        let colon = iam::evaluate_as(&answer, &arn("GET", "/x:a/b"), reading);
        assert_eq!(colon, Some(Decision::Allow), "{reading:?}");
    }
}

/// Whether the answer's Allow covers every method ARN of the API (a cache-wide policy).
fn allows_every_route(answer: &Value) -> bool {
    answer["policyDocument"]["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["Effect"] == "Allow" && s["Resource"] == json!([format!("{BASE}/*")]))
}

/// An HTTP API (payload 2.0) authorizer event as API Gateway sends it on its execute-api
/// domain: a named stage is the first segment of `rawPath` and `requestContext.http.path`.
/// Its identity-source values are the token's, and the method's and path's if `keyed_by_route`.
fn v2_event(
    token: &str,
    route_key: &str,
    stage: &str,
    method: &str,
    raw_path: &str,
    keyed_by_route: bool,
) -> Value {
    let mut identity = vec![format!("Bearer {token}")];
    if keyed_by_route {
        identity.extend([method.to_owned(), raw_path.to_owned()]);
    }
    json!({
        "version": "2.0", "type": "REQUEST",
        "routeArn": format!("arn:aws:execute-api:eu-west-1:123456789012:api123/{stage}/{method}{raw_path}"),
        "identitySource": identity,
        "routeKey": route_key, "rawPath": raw_path, "rawQueryString": "",
        "headers": { "authorization": format!("Bearer {token}") },
        "requestContext": {
            "accountId": "123456789012", "apiId": "api123",
            "domainName": "api123.execute-api.eu-west-1.amazonaws.com", "domainPrefix": "api123",
            "http": { "method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "t" },
            "requestId": "r", "routeKey": route_key, "stage": stage, "time": "t", "timeEpoch": 0
        }
    })
}
