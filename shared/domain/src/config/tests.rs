use super::*;
use std::collections::HashMap;

fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Env::from_fn(move |k| map.get(k).cloned())
}

#[test]
fn missing_issuer_names_the_variable() {
    let err = AuthConfig::from_env(&env(&[("TOKENGATE_AUDIENCE", "a")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "missing required environment variable TOKENGATE_ISSUER"
    );
}

#[test]
fn malformed_number_names_the_variable() {
    let err = AuthConfig::from_env(&env(&[
        ("TOKENGATE_ISSUER", "i"),
        ("TOKENGATE_AUDIENCE", "a"),
        ("TOKENGATE_ACCESS_TTL_SECONDS", "15m"),
    ]))
    .unwrap_err();
    assert!(err.to_string().contains("TOKENGATE_ACCESS_TTL_SECONDS"));
}

#[test]
fn defaults_follow_the_design() {
    let cfg = AuthConfig::from_env(&env(&[
        ("TOKENGATE_ISSUER", "i"),
        ("TOKENGATE_AUDIENCE", "a"),
        (
            "TOKENGATE_ALLOWED_ORIGINS",
            "https://a.example, https://b.example",
        ),
    ]))
    .unwrap();
    assert_eq!(cfg.access_ttl_secs, 900);
    assert_eq!(cfg.refresh_ttl_secs, 604_800);
    assert_eq!(cfg.grace_secs, 10);
    assert_eq!(cfg.leeway_secs, 30);
    assert_eq!(
        (cfg.refresh_ip_limit, cfg.refresh_ip_window_secs),
        (120, 60)
    );
    assert_eq!(
        cfg.allowed_origins,
        vec!["https://a.example", "https://b.example"]
    );
}

#[test]
fn every_function_reads_one_config_and_asks_for_what_it_needs() {
    let base = [("TOKENGATE_ISSUER", "i"), ("TOKENGATE_AUDIENCE", "a")];
    let cfg = Config::read(&env(&base)).unwrap();
    for (got, name) in [
        (cfg.table().map(drop), "TOKENGATE_TABLE"),
        (cfg.feed_table().map(drop), "TOKENGATE_FEED_TABLE"),
        (cfg.refresh_mac_key().map(drop), "TOKENGATE_REFRESH_MAC_KEY"),
    ] {
        assert_eq!(
            got.unwrap_err().to_string(),
            format!("missing required environment variable {name}")
        );
    }
    let full = Config::read(&env(&[
        base[0],
        base[1],
        ("TOKENGATE_TABLE", "t"),
        ("TOKENGATE_FEED_TABLE", "f"),
        ("TOKENGATE_ROUTE_ROLES", "* /api/admin/*=admin"),
    ]))
    .unwrap();
    assert_eq!(full.table().unwrap(), "t");
    assert_eq!(full.feed_table().unwrap(), "f");
    assert_eq!(
        full.auth.keyring_refresh_secs, 60,
        "the default re-read interval"
    );
    assert!(!full.route_rules.permits("GET", "/api/admin", &[]));
    let err = Config::read(&env(&[
        base[0],
        base[1],
        ("TOKENGATE_ROUTE_ROLES", "GET /x"),
    ]))
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("environment variable TOKENGATE_ROUTE_ROLES: "),
        "{err}"
    );
}

#[test]
fn argon2_settings_below_the_owasp_minimum_refuse_to_start() {
    let base = [("TOKENGATE_ISSUER", "i"), ("TOKENGATE_AUDIENCE", "a")];
    for (name, weak) in [
        ("TOKENGATE_ARGON2_MEMORY_KIB", "19455"),
        ("TOKENGATE_ARGON2_ITERATIONS", "1"),
        ("TOKENGATE_ARGON2_PARALLELISM", "0"),
    ] {
        let err = AuthConfig::from_env(&env(&[base[0], base[1], (name, weak)])).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("environment variable {name} must be at least")),
            "{err}"
        );
    }
    let strong = AuthConfig::from_env(&env(&[
        base[0],
        base[1],
        ("TOKENGATE_ARGON2_MEMORY_KIB", "65536"),
        ("TOKENGATE_ARGON2_ITERATIONS", "3"),
    ]))
    .unwrap();
    assert_eq!(
        strong.hash_params,
        HashParams {
            memory_kib: 65536,
            iterations: 3,
            parallelism: 1
        }
    );
}

