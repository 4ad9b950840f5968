//! Route → required roles: configuration, not code, and the IAM policy that says the same.
//!
//! Format (`TOKENGATE_ROUTE_ROLES`): rules separated by `;`, each `METHOD PATH=ROLES` where
//! METHOD is one of API Gateway's methods ([`METHODS`]) or `*` (any of them), PATH starts with
//! `/` and its segments are literals, `{name}` (exactly one non-empty segment) or a final `*`
//! (the rest of the path, including nothing: `/api/admin/*` matches `/api/admin`,
//! `/api/admin/` and `/api/admin/x/y`), and ROLES is `role1|role2` (any one suffices) or empty
//! (a valid token suffices). The first matching rule wins; a route no rule matches needs a
//! valid token and no role. Example: `GET /api/me=;* /api/admin/*=admin`.
//!
//! A request is judged as a backend behind `{proxy+}` may read it (see [`RoutePolicy::permits`]):
//! its path must be canonical ([`canonical`]), literals are compared case-blind (ASCII; Express,
//! Spring and ASP.NET route case-insensitively by default, so `/api/Users` and `/api/users` are
//! one route and the first rule naming it in any case decides), and HEAD is judged as HEAD and
//! as GET (they run the GET handler for it); both must pass.

pub mod canonical;

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
            rule.denials = rule.deny_patterns();
            rules.push(rule);
        }
        Ok(Self { rules })
    }

    /// Whether `roles` may call `method path`. Every reading a backend may make of the request
    /// must pass: the first rule matching case-blind, for the method and, for HEAD, also for
    /// GET. So the decision depends on the path's letters only up to case: a rule that refuses
    /// `/api/admin` refuses `/API/Admin`. A path that is not canonical is refused to any token
    /// that some rule refuses (to a token no rule refuses, every reading is allowed anyway).
    pub fn permits(&self, method: &str, path: &str, roles: &[String]) -> bool {
        if canonical::defect(path).is_some() && !self.satisfied_everywhere(roles) {
            return false;
        }
        let passes = |method: &str| {
            self.rules
                .iter()
                .find(|r| r.matches(method, path))
                .is_none_or(|r| r.satisfied_by(roles))
        };
        passes(method) && (!method.eq_ignore_ascii_case("HEAD") || passes("GET"))
    }

    /// Whether no rule refuses `roles` anywhere: such a token may call every route, so one
    /// answer fits all of them (an HTTP API answer cached without the route as its key).
    pub fn satisfied_everywhere(&self, roles: &[String]) -> bool {
        self.rules.iter().all(|r| r.satisfied_by(roles))
    }

    /// The routes `roles` may not call, as IAM resource patterns relative to an API stage's
    /// ARN (`METHOD/path`, `*` wildcards), when they can be said exactly: with an Allow of
    /// the whole stage, Denies of these patterns answer every route of the API as
    /// [`permits`](Self::permits) does, so API Gateway may serve the policy from its cache
    /// for any route the token calls next. (One residual: a path holding an upper-case
    /// letter may be refused beyond the rules, see `Rule::deny_patterns`; never allowed.)
    ///
    /// `None` when no set of patterns says it exactly: IAM's `*` crosses `/`, so it cannot
    /// stand for the `{param}` of a forbidden rule, and a Deny cannot make an exception for an
    /// earlier rule that allows part of a later forbidden one. The authorizer then answers for
    /// the one route asked about (see `tokengate_handlers::authorizer`).
    pub fn api_wide_denials(&self, roles: &[String]) -> Option<Vec<&str>> {
        if self.satisfied_everywhere(roles) {
            return Some(Vec::new());
        }
        // Every spelling a backend could read as another path, then the rules' own routes.
        let mut denied: Vec<&str> = canonical::iam_patterns()
            .iter()
            .map(String::as_str)
            .collect();
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
    /// scoped to one route and authorizer caching must be keyed by route; see docs/route-rules.md).
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
                (Segment::Literal(l), Some(p)) if l.eq_ignore_ascii_case(p) => {}
                _ => return false,
            }
        }
        parts.next().is_none()
    }

    fn satisfied_by(&self, roles: &[String]) -> bool {
        self.roles.is_empty() || self.roles.iter().any(|r| roles.contains(r))
    }

    /// IAM spellings of the methods the rule matches, HEAD added to GET (a backend runs the GET
    /// handler for HEAD). A `*` in a resource would also match `GET/x` (it crosses `/`), so
    /// `*` for the method is written by length: `???/…` matches only GET and PUT, because the
    /// `/` after the method must come fourth.
    fn method_patterns(&self) -> &'static [&'static str] {
        match self.method.as_str() {
            "*" => &["???", "????", "PATCH", "DELETE", "OPTIONS"],
            "GET" => &["GET", "HEAD"],
            "DELETE" => &["DELETE"],
            "HEAD" => &["HEAD"],
            "OPTIONS" => &["OPTIONS"],
            "PATCH" => &["PATCH"],
            "POST" => &["POST"],
            "PUT" => &["PUT"],
            _ => &[],
        }
    }

    /// IAM patterns (`METHOD/path`) covering every request the rule matches (case-blind);
    /// `None` if a `{param}` keeps them from being written.
    ///
    /// IAM matches case-sensitively and has no letter classes, so the case-blind spellings of
    /// a literal path of n letters are not enumerated (2^n) but covered by n + 1 patterns: the
    /// lower-case path, and for each letter position `?*` (any method, and any path before
    /// it), the lower-case path up to that letter, the letter in upper case, then `*`. Exact
    /// for lower-case requests; a request holding an upper-case letter may be refused beyond
    /// the rule (`/api/Axyz`, `POST /x/api/Admin` for a rule `GET /api/admin`): never a
    /// bypass, and only for spellings no client of a lower-case API sends (docs/route-rules.md,
    /// "The Deny patterns"). Writing the method as `?*` keeps them n, not n for each method.
    fn deny_patterns(&self) -> Option<Vec<String>> {
        let mut prefix = String::new();
        let mut rest = false;
        for seg in &self.segments {
            match seg {
                Segment::Literal(l) => {
                    prefix.push('/');
                    prefix.push_str(&l.to_ascii_lowercase());
                }
                Segment::Param => return None,
                Segment::Rest => rest = true,
            }
        }
        let paths = match (rest, prefix.is_empty()) {
            // The rest, including nothing: the prefix itself and everything below it.
            (true, true) => vec!["/*".to_owned()],
            (true, false) => vec![prefix.clone(), format!("{prefix}/*")],
            (false, _) => vec![prefix.clone()],
        };
        let mut patterns: Vec<String> = self
            .method_patterns()
            .iter()
            .flat_map(|m| paths.iter().map(move |p| format!("{m}{p}")))
            .collect();
        for (i, c) in prefix
            .char_indices()
            .filter(|(_, c)| c.is_ascii_lowercase())
        {
            // `?*`, not `*`: a pattern starting with `*` is anchored before the stage (see
            // `canonical::iam_patterns`), where the stage's own name could match it.
            patterns.push(format!("?*{}{}*", &prefix[..i], c.to_ascii_uppercase()));
        }
        Some(patterns)
    }

    /// Whether some request matches both rules.
    fn overlaps(&self, other: &Rule) -> bool {
        fn paths(a: &[Segment], b: &[Segment]) -> bool {
            match (a.first(), b.first()) {
                (Some(Segment::Rest), _) | (_, Some(Segment::Rest)) | (None, None) => true,
                (None, _) | (_, None) => false,
                (Some(x), Some(y)) => {
                    let one = match (x, y) {
                        (Segment::Literal(l), Segment::Literal(m)) => l.eq_ignore_ascii_case(m),
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
mod tests;
