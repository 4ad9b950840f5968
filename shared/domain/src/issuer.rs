//! Issues access tokens: builds the JWS signing input here and has the signer (KMS) sign it
//! with the keyring's current key.

use std::sync::Arc;

use tokengate_claims::{assemble, signing_input, AccessClaims, Header, ACCESS_TOKEN_TYPE};

use crate::clients::{Granted, DEFAULT_CLIENT_ID};
use crate::error::{PortError, PortResult};
use crate::keyring::LiveKeyring;
use crate::ports::TokenSigner;
use crate::refresh_token::random_id;

/// A signed access token and what the response needs to say about it.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedAccessToken {
    /// The compact JWS.
    pub token: String,
    /// Its `jti`.
    pub jti: String,
    /// Its `exp`.
    pub exp: i64,
    /// Seconds until `exp`.
    pub expires_in: i64,
    /// Its `scope` (empty when none): echoed in the response (RFC 6749 §3.3, §5.1).
    pub scope: String,
}

impl std::fmt::Debug for IssuedAccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedAccessToken")
            .field("jti", &self.jti)
            .field("exp", &self.exp)
            .finish_non_exhaustive()
    }
}

/// Whom a token is for.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// `sub`.
    pub user_id: &'a str,
    /// `roles`.
    pub roles: &'a [String],
    /// `ver`.
    pub token_version: u64,
    /// `sid`.
    pub sid: &'a str,
    /// `client_id`, `scope` and `aud`; an empty `client_id` or `resource` (a session from
    /// before clients existed) stands for the default client and the configured audience.
    pub grant: &'a Granted,
}

/// Builds and signs access tokens.
#[derive(Clone)]
pub struct AccessTokenIssuer {
    signer: Arc<dyn TokenSigner>,
    keyring: Arc<LiveKeyring>,
    issuer: String,
    audience: String,
    ttl_secs: i64,
}

impl AccessTokenIssuer {
    /// An issuer signing with `signer` and the current key of `keyring`.
    pub fn new(
        signer: Arc<dyn TokenSigner>,
        keyring: Arc<LiveKeyring>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
        ttl_secs: i64,
    ) -> Self {
        Self {
            signer,
            keyring,
            issuer: issuer.into(),
            audience: audience.into(),
            ttl_secs,
        }
    }

    /// Signs a fresh token for `subject` valid from `now` for the configured lifetime, with
    /// the keyring's current key. Without one (an empty keyring, or one never read) there is
    /// nothing to sign with: the caller answers 503 `service_unavailable`.
    pub async fn issue(&self, subject: Subject<'_>, now: i64) -> PortResult<IssuedAccessToken> {
        let keys = self.keyring.keys().await;
        let Some(key) = keys.signing_key() else {
            tracing::error!(
                event = "signing_key_unavailable",
                keyring_read = keys.is_known(),
                "no current signing key in the keyring: cannot sign access tokens"
            );
            return Err(PortError::Unavailable(anyhow::anyhow!(
                "no current signing key in the keyring"
            )));
        };
        let header = Header {
            alg: key.alg,
            typ: ACCESS_TOKEN_TYPE.to_owned(),
            kid: key.kid.clone(),
        };
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: non_empty(&subject.grant.resource, &self.audience),
            sub: subject.user_id.to_owned(),
            client_id: Some(non_empty(&subject.grant.client_id, DEFAULT_CLIENT_ID)),
            exp: now + self.ttl_secs,
            iat: now,
            nbf: now,
            jti: random_id(),
            roles: subject.roles.to_vec(),
            ver: subject.token_version,
            scope: Some(subject.grant.scope()).filter(|s| !s.is_empty()),
            sid: Some(subject.sid.to_owned()),
        };
        let input = signing_input(&header, &claims);
        let signature = self.signer.sign(key, input.as_bytes()).await?;
        Ok(IssuedAccessToken {
            token: assemble(&input, &signature),
            jti: claims.jti,
            exp: claims.exp,
            expires_in: self.ttl_secs,
            scope: claims.scope.unwrap_or_default(),
        })
    }
}

fn non_empty(value: &str, otherwise: &str) -> String {
    if value.is_empty() { otherwise } else { value }.to_owned()
}
