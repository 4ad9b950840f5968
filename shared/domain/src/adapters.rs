//! What a function is assembled from: the adapters behind every port, handed to the one
//! composition root (`tokengate_handlers::app::App::build`). The AWS adapters come from
//! `tokengate_aws::connect`, the in-memory twins from `tokengate-testing`; the domain sees
//! only the ports.

use std::sync::Arc;

use tokengate_claims::VerifyingKey;

use crate::clock::Clock;
use crate::ports::{
    Denylist, LockoutStore, RateLimiter, RefreshMac, RevocationSource, SessionStore, TokenSigner,
    UserStore,
};

/// Every store port at once: both stores (DynamoDB and the in-memory twin) implement them all
/// over one table or map, and each operation takes the ports it uses from it.
pub trait Store:
    UserStore + SessionStore + Denylist + LockoutStore + RateLimiter + RevocationSource
{
}

impl<T> Store for T where
    T: UserStore + SessionStore + Denylist + LockoutStore + RateLimiter + RevocationSource
{
}

/// The adapters of one function. A function that never signs has no signer, one that never
/// verifies has no keys, the JWKS endpoint has no store; the composition root says which
/// function needs what.
#[derive(Clone)]
pub struct Adapters {
    /// Users, sessions, denylist, lockout, rate windows, revocation lookups.
    pub store: Option<Arc<dyn Store>>,
    /// Signs access tokens (login, refresh).
    pub signer: Option<Arc<dyn TokenSigner>>,
    /// The refresh-token MAC (refresh).
    pub mac: Option<Arc<dyn RefreshMac>>,
    /// The trusted public keys (logout, authorizer, JWKS).
    pub verifying_keys: Vec<VerifyingKey>,
    /// The clock every operation and the store read.
    pub clock: Arc<dyn Clock>,
}
