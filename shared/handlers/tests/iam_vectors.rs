//! Test vectors for the IAM evaluator (`tokengate_handlers::iam`), each taken from AWS's own
//! documentation and cited with the page and the words it rests on, so that the evaluator the
//! local gateway and the policy property test share is held to AWS, not to itself.
//!
//! Pages (AWS documentation, read 2026-12-06):
//! - [RESOURCE]: IAM User Guide, "IAM JSON policy elements: Resource", section "Using wildcards
//!   in resource ARNs".
//! - [DENIES]: IAM User Guide, "The difference between explicit and implicit denies" (policy
//!   evaluation logic).
//! - [EXAMPLES]: API Gateway Developer Guide, "IAM policy examples for API execution
//!   permissions".
//! - [INVOKE]: API Gateway Developer Guide, "Control access for invoking an API", "Resource
//!   format of permissions for executing API in API Gateway" (awsdocs copy,
//!   `doc_source/api-gateway-control-access-using-iam-policies-to-invoke-api.md`).
//! - [OUTPUT]: API Gateway Developer Guide, "Output from an API Gateway Lambda authorizer".
//! - [CACHED]: AWS Knowledge Center, "Why is my API Gateway proxy resource with a Lambda
//!   authorizer that has caching activated returning HTTP 403 'User is not authorized to access
//!   this resource' errors?".

use serde_json::{json, Value};
use tokengate_handlers::iam::{evaluate, matches, matches_as, Decision, Reading};

/// One documented match: does `pattern` (a `Resource`) cover `arn`?
struct Vector {
    source: &'static str,
    pattern: &'static str,
    arn: &'static str,
    matches: bool,
}

const fn v(source: &'static str, pattern: &'static str, arn: &'static str, m: bool) -> Vector {
    Vector {
        source,
        pattern,
        arn,
        matches: m,
    }
}

const BUCKET_TEST: &str = "arn:aws:s3:::amzn-s3-demo-bucket/*/test/*";
const DEMO_POST: &str =
    "arn:aws:execute-api:us-east-1:*:a123456789/test/POST/my-demo-resource-path/*";
const PETS_ANY: &str = "arn:aws:execute-api:*:*:a123456789/*/*/petstorewalkthrough/pets";
const API: &str = "arn:aws:execute-api:us-east-1:111122223333:a123456789";

