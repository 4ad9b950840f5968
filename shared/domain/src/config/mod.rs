//! The one config loader: every setting is read once, at cold start, into a typed struct. A
//! missing or malformed variable stops the function with a message that names it.

use tokengate_claims::Validation;

use crate::clients::Clients;
pub use crate::env::Env;
use crate::lockout::{Backoff, LockoutRules, FAILURE_MEMORY_SECS};
use crate::origin::OriginSecret;
use crate::password::HashParams;
use crate::policy::RoutePolicy;

mod oauth;
pub use oauth::DEFAULT_CLIENT_ID;

/// Argon2id parameters (`TOKENGATE_ARGON2_MEMORY_KIB` 19456, `_ITERATIONS` 2, `_PARALLELISM`
/// 1), for login and the admin CLI alike. Below OWASP's minimum (m=19 MiB, t=2, p=1) they are
/// refused, naming the variable: a weaker hash is a silent gift to whoever copies the table.
pub fn hash_params<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> anyhow::Result<HashParams> {
    let min = HashParams::default();
    let params = HashParams {
        memory_kib: env.parse_or("TOKENGATE_ARGON2_MEMORY_KIB", min.memory_kib)?,
        iterations: env.parse_or("TOKENGATE_ARGON2_ITERATIONS", min.iterations)?,
        parallelism: env.parse_or("TOKENGATE_ARGON2_PARALLELISM", min.parallelism)?,
    };
    for (name, value, least) in [
        (
            "TOKENGATE_ARGON2_MEMORY_KIB",
            params.memory_kib,
            min.memory_kib,
        ),
        (
            "TOKENGATE_ARGON2_ITERATIONS",
            params.iterations,
            min.iterations,
        ),
        (
            "TOKENGATE_ARGON2_PARALLELISM",
            params.parallelism,
            min.parallelism,
        ),
    ] {
        anyhow::ensure!(
            value >= least,
            "environment variable {name} must be at least {least} (OWASP's minimum for \
             Argon2id: m=19456 KiB, t=2, p=1)"
        );
    }
    Ok(params)
}

/// `TOKENGATE_COOKIE_PATH`: unset or empty is `None` (the path comes from each request);
/// otherwise an absolute path of plain path characters, so the setting cannot add cookie
/// attributes (`/v1;Domain=…`) or reach other paths by accident.
fn cookie_path<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> anyhow::Result<Option<String>> {
    let text = env.text("TOKENGATE_COOKIE_PATH");
    let path = text.trim();
    if path.is_empty() {
        return Ok(None);
    }
    anyhow::ensure!(
        is_plain_cookie_path(path),
        "environment variable TOKENGATE_COOKIE_PATH must be an absolute path of letters, digits \
         and / - . _ ~ % (e.g. /v1/auth), not {path:?}"
    );
    Ok(Some(path.to_owned()))
}

/// A path that can stand as a cookie's `Path` attribute as it is: it starts with `/` and holds
/// only unreserved characters, `/` and `%` (no `;`, space or control character that could end
/// the attribute and start another).
pub fn is_plain_cookie_path(path: &str) -> bool {
    path.starts_with('/')
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-._~%".contains(&b))
}

/// The longest device-credential lifetime: 400 days, the cap RFC 6265bis (§5.6.1, "cookie-age-limit")
/// asks browsers to put on a cookie's `Max-Age`; a longer credential would outlive its cookie.
pub const MAX_DEVICE_TTL_SECS: i64 = 400 * 24 * 3600;

