//! Route → required roles: configuration, not code, and the IAM policy that says exactly the
//! same.
//!
//! Format (`TOKENGATE_ROUTE_ROLES`): rules separated by `;`, each `METHOD PATH=ROLES` where
//! METHOD is one of API Gateway's methods ([`METHODS`]) or `*` (any of them), PATH starts with
//! `/` and its segments are literals (compared exactly, case-sensitive), `{name}` (exactly one
//! non-empty segment) or a final `*` (the rest of the path, including nothing: `/api/admin/*`
//! matches `/api/admin`, `/api/admin/` and `/api/admin/x/y`), and ROLES is `role1|role2` (any
//! one suffices) or empty (a valid token suffices). The first matching rule wins; a route no
//! rule matches needs a valid token and no role. Example: `GET /api/me=;* /api/admin/*=admin`.

/// The methods API Gateway REST APIs route (`ANY` stands for all of them): the only ones a
/// method ARN can name.
pub const METHODS: [&str; 7] = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];

/// A parsed route policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoutePolicy {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    method: String,
    segments: Vec<Segment>,
    roles: Vec<String>,
    /// IAM patterns (`METHOD/path`) for exactly the requests the rule matches, `None` if none
    /// say it exactly. Spelled out once at parse time: the authorizer needs them on every
    /// request of a token that lacks the rule's roles.
    denials: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param,
    Rest,
}

impl RoutePolicy {
    /// Parses the configuration string; errors name the offending rule.
    pub fn parse(spec: &str) -> anyhow::Result<Self> {
        let mut rules = Vec::new();
        for raw in spec.split(';').map(str::trim).filter(|r| !r.is_empty()) {
            let (route, roles) = raw
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("route rule {raw:?} lacks '='"))?;
            let (method, path) = route.trim().split_once(' ').ok_or_else(|| {
                anyhow::anyhow!("route rule {raw:?} must be 'METHOD /path=roles'")
            })?;
            let method = method.trim().to_ascii_uppercase();
            anyhow::ensure!(
                method == "*" || METHODS.contains(&method.as_str()),
                "route rule {raw:?}: method must be '*' or one of {}",
                METHODS.join(", ")
            );
            let path = path.trim();
            anyhow::ensure!(
                path.starts_with('/'),
                "route rule {raw:?}: path must start with '/'"
            );
            let parts: Vec<&str> = path.split('/').skip(1).collect();
            let mut segments = Vec::new();
            for (i, seg) in parts.iter().enumerate() {
                segments.push(match *seg {
                    "*" if i + 1 == parts.len() => Segment::Rest,
                    "*" => anyhow::bail!("route rule {raw:?}: '*' only as the last segment"),
                    s if s.starts_with('{') && s.ends_with('}') => Segment::Param,
                    // IAM reads these as wildcards (and `$` as the start of a policy
                    // variable): a literal holding one could not be denied exactly.
                    s if s.contains(['*', '?', '$']) => anyhow::bail!(
                        "route rule {raw:?}: '*' only as the whole last segment, no '?' or '$'"
                    ),
                    s => Segment::Literal(s.to_owned()),
                });
            }
            let mut rule = Rule {
                method,
                segments,
                roles: roles
                    .split('|')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned)
                    .collect(),
                denials: None,
            };
            rule.denials = rule.exact_patterns().map(|paths| {
                rule.methods()
                    .iter()
                    .flat_map(|method| paths.iter().map(move |p| format!("{method}{p}")))
                    .collect()
            });
            rules.push(rule);
        }
        Ok(Self { rules })
    }

    /// Roles of which the caller needs one for `method path` (empty: none needed).
    pub fn required_roles(&self, method: &str, path: &str) -> &[String] {
        self.rules
            .iter()
            .find(|r| r.matches(method, path))
            .map(|r| r.roles.as_slice())
            .unwrap_or(&[])
    }

    /// Whether `roles` satisfy the route.
    pub fn permits(&self, method: &str, path: &str, roles: &[String]) -> bool {
        let required = self.required_roles(method, path);
        required.is_empty() || required.iter().any(|r| roles.contains(r))
    }

    /// The routes `roles` may not call, as IAM resource patterns relative to an API stage's
    /// ARN (`METHOD/path`, `*` wildcards), when they can be said exactly: with an Allow of
    /// the whole stage, Denies of exactly these patterns answer every route of the API as
    /// [`permits`](Self::permits) does, so API Gateway may serve the policy from its cache
    /// for any route the token calls next.
    ///
    /// `None` when no set of patterns says it exactly: IAM's `*` crosses `/`, so it cannot
    /// stand for the `{param}` of a forbidden rule, and a Deny cannot make an exception for an
    /// earlier rule that allows part of a later forbidden one. The authorizer then answers for
    /// the one route asked about (see `tokengate_handlers::authorizer`).
    pub fn api_wide_denials(&self, roles: &[String]) -> Option<Vec<&str>> {
        let mut denied = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.satisfied_by(roles) {
                continue;
            }
            let exempted = self.rules[..i]
                .iter()
                .any(|earlier| earlier.satisfied_by(roles) && earlier.overlaps(rule));
            if exempted {
                return None;
            }
            denied.extend(rule.denials.as_ref()?.iter().map(String::as_str));
        }
        Some(denied)
    }

    /// Whether every token gets a whole-API policy, whatever its roles (else some answers are
    /// scoped to one route and authorizer caching must be keyed by route; see the README).
    pub fn always_api_wide(&self) -> bool {
        let mut named: Vec<&String> = self.rules.iter().flat_map(|r| &r.roles).collect();
        named.sort();
        named.dedup();
        // Roles matter only through which rules they satisfy, so the subsets of the named
        // roles cover every token. Beyond a dozen names, say "no" rather than try 2^n sets.
        if named.len() > 12 {
            return false;
        }
        (0..1u32 << named.len()).all(|bits| {
            let roles: Vec<String> = named
                .iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, r)| (*r).clone())
                .collect();
            self.api_wide_denials(&roles).is_some()
        })
    }
}

