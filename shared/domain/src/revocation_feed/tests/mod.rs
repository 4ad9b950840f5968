//! The reader's rules, each a test on a ledger that is both the feed and the store.

use std::sync::Arc;

use async_trait::async_trait;
use tokengate_claims::AccessClaims;

use super::*;
use crate::clock::ManualClock;
use crate::error::{PortError, PortResult};
use crate::ports::{FeedEntry, RevocationFeed, Revoked};

mod flight;
mod ledger;

use ledger::Ledger;

const NOW: i64 = 1_800_000_000;
const LIFE: FeedLife = FeedLife {
    access_ttl_secs: 900,
    leeway_secs: 30,
};

/// A token of `u-alice` at version 1, in session `s-1`, expiring at `exp`.
pub(super) fn token(jti: &str, exp: i64) -> AccessClaims {
    AccessClaims {
        iss: "https://auth.test".into(),
        aud: "api".into(),
        sub: "u-alice".into(),
        client_id: None,
        exp,
        iat: exp - LIFE.access_ttl_secs,
        nbf: exp - LIFE.access_ttl_secs,
        jti: jti.into(),
        roles: vec![],
        ver: 1,
        scope: None,
        sid: Some("s-1".into()),
    }
}

fn jti(jti: &str) -> Revoked {
    Revoked::Token { jti: jti.into() }
}

fn watch(ledger: &Arc<Ledger>, clock: &Arc<ManualClock>) -> RevocationWatch {
    RevocationWatch::new(ledger.clone(), ledger.clone(), clock.clone(), LIFE)
}

fn setup() -> (Arc<Ledger>, Arc<ManualClock>) {
    (Arc::default(), Arc::new(ManualClock::new(NOW)))
}

async fn refusal(w: &RevocationWatch, claims: &AccessClaims) -> Option<Refusal> {
    w.check(claims).await.expect("decided").refusal
}

#[tokio::test]
async fn a_warm_reader_reads_the_feed_once_per_interval_and_decides_from_memory() {
    let (ledger, clock) = setup();
    let w = watch(&ledger, &clock);
    for _ in 0..9 {
        let d = w.check(&token("t-1", NOW + 900)).await.unwrap();
        assert_eq!((d.refusal, d.from), (None, Knowledge::Feed));
        clock.advance_ms(100);
    }
    assert_eq!(
        ledger.reads(),
        (1, 0),
        "nine requests within 900 ms: one feed read"
    );
    w.check(&token("t-1", NOW + 900)).await.unwrap();
    assert_eq!(
        ledger.reads(),
        (2, 0),
        "the tenth, 900 ms later, catches up"
    );
}

#[tokio::test]
async fn a_revocation_committed_after_a_catch_up_but_stamped_before_its_cursor_is_still_seen() {
    let (ledger, clock) = setup();
    let w = watch(&ledger, &clock);
    let t = token("t-1", NOW + 900);
    assert_eq!(refusal(&w, &t).await, None, "cold start at NOW");
    // A writer 3 s behind this instance, whose write took 2 s, commits now: stamped 5 s
    // before the cursor.
    ledger.commit(NOW * 1000 - OVERLAP_MS, NOW + 931, jti("t-1"));
    clock.advance_ms(CATCH_UP_INTERVAL_MS);
    assert_eq!(refusal(&w, &t).await, Some(Refusal::Token));
    assert_eq!(ledger.since.lock().unwrap()[1], NOW * 1000 - OVERLAP_MS);
}

#[tokio::test]
async fn without_the_overlap_a_late_commit_would_be_missed() {
    let (ledger, clock) = setup();
    let w = watch(&ledger, &clock).with_catch_up(CatchUp {
        interval_ms: CATCH_UP_INTERVAL_MS,
        overlap_ms: 0,
    });
    let t = token("t-1", NOW + 900);
    assert_eq!(refusal(&w, &t).await, None);
    ledger.commit(NOW * 1000 - 1, NOW + 931, jti("t-1"));
    clock.advance_ms(CATCH_UP_INTERVAL_MS);
    assert_eq!(refusal(&w, &t).await, None, "why the overlap exists");
}