/// Every setting of every function, read once at cold start ([`Config::from_env`]). The AWS
/// resource names are optional here because each function needs only some of them; the
/// accessors fail with the variable's name when a function asks for one that is unset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Token lifetimes, limits, origins, Argon2, leeway.
    pub auth: AuthConfig,
    /// `TOKENGATE_TABLE`: the DynamoDB table of every item but the revocation feed's.
    pub table: Option<String>,
    /// `TOKENGATE_FEED_TABLE`: the revocation feed's DynamoDB table (hash `pk`, range `at`).
    pub feed_table: Option<String>,
    /// `TOKENGATE_REFRESH_MAC_KEY`: the KMS HMAC key refresh-token successors are derived with.
    pub refresh_mac_key: Option<String>,
    /// `TOKENGATE_ROUTE_ROLES`: the authorizer's route rules (empty: a valid token suffices).
    pub route_rules: RoutePolicy,
    /// `TOKENGATE_ROUTE_SCOPES`: route → required scopes, the grammar of route roles (empty: no
    /// scope needed). A request must pass both rule sets.
    pub route_scopes: RoutePolicy,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::read(&Env::process())
    }

    /// Reads every `TOKENGATE_*` variable from `env`.
    pub fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> anyhow::Result<Self> {
        let optional = |name: &str| env.required(name).ok();
        Ok(Self {
            auth: AuthConfig::from_env(env)?,
            table: optional("TOKENGATE_TABLE"),
            feed_table: optional("TOKENGATE_FEED_TABLE"),
            refresh_mac_key: optional("TOKENGATE_REFRESH_MAC_KEY"),
            route_rules: RoutePolicy::parse(&env.text("TOKENGATE_ROUTE_ROLES"))
                .map_err(|e| anyhow::anyhow!("environment variable TOKENGATE_ROUTE_ROLES: {e}"))?,
            route_scopes: RoutePolicy::parse(&env.text("TOKENGATE_ROUTE_SCOPES"))
                .map_err(|e| anyhow::anyhow!("environment variable TOKENGATE_ROUTE_SCOPES: {e}"))?,
        })
    }

    /// `TOKENGATE_TABLE`, or an error naming it.
    pub fn table(&self) -> anyhow::Result<&str> {
        required(&self.table, "TOKENGATE_TABLE")
    }

    /// `TOKENGATE_FEED_TABLE`, or an error naming it.
    pub fn feed_table(&self) -> anyhow::Result<&str> {
        required(&self.feed_table, "TOKENGATE_FEED_TABLE")
    }

    /// `TOKENGATE_REFRESH_MAC_KEY`, or an error naming it.
    pub fn refresh_mac_key(&self) -> anyhow::Result<&str> {
        required(&self.refresh_mac_key, "TOKENGATE_REFRESH_MAC_KEY")
    }
}

fn required<'a>(value: &'a Option<String>, name: &str) -> anyhow::Result<&'a str> {
    value
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("missing required environment variable {name}"))
}

