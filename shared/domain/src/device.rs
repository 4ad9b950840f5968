//! Device credentials: what a client that signed in successfully holds so that the lockout
//! cannot be held against it (OWASP "Slow down online guessing attacks with device cookies";
//! NIST SP 800-63B §5.2.2 lets a verifier accept the owner from a device that authenticated
//! before).
//!
//! A credential is self-contained and MACed: `dv1.<payload>.<mac>`, both base64url, the payload
//! a JSON object naming the account (`sub`, its user id), the user's token version at issue
//! (`ver`), a random device id (`did`, 128 bits) and an expiry (`exp`). Nothing is stored: the
//! token version is the revocation — a password change, a global logout (`revoke-sessions`), a
//! disable or a role change bumps it, and every credential of the older version stops counting.
//!
//! The MAC key is derived once per process from the refresh MAC's KMS key
//! (`HMAC(K, "tokengate/device-credential/v1")`) and kept in memory: verifying a credential
//! costs no KMS call, so a flood of logins carrying made-up credentials cannot spend the
//! account's KMS quota (which every login and refresh share). The derivation is lazy — the
//! first login that carries a plausible credential or earns one — never at init.

use std::sync::{Arc, Mutex};

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use crate::clock::Clock;
use crate::ports::{RefreshMac, User};
use crate::refresh_token::random_id;

/// Name of the browser cookie that carries a device credential (`__Secure-`: browsers refuse
/// it without `Secure`).
pub const DEVICE_COOKIE: &str = "__Secure-device";
/// The message the device key is derived from (distinct from every refresh-successor input,
/// which starts with `tokengate/refresh-successor/v1`).
const KEY_LABEL: &[u8] = b"tokengate/device-credential/v1";
/// Version prefix of the wire form.
const PREFIX: &str = "dv1.";
/// Longest credential read: a user id of a few hundred bytes fits; anything longer is refused
/// before it is decoded.
const MAX_CREDENTIAL_LEN: usize = 1024;
/// Bytes of a device id.
const DEVICE_ID_BYTES: usize = 16;
/// After a failed key derivation, how long this process goes on without device credentials
/// before it asks KMS again: an outage costs one `GenerateMac` per interval, not one per login.
const RETRY_DERIVATION_AFTER_SECS: i64 = 30;

/// A device credential in its wire form. A bearer secret (it exempts its holder from the
/// account's lockout): never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceCredential(String);

impl std::fmt::Debug for DeviceCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceCredential(..)")
    }
}

impl DeviceCredential {
    /// Wraps a credential as a client presented it (cookie or body), unchecked.
    pub fn new(wire: impl Into<String>) -> Self {
        Self(wire.into())
    }
    /// The wire form. Treat as a secret.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// What a credential says (its payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceClaims {
    /// The account's user id.
    pub sub: String,
    /// The user's token version at issue.
    pub ver: u64,
    /// The device id: 128 random bits, base64url (never a `#`: it keys a counter).
    pub did: String,
    /// Unix time from which the credential no longer counts.
    pub exp: i64,
}

/// A credential handed out by a successful login or password change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedDevice {
    /// The credential.
    pub credential: DeviceCredential,
    /// Seconds it lives (cookie `Max-Age`).
    pub max_age: i64,
}

/// A credential whose MAC has not been checked yet: the claims, and the bytes the MAC covers.
struct Unverified<'a> {
    claims: DeviceClaims,
    signed: &'a str,
    mac: Vec<u8>,
}

/// Splits and decodes the wire form; `None` for anything malformed. Checks no MAC.
fn parse(wire: &str) -> Option<Unverified<'_>> {
    if wire.len() > MAX_CREDENTIAL_LEN || !wire.starts_with(PREFIX) {
        return None;
    }
    let (signed, mac) = wire.rsplit_once('.')?;
    let payload = signed.strip_prefix(PREFIX)?;
    let claims: DeviceClaims = serde_json::from_slice(&B64.decode(payload).ok()?).ok()?;
    let did = B64.decode(&claims.did).ok()?;
    if did.len() != DEVICE_ID_BYTES {
        return None;
    }
    Some(Unverified {
        claims,
        signed,
        mac: B64.decode(mac).ok()?,
    })
}

