//! Several authorizer instances behind the gateway (issue 25): each execution environment keeps
//! the revocations in memory and catches up with the revocation feed at most every 0.9 s, so
//! a revocation must still be refused by every one of them within a second of the write's
//! answer. The load case (`load.rs`) runs on the same environments.
//!
//! The authorizer's environments are started up front (as provisioned concurrency does) and the
//! gateway's invocations of it pinned to them in turn ([`tokengate_tests::lambda::Lambda::pin`]):
//! Lambda offers no way to address an environment, the local service does. The stack's
//! authorizer cache TTL is 0, so every request reaches an authorizer.

use std::time::{Duration, Instant};

use serde_json::json;
use tokengate_tests::local_api::AUTHORIZER;
use tokio::sync::OnceCell;

use crate::stack::{access, expiry, unix_now, Reply, Stack, ALICE, REVOCATION_BOUND};

/// Authorizer environments the revocation proof reaches.
pub const ENVIRONMENTS: usize = 3;
/// How long an environment is polled before the proof gives up on it.
const POLL_AT_MOST: Duration = Duration::from_secs(3);

/// The environments this module started, started once per run.
static FLEET: OnceCell<Vec<usize>> = OnceCell::const_new();

/// The authorizer's environments of this module, started and warmed (their init done, one
/// request each answered), and a guard that pins the authorizer's invocations to them until it
/// is dropped.
pub async fn fleet(stack: &'static Stack) -> (Vec<usize>, Pinned) {
    let ids = FLEET
        .get_or_init(|| async {
            let started = stack.with_api(|api| api.lambda.provision(AUTHORIZER, ENVIRONMENTS));
            started.await.expect("the authorizer's environments start")
        })
        .await
        .clone();
    let pinned = Pinned { stack };
    let token = access(&stack.login(ALICE).await);
    for &id in &ids {
        let me = pinned.me_on(id, &token).await;
        assert_eq!(
            me.reply.status, 200,
            "environment {id} warms up: {}",
            me.reply.body
        );
    }
    (ids, pinned)
}

/// Pins the authorizer's invocations while alive; back to any environment on drop.
pub struct Pinned {
    stack: &'static Stack,
}

impl Drop for Pinned {
    fn drop(&mut self) {
        self.pin(&[]);
    }
}

/// An answer and when its request was sent.
pub struct Timed {
    pub reply: Reply,
    pub sent: Instant,
}

impl Pinned {
    pub fn pin(&self, ids: &[usize]) {
        self.stack.with_api(|api| api.lambda.pin(AUTHORIZER, ids));
    }

    /// `GET /api/me` with `token`, authorized by environment `id`.
    pub async fn me_on(&self, id: usize, token: &str) -> Timed {
        self.pin(&[id]);
        let sent = Instant::now();
        let reply = self.stack.me(token).await;
        Timed { reply, sent }
    }
}

/// What one environment answered after the revocation.
#[derive(Debug, Default)]
struct Watch {
    /// When the last request it accepted was sent, after the revocation's answer.
    last_accepted: Option<Duration>,
    /// When the first request it refused was sent, and when that refusal came back.
    refused: Option<(Duration, Duration)>,
}

/// Every environment accepts `token`, `revoke` answers 204, then each environment is polled
/// until it refuses: none may accept a request sent `REVOCATION_BOUND` after the answer or
/// later. Prints when each one refused. The token must outlive the polling, or a refusal would
/// prove only its expiry.
async fn every_environment_refuses_within_a_second(
    what: &str,
    pinned: &Pinned,
    ids: &[usize],
    token: &str,
    revoke: impl std::future::Future<Output = Reply>,
) {
    let expires = Duration::from_secs(expiry(token));
    for &id in ids {
        let me = pinned.me_on(id, token).await;
        assert_eq!(
            me.reply.status, 200,
            "environment {id} accepts the token first"
        );
    }
    let revoked = revoke.await;
    assert_eq!(revoked.status, 204, "{what}: {}", revoked.body);
    let answered = Instant::now();
    let mut watches: Vec<Watch> = ids.iter().map(|_| Watch::default()).collect();
    while watches.iter().any(|w| w.refused.is_none()) && answered.elapsed() < POLL_AT_MOST {
        for (watch, &id) in watches.iter_mut().zip(ids) {
            if watch.refused.is_some() {
                continue;
            }
            let me = pinned.me_on(id, token).await;
            let sent = me.sent.duration_since(answered);
            match me.reply.status {
                200 => watch.last_accepted = Some(sent),
                401 => {
                    assert!(
                        unix_now() < expires,
                        "{what}: the token expired before environment {id} refused it: the \
                         machine is too slow for this proof (it must finish within the \
                         stack's {} s access-token life)",
                        crate::stack::ACCESS_TTL
                    );
                    watch.refused = Some((sent, answered.elapsed()));
                }
                other => panic!(
                    "{what}: environment {id} answered {other}: {}",
                    me.reply.body
                ),
            }
        }
    }
    for (watch, &id) in watches.iter().zip(ids) {
        let ms = |d: Duration| d.as_millis();
        let (refused_sent, refused_back) = watch.refused.unwrap_or_else(|| {
            panic!("{what}: environment {id} still accepts the token after {POLL_AT_MOST:?}")
        });
        eprintln!(
            "{what}: authorizer environment {id} refused the request sent {} ms after the \
             answer (back at {} ms); last accepted: {}",
            ms(refused_sent),
            ms(refused_back),
            watch
                .last_accepted
                .map_or("none".to_owned(), |d| format!("sent at {} ms", ms(d))),
        );
        if let Some(accepted) = watch.last_accepted {
            assert!(
                accepted < REVOCATION_BOUND,
                "{what}: environment {id} accepted a request sent {} ms after the answer",
                ms(accepted)
            );
        }
    }
    // And they keep refusing.
    for &id in ids {
        let me = pinned.me_on(id, token).await;
        assert_eq!(
            me.reply.status, 401,
            "{what}: environment {id} refuses again"
        );
    }
}

/// `POST /auth/logout` with the bearer token alone (its `jti` denylisted, its session ended)
/// through one gateway: every authorizer environment refuses the token within a second.
pub async fn logout_is_refused_by_every_authorizer_within_a_second(stack: &'static Stack) {
    let (ids, pinned) = fleet(stack).await;
    let token = access(&stack.login(ALICE).await);
    let bearer = format!("Bearer {token}");
    let headers = [("authorization", bearer.as_str())];
    let logout = stack.call("POST", "/auth/logout", &headers, None);
    every_environment_refuses_within_a_second("logout", &pinned, &ids, &token, logout).await;
}

/// A global logout from a second session (a new token version for the user): every
/// authorizer environment refuses the first session's token within a second.
pub async fn global_logout_is_refused_by_every_authorizer_within_a_second(stack: &'static Stack) {
    let (ids, pinned) = fleet(stack).await;
    let first = access(&stack.login(ALICE).await);
    let second = stack.login(ALICE).await;
    let origin = stack.url.clone();
    let cookie = second.cookie.clone().expect("refresh cookie");
    let headers = [("cookie", cookie.as_str()), ("origin", origin.as_str())];
    let global = stack.call(
        "POST",
        "/auth/logout",
        &headers,
        Some(json!({ "scope": "global" })),
    );
    every_environment_refuses_within_a_second("global logout", &pinned, &ids, &first, global).await;
}
