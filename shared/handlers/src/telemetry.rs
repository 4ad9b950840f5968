//! What every function tells operators: JSON logs (filtered by `RUST_LOG`, default `info`;
//! dependencies never below `info`, see [`dependency_cap`]) and
//! CloudWatch metrics in Embedded Metric Format (EMF), so dashboards and alarms need no code.
//!
//! [`observe`] wraps one invocation: its log lines carry the request id and function name (from
//! the `request` span), and when it ends it logs `request_finished` with the outcome and
//! latency and prints one EMF record. The outcome is decided deep inside a handler (an error
//! code, an authorizer verdict), so handlers report it with [`record_outcome`] rather than
//! threading it back through every return type.

use std::cell::Cell;
use std::future::Future;
use std::io::Write;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use tracing::Instrument;

/// CloudWatch namespace of every tokengate metric.
pub const METRICS_NAMESPACE: &str = "tokengate";

/// The outcome of a successful invocation that reported nothing else.
const OK: &str = "ok";
/// The outcome of an invocation that failed without reporting why.
const ERROR: &str = "error";

tokio::task_local! {
    static OUTCOME: Cell<Option<&'static str>>;
}

/// Installs the JSON subscriber, writing to stdout. Call once at the top of `main`.
pub fn init() {
    // Only fails if `main` already installed one: keep that one.
    let filter = std::env::var("RUST_LOG").unwrap_or_default();
    let _ = tracing::subscriber::set_global_default(json_logs(&filter, std::io::stdout));
}

/// The JSON log subscriber [`init`] installs, keeping what the `RUST_LOG`-style `filter` selects
/// (`info` if it is empty or invalid) and writing to `writer` instead of stdout.
///
/// Tests that capture log lines install it as the *global* default of a test binary of their
/// own (`tests/telemetry.rs`): tracing caches each callsite's interest process-wide, so a
/// subscriber scoped to one test thread (`set_default`) misses lines whenever another test
/// thread registered the same callsite first.
pub fn json_logs<W>(filter: &str, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    // An empty filter parses, but keeps nothing: it means "unset", as for `RUST_LOG`.
    let directives = if filter.trim().is_empty() {
        "info"
    } else {
        filter
    };
    let filter = tracing_subscriber::EnvFilter::try_new(directives)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        // The innermost span is `request`: its fields put request id and function on every line.
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .with_writer(writer)
        .finish();
    // A line must pass both filters: `RUST_LOG` and the cap on dependencies.
    tracing_subscriber::layer::SubscriberExt::with(subscriber, dependency_cap())
}

/// Targets below `info` only for tokengate's own crates (`tokengate_*`); every dependency is capped
/// at `info`, whatever `RUST_LOG` says. Their debug and trace lines carry what we must never log
/// (docs/operations.md, "Logs and metrics"): `lambda_runtime::layers::api_response` logs each raw
/// event at trace ("raw JSON event received from Lambda": passwords, refresh tokens, cookies, the
/// origin secret header), `aws_smithy_runtime::client::orchestrator` each SDK request and response
/// with its body at trace (password hashes, session items, the claims sent to KMS `Sign`),
/// `aws_sigv4::http_request::sign` the request being signed at trace, and
/// `aws_config::credential_process` its command unredacted at trace. A cap on every dependency
/// rather than on that list: a new dependency, or a new line in an old one, cannot leak either.
pub fn dependency_cap() -> tracing_subscriber::filter::Targets {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    // `Targets` matches by prefix: `tokengate` is every `tokengate_*` crate.
    Targets::new()
        .with_default(LevelFilter::INFO)
        .with_target("tokengate", LevelFilter::TRACE)
}

/// Reports how the current invocation ended: an error code (`invalid_credentials`), or an
/// authorizer verdict (`allow`, `forbidden`, `unauthorized`, `fail_closed`). The last report
/// wins. Outside [`observe`] (unit tests calling a handler directly) it does nothing.
pub fn record_outcome(outcome: &'static str) {
    let _ = OUTCOME.try_with(|slot| slot.set(Some(outcome)));
}

/// Runs one invocation of `function` inside a `request` span, then logs `request_finished`
/// and prints its metrics.
pub async fn observe<T, E>(
    function: &'static str,
    request_id: String,
    invocation: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let span = tracing::info_span!("request", function, request_id);
    let started = Instant::now();
    let (result, outcome) = OUTCOME
        .scope(Cell::new(None), async {
            let result = invocation.await;
            let fallback = if result.is_ok() { OK } else { ERROR };
            (result, OUTCOME.with(Cell::get).unwrap_or(fallback))
        })
        .instrument(span.clone())
        .await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| tracing::info!(event = "request_finished", outcome, latency_ms));
    let record = metrics_record(function, outcome, latency_ms, unix_millis());
    // One write per record: the Lambda log agent reads EMF line by line from stdout.
    let _ = writeln!(std::io::stdout().lock(), "{record}");
    result
}

