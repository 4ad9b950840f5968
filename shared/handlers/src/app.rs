//! The one composition root: [`App::build`] takes the configuration and the adapters and
//! assembles each function's service. The function binaries (`functions/*/src/main.rs`), the
//! integration stack on the emulator, the in-memory rig of the unit tests, the benches and the
//! fuzz harness all build their services here, so what they test is what is deployed.

use std::sync::Arc;

use anyhow::Context;
use tokengate_domain::device::DeviceKeys;
use tokengate_domain::keyring::LiveKeyring;
use tokengate_domain::login::Login;
use tokengate_domain::logout::Logout;
use tokengate_domain::password_change::PasswordChange;
use tokengate_domain::refresh::Refresh;
use tokengate_domain::revocation_feed::{FeedLife, RevocationWatch};
use tokengate_domain::{AccessTokenIssuer, Adapters, Config, PasswordHasher, Store};

use crate::authorizer::Authorizer;

/// The configuration and adapters of one function, ready to assemble its service.
pub struct App {
    config: Config,
    adapters: Adapters,
}

impl App {
    /// The composition root.
    pub fn build(config: Config, adapters: Adapters) -> Self {
        Self { config, adapters }
    }

    /// The configuration the services are built from.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Login: users, lockout, rate limit, sessions, the signer, and the refresh MAC (the
    /// device credentials' key is derived from it on first use, never here).
    pub fn login(&self) -> anyhow::Result<Login> {
        let store = self.store()?;
        let mac = self
            .adapters
            .mac
            .clone()
            .context("login needs the refresh MAC (device credentials)")?;
        Ok(Login {
            users: store.clone(),
            lockout: store.clone(),
            devices: Arc::new(DeviceKeys::new(
                mac,
                self.adapters.clock.clone(),
                self.config.auth.device_ttl_secs,
            )),
            rate: store.clone(),
            sessions: store,
            issuer: self.issuer()?,
            hasher: Arc::new(PasswordHasher::new(self.config.auth.hash_params)?),
            clock: self.adapters.clock.clone(),
            config: self.config.auth.clone(),
        })
    }

    /// Password change: login's credential check and session start, on the same adapters.
    pub fn password_change(&self) -> anyhow::Result<PasswordChange> {
        Ok(PasswordChange {
            login: self.login()?,
        })
    }

    /// Refresh: sessions, the per-source limit, the refresh MAC and the signer.
    pub fn refresh(&self) -> anyhow::Result<Refresh> {
        let store = self.store()?;
        Ok(Refresh {
            sessions: store.clone(),
            rate: store,
            mac: self
                .adapters
                .mac
                .clone()
                .context("refresh needs the refresh MAC")?,
            issuer: self.issuer()?,
            clock: self.adapters.clock.clone(),
            config: self.config.auth.clone(),
        })
    }

    /// Logout: sessions, users, the denylist, the revocation lookup, the per-source limit and
    /// the keyring's trusted keys.
    pub fn logout(&self) -> anyhow::Result<Logout> {
        let store = self.store()?;
        Ok(Logout {
            sessions: store.clone(),
            users: store.clone(),
            denylist: store.clone(),
            revocations: store.clone(),
            rate: store,
            keyring: self.keyring()?,
            clock: self.adapters.clock.clone(),
            config: self.config.auth.clone(),
        })
    }

    /// The authorizer: the keyring's trusted keys, the revocation feed's reader (with the
    /// per-request read as its fallback) and the route rules.
    pub fn authorizer(&self) -> anyhow::Result<Authorizer> {
        let rules = self.config.route_rules.clone();
        let scopes = self.config.route_scopes.clone();
        if !rules.always_api_wide() || !scopes.always_api_wide() {
            // Safe (a cached answer refuses other routes) but surprising: say it at cold start.
            tracing::warn!(
                event = "route_rules_need_route_keyed_cache",
                "TOKENGATE_ROUTE_ROLES cannot be said as one policy for the whole API for some \
                 tokens (a {{param}} in a rule that needs a role, or an exception before a wider \
                 rule): those get a policy for the called route only; key the authorizer cache \
                 by route (template parameter AuthorizerCache=route) or turn it off \
                 (AuthorizerCacheTtlSeconds=0; docs/route-rules.md)"
            );
        }
        let store = self.store()?;
        let life = FeedLife::of(&self.config.auth);
        // The store is both the feed and the exact per-request read it falls back to.
        let clock = self.adapters.clock.clone();
        let revocations = RevocationWatch::new(store.clone(), store, clock, life);
        Ok(Authorizer {
            keyring: self.keyring()?,
            revocations: Arc::new(revocations),
            policy: rules,
            scope_policy: scopes,
            clock: self.adapters.clock.clone(),
            advice: Default::default(),
        })
    }

    /// The signing keyring as this function reads it: what the JWKS endpoint serves (exactly
    /// the keys the verifiers trust), and what the verifiers and the issuer use.
    pub fn keyring(&self) -> anyhow::Result<Arc<LiveKeyring>> {
        self.adapters
            .keyring
            .clone()
            .context("this function was connected without the keyring")
    }

    fn store(&self) -> anyhow::Result<Arc<dyn Store>> {
        self.adapters
            .store
            .clone()
            .context("this function was connected without a store")
    }

    fn issuer(&self) -> anyhow::Result<AccessTokenIssuer> {
        let auth = &self.config.auth;
        Ok(AccessTokenIssuer::new(
            self.adapters
                .signer
                .clone()
                .context("this function was connected without a signer")?,
            self.keyring()?,
            &auth.issuer,
            &auth.audience,
            auth.access_ttl_secs,
        ))
    }
}
