use super::*;

const SCOPES: &str = "orders:read=;orders:write=admin|ops;reports:read=";
const CLIENTS: &str = "id=web,kind=browser,scopes=orders:read orders:write reports:read,\
    default=orders:read,resources=https://orders.example.com https://reports.example.com;\
    id=cli,kind=native,scopes=orders:read,resources=https://orders.example.com";

fn clients() -> Clients {
    Clients::parse(SCOPES, CLIENTS, "api").expect("valid configuration")
}

fn ask(client: Option<&str>, scope: Option<&str>, resource: Option<&str>) -> GrantRequest {
    GrantRequest {
        client_id: client.map(str::to_owned),
        scope: scope.map(str::to_owned),
        resource: resource.map(str::to_owned),
    }
}

fn roles(r: &[&str]) -> Vec<String> {
    r.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn no_configuration_keeps_the_tokens_of_before_clients() {
    let c = Clients::parse("", "", "api").unwrap();
    assert_eq!(c, Clients::only_default("api"));
    let g = c.grant_login(&GrantRequest::default(), &[]).unwrap();
    assert_eq!(
        g,
        Granted {
            client_id: "default".into(),
            scopes: vec![],
            resource: "api".into()
        }
    );
}

#[test]
fn granted_is_requested_within_the_clients_scopes_and_the_roles() {
    let g = clients()
        .grant_login(
            &ask(Some("web"), Some("orders:write orders:read"), None),
            &roles(&["ops"]),
        )
        .unwrap();
    assert_eq!(g.scope(), "orders:read orders:write");
    assert_eq!(g.resource, "https://orders.example.com");
}

#[test]
fn roles_limit_scopes() {
    let g = clients()
        .grant_login(
            &ask(Some("web"), Some("orders:read orders:write"), None),
            &roles(&["reader"]),
        )
        .unwrap();
    assert_eq!(g.scopes, vec!["orders:read".to_owned()]);
}

#[test]
fn scopes_outside_the_client_are_narrowed_away() {
    let g = clients()
        .grant_login(
            &ask(Some("cli"), Some("orders:read reports:read"), None),
            &roles(&["admin"]),
        )
        .unwrap();
    assert_eq!(g.scope(), "orders:read");
}

#[test]
fn nothing_requested_grants_the_default_set() {
    let g = clients()
        .grant_login(&ask(Some("web"), None, None), &[])
        .unwrap();
    assert_eq!(g.scope(), "orders:read");
    let empty = clients()
        .grant_login(&ask(Some("web"), Some(""), None), &[])
        .unwrap();
    assert_eq!(empty, g);
    for malformed in [
        " ",
        "orders:read ",
        " orders:read",
        "orders:read  orders:write",
    ] {
        let e = clients()
            .grant_login(&ask(Some("web"), Some(malformed), None), &[])
            .unwrap_err();
        assert_eq!(e, ErrorCode::InvalidScope, "{malformed:?}");
    }
}

#[test]
fn nothing_left_is_invalid_scope() {
    let e = clients()
        .grant_login(
            &ask(Some("web"), Some("orders:write"), None),
            &roles(&["reader"]),
        )
        .unwrap_err();
    assert_eq!(e, ErrorCode::InvalidScope);
    let unknown = clients()
        .grant_login(&ask(Some("web"), Some("nope"), None), &[])
        .unwrap_err();
    assert_eq!(unknown, ErrorCode::InvalidScope);
    let malformed = clients()
        .grant_login(&ask(Some("web"), Some("orders:read \"x\""), None), &[])
        .unwrap_err();
    assert_eq!(malformed, ErrorCode::InvalidScope);
}

#[test]
fn an_unknown_client_is_invalid_client() {
    let e = clients()
        .grant_login(&ask(Some("evil"), None, None), &[])
        .unwrap_err();
    assert_eq!(e, ErrorCode::InvalidClient);
}

#[test]
fn resource_picks_the_audience_among_the_clients_resources() {
    let g = clients()
        .grant_login(
            &ask(Some("web"), None, Some("https://reports.example.com")),
            &[],
        )
        .unwrap();
    assert_eq!(g.resource, "https://reports.example.com");
    let e = clients()
        .grant_login(
            &ask(Some("cli"), None, Some("https://reports.example.com")),
            &[],
        )
        .unwrap_err();
    assert_eq!(e, ErrorCode::InvalidTarget);
}

fn original() -> Granted {
    Granted {
        client_id: "web".into(),
        scopes: roles(&["orders:read", "orders:write"]),
        resource: "https://orders.example.com".into(),
    }
}

#[test]
fn refresh_may_narrow_the_original_grant() {
    let g = narrow(&original(), Some("orders:read")).unwrap();
    assert_eq!(g.scope(), "orders:read");
    assert_eq!(narrow(&original(), None).unwrap(), original());
}

#[test]
fn refresh_never_widens_the_original_grant() {
    let e = narrow(&original(), Some("orders:read reports:read")).unwrap_err();
    assert_eq!(e, ErrorCode::InvalidScope);
}

#[test]
fn configuration_errors_name_the_variable_and_the_part() {
    for (scopes, clients, says) in [
        ("orders:read", "", "TOKENGATE_SCOPES"),
        ("a=;a=", "", "defined twice"),
        ("a=", "kind=browser,resources=x", "lacks id"),
        ("a=", "id=w,resources=x", "lacks kind"),
        ("a=", "id=w,kind=tv,resources=x", "browser or native"),
        (
            "a=",
            "id=w,kind=native,scopes=b,resources=x",
            "not defined in TOKENGATE_SCOPES",
        ),
        (
            "a=",
            "id=w,kind=native,default=a,resources=x",
            "not among its scopes",
        ),
        ("a=", "id=w,kind=native", "lacks resources"),
        ("a=", "id=w,kind=native,resources=x#f", "without a fragment"),
        (
            "a=",
            "id=w,kind=native,resources=x;id=w,kind=native,resources=x",
            "twice",
        ),
        (
            "a=",
            "id=w,kind=native,colour=x,resources=x",
            "unknown field",
        ),
    ] {
        let e = Clients::parse(scopes, clients, "api")
            .unwrap_err()
            .to_string();
        assert!(e.contains(says), "{scopes:?} {clients:?}: {e}");
        let var = if clients.is_empty() {
            "TOKENGATE_SCOPES"
        } else {
            "TOKENGATE_CLIENTS"
        };
        assert!(e.contains(var) || e.contains("TOKENGATE_SCOPES"), "{e}");
    }
}

#[test]
fn a_configured_default_client_replaces_the_built_in_one() {
    let c = Clients::parse("a=", "id=default,scopes=a,default=a", "api").unwrap();
    let g = c.grant_login(&GrantRequest::default(), &[]).unwrap();
    assert_eq!((g.scope().as_str(), g.resource.as_str()), ("a", "api"));
    assert_eq!(c.clients().len(), 1);
}
