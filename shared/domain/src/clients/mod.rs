//! Registered clients, scopes and resource servers (audiences): what a login or refresh may be
//! granted.
//!
//! They are stack configuration ([`parse`]), not table items: first-party clients and scope
//! definitions change with deploys and are reviewed like code, and the hot path reads nothing
//! for them.
//!
//! The grant (RFC 6749 §3.3, RFC 8707, DESIGN.md "Access token"): granted = requested ∩ the
//! client's scopes ∩ what the user's roles allow; nothing requested → the client's default set;
//! something requested and nothing left → `invalid_scope`. `aud` is the one `resource` asked for,
//! which must be one of the client's resource servers (`invalid_target`, RFC 8707 §2); none
//! asked → the client's first. A refresh may narrow the session's original grant, never widen
//! it (RFC 6749 §6).

pub mod parse;

use crate::error::ErrorCode;

/// The id of the client used when a request names none, unless `TOKENGATE_DEFAULT_CLIENT_ID`
/// names another: today's requests keep working with it.
pub const DEFAULT_CLIENT_ID: &str = "default";

/// Longest client id, scope name or resource: the session item stores the grant, so every
/// part of it is bounded by configuration.
pub const MAX_NAME_LEN: usize = 256;

/// Where a client gets its refresh token and device credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// HttpOnly cookies.
    Browser,
    /// The response body.
    Native,
}

/// A scope and the roles allowed to receive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeRule {
    /// The scope name (an RFC 6749 §3.3 scope-token).
    pub name: String,
    /// Any one of these roles suffices; empty: any user.
    pub roles: Vec<String>,
}

/// A registered client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// `client_id`.
    pub id: String,
    /// Browser or native; `None` for the built-in default client, whose requests pick the
    /// channel themselves (`"client":"native"`), as before clients existed.
    pub kind: Option<ClientKind>,
    /// The scopes it may ask for.
    pub scopes: Vec<String>,
    /// What it gets when it asks for none (a subset of `scopes`).
    pub default_scopes: Vec<String>,
    /// The resource servers (audiences) it may ask for; the first is its default. Never empty.
    pub resources: Vec<String>,
}

/// Every client and scope of the deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clients {
    scopes: Vec<ScopeRule>,
    clients: Vec<Client>,
    /// The client a request without `client_id` uses (`TOKENGATE_DEFAULT_CLIENT_ID`).
    default_id: String,
}

/// What a session was granted (at login) or a token carries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Granted {
    /// `client_id`.
    pub client_id: String,
    /// Granted scopes, in the configuration's order, no duplicates.
    pub scopes: Vec<String>,
    /// `aud`.
    pub resource: String,
}

impl Granted {
    /// The `scope` claim and response member: one space-separated string (RFC 8693 §4.2).
    pub fn scope(&self) -> String {
        self.scopes.join(" ")
    }
}

/// What a login or refresh asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantRequest {
    /// `client_id`; `None` is the default client.
    pub client_id: Option<String>,
    /// `scope` as sent (space-separated); `None` or blank asks for the default set (login) or
    /// the original grant (refresh).
    pub scope: Option<String>,
    /// `resource` (RFC 8707); login only.
    pub resource: Option<String>,
}

impl Clients {
    /// Only the default client, with no scopes and `audience` as its one resource: tokens as
    /// they were before clients and scopes existed.
    pub fn only_default(audience: &str) -> Self {
        Self {
            scopes: Vec::new(),
            clients: vec![default_client(audience, DEFAULT_CLIENT_ID)],
            default_id: DEFAULT_CLIENT_ID.to_owned(),
        }
    }

    /// The id of the client a request without `client_id` uses.
    pub fn default_id(&self) -> &str {
        &self.default_id
    }

    /// Whether `client_id` names a registered client (the default one included).
    pub fn knows(&self, client_id: &str) -> bool {
        self.clients.iter().any(|c| c.id == client_id)
    }

    /// The defined scopes.
    pub fn scopes(&self) -> &[ScopeRule] {
        &self.scopes
    }

