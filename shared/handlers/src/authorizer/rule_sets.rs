//! The authorizer's two rule sets (docs/route-rules.md): route → roles, judged by the token's
//! `roles`, and route → scopes, judged by its `scope`. A request must pass both.

use tokengate_claims::AccessClaims;
use tokengate_domain::policy::RoutePolicy;

/// Both rule sets of one authorizer.
pub(super) struct RuleSets<'a> {
    /// `TOKENGATE_ROUTE_ROLES`.
    pub roles: &'a RoutePolicy,
    /// `TOKENGATE_ROUTE_SCOPES`.
    pub scopes: &'a RoutePolicy,
}

impl<'a> RuleSets<'a> {
    /// Whether the token may call `method path`; for an answer that may be served for any
    /// other route (`for_any_route`), only when neither set refuses it anywhere.
    pub fn permits(&self, method: &str, path: &str, claims: &AccessClaims, any: bool) -> bool {
        let scopes = token_scopes(claims);
        self.roles.permits(method, path, &claims.roles)
            && self.scopes.permits(method, path, &scopes)
            && (!any
                || (self.roles.satisfied_everywhere(&claims.roles)
                    && self.scopes.satisfied_everywhere(&scopes)))
    }

    /// The whole-API Deny patterns for the token, or `None` when either set cannot say its
    /// refusals for the whole API. Each set's patterns deny exactly the requests it refuses, so
    /// together they deny exactly the requests that fail either: the two checks of `permits`.
    pub fn api_wide_denials(&self, roles: &[String], scopes: &[String]) -> Option<Vec<&'a str>> {
        let mut denied = self.roles.api_wide_denials(roles)?;
        for d in self.scopes.api_wide_denials(scopes)? {
            if !denied.contains(&d) {
                denied.push(d);
            }
        }
        Some(denied)
    }
}

/// The token's scopes (RFC 8693 §4.2: one space-separated string).
pub(super) fn token_scopes(claims: &AccessClaims) -> Vec<String> {
    claims.scopes().map(str::to_owned).collect()
}
