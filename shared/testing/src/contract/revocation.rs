//! [`RevocationSource`] contract: the denylist entry of a `jti`, the revocation of a session and
//! the principal of a user id come back together, each absent when there is none.

use tokengate_domain::ports::{Principal, RevocationSource, RevocationStatus, UserStatus};
use tokengate_domain::{Clock, ManualClock, Username};

use super::sessions::{granted, SID};
use super::{create, Stores};

async fn status<S: RevocationSource + ?Sized>(
    store: &S,
    jti: &str,
    user_id: &str,
) -> RevocationStatus {
    store
        .revocation_status(jti, user_id, None)
        .await
        .expect("the store answers")
}

/// No user with the id: no principal (the authorizer refuses); no entry: not denied.
pub async fn an_unknown_principal_reads_as_absent<S: Stores>(store: &S, _clock: &ManualClock) {
    create(store, "alice", "u-1").await;

    let answer = status(store, "jti-1", "u-unknown").await;

    assert_eq!(
        answer,
        RevocationStatus {
            jti_denied: false,
            session_revoked: false,
            principal: None,
        }
    );
}

/// A denied `jti` and an existing principal, in one answer.
pub async fn a_principal_and_a_denied_jti_come_back_in_one_answer<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    create(store, "alice", "u-1").await;
    let fresh = status(store, "jti-1", "u-1").await;
    store
        .deny("jti-1", clock.now() + 60)
        .await
        .expect("answers");

    let answer = status(store, "jti-1", "u-1").await;

    let alice = Some(Principal {
        token_version: 1,
        status: UserStatus::Active,
    });
    assert_eq!(
        fresh,
        RevocationStatus {
            jti_denied: false,
            session_revoked: false,
            principal: alice,
        }
    );
    assert_eq!(
        answer,
        RevocationStatus {
            jti_denied: true,
            session_revoked: false,
            principal: alice,
        }
    );
}

/// The principal shows every bump: a disable, then a sign-out everywhere.
pub async fn the_principal_follows_disable_and_sign_out<S: Stores>(
    store: &S,
    _clock: &ManualClock,
) {
    create(store, "alice", "u-1").await;
    let alice = Username::parse("alice").expect("valid name");

    store
        .set_status(&alice, UserStatus::Disabled)
        .await
        .expect("answers");
    let disabled = status(store, "jti-1", "u-1").await.principal;
    store.sign_out_everywhere("u-1").await.expect("answers");
    let signed_out = status(store, "jti-1", "u-1").await.principal;

    assert_eq!(
        (disabled, signed_out),
        (
            Some(Principal {
                token_version: 2,
                status: UserStatus::Disabled,
            }),
            Some(Principal {
                token_version: 3,
                status: UserStatus::Disabled,
            })
        )
    );
}

/// A revoked session reads as revoked, a live or unknown one as not, and a token that names no
/// session is not refused for it.
pub async fn a_revoked_session_comes_back_with_the_principal<S: Stores>(
    store: &S,
    clock: &ManualClock,
) {
    granted(store, clock).await;
    let read = |sid: Option<&'static str>| async move {
        store
            .revocation_status("jti-1", "u-1", sid)
            .await
            .expect("the store answers")
    };
    let live = read(Some(SID)).await;
    let unknown = read(Some("sid-unknown")).await;
    store.revoke_family(SID).await.expect("answers");

    let revoked = read(Some(SID)).await;
    let unnamed = read(None).await;

    assert_eq!(
        (live.session_revoked, unknown.session_revoked),
        (false, false)
    );
    assert!(revoked.session_revoked, "{revoked:?}");
    assert!(revoked.revokes(1) && !live.revokes(1));
    assert!(!unnamed.session_revoked);
    assert_eq!(revoked.principal, live.principal);
}
