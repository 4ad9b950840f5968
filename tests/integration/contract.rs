//! The contract tests of `tokengate_testing::contract` on the DynamoDB adapters (the emulator).
//! The same bodies run on the in-memory twins in `shared/testing/tests/memory_twin.rs`.

use tokengate_testing::contract;

use crate::stack::Stack;

#[tokio::test]
async fn a_logged_out_token_stays_refused_until_exp_plus_leeway() {
    let stack = Stack::start().await;
    contract::a_logged_out_token_stays_refused_until_exp_plus_leeway(contract::TokenFlow {
        login: &stack.login,
        logout: &stack.logout,
        authorizer: &stack.authorizer,
        clock: &stack.clock,
        username: "alice",
        password: "correct horse",
    })
    .await;
}

#[tokio::test]
async fn a_denylist_entry_reads_as_absent_from_its_ttl() {
    let stack = Stack::start().await;
    contract::a_denylist_entry_reads_as_absent_from_its_ttl(&*stack.store, &stack.clock).await;
}

#[tokio::test]
async fn a_lockout_record_reads_as_absent_from_its_ttl() {
    let stack = Stack::start().await;
    contract::a_lockout_record_reads_as_absent_from_its_ttl(&*stack.store, &stack.clock).await;
}
