//! Route resolution as API Gateway does it: `{param}` matches one non-empty segment, a final
//! greedy `{name+}` one or more remaining segments, and the most specific resource wins — at
//! each segment a literal beats `{param}` beats `{proxy+}`, whatever the template order. The
//! resource is chosen by path first; then its method, or `ANY`. A resource without the method
//! is not a route (REST answers `MISSING_AUTHENTICATION_TOKEN`, as for no resource at all).

use anyhow::ensure;

/// One part of a resource path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Param(String),
    Greedy(String),
}

impl Part {
    /// Higher is more specific.
    fn rank(&self) -> u8 {
        match self {
            Part::Literal(_) => 2,
            Part::Param(_) => 1,
            Part::Greedy(_) => 0,
        }
    }
}

/// One API route (a method on a resource).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// HTTP method, upper case, or `ANY`.
    pub method: String,
    /// Resource path as in the template, e.g. `/api/admin/{proxy+}`.
    pub path: String,
    /// Binary name of the function (what `cargo lambda watch` serves).
    pub function: String,
    /// The authorizer that runs first, by name.
    pub authorizer: Option<String>,
    parts: Vec<Part>,
}

impl Route {
    /// A route; refuses a path API Gateway would refuse to deploy.
    pub fn new(
        method: &str,
        path: &str,
        function: &str,
        authorizer: Option<String>,
    ) -> anyhow::Result<Self> {
        ensure!(
            path.starts_with('/'),
            "route path {path:?} must start with '/'"
        );
        let raw: Vec<&str> = path
            .split('/')
            .skip(1)
            .filter(|s| !s.is_empty() || path != "/")
            .collect();
        let mut parts = Vec::new();
        for (i, seg) in raw.iter().enumerate() {
            let part = match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) if name.ends_with('+') => {
                    ensure!(
                        i + 1 == raw.len(),
                        "route path {path:?}: a greedy {{{name}}} must be the last segment"
                    );
                    Part::Greedy(name.trim_end_matches('+').to_owned())
                }
                Some(name) => {
                    ensure!(!name.is_empty(), "route path {path:?}: empty {{}}");
                    Part::Param(name.to_owned())
                }
                None => {
                    ensure!(!seg.is_empty(), "route path {path:?} has an empty segment");
                    Part::Literal((*seg).to_owned())
                }
            };
            parts.push(part);
        }
        Ok(Self {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            function: function.to_owned(),
            authorizer,
            parts,
        })
    }

    /// Path parameters if the resource path matches `path` (which starts with `/`).
    fn match_path(&self, path: &str) -> Option<Vec<(String, String)>> {
        let rest = path.strip_prefix('/')?;
        let segs: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        let mut params = Vec::new();
        for (i, part) in self.parts.iter().enumerate() {
            match part {
                Part::Greedy(name) => {
                    // One or more segments: the rest of the path, which must not be empty.
                    let tail = segs.get(i..).map(|s| s.join("/")).unwrap_or_default();
                    if tail.is_empty() {
                        return None;
                    }
                    params.push((name.clone(), tail));
                    return Some(params);
                }
                Part::Param(name) => match segs.get(i) {
                    Some(s) if !s.is_empty() => params.push((name.clone(), (*s).to_owned())),
                    _ => return None,
                },
                Part::Literal(lit) => {
                    if segs.get(i) != Some(&lit.as_str()) {
                        return None;
                    }
                }
            }
        }
        (segs.len() == self.parts.len()).then_some(params)
    }

    fn specificity(&self) -> Vec<u8> {
        self.parts.iter().map(Part::rank).collect()
    }
}

/// What a request resolves to.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolution<'a> {
    /// The route and its path parameters.
    Matched(&'a Route, Vec<(String, String)>),
    /// No resource, or the resource has neither the method nor `ANY`.
    NoRoute,
}