/// One EMF record: `Requests` (count) and `Latency` (ms), by function and by function ×
/// outcome. Logins, failed logins, refreshes, reuse detections and authorizer allow/deny are
/// all `Requests` with the matching `Outcome` (docs/operations.md, "Logs and metrics").
pub fn metrics_record(
    function: &str,
    outcome: &str,
    latency_ms: f64,
    timestamp_ms: u64,
) -> serde_json::Value {
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": METRICS_NAMESPACE,
                "Dimensions": [["Function", "Outcome"], ["Function"]],
                "Metrics": [
                    { "Name": "Requests", "Unit": "Count" },
                    { "Name": "Latency", "Unit": "Milliseconds" }
                ]
            }]
        },
        "Function": function,
        "Outcome": outcome,
        "Requests": 1,
        "Latency": (latency_ms * 1000.0).round() / 1000.0,
    })
}

/// The Lambda request id of an HTTP invocation (empty outside Lambda).
pub fn request_id(req: &lambda_http::Request) -> String {
    use lambda_http::RequestExt;
    req.lambda_context_ref()
        .map(|ctx| ctx.request_id.clone())
        .unwrap_or_default()
}

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokengate_testing::logs::CapturedLogs;

    #[tokio::test]
    async fn the_reported_outcome_wins_over_the_default() {
        let reported = OUTCOME
            .scope(Cell::new(None), async {
                record_outcome("refresh_token_reused");
                OUTCOME.with(Cell::get)
            })
            .await;
        assert_eq!(reported, Some("refresh_token_reused"));
        // Outside an observed invocation, reporting is a no-op rather than a panic.
        record_outcome("ignored");
    }

    #[test]
    fn rust_log_trace_never_records_the_runtimes_raw_events() {
        let captured = CapturedLogs::default();
        let sink = captured.clone();
        // A subscriber of this thread only: each event below is a callsite of this test alone,
        // first registered while it is the default, so no other test's interest is cached.
        let subscriber = json_logs("trace", move || sink.clone());
        tracing::subscriber::with_default(subscriber, || {
            // What `lambda_runtime::layers::api_response` logs at trace for every invocation.
            tracing::trace!(
                target: "lambda_runtime::layers::api_response",
                body = r#"{"body":"{\"password\":\"hunter2-raw-event\"}"}"#,
                "raw JSON event received from Lambda"
            );
            tracing::debug!(
                target: "aws_smithy_runtime::client::orchestrator",
                request = "password_hash=$argon2id$smithy-body",
                "transmitting request"
            );
            tracing::info!(target: "lambda_runtime", event = "runtime_info_kept");
            tracing::trace!(event = "own_trace_kept");
            tracing::debug!(target: "tokengate_domain::login", event = "own_debug_kept");
        });

        let text = captured.text();
        assert!(!text.contains("hunter2-raw-event"), "{text}");
        assert!(!text.contains("smithy-body"), "{text}");
        for kept in ["runtime_info_kept", "own_trace_kept", "own_debug_kept"] {
            assert!(text.contains(kept), "{kept} missing from {text}");
        }
    }

    #[tokio::test]
    async fn observe_returns_the_invocations_result_unchanged() {
        let ok: Result<u8, ()> = observe("test", "req-1".into(), async { Ok(7) }).await;
        assert_eq!(ok, Ok(7));
        let err: Result<u8, &str> = observe("test", "req-2".into(), async { Err("boom") }).await;
        assert_eq!(err, Err("boom"));
    }

    #[test]
    fn metrics_record_is_valid_embedded_metric_format() {
        let r = metrics_record(
            "refresh",
            "refresh_token_reused",
            12.34567,
            1_700_000_000_000,
        );
        let directive = &r["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(r["_aws"]["Timestamp"], 1_700_000_000_000u64);
        assert_eq!(directive["Namespace"], "tokengate");
        // Every dimension and metric named in the directive is a top-level member.
        for dims in directive["Dimensions"].as_array().unwrap() {
            for d in dims.as_array().unwrap() {
                assert!(r[d.as_str().unwrap()].is_string(), "dimension {d}");
            }
        }
        for m in directive["Metrics"].as_array().unwrap() {
            assert!(r[m["Name"].as_str().unwrap()].is_number(), "metric {m}");
        }
        assert_eq!(r["Function"], "refresh");
        assert_eq!(r["Outcome"], "refresh_token_reused");
        assert_eq!(r["Requests"], 1);
        assert_eq!(r["Latency"], 12.346);
    }
}