#[test]
fn lockout_backs_off_per_source_and_holds_the_account_ceiling_at_the_longest_lock() {
    let rules = AuthConfig::new("i", "a").lockout_rules();
    let secs = |b: Backoff| [4, 5, 10, 99, 100, 101].map(|n| b.lock_secs(n));
    assert_eq!(secs(rules.source), [0, 30, 900, 900, 900, 900]);
    assert_eq!(secs(rules.account), [0, 0, 0, 0, 900, 900]);
    let (i, a) = (("TOKENGATE_ISSUER", "i"), ("TOKENGATE_AUDIENCE", "a"));
    let read = |n| AuthConfig::from_env(&env(&[i, a, ("TOKENGATE_ACCOUNT_FAILURE_CEILING", n)]));
    assert_eq!(read("20").unwrap().lockout_rules().account.threshold, 20);
    let err = read("0").unwrap_err().to_string();
    assert_eq!(
        err,
        "environment variable TOKENGATE_ACCOUNT_FAILURE_CEILING must be positive"
    );
}

#[test]
fn the_cookie_path_setting_is_optional_and_must_be_a_plain_absolute_path() {
    let base = [("TOKENGATE_ISSUER", "i"), ("TOKENGATE_AUDIENCE", "a")];
    let read = |extra: &[(&str, &str)]| {
        let mut pairs = base.to_vec();
        pairs.extend_from_slice(extra);
        AuthConfig::from_env(&env(&pairs))
    };
    assert_eq!(read(&[]).unwrap().cookie_path, None);
    assert_eq!(
        read(&[("TOKENGATE_COOKIE_PATH", " ")]).unwrap().cookie_path,
        None
    );
    assert_eq!(
        read(&[("TOKENGATE_COOKIE_PATH", "/api/v1/auth")])
            .unwrap()
            .cookie_path
            .as_deref(),
        Some("/api/v1/auth")
    );
    for bad in ["auth", "/auth; Domain=evil.test", "/a b", "/auth\u{7f}"] {
        let err = read(&[("TOKENGATE_COOKIE_PATH", bad)]).unwrap_err();
        assert!(
            err.to_string().contains("TOKENGATE_COOKIE_PATH"),
            "{bad:?}: {err}"
        );
    }
}

#[test]
fn the_keyring_refresh_interval_is_read_and_must_be_positive() {
    let base = [("TOKENGATE_ISSUER", "i"), ("TOKENGATE_AUDIENCE", "a")];
    let cfg = Config::read(&env(&[
        base[0],
        base[1],
        ("TOKENGATE_KEYRING_REFRESH_SECONDS", "5"),
    ]))
    .unwrap();
    assert_eq!(cfg.auth.keyring_refresh_secs, 5);
    let err = Config::read(&env(&[
        base[0],
        base[1],
        ("TOKENGATE_KEYRING_REFRESH_SECONDS", "0"),
    ]))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "environment variable TOKENGATE_KEYRING_REFRESH_SECONDS must be positive"
    );
}

#[test]
fn the_session_refresh_limit_defaults_to_10_a_minute_and_must_be_positive() {
    let base = [("TOKENGATE_ISSUER", "i"), ("TOKENGATE_AUDIENCE", "a")];
    let cfg = Config::read(&env(&base)).unwrap();
    assert_eq!(
        (
            cfg.auth.session_refresh_limit,
            cfg.auth.session_refresh_window_secs
        ),
        (10, 60)
    );
    let cfg = Config::read(&env(&[
        base[0],
        base[1],
        ("TOKENGATE_SESSION_REFRESH_LIMIT", "4"),
        ("TOKENGATE_SESSION_REFRESH_WINDOW_SECONDS", "30"),
    ]))
    .unwrap();
    assert_eq!(
        (
            cfg.auth.session_refresh_limit,
            cfg.auth.session_refresh_window_secs
        ),
        (4, 30)
    );
    for (name, value, message) in [
        (
            "TOKENGATE_SESSION_REFRESH_LIMIT",
            "0",
            "environment variable TOKENGATE_SESSION_REFRESH_LIMIT must be positive",
        ),
        (
            "TOKENGATE_SESSION_REFRESH_WINDOW_SECONDS",
            "0",
            "environment variable TOKENGATE_SESSION_REFRESH_WINDOW_SECONDS must be positive",
        ),
    ] {
        let err = Config::read(&env(&[base[0], base[1], (name, value)])).unwrap_err();
        assert_eq!(err.to_string(), message);
    }
    let err = Config::read(&env(&[
        base[0],
        base[1],
        ("TOKENGATE_SESSION_REFRESH_LIMIT", "-1"),
    ]))
    .unwrap_err();
    assert!(err.to_string().contains("TOKENGATE_SESSION_REFRESH_LIMIT"));
}

#[test]
fn the_old_key_retires_after_one_reread_one_token_lifetime_the_leeway_and_the_cache() {
    let timing = super::RotationTiming::from_env(&env(&[
        ("TOKENGATE_ACCESS_TTL_SECONDS", "600"),
        ("TOKENGATE_LEEWAY_SECONDS", "20"),
        ("TOKENGATE_AUTHORIZER_CACHE_TTL", "0"),
        ("TOKENGATE_KEYRING_REFRESH_SECONDS", "30"),
    ]))
    .unwrap();
    assert_eq!(timing.retiring_secs(), 30 + 600 + 20);
    let defaults = super::RotationTiming::from_env(&env(&[])).unwrap();
    assert_eq!(defaults.retiring_secs(), 60 + 900 + 30 + 60);
}