/// Domain settings shared by the token functions. Defaults follow DESIGN.md.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// `iss` of issued tokens and the only issuer accepted (`TOKENGATE_ISSUER`, required).
    pub issuer: String,
    /// `aud` of issued tokens (`TOKENGATE_AUDIENCE`, required).
    pub audience: String,
    /// Access-token lifetime (`TOKENGATE_ACCESS_TTL_SECONDS`, default 900).
    pub access_ttl_secs: i64,
    /// Absolute session lifetime (`TOKENGATE_REFRESH_TTL_SECONDS`, default 7 days).
    pub refresh_ttl_secs: i64,
    /// Idle timeout of a session (`TOKENGATE_REFRESH_IDLE_SECONDS`, default 1 day).
    pub refresh_idle_secs: i64,
    /// Grace window for the immediate predecessor (`TOKENGATE_REFRESH_GRACE_SECONDS`, default 10).
    pub grace_secs: i64,
    /// Origins allowed to use the refresh cookie (`TOKENGATE_ALLOWED_ORIGINS`, comma list,
    /// default none: cookie-carried refresh/logout is refused until configured).
    pub allowed_origins: Vec<String>,
    /// The refresh cookie's `Path` (`TOKENGATE_COOKIE_PATH`, default none: the path under which
    /// the browser reached the auth routes, from the request). Fix it when a proxy in front of
    /// API Gateway rewrites the path the browser sees (e.g. CloudFront serving the API at
    /// `/api/*` of the app's own domain: the browser's path is not API Gateway's).
    pub cookie_path: Option<String>,
    /// How long a device credential counts (`TOKENGATE_DEVICE_TTL_SECONDS`, default 90 days,
    /// at most [`MAX_DEVICE_TTL_SECS`]): also its cookie's `Max-Age`.
    pub device_ttl_secs: i64,
    /// Failures of one account from one source network before that network is locked out of
    /// it (`TOKENGATE_LOCKOUT_THRESHOLD`, default 5).
    pub lockout_threshold: u32,
    /// First lock duration; doubles per further failure (`TOKENGATE_LOCKOUT_BASE_SECONDS`, 30).
    pub lockout_base_secs: i64,
    /// Longest lock (`TOKENGATE_LOCKOUT_MAX_SECONDS`, default 900); also the length of every
    /// lock of the account-wide ceiling.
    pub lockout_max_secs: i64,
    /// Failures of one account from all sources together that lock it for everyone
    /// (`TOKENGATE_ACCOUNT_FAILURE_CEILING`, default 100: NIST SP 800-63B §5.2.2).
    pub account_failure_ceiling: u32,
    /// Login attempts allowed per source network per window, over all accounts
    /// (`TOKENGATE_IP_LIMIT`, default 30).
    pub ip_limit: u64,
    /// Window of the per-source-network limit (`TOKENGATE_IP_WINDOW_SECONDS`, default 60).
    pub ip_window_secs: i64,
    /// Refresh (and, counted apart, logout) requests allowed per source network per window
    /// (`TOKENGATE_REFRESH_IP_LIMIT`, default 120): a client refreshes about once per access
    /// token lifetime, so 120 a minute leaves room for a NAT of about a thousand active users.
    pub refresh_ip_limit: u64,
    /// Window of the refresh/logout limit (`TOKENGATE_REFRESH_IP_WINDOW_SECONDS`, default 60).
    pub refresh_ip_window_secs: i64,
    /// Refreshes one session may make per window (`TOKENGATE_SESSION_REFRESH_LIMIT`, default
    /// 10), on top of the per-network limit (docs/configuration.md).
    pub session_refresh_limit: u64,
    /// Window of the per-session limit (`TOKENGATE_SESSION_REFRESH_WINDOW_SECONDS`, default 60).
    pub session_refresh_window_secs: i64,
    /// Argon2id parameters (`TOKENGATE_ARGON2_MEMORY_KIB` 19456, `_ITERATIONS` 2, `_PARALLELISM` 1).
    pub hash_params: HashParams,
    /// Clock skew tolerated on `exp`/`nbf` by verifiers (`TOKENGATE_LEEWAY_SECONDS`, default
    /// [`Validation::DEFAULT_LEEWAY_SECS`], 30). Logout and the authorizer must agree on it: a
    /// logged-out token stays denylisted until the authorizer's verifier refuses it as expired.
    pub leeway_secs: i64,
    /// How often a function re-reads the signing keyring (`TOKENGATE_KEYRING_REFRESH_SECONDS`,
    /// default 60): a rotation reaches every instance within this time, and each instance
    /// reads the keyring at most once per interval whatever its requests carry.
    pub keyring_refresh_secs: i64,
    /// The secret CloudFront sends in `X-Origin-Secret` (`TOKENGATE_ORIGIN_SECRET`, default
    /// none: off). Only a request carrying it is counted by its `CloudFront-Viewer-Address`
    /// rather than API Gateway's `sourceIp` ([`crate::origin`]).
    pub origin_secret: Option<OriginSecret>,
    /// The client a request without `client_id` uses (`TOKENGATE_DEFAULT_CLIENT_ID`,
    /// `default`).
    pub default_client_id: String,
    /// Registered clients, scopes and resource servers (`TOKENGATE_CLIENTS`,
    /// `TOKENGATE_SCOPES`; default: only the built-in default client, no scopes, `aud` =
    /// `audience`).
    pub clients: Clients,
}