impl Rule {
    fn matches(&self, method: &str, path: &str) -> bool {
        // Case-blind: a client's `get` must not slip past a `GET` rule where a gateway
        // routes it (method ARNs always spell methods in upper case).
        if self.method != "*" && !self.method.eq_ignore_ascii_case(method) {
            return false;
        }
        let mut parts = path.split('/').skip(1);
        for seg in &self.segments {
            match (seg, parts.next()) {
                (Segment::Rest, _) => return true,
                (Segment::Param, Some(p)) if !p.is_empty() => {}
                (Segment::Literal(l), Some(p)) if l == p => {}
                _ => return false,
            }
        }
        parts.next().is_none()
    }

    fn satisfied_by(&self, roles: &[String]) -> bool {
        self.roles.is_empty() || self.roles.iter().any(|r| roles.contains(r))
    }

    /// The methods the rule names, spelled out: a `*` in a resource would also match `GET/x`
    /// (it crosses `/`), so a method wildcard cannot be written as one.
    fn methods(&self) -> Vec<&str> {
        if self.method == "*" {
            METHODS.to_vec()
        } else {
            vec![self.method.as_str()]
        }
    }

    /// IAM patterns for exactly the paths the rule matches, if there are such patterns.
    fn exact_patterns(&self) -> Option<Vec<String>> {
        let mut prefix = String::new();
        for seg in &self.segments {
            match seg {
                Segment::Literal(l) => {
                    prefix.push('/');
                    prefix.push_str(l);
                }
                Segment::Param => return None,
                // The rest, including nothing: the prefix itself and everything below it.
                Segment::Rest if prefix.is_empty() => return Some(vec!["/*".to_owned()]),
                Segment::Rest => return Some(vec![prefix.clone(), format!("{prefix}/*")]),
            }
        }
        Some(vec![prefix])
    }

