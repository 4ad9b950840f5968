//! The cold-start wiring of every function on the emulator: the composition root builds each
//! service from the adapters `tokengate_aws::connect` makes, with exactly the AWS calls the
//! function needs at init, and a configuration that lacks one of them names the variable.

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
    // Signers resolve their key once; verifiers fetch each trusted public key once; every
    // function with a table opens the connection with one read (overlapped with KMS).
    let expected = [
        (
            Function::Login,
            calls(&[("GetItem", 1)]),
            calls(&[("GetPublicKey", 1)]),
        ),
        (
            Function::Refresh,
            calls(&[("GetItem", 1)]),
            calls(&[("GetPublicKey", 1)]),
        ),
        (
            Function::Logout,
            calls(&[("GetItem", 1)]),
            calls(&[("GetPublicKey", 1)]),
        ),
        (
            Function::Authorizer,
            calls(&[("GetItem", 1)]),
            calls(&[("GetPublicKey", 1)]),
        ),
        (Function::Jwks, calls(&[]), calls(&[("GetPublicKey", 1)])),
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
            Function::Jwks => assert_eq!(app.jwks().keys.len(), 1),
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
        (Function::Login, "TOKENGATE_SIGNING_KEY"),
        (Function::Refresh, "TOKENGATE_REFRESH_MAC_KEY"),
        (Function::Authorizer, "TOKENGATE_TRUSTED_KEYS"),
        (Function::Logout, "TOKENGATE_TABLE"),
    ];
    for (function, variable) in cases {
        let mut config = stack.config.clone();
        match variable {
            "TOKENGATE_SIGNING_KEY" => config.signing_key = None,
            "TOKENGATE_REFRESH_MAC_KEY" => config.refresh_mac_key = None,
            "TOKENGATE_TRUSTED_KEYS" => config.trusted_keys.clear(),
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