impl AuthConfig {
    /// Defaults for everything but issuer and audience.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        let audience = audience.into();
        Self {
            issuer: issuer.into(),
            clients: Clients::only_default(&audience),
            audience,
            access_ttl_secs: 900,
            refresh_ttl_secs: 7 * 24 * 3600,
            refresh_idle_secs: 24 * 3600,
            grace_secs: 10,
            allowed_origins: Vec::new(),
            cookie_path: None,
            device_ttl_secs: 90 * 24 * 3600,
            lockout_threshold: 5,
            lockout_base_secs: 30,
            lockout_max_secs: 900,
            account_failure_ceiling: 100,
            ip_limit: 30,
            ip_window_secs: 60,
            refresh_ip_limit: 120,
            refresh_ip_window_secs: 60,
            session_refresh_limit: 10,
            session_refresh_window_secs: 60,
            hash_params: HashParams::default(),
            leeway_secs: Validation::DEFAULT_LEEWAY_SECS,
            keyring_refresh_secs: 60,
            origin_secret: None,
            default_client_id: DEFAULT_CLIENT_ID.to_owned(),
        }
    }

    /// Reads the `TOKENGATE_*` variables.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> anyhow::Result<Self> {
        let d = Self::new(
            env.required("TOKENGATE_ISSUER")?,
            env.required("TOKENGATE_AUDIENCE")?,
        );
        let default_client = oauth::default_client_id(env)?;
        let cfg = Self {
            access_ttl_secs: env.parse_or("TOKENGATE_ACCESS_TTL_SECONDS", d.access_ttl_secs)?,
            refresh_ttl_secs: env.parse_or("TOKENGATE_REFRESH_TTL_SECONDS", d.refresh_ttl_secs)?,
            refresh_idle_secs: env
                .parse_or("TOKENGATE_REFRESH_IDLE_SECONDS", d.refresh_idle_secs)?,
            grace_secs: env.parse_or("TOKENGATE_REFRESH_GRACE_SECONDS", d.grace_secs)?,
            allowed_origins: env.list("TOKENGATE_ALLOWED_ORIGINS"),
            cookie_path: cookie_path(env)?,
            device_ttl_secs: env.parse_or("TOKENGATE_DEVICE_TTL_SECONDS", d.device_ttl_secs)?,
            lockout_threshold: env.parse_or("TOKENGATE_LOCKOUT_THRESHOLD", d.lockout_threshold)?,
            lockout_base_secs: env
                .parse_or("TOKENGATE_LOCKOUT_BASE_SECONDS", d.lockout_base_secs)?,
            lockout_max_secs: env.parse_or("TOKENGATE_LOCKOUT_MAX_SECONDS", d.lockout_max_secs)?,
            account_failure_ceiling: env.parse_or(
                "TOKENGATE_ACCOUNT_FAILURE_CEILING",
                d.account_failure_ceiling,
            )?,
            ip_limit: env.parse_or("TOKENGATE_IP_LIMIT", d.ip_limit)?,
            ip_window_secs: env.parse_or("TOKENGATE_IP_WINDOW_SECONDS", d.ip_window_secs)?,
            refresh_ip_limit: env.parse_or("TOKENGATE_REFRESH_IP_LIMIT", d.refresh_ip_limit)?,
            refresh_ip_window_secs: env.parse_or(
                "TOKENGATE_REFRESH_IP_WINDOW_SECONDS",
                d.refresh_ip_window_secs,
            )?,
            session_refresh_limit: env
                .parse_or("TOKENGATE_SESSION_REFRESH_LIMIT", d.session_refresh_limit)?,
            session_refresh_window_secs: env.parse_or(
                "TOKENGATE_SESSION_REFRESH_WINDOW_SECONDS",
                d.session_refresh_window_secs,
            )?,
            hash_params: hash_params(env)?,
            leeway_secs: env.parse_or("TOKENGATE_LEEWAY_SECONDS", d.leeway_secs)?,
            keyring_refresh_secs: env
                .parse_or("TOKENGATE_KEYRING_REFRESH_SECONDS", d.keyring_refresh_secs)?,
            origin_secret: OriginSecret::parse(&env.text("TOKENGATE_ORIGIN_SECRET"))?,
            default_client_id: default_client.clone(),
            clients: Clients::parse_with_default(
                &env.text("TOKENGATE_SCOPES"),
                &env.text("TOKENGATE_CLIENTS"),
                &d.audience,
                &default_client,
            )?,
            ..d
        };
        for (name, v) in [
            ("TOKENGATE_ACCESS_TTL_SECONDS", cfg.access_ttl_secs),
            ("TOKENGATE_REFRESH_TTL_SECONDS", cfg.refresh_ttl_secs),
            ("TOKENGATE_REFRESH_IDLE_SECONDS", cfg.refresh_idle_secs),
            ("TOKENGATE_IP_WINDOW_SECONDS", cfg.ip_window_secs),
            ("TOKENGATE_LOCKOUT_BASE_SECONDS", cfg.lockout_base_secs),
            ("TOKENGATE_LOCKOUT_MAX_SECONDS", cfg.lockout_max_secs),
            ("TOKENGATE_LOCKOUT_THRESHOLD", cfg.lockout_threshold.into()),
            (
                "TOKENGATE_ACCOUNT_FAILURE_CEILING",
                cfg.account_failure_ceiling.into(),
            ),
            (
                "TOKENGATE_REFRESH_IP_WINDOW_SECONDS",
                cfg.refresh_ip_window_secs,
            ),
            (
                "TOKENGATE_KEYRING_REFRESH_SECONDS",
                cfg.keyring_refresh_secs,
            ),
            (
                "TOKENGATE_SESSION_REFRESH_WINDOW_SECONDS",
                cfg.session_refresh_window_secs,
            ),
        ] {
            anyhow::ensure!(v > 0, "environment variable {name} must be positive");
        }
        anyhow::ensure!(
            (1..=MAX_DEVICE_TTL_SECS).contains(&cfg.device_ttl_secs),
            "environment variable TOKENGATE_DEVICE_TTL_SECONDS must be between 1 and \
             {MAX_DEVICE_TTL_SECS} (400 days: browsers cap a cookie's Max-Age there)"
        );
        anyhow::ensure!(
            cfg.session_refresh_limit > 0,
            "environment variable TOKENGATE_SESSION_REFRESH_LIMIT must be positive"
        );
        anyhow::ensure!(
            cfg.leeway_secs >= 0,
            "environment variable TOKENGATE_LEEWAY_SECONDS must not be negative"
        );
        anyhow::ensure!(
            cfg.grace_secs >= 0,
            "environment variable TOKENGATE_REFRESH_GRACE_SECONDS must not be negative"
        );
        Ok(cfg)
    }

    /// The rules verifiers apply: the configured issuer, audience and leeway.
    pub fn validation(&self) -> Validation {
        Validation {
            leeway_secs: self.leeway_secs,
            ..Validation::new(self.issuer.clone(), vec![self.audience.clone()])
        }
    }

    /// The lockout's two counters: per (account, source network) with exponential back-off
    /// from the threshold; per account, where the ceiling-th failure and every one after it
    /// lock the account for everyone for the longest lock (so past the ceiling an attacker gets
    /// one guess per `lockout_max_secs`, and the owner waits at most that long after the last).
    pub fn lockout_rules(&self) -> LockoutRules {
        LockoutRules {
            source: Backoff {
                threshold: self.lockout_threshold,
                base_secs: self.lockout_base_secs,
                max_secs: self.lockout_max_secs,
            },
            account: Backoff {
                threshold: self.account_failure_ceiling,
                base_secs: self.lockout_max_secs,
                max_secs: self.lockout_max_secs,
            },
            memory_secs: FAILURE_MEMORY_SECS,
        }
    }
}

