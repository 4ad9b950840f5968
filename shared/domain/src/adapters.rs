//! What a function is assembled from: the adapters behind every port, handed to the one
//! composition root (`tokengate_handlers::app::App::build`). The AWS adapters come from
//! `tokengate_aws::connect`, the in-memory twins from `tokengate-testing`; the domain sees
//! only the ports.

use std::sync::Arc;

use crate::clock::Clock;
use crate::keyring::LiveKeyring;
use crate::ports::{
    Denylist, KeyringStore, LockoutStore, RateLimiter, RefreshMac, RevocationFeed,
    RevocationSource, SessionStore, TokenSigner, UserStore,
};

/// Every store port at once: both stores (DynamoDB and the in-memory twin) implement them all
/// over one table or map, and each operation takes the ports it uses from it.
pub trait Store:
    UserStore
    + SessionStore
    + Denylist
    + LockoutStore
    + RateLimiter
    + RevocationSource
    + RevocationFeed
    + KeyringStore
{
}

impl<T> Store for T where
    T: UserStore
        + SessionStore
        + Denylist
        + LockoutStore
        + RateLimiter
        + RevocationSource
        + RevocationFeed
        + KeyringStore
{
}

/// The adapters of one function. A function that never signs has no signer; every function but
/// `me` reads the keyring; the composition root says which function needs what.
#[derive(Clone)]
pub struct Adapters {
    /// Users, sessions, denylist, lockout, rate windows, revocation lookups and the revocation
    /// feed, the keyring.
    pub store: Option<Arc<dyn Store>>,
    /// Signs access tokens (login, refresh).
    pub signer: Option<Arc<dyn TokenSigner>>,
    /// The refresh-token MAC (refresh).
    pub mac: Option<Arc<dyn RefreshMac>>,
    /// The signing keyring as last read: trusted keys (logout, authorizer, JWKS) and the
    /// current signing key (login, refresh, password change).
    pub keyring: Option<Arc<LiveKeyring>>,
    /// The clock every operation and the store read.
    pub clock: Arc<dyn Clock>,
}
