//! The contract suites of `tokengate_testing::contract` on the DynamoDB adapter (the
//! emulator): one test per case of every port, each on an emulator and table of its own, and
//! the logout flow on the integration stack. The same cases run on the in-memory twin in
//! `shared/testing/tests/memory_twin.rs`.

use std::sync::Arc;

use tokengate_aws::DynamoStore;
use tokengate_domain::revocation_feed::FeedLife;
use tokengate_domain::{Clock, ManualClock, SystemClock};
use tokengate_testing::contract::{self, Fixture};
use tokengate_tests::Emulator;

use crate::stack::Stack;

/// Empty tables on an emulator of its own (stopped when the fixture drops), with a store
/// reading a clock that starts at the emulator's now.
async fn fresh_table() -> Fixture<DynamoStore, Emulator> {
    let emulator = Emulator::start().await;
    let tables = emulator.tables().await;
    let sdk = emulator.sdk_config().await;
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    // The twin's feed life (the default); small feed pages, so reading many entries pages.
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        tables,
        FeedLife::default(),
        clock.clone(),
    )
    .with_feed_page_limit(contract::revocation_feed::PAGE_LIMIT);
    Fixture {
        store: Arc::new(store),
        clock,
        guard: emulator,
    }
}

tokengate_testing::port_contracts!(fresh_table);

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
