//! Runs the Lambda authorizer before guarded routes and applies its answer exactly as API
//! Gateway does: `Unauthorized` → 401, an IAM policy that does not allow the method ARN → 403,
//! otherwise the context goes into `requestContext.authorizer`. Results are cached per token
//! for the template's `ReauthorizeEvery`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::event::method_arn;
use crate::invoke::{Invocation, Invoker};
use crate::template::AuthorizerSpec;

/// The gateway's decision for a guarded request.
#[derive(Debug, PartialEq)]
pub enum Gate {
    /// Pass on, with this `requestContext.authorizer`.
    Allow(Value),
    /// 401.
    Unauthorized,
    /// 403.
    Forbidden,
    /// The authorizer failed (API Gateway's `AUTHORIZER_FAILURE`).
    Failure,
}

/// The authorizer and its result cache.
pub struct Authorizer {
    spec: AuthorizerSpec,
    invoker: Invoker,
    cache: Mutex<HashMap<String, (Instant, Value)>>,
}

/// Entries kept at most; the cache is a local convenience, not a memory sink.
const CACHE_CAPACITY: usize = 10_000;

impl Authorizer {
    /// An authorizer invoked through `invoker`.
    pub fn new(spec: AuthorizerSpec, invoker: Invoker) -> Self {
        Self {
            spec,
            invoker,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Decides for the `Authorization` header of a request to `method path`.
    pub async fn gate(&self, authorization: Option<&str>, method: &str, path: &str) -> Gate {
        // API Gateway answers 401 itself when the identity source is missing.
        let Some(token) = authorization.filter(|t| !t.trim().is_empty()) else {
            return Gate::Unauthorized;
        };
        let arn = method_arn(method, path);
        let policy = match self.cached(token) {
            Some(p) => p,
            None => {
                let event =
                    json!({ "type": "TOKEN", "authorizationToken": token, "methodArn": arn });
                match self.invoker.invoke(&self.spec.function, &event).await {
                    Ok(Invocation::Ok(v)) => {
                        self.store(token, &v);
                        v
                    }
                    Ok(Invocation::FunctionError(m)) if m == "Unauthorized" => {
                        return Gate::Unauthorized
                    }
                    Ok(Invocation::FunctionError(m)) => {
                        tracing::warn!(error = %m, "authorizer returned an error");
                        return Gate::Failure;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "authorizer invocation failed");
                        return Gate::Failure;
                    }
                }
            }
        };
        apply(&policy, &arn)
    }

    fn cached(&self, token: &str) -> Option<Value> {
        let ttl = Duration::from_secs(self.spec.cache_ttl_secs);
        let cache = self.cache.lock().ok()?;
        let (at, v) = cache.get(token)?;
        (at.elapsed() < ttl).then(|| v.clone())
    }

    fn store(&self, token: &str, v: &Value) {
        if self.spec.cache_ttl_secs == 0 {
            return;
        }
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
            cache.insert(token.to_owned(), (Instant::now(), v.clone()));
        }
    }
}

/// IAM evaluation as API Gateway does it: an explicit Deny wins, then an Allow is needed.
fn apply(resp: &Value, arn: &str) -> Gate {
    let statements = resp
        .get("policyDocument")
        .and_then(|p| p.get("Statement"))
        .and_then(Value::as_array);
    let Some(statements) = statements else {
        return Gate::Failure;
    };
    let matches = |effect: &str| {
        statements.iter().any(|s| {
            s.get("Effect").and_then(Value::as_str) == Some(effect)
                && as_list(s.get("Resource")).iter().any(|r| glob(r, arn))
                && as_list(s.get("Action"))
                    .iter()
                    .any(|a| a == "execute-api:Invoke" || a == "*" || a == "execute-api:*")
        })
    };
    if matches("Deny") || !matches("Allow") {
        return Gate::Forbidden;
    }
    let mut ctx = resp.get("context").cloned().unwrap_or_else(|| json!({}));
    if let (Some(obj), Some(p)) = (ctx.as_object_mut(), resp.get("principalId")) {
        obj.insert("principalId".to_owned(), p.clone());
    }
    Gate::Allow(ctx)
}

fn as_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// IAM-style wildcard match: `*` any run of characters, `?` one character.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
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

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:execute-api:us-east-1:000000000000:local/local/GET/api/me";

    fn policy(statements: Value) -> Value {
        json!({ "principalId": "u1", "policyDocument": { "Version": "2012-10-17", "Statement": statements }, "context": { "sub": "u1" } })
    }

    #[test]
    fn allow_passes_context_with_principal() {
        let p = policy(
            json!([{ "Effect": "Allow", "Action": ["execute-api:Invoke"], "Resource": ["arn:aws:execute-api:us-east-1:000000000000:local/local/*/*"] }]),
        );
        assert_eq!(
            apply(&p, ARN),
            Gate::Allow(json!({ "sub": "u1", "principalId": "u1" }))
        );
    }

    #[test]
    fn explicit_deny_wins_over_allow() {
        let p = policy(json!([
            { "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:us-east-1:000000000000:local/local/*/*" },
            { "Effect": "Deny", "Action": "execute-api:Invoke", "Resource": ["arn:aws:execute-api:us-east-1:000000000000:local/local/*/api/*"] }
        ]));
        assert_eq!(apply(&p, ARN), Gate::Forbidden);
    }

    #[test]
    fn no_matching_allow_is_forbidden() {
        let p = policy(
            json!([{ "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:us-east-1:000000000000:local/local/POST/*" }]),
        );
        assert_eq!(apply(&p, ARN), Gate::Forbidden);
    }

    #[test]
    fn glob_matches_like_iam() {
        assert!(glob("a*c", "abbbc"));
        assert!(glob("a/*/*", "a/GET/api/me"));
        assert!(!glob("a/GET/x", "a/GET/xy"));
        assert!(glob("a?c", "abc"));
    }
}
