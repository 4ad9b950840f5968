//! `make bench`'s timings: the authorizer decision over a bare aws-lc-rs verification of the
//! same signature — on the in-memory twin (the decision's own CPU) and on the AWS emulator
//! through the production adapters (the decision with its store access, at 100 requests per
//! second per instance) — and login over one Argon2id verification.
//!
//! Every measurement runs once per round, side by side with its baseline, for [`ROUNDS`]
//! rounds after a warm-up round: a round's ratio compares calls made within a fraction of a
//! second of each other on this shared machine, and `scripts/bench/summary.py` reports the
//! median of the rounds' ratios with their range. Each call is timed on its own (`timing`),
//! so a round has a median call and a mean call. Writes `target/bench/decisions.json` and the
//! tokens for the Node.js peers (`target/bench/tokens.json`).
//!
//! The store-inclusive decision drives the authorizer's clock 10 ms per request instead of
//! pacing requests in real time: an instance at 100 requests per second sees exactly this
//! sequence (a catch-up with the store whenever 900 ms have passed on its clock, so one in 90
//! requests), the round costs its calls' time rather than 4.5 s of sleeping, and the count of
//! catch-ups per round does not depend on how fast this machine happens to be.

mod cases;
mod store;
mod timing;

use std::sync::Arc;
use std::time::Instant;

use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequest;
use serde_json::{json, Map, Value};
use tokengate_claims::Algorithm;
use tokengate_domain::keyring::{change_keyring, LiveKeyring};
use tokengate_domain::login::{Login, LoginAttempt};
use tokengate_domain::policy::RoutePolicy;
use tokengate_domain::ports::UserStore;
use tokengate_domain::{
    Adapters, AuthConfig, Clock, Config, ManualClock, Password, PasswordHasher, Username,
};
use tokengate_handlers::app::App;
use tokengate_handlers::authorizer::{Authorizer, Verdict};
use tokengate_testing::memory::{MemoryBackend, MemoryRig};

use cases::{case, token_event, Case, NOW, USER_ID};
use store::EmulatorStack;
use timing::Calls;

/// Measured rounds (after one warm-up round); `TOKENGATE_BENCH_ROUNDS` sets another number
/// (a quick look while working on the bench).
const ROUNDS: usize = 15;
/// Store-inclusive decisions per round: five catch-up intervals at 100 requests per second.
const STORE_CALLS: usize = 450;
/// The store-inclusive authorizer's clock step per request: 100 requests per second.
const STEP_MS: i64 = 10;

fn main() -> anyhow::Result<()> {
    let out_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/bench");
    let es = case(Algorithm::ES256);
    let rs = case(Algorithm::RS256);
    cases::export(out_dir, &es, &rs);
    // Before any thread exists: the SDK reads its endpoint and credentials from the
    // environment, as the deployed function does.
    let mut stack = EmulatorStack::start()?;
    stack.export_sdk_env();
    // The deployed functions run on `#[tokio::main]`'s multi-threaded runtime.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    let twin = rt.block_on(twin_authorizer(&es, &rs));
    let store_clock = Arc::new(ManualClock::new(NOW));
    let stored = rt.block_on(stack.authorizer(&es, &rs, store_clock.clone()))?;
    let (login, hasher, stored_hash) = rt.block_on(login());
    let garbage = format!("{}.{}", "x".repeat(40), "y".repeat(200));
    // The setup's own calls are not the decisions'.
    stack.forwarded()?;

    let measured: usize = match std::env::var("TOKENGATE_BENCH_ROUNDS") {
        Ok(n) => n.parse()?,
        Err(_) => ROUNDS,
    };
    let mut rounds = Vec::new();
    for round in 0..=measured {
        let mut r = Map::new();
        let mut put = |name: &str, figure: Value| r.insert(name.to_owned(), figure);
        put("raw_verify_es256", timing::each(400, || es.raw_verify()));
        put(
            "authorize_es256",
            rt.block_on(decide(&twin, &es.token, 400, None)),
        );
        put("raw_verify_rs256", timing::each(1000, || rs.raw_verify()));
        put(
            "authorize_rs256",
            rt.block_on(decide(&twin, &rs.token, 1000, None)),
        );
        for (case, calls) in [(&es, 400), (&rs, 1000)] {
            let alg = case.alg.as_str().to_lowercase();
            let (verify, verdict) = rt.block_on(stages(&twin, case, calls));
            put(&format!("verify_{alg}"), verify);
            put(&format!("decide_{alg}"), verdict);
            let admin = rt.block_on(decide(&twin, &case.admin_token, calls, None));
            put(&format!("authorize_admin_{alg}"), admin);
        }
        put("event_parse", read_events(&es, 400));
        put(
            "answer_to_bytes",
            rt.block_on(answer_to_bytes(&twin, &rs, 1000)),
        );
        put("reject_garbage", rt.block_on(reject(&twin, &garbage)));
        let clock = Some(&*store_clock);
        put(
            "store_authorize_es256",
            rt.block_on(decide(&stored, &es.token, STORE_CALLS, clock)),
        );
        let password = Password::new("correct horse");
        let bare = || assert!(hasher.verify(&password, Some(&stored_hash)));
        put("argon2_verify", timing::each(5, bare));
        let (hashes, logins) = rt.block_on(log_in(&login, &hasher, &stored_hash, 5));
        put("argon2_verify_blocking", hashes);
        put("login", logins);
        if round == 0 {
            // Warm-up: caches, connections, the feed's cold start.
            stack.forwarded()?;
        } else {
            rounds.push(Value::Object(r));
        }
    }
    let calls = stack.forwarded()?;
    let doc = json!({
        "rounds": rounds,
        "store": {
            "decisions": measured * STORE_CALLS,
            "requests_per_second_per_instance": 1000 / STEP_MS,
            "aws_calls": calls,
        },
    });
    std::fs::write(format!("{out_dir}/decisions.json"), doc.to_string())?;
    println!("written: target/bench/decisions.json ({measured} rounds)");
    Ok(())
}

