//! Reads per request under steady load (issue 25): a steady request rate through the gateway
//! to several authorizer environments, every DynamoDB call they make counted by the fault
//! proxy (the authorizer reaches AWS through an entrance of its own, so its calls are told from
//! the other functions'), and the reads per authorizer request held to at most 0.1.
//!
//! What the design allows each environment in a window of `w` seconds: one feed catch-up (a
//! `Query`) per 0.9 s of requests, one keyring read (`GetItem`) per keyring refresh interval
//! (1 s in the e2e stack, 60 s by default), and a per-request `BatchGetItem` only when a
//! catch-up failed. That bound is computed from the rate the machine achieved; a rate too low
//! for the bound to be under 0.1 fails with a message saying so rather than a wrong figure.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokengate_domain::revocation_feed::CATCH_UP_INTERVAL_MS;
use tokengate_tests::local_api::AUTHORIZER;

use crate::fleet::fleet;
use crate::rotation::KEYRING_REFRESH_SECS;
use crate::stack::{access, Stack, ALICE};

/// Environments under load (of the fleet's [`crate::fleet::ENVIRONMENTS`]).
const LOADED: usize = 2;
/// The rate offered to each of them, requests per second.
const RATE_PER_ENVIRONMENT: f64 = 40.0;
/// How long the rate is offered.
const WINDOW: Duration = Duration::from_secs(5);
/// At most this many DynamoDB reads per authorizer request (issue 25's acceptance).
const MAX_READS_PER_REQUEST: f64 = 0.1;
/// The authorizer's catch-up interval (docs/revocation.md).
const CATCH_UP_INTERVAL: Duration = Duration::from_millis(CATCH_UP_INTERVAL_MS as u64);

/// The authorizer's DynamoDB read operations, as the proxy sees them (`X-Amz-Target`).
const READS: [&str; 3] = ["Query", "BatchGetItem", "GetItem"];

pub async fn authorizers_under_steady_load_read_dynamodb_at_most_once_per_ten_requests(
    stack: &'static Stack,
) {
    let (ids, pinned) = fleet(stack).await;
    let loaded = &ids[..LOADED];
    pinned.pin(loaded);

    // Access tokens live 4 s here: a fresh one every second, from the refresh function (whose
    // calls are not the authorizer's).
    let login = stack.login(ALICE).await;
    let token = Arc::new(Mutex::new(access(&login)));
    let renewal = {
        let token = token.clone();
        let mut cookie = login.cookie.clone().expect("refresh cookie");
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let refreshed = stack.refresh(&cookie, &stack.url).await;
                assert_eq!(refreshed.status, 200, "refresh: {}", refreshed.body);
                cookie = refreshed.cookie.clone().expect("rotated cookie");
                *token.lock().unwrap() = access(&refreshed);
            }
        })
    };
    // Every loaded environment has caught up and holds the keyring before the count starts.
    for _ in loaded {
        let bearer = token.lock().unwrap().clone();
        assert_eq!(stack.me(&bearer).await.status, 200);
    }

    let invocations = |id: usize| stack.with_api(|api| api.lambda.invocations(AUTHORIZER, id));
    let before: Vec<usize> = loaded.iter().map(|&id| invocations(id)).collect();
    stack.with_api(|api| api.faults.take_forwarded());
    let offered = (RATE_PER_ENVIRONMENT * LOADED as f64 * WINDOW.as_secs_f64()) as usize;
    let period = Duration::from_secs_f64(1.0 / (RATE_PER_ENVIRONMENT * LOADED as f64));
    let started = Instant::now();
    let mut ticks = tokio::time::interval(period);
    let mut requests = Vec::with_capacity(offered);
    for _ in 0..offered {
        ticks.tick().await;
        let bearer = token.lock().unwrap().clone();
        requests.push(tokio::spawn(async move { stack.me(&bearer).await.status }));
    }
    let mut statuses = Vec::with_capacity(offered);
    for request in requests {
        statuses.push(request.await.expect("request task"));
    }
    let elapsed = started.elapsed();
    renewal.abort();
    let calls: Vec<_> = stack
        .with_api(|api| api.faults.take_forwarded())
        .into_iter()
        .filter(|c| c.caller.as_deref() == Some(AUTHORIZER) && c.received >= started)
        .collect();
    drop(pinned);

    let refused = statuses.iter().filter(|&&s| s != 200).count();
    assert_eq!(refused, 0, "every request is allowed: {statuses:?}");
    let handled: usize = loaded
        .iter()
        .zip(&before)
        .map(|(&id, before)| invocations(id) - before)
        .sum();
    let count = |op: &str| {
        calls
            .iter()
            .filter(|c| c.operation.rsplit('.').next() == Some(op))
            .count()
    };
    let reads: usize = READS.iter().map(|op| count(op)).sum();
    let others: Vec<&str> = calls
        .iter()
        .map(|c| c.operation.as_str())
        .filter(|op| !READS.iter().any(|r| op.ends_with(&format!(".{r}"))))
        .collect();
    let secs = elapsed.as_secs_f64();
    let rate = handled as f64 / LOADED as f64 / secs;
    let per_request = reads as f64 / handled as f64;
    // The most the design allows: per environment, a catch-up per interval and a keyring read
    // per refresh interval over the window, and one of each at its start.
    let allowed_per_environment =
        secs / CATCH_UP_INTERVAL.as_secs_f64() + secs / KEYRING_REFRESH_SECS as f64 + 2.0;
    let allowed = allowed_per_environment * LOADED as f64;
    eprintln!(
        "load: {handled} authorizer requests in {secs:.2} s over {LOADED} environments: \
         {rate:.1}/s each (offered {RATE_PER_ENVIRONMENT}); DynamoDB calls: Query {}, \
         BatchGetItem {}, GetItem {}, other {:?}; {per_request:.3} reads per request \
         (design bound at this rate {:.3}, limit {MAX_READS_PER_REQUEST})",
        count("Query"),
        count("BatchGetItem"),
        count("GetItem"),
        others,
        allowed / handled as f64,
    );
    assert!(others.is_empty(), "the authorizer only reads: {others:?}");
    assert!(
        allowed / handled as f64 <= MAX_READS_PER_REQUEST,
        "too slow to judge: the machine achieved {rate:.1} requests/s per environment \
         (offered {RATE_PER_ENVIRONMENT}); at that rate the design itself allows {:.3} reads \
         per request, above {MAX_READS_PER_REQUEST}; rerun on a less loaded machine",
        allowed / handled as f64
    );
    assert!(
        per_request <= MAX_READS_PER_REQUEST,
        "{per_request:.3} DynamoDB reads per authorizer request at {rate:.1} requests/s per \
         environment"
    );
    assert!(
        reads as f64 <= allowed,
        "{reads} reads, more than the design's {allowed:.1} (a catch-up per {:?} and a \
         keyring read per {KEYRING_REFRESH_SECS} s per environment)",
        CATCH_UP_INTERVAL
    );
}
