//! The Lambda handlers of tokengate, on `lambda_http` and `aws_lambda_events` types: request
//! parsing, the one error mapper, the refresh cookie, the CSRF check and the authorizer. The
//! function binaries only wire these to their dependencies.
#![deny(missing_docs)]

pub mod authorizer;
pub mod http;
pub mod iam;
pub mod jwks;
pub mod login;
pub mod logout;
pub mod me;
pub mod policy;
pub mod refresh;
pub mod telemetry;
pub mod wiring;