/// Issues and verifies device credentials with a key derived, lazily and once, from the
/// refresh MAC.
pub struct DeviceKeys {
    mac: Arc<dyn RefreshMac>,
    key: OnceCell<hmac::Key>,
    /// Unix time before which a failed derivation is not retried.
    retry_at: Mutex<i64>,
    clock: Arc<dyn Clock>,
    ttl_secs: i64,
}

impl std::fmt::Debug for DeviceKeys {
    // The derived key never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKeys")
            .field("derived", &self.key.initialized())
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

impl DeviceKeys {
    /// Keys derived from `mac` on first use; credentials live `ttl_secs`
    /// (`TOKENGATE_DEVICE_TTL_SECONDS`).
    pub fn new(mac: Arc<dyn RefreshMac>, clock: Arc<dyn Clock>, ttl_secs: i64) -> Self {
        Self {
            mac,
            key: OnceCell::new(),
            retry_at: Mutex::new(i64::MIN),
            clock,
            ttl_secs,
        }
    }

    /// The derived key, deriving it on first use. `None` if the derivation fails (logged):
    /// logins then go on without device credentials, never fail for it.
    async fn key(&self) -> Option<&hmac::Key> {
        if let Some(key) = self.key.get() {
            return Some(key);
        }
        let now = self.clock.now();
        if now < *self.retry_at.lock().unwrap_or_else(|p| p.into_inner()) {
            return None;
        }
        let derived = self
            .key
            .get_or_try_init(|| async {
                let secret = self.mac.mac(KEY_LABEL).await?;
                Ok::<_, crate::PortError>(hmac::Key::new(hmac::HMAC_SHA256, &secret))
            })
            .await;
        match derived {
            Ok(key) => Some(key),
            Err(e) => {
                tracing::warn!(event = "device_key_unavailable", error = %e);
                *self.retry_at.lock().unwrap_or_else(|p| p.into_inner()) =
                    now + RETRY_DERIVATION_AFTER_SECS;
                None
            }
        }
    }

    /// The device id of `presented` if it is a valid credential of `user` at `now`: well
    /// formed, not expired, naming the user's id and current token version, MAC intact
    /// (checked in constant time). `None` otherwise — a credential of another account, of an
    /// older version, expired or forged only means "no credential". The claims are checked
    /// before the MAC, so a credential that could not count costs no key derivation.
    pub async fn device_of(&self, presented: &DeviceCredential, user: &User) -> Option<String> {
        let unverified = parse(presented.expose())?;
        let claims = &unverified.claims;
        if claims.sub != user.user_id
            || claims.ver != user.token_version
            || claims.exp <= self.clock.now()
        {
            return None;
        }
        let key = self.key().await?;
        hmac::verify(key, unverified.signed.as_bytes(), &unverified.mac).ok()?;
        Some(unverified.claims.did)
    }

    /// The device id a presented credential claims, before any check: which counter to read
    /// beside the others, so that the read costs no extra round trip. Never trusted.
    pub fn claimed_device(presented: &DeviceCredential) -> Option<String> {
        parse(presented.expose()).map(|u| u.claims.did)
    }

    /// A fresh credential (new device id) for `user` at its current token version, or `None`
    /// if the key cannot be derived.
    pub async fn issue(&self, user: &User) -> Option<IssuedDevice> {
        let key = self.key().await?;
        let claims = DeviceClaims {
            sub: user.user_id.clone(),
            ver: user.token_version,
            did: random_id(),
            exp: self.clock.now() + self.ttl_secs,
        };
        // Serialising a plain struct of strings and numbers cannot fail.
        let payload = serde_json::to_vec(&claims).ok()?;
        let signed = format!("{PREFIX}{}", B64.encode(payload));
        let mac = hmac::sign(key, signed.as_bytes());
        Some(IssuedDevice {
            credential: DeviceCredential(format!("{signed}.{}", B64.encode(mac.as_ref()))),
            max_age: self.ttl_secs,
        })
    }
}

#[cfg(test)]
mod tests;
