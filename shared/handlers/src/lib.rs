//! The Lambda handlers of tokengate, on `lambda_http` and `aws_lambda_events` types: request
//! parsing, the one error mapper, the cookies (refresh and device), the CSRF check, the authorizer, and the
//! one composition root ([`app::App`]). The function binaries only wire these to their
//! adapters; this crate links no AWS SDK.
#![deny(missing_docs)]

pub mod app;
pub mod authorizer;
pub mod cookies;
pub mod cors;
pub mod discovery;
pub mod http;
pub mod iam;
pub mod jwks;
pub mod login;
pub mod logout;
pub mod me;
pub mod oauth;
pub mod password;
pub mod refresh;
pub mod telemetry;
