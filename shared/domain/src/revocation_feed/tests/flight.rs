//! One catch-up at a time, and what the log says when the feed fails and recovers.

use tokengate_testing::logs::CapturedLogs;

use tokio::sync::Notify;

use super::*;

/// A feed whose reads wait until the test opens the gate.
struct Gated {
    ledger: Arc<Ledger>,
    gate: Notify,
}

#[async_trait]
impl RevocationFeed for Gated {
    async fn read_feed(&self, since_ms: i64) -> PortResult<Vec<FeedEntry>> {
        self.gate.notified().await;
        self.ledger.read_feed(since_ms).await
    }
}

#[tokio::test]
async fn only_one_catch_up_runs_at_a_time_and_requests_arriving_meanwhile_read_the_store() {
    let (ledger, clock) = setup();
    let feed = Arc::new(Gated {
        ledger: ledger.clone(),
        gate: Notify::new(),
    });
    let w = RevocationWatch::new(feed.clone(), ledger.clone(), clock.clone(), LIFE);
    let t = token("t-1", NOW + 900);
    let (first, second) = tokio::join!(w.check(&t), async {
        let second = w.check(&t).await;
        let third = w.check(&t).await.unwrap();
        feed.gate.notify_one();
        (second, third)
    });
    let (second, third) = second;
    assert_eq!(
        first.unwrap().from,
        Knowledge::Feed,
        "the catch-up's own request"
    );
    assert_eq!(
        second.unwrap().from,
        Knowledge::Store,
        "did not wait for it"
    );
    assert_eq!(third.from, Knowledge::Store);
    assert_eq!(
        ledger.reads(),
        (1, 2),
        "one catch-up, two per-request reads"
    );
    assert_eq!(w.check(&t).await.unwrap().from, Knowledge::Feed);
}

#[tokio::test]
async fn a_failing_feed_is_logged_once_and_its_recovery_once() {
    let captured = CapturedLogs::default();
    let sink = captured.clone();
    // This thread's subscriber only: the test runs on a current-thread runtime.
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let (ledger, clock) = setup();
    let w = watch(&ledger, &clock);
    let t = token("t-1", NOW + 900);
    w.check(&t).await.unwrap();
    ledger.feed_down(true);
    for _ in 0..5 {
        clock.advance_ms(CATCH_UP_INTERVAL_MS);
        for _ in 0..3 {
            assert_eq!(w.check(&t).await.unwrap().from, Knowledge::Store);
        }
    }
    ledger.feed_down(false);
    clock.advance_ms(CATCH_UP_INTERVAL_MS);
    assert_eq!(w.check(&t).await.unwrap().from, Knowledge::Feed);
    let log = captured.text();
    let count = |event: &str| log.matches(&format!("event=\"{event}\"")).count();
    assert_eq!(count("revocation_feed_catch_up_failed"), 1, "{log}");
    assert_eq!(count("revocation_feed_recovered"), 1, "{log}");
    assert!(log.contains("failed_catch_ups=5"), "{log}");
    assert!(log.contains("WARN"), "{log}");
}
