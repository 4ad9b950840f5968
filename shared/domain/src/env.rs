//! Settings come from a lookup function: the process environment in production, a map in
//! tests. Every error names the variable.

use std::str::FromStr;

/// Reads settings from a lookup function (the process environment in production, a map in
/// tests), naming the variable in every error.
pub struct Env<F>(F);

impl Env<fn(&str) -> Option<String>> {
    /// The process environment.
    pub fn process() -> Self {
        Env(|name| std::env::var(name).ok())
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// A custom lookup (tests).
    pub fn from_fn(lookup: F) -> Self {
        Env(lookup)
    }

    /// A required, non-empty variable.
    pub fn required(&self, name: &str) -> anyhow::Result<String> {
        match (self.0)(name) {
            Some(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
            _ => anyhow::bail!("missing required environment variable {name}"),
        }
    }

    /// An optional variable parsed as `T`, or `default` when unset or empty.
    pub fn parse_or<T: FromStr>(&self, name: &str, default: T) -> anyhow::Result<T> {
        match (self.0)(name) {
            Some(v) if !v.trim().is_empty() => v.trim().parse().map_err(|_| {
                anyhow::anyhow!("environment variable {name} has an invalid value {v:?}")
            }),
            _ => Ok(default),
        }
    }

    /// An optional variable as written (empty when unset).
    pub fn text(&self, name: &str) -> String {
        (self.0)(name).unwrap_or_default()
    }

    /// An optional comma-separated list (empty when unset).
    pub fn list(&self, name: &str) -> Vec<String> {
        (self.0)(name)
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }
}
