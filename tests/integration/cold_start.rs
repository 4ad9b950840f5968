//! The cold-start wiring of every function on the emulator: the composition root builds each
//! service from the adapters `tokengate_aws::connect` makes, with exactly the AWS calls the
//! function needs at init — one keyring read, no KMS — and a configuration that lacks a
//! resource names the variable.

use std::collections::HashMap;

use tokengate_aws::{connect, Clients, Function};
use tokengate_handlers::app::App;
use tokengate_tests::{counted_ddb, counted_kms, CallCounter, Emulator};

use crate::stack::Stack;

fn calls(pairs: &[(&str, usize)]) -> HashMap<String, usize> {
    pairs.iter().map(|(op, n)| (op.to_string(), *n)).collect()
}

#[tokio::test]
async fn each_function_makes_only_its_own_calls_at_init() {
    let stack = Stack::start().await;
    let sdk = Emulator::sdk_config_for(&stack.emulator.url).await;
    let (ddb, kms) = (CallCounter::default(), CallCounter::default());
    let clients = Clients {
        dynamodb: counted_ddb(&sdk, &ddb),
        kms: counted_kms(&sdk, &kms),
    };
    // Every function reads the keyring once (which also opens the DynamoDB connection for the
    // first request) and calls KMS not at all: the keyring holds the public keys and the
    // signing key's ARN and algorithm, and login's device key is derived on first use.
    let keyring_read = || calls(&[("GetItem", 1)]);
    let expected = [
        (Function::Login, keyring_read(), calls(&[])),
        (Function::Password, keyring_read(), calls(&[])),
        (Function::Refresh, keyring_read(), calls(&[])),
        (Function::Logout, keyring_read(), calls(&[])),
        (Function::Authorizer, keyring_read(), calls(&[])),
        (Function::Jwks, keyring_read(), calls(&[])),
    ];
    for (function, dynamodb, kms_calls) in expected {
        ddb.reset();
        kms.reset();
        let adapters = connect(&clients, &stack.config, function, stack.clock.clone())
            .await
            .unwrap_or_else(|e| panic!("{function:?} connects: {e:#}"));
        let app = App::build(stack.config.clone(), adapters);
        // The function's service assembles from what was connected.
        match function {
            Function::Login => drop(app.login().unwrap()),
            Function::Password => drop(app.password_change().unwrap()),
            Function::Refresh => drop(app.refresh().unwrap()),
            Function::Logout => drop(app.logout().unwrap()),
            Function::Authorizer => drop(app.authorizer().unwrap()),
            Function::Jwks => {
                let keys = app.keyring().unwrap().keys().await;
                assert_eq!(keys.verifier().jwks().keys.len(), 1);
            }
        }
        assert_eq!(
            ddb.by_operation(),
            dynamodb,
            "{function:?}: DynamoDB at init"
        );
        assert_eq!(kms.by_operation(), kms_calls, "{function:?}: KMS at init");
    }
}

#[tokio::test]
async fn a_missing_resource_stops_the_function_with_the_variable_named() {
    let stack = Stack::start().await;
    let clients = Clients {
        dynamodb: aws_sdk_dynamodb::Client::new(&stack.emulator.sdk_config().await),
        kms: aws_sdk_kms::Client::new(&stack.emulator.sdk_config().await),
    };
    let cases = [
        (Function::Login, "TOKENGATE_TABLE"),
        (Function::Refresh, "TOKENGATE_REFRESH_MAC_KEY"),
        // The device credentials' key is derived from it at the first login that needs it.
        (Function::Login, "TOKENGATE_REFRESH_MAC_KEY"),
        (Function::Password, "TOKENGATE_REFRESH_MAC_KEY"),
        (Function::Authorizer, "TOKENGATE_TABLE"),
        (Function::Jwks, "TOKENGATE_TABLE"),
        // Every revoking function writes the revocation feed; the authorizer reads it.
        (Function::Logout, "TOKENGATE_FEED_TABLE"),
        (Function::Refresh, "TOKENGATE_FEED_TABLE"),
        (Function::Password, "TOKENGATE_FEED_TABLE"),
        (Function::Authorizer, "TOKENGATE_FEED_TABLE"),
    ];
    for (function, variable) in cases {
        let mut config = stack.config.clone();
        match variable {
            "TOKENGATE_REFRESH_MAC_KEY" => config.refresh_mac_key = None,
            "TOKENGATE_FEED_TABLE" => config.feed_table = None,
            _ => config.table = None,
        }
        let err = connect(&clients, &config, function, stack.clock.clone())
            .await
            .err()
            .unwrap_or_else(|| panic!("{function:?} connected without {variable}"));
        assert_eq!(
            err.to_string(),
            format!("missing required environment variable {variable}"),
            "{function:?}"
        );
    }
}
