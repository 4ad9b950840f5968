//! The token parser and verifier on hostile input. Two modes, by the first byte:
//! - odd: the rest is the token text, as an attacker would send it;
//! - even: the rest is XORed over a genuine token, exploring near-valid tokens (header and
//!   claim tweaks, signature malleability, base64 edge cases).
//!
//! Oracles: never a panic; a token that differs from the genuine one is never accepted.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tokengate_claims::Verifier;
use tokengate_fuzz::harness;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let h = harness();
    let verifier: &Verifier = &h.authorizer.verifier;
    let now = h.rig.clock_now();
    if mode % 2 == 1 {
        if let Ok(text) = std::str::from_utf8(rest) {
            if let Ok(claims) = verifier.verify(text, now) {
                assert_eq!(
                    text, h.access_token,
                    "accepted a token we never issued: {claims:?}"
                );
            }
        }
        return;
    }
    let mut bytes = h.access_token.clone().into_bytes();
    for (b, x) in bytes.iter_mut().zip(rest) {
        *b ^= x;
    }
    let Ok(text) = String::from_utf8(bytes) else {
        return;
    };
    if verifier.verify(&text, now).is_ok() {
        assert_eq!(text, h.access_token, "accepted an altered token");
    }
});