/// Vectors on which every reading of the page agrees (no wildcard stands where a `:` is).
const AGREED: &[Vector] = &[
    // [RESOURCE] "The following example refers to all IAM users whose path is /accounting.
    // "Resource": "arn:aws:iam::account-ID-without-hyphens:user/accounting/*""
    v("RESOURCE /accounting", "arn:aws:iam::account-ID-without-hyphens:user/accounting/*", "arn:aws:iam::account-ID-without-hyphens:user/accounting/alice", true),
    v("RESOURCE /accounting", "arn:aws:iam::account-ID-without-hyphens:user/accounting/*", "arn:aws:iam::account-ID-without-hyphens:user/marketing/alice", false),
    // [RESOURCE] "In the Resource element, the IAM user name is case sensitive."
    v("RESOURCE case", "arn:aws:iam::account-ID-without-hyphens:user/Bob", "arn:aws:iam::account-ID-without-hyphens:user/Bob", true),
    v("RESOURCE case", "arn:aws:iam::account-ID-without-hyphens:user/Bob", "arn:aws:iam::account-ID-without-hyphens:user/bob", false),
    // [RESOURCE] "The following example refers to all items within a specific Amazon S3 bucket.
    // "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*""
    v("RESOURCE bucket", "arn:aws:s3:::amzn-s3-demo-bucket/*", "arn:aws:s3:::amzn-s3-demo-bucket/photos/2024/a.jpg", true),
    // [RESOURCE] "The asterisk (*) character can expand to replace everything within a segment,
    // including characters like a forward slash (/) ... "Resource":
    // "arn:aws:s3:::amzn-s3-demo-bucket/*/test/*" The wildcards in the ARN apply to all of the
    // following objects in the bucket, not only the first object listed."
    v("RESOURCE */test/*", BUCKET_TEST, "arn:aws:s3:::amzn-s3-demo-bucket/1/test/object.jpg", true),
    v("RESOURCE */test/*", BUCKET_TEST, "arn:aws:s3:::amzn-s3-demo-bucket/1/2/test/object.jpg", true),
    v("RESOURCE */test/*", BUCKET_TEST, "arn:aws:s3:::amzn-s3-demo-bucket/1/2/test/3/object.jpg", true),
    v("RESOURCE */test/*", BUCKET_TEST, "arn:aws:s3:::amzn-s3-demo-bucket/1/2/3/test/4/object.jpg", true),
    v("RESOURCE */test/*", BUCKET_TEST, "arn:aws:s3:::amzn-s3-demo-bucket/1///test///object.jpg", true),
    v("RESOURCE */test/*", BUCKET_TEST, "arn:aws:s3:::amzn-s3-demo-bucket/1/test/.jpg", true),
    v("RESOURCE */test/*", BUCKET_TEST, "arn:aws:s3:::amzn-s3-demo-bucket//test/object.jpg", true),
    v("RESOURCE */test/*", BUCKET_TEST, "arn:aws:s3:::amzn-s3-demo-bucket/1/test/", true),
    // [RESOURCE] "The ARN would not match the following objects:"
    v("RESOURCE */test/*", BUCKET_TEST, "arn:aws:s3:::amzn-s3-demo-bucket/1-test/object.jpg", false),
    v("RESOURCE */test/*", BUCKET_TEST, "arn:aws:s3:::amzn-s3-demo-bucket/test/object.jpg", false),
    v("RESOURCE */test/*", BUCKET_TEST, "arn:aws:s3:::amzn-s3-demo-bucket/1/2/test.jpg", false),
    // [RESOURCE] "Any single character (?)": one character, never none, never two.
    v("RESOURCE ?", "arn:aws:execute-api:us-east-1:111122223333:a123456789/test/???/pets", "arn:aws:execute-api:us-east-1:111122223333:a123456789/test/GET/pets", true),
    v("RESOURCE ?", "arn:aws:execute-api:us-east-1:111122223333:a123456789/test/???/pets", "arn:aws:execute-api:us-east-1:111122223333:a123456789/test/POST/pets", false),
    v("RESOURCE ?", "arn:aws:execute-api:us-east-1:111122223333:a123456789/test/????/pets", "arn:aws:execute-api:us-east-1:111122223333:a123456789/test/GET/pets", false),
    // [EXAMPLES] "The following policy statement gives the user permission to call any POST
    // method along the path of mydemoresource, in the stage of test, for the API with the
    // identifier of a123456789, assuming the corresponding API has been deployed to the AWS
    // region of us-east-1: ... "arn:aws:execute-api:us-east-1:*:a123456789/test/POST/my-demo-resource-path/*""
    v("EXAMPLES POST", DEMO_POST, "arn:aws:execute-api:us-east-1:111122223333:a123456789/test/POST/my-demo-resource-path/items", true),
    v("EXAMPLES POST", DEMO_POST, "arn:aws:execute-api:us-east-1:111122223333:a123456789/test/POST/my-demo-resource-path/items/7", true),
    v("EXAMPLES POST", DEMO_POST, "arn:aws:execute-api:us-east-1:111122223333:a123456789/test/GET/my-demo-resource-path/items", false),
    v("EXAMPLES POST", DEMO_POST, "arn:aws:execute-api:us-east-1:111122223333:a123456789/prod/POST/my-demo-resource-path/items", false),
    v("EXAMPLES POST", DEMO_POST, "arn:aws:execute-api:eu-west-1:111122223333:a123456789/test/POST/my-demo-resource-path/items", false),
    // [EXAMPLES] "The following example policy statement gives the user permission to call any
    // method on the resource path of petstorewalkthrough/pets, in any stage, for the API with
    // the identifier of a123456789, in any AWS region where the corresponding API has been
    // deployed: ... "arn:aws:execute-api:*:*:a123456789/*/*/petstorewalkthrough/pets""
    v("EXAMPLES pets", PETS_ANY, "arn:aws:execute-api:us-west-2:111122223333:a123456789/prod/GET/petstorewalkthrough/pets", true),
    v("EXAMPLES pets", PETS_ANY, "arn:aws:execute-api:us-east-1:444455556666:a123456789/test/DELETE/petstorewalkthrough/pets", true),
    v("EXAMPLES pets", PETS_ANY, "arn:aws:execute-api:us-west-2:111122223333:a123456789/prod/GET/petstorewalkthrough/pets/1", false),
    v("EXAMPLES pets", PETS_ANY, "arn:aws:execute-api:us-west-2:111122223333:b987654321/prod/GET/petstorewalkthrough/pets", false),
    // [INVOKE] "arn:aws:execute-api:*:*:* for any resource path in any stage, for any API in any
    // AWS region. (This is equivalent to *)."
    v("INVOKE *:*:*", "arn:aws:execute-api:*:*:*", "arn:aws:execute-api:ap-south-1:111122223333:a123456789/v1/PATCH/a/b/c", true),
    v("INVOKE *:*:*", "*", "arn:aws:execute-api:ap-south-1:111122223333:a123456789/v1/PATCH/a/b/c", true),
    // [INVOKE] "arn:aws:execute-api:us-east-1:*:* for any resource path in any stage, for any API
    // in the AWS region of us-east-1."
    v("INVOKE us-east-1", "arn:aws:execute-api:us-east-1:*:*", "arn:aws:execute-api:us-east-1:111122223333:a123456789/test/GET/pets", true),
    v("INVOKE us-east-1", "arn:aws:execute-api:us-east-1:*:*", "arn:aws:execute-api:us-west-2:111122223333:a123456789/test/GET/pets", false),
    // [INVOKE] "arn:aws:execute-api:us-east-1:*:api-id/test/*/mydemoresource/* for any resource
    // path along the path of mydemoresource, for any HTTP method in the stage of test"
    v("INVOKE test/*/mydemoresource", "arn:aws:execute-api:us-east-1:*:api-id/test/*/mydemoresource/*", "arn:aws:execute-api:us-east-1:111122223333:api-id/test/PUT/mydemoresource/a/b", true),
    v("INVOKE test/*/mydemoresource", "arn:aws:execute-api:us-east-1:*:api-id/test/*/mydemoresource/*", "arn:aws:execute-api:us-east-1:111122223333:api-id/prod/PUT/mydemoresource/a", false),
    // [INVOKE] "arn:aws:execute-api:us-east-1:*:api-id/test/GET/mydemoresource/* for GET methods
    // under any resource path along the path of mydemoresource, in the stage of test"
    v("INVOKE test/GET/mydemoresource", "arn:aws:execute-api:us-east-1:*:api-id/test/GET/mydemoresource/*", "arn:aws:execute-api:us-east-1:111122223333:api-id/test/GET/mydemoresource/x", true),
    v("INVOKE test/GET/mydemoresource", "arn:aws:execute-api:us-east-1:*:api-id/test/GET/mydemoresource/*", "arn:aws:execute-api:us-east-1:111122223333:api-id/test/POST/mydemoresource/x", false),
];

