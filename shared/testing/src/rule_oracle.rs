//! A plain reference implementation of the route-rule grammar, the oracle the policy property
//! test and the fuzz oracle judge the authorizer by.
//!
//! Written from the documented grammar (`docs/route-rules.md`, "Grammar" and "Paths as
//! backends read them"), not from `tokengate_domain::policy`, and deliberately naive — strings
//! kept as written, a segment walk by index, the canonical-path refusals checked segment by
//! segment — so that a slip in `RoutePolicy::permits` is not shared by its judge:
//!
//! - rules are `;`-separated `METHOD PATH=ROLES`; METHOD is a method (any case) or `*`;
//! - a PATH segment is a literal (compared case-blind, ASCII), `{name}` (exactly one non-empty
//!   segment) or a final `*` (the rest of the path, including nothing);
//! - ROLES is `a|b` (any one suffices) or empty (a valid token suffices);
//! - the first rule matching the method and path decides; no match needs no role;
//! - HEAD is judged as HEAD and as GET, both must pass;
//! - a path that is not canonical (trailing `/` after more than `/`, an empty, `.` or `..`
//!   segment, a `;`, an escape `%XX` of `-`, `.` or of a byte from `0` to DEL) is refused to a
//!   token that some rule refuses.

/// Parsed route rules, as the reference reads them.
#[derive(Debug, Clone)]
pub struct RuleOracle {
    rules: Vec<OracleRule>,
}

#[derive(Debug, Clone)]
struct OracleRule {
    /// Upper case, or `*`.
    method: String,
    /// The PATH split at `/`, the leading empty piece dropped: `/` is `[""]`.
    segments: Vec<String>,
    roles: Vec<String>,
}

impl RuleOracle {
    /// Reads `TOKENGATE_ROUTE_ROLES` syntax; `None` for a rule without `=` or a space (the
    /// property test only feeds it well-formed rules).
    pub fn parse(spec: &str) -> Option<Self> {
        let mut rules = Vec::new();
        for raw in spec.split(';') {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            let eq = raw.find('=')?;
            let (route, roles) = (raw[..eq].trim(), &raw[eq + 1..]);
            let space = route.find(' ')?;
            let (method, path) = (route[..space].trim(), route[space + 1..].trim());
            let path = path.strip_prefix('/')?;
            rules.push(OracleRule {
                method: method.to_ascii_uppercase(),
                segments: path.split('/').map(str::to_owned).collect(),
                roles: roles
                    .split('|')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned)
                    .collect(),
            });
        }
        Some(Self { rules })
    }

    /// Whether a token with `roles` may call `method path`.
    pub fn allows(&self, method: &str, path: &str, roles: &[String]) -> bool {
        if !is_canonical(path) && !self.refuses_nowhere(roles) {
            return false;
        }
        let mut readings = vec![method.to_ascii_uppercase()];
        if readings[0] == "HEAD" {
            readings.push("GET".to_owned());
        }
        for reading in &readings {
            let mut deciding = None;
            for rule in &self.rules {
                if rule.matches(reading, path) {
                    deciding = Some(rule);
                    break;
                }
            }
            if let Some(rule) = deciding {
                if !rule.admits(roles) {
                    return false;
                }
            }
        }
        true
    }

    /// Whether no rule refuses `roles`: such a token may call every route and every spelling.
    pub fn refuses_nowhere(&self, roles: &[String]) -> bool {
        self.rules.iter().all(|r| r.admits(roles))
    }
}

impl OracleRule {
    fn admits(&self, roles: &[String]) -> bool {
        if self.roles.is_empty() {
            return true;
        }
        for needed in &self.roles {
            if roles.iter().any(|r| r == needed) {
                return true;
            }
        }
        false
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        if self.method != "*" && self.method != method {
            return false;
        }
        let Some(rest) = path.strip_prefix('/') else {
            return false;
        };
        let asked: Vec<&str> = rest.split('/').collect();
        let mut i = 0;
        while i < self.segments.len() {
            let wanted = self.segments[i].as_str();
            let last = i + 1 == self.segments.len();
            if wanted == "*" && last {
                // The rest of the path, including nothing.
                return true;
            }
            if i >= asked.len() {
                return false;
            }
            let got = asked[i];
            let is_param = wanted.len() >= 2 && wanted.starts_with('{') && wanted.ends_with('}');
            if is_param {
                if got.is_empty() {
                    return false;
                }
            } else if !wanted.eq_ignore_ascii_case(got) {
                return false;
            }
            i += 1;
        }
        i == asked.len()
    }
}