/// The routes of the API.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    /// A table of `routes`.
    pub fn new(routes: Vec<Route>) -> Self {
        Self { routes }
    }

    /// Every route, in template order.
    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter()
    }

    /// The route for `method path` (path within the API, without any stage).
    pub fn resolve(&self, method: &str, path: &str) -> Resolution<'_> {
        // The most specific resource whose path matches, compared segment by segment.
        let best = self
            .routes
            .iter()
            .filter_map(|r| r.match_path(path).map(|_| r))
            .max_by(|a, b| a.specificity().cmp(&b.specificity()));
        let Some(resource) = best.map(|r| r.path.clone()) else {
            return Resolution::NoRoute;
        };
        let on_resource = || self.routes.iter().filter(|r| r.path == resource);
        let route = on_resource()
            .find(|r| r.method == method)
            .or_else(|| on_resource().find(|r| r.method == "ANY"));
        match route {
            Some(r) => match r.match_path(path) {
                Some(params) => Resolution::Matched(r, params),
                None => Resolution::NoRoute,
            },
            None => Resolution::NoRoute,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(routes: &[(&str, &str, &str)]) -> RouteTable {
        RouteTable::new(
            routes
                .iter()
                .map(|(m, p, f)| Route::new(m, p, f, None).unwrap())
                .collect(),
        )
    }

    fn resolved(
        t: &RouteTable,
        method: &str,
        path: &str,
    ) -> Option<(String, Vec<(String, String)>)> {
        match t.resolve(method, path) {
            Resolution::Matched(r, p) => Some((r.function.clone(), p)),
            Resolution::NoRoute => None,
        }
    }

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn greedy_matches_one_or_more_segments_but_not_none() {
        let t = table(&[("ANY", "/api/admin/{proxy+}", "admin")]);
        assert_eq!(
            resolved(&t, "DELETE", "/api/admin/users/7"),
            Some(("admin".into(), params(&[("proxy", "users/7")])))
        );
        assert_eq!(
            resolved(&t, "GET", "/api/admin/x:a/b/c"),
            Some(("admin".into(), params(&[("proxy", "x:a/b/c")])))
        );
        assert_eq!(resolved(&t, "GET", "/api/admin"), None);
        assert_eq!(resolved(&t, "GET", "/api/admin/"), None);
        assert_eq!(resolved(&t, "GET", "/api/adminx/y"), None);
    }

    #[test]
    fn literal_beats_param_beats_greedy_whatever_the_order() {
        let t = table(&[
            ("ANY", "/items/{proxy+}", "greedy"),
            ("GET", "/items/{id}", "param"),
            ("GET", "/items/new", "literal"),
            ("GET", "/items/{id}/tags", "param-tags"),
        ]);
        assert_eq!(resolved(&t, "GET", "/items/new").unwrap().0, "literal");
        assert_eq!(
            resolved(&t, "GET", "/items/42"),
            Some(("param".into(), params(&[("id", "42")])))
        );
        assert_eq!(
            resolved(&t, "GET", "/items/42/tags").unwrap().0,
            "param-tags"
        );
        assert_eq!(
            resolved(&t, "GET", "/items/42/x"),
            Some(("greedy".into(), params(&[("proxy", "42/x")])))
        );
    }

    #[test]
    fn the_resource_is_chosen_before_the_method() {
        let t = table(&[
            ("ANY", "/items/{proxy+}", "greedy"),
            ("GET", "/items/{id}", "param"),
        ]);
        // `/items/{id}` is the more specific resource and has no POST: not a route, even though
        // the greedy resource would take any method.
        assert_eq!(resolved(&t, "POST", "/items/42"), None);
        assert_eq!(resolved(&t, "GET", "/items/42").unwrap().0, "param");
        // Methods are case-sensitive, in HTTP and in API Gateway.
        assert_eq!(resolved(&t, "get", "/items/42"), None);
    }

    #[test]
    fn exact_method_beats_any_on_the_same_resource() {
        let t = table(&[("ANY", "/x", "any"), ("GET", "/x", "get")]);
        assert_eq!(resolved(&t, "GET", "/x").unwrap().0, "get");
        assert_eq!(resolved(&t, "PUT", "/x").unwrap().0, "any");
    }

    #[test]
    fn params_need_a_non_empty_segment_and_paths_match_whole() {
        let t = table(&[("GET", "/api/items/{id}", "item"), ("GET", "/", "root")]);
        assert_eq!(resolved(&t, "GET", "/api/items/"), None);
        assert_eq!(resolved(&t, "GET", "/api/items/1/2"), None);
        assert_eq!(resolved(&t, "GET", "/api/items"), None);
        assert_eq!(resolved(&t, "GET", "/").unwrap().0, "root");
    }

    #[test]
    fn a_greedy_part_must_be_last() {
        assert!(Route::new("GET", "/{proxy+}/x", "f", None).is_err());
        assert!(Route::new("GET", "api", "f", None).is_err());
        assert!(Route::new("GET", "/a//b", "f", None).is_err());
    }
}
