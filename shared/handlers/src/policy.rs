//! Route → required roles: configuration, not code.
//!
//! Format (`TOKENGATE_ROUTE_ROLES`): rules separated by `;`, each `METHOD PATH=ROLES` where
//! METHOD is an HTTP method or `*`, PATH is a path whose segments may be `{name}` (one segment)
//! or a final `*` (the rest), and ROLES is `role1|role2` (any one suffices) or empty (a valid
//! token suffices). The first matching rule wins; a route no rule matches needs a valid token
//! and no role. Example: `GET /api/me=;* /api/admin/*=admin`.

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
                    s => Segment::Literal(s.to_owned()),
                });
            }
            rules.push(Rule {
                method: method.trim().to_ascii_uppercase(),
                segments,
                roles: roles
                    .split('|')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned)
                    .collect(),
            });
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

    /// Routes `roles` may not call, as `(METHOD or *, resource pattern with * wildcards)`,
    /// for the Deny statements of an IAM policy that stays correct under authorizer caching.
    pub fn forbidden_resources(&self, roles: &[String]) -> Vec<(String, String)> {
        self.rules
            .iter()
            .filter(|r| !r.roles.is_empty() && !r.roles.iter().any(|x| roles.contains(x)))
            .map(|r| {
                let path: Vec<&str> = r
                    .segments
                    .iter()
                    .map(|s| match s {
                        Segment::Literal(l) => l.as_str(),
                        Segment::Param | Segment::Rest => "*",
                    })
                    .collect();
                (r.method.clone(), path.join("/"))
            })
            .collect()
    }
}

impl Rule {
    fn matches(&self, method: &str, path: &str) -> bool {
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
    fn forbidden_resources_list_unsatisfied_rules() {
        let p = RoutePolicy::parse("* /api/admin/*=admin; DELETE /api/items/{id}=admin").unwrap();
        assert_eq!(
            p.forbidden_resources(&[]),
            vec![
                ("*".to_owned(), "api/admin/*".to_owned()),
                ("DELETE".to_owned(), "api/items/*".to_owned())
            ]
        );
        assert!(p.forbidden_resources(&roles(&["admin"])).is_empty());
    }

    #[test]
    fn malformed_rules_are_refused_with_the_rule_named() {
        for bad in ["GET /api", "/api=admin", "GET api=x", "GET /a/*/b=x"] {
            let err = RoutePolicy::parse(bad).unwrap_err().to_string();
            assert!(err.contains(bad.split('=').next().unwrap()), "{err}");
        }
    }
}