/// What `tokengate keys promote` needs to know about the deployed functions to retire the old
/// key safely, read from the same variables (the admin CLI's environment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationTiming {
    /// `TOKENGATE_ACCESS_TTL_SECONDS` (900): how long a token signed just before a promotion
    /// lives.
    pub access_ttl_secs: i64,
    /// `TOKENGATE_LEEWAY_SECONDS` (30): verifiers accept it this much longer.
    pub leeway_secs: i64,
    /// `TOKENGATE_AUTHORIZER_CACHE_TTL` (60, the template's `AuthorizerCacheTtlSeconds`): API
    /// Gateway may serve a cached Allow this much longer.
    pub authorizer_cache_ttl_secs: i64,
    /// `TOKENGATE_KEYRING_REFRESH_SECONDS` (60): an instance that has not re-read the keyring
    /// since the promotion still signs with the old key for up to this long, and a new `next`
    /// key is unknown to some verifiers for as long.
    pub keyring_refresh_secs: i64,
}

impl RotationTiming {
    /// Reads the variables, with the functions' defaults.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> anyhow::Result<Self> {
        let timing = Self {
            access_ttl_secs: env.parse_or("TOKENGATE_ACCESS_TTL_SECONDS", 900)?,
            leeway_secs: env
                .parse_or("TOKENGATE_LEEWAY_SECONDS", Validation::DEFAULT_LEEWAY_SECS)?,
            authorizer_cache_ttl_secs: env.parse_or("TOKENGATE_AUTHORIZER_CACHE_TTL", 60)?,
            keyring_refresh_secs: env.parse_or("TOKENGATE_KEYRING_REFRESH_SECONDS", 60)?,
        };
        anyhow::ensure!(
            [
                timing.access_ttl_secs,
                timing.leeway_secs,
                timing.authorizer_cache_ttl_secs,
                timing.keyring_refresh_secs
            ]
            .iter()
            .all(|&v| v >= 0),
            "the rotation timing variables must not be negative"
        );
        Ok(timing)
    }

    /// How long the old key stays `retiring` after a promotion: the last token it can sign
    /// (up to one re-read interval after the promotion) must verify for its whole lifetime,
    /// leeway and authorizer cache included.
    pub fn retiring_secs(&self) -> i64 {
        self.keyring_refresh_secs
            + self.access_ttl_secs
            + self.leeway_secs
            + self.authorizer_cache_ttl_secs
    }
}

#[cfg(test)]
mod tests;
