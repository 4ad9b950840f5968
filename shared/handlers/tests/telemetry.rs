//! Log lines as an operator reads them. This binary holds one test and installs the JSON
//! subscriber as the process's global default: tracing caches callsite interest process-wide,
//! so a capture scoped to one thread of a shared test binary loses lines at random (see
//! `telemetry::json_logs`).

use tokengate_testing::logs::CapturedLogs;

use tokengate_handlers::telemetry::{json_logs, observe, record_outcome};

#[tokio::test(flavor = "current_thread")]
async fn every_line_of_an_invocation_names_its_request_and_function() {
    let captured = CapturedLogs::default();
    let sink = captured.clone();
    tracing::subscriber::set_global_default(json_logs("info", move || sink.clone()))
        .expect("this binary's only test installs the only subscriber");

    let _: Result<(), ()> = observe("login", "req-42".into(), async {
        tracing::warn!(event = "login_account_locked");
        record_outcome("account_locked");
        Ok(())
    })
    .await;

    let text = captured.text();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    for line in &lines {
        assert_eq!(line["span"]["request_id"], "req-42");
        assert_eq!(line["span"]["function"], "login");
    }
    assert_eq!(lines[0]["fields"]["event"], "login_account_locked");
    assert_eq!(lines[1]["fields"]["event"], "request_finished");
    assert_eq!(lines[1]["fields"]["outcome"], "account_locked");
    assert!(lines[1]["fields"]["latency_ms"].as_f64().unwrap() >= 0.0);
}
