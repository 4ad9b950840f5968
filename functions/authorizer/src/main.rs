//! The API Gateway Lambda authorizer — wiring only. Public keys come from the keyring item,
//! read at cold start and re-read at most every refresh interval; it never calls KMS, and a
//! warm invocation makes exactly one DynamoDB call (plus the periodic keyring read). The logic is in
//! `tokengate-handlers` (`authorizer::Authorizer::handle`).

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
        telemetry::observe("authorizer", request_id, service.handle(event.payload))
    }))
    .await
}
