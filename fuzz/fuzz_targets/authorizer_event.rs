//! The authorizer on arbitrary events: any JSON API Gateway could (or could not) send,
//! seeded with `events/authorizer-*.json` (placeholders filled with a genuine token).
//!
//! Oracles: never a panic; never an allowing answer (`isAuthorized: true`, or a REST policy
//! with a principal) unless the event carries a token that verifies; nothing allowed that a
//! backend reads as a route the rules refuse, fresh or from the cache; an HTTP API `true` only
//! for a request the rules allow, and, cached by the token alone, only for a token no rule
//! refuses. "The rules" are the reference implementation `tokengate_testing::rule_oracle`.
//!
//! The oracles live in `tokengate_testing::fuzz::authorizer_event`, where `make test` also replays the seeds.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tokengate_testing::fuzz::{authorizer_event, harness};

fuzz_target!(|data: &[u8]| authorizer_event(harness(), data));
