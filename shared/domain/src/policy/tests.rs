//! The rule grammar, the readings of a request and the Deny patterns.

use super::*;

fn roles(r: &[&str]) -> Vec<String> {
    r.iter().map(|s| s.to_string()).collect()
}

#[test]
fn first_matching_rule_decides() {
    let p =
        RoutePolicy::parse("GET /api/me=; * /api/admin/*=admin|ops; DELETE /api/items/{id}=admin")
            .unwrap();
    assert!(p.permits("GET", "/api/me", &[]));
    assert!(!p.permits("POST", "/api/admin/users", &roles(&["user"])));
    assert!(p.permits("POST", "/api/admin/users", &roles(&["ops"])));
    assert!(!p.permits("DELETE", "/api/items/7", &[]));
    assert!(p.permits("GET", "/api/items/7", &[]));
    assert!(p.permits("DELETE", "/api/items/7/extra", &[]));
}

#[test]
fn denials_cover_methods_by_length_the_bare_prefix_head_and_upper_case_spellings() {
    let p = RoutePolicy::parse("* /api/admin/*=admin; GET /api/Me=admin").unwrap();
    let denied = p.api_wide_denials(&[]).unwrap();
    let own: Vec<&str> = denied[canonical::iam_patterns().len()..].to_vec();
    let mut expected = Vec::new();
    for m in ["???", "????", "PATCH", "DELETE", "OPTIONS"] {
        expected.extend([format!("{m}/api/admin"), format!("{m}/api/admin/*")]);
    }
    for upper in [
        "/A",
        "/aP",
        "/apI",
        "/api/A",
        "/api/aD",
        "/api/adM",
        "/api/admI",
        "/api/admiN",
    ] {
        expected.push(format!("?*{upper}*"));
    }
    expected.extend(["GET/api/me".to_owned(), "HEAD/api/me".to_owned()]);
    for upper in ["/A", "/aP", "/apI", "/api/M", "/api/mE"] {
        expected.push(format!("?*{upper}*"));
    }
    assert_eq!(own, expected);
    assert_eq!(p.api_wide_denials(&roles(&["admin"])), Some(vec![]));
    assert!(p.always_api_wide());
}

#[test]
fn literals_refuse_case_blind_and_head_is_judged_as_get() {
    let p = RoutePolicy::parse("* /api/admin/*=admin; GET /api/report=ops").unwrap();
    for (m, path) in [
        ("GET", "/API/Admin/users"),
        ("DELETE", "/api/ADMIN"),
        ("HEAD", "/api/report"),
        ("HEAD", "/Api/Report"),
        ("get", "/api/report"),
    ] {
        assert!(!p.permits(m, path, &[]), "{m} {path}");
    }
    assert!(p.permits("GET", "/api/Admin", &roles(&["admin"])));
    assert!(p.permits("POST", "/api/report", &[]));
    // One route in any case: the first rule naming it decides for every spelling.
    let q = RoutePolicy::parse("GET /api/Me=admin; GET /api/me=").unwrap();
    assert!(!q.permits("GET", "/api/me", &[]));
    assert!(!q.permits("GET", "/api/ME", &[]));
}

#[test]
fn non_canonical_paths_are_refused_to_a_token_some_rule_refuses() {
    let p = RoutePolicy::parse("DELETE /api/items=admin").unwrap();
    for path in [
        "/api/items/",
        "/api//items",
        "/api/./items",
        "/api/me/../items",
        "/api/items;x",
        "/api/%69tems",
        "/api/items/%2e%2e",
    ] {
        assert!(!p.permits("DELETE", path, &[]), "{path}");
        assert!(!p.permits("GET", path, &[]), "{path}");
        // A token no rule refuses may call any spelling: every reading is allowed to it.
        assert!(p.permits("DELETE", path, &roles(&["admin"])), "{path}");
    }
    assert!(p.permits("GET", "/", &[]));
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
    let apart = RoutePolicy::parse("GET /api/me=; POST /api/{id}=; * /api/admin/*=admin").unwrap();
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
