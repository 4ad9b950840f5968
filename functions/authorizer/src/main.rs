//! The API Gateway Lambda authorizer — wiring only. Public keys come from the keyring item,
//! read at cold start and re-read at most every refresh interval; it never calls KMS.
//! Revocations come from the revocation feed: one strongly consistent `Query` at the first
//! invocation and then at most one per 0.9 s, on an invocation's arrival; in between,
//! invocations make no DynamoDB call. While the feed cannot be read, each invocation makes the
//! exact per-request read (one `BatchGetItem`), and refuses (503) if that fails too
//! (docs/revocation.md). The logic is in `tokengate-handlers` (`authorizer::Authorizer::answer`): it
//! returns the answer already written as JSON (a `RawValue`), which lambda_runtime 1.5 sends by
//! copying its text (`serde_json::to_vec` of the output, `requests.rs`).

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use tokengate_aws::{connect_from_env, Function};
use tokengate_domain::Config;
use tokengate_handlers::app::App;
use tokengate_handlers::authorizer::Authorizer;
use tokengate_handlers::telemetry;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let adapters = connect_from_env(&config, Function::Authorizer).await?;
    let service: Authorizer = App::build(config, adapters).authorizer()?;
    run(service_fn(|event: LambdaEvent<Value>| {
        let request_id = event.context.request_id.clone();
        telemetry::observe("authorizer", request_id, service.answer(event.payload))
    }))
    .await
}
