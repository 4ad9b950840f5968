//! tokengate's domain: users, sessions (refresh-token families), access-token issue, rotation
//! and revocation. Pure logic behind narrow async ports; no AWS types. The AWS adapters live in
//! `tokengate-aws`, in-memory twins in `tokengate-testing` (tests only).
#![deny(missing_docs)]

pub mod adapters;
mod admission;
pub mod clients;
pub mod clock;
pub mod config;
pub mod device;
mod env;
pub mod error;
pub mod issuer;
pub mod keyring;
pub mod lockout;
pub mod login;
pub mod logout;
pub mod network;
pub mod new_password;
pub mod origin;
pub mod password;
pub mod password_change;
pub mod policy;
pub mod ports;
pub mod refresh;
pub mod refresh_token;
pub mod revocation_feed;
pub mod session;
mod source_limit;
pub mod username;

pub use adapters::{Adapters, Store};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{AuthConfig, Config};
pub use error::{AuthError, ErrorCode, PortError, PortResult};
pub use issuer::{AccessTokenIssuer, IssuedAccessToken};
pub use password::{Password, PasswordHasher};
pub use refresh_token::{RefreshToken, TokenHash};
pub use username::Username;
