//! [`RateLimiter`](tokengate_domain::ports::RateLimiter) contract: hits count atomically per key and window, and a new window (or
//! another key) starts at 1.

use tokengate_domain::ports::Window;
use tokengate_domain::{Clock, ManualClock};

use super::Stores;

/// Hits count 1, 2, 3 in one window; another key and the next window count on their own.
pub async fn hits_count_per_key_and_window<S: Stores>(store: &S, clock: &ManualClock) {
    let start = clock.now() - clock.now().rem_euclid(60);
    let first = Window {
        start,
        end: start + 60,
    };
    let next = Window {
        start: start + 60,
        end: start + 120,
    };

    let mut counts = Vec::new();
    for _ in 0..3 {
        counts.push(
            store
                .count_hit("ip#192.0.2.1", first)
                .await
                .expect("counted"),
        );
    }
    let other_key = store.count_hit("ip#192.0.2.2", first).await;
    let next_window = store.count_hit("ip#192.0.2.1", next).await;

    assert_eq!(counts, [1, 2, 3]);
    assert_eq!(other_key.expect("counted"), 1, "keys count apart");
    assert_eq!(next_window.expect("counted"), 1, "windows count apart");
}

/// Four hits counted together each count once: every caller sees its own count.
pub async fn concurrent_hits_each_count_once<S: Stores>(store: &S, clock: &ManualClock) {
    let start = clock.now();
    let window = Window {
        start,
        end: start + 60,
    };
    let hit = || store.count_hit("ip#192.0.2.1", window);

    let (a, b, c, d) = tokio::join!(hit(), hit(), hit(), hit());

    let mut counts = [a, b, c, d].map(|n| n.expect("counted"));
    counts.sort_unstable();
    assert_eq!(counts, [1, 2, 3, 4]);
}
