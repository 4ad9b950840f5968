//! Login, refresh and logout on arbitrary requests: the JSON body parser, the refresh cookie
//! parser, the CSRF origin check and the bearer header, behind the real API Gateway proxy
//! event parsing of `lambda_http`.
//!
//! Oracles: never a panic, never a 5xx (the in-memory stores do not fail), every error is one
//! of DESIGN.md's codes with its status, and no response echoes the password.
//!
//! The oracles live in `tokengate_testing::fuzz::http_request`, where `make test` also replays the seeds.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tokengate_testing::fuzz::{harness, http_request};

fuzz_target!(|data: &[u8]| http_request(harness(), data));
