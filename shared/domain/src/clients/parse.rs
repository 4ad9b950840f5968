//! The grammar of `TOKENGATE_SCOPES` and `TOKENGATE_CLIENTS` (docs/configuration.md).
//!
//! `TOKENGATE_SCOPES`: rules separated by `;`, each `SCOPE=ROLES` with ROLES `role1|role2` (any
//! one suffices) or empty (any user) — the grammar of route roles. Example:
//! `orders:read=;orders:write=admin|ops`.
//!
//! `TOKENGATE_CLIENTS`: clients separated by `;`, each a `,`-separated list of `key=value`
//! fields; list values are space-separated, as OAuth's own `scope` is:
//! `id=web,kind=browser,scopes=orders:read orders:write,default=orders:read,resources=https://orders.example.com https://reports.example.com`.
//! `id` and `kind` (`browser` or `native`) are required; `resources` (the first is the
//! default) too, except for the client named `default`, which is used when a request names no
//! client and falls back to `TOKENGATE_AUDIENCE`. Without a client named `default` there is a
//! built-in one: no scopes, `aud` = `TOKENGATE_AUDIENCE` (the tokens of before clients existed).

use super::{
    default_client, is_scope_token, Client, ClientKind, Clients, ScopeRule, DEFAULT_CLIENT_ID,
};

/// Characters the configuration grammar itself uses: not allowed inside a name.
const SEPARATORS: &[char] = &[';', ',', '=', '|'];

impl Clients {
    /// Parses the two settings; `audience` is `TOKENGATE_AUDIENCE`. Errors name the variable
    /// and the offending part.
    pub fn parse(scopes: &str, clients: &str, audience: &str) -> anyhow::Result<Self> {
        Self::parse_with_default(scopes, clients, audience, DEFAULT_CLIENT_ID)
    }

    /// [`parse`](Self::parse) with `default_id` (`TOKENGATE_DEFAULT_CLIENT_ID`) as the id of
    /// the client requests without `client_id` use.
    pub fn parse_with_default(
        scopes: &str,
        clients: &str,
        audience: &str,
        default_id: &str,
    ) -> anyhow::Result<Self> {
        let scopes = parse_scopes(scopes)
            .map_err(|e| anyhow::anyhow!("environment variable TOKENGATE_SCOPES: {e}"))?;
        let mut list = Vec::new();
        for raw in clients.split(';').map(str::trim).filter(|c| !c.is_empty()) {
            let client = parse_client(raw, &scopes, audience, default_id).map_err(|e| {
                anyhow::anyhow!("environment variable TOKENGATE_CLIENTS: client {raw:?}: {e}")
            })?;
            anyhow::ensure!(
                list.iter().all(|c: &Client| c.id != client.id),
                "environment variable TOKENGATE_CLIENTS: client id {:?} appears twice",
                client.id
            );
            list.push(client);
        }
        if list.iter().all(|c| c.id != default_id) {
            list.push(default_client(audience, default_id));
        }
        Ok(Self {
            scopes,
            clients: list,
            default_id: default_id.to_owned(),
        })
    }
}

fn parse_scopes(spec: &str) -> anyhow::Result<Vec<ScopeRule>> {
    let mut rules: Vec<ScopeRule> = Vec::new();
    for raw in spec.split(';').map(str::trim).filter(|r| !r.is_empty()) {
        let (name, roles) = raw.split_once('=').ok_or_else(|| {
            anyhow::anyhow!("scope rule {raw:?} must be 'scope=role1|role2' (roles may be empty)")
        })?;
        let name = name.trim();
        anyhow::ensure!(
            is_name(name),
            "scope {name:?} is not a scope name (RFC 6749 §3.3, without ; , = |)"
        );
        anyhow::ensure!(
            rules.iter().all(|r| r.name != name),
            "scope {name:?} is defined twice"
        );
        let roles: Vec<String> = roles
            .split('|')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect();
        rules.push(ScopeRule {
            name: name.to_owned(),
            roles,
        });
    }
    Ok(rules)
}

fn parse_client(
    raw: &str,
    scopes: &[ScopeRule],
    audience: &str,
    default_id: &str,
) -> anyhow::Result<Client> {
    let (mut id, mut kind, mut allowed, mut default, mut resources) =
        (None, None, None, None, None);
    for field in raw.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let (key, value) = field
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("field {field:?} must be 'key=value'"))?;
        let value = value.trim();
        let slot = match key.trim() {
            "id" => &mut id,
            "kind" => &mut kind,
            "scopes" => &mut allowed,
            "default" => &mut default,
            "resources" => &mut resources,
            other => {
                anyhow::bail!("unknown field {other:?} (id, kind, scopes, default, resources)")
            }
        };
        anyhow::ensure!(slot.is_none(), "field {:?} appears twice", key.trim());
        *slot = Some(value.to_owned());
    }
    let id = id.ok_or_else(|| anyhow::anyhow!("lacks id="))?;
    anyhow::ensure!(
        !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)),
        "id {id:?} must be 1 to 64 letters, digits or - . _ ~"
    );
    let kind = match kind.as_deref() {
        Some("browser") => Some(ClientKind::Browser),
        Some("native") => Some(ClientKind::Native),
        None if id == default_id => None,
        None => anyhow::bail!("lacks kind=browser or kind=native"),
        Some(other) => anyhow::bail!("kind {other:?} must be browser or native"),
    };
    let words = |v: Option<String>| -> Vec<String> {
        v.unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    let allowed = words(allowed);
    for s in &allowed {
        anyhow::ensure!(
            scopes.iter().any(|r| &r.name == s),
            "scope {s:?} is not defined in TOKENGATE_SCOPES"
        );
    }
    let default = words(default);
    for s in &default {
        anyhow::ensure!(
            allowed.contains(s),
            "default scope {s:?} is not among its scopes="
        );
    }
    let mut resources = words(resources);
    if resources.is_empty() {
        anyhow::ensure!(
            id == default_id,
            "lacks resources= (the audiences it may ask for)"
        );
        resources.push(audience.to_owned());
    }
    for r in &resources {
        // RFC 8707 §2: an absolute URI without a fragment; `TOKENGATE_AUDIENCE` set before
        // clients existed may be a plain name, so only what would break the grammar or the
        // claim is refused here.
        anyhow::ensure!(
            r.len() <= super::MAX_NAME_LEN
                && !r.contains(SEPARATORS)
                && !r.contains('#')
                && r.bytes().all(|b| b.is_ascii_graphic()),
            "resource {r:?} must be a URI without a fragment, ; , = or |"
        );
    }
    Ok(Client {
        id,
        kind,
        scopes: allowed,
        default_scopes: default,
        resources,
    })
}

fn is_name(name: &str) -> bool {
    is_scope_token(name) && !name.contains(SEPARATORS)
}
