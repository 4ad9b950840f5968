//! How API Gateway applies a Lambda authorizer's IAM policy to a request: the one evaluator the
//! local gateway runs and the policy property tests check the authorizer against. Its own
//! test vectors, each quoted from AWS's documentation, are in `tests/iam_vectors.rs`.
//!
//! Rules (IAM policy evaluation logic, restricted to what an authorizer policy can say): a
//! statement applies when one of its `Action`s is `execute-api:Invoke`, `execute-api:*` or `*`
//! and one of its `Resource`s matches the method ARN; an applicable `Deny` wins (an explicit
//! deny); otherwise an applicable `Allow` is needed; nothing applicable is an implicit deny.
//! API Gateway tells the two apart in its 403 message (AWS Knowledge Center, "How do I
//! troubleshoot HTTP 403 Forbidden errors when using a Lambda authorizer with an API Gateway
//! REST API?").
//!
//! Wildcards, as IAM's "Policy elements: Resource" page words them: "You can use wildcard
//! characters (* and ?) within the individual segments of an ARN (the parts separated by
//! colons)", `*` any combination of characters, `?` any single character, and "If the *
//! wildcard is the last character of a resource ARN segment, it can expand to match beyond the
//! colon boundaries". So here `?` and a `*` inside a segment never match a `:`; a `*` that
//! ends a segment (before a `:` or at the end) matches anything; both cross `/` ("including
//! characters like a forward slash (/)"). Matching is case-sensitive.
//!
//! The page leaves one point open: whether a wildcard inside the resource part of an ARN (after
//! the fifth `:`, where a path may hold `:`) stops at `:` — another reading counts only the
//! first five fields as segments. [`Reading::Widest`] is that reading at its widest (every
//! wildcard crosses `:`, as this evaluator once had it); the property tests hold the authorizer
//! to both, so its policies mean the same on AWS whichever is true.

use serde_json::Value;

/// The outcome of evaluating a policy for one method ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// An Allow applies and no Deny does.
    Allow,
    /// A Deny applies (API Gateway: 403 "User is not authorized to access this resource with
    /// an explicit deny").
    ExplicitDeny,
    /// Neither applies (API Gateway: 403 "User is not authorized to access this resource").
    ImplicitDeny,
}

/// How IAM's wildcards treat `:` (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// The page's words: `?` and a `*` inside a segment stop at `:`; a segment-final `*` does not.
    Documented,
    /// Every `*` and `?` matches `:` too.
    Widest,
}

/// Evaluates an authorizer response's `policyDocument` for `method_arn` as IAM's page reads
/// wildcards; `None` when the response has no readable policy (API Gateway treats that as an
/// authorizer failure).
pub fn evaluate(response: &Value, method_arn: &str) -> Option<Decision> {
    evaluate_as(response, method_arn, Reading::Documented)
}

/// [`evaluate`] with the wildcards read as `reading` says.
pub fn evaluate_as(response: &Value, method_arn: &str, reading: Reading) -> Option<Decision> {
    let statements = response.get("policyDocument")?.get("Statement")?;
    let statements: Vec<&Value> = match statements {
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => vec![statements],
        _ => return None,
    };
    let applies = |effect: &str| {
        statements.iter().any(|s| {
            s.get("Effect").and_then(Value::as_str) == Some(effect)
                && strings(s.get("Action"))
                    .any(|a| matches!(a, "execute-api:Invoke" | "execute-api:*" | "*"))
                && strings(s.get("Resource")).any(|r| matches_as(r, method_arn, reading))
        })
    };
    Some(if applies("Deny") {
        Decision::ExplicitDeny
    } else if applies("Allow") {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    })
}

/// A string or a list of strings, as IAM accepts for `Action` and `Resource`.
fn strings(v: Option<&Value>) -> impl Iterator<Item = &str> {
    let list: Vec<&str> = match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    list.into_iter()
}

/// IAM wildcard match of a whole ARN `text` against `pattern` (see the module docs): `?` is one
/// character other than `:`, `*` any run of characters — without `:` unless the `*` ends its
/// segment.
pub fn matches(pattern: &str, text: &str) -> bool {
    matches_as(pattern, text, Reading::Documented)
}

/// [`matches`] with the wildcards read as `reading` says.
pub fn matches_as(pattern: &str, text: &str, reading: Reading) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    glob(&p, &t, reading == Reading::Widest)
}