#[tokio::test]
async fn a_revocation_is_seen_one_interval_after_its_commit() {
    let (ledger, clock) = setup();
    let w = watch(&ledger, &clock);
    let t = token("t-1", NOW + 900);
    assert_eq!(refusal(&w, &t).await, None);
    ledger.commit(NOW * 1000 + 1, NOW + 931, jti("t-1"));
    clock.advance_ms(CATCH_UP_INTERVAL_MS - 1);
    assert_eq!(refusal(&w, &t).await, None, "memory of 899 ms ago decides");
    clock.advance_ms(1);
    assert_eq!(refusal(&w, &t).await, Some(Refusal::Token));
}

#[tokio::test]
async fn a_cold_start_knows_revocations_of_tokens_still_alive() {
    let (ledger, clock) = setup();
    // Written before this instance started, by writers whose tokens are still alive: a logout
    // 900 s ago of a token expiring in 20 s, a global logout ~17 minutes ago whose entry lasts
    // until 5 s from now, a session revoked just now.
    ledger.commit((NOW - 900) * 1000, NOW + 51, jti("t-old"));
    let long_ago = NOW - (LIFE.access_ttl_secs + LIFE.leeway_secs + ENTRY_MARGIN_SECS) + 5;
    let bump = Revoked::Principal {
        user_id: "u-alice".into(),
        min_version: 2,
    };
    ledger.commit(long_ago * 1000 - 2_000, LIFE.until(long_ago), bump);
    ledger.commit(
        NOW * 1000 - 10,
        NOW + 990,
        Revoked::Session { sid: "s-2".into() },
    );
    let w = watch(&ledger, &clock);
    let d = w.check(&token("t-old", NOW + 20)).await.unwrap();
    assert_eq!((d.refusal, d.from), (Some(Refusal::Token), Knowledge::Feed));
    assert_eq!(
        refusal(&w, &token("t-other", NOW + 20)).await,
        Some(Refusal::Principal)
    );
    let mut other_session = token("t-new", NOW + 900);
    (other_session.ver, other_session.sid) = (2, Some("s-2".into()));
    assert_eq!(refusal(&w, &other_session).await, Some(Refusal::Session));
    other_session.sid = Some("s-3".into());
    assert_eq!(
        refusal(&w, &other_session).await,
        None,
        "version 2 in another session"
    );
    assert_eq!(ledger.reads(), (1, 0), "one read at cold start");
    let since = ledger.since.lock().unwrap()[0];
    assert_eq!(since, NOW * 1000 - LIFE.cold_window_ms(OVERLAP_MS));
}

#[tokio::test]
async fn a_jti_stays_revoked_until_its_tokens_exp_plus_leeway() {
    let (ledger, clock) = setup();
    let exp = NOW + 100;
    // Logout's `until`: the first second verifiers refuse the token as expired.
    let until = exp + LIFE.leeway_secs + 1;
    ledger.commit(NOW * 1000, until, jti("t-1"));
    let w = watch(&ledger, &clock);
    let t = token("t-1", exp);
    assert_eq!(refusal(&w, &t).await, Some(Refusal::Token));
    clock.advance(until - 1 - NOW);
    let d = w.check(&t).await.unwrap();
    assert_eq!(d.from, Knowledge::Feed, "caught up at until - 1");
    assert_eq!(
        d.refusal,
        Some(Refusal::Token),
        "still revoked in its last valid second"
    );
    assert_eq!(w.held(), 1);
    clock.advance(1);
    w.check(&t).await.unwrap();
    assert_eq!(w.held(), 0, "forgotten once verifiers refuse it as expired");
}

#[tokio::test]
async fn entries_leave_memory_when_their_tokens_expire() {
    let (ledger, clock) = setup();
    let w = watch(&ledger, &clock);
    w.check(&token("t-0", NOW + 900)).await.unwrap();
    for i in 0..100 {
        ledger.commit(NOW * 1000 + i, NOW + 500 + i, jti(&format!("t-{i}")));
        let sid = Revoked::Session {
            sid: format!("s-{i}"),
        };
        ledger.commit(NOW * 1000 + i, LIFE.until(NOW), sid);
    }
    clock.advance(1);
    w.check(&token("t-0", NOW + 900)).await.unwrap();
    assert_eq!(w.held(), 200);
    clock.advance(548);
    w.check(&token("t-0", NOW + 900)).await.unwrap();
    assert_eq!(
        w.held(),
        150,
        "at NOW + 549 the 50 tokens until then are gone"
    );
    clock.advance(LIFE.until(NOW) - NOW - 549);
    w.check(&token("t-0", NOW + 900)).await.unwrap();
    assert_eq!(w.held(), 0);
}