/// `calls` decisions for `token`, each timed from the parsed event to the answer's bytes
/// (token parse, keys, verify, claims, revocation, route policy, response); building the
/// event is outside, as Lambda parses it before the handler runs. `clock`, when given,
/// advances [`STEP_MS`] before each request.
async fn decide(
    auth: &Authorizer,
    token: &str,
    calls: usize,
    clock: Option<&ManualClock>,
) -> Value {
    let mut out = Calls::default();
    for _ in 0..calls {
        if let Some(clock) = clock {
            clock.advance_ms(STEP_MS);
        }
        let event = token_event(token);
        let start = Instant::now();
        let answer = auth.answer(event).await;
        out.push(start.elapsed());
        // Checked outside the timing: every measured decision is the allow path.
        let answer: Value = serde_json::from_str(answer.expect("allowed").get()).unwrap();
        assert_eq!(answer["context"]["sub"], USER_ID);
    }
    out.summary()
}

/// What costs what, for the breakdown in docs/performance.md: the token's verification alone
/// (`tokengate-claims`: split, base64, header, key, signature, claims and their rules) and the
/// verdict without the event and the response (`Authorizer::decide`: also the keyring
/// snapshot, the revocation lookup and the route rules). The rest of a decision is reading the
/// event and building the policy response.
async fn stages(auth: &Authorizer, case: &Case, calls: usize) -> (Value, Value) {
    let keys = auth.keyring.keys().await;
    let verify = timing::each(calls, || {
        std::hint::black_box(keys.verifier().verify(&case.token, NOW).unwrap());
    });
    let bearer = format!("Bearer {}", case.token);
    let mut verdicts = Calls::default();
    for _ in 0..calls {
        let start = Instant::now();
        let verdict = auth.decide(Some(&bearer), "GET", "/api/me").await;
        verdicts.push(start.elapsed());
        assert!(matches!(verdict, Ok(Verdict::Allow(_))));
    }
    (verify, verdicts.summary())
}

/// Reading a `TOKEN` event into its type, the first step of a REST decision (the breakdown).
fn read_events(case: &Case, calls: usize) -> Value {
    let mut out = Calls::default();
    for _ in 0..calls {
        let event = token_event(&case.token);
        let start = Instant::now();
        let read: Result<ApiGatewayCustomAuthorizerRequest, _> = serde_json::from_value(event);
        out.push(start.elapsed());
        assert!(read.unwrap().authorization_token.is_some());
    }
    out.summary()
}