    /// Whether some request matches both rules.
    fn overlaps(&self, other: &Rule) -> bool {
        fn paths(a: &[Segment], b: &[Segment]) -> bool {
            match (a.first(), b.first()) {
                (Some(Segment::Rest), _) | (_, Some(Segment::Rest)) | (None, None) => true,
                (None, _) | (_, None) => false,
                (Some(x), Some(y)) => {
                    let one = match (x, y) {
                        (Segment::Literal(l), Segment::Literal(m)) => l == m,
                        (Segment::Literal(l), Segment::Param)
                        | (Segment::Param, Segment::Literal(l)) => !l.is_empty(),
                        _ => true,
                    };
                    one && paths(&a[1..], &b[1..])
                }
            }
        }
        (self.method == "*" || other.method == "*" || self.method == other.method)
            && paths(&self.segments, &other.segments)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(r: &[&str]) -> Vec<String> {
        r.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn first_matching_rule_decides() {
        let p = RoutePolicy::parse(
            "GET /api/me=; * /api/admin/*=admin|ops; DELETE /api/items/{id}=admin",
        )
        .unwrap();
        assert!(p.permits("GET", "/api/me", &[]));
        assert!(!p.permits("POST", "/api/admin/users", &roles(&["user"])));
        assert!(p.permits("POST", "/api/admin/users", &roles(&["ops"])));
        assert!(!p.permits("DELETE", "/api/items/7", &[]));
        assert!(p.permits("GET", "/api/items/7", &[]));
        assert!(p.permits("DELETE", "/api/items/7/extra", &[]));
    }

    #[test]
    fn denials_spell_out_methods_and_cover_the_bare_prefix() {
        let p = RoutePolicy::parse("* /api/admin/*=admin; DELETE /api/items=admin").unwrap();
        let mut expected: Vec<String> = METHODS
            .iter()
            .flat_map(|m| [format!("{m}/api/admin"), format!("{m}/api/admin/*")])
            .collect();
        expected.push("DELETE/api/items".to_owned());
        assert_eq!(p.api_wide_denials(&[]).unwrap(), expected);
        assert_eq!(p.api_wide_denials(&roles(&["admin"])), Some(vec![]));
        assert!(p.always_api_wide());
    }

    #[test]
    fn a_forbidden_param_or_an_earlier_exception_cannot_be_said_api_wide() {
        let param = RoutePolicy::parse("DELETE /api/items/{id}=admin").unwrap();
        assert_eq!(param.api_wide_denials(&[]), None);
        assert_eq!(param.api_wide_denials(&roles(&["admin"])), Some(vec![]));
        let exception = RoutePolicy::parse("GET /api/admin/health=; * /api/admin/*=admin").unwrap();
        assert_eq!(exception.api_wide_denials(&[]), None);
        assert!(!exception.always_api_wide());
        // An earlier rule that shares no request with the forbidden one is no exception.
        let apart =
            RoutePolicy::parse("GET /api/me=; POST /api/{id}=; * /api/admin/*=admin").unwrap();
        assert!(
            apart.api_wide_denials(&[]).is_none(),
            "POST /api/{{id}} overlaps"
        );
        let apart = RoutePolicy::parse("GET /api/me=; * /api/admin/*=admin").unwrap();
        assert!(apart.always_api_wide());
    }

    #[test]
    fn malformed_rules_are_refused_with_the_rule_named() {
        for bad in [
            "GET /api",
            "/api=admin",
            "GET api=x",
            "GET /a/*/b=x",
            "ANY /a=x",
            "GET /a*=x",
            "GET /a/b?=x",
            "GET /a/${x}=x",
        ] {
            let err = RoutePolicy::parse(bad).unwrap_err().to_string();
            assert!(err.contains(bad.split('=').next().unwrap()), "{err}");
        }
    }
}