/// Whether no backend could read `path` as another path (`docs/route-rules.md`, "Paths as
/// backends read them"), checked segment by segment.
pub fn is_canonical(path: &str) -> bool {
    if path == "/" {
        return true;
    }
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    let segments: Vec<&str> = rest.split('/').collect();
    for segment in &segments {
        // An empty segment is `//` inside the path or a trailing `/` at its end.
        if segment.is_empty() || *segment == "." || *segment == ".." || segment.contains(';') {
            return false;
        }
        for (at, _) in segment.match_indices('%') {
            let Some(hex) = segment.get(at + 1..at + 3) else {
                continue;
            };
            if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                continue;
            }
            let Ok(byte) = u8::from_str_radix(hex, 16) else {
                continue;
            };
            if byte == b'-' || byte == b'.' || (b'0'..=0x7F).contains(&byte) {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(r: &[&str]) -> Vec<String> {
        r.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_readme_example_reads_as_documented() {
        let o = RuleOracle::parse(
            "GET /api/admin/health=; * /api/admin/*=admin; DELETE /api/items/{id}=admin|ops",
        )
        .unwrap();
        let none = roles(&[]);
        assert!(o.allows("GET", "/api/admin/health", &none));
        assert!(!o.allows("POST", "/api/admin/health", &none));
        for p in [
            "/api/admin",
            "/api/admin/",
            "/api/admin/x:a/b/c",
            "/API/Admin",
        ] {
            assert!(!o.allows("GET", p, &none), "{p}");
            assert!(o.allows("GET", p, &roles(&["admin"])), "{p}");
        }
        assert!(!o.allows("DELETE", "/api/items/7", &none));
        assert!(o.allows("DELETE", "/api/items/7", &roles(&["ops"])));
        // No `{id}` here, so no rule matches: allowed, but for the non-canonical spelling.
        for p in ["/api/items/", "/api/items", "/api/items/7/x"] {
            let canonical = !p.ends_with('/');
            assert_eq!(o.allows("DELETE", p, &roles(&["x"])), canonical, "{p}");
        }
        assert!(o.allows("GET", "/", &none));
    }

    #[test]
    fn head_is_judged_as_get_and_methods_case_blind() {
        let o = RuleOracle::parse("GET /api/report=ops").unwrap();
        assert!(!o.allows("HEAD", "/api/report", &[]));
        assert!(!o.allows("get", "/api/report", &[]));
        assert!(o.allows("POST", "/api/report", &[]));
    }

    #[test]
    fn the_documented_spellings_are_not_canonical() {
        for p in [
            "/api/items/",
            "//",
            "/api//admin",
            "/api/./admin",
            "/api/me/../admin",
            "/api/admin;x",
            "/api/%61dmin",
            "/api/%2e",
            "/api/a%3Bb",
            "/api/a%5cb",
            "/api/%7e",
        ] {
            assert!(!is_canonical(p), "{p}");
        }
        for p in [
            "/",
            "/api/me",
            "/a/%2F/%20/%C3%A9",
            "/%",
            "/a%4",
            "/a%zz",
            "/a/.b",
        ] {
            assert!(is_canonical(p), "{p}");
        }
    }
}

/// Both rule sets of the authorizer (docs/route-rules.md): role rules judged by the token's
/// `roles`, scope rules (the same grammar) by the names in its `scope` claim. A request must
/// pass both; a non-canonical spelling is refused unless neither set refuses the token anywhere.
#[derive(Debug, Clone)]
pub struct RouteOracle {
    /// `TOKENGATE_ROUTE_ROLES`.
    pub roles: RuleOracle,
    /// `TOKENGATE_ROUTE_SCOPES`.
    pub scopes: RuleOracle,
}

impl RouteOracle {
    /// Reads both settings (`None` as [`RuleOracle::parse`]).
    pub fn parse(roles: &str, scopes: &str) -> Option<Self> {
        Some(Self {
            roles: RuleOracle::parse(roles)?,
            scopes: RuleOracle::parse(scopes)?,
        })
    }

    /// Whether a token with `roles` and `scopes` may call `method path`: each set on its own
    /// (each refuses a non-canonical spelling to a token it refuses somewhere), both must pass.
    pub fn allows(&self, method: &str, path: &str, roles: &[String], scopes: &[String]) -> bool {
        let by_roles = self.roles.allows(method, path, roles);
        let by_scopes = self.scopes.allows(method, path, scopes);
        by_roles && by_scopes
    }

    /// Whether neither set refuses the token anywhere.
    pub fn refuses_nowhere(&self, roles: &[String], scopes: &[String]) -> bool {
        self.roles.refuses_nowhere(roles) && self.scopes.refuses_nowhere(scopes)
    }
}
