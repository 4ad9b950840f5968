//! The contract suites of `tokengate_testing::contract` on the in-memory twin: one test per
//! case of every port, and the logout flow on the memory rig. The same cases run on the
//! DynamoDB adapter in `tests/integration/contract.rs`.

use std::sync::Arc;

use tokengate_domain::ManualClock;
use tokengate_testing::contract::{self, Fixture};
use tokengate_testing::memory::{MemoryBackend, MemoryRig, RIG_EPOCH};

/// An empty twin on a clock of its own.
async fn fresh_twin() -> Fixture<MemoryBackend> {
    let clock = Arc::new(ManualClock::new(RIG_EPOCH));
    Fixture {
        store: Arc::new(MemoryBackend::new(clock.clone())),
        clock,
        guard: (),
    }
}

tokengate_testing::port_contracts!(fresh_twin);

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