/// Where a wildcard stands before a `:`: the page's words, read literally. "You can use wildcard
/// characters (* and ?) within the individual segments of an ARN (the parts separated by
/// colons)"; "If the * wildcard is the last character of a resource ARN segment, it can expand
/// to match beyond the colon boundaries." ([RESOURCE])
const COLONS: &[Vector] = &[
    // A segment-final `*` (the end of the ARN, or before a `:`) crosses `:`.
    v(
        "RESOURCE last *",
        "arn:aws:execute-api:us-east-1:111122223333:a123456789/test/GET/*",
        "arn:aws:execute-api:us-east-1:111122223333:a123456789/test/GET/x:y/z",
        true,
    ),
    v(
        "RESOURCE last *",
        "arn:aws:execute-api:*:a123456789/test/GET/pets",
        "arn:aws:execute-api:us-east-1:111122223333:a123456789/test/GET/pets",
        true,
    ),
    // A `*` or `?` inside a segment stays inside it.
    v(
        "RESOURCE within",
        "arn:aws:execute-api:us-east-1:111122223333:a123456789/test/*/pets",
        "arn:aws:execute-api:us-east-1:111122223333:a123456789/test/GET/x:y/pets",
        false,
    ),
    v(
        "RESOURCE within",
        "arn:aws:execute-api:*/test/GET/pets",
        "arn:aws:execute-api:us-east-1:111122223333:a123456789/test/GET/pets",
        false,
    ),
    v(
        "RESOURCE within",
        "arn:aws:execute-api:us-east-1:111122223333:a123456789/test/GET/x?y",
        "arn:aws:execute-api:us-east-1:111122223333:a123456789/test/GET/x:y",
        false,
    ),
];

#[test]
fn resource_wildcards_match_as_the_iam_and_api_gateway_pages_say() {
    for case in AGREED {
        for reading in [Reading::Documented, Reading::Widest] {
            assert_eq!(
                matches_as(case.pattern, case.arn, reading),
                case.matches,
                "[{}] {} against {} ({reading:?})",
                case.source,
                case.pattern,
                case.arn
            );
        }
    }
}

#[test]
fn only_a_star_that_ends_an_arn_segment_crosses_a_colon() {
    for case in COLONS {
        assert_eq!(
            matches(case.pattern, case.arn),
            case.matches,
            "[{}] {} against {}",
            case.source,
            case.pattern,
            case.arn
        );
    }
    // The widest reading, which the property tests also hold the authorizer to, lets every
    // wildcard cross.
    assert!(COLONS
        .iter()
        .all(|c| matches_as(c.pattern, c.arn, Reading::Widest)));
}