#[tokio::test]
async fn a_principal_entry_refuses_only_tokens_below_its_version() {
    let (ledger, clock) = setup();
    let bump = Revoked::Principal {
        user_id: "u-alice".into(),
        min_version: 2,
    };
    ledger.commit(NOW * 1000, LIFE.until(NOW), bump);
    let w = watch(&ledger, &clock);
    let mut t = token("t-1", NOW + 900);
    assert_eq!(refusal(&w, &t).await, Some(Refusal::Principal));
    t.ver = 2;
    assert_eq!(refusal(&w, &t).await, None);
    t.sub = "u-bob".into();
    t.ver = 1;
    assert_eq!(
        refusal(&w, &t).await,
        None,
        "another user's version is not alice's"
    );
}

#[tokio::test]
async fn a_failed_catch_up_falls_back_to_the_per_request_read() {
    let (ledger, clock) = setup();
    let w = watch(&ledger, &clock);
    w.check(&token("t-1", NOW + 900)).await.unwrap();
    ledger.commit(NOW * 1000 + 1, NOW + 931, jti("t-1"));
    ledger.feed_down(true);
    clock.advance_ms(CATCH_UP_INTERVAL_MS);
    let d = w.check(&token("t-1", NOW + 900)).await.unwrap();
    assert_eq!(
        (d.refusal, d.from),
        (Some(Refusal::Token), Knowledge::Store)
    );
    let d = w.check(&token("t-2", NOW + 900)).await.unwrap();
    assert_eq!((d.refusal, d.from), (None, Knowledge::Store));
    assert_eq!(
        ledger.reads(),
        (2, 2),
        "no second catch-up within the interval"
    );
    ledger.feed_down(false);
    clock.advance_ms(CATCH_UP_INTERVAL_MS);
    let d = w.check(&token("t-1", NOW + 900)).await.unwrap();
    assert_eq!((d.refusal, d.from), (Some(Refusal::Token), Knowledge::Feed));
    assert_eq!(
        ledger.since.lock().unwrap()[2],
        NOW * 1000 - OVERLAP_MS,
        "from the cursor"
    );
}

#[tokio::test]
async fn a_failed_cold_start_is_retried_as_a_cold_start() {
    let (ledger, clock) = setup();
    ledger.commit((NOW - 600) * 1000, NOW + 331, jti("t-1"));
    ledger.feed_down(true);
    let w = watch(&ledger, &clock);
    let d = w.check(&token("t-1", NOW + 300)).await.unwrap();
    assert_eq!(
        (d.refusal, d.from),
        (Some(Refusal::Token), Knowledge::Store)
    );
    ledger.feed_down(false);
    clock.advance_ms(CATCH_UP_INTERVAL_MS);
    let d = w.check(&token("t-1", NOW + 300)).await.unwrap();
    assert_eq!((d.refusal, d.from), (Some(Refusal::Token), Knowledge::Feed));
    let since = ledger.since.lock().unwrap().clone();
    let cold = LIFE.cold_window_ms(OVERLAP_MS);
    assert_eq!(since, [NOW * 1000 - cold, NOW * 1000 + 900 - cold]);
}

#[tokio::test]
async fn with_the_feed_and_the_store_down_the_authorizer_refuses() {
    let (ledger, clock) = setup();
    let w = watch(&ledger, &clock);
    w.check(&token("t-1", NOW + 900)).await.unwrap();
    ledger.feed_down(true);
    ledger.store_down(true);
    clock.advance_ms(CATCH_UP_INTERVAL_MS);
    assert!(matches!(
        w.check(&token("t-1", NOW + 900)).await,
        Err(PortError::Unavailable(_))
    ));
    let cold = watch(&ledger, &clock);
    assert!(
        cold.check(&token("t-1", NOW + 900)).await.is_err(),
        "also at cold start"
    );
}

#[tokio::test]
async fn a_clock_stepped_back_does_not_extend_trust_in_memory() {
    let (ledger, clock) = setup();
    let w = watch(&ledger, &clock);
    w.check(&token("t-1", NOW + 900)).await.unwrap();
    ledger.commit(NOW * 1000 + 1, NOW + 931, jti("t-1"));
    clock.advance_ms(-2_000);
    let d = w.check(&token("t-1", NOW + 900)).await.unwrap();
    assert_eq!(
        d.refusal,
        Some(Refusal::Token),
        "caught up again rather than trusted"
    );
}