/// `wide`: every wildcard matches `:` ([`Reading::Widest`]).
fn glob(mut p: &[char], mut t: &[char], wide: bool) -> bool {
    // Literals and `?` one by one; recursion only at a `*`.
    loop {
        match p.first() {
            None => return t.is_empty(),
            Some('*') => break,
            Some('?') if t.first().is_some_and(|&c| wide || c != ':') => {}
            Some(&c) if t.first() == Some(&c) => {}
            Some(_) => return false,
        }
        (p, t) = (&p[1..], &t[1..]);
    }
    let rest = &p[1..];
    let Some(&next) = rest.first() else {
        // A `*` at the end ends its segment: it matches the rest, colons included.
        return true;
    };
    let crosses_colons = wide || next == ':';
    // Try each length for the `*`; only where the next literal matches can the rest succeed,
    // which keeps authorizer policies (a literal after each `*`) about linear.
    for k in 0..=t.len() {
        let fits = matches!(next, '*' | '?') || t.get(k) == Some(&next);
        if fits && glob(rest, &t[k..], wide) {
            return true;
        }
        if k == t.len() || (t[k] == ':' && !crosses_colons) {
            return false;
        }
    }
    false
}

/// Whether `text` holds a character IAM may read as more than itself in a resource: the
/// wildcards `*` and `?`, and `$`, which starts a policy variable (`${…}`) in policies of
/// version 2012-10-17.
pub fn has_wildcard(text: &str) -> bool {
    text.contains(['*', '?', '$'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const BASE: &str = "arn:aws:execute-api:us-east-1:123456789012:api/v1";

    fn policy(statements: Value) -> Value {
        json!({ "principalId": "u1", "policyDocument": { "Version": "2012-10-17", "Statement": statements } })
    }

    #[test]
    fn wildcards_cross_slashes_and_only_a_segment_final_star_crosses_colons() {
        assert!(matches("a*c", "abbbc"));
        assert!(matches("a/*/*", "a/GET/api/me"));
        assert!(matches("a/*/api/admin/*", "a/GET/x/api/admin/y"));
        assert!(matches("a/GET/*", "a/GET/x:y/z"));
        assert!(matches("a?c", "a/c"));
        assert!(matches("a*", "a"));
        assert!(matches("a*:c", "ab:b:c"));
        assert!(!matches("a*c", "a:c"));
        assert!(!matches("a?c", "a:c"));
        assert!(!matches("a/GET/x", "a/GET/xy"));
        assert!(!matches("a/GET/x/*", "a/GET/x"));
        assert!(!matches("a?c", "ac"));
        assert!(!matches("A", "a"));
        assert!(matches_as("a*c", "a:c", Reading::Widest));
        assert!(matches_as("a?c", "a:c", Reading::Widest));
    }

    #[test]
    fn explicit_deny_wins_and_no_allow_is_an_implicit_deny() {
        let arn = format!("{BASE}/GET/api/me");
        let allow_all = json!({ "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": format!("{BASE}/*") });
        let deny_api = json!({ "Effect": "Deny", "Action": ["execute-api:Invoke"], "Resource": [format!("{BASE}/GET/api/*")] });
        let allow_post = json!({ "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": format!("{BASE}/POST/*") });
        assert_eq!(
            evaluate(&policy(json!([allow_all])), &arn),
            Some(Decision::Allow)
        );
        assert_eq!(
            evaluate(&policy(json!([allow_all, deny_api])), &arn),
            Some(Decision::ExplicitDeny)
        );
        assert_eq!(
            evaluate(&policy(json!([allow_post])), &arn),
            Some(Decision::ImplicitDeny)
        );
        assert_eq!(
            evaluate(&policy(json!([])), &arn),
            Some(Decision::ImplicitDeny)
        );
    }

    #[test]
    fn statements_for_other_actions_do_not_apply() {
        let arn = format!("{BASE}/GET/api/me");
        let other = json!([{ "Effect": "Allow", "Action": "execute-api:ManageConnections", "Resource": "*" }]);
        assert_eq!(evaluate(&policy(other), &arn), Some(Decision::ImplicitDeny));
        let single = json!({ "Effect": "Allow", "Action": "*", "Resource": "*" });
        assert_eq!(evaluate(&policy(single), &arn), Some(Decision::Allow));
    }

    #[test]
    fn a_response_without_a_policy_is_unreadable() {
        assert_eq!(evaluate(&json!({ "principalId": "u1" }), "x"), None);
        assert_eq!(
            evaluate(&json!({ "policyDocument": { "Statement": 3 } }), "x"),
            None
        );
    }
}
