//! The contract tests of `tokengate_testing::contract` on the in-memory twins. The same bodies
//! run on the DynamoDB adapters in `tests/integration/contract.rs`.

use std::sync::Arc;

use tokengate_domain::ManualClock;
use tokengate_testing::contract;
use tokengate_testing::memory::{MemoryBackend, MemoryRig, RIG_EPOCH};

#[tokio::test]
async fn a_logged_out_token_stays_refused_until_exp_plus_leeway() {
    let rig = MemoryRig::new().await;
    let authorizer = rig.authorizer("* /api/admin/*=admin");
    contract::a_logged_out_token_stays_refused_until_exp_plus_leeway(contract::TokenFlow {
        login: &rig.login,
        logout: &rig.logout,
        authorizer: &authorizer,
        clock: &rig.clock,
        username: "alice",
        password: MemoryRig::PASSWORD,
    })
    .await;
}

#[tokio::test]
async fn a_denylist_entry_reads_as_absent_from_its_ttl() {
    let clock = Arc::new(ManualClock::new(RIG_EPOCH));
    let store = MemoryBackend::new(clock.clone());
    contract::a_denylist_entry_reads_as_absent_from_its_ttl(&store, &clock).await;
}

#[tokio::test]
async fn a_lockout_record_reads_as_absent_from_its_ttl() {
    let clock = Arc::new(ManualClock::new(RIG_EPOCH));
    let store = MemoryBackend::new(clock.clone());
    contract::a_lockout_record_reads_as_absent_from_its_ttl(&store, &clock).await;
}