fn answer(statements: Value) -> Value {
    json!({ "principalId": "u1", "policyDocument": { "Version": "2012-10-17", "Statement": statements } })
}

fn statement(effect: &str, resource: String) -> Value {
    json!({ "Effect": effect, "Action": ["execute-api:Invoke"], "Resource": [resource] })
}

#[test]
fn an_applicable_deny_is_explicit_and_wins_and_nothing_applicable_is_an_implicit_deny() {
    // [INVOKE] "to grant a user permission to view a list of pets exposed by a specified API,
    // but to deny the user permission to add a pet to the list, you could include the
    // following statement": Allow ".../*/GET/pets", Deny ".../*/POST/pets".
    let pets = answer(json!([
        statement(
            "Allow",
            "arn:aws:execute-api:us-east-1:111122223333:api-id/*/GET/pets".into()
        ),
        statement(
            "Deny",
            "arn:aws:execute-api:us-east-1:111122223333:api-id/*/POST/pets".into()
        ),
    ]));
    let at = |verb_path: &str| {
        format!("arn:aws:execute-api:us-east-1:111122223333:api-id/test/{verb_path}")
    };
    assert_eq!(evaluate(&pets, &at("GET/pets")), Some(Decision::Allow));
    // [DENIES] "A request results in an explicit deny if an applicable policy includes a Deny
    // statement."
    assert_eq!(
        evaluate(&pets, &at("POST/pets")),
        Some(Decision::ExplicitDeny)
    );
    // [DENIES] "An implicit denial occurs when there is no applicable Deny statement but also no
    // applicable Allow statement."
    assert_eq!(
        evaluate(&pets, &at("GET/pets/a1b2")),
        Some(Decision::ImplicitDeny)
    );
    // [DENIES] "If policies that apply to a request include an Allow statement and a Deny
    // statement, the Deny statement trumps the Allow statement. The request is explicitly
    // denied."
    let both = answer(json!([
        statement("Allow", format!("{API}/*")),
        statement("Deny", format!("{API}/test/DELETE/*")),
    ]));
    assert_eq!(
        evaluate(&both, &format!("{API}/test/DELETE/pets/1")),
        Some(Decision::ExplicitDeny)
    );
    assert_eq!(
        evaluate(&both, &format!("{API}/test/GET/pets/1")),
        Some(Decision::Allow)
    );
    assert_eq!(
        evaluate(&answer(json!([])), &at("GET/pets")),
        Some(Decision::ImplicitDeny)
    );
}

#[test]
fn an_authorizer_output_is_read_as_api_gateway_documents_it() {
    // [OUTPUT] The documented shape: one statement, `Action` and `Resource` as plain strings,
    // "arn:aws:execute-api:{regionId}:{accountId}:{apiId}/{stage}/{httpVerb}/[{resource}/[{child-resources}]]",
    // and "You can use a wild card (*) to specify a resource type (method)."
    let output = json!({
        "principalId": "yyyyyyyy",
        "policyDocument": { "Version": "2012-10-17", "Statement": [
            { "Action": "execute-api:Invoke", "Effect": "Allow", "Resource": format!("{API}/test/*/pets") }
        ] },
        "context": { "stringKey": "value", "numberKey": "1", "booleanKey": "true" }
    });
    for verb in ["GET", "POST", "DELETE"] {
        assert_eq!(
            evaluate(&output, &format!("{API}/test/{verb}/pets")),
            Some(Decision::Allow),
            "{verb}"
        );
    }
    assert_eq!(
        evaluate(&output, &format!("{API}/prod/GET/pets")),
        Some(Decision::ImplicitDeny)
    );
}

#[test]
fn a_cached_policy_for_one_path_implicitly_denies_another() {
    // [CACHED] "If the API has a proxy resource with a greedy path variable of {proxy+}, the
    // first authorization succeeds. Any additional API requests made to a different path
    // within the cache's TTL period fail and return the following error: "message": "User is
    // not authorized to access this resource"" — no Deny applies: an implicit deny. "To resolve
    // the issue, you can modify the Lambda authorizer function's code to return a wildcard
    // (*/*) resource in the output instead."
    let first = answer(json!([statement("Allow", format!("{API}/prod/GET/pets"))]));
    assert_eq!(
        evaluate(&first, &format!("{API}/prod/GET/pets")),
        Some(Decision::Allow)
    );
    assert_eq!(
        evaluate(&first, &format!("{API}/prod/GET/owners/7")),
        Some(Decision::ImplicitDeny)
    );
    let wide = answer(json!([statement("Allow", format!("{API}/prod/*/*"))]));
    assert_eq!(
        evaluate(&wide, &format!("{API}/prod/GET/owners/7")),
        Some(Decision::Allow)
    );
}
