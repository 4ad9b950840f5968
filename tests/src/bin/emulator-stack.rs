//! `emulator-stack`: the harness's AWS side for a process outside Rust. Starts a private
//! emulator ([`Emulator::start`]), creates the table, the KMS keys and the signing keyring with
//! one current key as `tokengate bootstrap` does ([`Emulator::bootstrap`]), puts a
//! [`FaultProxy`] in front of it that forwards everything, and prints one JSON line:
//!
//! ```text
//! {"emulator":"http://127.0.0.1:P","proxy":"http://127.0.0.1:Q","signing_kid":"…",
//!  "settings":{"TOKENGATE_TABLE":"tokengate","TOKENGATE_FEED_TABLE":"tokengate-feed",
//!   "TOKENGATE_REFRESH_MAC_KEY":"alias/…"}}
//! ```
//!
//! `settings` are exactly the `TOKENGATE_*` variables `tokengate bootstrap` prints (the
//! functions find the signing keys in the keyring, not in a setting); `signing_kid` is the
//! keyring's current key. Then, for each line
//! `forwarded` on stdin, it prints the AWS calls the proxy forwarded since the last such line as
//! a JSON array of `{"operation","received_ns","answered_ns"}` (nanoseconds since it started).
//! It stops the emulator and exits when stdin closes, so a caller that dies leaves nothing
//! running.
//!
//! Why: `make bench` (`scripts/bench/coldstart.py`) times cold starts of the release functions
//! and counts the AWS calls each makes at init; this is the same emulator start-up, bootstrap
//! and proxy the integration tests use, not a second copy of them in Python.

use std::io::{BufRead, Write};
use std::time::Instant;

use serde_json::json;
use tokengate_aws::bootstrap::MAC_ALIAS;
use tokengate_claims::Algorithm;
use tokengate_tests::faults::{FaultProxy, ForwardedCall};
use tokengate_tests::Emulator;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    let emulator = Emulator::start().await;
    let resources = emulator.bootstrap(Algorithm::ES256).await;
    let proxy = FaultProxy::start(&emulator.url).await;
    let ready = json!({
        "emulator": emulator.url,
        "proxy": proxy.url,
        "signing_kid": resources.signing_key,
        "settings": {
            "TOKENGATE_TABLE": resources.table,
            "TOKENGATE_FEED_TABLE": resources.feed_table,
            "TOKENGATE_REFRESH_MAC_KEY": MAC_ALIAS,
        },
    });
    println!("{ready}");
    // Commands come on stdin, read on a blocking thread while the proxy keeps serving.
    tokio::task::spawn_blocking(move || answer_commands(&proxy, started)).await??;
    drop(emulator);
    Ok(())
}

fn answer_commands(proxy: &FaultProxy, started: Instant) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        match line?.trim() {
            "forwarded" => {
                let calls: Vec<_> = proxy
                    .take_forwarded()
                    .iter()
                    .map(|call| as_json(call, started))
                    .collect();
                writeln!(out, "{}", serde_json::Value::Array(calls))?;
                out.flush()?;
            }
            other => anyhow::bail!("unknown command {other:?} (expected `forwarded`)"),
        }
    }
    Ok(())
}

fn as_json(call: &ForwardedCall, started: Instant) -> serde_json::Value {
    let ns = |at: Instant| at.duration_since(started).as_nanos() as u64;
    json!({
        "operation": call.operation,
        "received_ns": ns(call.received),
        "answered_ns": ns(call.answered),
    })
}
