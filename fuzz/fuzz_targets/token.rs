//! The token parser and verifier on hostile input. Two modes, by the first byte:
//! - odd: the rest is the token text, as an attacker would send it;
//! - even: the rest is XORed over a genuine token, exploring near-valid tokens (header and
//!   claim tweaks, signature malleability, base64 edge cases).
//!
//! Oracles: never a panic; a token that differs from the genuine one is never accepted.
//!
//! The oracles live in `tokengate_testing::fuzz::token`, where `make test` also replays the seeds.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tokengate_testing::fuzz::{harness, token};

fuzz_target!(|data: &[u8]| token(harness(), data));