#[test]
fn the_device_credential_lifetime_defaults_to_90_days_and_is_capped_at_400() {
    let base = [("TOKENGATE_ISSUER", "i"), ("TOKENGATE_AUDIENCE", "a")];
    let read = |ttl: &str| {
        Config::read(&env(&[
            base[0],
            base[1],
            ("TOKENGATE_DEVICE_TTL_SECONDS", ttl),
        ]))
    };
    let default = Config::read(&env(&base)).unwrap();
    assert_eq!(default.auth.device_ttl_secs, 7_776_000);
    assert_eq!(read("3600").unwrap().auth.device_ttl_secs, 3600);
    assert_eq!(read("34560000").unwrap().auth.device_ttl_secs, 34_560_000);
    for bad in ["0", "-1", "34560001"] {
        let err = read(bad).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "environment variable TOKENGATE_DEVICE_TTL_SECONDS must be between 1 and 34560000"
            ),
            "{bad}: {err}"
        );
    }
}

#[test]
fn the_origin_secret_is_off_by_default_and_read_without_being_shown() {
    let base = [("TOKENGATE_ISSUER", "i"), ("TOKENGATE_AUDIENCE", "a")];
    assert_eq!(
        AuthConfig::from_env(&env(&base)).unwrap().origin_secret,
        None
    );
    let secret = "cloudfront-origin-secret-0123";
    let mut with = base.to_vec();
    with.push(("TOKENGATE_ORIGIN_SECRET", secret));
    let cfg = AuthConfig::from_env(&env(&with)).unwrap();
    assert!(cfg
        .origin_secret
        .as_ref()
        .unwrap()
        .admits(secret.as_bytes()));
    assert!(
        !format!("{cfg:?}").contains(secret),
        "Debug shows the secret"
    );
    let mut weak = base.to_vec();
    weak.push(("TOKENGATE_ORIGIN_SECRET", "short"));
    let err = AuthConfig::from_env(&env(&weak)).unwrap_err().to_string();
    assert!(err.contains("TOKENGATE_ORIGIN_SECRET"), "{err}");
}

#[test]
fn clients_scopes_and_route_scopes_are_read_and_their_errors_name_the_variable() {
    let base = [("TOKENGATE_ISSUER", "i"), ("TOKENGATE_AUDIENCE", "api")];
    let with = |extra: (&'static str, &'static str)| {
        let mut pairs = base.to_vec();
        pairs.push(extra);
        Config::read(&env(&pairs))
    };
    let cfg = Config::read(&env(&[
        base[0],
        base[1],
        ("TOKENGATE_SCOPES", "orders:read="),
        (
            "TOKENGATE_CLIENTS",
            "id=web,kind=browser,scopes=orders:read,resources=https://o.example",
        ),
        ("TOKENGATE_ROUTE_SCOPES", "GET /api/orders=orders:read"),
    ]))
    .unwrap();
    assert_eq!(
        cfg.auth.clients.clients().len(),
        2,
        "web and the built-in default"
    );
    assert!(!cfg.route_scopes.permits("GET", "/api/orders", &[]));
    assert_eq!(
        Config::read(&env(&base)).unwrap().auth.clients,
        Clients::only_default("api")
    );
    for (var, value) in [
        ("TOKENGATE_SCOPES", "orders:read"),
        ("TOKENGATE_CLIENTS", "id=web"),
        ("TOKENGATE_ROUTE_SCOPES", "GET /x"),
    ] {
        let err = with((var, value)).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("environment variable {var}")),
            "{err}"
        );
    }
}

#[test]
fn default_client_id_defaults_to_default_and_refuses_spaces() {
    let base = [("TOKENGATE_ISSUER", "i"), ("TOKENGATE_AUDIENCE", "a")];
    let cfg = AuthConfig::from_env(&env(&base)).unwrap();
    assert_eq!(cfg.default_client_id, "default");
    assert!(cfg.knows_client("default") && !cfg.knows_client("other"));
    assert!(cfg.scopes_supported().is_empty(), "no scope is defined");
    let named = [base[0], base[1], ("TOKENGATE_DEFAULT_CLIENT_ID", "web-app")];
    assert_eq!(
        AuthConfig::from_env(&env(&named))
            .unwrap()
            .default_client_id,
        "web-app"
    );
    for bad in ["web app", "caf\u{e9}", &"x".repeat(129)] {
        let bad_env = [base[0], base[1], ("TOKENGATE_DEFAULT_CLIENT_ID", bad)];
        let err = AuthConfig::from_env(&env(&bad_env)).unwrap_err();
        assert!(err.to_string().contains("TOKENGATE_DEFAULT_CLIENT_ID"));
    }
}
