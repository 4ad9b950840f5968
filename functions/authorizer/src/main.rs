//! The API Gateway Lambda authorizer — wiring only. Public keys come from KMS once per cold
//! start; a warm invocation makes exactly one DynamoDB call and no KMS call.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use tokengate_handlers::{telemetry, wiring};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let authorizer = wiring::authorizer().await?;
    run(service_fn(|event: LambdaEvent<Value>| {
        let request_id = event.context.request_id.clone();
        telemetry::observe("authorizer", request_id, authorizer.handle(event.payload))
    }))
    .await
}