/// What the Lambda runtime does with the answer after the decision: `serde_json::to_vec` of
/// it, a copy of the bytes the authorizer wrote (outside the decision's timing; the breakdown
/// shows it beside it).
async fn answer_to_bytes(auth: &Authorizer, case: &Case, calls: usize) -> Value {
    let answer = auth.answer(token_event(&case.token)).await.unwrap();
    timing::each(calls, || {
        std::hint::black_box(serde_json::to_vec(&answer).unwrap());
    })
}

/// A malformed token's refusal, 64 at a time (each takes about a microsecond).
async fn reject(auth: &Authorizer, garbage: &str) -> Value {
    const BATCH: u32 = 64;
    let mut out = Calls::default();
    for _ in 0..20 {
        let events: Vec<Value> = (0..BATCH).map(|_| token_event(garbage)).collect();
        let start = Instant::now();
        for event in events {
            std::hint::black_box(auth.answer(event).await.unwrap_err());
        }
        out.push_batch(start.elapsed(), BATCH);
    }
    out.summary()
}

/// The authorizer on the in-memory twin, over a keyring holding both keys (ES256 current,
/// RS256 next): what the deployed authorizer verifies with once it has read the keyring,
/// without the store's round trip.
async fn twin_authorizer(es: &Case, rs: &Case) -> Authorizer {
    let clock = Arc::new(ManualClock::new(NOW));
    let store = Arc::new(MemoryBackend::new(clock.clone()));
    store.create_user(&cases::user()).await.unwrap();
    let config = Config {
        auth: AuthConfig::new("https://auth.bench", "api"),
        table: None,
        feed_table: None,
        refresh_mac_key: None,
        route_rules: RoutePolicy::parse(cases::ROUTE_ROLES).unwrap(),
        route_scopes: RoutePolicy::default(),
    };
    let now = clock.now();
    change_keyring(&*store, |ring| {
        ring.adopt(es.keyring_entry(), now)?;
        ring.add_next(rs.keyring_entry(), now)
    })
    .await
    .unwrap();
    let keyring = LiveKeyring::load(store.clone(), clock.clone(), &config.auth).await;
    let adapters = Adapters {
        store: Some(store),
        signer: None,
        mac: None,
        keyring: Some(Arc::new(keyring)),
        clock,
    };
    App::build(config, adapters).authorizer().unwrap()
}

/// Login on the in-memory rig at the production Argon2id parameters, against one hash at
/// those parameters; the hasher and the hash for the bare baseline.
async fn login() -> (Login, PasswordHasher, String) {
    let rig = MemoryRig::new().await;
    let hasher = PasswordHasher::default();
    let stored = hasher.hash(&Password::new("correct horse")).unwrap();
    let mut login = rig.login.clone();
    login.hasher = Arc::new(hasher.clone());
    login.config.ip_limit = u64::MAX;
    let alice = rig
        .store
        .find_user(&Username::parse("alice").unwrap())
        .await;
    let alice = alice.unwrap().expect("the rig has alice");
    assert!(rig
        .store
        .upgrade_password_hash(&alice, &stored)
        .await
        .unwrap());
    (login, hasher, stored)
}

/// `calls` logins, each after a bare Argon2id verification where login runs it, on tokio's
/// blocking pool (a pool thread page-faults the hash's 19 MiB anew, which the calling thread's
/// warm heap does not): pairs of calls, so that both see the same load.
async fn log_in(
    login: &Login,
    hasher: &PasswordHasher,
    stored: &str,
    calls: usize,
) -> (Value, Value) {
    let (mut hashes, mut logins) = (Calls::default(), Calls::default());
    for _ in 0..calls {
        let (hasher, stored) = (hasher.clone(), stored.to_owned());
        let start = Instant::now();
        let ok = tokio::task::spawn_blocking(move || {
            hasher.verify(&Password::new("correct horse"), Some(&stored))
        })
        .await;
        hashes.push(start.elapsed());
        assert!(ok.unwrap());
        let attempt = LoginAttempt {
            ask: Default::default(),
            username: "alice".into(),
            password: Password::new("correct horse"),
            source_ip: "192.0.2.1".into(),
            device: None,
        };
        let start = Instant::now();
        let answer = login.login(attempt).await;
        logins.push(start.elapsed());
        answer.unwrap();
    }
    (hashes.summary(), logins.summary())
}
