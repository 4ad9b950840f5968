//! The OAuth 2.0 face of the token service: which client ids it knows and which scopes it can
//! grant. Today there is one client and no scope; the two functions here are the seams where
//! registered clients and scopes plug in (docs/design.md, "OAuth endpoints").

use super::{AuthConfig, Env};

/// `client_id` of the client requests without one use, unless `TOKENGATE_DEFAULT_CLIENT_ID`
/// names another.
pub use crate::clients::DEFAULT_CLIENT_ID;

/// Longest accepted client id: ids are names, not secrets.
const MAX_CLIENT_ID_LEN: usize = 128;

/// `TOKENGATE_DEFAULT_CLIENT_ID`: visible ASCII without spaces (RFC 6749 appendix A.1 allows
/// any `VSCHAR`; a space would break the form and the logs), at most 128 characters.
pub(super) fn default_client_id<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> anyhow::Result<String> {
    let id = env.text("TOKENGATE_DEFAULT_CLIENT_ID");
    if id.is_empty() {
        return Ok(DEFAULT_CLIENT_ID.to_owned());
    }
    anyhow::ensure!(
        id.len() <= MAX_CLIENT_ID_LEN && id.bytes().all(|b| b.is_ascii_graphic()),
        "environment variable TOKENGATE_DEFAULT_CLIENT_ID must be 1 to {MAX_CLIENT_ID_LEN} \
         visible ASCII characters without spaces"
    );
    Ok(id)
}

impl AuthConfig {
    /// Whether `client_id` names a registered client (`TOKENGATE_CLIENTS`, or the default one).
    pub fn knows_client(&self, client_id: &str) -> bool {
        self.clients.knows(client_id)
    }

    /// Every defined scope (`TOKENGATE_SCOPES`): discovery's `scopes_supported`.
    pub fn scopes_supported(&self) -> Vec<String> {
        self.clients
            .scopes()
            .iter()
            .map(|s| s.name.clone())
            .collect()
    }
}
