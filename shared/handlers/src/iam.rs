//! How API Gateway applies a Lambda authorizer's IAM policy to a request: the one evaluator the
//! local gateway runs and the policy property tests check the authorizer against.
//!
//! Rules (IAM policy evaluation, restricted to what an authorizer policy can say): a statement
//! applies when one of its `Action`s is `execute-api:Invoke`, `execute-api:*` or `*` and one of
//! its `Resource`s matches the method ARN; an applicable `Deny` wins; otherwise an applicable
//! `Allow` is needed; nothing applicable is an implicit deny. In resources, `*` matches any run
//! of characters and `?` exactly one — both cross `/` and `:`, as in IAM. Matching is
//! case-sensitive.

use serde_json::Value;

/// The outcome of evaluating a policy for one method ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// An Allow applies and no Deny does.
    Allow,
    /// An explicit Deny applies, or no Allow does (API Gateway answers 403).
    Deny,
}

/// Evaluates an authorizer response's `policyDocument` for `method_arn`; `None` when the
/// response has no readable policy (API Gateway treats that as an authorizer failure).
pub fn evaluate(response: &Value, method_arn: &str) -> Option<Decision> {
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
                && strings(s.get("Resource")).any(|r| matches(r, method_arn))
        })
    };
    Some(if applies("Deny") || !applies("Allow") {
        Decision::Deny
    } else {
        Decision::Allow
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

/// IAM wildcard match of a whole `text` against `pattern`: `*` is any run of characters
/// (`/` and `:` included), `?` exactly one character.
pub fn matches(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Greedy with backtracking to the last `*`: linear in practice, no recursion.
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
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
    fn wildcards_cross_slashes_and_colons() {
        assert!(matches("a*c", "abbbc"));
        assert!(matches("a/*/*", "a/GET/api/me"));
        assert!(matches("a/*/api/admin/*", "a/GET/x/api/admin/y"));
        assert!(matches("a/GET/*", "a/GET/x:y/z"));
        assert!(matches("a?c", "a/c"));
        assert!(matches("a*", "a"));
        assert!(!matches("a/GET/x", "a/GET/xy"));
        assert!(!matches("a/GET/x/*", "a/GET/x"));
        assert!(!matches("a?c", "ac"));
        assert!(!matches("A", "a"));
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
            Some(Decision::Deny)
        );
        assert_eq!(
            evaluate(&policy(json!([allow_post])), &arn),
            Some(Decision::Deny)
        );
        assert_eq!(evaluate(&policy(json!([])), &arn), Some(Decision::Deny));
    }

    #[test]
    fn statements_for_other_actions_do_not_apply() {
        let arn = format!("{BASE}/GET/api/me");
        let other = json!([{ "Effect": "Allow", "Action": "execute-api:ManageConnections", "Resource": "*" }]);
        assert_eq!(evaluate(&policy(other), &arn), Some(Decision::Deny));
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
