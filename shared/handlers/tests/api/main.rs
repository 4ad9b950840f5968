//! The endpoints over their API Gateway events, one module per endpoint, on the in-memory twins:
//! status, error code, headers and the stored state afterwards. Events are the samples of
//! `events/` (the files `cargo lambda invoke --data-file` takes), parsed with the real event types.

/// The text of a sample event in `events/`.
macro_rules! event {
    ($file:literal) => {
        include_str!(concat!("../../../../events/", $file))
    };
}

mod authorizer;
mod behind_cloudfront;
mod canonical;
mod cors;
mod device;
mod jwks;
mod login;
mod logout;
mod me;
mod oauth;
mod oauth_revoke;
mod password;
mod refresh;
mod revocation_feed;
mod scopes;
mod support;