    /// The registered clients, the default one included.
    pub fn clients(&self) -> &[Client] {
        &self.clients
    }

    /// The client a request names, or the default one; unknown → `invalid_client`.
    pub fn client(&self, id: Option<&str>) -> Result<&Client, ErrorCode> {
        let id = id.map(str::trim).filter(|s| !s.is_empty());
        let id = id.unwrap_or(&self.default_id);
        self.clients
            .iter()
            .find(|c| c.id == id)
            .ok_or(ErrorCode::InvalidClient)
    }

    /// The client and the resource a login asks for (`invalid_client`, `invalid_target`):
    /// what can be checked before the password, so a misconfigured client costs no Argon2
    /// and counts no failure.
    pub fn target(&self, req: &GrantRequest) -> Result<(&Client, String), ErrorCode> {
        let client = self.client(req.client_id.as_deref())?;
        let resource = match req.resource.as_deref().map(str::trim) {
            None | Some("") => client.resources[0].clone(),
            Some(r) => client
                .resources
                .iter()
                .find(|known| *known == r)
                .cloned()
                .ok_or(ErrorCode::InvalidTarget)?,
        };
        Ok((client, resource))
    }

    /// The grant of a login by a user with `roles`.
    pub fn grant_login(&self, req: &GrantRequest, roles: &[String]) -> Result<Granted, ErrorCode> {
        let (client, resource) = self.target(req)?;
        let requested = match requested(req.scope.as_deref())? {
            Some(asked) => asked,
            None => client.default_scopes.clone(),
        };
        // In the configuration's order: the same grant reads the same whatever the request's
        // order.
        let scopes: Vec<String> = self
            .scopes
            .iter()
            .filter(|rule| requested.contains(&rule.name))
            .filter(|rule| client.scopes.contains(&rule.name))
            .filter(|rule| rule.roles.is_empty() || rule.roles.iter().any(|r| roles.contains(r)))
            .map(|rule| rule.name.clone())
            .collect();
        if scopes.is_empty() && !requested.is_empty() {
            return Err(ErrorCode::InvalidScope);
        }
        Ok(Granted {
            client_id: client.id.clone(),
            scopes,
            resource,
        })
    }
}

/// The grant of a refresh of a session granted `original`: the requested subset, or all of
/// it. A scope outside the original grant is a widening (RFC 6749 §6: "MUST NOT include any
/// scope not originally granted"): `invalid_scope`, never silently dropped.
pub fn narrow(original: &Granted, scope: Option<&str>) -> Result<Granted, ErrorCode> {
    let Some(asked) = requested(scope)? else {
        return Ok(original.clone());
    };
    if asked.iter().any(|s| !original.scopes.contains(s)) {
        return Err(ErrorCode::InvalidScope);
    }
    Ok(Granted {
        scopes: original
            .scopes
            .iter()
            .filter(|s| asked.contains(s))
            .cloned()
            .collect(),
        ..original.clone()
    })
}

/// A request's `scope`: `None` when absent or empty (RFC 6749 §3.1: a parameter without a
/// value is omitted), else its names. Anything but `scope-token *( SP scope-token )` (§3.3) —
/// a character a scope-token may not hold, a leading, trailing or doubled space, an over-long
/// name — is `invalid_scope`.
fn requested(scope: Option<&str>) -> Result<Option<Vec<String>>, ErrorCode> {
    let Some(text) = scope.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let names: Vec<String> = text.split(' ').map(str::to_owned).collect();
    if names.len() > 64 || !names.iter().all(|n| is_scope_token(n)) {
        return Err(ErrorCode::InvalidScope);
    }
    Ok(Some(names))
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`, bounded in length.
pub fn is_scope_token(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

fn default_client(audience: &str, id: &str) -> Client {
    Client {
        id: id.to_owned(),
        kind: None,
        scopes: Vec::new(),
        default_scopes: Vec::new(),
        resources: vec![audience.to_owned()],
    }
}

#[cfg(test)]
mod tests;
